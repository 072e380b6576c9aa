//! The token page, `/token`: the software token a person uses on a phone or in a second
//! browser. Home lists the activations on this device; from there the person scans (camera,
//! picture, pasted text) a sign-in link, a payment to approve or an activation code. A
//! `#scan=` link, which the phone's camera opens from a login QR, goes straight to that login.
//!
//! The screens are one route: what was scanned (a payload, a link) never goes into the
//! address bar or the history.

pub mod activate;
pub mod home;
pub mod login;
pub mod review;
pub mod scan;
pub mod scanner;

use leptos::prelude::*;
use qrauth_token::browser::DEFAULT_DATABASE;
use qrauth_token::browser::take_scan_link;
use qrauth_token::{SoftwareToken, StoredActivation, TokenError};

use scan::Scanned;
use scanner::Scanner;

/// One screen of the token.
#[derive(Clone, Debug, PartialEq)]
pub enum Screen {
    /// The activations on this device, and what was just done.
    Home {
        /// What the last screen ended with: "Login approved…".
        notice: Option<String>,
    },
    /// Camera, picture or paste.
    Scan,
    /// Activating with a typed code, or with the text of a scanned activation QR.
    Activate {
        /// The activation QR's text, when one was scanned.
        scanned: Option<String>,
    },
    /// Activated: the fingerprint to compare with the account page.
    Activated(Box<StoredActivation>),
    /// An offline operation to review, as scanned (its exact text).
    Offline(String),
    /// A sign-in link or scan code to attach to.
    Login(String),
}

impl Screen {
    /// Home with nothing to say.
    pub fn home() -> Self {
        Screen::Home { notice: None }
    }

    /// Home, saying how the last screen ended.
    pub fn home_with(notice: impl Into<String>) -> Self {
        Screen::Home {
            notice: Some(notice.into()),
        }
    }

    /// The screen for what was scanned.
    pub fn of(scanned: Scanned) -> Self {
        match scanned {
            Scanned::Login(link) => Screen::Login(link),
            Scanned::Offline(payload) => Screen::Offline(payload),
            Scanned::Activation(text) => Screen::Activate {
                scanned: Some(text),
            },
        }
    }
}

/// Where the token is; screens move it with [`use_screen`].
#[derive(Clone, Copy)]
pub struct TokenScreen(pub RwSignal<Screen>);

/// The screen signal of the token page.
pub fn use_screen() -> RwSignal<Screen> {
    use_context::<TokenScreen>()
        .map(|s| s.0)
        .unwrap_or_else(|| RwSignal::new(Screen::home()))
}

/// The token whose activations live in this browser, talking to this page's server.
pub async fn open_token() -> Result<SoftwareToken, TokenError> {
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    SoftwareToken::open(&origin, DEFAULT_DATABASE).await
}

/// `ms` since the epoch as the person's browser writes a date and time.
pub fn local_time(ms: f64) -> String {
    js_sys::Date::new(&ms.into())
        .to_locale_string("default", &js_sys::Object::new())
        .into()
}

/// The token page.
#[component]
pub fn TokenPage() -> impl IntoView {
    let screen = RwSignal::new(take_scan_link().map_or_else(Screen::home, Screen::Login));
    provide_context(TokenScreen(screen));
    // A sign-in link opened while the token is already open changes only the fragment.
    let listener = window_event_listener(leptos::ev::hashchange, move |_| {
        if let Some(link) = take_scan_link() {
            screen.set(Screen::Login(link));
        }
    });
    on_cleanup(move || listener.remove());
    move || match screen.get() {
        Screen::Home { notice } => view! { <home::Home notice/> }.into_any(),
        Screen::Scan => view! { <ScanScreen/> }.into_any(),
        Screen::Activate { scanned } => view! { <activate::Activate scanned/> }.into_any(),
        Screen::Activated(activation) => {
            view! { <activate::Activated activation=*activation/> }.into_any()
        }
        Screen::Offline(payload) => view! { <review::OfflineScreen payload/> }.into_any(),
        Screen::Login(link) => view! { <login::LoginScreen link/> }.into_any(),
    }
}

#[component]
fn ScanScreen() -> impl IntoView {
    let screen = use_screen();
    view! {
        <section class="card" aria-labelledby="scan-title" data-testid="token-scan-screen">
            <h1 id="scan-title">"Scan a QR code"</h1>
            <p>"A sign-in code, a payment to approve or an activation code."</p>
            <Scanner scanned=Callback::new(move |what| screen.set(Screen::of(what)))/>
            <BackHome/>
        </section>
    }
}

/// "Back" to the home screen, changing nothing.
#[component]
pub fn BackHome(
    /// The button's words.
    #[prop(default = "Back")]
    label: &'static str,
) -> impl IntoView {
    let screen = use_screen();
    view! {
        <button type="button" class="back" data-testid="token-back" on:click=move |_| screen.set(Screen::home())>
            {label}
        </button>
    }
}

/// A PIN field: hidden as typed, digits on a phone's keyboard, never filled in by the browser
/// unless it is a new PIN (`autocomplete="new-password"`).
#[component]
pub fn PinInput(
    /// The element id, for its label.
    id: &'static str,
    /// Its `data-testid`.
    test_id: &'static str,
    /// The PIN typed.
    value: RwSignal<String>,
    /// `off`, or `new-password` where a PIN is chosen.
    #[prop(default = "off")]
    autocomplete: &'static str,
    /// The id of a hint that describes the field.
    #[prop(optional)]
    described_by: Option<&'static str>,
) -> impl IntoView {
    view! {
        <input
            id=id
            type="password"
            inputmode="numeric"
            autocomplete=autocomplete
            data-testid=test_id
            aria-describedby=described_by
            bind:value=value
        />
    }
}

/// The first four and last four digits of a fingerprint, as both sides show it: `1234 5678`.
pub fn grouped_fingerprint(fingerprint: &str) -> String {
    match fingerprint.split_at_checked(fingerprint.len() / 2) {
        Some((head, tail)) => format!("{head} {tail}"),
        None => fingerprint.to_owned(),
    }
}
