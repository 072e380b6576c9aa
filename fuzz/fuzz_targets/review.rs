//! Any text the token's scanner hands to the approval screen: the review a person reads
//! (fields in their everyday form, flags) is made without a panic, and shows what was signed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qrauth_core::operation::{Date, Decimal};
use qrauth_core::{Field, OfflinePayload};
use qrauth_token::{DisplayField, OfflineOperation};

fuzz_target!(|text: &str| {
    let Ok(payload) = OfflinePayload::parse(text) else {
        return;
    };
    let review = OfflineOperation::of(&payload);
    assert_eq!(review.operation_id, payload.operation_id);
    let shown = payload
        .operation_data
        .fields
        .iter()
        .filter(|field| !matches!(field, Field::Empty));
    assert_eq!(review.fields.len(), shown.clone().count());
    for (field, display) in shown.zip(&review.fields) {
        match (field, display) {
            // Grouping an IBAN for the eye may add spaces, never change a character.
            (Field::Iban { iban, .. }, DisplayField::Iban { value, .. }) => {
                assert_eq!(&value.replace(' ', ""), iban);
            }
            // What the screen shows reads back to what was signed, not to something near it.
            (
                Field::Amount { amount, currency },
                DisplayField::Amount {
                    amount: shown,
                    currency: shown_currency,
                    ..
                },
            ) => {
                assert_eq!(Decimal::parse(shown).as_ref(), Some(amount), "{shown}");
                assert_eq!(shown_currency, currency);
            }
            (Field::Date(date), DisplayField::Date { value }) => {
                let compact = value.replace('-', "");
                assert_eq!(
                    Date::parse_compact(&compact).as_ref(),
                    Some(date),
                    "{value}"
                );
            }
            _ => {}
        }
    }
});
