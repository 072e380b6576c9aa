//! The HTTP API under `/api/v1`. `docs/api.md` is its reference.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use crate::{AppState, VERSION};

pub(crate) fn routes(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
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
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
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
        (self.status, Json(body)).into_response()
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

/// `GET /api/v1/health`: whether the server and its database answer, and its version.
async fn health(State(state): State<AppState>) -> impl IntoResponse {
    match state.storage.check().await {
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
