//! Any edit of the code field, with the caret anywhere the browser reports it: the field shows
//! only digits in groups of four, the caret stays inside it, and it counts the missing digits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qrauth_core::CodeEntry;
use qrauth_token::CodeInput;

fuzz_target!(|edit: (&str, Option<u16>)| {
    let (value, caret) = edit;
    let input = CodeInput::format(value, caret.map(usize::from));
    let digits: String = input.value.chars().filter(|c| *c != '-').collect();
    assert!(digits.len() <= 16 && digits.bytes().all(|b| b.is_ascii_digit()));
    assert!(CodeEntry::read(value).digits().starts_with(&digits));
    // Groups of four with one dash between them; only the last may be shorter.
    let groups: Vec<&str> = input.value.split('-').collect();
    let (last, full) = groups.split_last().expect("split gives one part at least");
    assert!(
        full.iter().all(|group| group.len() == 4),
        "{:?}",
        input.value
    );
    assert!(
        last.len() <= 4 && (!last.is_empty() || digits.is_empty()),
        "{:?}",
        input.value
    );
    assert!(input.caret <= input.value.chars().count());
    assert_eq!(input.missing, 16 - digits.len());
    assert_eq!(input.complete, input.missing == 0);
    // Formatting what the field shows changes nothing: typing goes on from there.
    assert_eq!(CodeInput::format(&input.value, None).value, input.value);
});
