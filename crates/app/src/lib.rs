//! The qrauth single-page app: sign-in (online QR, offline code, password), the account page
//! with token activation, payment approval, and the browser token itself (`/token`). Components live here so that
//! wasm-bindgen-test can mount them; `main.rs` only mounts [`App`].

pub mod account;
pub mod api;
pub mod approval;
pub mod clock;
pub mod code_field;
pub mod countdown;
pub mod offline;
pub mod operation;
pub mod poll;
pub mod qr;
pub mod sign_in;
pub mod token;

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

/// The whole app, with its routes.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <header class="masthead">
                <A href="/" attr:class="brand">"qrauth"</A>
            </header>
            <main class="page" id="main">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=sign_in::SignInPage/>
                    <Route path=path!("/account") view=account::AccountPage/>
                    <Route path=path!("/approve") view=approval::ApprovalPage/>
                    <Route path=path!("/token") view=token::TokenPage/>
                </Routes>
            </main>
            <footer class="footer">
                <ServerHealth/>
            </footer>
        </Router>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <section class="card" data-testid="not-found">
            <h1>"Page not found"</h1>
            <p><A href="/">"Go to sign-in"</A></p>
        </section>
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
                Some(Err(api::ApiError::Network(_))) => {
                    "Server unavailable: the server cannot be reached".to_string()
                }
                Some(Err(e)) => format!("Server unavailable: {e}"),
            }}
        </p>
    }
}
