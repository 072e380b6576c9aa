//! `/api/v1/session`: password sign-in for the first factor, as an HttpOnly cookie.

use axum::Json;
use axum::Router;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::{ApiError, ApiJson};
use crate::users;

/// The cookie that carries a browser session.
pub const COOKIE: &str = "qrauth_session";

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/session", post(sign_in).get(current).delete(sign_out))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordSignIn {
    user: String,
    password: String,
}

#[derive(Serialize)]
struct SignedIn {
    user: String,
}

/// The `Set-Cookie` value for a session token: HttpOnly (no script reads it), SameSite=Strict
/// (no other site sends it), and Secure when the server is behind TLS.
pub(crate) fn cookie(token: &str, max_age_s: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_s}{secure}")
}

/// The session token from the request's cookies, if any.
pub(crate) fn session_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

/// The signed-in user's name, or 401.
pub(crate) async fn signed_in_user(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<String, ApiError> {
    let not_signed_in =
        || ApiError::new(StatusCode::UNAUTHORIZED, "not_signed_in", "Sign in first.");
    let token = session_token(headers).ok_or_else(not_signed_in)?;
    users::session_user(&state.authority.storage, token)
        .await?
        .ok_or_else(not_signed_in)
}

/// `POST /api/v1/session {"user", "password"}`.
async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<PasswordSignIn>,
) -> Result<Response, ApiError> {
    if let Err(wait) = state.sign_in_limit.check(client.ip()) {
        state
            .authority
            .storage
            .audit("session.rate_limited", format!("client {}", client.ip()))
            .await?;
        return Err(ApiError::rate_limited(wait));
    }
    let Some(user_id) =
        users::check_password(&state.authority.storage, &body.user, &body.password).await?
    else {
        state
            .authority
            .storage
            .audit("session.sign_in_failed", format!("user {:?}", body.user))
            .await?;
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "Wrong user name or password.",
        ));
    };
    let cookie = state.start_browser_session(user_id).await?;
    state
        .authority
        .storage
        .audit("session.signed_in", format!("user {:?}", body.user))
        .await?;
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(SignedIn { user: body.user }),
    )
        .into_response())
}

/// `GET /api/v1/session`: who is signed in.
async fn current(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<SignedIn>, ApiError> {
    Ok(Json(SignedIn {
        user: signed_in_user(&state, &headers).await?,
    }))
}

/// `DELETE /api/v1/session`: signs out.
async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(token) = session_token(&headers) {
        users::end_session(&state.authority.storage, token).await?;
    }
    let expired = cookie("", 0, state.authority.policy.secure_cookies);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, expired)]).into_response())
}
