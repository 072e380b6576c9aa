//! An offline operation in the token: checked against the activations' keys, shown as a person
//! reads it with what its flags ask for, approved with the PIN, and the code shown to type.

use leptos::prelude::*;
use leptos::task::spawn_local;
use qrauth_token::OfflineOperation;

use super::{BackHome, PinInput, Screen, open_token, use_screen};
use crate::operation::OperationView;

/// A scanned payload: refused with the reason, or reviewed and approved.
#[component]
pub fn OfflineScreen(
    /// The payload as scanned.
    payload: String,
) -> impl IntoView {
    let checked = LocalResource::new({
        let payload = payload.clone();
        move || {
            let payload = payload.clone();
            async move { open_token().await?.review_scanned(&payload).await }
        }
    });
    let screen = use_screen();
    let (code, set_code) = signal(None::<ShownCode>);
    let (busy, set_busy) = signal(false);
    let (problem, set_problem) = signal(None::<String>);
    move || {
        if let Some(shown) = code.get() {
            return view! { <CodeView shown/> }.into_any();
        }
        match checked.get() {
            None => {
                view! { <p class="card" aria-busy="true">"Checking the QR code…"</p> }.into_any()
            }
            Some(Err(e)) => view! { <PayloadRefused reason=e.to_string()/> }.into_any(),
            Some(Ok((activation, operation))) => {
                let scanned = payload.clone();
                let payload = payload.clone();
                let approve = Callback::new(move |pin: String| {
                    let (id, payload) = (activation.activation_id.clone(), payload.clone());
                    set_busy.set(true);
                    set_problem.set(None);
                    spawn_local(async move {
                        let made =
                            async { open_token().await?.offline_code(&id, &payload, &pin).await }
                                .await;
                        set_busy.set(false);
                        match made {
                            Ok(made) => set_code.set(Some(ShownCode {
                                code: made.code.display(),
                                warning: made.standing.warning,
                            })),
                            Err(e) => set_problem.set(Some(e.to_string())),
                        }
                    });
                });
                let reject = Callback::new(move |()| {
                    screen.set(Screen::home_with("Rejected. No code was made."));
                });
                view! {
                    <OfflineReview
                        operation
                        service=activation.service_name.clone()
                        scanned
                        approve
                        reject
                        busy
                        problem
                    />
                }
                .into_any()
            }
        }
    }
}

/// A scanned payload the token will not approve, and why.
#[component]
pub fn PayloadRefused(
    /// Why: malformed, not signed by the service, no activation.
    reason: String,
) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="refused-title" data-testid="payload-refused">
            <h1 id="refused-title">"Not approved"</h1>
            <p class="error" role="alert" data-testid="refusal">{reason}</p>
            <p>"No code was made."</p>
            <BackHome/>
        </section>
    }
}

/// The review of an operation whose signature the token has checked: what it is, the warnings
/// its flags ask for, the PIN, and Approve and Reject in the order the flags say.
#[component]
pub fn OfflineReview(
    /// What to show.
    operation: OfflineOperation,
    /// The service that signed it, for the warnings.
    #[prop(into)]
    service: String,
    /// The text as scanned, for whoever wants to see it.
    #[prop(into)]
    scanned: String,
    /// Makes the code with the PIN.
    approve: Callback<String>,
    /// Rejects: no code is made.
    reject: Callback<()>,
    /// A code is being made.
    #[prop(into)]
    busy: Signal<bool>,
    /// Why the last approval failed.
    #[prop(into)]
    problem: Signal<Option<String>>,
) -> impl IntoView {
    let flags = operation.flags;
    // F: the warning stands in front of approval until the person says they started it.
    let past_fraud_warning = RwSignal::new(!flags.fraud_warning);
    // C: approval waits until the person says no one is on the phone with them.
    let not_on_call = RwSignal::new(!flags.call_warning);
    let pin = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if not_on_call.get_untracked() && !busy.get_untracked() {
            approve.run(pin.get_untracked());
        }
    };
    let decision = move || {
        let approve_button = view! {
            <button
                type="submit"
                class="primary"
                data-testid="approve"
                disabled=move || busy.get() || !not_on_call.get()
            >
                {move || if busy.get() { "Making the code…" } else { "Approve" }}
            </button>
        };
        let reject_button = view! {
            <button type="button" data-testid="reject" on:click=move |_| reject.run(())>
                "Reject"
            </button>
        };
        // X: Reject stands where Approve usually does, so a habit cannot approve.
        if flags.swap_buttons {
            view! { {reject_button}{approve_button} }.into_any()
        } else {
            view! { {approve_button}{reject_button} }.into_any()
        }
    };
    let fraud_service = service.clone();
    view! {
        <section class="card" aria-labelledby="review-title" data-testid="offline-review">
            <h1 id="review-title">"Check before you approve"</h1>
            <OperationView operation/>
            <details class="scanned">
                <summary>"Scanned text"</summary>
                <pre data-testid="scanned-text">{scanned}</pre>
            </details>
            <Show
                when=move || past_fraud_warning.get()
                fallback=move || view! {
                    <div class="warning-box" role="alert" data-testid="fraud-warning">
                        <p><strong>"Warning: this may be fraud."</strong></p>
                        <p>
                            {format!(
                                "{fraud_service} has reasons to think someone else may have started this. \
                                 Approve only what you started yourself. If someone asked you to scan this \
                                 code by phone, message or e-mail, reject it."
                            )}
                        </p>
                        <div class="actions">
                            <button type="button" class="primary" data-testid="fraud-reject" on:click=move |_| reject.run(())>
                                "Reject"
                            </button>
                            <button type="button" data-testid="fraud-continue" on:click=move |_| past_fraud_warning.set(true)>
                                "I started this myself"
                            </button>
                        </div>
                    </div>
                }
            >
                {flags.call_warning.then(|| view! {
                    <div class="warning-box" role="alert" data-testid="call-warning">
                        <p>
                            <strong>"Do not approve during a phone call."</strong>
                            {format!(
                                " Nobody from {service} will ever ask you to approve something on the phone. \
                                 If a caller asked you to, hang up and reject it."
                            )}
                        </p>
                        <label class="check">
                            <input type="checkbox" data-testid="not-on-call" bind:checked=not_on_call/>
                            "I am not on a phone call"
                        </label>
                    </div>
                })}
                <form class="stack" data-testid="approve-form" on:submit=submit>
                    <label for="review-pin">"PIN"</label>
                    <PinInput id="review-pin" test_id="pin" value=pin/>
                    <p class="hint">
                        "A wrong PIN gives a wrong code: the page you type it into will say so."
                    </p>
                    <p class="error" role="alert" data-testid="review-problem">
                        {move || problem.get().unwrap_or_default()}
                    </p>
                    <div class="actions decision" data-testid="decision">{decision}</div>
                </form>
            </Show>
        </section>
    }
}

/// A code to type into the page, and the warning that came with it.
#[derive(Clone, Debug, PartialEq)]
pub struct ShownCode {
    /// `1234-5678-9012-3456`.
    pub code: String,
    /// Codes the server has not seen are piling up.
    pub warning: Option<String>,
}

/// The code, large and in groups of four, with a copy button.
#[component]
pub fn CodeView(
    /// The code and its warning.
    shown: ShownCode,
) -> impl IntoView {
    let (copied, set_copied) = signal(None::<&'static str>);
    let text = shown.code.clone();
    let copy = move |_| {
        let Some(clipboard) = web_sys::window().map(|w| w.navigator().clipboard()) else {
            set_copied.set(Some("Copying is not possible here: type the code."));
            return;
        };
        let promise = clipboard.write_text(&text);
        spawn_local(async move {
            set_copied.set(Some(
                match wasm_bindgen_futures::JsFuture::from(promise).await {
                    Ok(_) => "Copied.",
                    Err(_) => "The browser did not allow copying: type the code.",
                },
            ));
        });
    };
    let groups = shown
        .code
        .split('-')
        .map(|group| view! { <span class="code-group">{group.to_owned()}</span> })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="code-title" data-testid="token-code">
            <h1 id="code-title">"Your code"</h1>
            <p>"Type it into the page that showed the QR code."</p>
            <p class="token-code" data-testid="code" aria-label=format!("Code {}", shown.code)>
                {groups}
            </p>
            <div class="actions">
                <button type="button" class="primary" data-testid="copy-code" on:click=copy>
                    "Copy"
                </button>
                <BackHome label="Done"/>
            </div>
            <p role="status" data-testid="copy-status">{move || copied.get()}</p>
            {shown.warning.map(|warning| view! {
                <p class="warning" role="alert" data-testid="counter-warning">{warning}</p>
            })}
        </section>
    }
}
