//! Calls to the qrauth server, as `docs/api.md` describes them.

use std::fmt;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::Response;

/// `GET /api/v1/health`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Health {
    /// `ok`, or `unavailable` when the server's storage does not answer.
    pub status: String,
    /// The server's version.
    pub version: String,
}

/// Why a call to the server failed, in words for the page.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiError {
    /// The request did not reach the server (offline, server down, blocked).
    Network,
    /// The server answered with an error status.
    Status(u16),
    /// The answer was not what the API promises.
    Malformed(String),
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Network => f.write_str("the server cannot be reached"),
            ApiError::Status(status) => write!(f, "the server answered with status {status}"),
            ApiError::Malformed(detail) => {
                write!(f, "the server's answer was not understood ({detail})")
            }
        }
    }
}

/// Asks the server whether it and its storage are up.
pub async fn health() -> Result<Health, ApiError> {
    get_json("/api/v1/health").await
}

async fn get_json<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    let window = web_sys::window().ok_or(ApiError::Network)?;
    let response: Response = JsFuture::from(window.fetch_with_str(path))
        .await
        .map_err(|_| ApiError::Network)?
        .dyn_into()
        .map_err(|_| ApiError::Malformed("not a response".into()))?;
    if !response.ok() {
        return Err(ApiError::Status(response.status()));
    }
    let body = response
        .json()
        .map_err(|_| ApiError::Malformed("no body".into()))?;
    let json = JsFuture::from(body)
        .await
        .map_err(|_| ApiError::Malformed("not JSON".into()))?;
    serde_wasm_bindgen::from_value(json).map_err(|e| ApiError::Malformed(e.to_string()))
}
