//! The HTTP API under `/api/v1` (`docs/api.md` is its reference) and the static app: axum
//! extractors (`extract`), thin handlers that call one flow each, and the one place that turns
//! the flows' errors into answers (`error`). Failures are logged by middleware, not by
//! handlers.

mod activations;
pub(crate) mod connections;
mod error;
mod extract;
mod h1;
mod limits;
mod logins;
pub(crate) mod oidc;
mod operations;
pub(crate) mod powerauth;
mod session;
pub(crate) mod web;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use qrauth_core::wire::Health;
use tower::util::MapResponseLayer;
use tower_http::validate_request::ValidateRequestHeaderLayer;

pub(crate) use error::ApiError;
pub use extract::COOKIE;

use crate::VERSION;
use crate::flows::Authority;

/// Password sign-in attempts allowed per client address: a burst of this many, refilled over a
/// minute. Argon2 makes each attempt cost the server too, so this also bounds that work.
pub const SIGN_IN_ATTEMPTS_PER_MINUTE: u32 = 10;

/// Shared by every request.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) authority: Authority,
    /// Password sign-in attempts per client address.
    sign_in_limit: Arc<limits::RateLimit>,
    /// Requests per client address to the endpoints that create things or check codes.
    creation_limit: Arc<limits::RateLimit>,
    /// The operator's credential, when one is configured.
    operator: Option<Arc<crate::secrets::OperatorToken>>,
}

impl AppState {
    pub(crate) fn new(
        authority: Authority,
        operator: Option<crate::secrets::OperatorToken>,
    ) -> Self {
        AppState {
            operator: operator.map(Arc::new),
            sign_in_limit: Arc::new(limits::RateLimit::new(
                "sign_in",
                SIGN_IN_ATTEMPTS_PER_MINUTE,
                Duration::from_secs(60),
            )),
            creation_limit: Arc::new(limits::RateLimit::new(
                "creation",
                authority.policy().creations_per_minute,
                Duration::from_secs(60),
            )),
            authority,
        }
    }

    /// Takes one request from `client`'s creation budget, or answers 429 (audited).
    async fn check_creation_limit(&self, client: IpAddr) -> Result<(), ApiError> {
        check_limit(
            &self.authority,
            &self.creation_limit,
            "rate_limited",
            client,
        )
        .await
    }

    /// Takes one password attempt from `client`'s budget, or answers 429 (audited).
    async fn check_sign_in_limit(&self, client: IpAddr) -> Result<(), ApiError> {
        check_limit(
            &self.authority,
            &self.sign_in_limit,
            "session.rate_limited",
            client,
        )
        .await
    }

    /// Starts a browser session for `user_id`, signed in by `amr`, and returns its
    /// `Set-Cookie` value.
    async fn start_browser_session(&self, user_id: i64, amr: &[&str]) -> Result<String, ApiError> {
        let token = self.authority.start_browser_session(user_id, amr).await?;
        Ok(self.session_cookie(&token))
    }

    /// The `Set-Cookie` value of a new browser session's token.
    fn session_cookie(&self, token: &str) -> String {
        extract::cookie(
            token,
            crate::flows::users::SESSION_LIFETIME_MS / 1000,
            self.authority.policy().secure_cookies,
        )
    }
}

async fn check_limit(
    authority: &Authority,
    limit: &limits::RateLimit,
    event: &'static str,
    client: IpAddr,
) -> Result<(), ApiError> {
    if let Err(refused) = limit.check(&authority.storage, client).await? {
        // One event for a run of refusals: anonymous traffic must not grow the log (nor slow
        // everyone's writes) at the rate it is refused.
        if refused.first {
            authority.record_rate_limited(event, client).await?;
        }
        return Err(ApiError::rate_limited(refused.wait));
    }
    Ok(())
}

pub(crate) fn routes(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/live", get(live))
        .route("/openapi.json", get(openapi))
        .route("/jwks.json", get(jwks))
        .merge(session::routes())
        .merge(activations::routes())
        .merge(logins::routes())
        .merge(operations::routes())
        .merge(oidc::api_routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Both as plain tower layers, whose futures are not boxed: axum's `from_fn` middleware
        // cost about 5 KB per request in flight, 100 MB over 10 000 long-polls.
        .layer(ValidateRequestHeaderLayer::custom(OriginCheck(
            state.clone(),
        )))
        .with_state(state)
        .layer(MapResponseLayer::new(log_failure))
}

/// Writes the cause of a failed answer to the operator's log; the client saw only its code.
fn log_failure(response: Response) -> Response {
    if let Some(error::FailureCause(cause)) = response.extensions().get() {
        eprintln!("qrauth: {cause}");
    }
    response
}

/// Refuses a change (any method but GET, HEAD and OPTIONS) sent by a page of another origin
/// than this server's own or one it allows (`--allow-origin`). A browser names the page in
/// `Origin` on every such request, so a page on another port or subdomain of the same site
/// (same-site, so its requests carry the SameSite=Strict cookie) cannot act for the person
/// signed in here; programs that send no `Origin` carry no one's cookie.
#[derive(Clone)]
struct OriginCheck(AppState);

impl<B> tower_http::validate_request::ValidateRequest<B> for OriginCheck {
    type ResponseBody = axum::body::Body;

    fn validate(&mut self, request: &mut axum::http::Request<B>) -> Result<(), Response> {
        let changes = !matches!(
            *request.method(),
            axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
        );
        let Some(origin) = request.headers().get(axum::http::header::ORIGIN) else {
            return Ok(());
        };
        if !changes {
            return Ok(());
        }
        let origin = origin.to_str().unwrap_or_default();
        let own = extract::origin(&self.0, request.headers()).ok();
        let policy = self.0.authority.policy();
        if own.as_deref() == Some(origin) || policy.allowed_origins.iter().any(|o| o == origin) {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            format!(
                "A page of {origin} may not change anything here; only this server's own \
                 pages and the origins it allows (--allow-origin) may."
            ),
        )
        .into_response())
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

/// `GET /api/v1/live`: the process answers HTTP. It reads nothing, so a liveness probe (or a
/// load test's baseline) measures the server alone; `/health` also asks the database.
async fn live() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "live" }))
}

/// `GET /api/v1/health`: whether the server and its database answer, and its version.
async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let health = |status: &str| Health {
        status: status.to_owned(),
        version: VERSION.to_owned(),
        storage: status.to_owned(),
    };
    match state.authority.check_storage().await {
        Ok(()) => (StatusCode::OK, Json(health("ok"))),
        Err(e) => {
            eprintln!("qrauth: health check failed: {e}");
            (StatusCode::SERVICE_UNAVAILABLE, Json(health("unavailable")))
        }
    }
}

/// The OpenAPI description of this API, kept beside the code it describes.
const OPENAPI: &str = include_str!("../../openapi.json");

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
        "keys": [&state.authority.application_info().identity_key]
    }))
}
