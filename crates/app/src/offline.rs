//! An offline operation on the page: its QR for the token, its countdown, and the field for the
//! code the token computes. Offline sign-in and payment approval both use it.

use leptos::prelude::*;
use leptos::task::spawn_local;

use qrauth_core::wire::{NewOperation, Verdict};

use crate::api::{self, ApiError};
use crate::code_field::{CodeField, CodeVerdict};
use crate::countdown::ExpiringQr;

/// What a verification answer means for the person who typed the code. A refused sign-in
/// (`login`) says only that the code is not right: the server tells nobody who asks by a name
/// whether that user has a token.
pub fn verdict_of(answer: Result<Verdict, ApiError>, login: bool) -> Result<Verdict, CodeVerdict> {
    match answer {
        Ok(verification) if verification.valid => Ok(verification),
        Ok(_) if login => Err(CodeVerdict::NotRight),
        Ok(verification) if verification.blocked() => Err(CodeVerdict::Blocked),
        Ok(verification) if verification.activation_status.is_none() => Err(CodeVerdict::NoToken),
        Ok(verification) => Err(CodeVerdict::Wrong {
            remaining: verification.remaining_attempts,
        }),
        Err(ApiError::Server { code, .. }) if code == "operation_expired" => Err(
            CodeVerdict::Failed("The code has expired: get a new code and try again.".into()),
        ),
        Err(ApiError::Server { code, .. }) if code == "operation_already_approved" => Err(
            CodeVerdict::Failed("This was approved already: a code is accepted once.".into()),
        ),
        Err(ApiError::Network(_)) => Err(CodeVerdict::Failed(
            "The server cannot be reached: check your connection and send the code again.".into(),
        )),
        Err(error) => Err(CodeVerdict::Failed(error.to_string())),
    }
}

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
    let (busy, set_busy) = signal(false);
    let operation_id = operation.operation_id.clone();
    let login = operation.kind == "login";
    let submit = Callback::new(move |code: String| {
        set_busy.set(true);
        set_verdict.set(None);
        let operation_id = operation_id.clone();
        spawn_local(async move {
            let answer = verdict_of(api::verify_operation(&operation_id, &code).await, login);
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
                text=operation.payload
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
