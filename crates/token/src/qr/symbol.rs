//! A symbol before masking (ISO/IEC 18004 §6.3, §7.7): the function patterns drawn, the format
//! areas kept for mask selection to fill, and the codewords placed in the two-module columns
//! that wind up and down from the bottom right.

use super::codewords::{alignment_centres, width};
use alloc::{vec, vec::Vec};

/// The modules of one symbol, row by row.
pub(super) struct Symbol {
    width: usize,
    dark: Vec<bool>,
    /// Function patterns and reserved areas: what masks leave alone and data avoids.
    function: Vec<bool>,
}

impl Symbol {
    /// `version` with its function patterns and `codewords` (as [`super::codewords`] orders
    /// them) placed.
    pub(super) fn new(version: usize, codewords: &[u8]) -> Self {
        let width = width(version);
        let mut symbol = Symbol {
            width,
            dark: vec![false; width * width],
            function: vec![false; width * width],
        };
        symbol.draw_function_patterns(version);
        symbol.place(codewords);
        symbol
    }

    pub(super) fn width(&self) -> usize {
        self.width
    }

    // The accessors are always inlined: they run for every module, and the browser's wasm is
    // built at opt-level "z", whose inliner would leave each one a call.
    #[inline(always)]
    pub(super) fn is_dark(&self, x: usize, y: usize) -> bool {
        self.dark[y * self.width + x]
    }

    /// Whether the module carries data or error correction, the only modules a mask inverts.
    #[inline(always)]
    pub(super) fn is_data(&self, x: usize, y: usize) -> bool {
        !self.function[y * self.width + x]
    }

    #[inline(always)]
    fn set(&mut self, x: usize, y: usize, dark: bool) {
        let i = y * self.width + x;
        self.dark[i] = dark;
        self.function[i] = true;
    }

    /// The square of `radius` around (x, y), clipped to the symbol, each module dark or light
    /// by its ring: `dark(ring)`, ring 0 the centre.
    fn rings(&mut self, x: usize, y: usize, radius: usize, dark: impl Fn(usize) -> bool) {
        let n = self.width;
        for my in y.saturating_sub(radius)..(y + radius + 1).min(n) {
            for mx in x.saturating_sub(radius)..(x + radius + 1).min(n) {
                let ring = mx.abs_diff(x).max(my.abs_diff(y));
                self.set(mx, my, dark(ring));
            }
        }
    }

    fn draw_function_patterns(&mut self, version: usize) {
        let n = self.width;
        // Timing lines along row and column 6 (§6.3.5); the finders overwrite their ends.
        for i in 0..n {
            self.set(i, 6, i % 2 == 0);
            self.set(6, i, i % 2 == 0);
        }
        // Finders, 3×3 dark in a light ring in a dark ring, and their light separators
        // (§6.3.3, §6.3.4).
        for (x, y) in [(3, 3), (n - 4, 3), (3, n - 4)] {
            self.rings(x, y, 4, |ring| ring != 2 && ring != 4);
        }
        // Alignment patterns, a dark centre in a light ring in a dark ring (§6.3.6), wherever
        // they do not fall on a finder.
        let centres = alignment_centres(version);
        if let (Some(&first), Some(&last)) = (centres.first(), centres.last()) {
            for &y in &centres {
                for &x in &centres {
                    let on_finder =
                        (x == first && (y == first || y == last)) || (x == last && y == first);
                    if !on_finder {
                        self.rings(x, y, 2, |ring| ring != 1);
                    }
                }
            }
        }
        // The format areas beside the finders, light until a mask is chosen (§7.9), and the
        // dark module above the bottom-left one.
        for i in (0..9).filter(|&i| i != 6) {
            self.set(8, i, false);
            self.set(i, 8, false);
        }
        for i in 0..8 {
            self.set(n - 1 - i, 8, false);
            self.set(8, n - 1 - i, false);
        }
        self.set(8, n - 8, true);
        // From version 7, the version in two 6×3 blocks (§7.10).
        if version >= 7 {
            let bits = version_information(version);
            for i in 0..18 {
                let dark = bits >> i & 1 == 1;
                let (across, along) = (i / 3, n - 11 + i % 3);
                self.set(across, along, dark);
                self.set(along, across, dark);
            }
        }
    }

    /// The codewords' bits, most significant first, up and down the two-module columns from
    /// the right, skipping the vertical timing line and every function module; the modules
    /// left over (0 to 7 remainder bits) stay light.
    fn place(&mut self, codewords: &[u8]) {
        let n = self.width;
        let bits = 8 * codewords.len();
        let mut next = 0;
        let mut right = n - 1;
        let mut upward = true;
        loop {
            for step in 0..n {
                let y = if upward { n - 1 - step } else { step };
                for x in [right, right - 1] {
                    let i = y * n + x;
                    if !self.function[i] && next < bits {
                        self.dark[i] = codewords[next / 8] << (next % 8) & 0x80 != 0;
                        next += 1;
                    }
                }
            }
            if right < 3 {
                break;
            }
            upward = !upward;
            right -= 2;
            if right == 6 {
                right = 5;
            }
        }
    }
}

/// The 18 version bits (§7.10): the version, then a BCH(18, 6) remainder.
fn version_information(version: usize) -> u32 {
    // x¹² + x¹¹ + x¹⁰ + x⁹ + x⁸ + x⁵ + x² + 1
    const GENERATOR: u32 = 0b1_1111_0010_0101;
    let data = version as u32;
    let mut remainder = data << 12;
    for bit in (12..18).rev() {
        if remainder >> bit & 1 == 1 {
            remainder ^= GENERATOR << (bit - 12);
        }
    }
    data << 12 | remainder
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    #[test]
    fn version_information_is_that_of_annex_d() {
        // Table D.1: versions 7 and 40.
        assert_eq!(version_information(7), 0x07C94);
        assert_eq!(version_information(40), 0x28C69);
    }

    #[test]
    fn version_1_has_its_function_patterns_where_the_standard_draws_them() {
        let symbol = Symbol::new(1, &[0; 26]);
        let row = |y: usize| -> String {
            (0..21)
                .map(|x| match (symbol.is_data(x, y), symbol.is_dark(x, y)) {
                    (true, _) => '.',
                    (false, true) => '#',
                    (false, false) => '-',
                })
                .collect()
        };
        assert_eq!(row(0), "#######--....-#######");
        assert_eq!(row(6), "#######-#-#-#-#######");
        assert_eq!(row(8), "------#--....--------");
        assert_eq!(row(13), "--------#............");
        assert_eq!(row(14), "#######--............");
    }
}
