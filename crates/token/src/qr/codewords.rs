//! The codewords of a byte-mode symbol (ISO/IEC 18004 §7.4 to §7.6): the data bits padded to
//! the version's capacity, cut into blocks, each block's Reed–Solomon error correction, and the
//! blocks interleaved in the order they are placed.
//!
//! The field's tables are made per code rather than stored: they are 512 bytes that do not
//! compress, made in 255 steps.

use super::ErrorCorrection;
use alloc::{vec, vec::Vec};

/// The largest version.
pub(super) const MAX_VERSION: usize = 40;

/// Error-correction codewords in each block, for versions 1 to 40, at L, M, Q and H (table 9).
const EC_PER_BLOCK: [[u8; MAX_VERSION]; 4] = [
    [
        7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28, 28, 28, 30,
        30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
    ],
    [
        10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28,
        28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
    ],
    [
        13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30, 28, 30, 30,
        30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
    ],
    [
        17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28, 30, 24, 30,
        30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
    ],
];

/// Blocks the codewords are cut into, for versions 1 to 40, at L, M, Q and H (table 9). Where
/// the data does not divide evenly, the last blocks hold one codeword more.
const BLOCKS: [[u8; MAX_VERSION]; 4] = [
    [
        1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8, 8, 9, 9, 10, 12, 12, 12, 13,
        14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25,
    ],
    [
        1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21, 23,
        25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49,
    ],
    [
        1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20, 23, 23, 25, 27, 29,
        34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68,
    ],
    [
        1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25, 25, 34, 30, 32, 35,
        37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81,
    ],
];

/// Modules per side of `version` (1 to 40).
pub(super) fn width(version: usize) -> usize {
    17 + 4 * version
}

/// Centres of the alignment patterns along either axis (§6.3.6, annex E): 6, then evenly
/// spaced from the far end, `width - 7`, by the table's step.
pub(super) fn alignment_centres(version: usize) -> Vec<usize> {
    // The step between centres after the first, versions 1 to 40 (annex E, table E.1).
    const STEP: [u8; MAX_VERSION] = [
        0, 12, 16, 20, 24, 28, 16, 18, 20, 22, 24, 26, 28, 20, 22, 24, 24, 26, 28, 28, 22, 24, 24,
        26, 26, 28, 28, 24, 24, 26, 26, 26, 28, 28, 24, 26, 26, 26, 28, 28,
    ];
    if version < 2 {
        return Vec::new();
    }
    let count = version / 7 + 2;
    let step = usize::from(STEP[version - 1]);
    let last = width(version) - 7;
    let mut centres: Vec<usize> = (0..count - 1).map(|i| last - i * step).collect();
    centres.push(6);
    centres.reverse();
    centres
}

/// Modules that carry codewords (and the few remainder bits after them): all but the finders
/// with their separators, the timing lines, the format areas and the dark module, the
/// alignment patterns and, from version 7, the version information.
fn data_modules(version: usize) -> usize {
    let width = width(version);
    let mut function = 3 * 64 + 2 * (width - 16) + 31;
    if version >= 2 {
        let count = version / 7 + 2;
        // All pairs of centres but the three under the finders; those on row or column 6
        // share five modules each with a timing line.
        function += 25 * (count * count - 3) - 10 * (count - 2);
    }
    if version >= 7 {
        function += 36;
    }
    width * width - function
}

fn table(table: &[[u8; MAX_VERSION]; 4], version: usize, level: ErrorCorrection) -> usize {
    usize::from(table[level as usize][version - 1])
}

/// Data codewords that `version` holds at `level`.
pub(super) fn data_capacity(version: usize, level: ErrorCorrection) -> usize {
    data_modules(version) / 8
        - table(&EC_PER_BLOCK, version, level) * table(&BLOCKS, version, level)
}

/// Bits of the character count in byte mode (table 3).
fn count_bits(version: usize) -> usize {
    if version <= 9 { 8 } else { 16 }
}

/// Bits taken by one byte-mode segment of `len` bytes: mode indicator, character count, data.
pub(super) fn byte_segment_bits(version: usize, len: usize) -> usize {
    4 + count_bits(version) + 8 * len
}

/// Bits appended one after another, most significant first.
struct Bits {
    bytes: Vec<u8>,
    len: usize,
}

impl Bits {
    fn push(&mut self, value: usize, count: usize) {
        for i in (0..count).rev() {
            if self.len.is_multiple_of(8) {
                self.bytes.push(0);
            }
            if value >> i & 1 == 1 {
                let last = self.bytes.len() - 1;
                self.bytes[last] |= 0x80 >> (self.len % 8);
            }
            self.len += 1;
        }
    }
}

/// The codewords of `data` as one byte segment of `version` at `level`, with their error
/// correction, in the order they are placed. `version` must hold the data.
pub(super) fn codewords(data: &[u8], version: usize, level: ErrorCorrection) -> Vec<u8> {
    let capacity = data_capacity(version, level);
    let mut bits = Bits {
        bytes: Vec::with_capacity(capacity),
        len: 0,
    };
    bits.push(0b0100, 4);
    bits.push(data.len(), count_bits(version));
    for &byte in data {
        bits.push(usize::from(byte), 8);
    }
    // The terminator, up to four 0 bits where there is room; then 0 bits to the byte.
    bits.push(0, (8 * capacity - bits.len).min(4));
    let mut data = bits.bytes;
    // Then the pad codewords 11101100 and 00010001 in turn (§7.4.10).
    for pad in [0xEC, 0x11].into_iter().cycle().take(capacity - data.len()) {
        data.push(pad);
    }
    interleaved(&data, version, level)
}

/// Data codewords cut into the blocks of `version` at `level`, each with its error correction;
/// then the first codeword of every block, the second, and so on, data before error correction.
fn interleaved(data: &[u8], version: usize, level: ErrorCorrection) -> Vec<u8> {
    let blocks = table(&BLOCKS, version, level);
    let ec_len = table(&EC_PER_BLOCK, version, level);
    let short = data.len() / blocks;
    let short_blocks = blocks - data.len() % blocks;
    let field = Field::new();
    let generator = field.generator(ec_len);
    let mut cut = Vec::with_capacity(blocks);
    let mut rest = data;
    for block in 0..blocks {
        let (this, after) = rest.split_at(short + usize::from(block >= short_blocks));
        cut.push(this);
        rest = after;
    }
    let corrections: Vec<Vec<u8>> = cut
        .iter()
        .map(|block| field.remainder(block, &generator))
        .collect();
    let mut out = Vec::with_capacity(data.len() + blocks * ec_len);
    for i in 0..=short {
        out.extend(cut.iter().filter_map(|block| block.get(i)));
    }
    for i in 0..ec_len {
        out.extend(corrections.iter().map(|correction| correction[i]));
    }
    out
}

/// GF(2⁸) with the QR polynomial x⁸ + x⁴ + x³ + x² + 1 (§7.5.2), by logarithms.
struct Field {
    /// αⁱ for i in 0..255.
    exp: [u8; 255],
    /// log_α(x) for x in 1..=255 (index 0 unused).
    log: [u8; 256],
}

impl Field {
    fn new() -> Self {
        let mut field = Field {
            exp: [0; 255],
            log: [0; 256],
        };
        let mut x: u16 = 1;
        for i in 0..255 {
            field.exp[i] = x as u8;
            field.log[usize::from(x)] = i as u8;
            x <<= 1;
            if x & 0x100 != 0 {
                x ^= 0x11D;
            }
        }
        field
    }

    // Always inlined, like the symbol's accessors: it runs for every codeword times every
    // error-correction codeword.
    #[inline(always)]
    fn multiply(&self, a: u8, b: u8) -> u8 {
        if a == 0 || b == 0 {
            return 0;
        }
        let sum = usize::from(self.log[usize::from(a)]) + usize::from(self.log[usize::from(b)]);
        self.exp[sum % 255]
    }

    /// The generator polynomial of `n` error-correction codewords, (x − α⁰)(x − α¹)…(x − αⁿ⁻¹),
    /// its coefficients after the leading 1, highest power first.
    fn generator(&self, n: usize) -> Vec<u8> {
        let mut product = vec![1u8];
        for i in 0..n {
            let root = self.exp[i];
            let mut next = vec![0u8; product.len() + 1];
            for (j, &c) in product.iter().enumerate() {
                next[j] ^= c;
                next[j + 1] ^= self.multiply(c, root);
            }
            product = next;
        }
        product.remove(0);
        product
    }

    /// The remainder of `block`·xⁿ divided by `generator` (of degree n): the block's error
    /// correction codewords.
    fn remainder(&self, block: &[u8], generator: &[u8]) -> Vec<u8> {
        let mut remainder = vec![0u8; generator.len()];
        for &codeword in block {
            let factor = codeword ^ remainder[0];
            remainder.rotate_left(1);
            let last = remainder.len() - 1;
            remainder[last] = 0;
            for (r, &g) in remainder.iter_mut().zip(generator) {
                *r ^= self.multiply(g, factor);
            }
        }
        remainder
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEVELS: [ErrorCorrection; 4] = [
        ErrorCorrection::Low,
        ErrorCorrection::Medium,
        ErrorCorrection::Quartile,
        ErrorCorrection::High,
    ];

    #[test]
    fn capacities_are_those_of_the_standard() {
        // Table 7: data codewords of versions 1, 10 and 40 at L, M, Q, H.
        for (version, expected) in [
            (1, [19, 16, 13, 9]),
            (10, [274, 216, 154, 122]),
            (40, [2956, 2334, 1666, 1276]),
        ] {
            for (level, codewords) in LEVELS.into_iter().zip(expected) {
                assert_eq!(
                    data_capacity(version, level),
                    codewords,
                    "{version} {level:?}"
                );
            }
        }
        // Table 1: all codewords of versions 1, 7 and 40, and the remainder bits of 2 and 7.
        assert_eq!(data_modules(1) / 8, 26);
        assert_eq!(data_modules(7) / 8, 196);
        assert_eq!(data_modules(40) / 8, 3706);
        assert_eq!(data_modules(2) % 8, 7);
        assert_eq!(data_modules(7) % 8, 0);
    }

    #[test]
    fn alignment_centres_are_those_of_annex_e() {
        assert_eq!(alignment_centres(1), Vec::<usize>::new());
        assert_eq!(alignment_centres(2), [6, 18]);
        assert_eq!(alignment_centres(15), [6, 26, 48, 70]);
        assert_eq!(alignment_centres(32), [6, 34, 60, 86, 112, 138]);
        assert_eq!(alignment_centres(40), [6, 30, 58, 86, 114, 142, 170]);
    }

    #[test]
    fn error_correction_is_the_worked_example_of_annex_i() {
        // Annex I: "01234567" in version 1-M, as data and error correction codewords.
        let data = [
            0b0001_0000,
            0b0010_0000,
            0b0000_1100,
            0b0101_0110,
            0b0110_0001,
            0b1000_0000,
            0b1110_1100,
            0b0001_0001,
            0b1110_1100,
            0b0001_0001,
            0b1110_1100,
            0b0001_0001,
            0b1110_1100,
            0b0001_0001,
            0b1110_1100,
            0b0001_0001,
        ];
        let field = Field::new();
        assert_eq!(
            field.remainder(&data, &field.generator(10)),
            [
                0b1010_0101,
                0b0010_0100,
                0b1101_0100,
                0b1100_0001,
                0b1110_1101,
                0b0011_0110,
                0b1100_0111,
                0b1000_0111,
                0b0010_1100,
                0b0101_0101
            ]
        );
    }

    #[test]
    fn blocks_are_interleaved_shortest_first() {
        // Version 5-Q: two blocks of 15 data codewords, then two of 16; 18 EC codewords each.
        let data: Vec<u8> = (0..62).collect();
        let placed = interleaved(&data, 5, ErrorCorrection::Quartile);
        assert_eq!(placed.len(), 62 + 4 * 18);
        assert_eq!(placed[..8], [0, 15, 30, 46, 1, 16, 31, 47]);
        // Only the long blocks have a 16th codeword.
        assert_eq!(placed[60..62], [45, 61]);
    }
}
