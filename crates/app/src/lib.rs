//! The qrauth single-page app. Components live here so that wasm-bindgen-test can mount them;
//! `main.rs` only mounts [`App`].

pub mod api;

use leptos::prelude::*;
use qrauth_token::{CodeEntry, QrOptions, render_qr_svg};

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <main class="page">
            <header class="masthead">
                <h1>"qrauth"</h1>
                <ServerHealth/>
            </header>
            <section class="card" aria-labelledby="page-qr-title">
                <h2 id="page-qr-title">"This page as a QR code"</h2>
                <PageQrCode/>
            </section>
            <section class="card" aria-labelledby="code-title">
                <h2 id="code-title">"Type a code"</h2>
                <CodeField/>
            </section>
        </main>
    }
}

/// The server's answer to the health check, or why there is none.
#[component]
pub fn ServerHealth() -> impl IntoView {
    let health = LocalResource::new(api::health);
    view! {
        <p class="health" data-testid="health" role="status">
            {move || match health.get() {
                None => "Checking the server…".to_string(),
                Some(Ok(health)) if health.status == "ok" => {
                    format!("Server ok · qrauth {}", health.version)
                }
                Some(Ok(health)) => {
                    format!("Server {} · qrauth {}", health.status, health.version)
                }
                Some(Err(e)) => format!("Server unavailable: {e}"),
            }}
        </p>
    }
}

/// A QR code of the page's own address, drawn in the page.
#[component]
pub fn PageQrCode() -> impl IntoView {
    let url = window().location().href().unwrap_or_default();
    let options = QrOptions {
        label: Some(format!("QR code of this page's address, {url}")),
        ..QrOptions::default()
    };
    let qr = match render_qr_svg(&url, &options) {
        Ok(svg) => view! { <div class="qr" data-testid="page-qr" inner_html=svg></div> }.into_any(),
        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
    };
    view! {
        {qr}
        <p class="qr-caption" data-testid="page-url">{url}</p>
    }
}

/// One field for a 16-digit offline code, read as the user types or pastes it.
#[component]
pub fn CodeField() -> impl IntoView {
    let (input, set_input) = signal(String::new());
    let entry = Memo::new(move |_| CodeEntry::read(&input.get()));
    let canonical = move || entry.with(|e| e.code().ok().map(|code| code.canonical()));
    let status = move || {
        entry.with(|e| match e.code() {
            Ok(code) => format!("Complete: {}", code.display()),
            Err(error) => error.to_string(),
        })
    };
    view! {
        <form class="code-form" on:submit=|ev| ev.prevent_default()>
            <label for="offline-code">"Code from your token"</label>
            <input
                id="offline-code"
                data-testid="code-input"
                type="text"
                inputmode="numeric"
                autocomplete="one-time-code"
                autocapitalize="off"
                spellcheck="false"
                placeholder="1234-5678-9012-3456"
                aria-describedby="code-status"
                prop:value=input
                on:input:target=move |ev| set_input.set(ev.target().value())
            />
            <p id="code-status" class="code-status" data-testid="code-status" aria-live="polite">
                {status}
            </p>
            <p class="code-normalized">
                {move || match canonical() {
                    Some(code) => {
                        view! {
                            "Sent to the server as "
                            <output for="offline-code" data-testid="code-normalized">
                                {code}
                            </output>
                        }
                            .into_any()
                    }
                    None => "Nothing to send until the code is complete.".into_any(),
                }}
            </p>
        </form>
    }
}
