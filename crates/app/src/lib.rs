//! The qrauth single-page app: the account page with token activation, payment approval, and
//! the browser token itself (`/token`).
//!
//! It is two bundles, one per page family, each built by trunk from its own HTML file, so that
//! a page loads only its own code: `src/bin/account.rs` mounts [`AccountApp`] (`account.html`),
//! `src/bin/token.rs` [`TokenApp`] (`token.html`). The sign-in page (`/`, `sign-in.js`) is the
//! third, and not Leptos: the npm package's `<qrauth-sign-in>` over the same Rust, in this
//! app's frame, so that the page every visitor loads first is the lightest. Links between them
//! load a document; the user sees one site. Components live here so that wasm-bindgen-test can
//! mount them.

pub mod account;
pub mod api;
pub mod approval;
pub mod clock;
pub mod code_field;
pub mod countdown;
pub mod offline;
pub mod operation;
pub mod qr;
pub mod token;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

/// The pages of a signed-in person, one bundle: `/account` (token activation) and `/approve`.
#[component]
pub fn AccountApp() -> impl IntoView {
    remember_document_path();
    view! {
        <Router>
            <Frame>
                <Routes fallback=LoadDocument>
                    <Route path=path!("/account") view=account::AccountPage/>
                    <Route path=path!("/approve") view=approval::ApprovalPage/>
                </Routes>
            </Frame>
        </Router>
    }
}

/// The token page, `/token`: the only bundle with what only the token needs (camera and
/// picture decoding, keys, IndexedDB, the PIN). It has no router: the server sends this bundle
/// for `/token` alone, and nothing on the page moves within it (its links load documents), so
/// `leptos_router` would be 43 KB gzipped of this wasm for nothing.
#[component]
pub fn TokenApp() -> impl IntoView {
    view! {
        <Frame>
            <token::TokenPage/>
        </Frame>
    }
}

/// What every page has around it: the masthead and the server's health.
#[component]
fn Frame(children: Children) -> impl IntoView {
    view! {
        <header class="masthead">
            // `external`: the sign-in page is another bundle, loaded as a document.
            <a href="/" class="brand" rel="external">"qrauth"</a>
        </header>
        <main class="page" id="main">{children()}</main>
        <footer class="footer">
            <ServerHealth/>
        </footer>
    }
}

/// A path this bundle has no page for. When the router got there without loading a document
/// (a link, `navigate`), it is another bundle's page: the browser loads the address for real,
/// and the server answers with the bundle that has it (`crates/server/src/http/web.rs`). When this
/// document was itself loaded for this address, the server knows no page there.
#[component]
fn LoadDocument() -> impl IntoView {
    // The router's address: it renders the new route before it writes the address bar.
    let location = leptos_router::hooks::use_location();
    let path = location.pathname.get_untracked();
    if DOCUMENT_PATH.get() == Some(&path) {
        return view! { <NotFound/> }.into_any();
    }
    let search = location.search.get_untracked();
    let query = if search.is_empty() {
        String::new()
    } else {
        format!("?{search}")
    };
    let address = format!("{path}{query}{}", location.hash.get_untracked());
    // After the router has written this address into the history (it does so once the view is
    // built), so that `replace` swaps exactly that entry for the new document: loading at once
    // raced with the router's own entry, and the back button could skip a page.
    set_timeout(
        move || {
            if let Some(window) = web_sys::window() {
                let _ = window.location().replace(&address);
            }
        },
        std::time::Duration::ZERO,
    );
    view! { <p class="card" aria-busy="true">"Loading…"</p> }.into_any()
}

/// The path this document was loaded for, before the router moved anywhere.
static DOCUMENT_PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn remember_document_path() {
    if let Some(path) = web_sys::window().and_then(|w| w.location().pathname().ok()) {
        let _ = DOCUMENT_PATH.set(path);
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <section class="card" data-testid="not-found">
            <h1>"Page not found"</h1>
            <p><a href="/" rel="external">"Go to sign-in"</a></p>
        </section>
    }
}

/// The server's answer to the health check, or why there is none.
#[component]
pub fn ServerHealth() -> impl IntoView {
    let health = LocalResource::new(|| qrauth_token::health::describe(""));
    view! {
        <p class="health" data-testid="health" role="status">
            {move || health.get().unwrap_or_else(|| qrauth_token::health::CHECKING.into())}
        </p>
    }
}
