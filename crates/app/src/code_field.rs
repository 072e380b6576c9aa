//! The one field where a person types the 16-digit code from the token.

use leptos::prelude::*;
use qrauth_token::CodeEntry;
pub use qrauth_token::CodeVerdict;
use qrauth_token::code_input::{entry_status, reformat_field};
use web_sys::HtmlInputElement;

/// The code field: takes typing, paste, spaces and dashes; shows the digits in groups of four
/// and how many are missing; sends the normalized `12345678-90123456` to `submit`; shows what
/// the server said in `verdict`, and stays closed once the token is blocked.
#[component]
pub fn CodeField(
    /// The label above the field.
    #[prop(into)]
    label: String,
    /// The button's words, such as "Approve payment".
    #[prop(into)]
    action: String,
    /// Gets the normalized code.
    submit: Callback<String>,
    /// What the server said about the last code.
    #[prop(into)]
    verdict: Signal<Option<CodeVerdict>>,
    /// True while a code is being checked.
    #[prop(into)]
    busy: Signal<bool>,
) -> impl IntoView {
    let input_ref = NodeRef::<leptos::html::Input>::new();
    // The field's value after reformatting, and the status of what was typed before it.
    let (value, set_value) = signal(String::new());
    let (status, set_status) = signal(entry_status(""));
    let (tried, set_tried) = signal(false);
    let blocked = move || verdict.get() == Some(CodeVerdict::Blocked);
    let complete = move || CodeEntry::read(&value.get()).code().is_ok();

    let on_input = move |ev: leptos::ev::Event| {
        let input: HtmlInputElement = event_target(&ev);
        let (formatted, typed_status) = reformat_field(&input);
        set_status.set(typed_status);
        set_tried.set(false);
        set_value.set(formatted.value);
    };

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        set_tried.set(true);
        if busy.get_untracked() || blocked() {
            return;
        }
        match CodeEntry::read(&value.get_untracked()).code() {
            Ok(code) => submit.run(code.canonical()),
            Err(_) => {
                if let Some(input) = input_ref.get_untracked() {
                    let _ = input.focus();
                }
            }
        }
    };

    // Until the person tries to send, the status line is enough; after that, what is wrong.
    let message = move || {
        if blocked() {
            return verdict.get().map(|v| v.message());
        }
        if !tried.get() {
            return None;
        }
        if !complete() {
            return Some(status.get());
        }
        verdict.get().map(|v| v.message())
    };

    view! {
        <form class="code-form" on:submit=on_submit novalidate>
            <label for="offline-code">{label}</label>
            <input
                id="offline-code"
                node_ref=input_ref
                data-testid="code-input"
                type="text"
                inputmode="numeric"
                autocomplete="one-time-code"
                autocapitalize="off"
                spellcheck="false"
                placeholder="1234-5678-9012-3456"
                maxlength="40"
                aria-describedby="code-status code-message"
                aria-invalid=move || message().is_some().to_string()
                disabled=blocked
                prop:value=value
                on:input=on_input
            />
            <p id="code-status" class="code-status" data-testid="code-status" aria-live="polite">
                {move || status.get()}
            </p>
            <p
                id="code-message"
                class="code-message error"
                data-testid="code-message"
                role="alert"
            >
                {message}
            </p>
            <button
                type="submit"
                class="primary"
                data-testid="code-submit"
                disabled=move || busy.get() || blocked()
            >
                {move || if busy.get() { "Checking…".to_string() } else { action.clone() }}
            </button>
        </form>
    }
}
