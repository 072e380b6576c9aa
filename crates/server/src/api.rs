//! The HTTP API under `/api/v1`. `docs/api.md` is its reference.

use axum::Json;
use axum::Router;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{AppState, StorageError, StorageFault, VERSION};

pub(crate) fn routes(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/live", get(live))
        .route("/openapi.json", get(openapi))
        .route("/jwks.json", get(jwks))
        .merge(crate::session::routes())
        .merge(crate::activations::routes())
        .merge(crate::logins::routes())
        .merge(crate::operations::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// An error as every endpoint reports it: `{"error": {"code": "...", "message": "..."}}`, with
/// a code programs can rely on and a message for people.
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// Seconds for `Retry-After`, on 429.
    retry_after: Option<u64>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
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
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        struct Body<'a> {
            error: Detail<'a>,
        }
        #[derive(Serialize)]
        struct Detail<'a> {
            code: &'a str,
            message: &'a str,
        }
        let body = Body {
            error: Detail {
                code: self.code,
                message: &self.message,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        // The cause is for the operator's log, not for the client. A failed write is rolled
        // back whole, so every answer here can say that nothing changed.
        eprintln!("qrauth: {e}");
        match e.fault() {
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
                "The server cannot reach its storage; try again shortly.",
            ),
        }
    }
}

/// A JSON request body; every way it can be wrong becomes an [`ApiError`] with its own code.
pub(crate) struct ApiJson<T>(pub T);

/// A JSON request body together with its exact bytes, for requests whose signature covers them.
pub(crate) struct SignedJson<T> {
    pub(crate) value: T,
    pub(crate) raw: axum::body::Bytes,
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for SignedJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = request
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                let v = v.trim();
                v.eq_ignore_ascii_case("application/json")
                    || (v.starts_with("application/") && v.ends_with("+json"))
            });
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the body as JSON with Content-Type: application/json.",
            ));
        }
        let raw = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "body_too_large",
                        format!("The body is larger than {} bytes.", crate::MAX_BODY_BYTES),
                    )
                } else {
                    ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", e.body_text())
                }
            })?;
        // Through a JSON value first: serde would also read a struct from an array.
        let value: serde_json::Value = serde_json::from_slice(&raw).map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                "The body is not valid JSON.",
            )
        })?;
        if !value.is_object() {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
                "The body must be a JSON object.",
            ));
        }
        let value = serde_json::from_value(value).map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
                format!("The request does not have the expected fields: {e}"),
            )
        })?;
        Ok(SignedJson { value, raw })
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        SignedJson::from_request(request, state)
            .await
            .map(|body| ApiJson(body.value))
    }
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "No such endpoint: see docs/api.md.",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This endpoint does not take that method.",
    )
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    storage: &'static str,
}

/// `GET /api/v1/live`: the process answers HTTP. It reads nothing, so a liveness probe (or a
/// load test's baseline) measures the server alone; `/health` also asks the database.
async fn live() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "live" }))
}

/// `GET /api/v1/health`: whether the server and its database answer, and its version.
async fn health(State(state): State<AppState>) -> impl IntoResponse {
    match state.authority.storage.check().await {
        Ok(()) => (
            StatusCode::OK,
            Json(Health {
                status: "ok",
                version: VERSION,
                storage: "ok",
            }),
        ),
        Err(e) => {
            eprintln!("qrauth: health check failed: {e}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "unavailable",
                    version: VERSION,
                    storage: "unavailable",
                }),
            )
        }
    }
}

/// The OpenAPI description of this API, kept beside the code it describes.
const OPENAPI: &str = include_str!("../openapi.json");

/// `GET /api/v1/openapi.json`.
async fn openapi() -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI,
    )
}

/// `GET /api/v1/jwks.json`: the key that signs identity tokens.
async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    Json(serde_json::json!({
        "keys": [&state.authority.keys.identity_jwk]
    }))
}
