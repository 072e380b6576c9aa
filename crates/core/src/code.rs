//! Offline authentication codes as people type them.
//!
//! A PowerAuth offline code is 16 decimal digits in two components of eight, written canonically
//! as `12345678-90123456`. Tokens show it in groups of four (`1234-5678-9012-3456`) because that
//! is easier to read aloud and copy; people then type it back with spaces, dashes, or paste it
//! whole. [`AuthCode::parse`] accepts all of those and nothing else.
//!
//! Accepted separators are white space and the dash family (hyphen-minus, the Unicode hyphens
//! and dashes, the minus sign); they may appear anywhere, because people group digits their own
//! way. Digits may be ASCII, full-width (typed with an East Asian input method) or Arabic-Indic
//! (typed on an Arabic keyboard); all are read as the same decimal value.

use std::fmt;
use std::str::FromStr;

/// Number of decimal digits in an offline code.
pub const CODE_DIGITS: usize = 16;
/// Digits in each of the two components of the canonical form.
const COMPONENT_DIGITS: usize = 8;
/// Digits in each group of the display form.
const DISPLAY_GROUP: usize = 4;

/// A complete, well-formed offline code: exactly [`CODE_DIGITS`] decimal digits.
///
/// `Display` writes the canonical form; `Debug` hides the digits so that a code never reaches a
/// log by accident.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AuthCode {
    digits: [u8; CODE_DIGITS],
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
        CodeEntry::read(input).result
    }

    /// The canonical form servers verify: two components of eight digits, `12345678-90123456`.
    pub fn canonical(&self) -> String {
        group(&self.digits, COMPONENT_DIGITS)
    }

    /// The form a token shows a person: four groups of four, `1234-5678-9012-3456`.
    pub fn display(&self) -> String {
        group(&self.digits, DISPLAY_GROUP)
    }

    /// The two eight-digit components, in order.
    pub fn components(&self) -> [&str; 2] {
        let (first, second) = self.digits.split_at(COMPONENT_DIGITS);
        [ascii(first), ascii(second)]
    }
}

impl fmt::Display for AuthCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

impl fmt::Debug for AuthCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthCode(<16 digits>)")
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
    /// Fewer than [`CODE_DIGITS`] digits.
    TooFewDigits {
        /// How many digits were typed.
        found: usize,
    },
    /// More than [`CODE_DIGITS`] digits.
    TooManyDigits {
        /// How many digits were typed.
        found: usize,
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
}

impl fmt::Display for CodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            CodeError::Empty => write!(f, "Enter the {CODE_DIGITS}-digit code your token shows."),
            CodeError::ForeignCharacter {
                character,
                position,
            } => write!(
                f,
                "“{}” (character {position}) is not a digit: a code has only digits, spaces and dashes.",
                character.escape_debug()
            ),
            CodeError::TooFewDigits { found } => {
                let missing = CODE_DIGITS - found;
                let plural = if missing == 1 { "" } else { "s" };
                write!(
                    f,
                    "The code has {found} of {CODE_DIGITS} digits: {missing} digit{plural} missing."
                )
            }
            CodeError::TooManyDigits { found } => write!(
                f,
                "The code has {found} digits, {} too many: a code has {CODE_DIGITS}.",
                found - CODE_DIGITS
            ),
        }
    }
}

impl std::error::Error for CodeError {}

/// What a person has typed so far, read as an offline code: everything a code field needs to
/// react to each keystroke.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeEntry {
    digits: String,
    result: Result<AuthCode, CodeError>,
}

impl CodeEntry {
    /// Reads partial or complete input. Never fails: problems are reported by [`Self::code`].
    pub fn read(input: &str) -> Self {
        let mut digits = String::with_capacity(CODE_DIGITS);
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
            (None, found) if found < CODE_DIGITS => Err(CodeError::TooFewDigits { found }),
            (None, found) if found > CODE_DIGITS => Err(CodeError::TooManyDigits { found }),
            (None, _) => {
                let mut code = [0u8; CODE_DIGITS];
                code.copy_from_slice(digits.as_bytes());
                Ok(AuthCode { digits: code })
            }
        };
        CodeEntry { digits, result }
    }

    /// The digits typed so far, as ASCII, separators and foreign characters left out.
    pub fn digits(&self) -> &str {
        &self.digits
    }

    /// The digits typed so far in groups of four, `1234-5678-9`: what a field shows as it is typed.
    pub fn grouped(&self) -> String {
        group(self.digits.as_bytes(), DISPLAY_GROUP)
    }

    /// How many digits are still missing for a complete code (0 when complete or too long).
    pub fn missing(&self) -> usize {
        CODE_DIGITS.saturating_sub(self.digits.len())
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

fn is_separator(character: char) -> bool {
    character.is_whitespace()
        || matches!(
            character,
            '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE63}' | '\u{FF0D}'
        )
}

/// `digits` (ASCII) in groups of `size`, joined by dashes.
fn group(digits: &[u8], size: usize) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / size);
    for (index, chunk) in digits.chunks(size).enumerate() {
        if index > 0 {
            out.push('-');
        }
        out.push_str(ascii(chunk));
    }
    out
}

fn ascii(digits: &[u8]) -> &str {
    // Every byte was written from b'0' + value with value < 10.
    std::str::from_utf8(digits).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
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
            Err(CodeError::TooFewDigits { found: 12 })
        );
        assert_eq!(
            AuthCode::parse("1234-5678-9012-34567"),
            Err(CodeError::TooManyDigits { found: 17 })
        );
        assert_eq!(
            CodeError::TooFewDigits { found: 12 }.to_string(),
            "The code has 12 of 16 digits: 4 digits missing."
        );
        assert_eq!(
            CodeError::TooFewDigits { found: 15 }.to_string(),
            "The code has 15 of 16 digits: 1 digit missing."
        );
        assert_eq!(
            CodeError::TooManyDigits { found: 17 }.to_string(),
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
        assert_eq!(entry.code(), Err(&CodeError::TooFewDigits { found: 9 }));
        let entry = CodeEntry::read("12345678901234567");
        assert_eq!(entry.missing(), 0);
        assert_eq!(entry.grouped(), "1234-5678-9012-3456-7");
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
                n if n < 16 => CodeError::TooFewDigits { found },
                _ => CodeError::TooManyDigits { found },
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
        fn never_panics_and_grouping_keeps_digits(input in "\\PC{0,64}") {
            let entry = CodeEntry::read(&input);
            prop_assert_eq!(entry.grouped().replace('-', ""), entry.digits());
            let _ = AuthCode::parse(&input);
        }
    }
}
