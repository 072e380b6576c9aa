//! `/api/v1/session`: password sign-in for the first factor, as an HttpOnly cookie
//! (flows/users.rs).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use qrauth_core::wire::{PasswordSignIn, SignedIn};

use super::extract::{ApiJson, ClientAddress, SignedInUser, cookie, session_token};
use super::{ApiError, AppState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/session", post(sign_in).get(current).delete(sign_out))
}

/// `POST /api/v1/session {"user", "password"}`.
async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    ApiJson(body): ApiJson<PasswordSignIn>,
) -> Result<Response, ApiError> {
    state.check_sign_in_limit(client).await?;
    let Some(token) = state
        .authority
        .sign_in_with_password(&body.user, &body.password)
        .await?
    else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "Wrong user name or password.",
        ));
    };
    Ok((
        [(header::SET_COOKIE, state.session_cookie(&token))],
        Json(SignedIn { user: body.user }),
    )
        .into_response())
}

/// `GET /api/v1/session`: who is signed in.
async fn current(SignedInUser(user): SignedInUser) -> Json<SignedIn> {
    Json(SignedIn { user })
}

/// `DELETE /api/v1/session`: signs out.
async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(token) = session_token(&headers) {
        state.authority.end_browser_session(token).await?;
    }
    let expired = cookie("", 0, state.authority.policy().secure_cookies);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, expired)]).into_response())
}
