//! An offline operation as people read it, the same on the approval page and in the token:
//! title, message, and each field in its everyday form.

use leptos::prelude::*;
use qrauth_token::{DisplayField, OfflineOperation};

/// Title, message and fields of `operation`.
#[component]
pub fn OperationView(
    /// What to show.
    operation: OfflineOperation,
) -> impl IntoView {
    let rows = operation
        .fields
        .into_iter()
        .map(|field| {
            let (name, value, test_id) = match field {
                DisplayField::Amount { value, .. } => ("Amount", value, "detail-amount"),
                DisplayField::Iban { value, .. } => ("To account", value, "detail-account"),
                DisplayField::Account { value } => ("To account", value, "detail-account"),
                DisplayField::Date { value } => ("Date", value, "detail-date"),
                DisplayField::Reference { value } => ("Reference", value, "detail-reference"),
                DisplayField::Note { value } => ("Note", value, "detail-note"),
                DisplayField::Text { value } => ("Detail", value, "detail-text"),
            };
            view! {
                <dt>{name}</dt>
                <dd data-testid=test_id>{value}</dd>
            }
        })
        .collect_view();
    view! {
        <div class="payment" data-testid="payment-details">
            <p class="payment-title" data-testid="operation-title">{operation.title}</p>
            <p class="payment-message" data-testid="operation-message">{operation.message}</p>
            <dl class="details">{rows}</dl>
        </div>
    }
}
