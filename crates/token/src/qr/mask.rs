//! Mask selection (ISO/IEC 18004 §7.8): each of the eight masks applied and scored by the
//! standard's four penalty rules, on rows and columns held as bit sets so that every rule is a
//! few word operations per line. Done module by module (as the `qrcode` crate does, cloning its
//! canvas per mask), this was most of the time it took to encode a login QR.

use alloc::{vec, vec::Vec};
use core::ops::{BitAnd, BitOr, BitXor, Not};

use super::ErrorCorrection;
use super::symbol::Symbol;

/// 64-bit words per line: a version 40 symbol is 177 modules wide.
const WORDS: usize = 3;

/// One row or column of modules, module `i` in bit `i % 64` of word `i / 64`; 1 is dark.
/// Bits past the symbol's width stay 0, which makes the quiet zone light in every rule.
///
/// Its operations are spelt out word by word and always inlined: they run for every line under
/// every mask, and the browser's wasm is built at opt-level "z", whose inliner leaves each one a
/// call (five times slower).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Line([u64; WORDS]);

impl Line {
    /// Modules `0..n` set.
    #[inline(always)]
    fn first(n: usize) -> Line {
        let mut line = Line::default();
        for (w, word) in line.0.iter_mut().enumerate() {
            let bits = n.saturating_sub(w * 64).min(64);
            *word = if bits == 64 {
                u64::MAX
            } else {
                (1 << bits) - 1
            };
        }
        line
    }

    #[inline(always)]
    fn get(self, i: usize) -> bool {
        self.0[i / 64] >> (i % 64) & 1 == 1
    }

    #[inline(always)]
    fn put(&mut self, i: usize, dark: bool) {
        let bit = 1 << (i % 64);
        if dark {
            self.0[i / 64] |= bit;
        } else {
            self.0[i / 64] &= !bit;
        }
    }

    /// Module `i + k` at `i` (1 ≤ k < 64): "the module k further along".
    #[inline(always)]
    fn ahead(self, k: u32) -> Line {
        let a = self.0;
        Line([
            a[0] >> k | a[1] << (64 - k),
            a[1] >> k | a[2] << (64 - k),
            a[2] >> k,
        ])
    }

    /// Module `i - k` at `i` (1 ≤ k < 64), light before the start: "the module k back".
    #[inline(always)]
    fn behind(self, k: u32) -> Line {
        let a = self.0;
        Line([
            a[0] << k,
            a[1] << k | a[0] >> (64 - k),
            a[2] << k | a[1] >> (64 - k),
        ])
    }

    #[inline(always)]
    fn count(self) -> u32 {
        let a = self.0;
        a[0].count_ones() + a[1].count_ones() + a[2].count_ones()
    }
}

impl BitAnd for Line {
    type Output = Line;
    #[inline(always)]
    fn bitand(self, other: Line) -> Line {
        let (a, b) = (self.0, other.0);
        Line([a[0] & b[0], a[1] & b[1], a[2] & b[2]])
    }
}

impl BitOr for Line {
    type Output = Line;
    #[inline(always)]
    fn bitor(self, other: Line) -> Line {
        let (a, b) = (self.0, other.0);
        Line([a[0] | b[0], a[1] | b[1], a[2] | b[2]])
    }
}

impl BitXor for Line {
    type Output = Line;
    #[inline(always)]
    fn bitxor(self, other: Line) -> Line {
        let (a, b) = (self.0, other.0);
        Line([a[0] ^ b[0], a[1] ^ b[1], a[2] ^ b[2]])
    }
}

impl Not for Line {
    type Output = Line;
    #[inline(always)]
    fn not(self) -> Line {
        let a = self.0;
        Line([!a[0], !a[1], !a[2]])
    }
}

/// Every mask repeats down the symbol with a period dividing 12 (2, 3, 4 or 6 rows).
const MASK_PERIOD: usize = 12;

/// A symbol with its function patterns and data drawn, before masking, as rows and as columns.
pub(super) struct Unmasked {
    width: usize,
    level: ErrorCorrection,
    rows: Modules,
    columns: Modules,
}

/// The lines of a symbol one way (rows, or columns).
struct Modules {
    /// The dark modules.
    dark: Vec<Line>,
    /// The modules that hold data or error correction (the only ones a mask changes).
    data: Vec<Line>,
}

impl Modules {
    fn new(width: usize) -> Self {
        Modules {
            dark: vec![Line::default(); width],
            data: vec![Line::default(); width],
        }
    }

    /// The lines under a mask that inverts module `j` of line `i` when `inverts(i, j)`; masks
    /// repeat every [`MASK_PERIOD`] lines either way.
    fn masked(&self, inverts: impl Fn(usize, usize) -> bool, into: &mut Vec<Line>) {
        let width = self.dark.len();
        let pattern: [Line; MASK_PERIOD] = core::array::from_fn(|i| {
            let mut line = Line::default();
            (0..width).for_each(|j| line.put(j, inverts(i, j)));
            line
        });
        into.clear();
        into.extend(
            self.dark
                .iter()
                .zip(&self.data)
                .enumerate()
                .map(|(i, (&dark, &data))| dark ^ (data & pattern[i % MASK_PERIOD])),
        );
    }
}

impl Unmasked {
    /// Reads `symbol`, to be masked and given its format information at `level`.
    pub(super) fn new(symbol: &Symbol, level: ErrorCorrection) -> Self {
        let width = symbol.width();
        let mut rows = Modules::new(width);
        let mut columns = Modules::new(width);
        for y in 0..width {
            for x in 0..width {
                let (is_dark, is_data) = (symbol.is_dark(x, y), symbol.is_data(x, y));
                rows.dark[y].put(x, is_dark);
                rows.data[y].put(x, is_data);
                columns.dark[x].put(y, is_dark);
                columns.data[x].put(y, is_data);
            }
        }
        Unmasked {
            width,
            level,
            rows,
            columns,
        }
    }

    /// The symbol under `mask` (0 to 7), with its format information, as rows and columns.
    fn masked(&self, mask: u8, rows: &mut Vec<Line>, columns: &mut Vec<Line>) {
        let n = self.width;
        self.rows.masked(|y, x| inverts(mask, x, y), rows);
        self.columns.masked(|x, y| inverts(mask, x, y), columns);
        let format = format_information(self.level, mask);
        let mut put = |x: usize, y: usize, i: usize| {
            let dark = format >> i & 1 == 1;
            rows[y].put(x, dark);
            columns[x].put(y, dark);
        };
        // Around the top-left finder: up column 8, then along row 8 to the left.
        for i in 0..=5 {
            put(8, i, i);
        }
        put(8, 7, 6);
        put(8, 8, 7);
        put(7, 8, 8);
        for i in 9..15 {
            put(14 - i, 8, i);
        }
        // The copy: along row 8 under the top-right finder, then down column 8 beside the
        // bottom-left one.
        for i in 0..8 {
            put(n - 1 - i, 8, i);
        }
        for i in 8..15 {
            put(8, n - 15 + i, i);
        }
    }

    /// The symbol under the mask with the lowest penalty (the first of equals), row by row:
    /// 1 where dark.
    pub(super) fn best_masked(&self) -> Vec<u8> {
        let n = self.width;
        let mut best = Vec::with_capacity(n);
        let mut rows = Vec::with_capacity(n);
        let mut columns = Vec::with_capacity(n);
        let mut best_score = u32::MAX;
        for mask in 0..8 {
            self.masked(mask, &mut rows, &mut columns);
            let score = penalty(&rows, &columns, n);
            if score < best_score {
                best_score = score;
                core::mem::swap(&mut best, &mut rows);
            }
        }
        modules(&best, n)
    }
}

/// Lines as bytes, 1 where dark.
fn modules(rows: &[Line], n: usize) -> Vec<u8> {
    rows.iter()
        .flat_map(|&row| (0..n).map(move |x| u8::from(row.get(x))))
        .collect()
}

/// Whether mask pattern `mask` inverts the module at column `x`, row `y` (§7.8.2, table 10).
fn inverts(mask: u8, x: usize, y: usize) -> bool {
    match mask {
        0 => (x + y).is_multiple_of(2),
        1 => y.is_multiple_of(2),
        2 => x.is_multiple_of(3),
        3 => (x + y).is_multiple_of(3),
        4 => (y / 2 + x / 3).is_multiple_of(2),
        5 => (x * y) % 2 + (x * y) % 3 == 0,
        6 => ((x * y) % 2 + (x * y) % 3).is_multiple_of(2),
        _ => ((x + y) % 2 + (x * y) % 3).is_multiple_of(2),
    }
}

/// The 15 format bits (§7.9.1): level and mask, a BCH(15,5) remainder, XOR 101010000010010.
fn format_information(level: ErrorCorrection, mask: u8) -> u16 {
    let level_bits: u16 = match level {
        ErrorCorrection::Low => 0b01,
        ErrorCorrection::Medium => 0b00,
        ErrorCorrection::Quartile => 0b11,
        ErrorCorrection::High => 0b10,
    };
    let data = level_bits << 3 | u16::from(mask);
    let mut remainder = data << 10;
    for bit in (10..15).rev() {
        if remainder >> bit & 1 == 1 {
            remainder ^= 0b101_0011_0111 << (bit - 10);
        }
    }
    (data << 10 | remainder) ^ 0b101_0100_0001_0010
}

/// The penalty of a masked symbol of width `n`, given as rows and as columns (§7.8.3): runs
/// of five or more in a line, 2×2 blocks of one colour, finder-like patterns with four light
/// modules beside them, and the distance of the dark share from half.
fn penalty(rows: &[Line], columns: &[Line], n: usize) -> u32 {
    let pairs = Line::first(n - 1);
    let mut score = 0;
    for &line in rows.iter().chain(columns) {
        score += line_penalty(line, pairs);
    }
    for pair in rows.windows(2) {
        let (top, bottom) = (pair[0], pair[1]);
        let blocks = same_as_next(top, pairs) & same_as_next(bottom, pairs) & !(top ^ bottom);
        score += 3 * blocks.count();
    }
    let dark: u32 = rows.iter().map(|row| row.count()).sum();
    let total = (n * n) as u32;
    // 10 points per whole 5 % away from 50 % dark.
    score + 10 * ((20 * dark).abs_diff(10 * total) / total)
}

/// Positions `i` of `pairs` (`0..n - 1`) where module `i + 1` has the colour of module `i`.
fn same_as_next(line: Line, pairs: Line) -> Line {
    !(line ^ line.ahead(1)) & pairs
}

/// Rules 1 and 3 along one line.
fn line_penalty(line: Line, pairs: Line) -> u32 {
    // Rule 1: a run of L ≥ 5 has L - 4 starts of five alike and costs L - 2.
    let same = same_as_next(line, pairs);
    let five = same & same.ahead(1) & same.ahead(2) & same.ahead(3);
    let run_starts = five & !five.behind(1);
    let runs = five.count() + 2 * run_starts.count();
    // Rule 3: dark, light, three dark, light, dark, starting at each bit...
    let finder = line
        & !line.ahead(1)
        & line.ahead(2)
        & line.ahead(3)
        & line.ahead(4)
        & !line.ahead(5)
        & line.ahead(6);
    // ...with four light modules before it or after it (the quiet zone is light).
    let light_before = !(line.behind(1) | line.behind(2) | line.behind(3) | line.behind(4));
    let light_after = !(line.ahead(7) | line.ahead(8) | line.ahead(9) | line.ahead(10));
    runs + 40 * (finder & (light_before | light_after)).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qr::codewords::{MAX_VERSION, codewords};
    use qrcode::canvas::{Canvas, MaskPattern};
    use qrcode::types::Color;
    use qrcode::{EcLevel, Version};

    const PATTERNS: [MaskPattern; 8] = [
        MaskPattern::Checkerboard,
        MaskPattern::HorizontalLines,
        MaskPattern::VerticalLines,
        MaskPattern::DiagonalLines,
        MaskPattern::LargeCheckerboard,
        MaskPattern::Fields,
        MaskPattern::Diamonds,
        MaskPattern::Meadow,
    ];

    const LEVELS: [(ErrorCorrection, EcLevel); 4] = [
        (ErrorCorrection::Low, EcLevel::L),
        (ErrorCorrection::Medium, EcLevel::M),
        (ErrorCorrection::Quartile, EcLevel::Q),
        (ErrorCorrection::High, EcLevel::H),
    ];

    /// The same byte segment in the same version drawn by the `qrcode` crate, an encoder
    /// written by others, before masking.
    fn theirs(data: &[u8], version: usize, level: EcLevel) -> Canvas {
        let version = Version::Normal(version as i16);
        let mut bits = qrcode::bits::Bits::new(version);
        bits.push_byte_data(data).unwrap();
        bits.push_terminator(level).unwrap();
        let (data, ec) =
            qrcode::ec::construct_codewords(&bits.into_bytes(), version, level).unwrap();
        let mut canvas = Canvas::new(version, level);
        canvas.draw_all_functional_patterns();
        canvas.draw_data(&data, &ec);
        canvas
    }

    #[test]
    fn every_version_level_and_mask_draws_what_the_qrcode_crate_draws() {
        // Short enough for version 1-H.
        const DATA: &[u8] = b"q8Z";
        for version in 1..=MAX_VERSION {
            for (level, their_level) in LEVELS {
                let symbol = Symbol::new(version, &codewords(DATA, version, level));
                let width = symbol.width();
                let unmasked = Unmasked::new(&symbol, level);
                let canvas = theirs(DATA, version, their_level);
                let (mut rows, mut columns) = (Vec::new(), Vec::new());
                for (mask, pattern) in PATTERNS.into_iter().enumerate() {
                    unmasked.masked(mask as u8, &mut rows, &mut columns);
                    let ours = modules(&rows, width);
                    let turned: Vec<u8> = (0..width * width)
                        .map(|k| u8::from(columns[k % width].get(k / width)))
                        .collect();
                    assert!(ours == turned, "columns are the rows turned");
                    let mut masked = canvas.clone();
                    masked.apply_mask(pattern);
                    let theirs: Vec<u8> = masked
                        .into_colors()
                        .into_iter()
                        .map(|c| u8::from(c == Color::Dark))
                        .collect();
                    assert!(ours == theirs, "version {version} {level:?} mask {mask}");
                }
            }
        }
    }

    #[test]
    fn penalties_follow_the_four_rules() {
        let line = |modules: &[u8]| {
            let mut line = Line::default();
            modules
                .iter()
                .enumerate()
                .for_each(|(i, &m)| line.put(i, m == 1));
            line_penalty(line, Line::first(modules.len() - 1))
        };
        const FINDER_LIKE: [u8; 7] = [1, 0, 1, 1, 1, 0, 1];
        // A run of 7 dark: 3 + 2; of 5 light: 3.
        assert_eq!(line(&[0, 1, 1, 1, 1, 1, 1, 1, 0, 1]), 5);
        assert_eq!(line(&[1, 0, 0, 0, 0, 0, 1]), 3);
        // Alone, the quiet zone light on both sides: 40, once.
        assert_eq!(line(&FINDER_LIKE), 40);
        // Light after it only, then light before it only: 40 each.
        assert_eq!(line(&[1, 1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0, 1]), 40);
        assert_eq!(line(&[1, 0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1, 1]), 40);
        // Dark on both sides: not finder-like.
        assert_eq!(line(&[1, 1, 0, 1, 1, 1, 0, 1, 1]), 0);
        // Across word boundaries, in a version 40 line: a run of 100 dark from module 20.
        let mut long = [0u8; 177];
        long[20..120].fill(1);
        assert_eq!(line(&long), (100 - 2) + (20 - 2) + (57 - 2));

        let symbol = |modules: &[u8], n: usize| {
            let (mut rows, mut columns) = (vec![Line::default(); n], vec![Line::default(); n]);
            for (k, &m) in modules.iter().enumerate() {
                rows[k / n].put(k % n, m == 1);
                columns[k % n].put(k / n, m == 1);
            }
            penalty(&rows, &columns, n)
        };
        // A 3×3 all light: four 2×2 blocks (12), every line a run of 3 (0), 0 % dark (100).
        assert_eq!(symbol(&[0; 9], 3), 12 + 100);
        // A checkerboard: nothing but its balance (5 of 9 dark: 56 %, one step away).
        assert_eq!(symbol(&[1, 0, 1, 0, 1, 0, 1, 0, 1], 3), 10);
        // A 5×5 with its top row dark: five runs of 5 in the rows (15), none in the columns,
        // twelve light 2×2 blocks (36), 20 % dark (60). The same turned on its side.
        let mut rows = [0u8; 25];
        rows[..5].fill(1);
        assert_eq!(symbol(&rows, 5), 15 + 36 + 60);
        let mut left = [0u8; 25];
        (0..5).for_each(|y| left[y * 5] = 1);
        assert_eq!(symbol(&left, 5), 15 + 36 + 60);
    }
}
