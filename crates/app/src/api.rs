//! The pages' calls to the qrauth server, as `docs/api.md` describes them. Requests go to the
//! page's own origin (`qrauth serve --static` serves the pages and the API together).

use qrauth_token::browser::http::{self, Call, answered_json, json_text};
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsCast;

/// Why a call failed: no answer (`network`), the server's error with its code and message, or
/// an answer the API does not promise.
pub type ApiError = qrauth_token::TokenError;

/// Where the API is: the page's own origin.
const SERVER: &str = "";

/// `GET /api/v1/health`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Health {
    /// `ok`, or `unavailable` when the server's storage does not answer.
    pub status: String,
    /// The server's version.
    pub version: String,
}

/// The signed-in person.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Identity {
    /// The user name.
    pub user: String,
}

/// Where a login session is, as the server names it.
pub use qrauth_core::LoginState;

/// `POST /api/v1/logins`: a new online login session.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LoginSession {
    /// The session's id.
    pub login_id: String,
    /// This page's proof of ownership; only this page has it.
    pub poll_secret: String,
    /// What the QR shows, a link that opens the token.
    pub qr_text: String,
    /// The state at creation, `PENDING`.
    pub state: LoginState,
    /// Milliseconds until the session expires.
    pub expires_in_ms: u64,
    /// How often to poll without long-polling.
    pub poll_interval_ms: u32,
    /// The longest `wait` the server accepts; absent when it cannot long-poll.
    #[serde(default)]
    pub long_poll_max_seconds: Option<u32>,
}

/// `GET /api/v1/logins/{id}`: where a login session is now.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LoginStatus {
    /// The state.
    pub state: LoginState,
    /// Milliseconds until the session expires.
    pub expires_in_ms: u64,
}

/// `POST /api/v1/logins/{id}/complete`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CompletedLogin {
    /// Who signed in.
    pub user: String,
    /// The factors the token used, `POSSESSION_KNOWLEDGE`.
    pub factors: String,
}

/// An offline operation: the payload to show as a QR and how long it lives.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    /// The operation's id.
    pub operation_id: String,
    /// `payment` or `login`.
    pub kind: String,
    /// The QR text (PowerAuth offline payload).
    pub payload: String,
    /// Milliseconds until it expires.
    pub expires_in_ms: u64,
}

/// A payment to approve, as the server takes it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct NewPayment {
    /// Always `payment`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `1250.00`.
    pub amount: String,
    /// ISO 4217 letters.
    pub currency: String,
    /// The payee's IBAN, spaces allowed.
    pub iban: String,
    /// Who is paid; the token's title says "Payment to {payee}".
    pub payee: String,
    /// A note to the payment.
    pub note: String,
}

/// `POST /api/v1/operations/{id}/verify`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    /// True when the code was right.
    pub valid: bool,
    /// Failed attempts left before the activation is blocked.
    pub remaining_attempts: u32,
    /// `ACTIVE`, `BLOCKED`, or absent when the user has no activation.
    #[serde(default)]
    pub activation_status: Option<String>,
    /// Who signed in, for a login operation.
    #[serde(default)]
    pub user: Option<String>,
}

impl Verification {
    /// True when wrong codes blocked the activation: no code will be accepted any more.
    pub fn blocked(&self) -> bool {
        self.activation_status.as_deref() == Some("BLOCKED")
    }
}

/// `POST /api/v1/activations`: an activation code for a new token.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ActivationOffer {
    /// The activation's id.
    pub activation_id: String,
    /// The code to type, `XXXXX-XXXXX-XXXXX-XXXXX`.
    pub activation_code: String,
    /// What the QR shows: the code and the server's signature of it.
    pub activation_qr: String,
    /// Milliseconds until the code expires.
    pub expires_in_ms: u64,
}

/// An activation of the signed-in user.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Activation {
    /// The activation's id.
    pub activation_id: String,
    /// `CREATED`, `ACTIVE`, `BLOCKED` or `REMOVED`.
    pub status: String,
    /// The name the token gave.
    #[serde(default)]
    pub device_name: Option<String>,
    /// Eight digits both sides show once the token committed.
    #[serde(default)]
    pub fingerprint: Option<String>,
}

/// Asks whether the server and its storage are up.
pub async fn health() -> Result<Health, ApiError> {
    Call::new(SERVER, "GET", "/health").json().await
}

/// The person this browser is signed in as.
pub async fn identity() -> Result<Identity, ApiError> {
    Call::new(SERVER, "GET", "/session")
        .with_cookies()
        .json()
        .await
}

/// Signs in with a password (the first factor of a new user).
pub async fn sign_in(user: &str, password: &str) -> Result<Identity, ApiError> {
    #[derive(Serialize)]
    struct Body<'a> {
        user: &'a str,
        password: &'a str,
    }
    let body = json_text(&Body { user, password })?;
    Call::new(SERVER, "POST", "/session")
        .with_cookies()
        .body(&body)
        .json()
        .await
}

/// Signs out.
pub async fn sign_out() -> Result<(), ApiError> {
    Call::new(SERVER, "DELETE", "/session")
        .with_cookies()
        .empty()
        .await
}

/// Starts an online QR login.
pub async fn create_login() -> Result<LoginSession, ApiError> {
    if let Some(started) =
        take_page_global("qrauthFirstLogin").and_then(|s| s.dyn_into::<js_sys::Promise>().ok())
    {
        let _ = take_page_global("qrauthFirstLoginAnswer");
        return first_login_from(&http::started(started).await?);
    }
    Call::new(SERVER, "POST", "/logins").json().await
}

/// The login that the page's start-up script (`crates/app/boot.js`) asked for while the wasm
/// loaded, when its answer is already here: the sign-in page shows its QR in its first render.
/// Taken once; `None` when it is not here (yet), and [`create_login`] waits for it instead.
pub fn first_login() -> Option<Result<LoginSession, ApiError>> {
    let answer = take_page_global("qrauthFirstLoginAnswer")?;
    let _ = take_page_global("qrauthFirstLogin");
    Some(first_login_from(&answer))
}

/// The start-up script's answer as a login, its lifetime counted from when the answer came
/// (`receivedAt`, on the page's monotonic clock) rather than from when the app read it.
fn first_login_from(answer: &wasm_bindgen::JsValue) -> Result<LoginSession, ApiError> {
    let mut login: LoginSession = answered_json(answer)?;
    let received = js_sys::Reflect::get(answer, &"receivedAt".into())
        .ok()
        .and_then(|r| r.as_f64());
    let now = web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now());
    if let (Some(received), Some(now)) = (received, now) {
        let age = (now - received).max(0.0) as u64;
        login.expires_in_ms = login.expires_in_ms.saturating_sub(age);
    }
    Ok(login)
}

/// Takes `name` off `window`, where the start-up script leaves what it started.
fn take_page_global(name: &str) -> Option<wasm_bindgen::JsValue> {
    let window = web_sys::window()?;
    let key = wasm_bindgen::JsValue::from_str(name);
    let value = js_sys::Reflect::get(&window, &key).ok()?;
    let _ = js_sys::Reflect::delete_property(&window, &key);
    (!value.is_undefined()).then_some(value)
}

/// Where `login` is. With `wait`, the server answers as soon as the state differs from `known`,
/// or after `wait` seconds.
pub async fn poll_login(
    login: &LoginSession,
    known: LoginState,
    wait: Option<u32>,
) -> Result<LoginStatus, ApiError> {
    let path = match wait {
        Some(seconds) => format!(
            "/logins/{}?wait={seconds}&state={}",
            login.login_id,
            known.as_str()
        ),
        None => format!("/logins/{}", login.login_id),
    };
    Call::new(SERVER, "GET", &path)
        .bearer(&login.poll_secret)
        .json()
        .await
}

/// Cancels a login nobody needs any more.
pub async fn cancel_login(login: &LoginSession) -> Result<LoginStatus, ApiError> {
    Call::new(SERVER, "DELETE", &format!("/logins/{}", login.login_id))
        .bearer(&login.poll_secret)
        .json()
        .await
}

/// Completes an approved login: the server sets the session cookie.
pub async fn complete_login(login: &LoginSession) -> Result<CompletedLogin, ApiError> {
    Call::new(
        SERVER,
        "POST",
        &format!("/logins/{}/complete", login.login_id),
    )
    .bearer(&login.poll_secret)
    .with_cookies()
    .json()
    .await
}

/// An offline login operation for `user`, whose code signs this browser in.
pub async fn create_login_operation(user: &str) -> Result<Operation, ApiError> {
    #[derive(Serialize)]
    struct Body<'a> {
        #[serde(rename = "type")]
        kind: &'a str,
        user: &'a str,
    }
    let body = json_text(&Body {
        kind: "login",
        user,
    })?;
    Call::new(SERVER, "POST", "/operations")
        .body(&body)
        .json()
        .await
}

/// A payment for the signed-in user to approve.
pub async fn create_payment(payment: &NewPayment) -> Result<Operation, ApiError> {
    let body = json_text(payment)?;
    Call::new(SERVER, "POST", "/operations")
        .with_cookies()
        .body(&body)
        .json()
        .await
}

/// Checks a typed code; `code` is sent as the person typed it, normalized (`12345678-90123456`).
pub async fn verify_operation(operation_id: &str, code: &str) -> Result<Verification, ApiError> {
    #[derive(Serialize)]
    struct Body<'a> {
        code: &'a str,
    }
    let body = json_text(&Body { code })?;
    Call::new(
        SERVER,
        "POST",
        &format!("/operations/{operation_id}/verify"),
    )
    .with_cookies()
    .body(&body)
    .json()
    .await
}

/// An activation code for a new token of the signed-in user.
pub async fn offer_activation() -> Result<ActivationOffer, ApiError> {
    Call::new(SERVER, "POST", "/activations")
        .with_cookies()
        .json()
        .await
}

/// One activation of the signed-in user.
pub async fn activation(activation_id: &str) -> Result<Activation, ApiError> {
    Call::new(SERVER, "GET", &format!("/activations/{activation_id}"))
        .with_cookies()
        .json()
        .await
}
