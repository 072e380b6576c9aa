//! A code field reformatted as the person types, and what it says about the code, so that every
//! page (the qrauth app's, `bindCodeInput` and `<qrauth-code-input>` of the npm package) shows
//! typed codes and the server's verdicts on them the same way.

use alloc::string::String;
use qrauth_core::code::CodeFormat;
use qrauth_core::text::join;
#[cfg(feature = "std")]
use qrauth_core::wire::Verdict;
use qrauth_core::{CodeEntry, CodeError, ShownCharacter};

#[cfg(feature = "std")]
use crate::TokenError;

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

/// A code field after an edit, as every page shows it: what the field now holds and where its
/// caret goes, the code to send once all digits are there, and the status line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldEdit {
    /// The digits grouped, the caret (in characters, which are ASCII here, so also in the
    /// UTF-16 units a field's `selectionStart` counts), what is missing.
    pub input: CodeInput,
    /// The canonical code, `12345678-90123456`, once complete.
    pub code: Option<String>,
    /// The status line about what was typed, which names a character it left out.
    pub status: String,
}

impl FieldEdit {
    /// The field holding `typed` with its caret at `selection_start` UTF-16 units, as a
    /// browser counts it (the end when `None`).
    pub fn of(typed: &str, selection_start: Option<u32>) -> Self {
        let caret = selection_start.map(|units| caret_in_characters(typed, units));
        let input = CodeInput::format(typed, caret);
        let code = CodeEntry::read(&input.value)
            .code()
            .ok()
            .map(|c| c.canonical());
        FieldEdit {
            input,
            code,
            status: entry_status(typed),
        }
    }
}

/// Reformats a code field in place after the person edited it, the caret kept where they type;
/// returns what it now holds, and the status line of what was typed (which names a character it
/// left out).
pub fn reformat_field(field: &web_sys::HtmlInputElement) -> (CodeInput, String) {
    let edit = FieldEdit::of(&field.value(), field.selection_start().ok().flatten());
    field.set_value(&edit.input.value);
    let at = u32::try_from(edit.input.caret).unwrap_or(u32::MAX);
    let _ = field.set_selection_range(at, at);
    (edit.input, edit.status)
}

/// The caret of a field's `selectionStart` (which counts UTF-16 units) in characters, as
/// [`CodeInput::format`] takes it.
pub fn caret_in_characters(value: &str, utf16_units: u32) -> usize {
    let units = utf16_units as usize;
    value
        .chars()
        .scan(0, |seen, c| {
            *seen += c.len_utf16();
            Some(*seen)
        })
        .take_while(|&seen| seen <= units)
        .count()
}

/// What the status line under a code field says about the digits typed so far.
pub fn entry_status(typed: &str) -> String {
    let entry = CodeEntry::read(typed);
    match entry.code() {
        Ok(_) => "All 16 digits are there.".into(),
        Err(CodeError::Empty) => "Type the 16 digits your token shows.".into(),
        Err(CodeError::ForeignCharacter { character, .. }) => {
            ShownCharacter(*character).text() + " is not a digit and was left out."
        }
        Err(CodeError::TooManyDigits { .. }) => {
            "A code has 16 digits; the rest was left out.".into()
        }
        Err(_) if entry.missing() == 1 => "1 digit missing.".into(),
        Err(_) => join(&[entry.missing().into(), " digits missing.".into()]),
    }
}

/// What the server said about a code that was not accepted.
#[cfg(feature = "std")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodeVerdict {
    /// The code was wrong; this many attempts are left before the token is blocked.
    Wrong {
        /// Failed attempts left.
        remaining: u32,
    },
    /// Too many wrong codes: the token is blocked and no code will be accepted.
    Blocked,
    /// The user has no token that could have made the code.
    NoToken,
    /// The code is not right, and nothing more is said (a sign-in by name).
    NotRight,
    /// The code could not be checked (network, expiry...), in words for the person.
    Failed(String),
}

#[cfg(feature = "std")]
impl CodeVerdict {
    /// What a verification answer means for the person who typed the code: the answer when the
    /// code was right, the verdict otherwise. A refused sign-in (`login`) says only that the
    /// code is not right: the server tells nobody who asks by a name whether that user has a
    /// token.
    pub fn of(answer: Result<Verdict, TokenError>, login: bool) -> Result<Verdict, CodeVerdict> {
        match answer {
            Ok(verification) if verification.valid => Ok(verification),
            Ok(_) if login => Err(CodeVerdict::NotRight),
            Ok(verification) if verification.blocked() => Err(CodeVerdict::Blocked),
            Ok(verification) if verification.activation_status.is_none() => {
                Err(CodeVerdict::NoToken)
            }
            Ok(verification) => Err(CodeVerdict::Wrong {
                remaining: verification.remaining_attempts,
            }),
            Err(TokenError::Server { code, .. }) if code == "operation_expired" => Err(
                CodeVerdict::Failed("The code has expired: get a new code and try again.".into()),
            ),
            Err(TokenError::Server { code, .. }) if code == "operation_already_approved" => Err(
                CodeVerdict::Failed("This was approved already: a code is accepted once.".into()),
            ),
            Err(TokenError::Network(_)) => Err(CodeVerdict::Failed(
                "The server cannot be reached: check your connection and send the code again."
                    .into(),
            )),
            Err(error) => Err(CodeVerdict::Failed(error.to_string())),
        }
    }

    /// The verdict in words for the person.
    pub fn message(&self) -> String {
        match self {
            CodeVerdict::Wrong { remaining: 1 } => {
                "That code is not right. 1 attempt left before your token is blocked.".into()
            }
            CodeVerdict::Wrong { remaining } => {
                format!("That code is not right. {remaining} attempts left.")
            }
            CodeVerdict::Blocked => "Too many wrong codes: your token is blocked. \
                 Activate a new token, or ask for this one to be unblocked."
                .into(),
            CodeVerdict::NoToken => "That code is not right: there is no active token for \
                 this account. Activate a token first."
                .into(),
            CodeVerdict::NotRight => "That code is not right.".into(),
            CodeVerdict::Failed(message) => message.clone(),
        }
    }

    /// The stable code of a refusal that the server answered (the npm package's error
    /// `code`): `code_wrong`, `token_blocked`, `no_token`, `code_not_right`; `code_failed` for a
    /// failure, whose own code is better.
    pub fn code(&self) -> &'static str {
        match self {
            CodeVerdict::Wrong { .. } => "code_wrong",
            CodeVerdict::Blocked => "token_blocked",
            CodeVerdict::NoToken => "no_token",
            CodeVerdict::NotRight => "code_not_right",
            CodeVerdict::Failed(_) => "code_failed",
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

    #[test]
    fn the_caret_counts_characters_where_the_field_counts_utf16_units() {
        assert_eq!(caret_in_characters("12🔐34", 2), 2);
        assert_eq!(caret_in_characters("12🔐34", 4), 3);
        assert_eq!(caret_in_characters("12🔐34", 99), 5);
    }

    #[test]
    fn an_edit_gives_the_field_its_caret_code_and_status() {
        // The caret after the emoji is 4 UTF-16 units in, 3 characters: before the "3".
        let edit = FieldEdit::of("12🔐34", Some(4));
        assert_eq!(edit.input.value, "1234");
        assert_eq!(edit.input.caret, 2);
        assert_eq!(edit.code, None);
        assert_eq!(edit.status, "“🔐” is not a digit and was left out.");

        let edit = FieldEdit::of("1234 5678 9012 3456", None);
        assert_eq!(edit.input.value, "1234-5678-9012-3456");
        assert_eq!(edit.code.as_deref(), Some("12345678-90123456"));
        assert_eq!(edit.status, "All 16 digits are there.");
    }

    #[test]
    fn the_status_line_says_what_is_missing_or_does_not_belong() {
        assert_eq!(entry_status(""), "Type the 16 digits your token shows.");
        assert_eq!(entry_status("1234-5678-9012-345"), "1 digit missing.");
        assert_eq!(entry_status("1234 5678 9"), "7 digits missing.");
        assert_eq!(
            entry_status("1234 5678 9012 3456"),
            "All 16 digits are there."
        );
    }
}
