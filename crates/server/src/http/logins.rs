//! Online QR login: `/logins` for the page, `/token/logins` for the token (flows/logins.rs).

use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use qrauth_core::FactorType;
use qrauth_core::wire::{LoginApproval, LoginDecision, LoginView, PollQuery, Requester, ScanCode};

use super::extract::{
    ApiJson, ApiPath, ApiQuery, ClientAddress, PollSecret, SignedJson, origin, signed_request,
};
use super::{ApiError, AppState};
use crate::flows::logins::LoginRequester;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/logins", post(create))
        .route("/logins/{id}", get(poll).delete(cancel))
        .route("/logins/{id}/complete", post(complete))
        .route("/logins/{id}/extend", post(extend))
        .route("/token/logins/attach", post(attach))
        .route("/token/logins/{id}/approve", post(approve))
        .route("/token/logins/{id}/deny", post(deny))
}

/// `POST /api/v1/logins`: a new login session (no body needed).
async fn create(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    state.check_creation_limit(client).await?;
    let requester = LoginRequester {
        origin: origin(&state, &headers)?,
        address: client.to_string(),
        agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned(),
    };
    let created = state.authority.create_login(requester).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// `GET /api/v1/logins/{id}?wait=30&state=PENDING` with the poll secret: the state now, or as
/// soon as it differs from `state` within `wait` seconds.
async fn poll(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<PollQuery>,
    PollSecret(secret): PollSecret,
) -> Result<Json<LoginView>, ApiError> {
    let wait = Duration::from_secs(query.wait.unwrap_or(0));
    Ok(Json(
        state
            .authority
            .poll_login(&id, &secret, wait, query.state)
            .await?,
    ))
}

/// `DELETE /api/v1/logins/{id}` with the poll secret: cancels an open login.
async fn cancel(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    PollSecret(secret): PollSecret,
) -> Result<Json<LoginView>, ApiError> {
    Ok(Json(state.authority.cancel_login(&id, &secret).await?))
}

/// `POST /api/v1/logins/{id}/extend` with the poll secret: more time for the person.
async fn extend(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    PollSecret(secret): PollSecret,
) -> Result<Json<LoginView>, ApiError> {
    Ok(Json(state.authority.extend_login(&id, &secret).await?))
}

/// `POST /api/v1/logins/{id}/complete` with the poll secret: the identity token of an approved
/// login, exactly once, and a browser session cookie.
async fn complete(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    PollSecret(secret): PollSecret,
) -> Result<Response, ApiError> {
    let issuer = origin(&state, &headers)?;
    let completion = state.authority.complete_login(&id, &secret, issuer).await?;
    let amr = crate::flows::identity::methods(completion.factors);
    let cookie = state
        .start_browser_session(completion.user_id, &amr)
        .await?;
    Ok(([(header::SET_COOKIE, cookie)], Json(completion.completed)).into_response())
}

/// `POST /api/v1/token/logins/attach {"scanCode"}`: the token scanned a login QR.
async fn attach(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    ApiJson(body): ApiJson<ScanCode>,
) -> Result<Json<Requester>, ApiError> {
    state.check_creation_limit(client).await?;
    Ok(Json(state.authority.attach_login(&body.scan_code).await?))
}

/// `POST /api/v1/token/logins/{id}/approve {"scanCode", "number"}`, signed with possession and
/// knowledge (or biometry): the login becomes APPROVED for the activation's user.
async fn approve(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    body: SignedJson<LoginApproval>,
) -> Result<Json<LoginDecision>, ApiError> {
    state.check_creation_limit(client).await?;
    let signed = signed_request(
        &headers,
        &[
            FactorType::PossessionKnowledge,
            FactorType::PossessionBiometry,
        ],
    )?;
    Ok(Json(
        state
            .authority
            .approve_login(&id, body.value, signed, body.raw.to_vec())
            .await?,
    ))
}

/// `POST /api/v1/token/logins/{id}/deny {"scanCode"}`: the person refused the login.
async fn deny(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ScanCode>,
) -> Result<Json<LoginDecision>, ApiError> {
    Ok(Json(state.authority.deny_login(&id, body.scan_code).await?))
}
