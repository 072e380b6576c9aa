//! The pages' calls to the qrauth server, as `docs/api.md` describes them. Requests go to the
//! page's own origin (`qrauth serve --static` serves the pages and the API together).

pub use qrauth_core::LoginState;
use qrauth_core::wire::{
    ActivationView, CreateOperation, NewActivation, NewOperation, SignedIn, Verdict,
};
use qrauth_token::browser::http::{Call, json_text};
use qrauth_token::operations::OperationApi;

/// Why a call failed: no answer (`network`), the server's error with its code and message, or
/// an answer the API does not promise.
pub type ApiError = qrauth_token::TokenError;

/// Where the API is: the page's own origin.
const SERVER: &str = "";

/// Follows the proximity payload of operation `operation_id` (see
/// [`OperationApi::follow_payload`]).
pub async fn follow_payload(operation_id: &str, changes_in_ms: u64, show: impl Fn(String) -> bool) {
    OperationApi::new(SERVER)
        .follow_payload(operation_id, changes_in_ms, show)
        .await
}

/// The person this browser is signed in as.
pub async fn identity() -> Result<SignedIn, ApiError> {
    Call::new(SERVER, "GET", "/session")
        .with_cookies()
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
