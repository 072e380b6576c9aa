//! Token activations: `/activations` for the signed-in user, `/token/activations` for the token
//! (flows/activations.rs).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use qrauth_core::FactorType;
use qrauth_core::wire::{ActivationView, ApplicationInfo, CommitRequest, TokenStanding};

use super::error::activation_not_found;
use super::extract::{ApiJson, ApiPath, ClientAddress, RawBody, SignedInUser, signed_request};
use super::{ApiError, AppState};
use crate::flows::activations::Commitment;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/application", get(application))
        .route("/activations", post(create).get(list))
        .route("/activations/{id}", get(one).delete(remove))
        .route("/token/activations", post(commit))
        .route("/token/activations/{id}", get(token_status))
        .route("/token/activations/{id}/remove", post(token_remove))
}

/// `GET /api/v1/application`: what a token needs before it activates.
async fn application(State(state): State<AppState>) -> Json<ApplicationInfo> {
    Json(state.authority.application_info())
}

/// `POST /api/v1/activations`: a new activation code for the signed-in user.
async fn create(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    SignedInUser(user): SignedInUser,
) -> Result<Response, ApiError> {
    state.check_creation_limit(client).await?;
    let created = state.authority.create_activation(&user).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// `GET /api/v1/activations`: the signed-in user's activations.
async fn list(
    State(state): State<AppState>,
    SignedInUser(user): SignedInUser,
) -> Result<Json<Vec<ActivationView>>, ApiError> {
    Ok(Json(state.authority.activations(&user, None).await?))
}

/// `GET /api/v1/activations/{id}`: one of the signed-in user's activations.
async fn one(
    State(state): State<AppState>,
    SignedInUser(user): SignedInUser,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ActivationView>, ApiError> {
    state
        .authority
        .activations(&user, Some(&id))
        .await?
        .pop()
        .map(Json)
        .ok_or_else(activation_not_found)
}

/// `DELETE /api/v1/activations/{id}`: removes one of the signed-in user's activations.
async fn remove(
    State(state): State<AppState>,
    SignedInUser(user): SignedInUser,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    state.authority.remove_activation(&user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/token/activations`: a token commits its device public key with a code.
async fn commit(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    ApiJson(body): ApiJson<CommitRequest>,
) -> Result<Response, ApiError> {
    state.check_creation_limit(client).await?;
    let committed = state
        .authority
        .commit_activation(Commitment {
            activation_code: body.activation_code,
            device_public_key: body.device_public_key,
            device_name: body.device_name,
        })
        .await?;
    Ok((StatusCode::CREATED, Json(committed)).into_response())
}

/// `GET /api/v1/token/activations/{id}`: where a token's activation stands.
async fn token_status(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<TokenStanding>, ApiError> {
    Ok(Json(state.authority.token_standing(&id).await?))
}

/// `POST /api/v1/token/activations/{id}/remove`: the token removes itself, signed with its
/// possession key (any body; the signature covers it).
async fn token_remove(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<StatusCode, ApiError> {
    let signed = signed_request(
        &headers,
        &[
            FactorType::Possession,
            FactorType::PossessionKnowledge,
            FactorType::PossessionBiometry,
        ],
    )?;
    if signed.activation_id != id {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_authorization",
            "pa_activation_id does not name this activation.",
        ));
    }
    state
        .authority
        .remove_by_token(signed, body.to_vec())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
