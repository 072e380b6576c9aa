//! A scanned offline payload as a person reads it before approving: title and message
//! unescaped, each field in its everyday form, and what the flags ask of the screen.

use qrauth_core::payload::KeyType;
use qrauth_core::{Field, OfflinePayload};
use serde::Serialize;

/// The operation in an offline QR code, ready to show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify), tsify(missing_as_null))]
#[serde(rename_all = "camelCase")]
pub struct OfflineOperation {
    /// The server's operation id.
    pub operation_id: String,
    /// The title, unescaped.
    pub title: String,
    /// The message, unescaped.
    pub message: String,
    /// The operation data's template, such as `A1` for a payment (spec §5.2).
    pub template: String,
    /// The fields of the operation data, in order (empty slots left out).
    pub fields: Vec<DisplayField>,
    /// What the flags ask of the approval screen.
    pub flags: DisplayFlags,
    /// `0`: signed with the application's master key; `1`: with this activation's server key.
    #[cfg_attr(feature = "js", tsify(type = "0 | 1"))]
    pub key_type: u8,
}

/// One field of an operation, as a person reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify), tsify(missing_as_null))]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum DisplayField {
    /// An amount with its currency: `value` is `1250.00 EUR`.
    Amount {
        /// The amount as the server wrote it, `1250.00`.
        amount: String,
        /// ISO 4217 letters.
        currency: String,
        /// Amount and currency together.
        value: String,
    },
    /// An IBAN: `value` is in groups of four.
    Iban {
        /// The IBAN as one string.
        iban: String,
        /// The BIC, when given.
        bic: Option<String>,
        /// `CZ65 0800 0000 1920 0014 5399`.
        value: String,
    },
    /// An account number in any other format.
    Account {
        /// The account as written.
        value: String,
    },
    /// A date, ISO 8601.
    Date {
        /// `2026-11-22`.
        value: String,
    },
    /// A payment reference.
    Reference {
        /// The reference.
        value: String,
    },
    /// A note to the payment.
    Note {
        /// The note.
        value: String,
    },
    /// Text to show as it is (also for field types this version does not know).
    Text {
        /// The text.
        value: String,
    },
}

/// The flags of a payload, named for what the screen must do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct DisplayFlags {
    /// `B`: the code may be made with biometry instead of the PIN.
    pub biometry_allowed: bool,
    /// `X`: put Reject where Approve usually is, and the other way round.
    pub swap_buttons: bool,
    /// `F`: show a fraud warning before approval.
    pub fraud_warning: bool,
    /// `C`: warn against approving during a phone call.
    pub call_warning: bool,
}

impl OfflineOperation {
    /// What `payload` shows. This does not check the signature: see
    /// [`StoredActivation::check_payload`](crate::StoredActivation::check_payload).
    pub fn of(payload: &OfflinePayload) -> Self {
        let data = &payload.operation_data;
        OfflineOperation {
            operation_id: payload.operation_id.clone(),
            title: payload.title.clone(),
            message: payload.message.clone(),
            template: format!("{}{}", data.version, data.template),
            fields: data.fields.iter().filter_map(DisplayField::of).collect(),
            flags: DisplayFlags {
                biometry_allowed: payload.flags.biometry,
                swap_buttons: payload.flags.flip_buttons,
                fraud_warning: payload.flags.fraud_warning,
                call_warning: payload.flags.block_on_call,
            },
            key_type: match payload.key_type {
                KeyType::Master => 0,
                KeyType::Personalized => 1,
            },
        }
    }
}

impl DisplayField {
    fn of(field: &Field) -> Option<Self> {
        Some(match field {
            Field::Empty => return None,
            Field::Amount { amount, currency } => DisplayField::Amount {
                amount: amount.to_string(),
                currency: currency.clone(),
                value: format!("{amount} {currency}"),
            },
            Field::Iban { iban, bic } => DisplayField::Iban {
                iban: iban.clone(),
                bic: bic.clone(),
                value: Field::grouped_iban(iban),
            },
            Field::Account(value) => DisplayField::Account {
                value: value.clone(),
            },
            Field::Date(date) => DisplayField::Date {
                value: date.to_string(),
            },
            Field::Reference(value) => DisplayField::Reference {
                value: value.clone(),
            },
            Field::Note(value) => DisplayField::Note {
                value: value.clone(),
            },
            Field::Text(value) | Field::Other { text: value, .. } => DisplayField::Text {
                value: value.clone(),
            },
        })
    }
}
