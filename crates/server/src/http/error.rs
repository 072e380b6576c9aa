//! `ApiError`, and the one place where the flows' domain errors become HTTP answers: each
//! error a client can cause has its own status, code and message (`docs/api.md` lists them).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use qrauth_core::wire::{ErrorBody, ErrorDetail};
use qrauth_core::{ActivationStatus, LoginRefusal};

use crate::flows::attempts::SignatureError;
use qrauth_core::frame::FrameError;

use crate::flows::{ActivationError, LoginError, OperationError};
use crate::store::{StorageError, StorageFault};

/// An error as every endpoint reports it: `{"error": {"code": "...", "message": "..."}}`, with
/// a code programs can rely on and a message for people.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// Seconds for `Retry-After`, on 429.
    retry_after: Option<u64>,
    /// What the operator's log should say: the cause of a server-side failure, never sent.
    cause: Option<String>,
}

/// The cause of a failed answer, for the logging middleware.
#[derive(Clone, Debug)]
pub(crate) struct FailureCause(pub(crate) String);

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
            cause: None,
        }
    }

    /// 429 with `Retry-After`.
    pub(crate) fn rate_limited(wait: std::time::Duration) -> Self {
        let seconds = wait.as_secs() + 1;
        ApiError {
            retry_after: Some(seconds),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("Too many attempts from this address; try again in {seconds} s."),
            )
        }
    }

    pub(crate) fn not_signed_in() -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "not_signed_in", "Sign in first.")
    }

    fn invalid(code: &'static str, message: String) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        if let Some(cause) = self.cause {
            response.extensions_mut().insert(FailureCause(cause));
        }
        response
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        // The cause is for the operator's log, not for the client. A failed write is rolled
        // back whole, so every answer here can say that nothing changed.
        let answer = match e.fault() {
            StorageFault::Full => ApiError::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "storage_full",
                "The server's storage is full, so nothing was changed; try again later.",
            ),
            StorageFault::Unwritable => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_read_only",
                "The server cannot write to its storage, so nothing was changed; try again later.",
            ),
            StorageFault::Unavailable => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_unavailable",
                "The server cannot reach its storage, so nothing was changed; try again shortly.",
            ),
        };
        ApiError {
            cause: Some(e.to_string()),
            ..answer
        }
    }
}

pub(crate) fn activation_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "activation_not_found",
        "No such activation.",
    )
}

impl From<SignatureError> for ApiError {
    fn from(e: SignatureError) -> Self {
        match e {
            SignatureError::UnknownActivation => activation_not_found(),
            SignatureError::Invalid(standing) if standing.status == ActivationStatus::Blocked => {
                ApiError::new(
                    StatusCode::FORBIDDEN,
                    "activation_blocked",
                    "The signature is wrong, and that was the last attempt: the activation is blocked.",
                )
            }
            SignatureError::Invalid(standing) => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "signature_invalid",
                format!(
                    "The signature is wrong (a wrong PIN gives a wrong signature); {} attempts left.",
                    standing.remaining_attempts
                ),
            ),
            SignatureError::NotActive(standing) => ApiError::new(
                StatusCode::FORBIDDEN,
                match standing.status {
                    ActivationStatus::Blocked => "activation_blocked",
                    _ => "activation_not_active",
                },
                format!(
                    "The activation is {} and cannot sign.",
                    standing.status.as_str().to_lowercase()
                ),
            ),
            SignatureError::Storage(e) => e.into(),
        }
    }
}

impl From<LoginError> for ApiError {
    fn from(e: LoginError) -> Self {
        let expired = || {
            ApiError::new(
                StatusCode::GONE,
                "login_expired",
                "This login has expired; get a new code.",
            )
        };
        match e {
            LoginError::NotFound => ApiError::new(
                StatusCode::NOT_FOUND,
                "login_not_found",
                "No such login session.",
            ),
            LoginError::WrongPollSecret => ApiError::new(
                StatusCode::FORBIDDEN,
                "poll_secret_invalid",
                "The poll secret does not belong to this login.",
            ),
            LoginError::UnknownScanCode => ApiError::new(
                StatusCode::NOT_FOUND,
                "scan_code_not_found",
                "This QR code is not a login waiting here; scan the code on the page again.",
            ),
            LoginError::Frame(frame) => ApiError::new(
                match frame {
                    FrameError::Missing | FrameError::Malformed => StatusCode::BAD_REQUEST,
                    FrameError::Forged | FrameError::Stale | FrameError::Future => {
                        StatusCode::FORBIDDEN
                    }
                },
                frame.code(),
                frame.message(),
            ),
            LoginError::ExtensionLimit => ApiError::new(
                StatusCode::CONFLICT,
                "login_extension_limit",
                "This code has had all the extra time it can have: get a new code.",
            ),
            LoginError::NumberRequired => ApiError::new(
                StatusCode::BAD_REQUEST,
                "number_required",
                "Type the two digits the sign-in page shows, then approve.",
            ),
            LoginError::WrongNumber => ApiError::new(
                StatusCode::FORBIDDEN,
                "number_mismatch",
                "The number typed is not the one the sign-in page shows, so the sign-in was \
                 refused. If it was you, start again on the page.",
            ),
            LoginError::Refused(LoginRefusal::Expired) => expired(),
            LoginError::Refused(LoginRefusal::AlreadyCompleted) => ApiError::new(
                StatusCode::CONFLICT,
                "login_already_completed",
                "This login was already completed; its identity token is given out once.",
            ),
            LoginError::Refused(LoginRefusal::WrongState { state, step }) => ApiError::new(
                StatusCode::CONFLICT,
                "login_state_conflict",
                format!(
                    "The login is {}; {}.",
                    state.as_str().to_lowercase(),
                    step.requirement()
                ),
            ),
            LoginError::Signature(e) => e.into(),
            LoginError::Storage(e) => e.into(),
        }
    }
}

impl From<ActivationError> for ApiError {
    fn from(e: ActivationError) -> Self {
        match e {
            // The session names a user that was deleted since.
            ActivationError::UnknownUser => ApiError::not_signed_in(),
            ActivationError::NotFound => activation_not_found(),
            ActivationError::InvalidCode(e) => {
                ApiError::invalid("invalid_activation_code", format!("{e}."))
            }
            ActivationError::InvalidPublicKey(e) => ApiError::invalid(
                "invalid_public_key",
                format!("devicePublicKey: {e}; send Base64 of a SEC1 P-256 point."),
            ),
            ActivationError::UnknownCode => ApiError::new(
                StatusCode::NOT_FOUND,
                "activation_code_not_found",
                "This activation code is unknown or was already used; ask for a new one.",
            ),
            ActivationError::CodeExpired => ApiError::new(
                StatusCode::GONE,
                "activation_code_expired",
                "This activation code has expired; ask for a new one.",
            ),
            ActivationError::Signature(e) => e.into(),
            ActivationError::Storage(e) => e.into(),
        }
    }
}

impl From<OperationError> for ApiError {
    fn from(e: OperationError) -> Self {
        match e {
            OperationError::InvalidField(message) => {
                ApiError::invalid("invalid_operation", format!("{message}."))
            }
            OperationError::NotFound => ApiError::new(
                StatusCode::NOT_FOUND,
                "operation_not_found",
                "No such operation.",
            ),
            OperationError::AlreadyApproved => ApiError::new(
                StatusCode::CONFLICT,
                "operation_already_approved",
                "This operation was already approved; a code is accepted once.",
            ),
            OperationError::Expired => ApiError::new(
                StatusCode::GONE,
                "operation_expired",
                "This operation has expired; start again for a new code.",
            ),
            OperationError::InvalidCode(e) => ApiError::invalid("invalid_code", format!("{e}.")),
            OperationError::InvalidFlag(c) => ApiError::invalid(
                "invalid_request",
                format!("flags: {c:?} is not one of B, X, F, C."),
            ),
            OperationError::NoUser | OperationError::PaymentNeedsSession => {
                ApiError::not_signed_in()
            }
            OperationError::NotYourAccount => ApiError::new(
                StatusCode::FORBIDDEN,
                "not_your_account",
                "A payment can only be made for the signed-in user.",
            ),
            OperationError::Storage(e) => e.into(),
        }
    }
}
