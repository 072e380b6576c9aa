//! The page's side of a QR sign-in (`docs/api.md`, "Online login"): create the login, follow it
//! until a phone approves or denies it, cancel or complete it. The one implementation of these
//! rules, used by the qrauth app's sign-in page and by the npm package's `startLogin`.
//!
//! Answers are read by hand rather than with serde, so that a sign-in page's wasm carries no
//! deserializer: the login's fields are few and their rules simple.

use qrauth_core::frame::{FRAME_MS, LoginQr, step_at};
use qrauth_core::wire::{LoginCompleted, LoginCreated, LoginView};
use qrauth_core::{Denial, LoginState};
use wasm_bindgen::JsValue;

use crate::TokenError;
use crate::browser::http::field::{named, optional_text, text, whole_number as number};
use crate::browser::http::{self, Call, text_object};
use crate::clock::{Clock, PageVisibility};
use crate::poll::{PollEvent, PollPlan, poll_until_final};

/// How many times in a row an expired login is replaced without asking: after that the page
/// waits for a person to ask for a new code, so that a tab left open does not make logins for
/// ever.
pub const AUTOMATIC_RENEWALS: u32 = 3;

/// Where the API is and what a request carries: the server's origin (empty for the page's own)
/// and, for the calls of one login, the signal that ends them when the login is left.
#[derive(Clone, Copy)]
pub struct LoginApi<'a> {
    server: &'a str,
    abort: Option<&'a web_sys::AbortSignal>,
}

impl<'a> LoginApi<'a> {
    /// The API at `server`: an origin such as `https://login.example.com`, or `""` for the
    /// page's own.
    pub fn new(server: &'a str) -> Self {
        LoginApi {
            server,
            abort: None,
        }
    }

    /// Every request made through this value ends when `signal` is aborted.
    pub fn abort_with(self, signal: &'a web_sys::AbortSignal) -> Self {
        LoginApi {
            abort: Some(signal),
            ..self
        }
    }

    fn call(&self, method: &'a str, path: &str) -> Call<'a> {
        let call = Call::new(self.server, method, path);
        match self.abort {
            Some(signal) => call.abort_with(signal),
            None => call,
        }
    }

    /// Starts a login: `POST /logins`.
    pub async fn create(&self) -> Result<LoginCreated, TokenError> {
        read_created(&self.call("POST", "/logins").json_value().await?)
    }

    /// The login of a `POST /logins` that the page sent before its wasm ran (a `fetch` Promise
    /// of the `Response`), read as [`LoginApi::create`] reads its own.
    pub async fn created_by(&self, request: js_sys::Promise) -> Result<LoginCreated, TokenError> {
        read_created(&http::answered(request).await?)
    }

    /// Signs in with a password, the first factor of a person who has no token yet:
    /// `POST /session`. The server sets the session cookie; the answer is who signed in.
    pub async fn sign_in_with_password(
        &self,
        user: &str,
        password: &str,
    ) -> Result<String, TokenError> {
        let body = text_object(&[("user", user), ("password", password)]);
        let answer = self
            .call("POST", "/session")
            .with_cookies()
            .body(&body)
            .json_value()
            .await?;
        text(&answer, "user")
    }

    /// Where `login` stands. With `wait`, the server answers as soon as the state differs from
    /// `known`, or after `wait` seconds. A login past its life answers `410 login_expired`,
    /// which is read as the state `EXPIRED`: for the page they are the same.
    pub async fn poll(
        &self,
        login: &LoginCreated,
        known: LoginState,
        wait: Option<u32>,
    ) -> Result<LoginView, TokenError> {
        let path = match wait {
            Some(seconds) => format!(
                "/logins/{}?wait={seconds}&state={}",
                login.login_id,
                known.as_str()
            ),
            None => format!("/logins/{}", login.login_id),
        };
        let answer = self
            .call("GET", &path)
            .bearer(&login.poll_secret)
            .json_value()
            .await;
        match answer {
            Ok(view) => read_view(&view),
            Err(TokenError::Server { status: 410, .. }) => Ok(LoginView {
                login_id: login.login_id.clone(),
                state: LoginState::Expired,
                expires_at: login.expires_at,
                expires_in_ms: 0,
                number: None,
                denial: None,
            }),
            Err(e) => Err(e),
        }
    }

    /// Gives `login` its lifetime again from now, for a person who needs more time (WCAG
    /// 2.2.1), as often as the server allows (then `login_extension_limit`).
    pub async fn extend(&self, login: &LoginCreated) -> Result<LoginView, TokenError> {
        let answer = self
            .call("POST", &format!("/logins/{}/extend", login.login_id))
            .bearer(&login.poll_secret)
            .json_value()
            .await?;
        read_view(&answer)
    }

    /// Cancels a login nobody needs any more, so that its QR is worth nothing if scanned later.
    pub async fn cancel(&self, login: &LoginCreated) -> Result<LoginView, TokenError> {
        let answer = self
            .call("DELETE", &format!("/logins/{}", login.login_id))
            .bearer(&login.poll_secret)
            .json_value()
            .await?;
        read_view(&answer)
    }

    /// Completes an approved login, once: the server sets the session cookie (same origin, or
    /// an origin it allows with credentials) and answers who signed in, with an identity token.
    pub async fn complete(&self, login: &LoginCreated) -> Result<LoginCompleted, TokenError> {
        let answer = self
            .call("POST", &format!("/logins/{}/complete", login.login_id))
            .bearer(&login.poll_secret)
            .with_cookies()
            .json_value()
            .await?;
        Ok(LoginCompleted {
            login_id: text(&answer, "loginId")?,
            user: text(&answer, "user")?,
            factors: text(&answer, "factors")?,
            id_token: text(&answer, "idToken")?,
        })
    }

    /// Follows `login` until it reaches a state that ends it for the page (approved, denied,
    /// expired, cancelled, completed) and returns that state; every answer and every retried
    /// failure goes to `report`. Long-polls when the server offers it, backs off while it cannot
    /// be reached, pauses while the page is hidden. Drop the future to stop.
    pub async fn follow(
        &self,
        login: &LoginCreated,
        clock: &Clock,
        visibility: &PageVisibility,
        report: impl Fn(PollEvent<LoginView>),
    ) -> Result<LoginView, TokenError> {
        poll_until_final(
            clock,
            visibility,
            poll_plan(login),
            |last: Option<&LoginView>, wait| {
                let known = last.map_or(LoginState::Pending, |view| view.state);
                async move { self.poll(login, known, wait).await }
            },
            |view| !view.state.is_open(),
            report,
        )
        .await
    }
}

/// The animated QR of a login as its page shows it (`qrauth_core::frame`): a new frame every
/// second, counted on the page's monotonic clock from the moment the server's answer arrived,
/// so that the page's wall clock, right or wrong, plays no part.
#[derive(Clone, Debug)]
pub struct LoginFrames {
    qr: LoginQr,
    /// When the login arrived, on the monotonic clock.
    since_ms: f64,
}

impl LoginFrames {
    /// The frames of `login`, which arrived at `now_ms` on the monotonic clock.
    pub fn new(login: &LoginCreated, now_ms: f64) -> Result<Self, TokenError> {
        let qr = LoginQr::new(&login.qr_text, &login.qr_secret).ok_or_else(|| {
            TokenError::BadAnswer("the login's qrText and qrSecret are not an animated QR".into())
        })?;
        Ok(LoginFrames {
            qr,
            since_ms: now_ms,
        })
    }

    fn elapsed_ms(&self, now_ms: f64) -> u64 {
        (now_ms - self.since_ms).max(0.0) as u64
    }

    /// What the QR shows at `now_ms`.
    pub fn frame_at(&self, now_ms: f64) -> String {
        self.qr.frame(step_at(self.elapsed_ms(now_ms)))
    }

    /// Milliseconds from `now_ms` until the next frame.
    pub fn next_in_ms(&self, now_ms: f64) -> f64 {
        (FRAME_MS - self.elapsed_ms(now_ms) % FRAME_MS) as f64
    }
}

/// What a sign-in page says about an online login: the qrauth app's sign-in page and the npm
/// package's `<qrauth-sign-in>` say the same words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoginProgress {
    /// Nobody has scanned the code yet.
    Waiting,
    /// A phone scanned it; with number matching, the number the person types there.
    Scanned(Option<String>),
    /// Approved on the phone; the page completes the login.
    SigningIn,
    /// Denied on the phone.
    Denied,
    /// Denied because the number typed on the phone was not the one the page showed.
    WrongNumber,
    /// The code expired.
    Expired,
    /// The login was cancelled.
    Canceled,
    /// The server cannot be reached; the poller keeps trying.
    Reconnecting,
    /// The login could not go on (completing it failed, the server refused): why, in words.
    Failed(String),
}

impl LoginProgress {
    /// What the page says about a login in `state`, with the news of the same answer: the
    /// number to type on the phone, why it was denied.
    pub fn of_news(state: LoginState, number: Option<String>, denial: Option<Denial>) -> Self {
        match (state, number, denial) {
            (LoginState::Scanned, Some(number), _) => LoginProgress::Scanned(Some(number)),
            (LoginState::Denied, _, Some(Denial::WrongNumber)) => LoginProgress::WrongNumber,
            (state, _, _) => Self::of(state),
        }
    }

    /// What the page says while the login is in `state`.
    pub fn of(state: LoginState) -> Self {
        match state {
            LoginState::Pending => LoginProgress::Waiting,
            LoginState::Scanned => LoginProgress::Scanned(None),
            LoginState::Approved | LoginState::Completed => LoginProgress::SigningIn,
            LoginState::Denied => LoginProgress::Denied,
            LoginState::Expired => LoginProgress::Expired,
            LoginState::Canceled => LoginProgress::Canceled,
        }
    }

    /// The message for each state.
    pub fn message(&self) -> String {
        match self {
            LoginProgress::Waiting => "Scan the code with your phone's camera.".into(),
            LoginProgress::Scanned(None) => "Check your phone: approve the sign-in there.".into(),
            LoginProgress::Scanned(Some(number)) => {
                format!("Check your phone: type {number} there, then approve.")
            }
            LoginProgress::SigningIn => "Approved. Signing you in…".into(),
            LoginProgress::Denied => "The sign-in was denied on the phone.".into(),
            LoginProgress::WrongNumber => "The number typed on the phone was not the one shown \
                                           here, so the sign-in was refused."
                .into(),
            LoginProgress::Expired => "The code has expired.".into(),
            LoginProgress::Canceled => "The sign-in was cancelled.".into(),
            LoginProgress::Reconnecting => {
                "Reconnecting… the server cannot be reached right now.".into()
            }
            LoginProgress::Failed(why) => format!("The sign-in could not be finished: {why}"),
        }
    }

    /// Its name, for styles and tests (`data-state="scanned"`).
    pub fn name(&self) -> &'static str {
        match self {
            LoginProgress::Waiting => "waiting",
            LoginProgress::Scanned(_) => "scanned",
            LoginProgress::SigningIn => "signing-in",
            LoginProgress::Denied | LoginProgress::WrongNumber => "denied",
            LoginProgress::Expired => "expired",
            LoginProgress::Canceled => "canceled",
            LoginProgress::Reconnecting => "reconnecting",
            LoginProgress::Failed(_) => "failed",
        }
    }

    /// True when the person has to start again.
    pub fn ended(&self) -> bool {
        matches!(
            self,
            LoginProgress::Denied
                | LoginProgress::WrongNumber
                | LoginProgress::Canceled
                | LoginProgress::Failed(_)
        )
    }
}

/// Why a page has no code to show, in words for the person: from the failure's `code` (as
/// [`TokenError::code`] names it) and its message.
pub fn no_code_message(code: &str, message: &str) -> String {
    if code == "network" {
        "No code: the server cannot be reached.".into()
    } else {
        format!("No code: {message}")
    }
}

/// What a password sign-in page says when the server did not sign the person in.
pub fn password_problem(e: &TokenError) -> String {
    match e.code() {
        "invalid_credentials" => "The user name or password is not right.".into(),
        "rate_limited" => "Too many attempts: wait a minute and try again.".into(),
        _ => e.to_string(),
    }
}

/// What a page says before a password is sent when a field is empty.
pub const PASSWORD_FIELDS_EMPTY: &str = "Type your user name and password.";

/// How to poll `login`: at its interval, long-polling as long as the server allows (a server
/// that sets no long-poll time is polled at the interval).
pub fn poll_plan(login: &LoginCreated) -> PollPlan {
    PollPlan {
        interval_ms: login.poll_interval_ms as f64,
        long_poll_seconds: u32::try_from(login.long_poll_max_seconds)
            .ok()
            .filter(|&seconds| seconds > 0),
    }
}

/// `POST /logins`' answer.
pub fn read_created(answer: &JsValue) -> Result<LoginCreated, TokenError> {
    Ok(LoginCreated {
        login_id: text(answer, "loginId")?,
        poll_secret: text(answer, "pollSecret")?,
        qr_text: text(answer, "qrText")?,
        qr_secret: text(answer, "qrSecret")?,
        state: state(answer)?,
        expires_at: number(answer, "expiresAt")? as i64,
        expires_in_ms: number(answer, "expiresInMs")? as u64,
        poll_interval_ms: number(answer, "pollIntervalMs")? as u64,
        long_poll_max_seconds: number(answer, "longPollMaxSeconds")? as u64,
    })
}

fn read_view(answer: &JsValue) -> Result<LoginView, TokenError> {
    let denial = match optional_text(answer, "denial")? {
        Some(_) => Some(named(answer, "denial", Denial::from_name)?),
        None => None,
    };
    Ok(LoginView {
        login_id: text(answer, "loginId")?,
        state: state(answer)?,
        expires_at: number(answer, "expiresAt")? as i64,
        expires_in_ms: number(answer, "expiresInMs")? as u64,
        number: optional_text(answer, "number")?,
        denial,
    })
}

/// The login's state; one this page does not know is an error, never taken for another.
fn state(answer: &JsValue) -> Result<LoginState, TokenError> {
    let name = text(answer, "state")?;
    LoginState::from_name(&name).ok_or(TokenError::UnknownLoginState(name))
}
