//! An offline operation on the page: its QR for the token, its countdown, and the field for the
//! code the token computes. Offline sign-in and payment approval both use it.

use leptos::prelude::*;
use leptos::task::spawn_local;

use qrauth_core::wire::{NewOperation, Verdict};

use crate::api;
use crate::code_field::{CodeField, CodeVerdict};
use crate::countdown::ExpiringQr;

/// The QR of `operation` with its countdown, then the code field; `approved` gets the
/// server's answer to the right code.
#[component]
pub fn OfflineCodeEntry(
    /// The operation to approve.
    operation: NewOperation,
    /// The QR's accessible name.
    #[prop(into)]
    qr_label: String,
    /// The button's words.
    #[prop(into)]
    action: String,
    /// Automatic renewals in a row (see [`crate::countdown::ExpiringCode`]).
    renewals: RwSignal<u32>,
    /// Makes a new operation.
    renew: Callback<()>,
    /// Gets the answer to the right code.
    approved: Callback<Verdict>,
) -> impl IntoView {
    let (verdict, set_verdict) = signal(None::<CodeVerdict>);
    // With the proximity check the payload changes each step: the QR follows it while shown.
    let payload = RwSignal::new(operation.payload.clone());
    if let Some(changes_in_ms) = operation.payload_changes_in_ms {
        let id = operation.operation_id.clone();
        // Once the page no longer shows this entry its signal is gone, and the loop stops.
        spawn_local(async move {
            api::follow_payload(&id, changes_in_ms, |next| payload.try_set(next).is_none()).await;
        });
    }
    let (busy, set_busy) = signal(false);
    let operation_id = operation.operation_id.clone();
    let login = operation.kind == "login";
    let submit = Callback::new(move |code: String| {
        set_busy.set(true);
        set_verdict.set(None);
        let operation_id = operation_id.clone();
        spawn_local(async move {
            let answer = CodeVerdict::of(api::verify_operation(&operation_id, &code).await, login);
            set_busy.set(false);
            match answer {
                Ok(verification) => approved.run(verification),
                Err(verdict) => set_verdict.set(Some(verdict)),
            }
        });
    });
    view! {
        <div class="offline-code">
            <ExpiringQr
                text=payload
                label=qr_label
                expires_in_ms=operation.expires_in_ms
                renewals
                renew
            />
            <div class="code-column">
                <ol class="steps">
                    <li>"Open the qrauth token and scan this code."</li>
                    <li>"Check what the token shows, then enter your PIN."</li>
                    <li>"Type the 16 digits it gives you here."</li>
                </ol>
                <CodeField
                    label="Code from your token"
                    action=action
                    submit=submit
                    verdict=verdict
                    busy=busy
                />
            </div>
        </div>
    }
}
