//! The token's home: the activations on this device, where each stands on the server, and the
//! warning when codes the server has not seen pile up.

use leptos::prelude::*;
use leptos::task::spawn_local;
use qrauth_core::ActivationStatus;
use qrauth_core::wire::TokenStanding;
use qrauth_token::{StoredActivation, TokenError};

use super::{Screen, grouped_fingerprint, open_token, use_screen};

/// The home screen.
#[component]
pub fn Home(
    /// How the last screen ended.
    notice: Option<String>,
) -> impl IntoView {
    let screen = use_screen();
    let reloads = RwSignal::new(0u32);
    let activations = LocalResource::new(move || {
        reloads.track();
        async move { open_token().await?.activations().await }
    });
    view! {
        <section class="card" aria-labelledby="token-title" data-testid="token-home">
            <h1 id="token-title">"qrauth token"</h1>
            {notice.map(|notice| view! {
                <p class="notice" role="status" data-testid="token-notice">{notice}</p>
            })}
            <div class="actions">
                <button
                    type="button"
                    class="primary"
                    data-testid="token-scan"
                    on:click=move |_| screen.set(Screen::Scan)
                >
                    "Scan a QR code"
                </button>
                <button
                    type="button"
                    data-testid="token-activate"
                    on:click=move |_| screen.set(Screen::Activate { scanned: None })
                >
                    "Activate"
                </button>
            </div>
        </section>
        <section class="card" aria-labelledby="activations-title">
            <h2 id="activations-title">"On this device"</h2>
            {move || match activations.get() {
                None => view! { <p aria-busy="true">"Opening the token…"</p> }.into_any(),
                Some(Err(e)) => view! {
                    <p class="error" role="alert" data-testid="token-storage-error">{e.to_string()}</p>
                }
                .into_any(),
                Some(Ok(list)) if list.is_empty() => view! {
                    <p data-testid="no-activations">
                        "No activation yet. Sign in to your account on a computer, choose \
                         \"Activate a token\", and scan the code it shows."
                    </p>
                }
                .into_any(),
                Some(Ok(list)) => view! {
                    <ul class="activations">
                        {list
                            .into_iter()
                            .map(|activation| view! { <ActivationItem activation reloads/> })
                            .collect_view()}
                    </ul>
                }
                .into_any(),
            }}
        </section>
    }
}

/// One activation: whose it is, its fingerprint, where it stands, and removal.
#[component]
fn ActivationItem(activation: StoredActivation, reloads: RwSignal<u32>) -> impl IntoView {
    let id = activation.activation_id.clone();
    // Asking the server also tells the token which codes it has seen (`refresh` stores it), so
    // the warning is current after the answer.
    let checked = LocalResource::new({
        let (id, activation) = (id.clone(), activation.clone());
        move || {
            let (id, activation) = (id.clone(), activation.clone());
            async move {
                let status = open_token().await?.refresh(&id).await?;
                let warning = activation
                    .with_server_counter(status.counter)
                    .standing()
                    .warning;
                Ok::<_, TokenError>((status, warning))
            }
        }
    });
    let stored_warning = activation.standing().warning;
    let status = move || {
        checked
            .get()
            .map(|answer| status_text(&answer.map(|(status, _)| status)))
    };
    let warning = move || match checked.get() {
        Some(Ok((_, warning))) => warning,
        _ => stored_warning.clone(),
    };
    let (removing, set_removing) = signal(None::<String>);
    let remove = move |_| {
        let asked = web_sys::window()
            .and_then(|w| {
                w.confirm_with_message(
                    "Remove this activation? This device will no longer sign in or approve.",
                )
                .ok()
            })
            .unwrap_or(false);
        if !asked {
            return;
        }
        let id = id.clone();
        set_removing.set(Some("Removing…".into()));
        spawn_local(async move {
            match async { open_token().await?.remove(&id).await }.await {
                Ok(_) => reloads.update(|n| *n += 1),
                Err(e) => set_removing.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <li class="activation-item" data-testid="activation">
            <p class="activation-service">
                <strong>{activation.service_name.clone()}</strong>
                " · "
                <span data-testid="activation-user">{activation.user.clone()}</span>
            </p>
            <p class="hint">{activation.device_name.clone()}</p>
            <p>
                "Fingerprint "
                <span class="fingerprint-inline" data-testid="activation-fingerprint">
                    {grouped_fingerprint(&activation.fingerprint)}
                </span>
            </p>
            <p role="status" data-testid="activation-state">
                {status}
            </p>
            {move || warning().map(|warning| view! {
                <p class="warning" role="alert" data-testid="counter-warning">{warning}</p>
            })}
            <button type="button" data-testid="activation-remove" on:click=remove>
                "Remove"
            </button>
            <p class="error" role="alert">{move || removing.get()}</p>
        </li>
    }
}

/// Where an activation stands, in words.
pub fn status_text(answer: &Result<TokenStanding, TokenError>) -> String {
    match answer {
        Ok(standing) => match standing.status {
            ActivationStatus::Active => match standing.remaining_attempts {
                1 => "Active. One wrong code more blocks it.".to_owned(),
                n => format!("Active. {n} wrong codes in a row block it."),
            },
            ActivationStatus::Blocked => {
                "Blocked after too many wrong codes: remove it and activate again.".to_owned()
            }
            ActivationStatus::Removed => {
                "Removed on the server: this device can no longer use it.".to_owned()
            }
            ActivationStatus::Created => {
                format!("The server says: {}.", standing.status.as_str())
            }
        },
        Err(TokenError::Network(_)) => "Not checked: the server cannot be reached.".to_owned(),
        Err(e) => format!("Not checked: {e}"),
    }
}
