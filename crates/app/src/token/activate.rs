//! Activation: the code from the account page (scanned or typed), a PIN chosen twice, then the
//! fingerprint to compare with the one the account page shows.

use leptos::prelude::*;
use leptos::task::spawn_local;
use qrauth_core::login::describe_browser;
use qrauth_token::StoredActivation;
use qrauth_token::error::{MAX_PIN_LENGTH, MIN_PIN_LENGTH};

use super::{BackHome, PinInput, Screen, grouped_fingerprint, open_token, use_screen};

/// What this browser calls itself unless the person says otherwise: `Chrome 131 on Android`.
fn default_device_name() -> String {
    let agent = web_sys::window()
        .and_then(|w| w.navigator().user_agent().ok())
        .unwrap_or_default();
    describe_browser(&agent)
}

/// The activation form.
#[component]
pub fn Activate(
    /// The text of a scanned activation QR; without it the person types the code.
    scanned: Option<String>,
) -> impl IntoView {
    let screen = use_screen();
    let from_qr = scanned.is_some();
    let code = RwSignal::new(scanned.unwrap_or_default());
    let device = RwSignal::new(default_device_name());
    let pin = RwSignal::new(String::new());
    let pin_again = RwSignal::new(String::new());
    let (problem, set_problem) = signal(None::<String>);
    let (busy, set_busy) = signal(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        set_busy.set(true);
        set_problem.set(None);
        let (code, device, pin, pin_again) = (
            code.get_untracked(),
            device.get_untracked(),
            pin.get_untracked(),
            pin_again.get_untracked(),
        );
        spawn_local(async move {
            let made = async {
                open_token()
                    .await?
                    .activate(&code, &pin, &pin_again, device.trim())
                    .await
            }
            .await;
            set_busy.set(false);
            match made {
                Ok(activation) => screen.set(Screen::Activated(Box::new(activation))),
                Err(e) => set_problem.set(Some(e.to_string())),
            }
        });
    };
    let pin_hint =
        format!("{MIN_PIN_LENGTH} to {MAX_PIN_LENGTH} characters; digits are easiest on a phone.");
    view! {
        <section class="card" aria-labelledby="activate-title" data-testid="token-activate-screen">
            <h1 id="activate-title">"Activate this token"</h1>
            <form class="stack" on:submit=submit>
                {if from_qr {
                    view! {
                        <p data-testid="activation-scanned">
                            "Activation code read from the QR code. Its signature is checked \
                             before anything is sent."
                        </p>
                    }
                    .into_any()
                } else {
                    view! {
                        <label for="activation-code">"Activation code"</label>
                        <input
                            id="activation-code"
                            data-testid="activation-code-input"
                            autocapitalize="characters"
                            autocomplete="off"
                            spellcheck="false"
                            placeholder="XXXXX-XXXXX-XXXXX-XXXXX"
                            bind:value=code
                        />
                        <button
                            type="button"
                            class="link"
                            on:click=move |_| screen.set(Screen::Scan)
                        >
                            "Scan the activation QR code instead"
                        </button>
                    }
                    .into_any()
                }}
                <label for="device-name">"Name of this device"</label>
                <input id="device-name" data-testid="device-name" maxlength="64" bind:value=device/>
                <label for="new-pin">"Choose a PIN"</label>
                <PinInput id="new-pin" test_id="new-pin" value=pin autocomplete="new-password" described_by="pin-hint"/>
                <p class="hint" id="pin-hint">{pin_hint}</p>
                <label for="new-pin-again">"The same PIN again"</label>
                <PinInput id="new-pin-again" test_id="new-pin-again" value=pin_again autocomplete="new-password"/>
                <p class="error" role="alert" data-testid="activate-problem">
                    {move || problem.get().unwrap_or_default()}
                </p>
                <button type="submit" class="primary" data-testid="activate-submit" disabled=busy>
                    {move || if busy.get() { "Activating…" } else { "Activate" }}
                </button>
            </form>
            <BackHome label="Cancel"/>
        </section>
    }
}

/// Activated: the fingerprint, which the account page shows too.
#[component]
pub fn Activated(
    /// The new activation.
    activation: StoredActivation,
) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="activated-title" data-testid="token-activated">
            <h1 id="activated-title">"Token activated"</h1>
            <p>
                {format!(
                    "{} is now a token of {} for {}. Check that the account page shows the same fingerprint:",
                    activation.device_name, activation.service_name, activation.user,
                )}
            </p>
            <p class="fingerprint" data-testid="token-fingerprint">
                {grouped_fingerprint(&activation.fingerprint)}
            </p>
            <p class="hint">
                "If the digits differ, remove this activation: the code may have been used by someone else."
            </p>
            <BackHome label="Done"/>
        </section>
    }
}
