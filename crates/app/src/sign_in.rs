//! The sign-in page: scan with the phone (online QR login), use a code instead (offline login),
//! or a password for people who have no token yet.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use leptos::prelude::*;
use leptos::task::{spawn_local, spawn_local_scoped_with_cancellation};
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};

use qrauth_core::wire::LoginCreated;
use qrauth_token::poll::PollEvent;
pub use qrauth_token::sign_in::LoginProgress;

use crate::api::{self, ApiError, LoginState};
use crate::clock::{PageVisibility, use_clock};
use crate::countdown::{ExpiringQr, RenewButton, Unavailable, renewable, renewable_from};
use crate::offline::OfflineCodeEntry;

/// Where the page goes once signed in.
pub const SIGNED_IN_PATH: &str = "/account";

/// The ways in, as the `?with=` of the page's address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WayIn {
    /// `/`: scan the QR with the phone.
    Phone,
    /// `/?with=code`: type the code from an offline QR.
    Code,
    /// `/?with=password`: the first factor of a new user.
    Password,
}

impl WayIn {
    const ALL: [WayIn; 3] = [WayIn::Phone, WayIn::Code, WayIn::Password];

    /// The word in `?with=` and in the link's `data-testid` (`way-code`).
    fn key(self) -> &'static str {
        match self {
            WayIn::Phone => "phone",
            WayIn::Code => "code",
            WayIn::Password => "password",
        }
    }

    fn from_query(with: Option<&str>) -> Self {
        Self::ALL
            .into_iter()
            .find(|way| Some(way.key()) == with)
            .unwrap_or(WayIn::Phone)
    }

    fn href(self) -> String {
        match self {
            WayIn::Phone => "/".into(),
            other => format!("/?with={}", other.key()),
        }
    }

    fn name(self) -> &'static str {
        match self {
            WayIn::Phone => "Scan with your phone",
            WayIn::Code => "Use a code instead",
            WayIn::Password => "Password",
        }
    }
}

/// The sign-in page.
#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_query_map();
    let way = Memo::new(move |_| WayIn::from_query(query.read().get_str("with")));
    view! {
        <section class="card sign-in" aria-labelledby="sign-in-title">
            <h1 id="sign-in-title">"Sign in"</h1>
            <nav class="ways" aria-label="Ways to sign in">
                {WayIn::ALL
                    .into_iter()
                    .map(|w| {
                        // Plain links (the router still handles them): the router's own
                        // would call every way "current", as they share the path `/`.
                        view! {
                            <a
                                href=w.href()
                                class="way"
                                aria-current=move || (way.get() == w).then_some("page")
                                data-testid=format!("way-{}", w.key())
                            >
                                {w.name()}
                            </a>
                        }
                    })
                    .collect_view()}
            </nav>
            {move || match way.get() {
                WayIn::Phone => view! { <ScanWithPhone/> }.into_any(),
                WayIn::Code => view! { <UseCode/> }.into_any(),
                WayIn::Password => view! { <PasswordSignIn/> }.into_any(),
            }}
        </section>
    }
}

/// An online login: the QR and its state, renewed on expiry.
#[component]
pub fn ScanWithPhone() -> impl IntoView {
    let (login, renew) = renewable_from(api::first_login(), api::create_login);
    let renewals = RwSignal::new(0);
    view! {
        {move || match login.get() {
            None => view! { <p class="login-status" data-testid="login-status">"Getting a code…"</p> }.into_any(),
            Some(Err(e)) => view! { <Unavailable error=e retry=renew/> }.into_any(),
            Some(Ok(login)) => view! { <LiveLogin login renewals renew/> }.into_any(),
        }}
    }
}

/// One login session on screen: its QR, countdown and state, polled until final.
#[component]
fn LiveLogin(login: LoginCreated, renewals: RwSignal<u32>, renew: Callback<()>) -> impl IntoView {
    let (progress, set_progress) = signal(LoginProgress::Waiting);
    let settled = Arc::new(AtomicBool::new(false));
    let navigate = use_navigate();
    let clock = use_clock();
    let expires_at_ms = clock.now_ms() + login.expires_in_ms as f64;
    let cleanup_clock = clock.clone();
    let polled = login.clone();
    let done = Arc::clone(&settled);
    spawn_local_scoped_with_cancellation(async move {
        let logins = api::logins();
        let followed = logins
            .follow(&polled, &clock, &PageVisibility::of_page(), move |event| {
                set_progress.set(match event {
                    PollEvent::Answer(status) => LoginProgress::of(status.state),
                    PollEvent::Reconnecting { .. } => LoginProgress::Reconnecting,
                })
            })
            .await;
        done.store(true, Ordering::Relaxed);
        match followed {
            Ok(last) if last.state == LoginState::Approved => {
                match logins.complete(&polled).await {
                    Ok(_) => navigate(SIGNED_IN_PATH, Default::default()),
                    Err(e) => set_progress.set(LoginProgress::Failed(e.to_string())),
                }
            }
            Ok(_) => {}
            Err(e) => set_progress.set(LoginProgress::Failed(e.to_string())),
        }
    });
    // A login left behind (another way in, another page) is cancelled, so that its QR is
    // worth nothing if someone scans it later. One replaced because it expired is worth nothing
    // already; the server would only answer that it is gone.
    let abandoned = login.clone();
    on_cleanup(move || {
        if !settled.load(Ordering::Relaxed) && cleanup_clock.now_ms() < expires_at_ms {
            spawn_local(async move {
                let _ = api::logins().cancel(&abandoned).await;
            });
        }
    });
    let qr_text = login.qr_text.clone();
    view! {
        <div class="scan" data-testid="scan">
            <ExpiringQr
                text=login.qr_text
                label="QR code to sign in: scan it with your phone's camera"
                expires_in_ms=login.expires_in_ms
                renewals
                renew
                ended=Signal::derive(move || progress.with(LoginProgress::ended))
            />
            <div class="scan-side">
                <p
                    class="login-status"
                    data-testid="login-status"
                    data-state=move || progress.with(LoginProgress::name)
                    role="status"
                >
                    {move || progress.with(LoginProgress::message)}
                </p>
                <Show when=move || progress.with(LoginProgress::ended)>
                    <RenewButton label="Start again" test_id="start-again" renewals renew/>
                </Show>
                <p class="same-device">
                    "Already on your phone? "
                    // `external`: the token page is another bundle, loaded as a document.
                    <a href=qr_text rel="external" data-testid="open-token">
                        "Open the token on this device"
                    </a>
                </p>
                <p class="hint">
                    "Can't scan? "
                    <A href=WayIn::Code.href()>"Use a code instead"</A>
                </p>
            </div>
        </div>
    }
}

/// Offline sign-in: a user name, then the login operation's QR and the typed code.
#[component]
pub fn UseCode() -> impl IntoView {
    let (user, set_user) = signal(None::<String>);
    view! {
        {move || match user.get() {
            None => view! { <UserNameForm chosen=Callback::new(move |name| set_user.set(Some(name)))/> }.into_any(),
            Some(name) => view! { <OfflineSignIn user=name/> }.into_any(),
        }}
    }
}

/// The user name input both forms share: what browsers and password managers fill in.
#[component]
fn UserNameInput(
    /// The input's id, for its label.
    id: &'static str,
    /// The name typed so far.
    value: RwSignal<String>,
) -> impl IntoView {
    view! {
        <label for=id>"User name"</label>
        <input
            id=id
            data-testid=id
            autocomplete="username"
            autocapitalize="off"
            spellcheck="false"
            bind:value=value
        />
    }
}

#[component]
fn UserNameForm(chosen: Callback<String>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let (tried, set_tried) = signal(false);
    let problem = move || {
        (tried.get() && name.with(|n| n.trim().is_empty())).then_some("Type your user name.")
    };
    view! {
        <form
            class="stack"
            on:submit=move |ev| {
                ev.prevent_default();
                set_tried.set(true);
                let name = name.get_untracked().trim().to_owned();
                if !name.is_empty() {
                    chosen.run(name);
                }
            }
        >
            <p>"Your token makes a code from a QR code, even without a network on the phone."</p>
            <UserNameInput id="offline-user" value=name/>
            <p class="error" role="alert">{problem}</p>
            <button type="submit" class="primary" data-testid="offline-continue">
                "Continue"
            </button>
        </form>
    }
}

#[component]
fn OfflineSignIn(user: String) -> impl IntoView {
    let for_user = user.clone();
    let (operation, renew) = renewable(move || {
        let user = for_user.clone();
        async move { api::create_login_operation(&user).await }
    });
    let renewals = RwSignal::new(0);
    let navigate = use_navigate();
    let approved = Callback::new(move |_| navigate(SIGNED_IN_PATH, Default::default()));
    view! {
        <p class="for-user">"Signing in as " <strong data-testid="offline-for">{user}</strong> " · " <A href=WayIn::Code.href() attr:data-testid="offline-change-user">"Not you?"</A></p>
        {move || match operation.get() {
            None => view! { <p>"Getting a code…"</p> }.into_any(),
            Some(Err(e)) => view! { <Unavailable error=e retry=renew/> }.into_any(),
            Some(Ok(operation)) => view! {
                <OfflineCodeEntry
                    operation
                    qr_label="QR code to sign in: scan it with the qrauth token"
                    action="Sign in"
                    renewals
                    renew
                    approved
                />
            }
            .into_any(),
        }}
    }
}

/// The password sign-in.
#[component]
pub fn PasswordSignIn() -> impl IntoView {
    let user = RwSignal::new(String::new());
    let (password, set_password) = signal(String::new());
    let (busy, set_busy) = signal(false);
    let (problem, set_problem) = signal(None::<String>);
    let navigate = use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (user, password) = (user.get_untracked(), password.get_untracked());
        if user.trim().is_empty() || password.is_empty() {
            set_problem.set(Some("Type your user name and password.".into()));
            return;
        }
        set_busy.set(true);
        set_problem.set(None);
        let navigate = navigate.clone();
        spawn_local(async move {
            let answer = api::sign_in(user.trim(), &password).await;
            set_busy.set(false);
            match answer {
                Ok(_) => navigate(SIGNED_IN_PATH, Default::default()),
                Err(ApiError::Server { code, .. }) if code == "invalid_credentials" => {
                    set_problem.set(Some("The user name or password is not right.".into()))
                }
                Err(ApiError::Server { code, .. }) if code == "rate_limited" => set_problem.set(
                    Some("Too many attempts: wait a minute and try again.".into()),
                ),
                Err(e) => set_problem.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <form class="stack" on:submit=submit>
            <p>"For the first sign-in, before you have a token."</p>
            <UserNameInput id="password-user" value=user/>
            <label for="password">"Password"</label>
            <input
                id="password"
                data-testid="password"
                type="password"
                autocomplete="current-password"
                prop:value=password
                on:input:target=move |ev| set_password.set(ev.target().value())
            />
            <p class="error" role="alert" data-testid="password-problem">{problem}</p>
            <button type="submit" class="primary" data-testid="password-submit" disabled=busy>
                {move || if busy.get() { "Signing in…" } else { "Sign in" }}
            </button>
        </form>
    }
}
