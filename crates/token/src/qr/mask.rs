//! Mask selection (ISO/IEC 18004 §7.8): each of the eight masks applied to a plain grid of
//! bytes and scored by the standard's four penalty rules. The `qrcode` crate does the same on
//! its module canvas, cloning it per mask and allocating a closure per position for the
//! finder rule; that was most of the time it took to encode a login QR.

use qrcode::EcLevel;
use qrcode::canvas::{Canvas, Module};
use qrcode::types::Color;

/// Modules per finder-like pattern (dark, light, 3 dark, light, dark).
const FINDER_LIKE: [u8; 7] = [1, 0, 1, 1, 1, 0, 1];
/// Light modules that make a finder-like pattern count, before or after it.
const LIGHT_BESIDE: usize = 4;

/// A symbol with its function patterns and data drawn, before masking.
pub(super) struct Unmasked {
    width: usize,
    level: EcLevel,
    /// 1 where the module is dark.
    dark: Vec<u8>,
    /// 1 where the module holds data or error correction (the only ones a mask changes).
    data: Vec<u8>,
}

impl Unmasked {
    /// Reads `canvas` (drawn by `qrcode`: function patterns and data, no mask yet).
    pub(super) fn read(canvas: &Canvas, width: usize, level: EcLevel) -> Self {
        let mut dark = Vec::with_capacity(width * width);
        let mut data = Vec::with_capacity(width * width);
        for y in 0..width {
            for x in 0..width {
                // Coordinates are below 177, so they fit an i16.
                let (is_dark, is_data) = match canvas.get(x as i16, y as i16) {
                    Module::Masked(colour) => (colour == Color::Dark, false),
                    Module::Unmasked(colour) => (colour == Color::Dark, true),
                    // Remainder bits and the format areas: light data until masked (the
                    // format areas are overwritten afterwards).
                    Module::Empty => (false, true),
                };
                dark.push(u8::from(is_dark));
                data.push(u8::from(is_data));
            }
        }
        Unmasked {
            width,
            level,
            dark,
            data,
        }
    }

    /// The symbol under `mask` (0 to 7), with its format information: 1 where dark.
    pub(super) fn masked(&self, mask: u8, into: &mut Vec<u8>) {
        let n = self.width;
        into.clear();
        into.extend(self.dark.iter().zip(&self.data).enumerate().map(
            |(k, (&dark, &data))| dark ^ (data & u8::from(inverts(mask, k % n, k / n))),
        ));
        let format = format_information(self.level, mask);
        let bit = |i: u32| u8::from(format >> i & 1 == 1);
        // Around the top-left finder: up column 8, then along row 8 to the left.
        for i in 0..=5 {
            into[i * n + 8] = bit(i as u32);
        }
        into[7 * n + 8] = bit(6);
        into[8 * n + 8] = bit(7);
        into[8 * n + 7] = bit(8);
        for i in 9..15 {
            into[8 * n + (14 - i)] = bit(i as u32);
        }
        // The copy: along row 8 under the top-right finder, then down column 8 beside the
        // bottom-left one.
        for i in 0..8 {
            into[8 * n + (n - 1 - i)] = bit(i as u32);
        }
        for i in 8..15 {
            into[(n - 15 + i) * n + 8] = bit(i as u32);
        }
    }

    /// The symbol under the mask with the lowest penalty (the first of equals): 1 where dark.
    pub(super) fn best_masked(&self) -> Vec<u8> {
        let mut best = Vec::with_capacity(self.dark.len());
        let mut trial = Vec::with_capacity(self.dark.len());
        let mut best_score = u32::MAX;
        let mut line = Vec::with_capacity(self.width + 2 * LIGHT_BESIDE);
        for mask in 0..8 {
            self.masked(mask, &mut trial);
            let score = penalty(&trial, self.width, &mut line);
            if score < best_score {
                best_score = score;
                std::mem::swap(&mut best, &mut trial);
            }
        }
        best
    }
}

/// Whether mask pattern `mask` inverts the module at column `x`, row `y` (§7.8.2, table 10).
fn inverts(mask: u8, x: usize, y: usize) -> bool {
    match mask {
        0 => (x + y) % 2 == 0,
        1 => y % 2 == 0,
        2 => x % 3 == 0,
        3 => (x + y) % 3 == 0,
        4 => (y / 2 + x / 3) % 2 == 0,
        5 => (x * y) % 2 + (x * y) % 3 == 0,
        6 => ((x * y) % 2 + (x * y) % 3) % 2 == 0,
        _ => ((x + y) % 2 + (x * y) % 3) % 2 == 0,
    }
}

/// The 15 format bits (§7.9.1): level and mask, a BCH(15,5) remainder, XOR 101010000010010.
fn format_information(level: EcLevel, mask: u8) -> u16 {
    let level_bits: u16 = match level {
        EcLevel::L => 0b01,
        EcLevel::M => 0b00,
        EcLevel::Q => 0b11,
        EcLevel::H => 0b10,
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

/// The penalty of a masked symbol (§7.8.3): runs of five or more in a line, 2×2 blocks,
/// finder-like patterns with four light modules beside them, and the distance of the dark
/// share from half. `line` is scratch space.
fn penalty(grid: &[u8], n: usize, line: &mut Vec<u8>) -> u32 {
    let mut score = 0;
    for i in 0..n {
        score += line_penalty((0..n).map(|x| grid[i * n + x]), line);
        score += line_penalty((0..n).map(|y| grid[y * n + i]), line);
    }
    for y in 0..n - 1 {
        let (row, below) = (&grid[y * n..(y + 1) * n], &grid[(y + 1) * n..(y + 2) * n]);
        for x in 0..n - 1 {
            let c = row[x];
            if row[x + 1] == c && below[x] == c && below[x + 1] == c {
                score += 3;
            }
        }
    }
    let dark: usize = grid.iter().map(|&d| usize::from(d)).sum();
    let total = n * n;
    // 10 points per whole 5 % away from 50 % dark.
    score + 10 * ((20 * dark).abs_diff(10 * total) / total) as u32
}

/// Rules 1 and 3 along one row or column; outside the symbol is light (the quiet zone).
fn line_penalty(modules: impl Iterator<Item = u8>, line: &mut Vec<u8>) -> u32 {
    line.clear();
    line.extend(std::iter::repeat_n(0, LIGHT_BESIDE));
    line.extend(modules);
    line.extend(std::iter::repeat_n(0, LIGHT_BESIDE));
    let inside = &line[LIGHT_BESIDE..line.len() - LIGHT_BESIDE];
    let mut score = 0;
    let mut run = 0;
    let mut colour = u8::MAX;
    for &m in inside {
        if m == colour {
            run += 1;
        } else {
            score += run_penalty(run);
            colour = m;
            run = 1;
        }
    }
    score += run_penalty(run);
    let light = |range: std::ops::Range<usize>| line[range].iter().all(|&m| m == 0);
    for start in LIGHT_BESIDE..line.len() - LIGHT_BESIDE - FINDER_LIKE.len() + 1 {
        let end = start + FINDER_LIKE.len();
        if line[start..end] == FINDER_LIKE
            && (light(start - LIGHT_BESIDE..start) || light(end..end + LIGHT_BESIDE))
        {
            score += 40;
        }
    }
    score
}

/// Rule 1: 3 points for a run of five, one more per module beyond.
fn run_penalty(run: u32) -> u32 {
    if run >= 5 { run - 2 } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qrcode::Version;
    use qrcode::canvas::MaskPattern;

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

    fn drawn(version: i16, level: EcLevel) -> (Canvas, usize) {
        let version = Version::Normal(version);
        let mut bits = qrcode::bits::Bits::new(version);
        bits.push_byte_data(b"scan=q8Z41").unwrap();
        bits.push_terminator(level).unwrap();
        let (data, ec) =
            qrcode::ec::construct_codewords(&bits.into_bytes(), version, level).unwrap();
        let mut canvas = Canvas::new(version, level);
        canvas.draw_all_functional_patterns();
        canvas.draw_data(&data, &ec);
        (canvas, version.width() as usize)
    }

    #[test]
    fn every_mask_and_its_format_information_match_the_qrcode_crate() {
        for version in [2, 7, 13, 40] {
            for level in [EcLevel::L, EcLevel::M, EcLevel::Q, EcLevel::H] {
                let (canvas, width) = drawn(version, level);
                let unmasked = Unmasked::read(&canvas, width, level);
                let mut ours = Vec::new();
                for (mask, pattern) in PATTERNS.into_iter().enumerate() {
                    unmasked.masked(mask as u8, &mut ours);
                    let mut theirs = canvas.clone();
                    theirs.apply_mask(pattern);
                    let theirs: Vec<u8> = theirs
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
        let mut line = Vec::new();
        // A run of 7 dark: 3 + 2.
        assert_eq!(line_penalty([0, 1, 1, 1, 1, 1, 1, 1, 0, 1].into_iter(), &mut line), 5);
        // A finder-like pattern at the edge, the quiet zone light before it: 40, once.
        assert_eq!(line_penalty(FINDER_LIKE.into_iter(), &mut line), 40);
        // Dark on both sides: not finder-like.
        assert_eq!(
            line_penalty([1, 1, 0, 1, 1, 1, 0, 1, 1].into_iter(), &mut line),
            0
        );
        // A 3×3 all light: four 2×2 blocks (12), every line a run of 3 (0), 0 % dark (100).
        assert_eq!(penalty(&[0; 9], 3, &mut line), 12 + 100);
        // A checkerboard: nothing but its balance (5 of 9 dark: 56 %, one step away).
        assert_eq!(penalty(&[1, 0, 1, 0, 1, 0, 1, 0, 1], 3, &mut line), 10);
    }
}
