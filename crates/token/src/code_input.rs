//! A code field reformatted as the person types, so that every page shows typed codes the same way.

use qrauth_core::CodeEntry;
use qrauth_core::code::CodeFormat;

/// What a code field should show after an edit: the digits in groups of four with dashes, and
/// where the caret goes so that typing in the middle of the code keeps its place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeInput {
    /// The digits (at most 16) in groups of four with dashes, `1234-5678-9`.
    pub value: String,
    /// The caret's position in `value`, in characters.
    pub caret: usize,
    /// Digits still missing for a complete code.
    pub missing: usize,
    /// True when all 16 digits are there.
    pub complete: bool,
}

impl CodeInput {
    /// Reformats `value`, whose caret is at `caret` characters (the end when `None`). Anything
    /// that is not a digit is dropped: a foreign character is reported by [`CodeEntry`], not kept
    /// in the field.
    pub fn format(value: &str, caret: Option<usize>) -> Self {
        let expected = CodeFormat::OFFLINE.digits();
        let caret = caret.unwrap_or_else(|| value.chars().count());
        let digits_before = CodeEntry::read(&value.chars().take(caret).collect::<String>())
            .digits()
            .len();
        let digits: String = CodeEntry::read(value)
            .digits()
            .chars()
            .take(expected)
            .collect();
        let kept = digits_before.min(digits.len());
        // Every full group before the caret adds one dash; at the end of a full group the caret
        // goes past the dash that follows it, where the next digit will land.
        let position = kept + kept.saturating_sub(1) / 4;
        let caret = if kept > 0 && kept.is_multiple_of(4) && kept < digits.len() {
            position + 1
        } else {
            position
        };
        CodeInput {
            value: CodeEntry::read(&digits).grouped(),
            caret,
            missing: expected - digits.len(),
            complete: digits.len() == expected,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typing_pasting_and_editing_in_the_middle_keep_the_caret_in_place() {
        let cases = [
            ("1234", None, "1234", 4, 12),
            ("12345", None, "1234-5", 6, 11),
            ("1234 5678-9012 3456", None, "1234-5678-9012-3456", 19, 0),
            (
                "1234 5678 9012 3456 789",
                None,
                "1234-5678-9012-3456",
                19,
                0,
            ),
            ("12x34", Some(3), "1234", 2, 12),
            ("1234-95678", Some(6), "1234-9567-8", 6, 7),
            ("1234-5678", Some(4), "1234-5678", 5, 8),
            ("", None, "", 0, 16),
        ];
        for (typed, caret, value, at, missing) in cases {
            let input = CodeInput::format(typed, caret);
            assert_eq!(input.value, value, "{typed:?}");
            assert_eq!(input.caret, at, "{typed:?} caret");
            assert_eq!(input.missing, missing, "{typed:?} missing");
            assert_eq!(input.complete, missing == 0, "{typed:?} complete");
        }
    }
}
