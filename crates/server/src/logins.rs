//! Online QR login (passwordless): the page creates a session and polls it with its poll
//! secret; a token attaches by the scan code in the QR, shows who is asking, and approves with
//! a signature or denies; the page completes the approved session once and gets an identity
//! token and a browser session.
//!
//! ```text
//! PENDING -> SCANNED -> APPROVED -> COMPLETED
//! PENDING | SCANNED -> DENIED | EXPIRED | CANCELED      (final)
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use qrauth_core::FactorType;
use qrauth_core::signature::LOGIN_APPROVE_URI_ID;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use tokio::sync::watch;

use crate::AppState;
use crate::api::{ApiError, ApiJson, SignedJson};
use crate::secrets::{random_secret, random_uuid, secret_hash};
use crate::signed::Authorization;
use crate::storage::{StorageError, now_ms, record};

/// Time a page has to complete a login once it is approved.
const COMPLETION_GRACE_MS: i64 = 60_000;

pub use qrauth_core::LoginState;

/// A state as the database keeps it (written by [`LoginState::as_str`]).
fn state_from_db(text: &str) -> LoginState {
    LoginState::from_name(text).unwrap_or(LoginState::Canceled)
}

/// Wakes long-polls when a login changes. Waiters hold a receiver, never a database
/// connection; senders are dropped when the last waiter leaves.
#[derive(Default)]
pub(crate) struct LoginWatch {
    senders: Mutex<HashMap<String, watch::Sender<()>>>,
}

impl LoginWatch {
    fn subscribe(&self, id: &str) -> watch::Receiver<()> {
        let mut senders = self.senders.lock().unwrap_or_else(|p| p.into_inner());
        senders
            .entry(id.to_owned())
            .or_insert_with(|| watch::channel(()).0)
            .subscribe()
    }

    fn notify(&self, id: &str) {
        let senders = self.senders.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(sender) = senders.get(id) {
            sender.send_replace(());
        }
    }

    fn release(&self, id: &str) {
        let mut senders = self.senders.lock().unwrap_or_else(|p| p.into_inner());
        if senders.get(id).is_some_and(|s| s.receiver_count() == 0) {
            senders.remove(id);
        }
    }
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/logins", post(create))
        .route("/logins/{id}", axum::routing::get(poll).delete(cancel))
        .route("/logins/{id}/complete", post(complete))
        .route("/token/logins/attach", post(attach))
        .route("/token/logins/{id}/approve", post(approve))
        .route("/token/logins/{id}/deny", post(deny))
}

struct LoginRow {
    poll_secret_hash: Vec<u8>,
    scan_code_hash: Vec<u8>,
    state: LoginState,
    service: String,
    address: String,
    agent: String,
    created_ms: i64,
    expires_ms: i64,
    user_id: Option<i64>,
    activation_id: Option<String>,
    factors: Option<String>,
}

/// Reads a login and expires it when its time is up, inside `tx`.
fn load(tx: &rusqlite::Transaction<'_>, id: &str) -> Result<Option<LoginRow>, StorageError> {
    // Cached: every poll runs this, and parsing the statement cost more than running it.
    let row = tx
        .prepare_cached(
            "SELECT poll_secret_hash, scan_code_hash, state, service, requester_address,
                requester_agent, created_ms, expires_ms, user_id, activation_id, factors
             FROM login_sessions WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok(LoginRow {
                poll_secret_hash: r.get(0)?,
                scan_code_hash: r.get(1)?,
                state: state_from_db(&r.get::<_, String>(2)?),
                service: r.get(3)?,
                address: r.get(4)?,
                agent: r.get(5)?,
                created_ms: r.get(6)?,
                expires_ms: r.get(7)?,
                user_id: r.get(8)?,
                activation_id: r.get(9)?,
                factors: r.get(10)?,
            })
        })
        .optional()?;
    let Some(mut row) = row else { return Ok(None) };
    let now = now_ms();
    // Open and approved-but-not-completed sessions expire; final ones stay as they are.
    if (row.state.is_open() || row.state == LoginState::Approved) && row.expires_ms <= now {
        set_state(tx, id, LoginState::Expired)?;
        record(tx, "login.expired", id)?;
        row.state = LoginState::Expired;
    }
    Ok(Some(row))
}

fn set_state(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
    state: LoginState,
) -> Result<(), StorageError> {
    tx.execute(
        "UPDATE login_sessions SET state = ?2, updated_ms = ?3 WHERE id = ?1",
        params![id, state.as_str(), now_ms()],
    )?;
    Ok(())
}

fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "login_not_found",
        "No such login session.",
    )
}

fn expired() -> ApiError {
    ApiError::new(
        StatusCode::GONE,
        "login_expired",
        "This login has expired; get a new code.",
    )
}

fn wrong_state(state: LoginState, wanted: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "login_state_conflict",
        format!("The login is {}; {wanted}.", state.as_str().to_lowercase()),
    )
}

/// The poll secret from `Authorization: Bearer …`.
fn poll_secret(headers: &HeaderMap) -> Result<String, ApiError> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "poll_secret_required",
                "Send the login's poll secret as Authorization: Bearer <pollSecret>.",
            )
        })
}

fn check_hash(stored: &[u8], presented: &str) -> bool {
    bool::from(stored.ct_eq(&secret_hash(presented)))
}

fn wrong_poll_secret() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "poll_secret_invalid",
        "The poll secret does not belong to this login.",
    )
}

/// The origin to put in the QR link.
fn origin(state: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    if let Some(origin) = &state.authority.policy.public_origin {
        return Ok(origin.trim_end_matches('/').to_owned());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_host",
                "The Host header is missing or not a host name.",
            )
        })?;
    let scheme = if state.authority.policy.secure_cookies {
        "https"
    } else {
        "http"
    };
    Ok(format!("{scheme}://{host}"))
}

/// What the page gets when it creates a login.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Created {
    login_id: String,
    poll_secret: String,
    qr_text: String,
    state: LoginState,
    expires_at: i64,
    expires_in_ms: i64,
    poll_interval_ms: u64,
    long_poll_max_seconds: u64,
}

/// `POST /api/v1/logins`: a new login session (no body needed).
async fn create(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    state.check_creation_limit(client).await?;
    let origin = origin(&state, &headers)?;
    let id = random_uuid()?;
    let poll_secret = random_secret()?;
    let scan_code = random_secret()?;
    let now = now_ms();
    let policy = &state.authority.policy;
    let expires_at = now + policy.login_lifetime.as_millis() as i64;
    let agent: String = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(512)
        .collect();
    let (row_id, poll_hash, scan_hash, service, address) = (
        id.clone(),
        secret_hash(&poll_secret),
        secret_hash(&scan_code),
        policy.service_name.clone(),
        client.ip().to_string(),
    );
    state
        .authority
        .storage
        .transaction(move |tx| {
            tx.execute(
                "INSERT INTO login_sessions (id, poll_secret_hash, scan_code_hash, state, service,
                    requester_address, requester_agent, created_ms, expires_ms, updated_ms)
                 VALUES (?1, ?2, ?3, 'PENDING', ?4, ?5, ?6, ?7, ?8, ?7)",
                params![
                    row_id, poll_hash, scan_hash, service, address, agent, now, expires_at
                ],
            )?;
            record(tx, "login.created", &format!("{row_id} from {address}"))?;
            Ok(())
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            qr_text: format!("{origin}/token#scan={scan_code}"),
            login_id: id,
            poll_secret,
            state: LoginState::Pending,
            expires_at,
            expires_in_ms: expires_at - now,
            poll_interval_ms: policy.poll_interval.as_millis() as u64,
            long_poll_max_seconds: policy.max_long_poll.as_secs(),
        }),
    )
        .into_response())
}

/// A login as its page sees it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PageView {
    login_id: String,
    state: LoginState,
    expires_at: i64,
    expires_in_ms: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PollQuery {
    /// Seconds to wait for a change (long-poll), at most the policy's maximum.
    #[serde(default)]
    wait: Option<u64>,
    /// The state the page already knows; a long-poll answers when the state differs.
    #[serde(default)]
    state: Option<LoginState>,
}

async fn page_view(state: &AppState, id: &str, secret: &str) -> Result<PageView, ApiError> {
    let (row_id, secret) = (id.to_owned(), secret.to_owned());
    let row = state
        .authority
        .storage
        .transaction(move |tx| load(tx, &row_id))
        .await?
        .ok_or_else(not_found)?;
    if !check_hash(&row.poll_secret_hash, &secret) {
        return Err(wrong_poll_secret());
    }
    let now = now_ms();
    Ok(PageView {
        login_id: id.to_owned(),
        state: row.state,
        expires_at: row.expires_ms,
        expires_in_ms: (row.expires_ms - now).max(0),
    })
}

/// `GET /api/v1/logins/{id}?wait=30&state=PENDING` with the poll secret: the state now, or as
/// soon as it differs from `state` within `wait` seconds.
async fn poll(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<PollQuery>,
    headers: HeaderMap,
) -> Result<Json<PageView>, ApiError> {
    let secret = poll_secret(&headers)?;
    let wait =
        Duration::from_secs(query.wait.unwrap_or(0)).min(state.authority.policy.max_long_poll);
    // Subscribe before reading, so a change between the read and the wait is not missed.
    let mut changes = state.login_watch.subscribe(&id);
    let first = page_view(&state, &id, &secret).await;
    let known = query.state.or(first.as_ref().ok().map(|v| v.state));
    let answer_now = match &first {
        Err(_) => true,
        Ok(view) => wait.is_zero() || view.state.is_final() || Some(view.state) != known,
    };
    let result = if answer_now {
        first
    } else {
        let until_expiry = first
            .as_ref()
            .map(|v| Duration::from_millis(v.expires_in_ms.max(0) as u64 + 50))
            .unwrap_or_default();
        let _ = tokio::time::timeout(wait.min(until_expiry), changes.changed()).await;
        page_view(&state, &id, &secret).await
    };
    drop(changes);
    state.login_watch.release(&id);
    result.map(Json)
}

/// Runs a state change of login `id` for its page, checking the poll secret.
async fn page_transition<T: Send + 'static>(
    state: &AppState,
    id: &str,
    secret: String,
    change: impl FnOnce(
        &rusqlite::Transaction<'_>,
        &LoginRow,
    ) -> Result<Result<T, ApiError>, StorageError>
    + Send
    + 'static,
) -> Result<T, ApiError> {
    let row_id = id.to_owned();
    let result = state
        .authority
        .storage
        .transaction(move |tx| {
            let Some(row) = load(tx, &row_id)? else {
                return Ok(Err(not_found()));
            };
            if !check_hash(&row.poll_secret_hash, &secret) {
                return Ok(Err(wrong_poll_secret()));
            }
            change(tx, &row)
        })
        .await??;
    state.login_watch.notify(id);
    Ok(result)
}

/// `DELETE /api/v1/logins/{id}` with the poll secret: cancels an open login.
async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<PageView>, ApiError> {
    let secret = poll_secret(&headers)?;
    let row_id = id.clone();
    page_transition(&state, &id, secret, move |tx, row| {
        if row.state == LoginState::Expired {
            return Ok(Err(expired()));
        }
        if !row.state.is_open() {
            return Ok(Err(wrong_state(
                row.state,
                "only a waiting login can be cancelled",
            )));
        }
        set_state(tx, &row_id, LoginState::Canceled)?;
        record(tx, "login.canceled", &row_id)?;
        Ok(Ok(PageView {
            login_id: row_id.clone(),
            state: LoginState::Canceled,
            expires_at: row.expires_ms,
            expires_in_ms: 0,
        }))
    })
    .await
    .map(Json)
}

/// What a completed login hands to its page, once.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Completed {
    login_id: String,
    user: String,
    factors: String,
    id_token: String,
}

/// `POST /api/v1/logins/{id}/complete` with the poll secret: the identity token of an approved
/// login, exactly once, and a browser session cookie.
async fn complete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let secret = poll_secret(&headers)?;
    let issuer = origin(&state, &headers)?;
    let authority = state.authority.clone();
    let row_id = id.clone();
    let (completed, user_id) = page_transition(&state, &id, secret, move |tx, row| {
        match row.state {
            LoginState::Approved => {}
            LoginState::Expired => return Ok(Err(expired())),
            LoginState::Completed => {
                return Ok(Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "login_already_completed",
                    "This login was already completed; its identity token is given out once.",
                )));
            }
            other => {
                return Ok(Err(wrong_state(
                    other,
                    "only an approved login can be completed",
                )));
            }
        }
        let (Some(user_id), Some(activation), Some(factors)) = (
            row.user_id,
            row.activation_id.as_deref(),
            row.factors.as_deref(),
        ) else {
            return Err(StorageError::from_message(format!(
                "approved login {row_id} has no approver"
            )));
        };
        let user: String =
            tx.query_row("SELECT name FROM users WHERE id = ?1", [user_id], |r| {
                r.get(0)
            })?;
        let factors = FactorType::from_name(factors).unwrap_or(FactorType::PossessionKnowledge);
        let claims =
            crate::identity::Claims::new(&issuer, &user, &row_id, activation, factors, now_ms())?;
        let id_token = crate::identity::sign(
            &authority.keys.identity,
            &authority.keys.identity_jwk,
            &claims,
        );
        set_state(tx, &row_id, LoginState::Completed)?;
        record(tx, "login.completed", &format!("{row_id} user {user:?}"))?;
        Ok(Ok((
            Completed {
                login_id: row_id.clone(),
                user,
                factors: factors.name().to_owned(),
                id_token,
            },
            user_id,
        )))
    })
    .await?;
    let cookie = state.start_browser_session(user_id).await?;
    Ok(([(header::SET_COOKIE, cookie)], Json(completed)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ScanCode {
    scan_code: String,
}

/// Who is asking, as the token shows it before Approve and Deny.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Requester {
    login_id: String,
    state: LoginState,
    service: String,
    browser: String,
    address: String,
    requested_at: i64,
    expires_at: i64,
    expires_in_ms: i64,
}

fn scan_code_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "scan_code_not_found",
        "This QR code is not a login waiting here; scan the code on the page again.",
    )
}

/// `POST /api/v1/token/logins/attach {"scanCode"}`: the token scanned a login QR. The login
/// becomes SCANNED (attaching again while it is SCANNED answers the same) and the token learns
/// who is asking.
async fn attach(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<ScanCode>,
) -> Result<Json<Requester>, ApiError> {
    state.check_creation_limit(client).await?;
    let hash = secret_hash(&body.scan_code);
    let (requester, id) = state
        .authority
        .storage
        .transaction(move |tx| {
            let id: Option<String> = tx
                .query_row(
                    "SELECT id FROM login_sessions WHERE scan_code_hash = ?1",
                    [&hash],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(id) = id else {
                return Ok(Err(scan_code_not_found()));
            };
            let Some(row) = load(tx, &id)? else {
                return Ok(Err(scan_code_not_found()));
            };
            match row.state {
                LoginState::Pending => {
                    set_state(tx, &id, LoginState::Scanned)?;
                    record(tx, "login.scanned", &id)?;
                }
                LoginState::Scanned => {}
                LoginState::Expired => return Ok(Err(expired())),
                other => return Ok(Err(wrong_state(other, "it no longer waits for a token"))),
            }
            let now = now_ms();
            Ok(Ok((
                Requester {
                    login_id: id.clone(),
                    state: LoginState::Scanned,
                    service: row.service,
                    browser: qrauth_core::login::describe_browser(&row.agent),
                    address: row.address,
                    requested_at: row.created_ms,
                    expires_at: row.expires_ms,
                    expires_in_ms: (row.expires_ms - now).max(0),
                },
                id,
            )))
        })
        .await??;
    state.login_watch.notify(&id);
    Ok(Json(requester))
}

/// What the token sees after approving or denying.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenView {
    login_id: String,
    state: LoginState,
}

/// Checks the scan code of login `id` for a token action; the login must be SCANNED.
fn scanned_login(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
    scan_code: &str,
) -> Result<Result<LoginRow, ApiError>, StorageError> {
    let Some(row) = load(tx, id)? else {
        return Ok(Err(not_found()));
    };
    if !check_hash(&row.scan_code_hash, scan_code) {
        return Ok(Err(scan_code_not_found()));
    }
    Ok(match row.state {
        LoginState::Scanned => Ok(row),
        LoginState::Expired => Err(expired()),
        other => Err(wrong_state(
            other,
            "only a scanned login can be approved or denied",
        )),
    })
}

/// `POST /api/v1/token/logins/{id}/approve {"scanCode"}`, signed with possession and knowledge
/// (or biometry): the login becomes APPROVED for the activation's user.
async fn approve(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: SignedJson<ScanCode>,
) -> Result<Json<TokenView>, ApiError> {
    let authorization = Authorization::from_headers(
        &headers,
        &[
            FactorType::PossessionKnowledge,
            FactorType::PossessionBiometry,
        ],
    )?;
    let authority = state.authority.clone();
    let row_id = id.clone();
    let view = state
        .authority
        .storage
        .transaction(move |tx| {
            if let Err(e) = scanned_login(tx, &row_id, &body.value.scan_code)? {
                return Ok(Err(e));
            }
            let signer =
                match authorization.check(tx, &authority, LOGIN_APPROVE_URI_ID, &body.raw)? {
                    Ok(signer) => signer,
                    Err(refusal) => return Ok(Err(refusal.into())),
                };
            tx.execute(
                "UPDATE login_sessions SET state = 'APPROVED', user_id = ?2, activation_id = ?3,
                    factors = ?4, expires_ms = ?5, updated_ms = ?6 WHERE id = ?1",
                params![
                    row_id,
                    signer.user_id,
                    signer.activation_id,
                    signer.factors.name(),
                    now_ms() + COMPLETION_GRACE_MS,
                    now_ms()
                ],
            )?;
            record(
                tx,
                "login.approved",
                &format!(
                    "{row_id} by {} user {:?}",
                    signer.activation_id, signer.user
                ),
            )?;
            Ok(Ok(TokenView {
                login_id: row_id.clone(),
                state: LoginState::Approved,
            }))
        })
        .await??;
    state.login_watch.notify(&id);
    Ok(Json(view))
}

/// `POST /api/v1/token/logins/{id}/deny {"scanCode"}`: the person refused the login. Needs no
/// signature: whoever holds the scan code may refuse, and refusing grants nothing.
async fn deny(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ScanCode>,
) -> Result<Json<TokenView>, ApiError> {
    let row_id = id.clone();
    let view = state
        .authority
        .storage
        .transaction(move |tx| {
            if let Err(e) = scanned_login(tx, &row_id, &body.scan_code)? {
                return Ok(Err(e));
            }
            set_state(tx, &row_id, LoginState::Denied)?;
            record(tx, "login.denied", &row_id)?;
            Ok(Ok(TokenView {
                login_id: row_id.clone(),
                state: LoginState::Denied,
            }))
        })
        .await??;
    state.login_watch.notify(&id);
    Ok(Json(view))
}
