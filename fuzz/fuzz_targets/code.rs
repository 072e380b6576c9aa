//! Anything a person types or pastes into a code field: never panics, and a code that parses
//! reads back the same from its canonical and display forms.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qrauth_core::code::{AuthCode, CodeEntry};

fuzz_target!(|input: &str| {
    let entry = CodeEntry::read(input);
    let _ = entry.grouped();
    if let Ok(code) = entry.code() {
        assert_eq!(AuthCode::parse(&code.canonical()).as_ref(), Ok(code));
        assert_eq!(AuthCode::parse(&code.display()).as_ref(), Ok(code));
    }
});
