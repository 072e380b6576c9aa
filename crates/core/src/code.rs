//! Offline authentication codes as people type them.
//!
//! A PowerAuth offline code is 16 decimal digits in two components of eight, written canonically
//! as `12345678-90123456`. Tokens show it in groups of four (`1234-5678-9012-3456`) because that
//! is easier to read aloud and copy; people then type it back with spaces, dashes, or paste it
//! whole. [`AuthCode::parse`] accepts all of those and nothing else.
//!
//! Integrations may configure shorter codes: one to three components of four to eight digits
//! ([`CodeFormat`]); display groups stay four digits wide.
//!
//! Accepted separators are white space and the dash family (hyphen-minus, the Unicode hyphens
//! and dashes, the minus sign); they may appear anywhere, because people group digits their own
//! way. Digits may be ASCII, full-width (typed with an East Asian input method) or Arabic-Indic
//! (typed on an Arabic keyboard); all are read as the same decimal value.

use alloc::{borrow::ToOwned, string::String, vec::Vec};
use core::fmt;
use core::str::FromStr;

use crate::text::join;

/// Digits in each group of the display form.
const DISPLAY_GROUP: usize = 4;

/// The shape of a code: how many components, and how many digits in each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CodeFormat {
    components: u8,
    component_length: u8,
}

impl CodeFormat {
    /// PowerAuth's offline code: two components of eight digits.
    pub const OFFLINE: CodeFormat = CodeFormat {
        components: 2,
        component_length: 8,
    };

    /// One to three components of four to eight digits; `None` otherwise.
    pub fn new(components: u8, component_length: u8) -> Option<Self> {
        ((1..=3).contains(&components) && (4..=8).contains(&component_length)).then_some(
            CodeFormat {
                components,
                component_length,
            },
        )
    }

    /// Total digits.
    pub fn digits(self) -> usize {
        usize::from(self.components) * usize::from(self.component_length)
    }

    /// Digits per component.
    pub fn component_length(self) -> usize {
        usize::from(self.component_length)
    }
}

impl Default for CodeFormat {
    fn default() -> Self {
        Self::OFFLINE
    }
}

/// A complete, well-formed code: exactly the digits its [`CodeFormat`] asks for.
///
/// `Display` writes the canonical form; `Debug` hides the digits so that a code never reaches a
/// log by accident.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AuthCode {
    digits: String,
    format: CodeFormat,
}

impl AuthCode {
    /// Reads a code as a person typed or pasted it.
    ///
    /// ```
    /// use qrauth_core::AuthCode;
    /// let code = AuthCode::parse(" 1234 5678-9012–3456 ").unwrap();
    /// assert_eq!(code.canonical(), "12345678-90123456");
    /// assert_eq!(code.display(), "1234-5678-9012-3456");
    /// ```
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        Self::parse_as(input, CodeFormat::OFFLINE)
    }

    /// Reads a code of another shape.
    pub fn parse_as(input: &str, format: CodeFormat) -> Result<Self, CodeError> {
        CodeEntry::read_as(input, format).result
    }

    /// The canonical form servers verify: components joined by dashes, `12345678-90123456`.
    pub fn canonical(&self) -> String {
        group(&self.digits, self.format.component_length())
    }

    /// The form a token shows a person: groups of four, `1234-5678-9012-3456`.
    pub fn display(&self) -> String {
        group(&self.digits, DISPLAY_GROUP)
    }

    /// The components, in order.
    pub fn components(&self) -> Vec<&str> {
        let length = self.format.component_length();
        (0..self.digits.len())
            .step_by(length)
            .map(|start| &self.digits[start..start + length])
            .collect()
    }

    /// The shape of this code.
    pub fn format(&self) -> CodeFormat {
        self.format
    }
}

impl fmt::Display for AuthCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

impl fmt::Debug for AuthCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuthCode(<{} digits>)", self.digits.len())
    }
}

impl FromStr for AuthCode {
    type Err = CodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Why a typed code is not a well-formed offline code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodeError {
    /// Nothing but separators, or nothing at all.
    Empty,
    /// A character that is neither a digit nor a separator.
    ForeignCharacter {
        /// The character as typed.
        character: char,
        /// Its position among the typed characters, counting from 1.
        position: usize,
    },
    /// Fewer digits than the code has.
    TooFewDigits {
        /// How many digits were typed.
        found: usize,
        /// How many the code has.
        expected: usize,
    },
    /// More digits than the code has.
    TooManyDigits {
        /// How many digits were typed.
        found: usize,
        /// How many the code has.
        expected: usize,
    },
}

impl CodeError {
    /// A stable identifier for programs (`empty`, `foreign_character`, `too_few_digits`,
    /// `too_many_digits`); the `Display` text is for people and may change.
    pub fn kind(&self) -> &'static str {
        match self {
            CodeError::Empty => "empty",
            CodeError::ForeignCharacter { .. } => "foreign_character",
            CodeError::TooFewDigits { .. } => "too_few_digits",
            CodeError::TooManyDigits { .. } => "too_many_digits",
        }
    }

    /// What is wrong, in words for the person who typed it (also the `Display` text, which the
    /// light npm entry does not use: `core::fmt` would come with it).
    pub fn message(&self) -> String {
        match *self {
            CodeError::Empty => "Enter the code your token shows.".to_owned(),
            CodeError::ForeignCharacter {
                character,
                position,
            } => join(&[
                (&ShownCharacter(character).text()).into(),
                " (character ".into(),
                position.into(),
                ") is not a digit: a code has only digits, spaces and dashes.".into(),
            ]),
            CodeError::TooFewDigits { found, expected } => {
                let missing = expected - found;
                join(&[
                    "The code has ".into(),
                    found.into(),
                    " of ".into(),
                    expected.into(),
                    " digits: ".into(),
                    missing.into(),
                    if missing == 1 {
                        " digit missing."
                    } else {
                        " digits missing."
                    }
                    .into(),
                ])
            }
            CodeError::TooManyDigits { found, expected } => join(&[
                "The code has ".into(),
                found.into(),
                " digits, ".into(),
                (found - expected).into(),
                " too many: a code has ".into(),
                expected.into(),
                ".".into(),
            ]),
        }
    }
}

impl fmt::Display for CodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl core::error::Error for CodeError {}

/// What a person has typed so far, read as an offline code: everything a code field needs to
/// react to each keystroke.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeEntry {
    digits: String,
    expected: usize,
    result: Result<AuthCode, CodeError>,
}

impl CodeEntry {
    /// Reads partial or complete input as an offline code. Never fails: problems are reported
    /// by [`Self::code`].
    pub fn read(input: &str) -> Self {
        Self::read_as(input, CodeFormat::OFFLINE)
    }

    /// Reads input as a code of another shape.
    pub fn read_as(input: &str, format: CodeFormat) -> Self {
        let expected = format.digits();
        let mut digits = String::with_capacity(expected);
        let mut foreign = None;
        for (index, character) in input.chars().enumerate() {
            if let Some(value) = decimal_value(character) {
                digits.push(char::from(b'0' + value));
            } else if !is_separator(character) && foreign.is_none() {
                foreign = Some(CodeError::ForeignCharacter {
                    character,
                    position: index + 1,
                });
            }
        }
        let result = match (foreign, digits.len()) {
            (Some(error), _) => Err(error),
            (None, 0) => Err(CodeError::Empty),
            (None, found) if found < expected => Err(CodeError::TooFewDigits { found, expected }),
            (None, found) if found > expected => Err(CodeError::TooManyDigits { found, expected }),
            (None, _) => Ok(AuthCode {
                digits: digits.clone(),
                format,
            }),
        };
        CodeEntry {
            digits,
            expected,
            result,
        }
    }

    /// The digits typed so far, as ASCII, separators and foreign characters left out.
    pub fn digits(&self) -> &str {
        &self.digits
    }

    /// The digits typed so far in groups of four, `1234-5678-9`: what a field shows as it is typed.
    pub fn grouped(&self) -> String {
        group(&self.digits, DISPLAY_GROUP)
    }

    /// How many digits are still missing for a complete code (0 when complete or too long).
    pub fn missing(&self) -> usize {
        self.expected.saturating_sub(self.digits.len())
    }

    /// The complete code, or why the input is not one.
    pub fn code(&self) -> Result<&AuthCode, &CodeError> {
        self.result.as_ref()
    }
}

/// The decimal value of a digit in one of the scripts people type codes in.
fn decimal_value(character: char) -> Option<u8> {
    let zero = match character {
        '0'..='9' => '0',
        '\u{FF10}'..='\u{FF19}' => '\u{FF10}', // full-width
        '\u{0660}'..='\u{0669}' => '\u{0660}', // Arabic-Indic
        '\u{06F0}'..='\u{06F9}' => '\u{06F0}', // extended Arabic-Indic (Persian, Urdu)
        _ => return None,
    };
    u8::try_from(u32::from(character) - u32::from(zero)).ok()
}

/// A character as a message names it: in quotes, `“O”`, or by its code point, `U+200B`, when
/// it would show as nothing (see [`is_invisible`]).
pub struct ShownCharacter(pub char);

impl ShownCharacter {
    /// The character as a message names it.
    pub fn text(&self) -> String {
        let mut shown = String::new();
        if is_invisible(self.0) {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            let point = u32::from(self.0);
            // At least four digits, as code points are written.
            let digits = (1..8).find(|&n| point >> (4 * n) == 0).unwrap_or(8).max(4);
            shown.push_str("U+");
            for i in (0..digits).rev() {
                shown.push(char::from(HEX[(point >> (4 * i) & 0xF) as usize]));
            }
        } else {
            shown.push('“');
            shown.push(self.0);
            shown.push('”');
        }
        shown
    }
}

impl fmt::Display for ShownCharacter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

/// A character that shows as nothing, or as part of its neighbour, and so is named by its code
/// point: controls, the invisible format characters (zero-width space and joiners, direction
/// marks, the byte-order mark, soft hyphen) and combining marks. Written out rather than
/// `char::escape_debug`, whose Unicode tables are a tenth of the light npm entry.
fn is_invisible(character: char) -> bool {
    character.is_control()
        || matches!(
            character,
            '\u{00AD}'
                | '\u{0300}'..='\u{036F}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{20D0}'..='\u{20FF}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FE20}'..='\u{FE2F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

fn is_separator(character: char) -> bool {
    character.is_whitespace()
        || matches!(
            character,
            '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE63}' | '\u{FF0D}'
        )
}

/// `digits` (ASCII) in groups of `size`, joined by dashes.
fn group(digits: &str, size: usize) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / size);
    for (index, chunk) in digits.as_bytes().chunks(size).enumerate() {
        if index > 0 {
            out.push('-');
        }
        // Only ASCII digits are ever stored, so every chunk is valid UTF-8.
        out.push_str(core::str::from_utf8(chunk).unwrap_or_default());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::{format, string::ToString, vec};
    use proptest::prelude::*;

    #[test]
    fn accepts_the_shapes_people_type() {
        for input in [
            "12345678-90123456",
            "1234-5678-9012-3456",
            "1234 5678 9012 3456",
            "1234567890123456",
            "  1234\t5678\n9012 3456  ",
            "1234–5678—9012‐3456",
            "１２３４５６７８９０１２３４５６",
            "12 34 56 78 90 12 34 56",
        ] {
            let code = AuthCode::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(code.canonical(), "12345678-90123456", "{input:?}");
            assert_eq!(code.display(), "1234-5678-9012-3456", "{input:?}");
            assert_eq!(code.components(), ["12345678", "90123456"]);
            assert_eq!(code.to_string(), "12345678-90123456");
        }
    }

    #[test]
    fn arabic_indic_digits_read_as_their_values() {
        let code = AuthCode::parse("١٢٣٤٥٦٧٨-۹۰۱۲۳۴۵۶").unwrap();
        assert_eq!(code.canonical(), "12345678-90123456");
    }

    #[test]
    fn reports_missing_and_extra_digits() {
        assert_eq!(AuthCode::parse(""), Err(CodeError::Empty));
        assert_eq!(AuthCode::parse(" - - "), Err(CodeError::Empty));
        assert_eq!(
            AuthCode::parse("1234-5678-9012"),
            Err(CodeError::TooFewDigits {
                found: 12,
                expected: 16
            })
        );
        assert_eq!(
            AuthCode::parse("1234-5678-9012-34567"),
            Err(CodeError::TooManyDigits {
                found: 17,
                expected: 16
            })
        );
        assert_eq!(
            CodeError::TooFewDigits {
                found: 12,
                expected: 16
            }
            .to_string(),
            "The code has 12 of 16 digits: 4 digits missing."
        );
        assert_eq!(
            CodeError::TooFewDigits {
                found: 15,
                expected: 16
            }
            .to_string(),
            "The code has 15 of 16 digits: 1 digit missing."
        );
        assert_eq!(
            CodeError::TooManyDigits {
                found: 17,
                expected: 16
            }
            .to_string(),
            "The code has 17 digits, 1 too many: a code has 16."
        );
    }

    #[test]
    fn names_the_first_foreign_character() {
        let error = AuthCode::parse("Code: 1234-5678-9012-3456").unwrap_err();
        assert_eq!(
            error,
            CodeError::ForeignCharacter {
                character: 'C',
                position: 1
            }
        );
        assert_eq!(error.kind(), "foreign_character");
        assert_eq!(
            error.to_string(),
            "“C” (character 1) is not a digit: a code has only digits, spaces and dashes."
        );
        assert_eq!(
            AuthCode::parse("1234\u{200B}5678-9012-3456")
                .unwrap_err()
                .to_string(),
            "U+200B (character 5) is not a digit: a code has only digits, spaces and dashes."
        );
        assert_eq!(
            AuthCode::parse("1234\u{7}5678-9012-3456")
                .unwrap_err()
                .to_string(),
            "U+0007 (character 5) is not a digit: a code has only digits, spaces and dashes."
        );
        assert_eq!(ShownCharacter('\u{E0001}').text(), "U+E0001");
        assert_eq!(
            AuthCode::parse("1234-5678-9O12-3456"),
            Err(CodeError::ForeignCharacter {
                character: 'O',
                position: 12
            })
        );
    }

    #[test]
    fn entry_tracks_partial_input() {
        let entry = CodeEntry::read("12345 6789");
        assert_eq!(entry.digits(), "123456789");
        assert_eq!(entry.grouped(), "1234-5678-9");
        assert_eq!(entry.missing(), 7);
        assert_eq!(
            entry.code(),
            Err(&CodeError::TooFewDigits {
                found: 9,
                expected: 16
            })
        );
        let entry = CodeEntry::read("12345678901234567");
        assert_eq!(entry.missing(), 0);
        assert_eq!(entry.grouped(), "1234-5678-9012-3456-7");
    }

    #[test]
    fn other_shapes_keep_components_and_display_in_fours() {
        let format = CodeFormat::new(3, 6).unwrap();
        let code = AuthCode::parse_as("123456 789012 345678", format).unwrap();
        assert_eq!(code.canonical(), "123456-789012-345678");
        assert_eq!(code.display(), "1234-5678-9012-3456-78");
        assert_eq!(code.components(), ["123456", "789012", "345678"]);
        let short = AuthCode::parse_as("1234", CodeFormat::new(1, 4).unwrap()).unwrap();
        assert_eq!(short.canonical(), "1234");
        assert_eq!(
            AuthCode::parse_as("12345678", CodeFormat::new(2, 5).unwrap()),
            Err(CodeError::TooFewDigits {
                found: 8,
                expected: 10
            })
        );
        assert_eq!(CodeFormat::new(4, 8), None);
        assert_eq!(CodeFormat::new(2, 3), None);
        assert_eq!(CodeFormat::new(1, 9), None);
    }

    #[test]
    fn debug_does_not_show_the_digits() {
        let code = AuthCode::parse("1234567890123456").unwrap();
        assert!(!format!("{code:?}").contains("1234"));
    }

    fn separator() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "", " ", "-", "\t", " - ", "\u{2013}", "\u{00A0}", "\n",
        ])
        .prop_map(str::to_owned)
    }

    proptest! {
        #[test]
        fn any_grouping_of_sixteen_digits_normalizes(
            digits in "[0-9]{16}",
            separators in prop::collection::vec(separator(), 17),
        ) {
            let mut input = String::new();
            for (digit, separator) in digits.chars().zip(&separators) {
                input.push_str(separator);
                input.push(digit);
            }
            input.push_str(&separators[16]);
            let code = AuthCode::parse(&input).unwrap();
            prop_assert_eq!(code.canonical(), format!("{}-{}", &digits[..8], &digits[8..]));
            prop_assert_eq!(AuthCode::parse(&code.display()).unwrap(), code);
        }

        #[test]
        fn wrong_digit_counts_are_counted(digits in "[0-9]{1,40}") {
            let found = digits.len();
            let expected = match found {
                16 => return Ok(()),
                n if n < 16 => CodeError::TooFewDigits { found, expected: 16 },
                _ => CodeError::TooManyDigits { found, expected: 16 },
            };
            prop_assert_eq!(AuthCode::parse(&digits), Err(expected));
            prop_assert_eq!(CodeEntry::read(&digits).missing(), 16usize.saturating_sub(found));
        }

        #[test]
        fn a_foreign_character_is_found_where_it_is(
            prefix in "[0-9 -]{0,20}",
            foreign in "[a-zA-Z.,:;#+*/]",
            suffix in "\\PC{0,20}",
        ) {
            let input = format!("{prefix}{foreign}{suffix}");
            let character = foreign.chars().next().unwrap();
            prop_assert_eq!(
                AuthCode::parse(&input),
                Err(CodeError::ForeignCharacter { character, position: prefix.chars().count() + 1 })
            );
        }

        #[test]
        fn every_shape_round_trips(components in 1u8..=3, length in 4u8..=8, digits in "[0-9]{24}") {
            let format = CodeFormat::new(components, length).unwrap();
            let digits = &digits[..format.digits()];
            let code = AuthCode::parse_as(digits, format).unwrap();
            prop_assert_eq!(code.canonical().replace('-', ""), digits);
            prop_assert_eq!(AuthCode::parse_as(&code.display(), format).unwrap(), code.clone());
            prop_assert_eq!(AuthCode::parse_as(&code.canonical(), format).unwrap(), code);
        }

        #[test]
        fn never_panics_and_grouping_keeps_digits(input in "\\PC{0,64}") {
            let entry = CodeEntry::read(&input);
            prop_assert_eq!(entry.grouped().replace('-', ""), entry.digits());
            let _ = AuthCode::parse(&input);
        }
    }
}
