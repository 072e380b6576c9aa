//! The pages' calls to the qrauth server, as `docs/api.md` describes them. Requests go to the
//! page's own origin (`qrauth serve --static` serves the pages and the API together).

pub use qrauth_core::LoginState;
use qrauth_core::wire::{
    ActivationView, CreateOperation, Health, LoginCreated, NewActivation, NewOperation,
    PasswordSignIn, SignedIn, Verdict,
};
use qrauth_token::browser::http::{self, Call, answered_value, json_text};
use qrauth_token::clock::Clock;
use qrauth_token::operations::OperationApi;
use qrauth_token::sign_in::{LoginApi, read_created};
use wasm_bindgen::JsCast;

/// Why a call failed: no answer (`network`), the server's error with its code and message, or
/// an answer the API does not promise.
pub type ApiError = qrauth_token::TokenError;

/// Where the API is: the page's own origin.
const SERVER: &str = "";

/// Asks whether the server and its storage are up.
pub async fn health() -> Result<Health, ApiError> {
    Call::new(SERVER, "GET", "/health").json().await
}

/// The person this browser is signed in as.
pub async fn identity() -> Result<SignedIn, ApiError> {
    Call::new(SERVER, "GET", "/session")
        .with_cookies()
        .json()
        .await
}

/// Signs in with a password (the first factor of a new user).
pub async fn sign_in(user: &str, password: &str) -> Result<SignedIn, ApiError> {
    let body = json_text(&PasswordSignIn {
        user: user.to_owned(),
        password: password.to_owned(),
    })?;
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

/// The QR logins' calls, on the page's own origin.
pub fn logins() -> LoginApi<'static> {
    LoginApi::new(SERVER)
}

/// Starts an online QR login: the one the start-up script asked for, the first time.
pub async fn create_login() -> Result<LoginCreated, ApiError> {
    if let Some(started) =
        take_page_global("qrauthFirstLogin").and_then(|s| s.dyn_into::<js_sys::Promise>().ok())
    {
        let _ = take_page_global("qrauthFirstLoginAnswer");
        return first_login_from(&http::started(started).await?);
    }
    logins().create().await
}

/// The login that the page's start-up script (`crates/app/boot.js`) asked for while the wasm
/// loaded, when its answer is already here: the sign-in page shows its QR in its first render.
/// Taken once; `None` when it is not here (yet), and [`create_login`] waits for it instead.
pub fn first_login() -> Option<Result<LoginCreated, ApiError>> {
    let answer = take_page_global("qrauthFirstLoginAnswer")?;
    let _ = take_page_global("qrauthFirstLogin");
    Some(first_login_from(&answer))
}

/// The start-up script's answer as a login, its lifetime counted from when the answer came
/// (`receivedAt`, on the page's monotonic clock) rather than from when the app read it.
fn first_login_from(answer: &wasm_bindgen::JsValue) -> Result<LoginCreated, ApiError> {
    let mut login = read_created(&answered_value(answer)?)?;
    let received = js_sys::Reflect::get(answer, &"receivedAt".into())
        .ok()
        .and_then(|r| r.as_f64());
    if let Some(received) = received {
        let age = (Clock::Browser.now_ms() - received).max(0.0) as u64;
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

/// An offline login operation for `user`, whose code signs this browser in.
pub async fn create_login_operation(user: &str) -> Result<NewOperation, ApiError> {
    OperationApi::new(SERVER).create_login(user).await
}

/// A payment for the signed-in user to approve.
pub async fn create_payment(payment: &CreateOperation) -> Result<NewOperation, ApiError> {
    let body = json_text(payment)?;
    Call::new(SERVER, "POST", "/operations")
        .with_cookies()
        .body(&body)
        .json()
        .await
}

/// Checks a typed code; `code` is sent as the person typed it, normalized (`12345678-90123456`).
pub async fn verify_operation(operation_id: &str, code: &str) -> Result<Verdict, ApiError> {
    OperationApi::new(SERVER).verify(operation_id, code).await
}

/// An activation code for a new token of the signed-in user.
pub async fn offer_activation() -> Result<NewActivation, ApiError> {
    Call::new(SERVER, "POST", "/activations")
        .with_cookies()
        .json()
        .await
}

/// One activation of the signed-in user.
pub async fn activation(activation_id: &str) -> Result<ActivationView, ApiError> {
    Call::new(SERVER, "GET", &format!("/activations/{activation_id}"))
        .with_cookies()
        .json()
        .await
}
