//! Messages put together from words and numbers without `core::fmt`.
//!
//! Every `format!` brings the code that lays out its arguments, and its pieces as data; in the
//! light npm entry (`qrauth-token/qr`), whose wasm is meant to weigh a few tens of kilobytes,
//! that was a tenth of it. The messages that the page helpers give people (codes typed wrong,
//! QR options refused) are built with [`join`].
use alloc::string::String;

/// One part of a message.
#[derive(Clone, Copy, Debug)]
pub enum Part<'a> {
    /// Words, as they are.
    Words(&'a str),
    /// A number in decimal.
    Number(u64),
}

impl<'a> From<&'a str> for Part<'a> {
    fn from(words: &'a str) -> Self {
        Part::Words(words)
    }
}

impl<'a> From<&'a String> for Part<'a> {
    fn from(words: &'a String) -> Self {
        Part::Words(words)
    }
}

impl From<usize> for Part<'_> {
    fn from(number: usize) -> Self {
        Part::Number(number as u64)
    }
}

impl From<u32> for Part<'_> {
    fn from(number: u32) -> Self {
        Part::Number(u64::from(number))
    }
}

/// The parts one after another.
pub fn join(parts: &[Part]) -> String {
    let mut out = String::new();
    for part in parts {
        match *part {
            Part::Words(words) => out.push_str(words),
            Part::Number(number) => push_decimal(&mut out, number),
        }
    }
    out
}

/// Appends `number` in decimal.
pub fn push_decimal(out: &mut String, number: u64) {
    // Pushed as one-digit strings: `char` pushes check for multi-byte characters, and this
    // runs for every number of a QR code's SVG path.
    const DIGITS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    let mut unit = 1;
    while unit <= number / 10 {
        unit *= 10;
    }
    while unit > 0 {
        out.push_str(DIGITS[(number / unit % 10) as usize]);
        unit /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn joins_words_and_numbers() {
        assert_eq!(
            join(&[
                "The code has ".into(),
                7usize.into(),
                " of 16 digits.".into()
            ]),
            "The code has 7 of 16 digits."
        );
        for number in [0, 9, 10, 99, 100, 4_294_967_295, u64::MAX] {
            let mut out = String::new();
            push_decimal(&mut out, number);
            assert_eq!(out, number.to_string());
        }
    }
}
