//! Offline operations: `/operations` (flows/operations.rs).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use qrauth_core::wire::{CreateOperation, OperationView, VerifyRequest};

use super::extract::{ApiJson, ApiPath, ClientAddress, SignedInUser, bearer};
use super::{ApiError, AppState};
use crate::flows::Caller;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/operations", post(create))
        .route("/operations/{id}", get(show))
        .route("/operations/{id}/verify", post(verify))
}

/// `POST /api/v1/operations`: a payment or login operation for the signed-in user or the
/// user named in the body.
async fn create(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreateOperation>,
) -> Result<Response, ApiError> {
    state.check_creation_limit(client).await?;
    let caller = match bearer(&headers) {
        Some(token) if state.operator.as_ref().is_some_and(|o| o.matches(token)) => {
            Caller::Operator
        }
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "operator_token_invalid",
                "The bearer token is not the operator's.",
            ));
        }
        None => match SignedInUser::optional(&state, &headers).await? {
            Some(user) => Caller::SignedIn(user),
            None => Caller::Anonymous,
        },
    };
    let created = state.authority.create_operation(body, caller).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// `GET /api/v1/operations/{id}`.
async fn show(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<OperationView>, ApiError> {
    Ok(Json(state.authority.operation(&id).await?))
}

/// `POST /api/v1/operations/{id}/verify {"code"}`: checks a typed code in any shape a person
/// types it; a valid code for a login operation also starts a browser session.
async fn verify(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<VerifyRequest>,
) -> Result<Response, ApiError> {
    // Every guess costs from the address's budget: what bounds guessing by someone who knows
    // only a name, whose wrong codes do not count against the token (flows/attempts.rs).
    state.check_creation_limit(client).await?;
    let (verdict, signed_in) = state.authority.verify_operation(&id, &body.code).await?;
    match signed_in {
        Some((user_id, factors)) => {
            let amr = crate::flows::identity::offline_methods(factors);
            let cookie = state.start_browser_session(user_id, &amr).await?;
            Ok(([(header::SET_COOKIE, cookie)], Json(verdict)).into_response())
        }
        None => Ok(Json(verdict).into_response()),
    }
}
