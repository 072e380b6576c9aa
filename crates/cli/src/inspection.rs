//! An offline payload as JSON, for `qrauth payload inspect`.

use qrauth_core::operation::Field;
use qrauth_core::{KeyType, OfflinePayload, base64};
use serde_json::{Value, json};

/// Everything the payload says, with values typed as a page would show them.
pub fn payload_json(payload: &OfflinePayload) -> Value {
    let data = &payload.operation_data;
    json!({
        "operationId": payload.operation_id,
        "title": payload.title,
        "message": payload.message,
        "operationData": {
            "source": data.source,
            "version": data.version.to_string(),
            "template": data.template,
            "fields": data.fields.iter().map(field_json).collect::<Vec<_>>(),
        },
        "flags": {
            "biometry": payload.flags.biometry,
            "flipButtons": payload.flags.flip_buttons,
            "fraudWarning": payload.flags.fraud_warning,
            "blockOnCall": payload.flags.block_on_call,
        },
        "totp": payload.totp,
        "extraLines": payload.extra_lines,
        "nonce": base64::encode(&payload.nonce),
        "keyType": match payload.key_type {
            KeyType::Master => "master",
            KeyType::Personalized => "personalized",
        },
        "body": payload.body(),
    })
}

fn field_json(field: &Field) -> Value {
    match field {
        Field::Empty => json!({"type": "empty"}),
        Field::Amount { amount, currency } => {
            json!({"type": "amount", "amount": amount.to_string(), "currency": currency})
        }
        Field::Iban { iban, bic } => json!({
            "type": "iban", "iban": iban, "bic": bic, "grouped": Field::grouped_iban(iban),
        }),
        Field::Account(text) => json!({"type": "account", "text": text}),
        Field::Date(date) => json!({"type": "date", "date": date.to_string()}),
        Field::Reference(text) => json!({"type": "reference", "text": text}),
        Field::Note(text) => json!({"type": "note", "text": text}),
        Field::Text(text) => json!({"type": "text", "text": text}),
        Field::Other { kind, text } => {
            json!({"type": "unknown", "kind": kind.to_string(), "text": text})
        }
    }
}
