//! Token activations (spec §3.4): a signed-in user asks for an activation code, a token commits
//! its device public key with it, and both sides derive the same keys. Also the failed-attempt
//! accounting that every signature check shares.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use qrauth_core::activation::{ActivationCode, fingerprint};
use qrauth_core::keys::{DerivedKeys, PublicKey, master_secret};
use qrauth_core::signature::ACTIVATION_REMOVE_URI_ID;
use qrauth_core::signature::{FactorKeys, SignatureMatch};
use qrauth_core::{CtrData, FactorType};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::{ApiError, ApiJson};
use crate::authority::{Authority, new_private_key, open_activation_key, seal_private};
use crate::secrets::{random, random_uuid, secret_hash};
use crate::session::signed_in_user;
use crate::signed::Authorization;
use crate::storage::{StorageError, now_ms, record};

/// The life of an activation, with PowerAuth's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ActivationStatus {
    /// The code was issued; no token has committed yet.
    Created,
    /// A token holds the keys and may sign.
    Active,
    /// Too many failed signatures; nothing it signs is accepted.
    Blocked,
    /// Removed by its user or the token, or its code expired unused.
    Removed,
}

impl ActivationStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Created => "CREATED",
            Self::Active => "ACTIVE",
            Self::Blocked => "BLOCKED",
            Self::Removed => "REMOVED",
        }
    }

    fn from_db(text: &str) -> Self {
        match text {
            "CREATED" => Self::Created,
            "ACTIVE" => Self::Active,
            "BLOCKED" => Self::Blocked,
            _ => Self::Removed,
        }
    }
}

/// Why an activation was blocked.
pub const MAX_FAILED_ATTEMPTS: &str = "MAX_FAILED_ATTEMPTS";

/// A new activation, as its user sees it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewActivation {
    /// The activation's id.
    pub activation_id: String,
    /// `XXXXX-XXXXX-XXXXX-XXXXX`, for typing.
    pub activation_code: String,
    /// `CODE#SIGNATURE`, for the QR.
    pub activation_qr: String,
    /// When the code stops working, in ms since the Unix epoch.
    pub expires_at: i64,
    /// The same as a duration, for countdowns on a monotonic clock.
    pub expires_in_ms: i64,
}

/// An activation as its user and operators see it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivationView {
    /// The activation's id.
    pub activation_id: String,
    /// Whose it is.
    pub user: String,
    /// Where it stands.
    pub status: ActivationStatus,
    /// What the token called itself.
    pub device_name: Option<String>,
    /// Eight digits both sides show once the token committed.
    pub fingerprint: Option<String>,
    /// Failed signatures since the last good one.
    pub failed_attempts: u32,
    /// Failed signatures allowed before the activation is blocked.
    pub max_failed_attempts: u32,
    /// What is left of them.
    pub remaining_attempts: u32,
    /// Why it is blocked, when it is.
    pub blocked_reason: Option<String>,
    /// When the code was issued (ms since the epoch).
    pub created_at: i64,
    /// When the code stops (or stopped) working.
    pub code_expires_at: i64,
    /// When the token committed.
    pub committed_at: Option<i64>,
    /// When it last signed something valid.
    pub last_used_at: Option<i64>,
}

const VIEW_COLUMNS: &str = "a.id, u.name, a.status, a.device_name, a.device_public,
    a.server_public, a.failed_attempts, a.max_failed_attempts, a.blocked_reason, a.created_ms,
    a.code_expires_ms, a.committed_ms, a.last_used_ms";

fn view_from_row(row: &rusqlite::Row<'_>, now: i64) -> rusqlite::Result<ActivationView> {
    let id: String = row.get(0)?;
    let device_public: Option<String> = row.get(4)?;
    let server_public: String = row.get(5)?;
    let mut status = ActivationStatus::from_db(&row.get::<_, String>(2)?);
    let code_expires_at: i64 = row.get(10)?;
    if status == ActivationStatus::Created && code_expires_at <= now {
        status = ActivationStatus::Removed;
    }
    let fingerprint = device_public.and_then(|device| {
        Some(fingerprint(
            &PublicKey::from_base64(&device).ok()?,
            &id,
            &PublicKey::from_base64(&server_public).ok()?,
        ))
    });
    let failed: u32 = row.get(6)?;
    let max: u32 = row.get(7)?;
    Ok(ActivationView {
        activation_id: id,
        user: row.get(1)?,
        status,
        device_name: row.get(3)?,
        fingerprint,
        failed_attempts: failed,
        max_failed_attempts: max,
        remaining_attempts: max.saturating_sub(failed),
        blocked_reason: row.get(8)?,
        created_at: row.get(9)?,
        code_expires_at,
        committed_at: row.get(11)?,
        last_used_at: row.get(12)?,
    })
}

/// Why an activation could not be made.
#[derive(Debug)]
pub enum ActivationError {
    /// No user of that name.
    UnknownUser,
    /// The database or the vault failed.
    Storage(StorageError),
}

impl std::fmt::Display for ActivationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ActivationError::UnknownUser => f.write_str("no user of that name"),
            ActivationError::Storage(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ActivationError {}

impl From<StorageError> for ActivationError {
    fn from(e: StorageError) -> Self {
        ActivationError::Storage(e)
    }
}

impl Authority {
    /// Issues an activation code for `user`: a new server key pair and counter, sealed and
    /// stored; the code itself is kept only as a hash.
    pub async fn create_activation(&self, user: &str) -> Result<NewActivation, ActivationError> {
        let id = random_uuid()?;
        let code = ActivationCode::from_random(random::<10>()?);
        let server_key = new_private_key()?;
        let sealed = seal_private(&self.vault, &format!("activation:{id}"), &server_key)?;
        let ctr = random::<16>()?;
        let now = now_ms();
        let expires_at = now + self.policy.activation_code_lifetime.as_millis() as i64;
        let user = user.to_owned();
        let code_hash = secret_hash(code.as_str());
        let max = self.policy.max_failed_attempts;
        let row_id = id.clone();
        let inserted = self
            .storage
            .transaction(move |tx| {
                let user_id: Option<i64> = tx
                    .query_row("SELECT id FROM users WHERE name = ?1", [&user], |r| {
                        r.get(0)
                    })
                    .optional()?;
                let Some(user_id) = user_id else {
                    return Ok(false);
                };
                tx.execute(
                    "INSERT INTO activations (id, user_id, status, code_hash, code_expires_ms,
                        server_private_sealed, server_public, ctr_data, max_failed_attempts,
                        created_ms) VALUES (?1, ?2, 'CREATED', ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    params![
                        row_id,
                        user_id,
                        code_hash,
                        expires_at,
                        sealed,
                        server_key.public_key().to_base64(),
                        ctr.to_vec(),
                        max,
                        now
                    ],
                )?;
                record(
                    tx,
                    "activation.created",
                    &format!("{row_id} for user {user:?}"),
                )?;
                Ok(true)
            })
            .await?;
        if !inserted {
            return Err(ActivationError::UnknownUser);
        }
        Ok(NewActivation {
            activation_id: id,
            activation_qr: code.qr_text(&self.keys.master),
            activation_code: code.as_str().to_owned(),
            expires_at,
            expires_in_ms: expires_at - now,
        })
    }

    /// The activations of `user`, newest first; `only` narrows to one id.
    pub async fn activations(
        &self,
        user: &str,
        only: Option<&str>,
    ) -> Result<Vec<ActivationView>, StorageError> {
        let user = user.to_owned();
        let only = only.map(str::to_owned);
        let now = now_ms();
        self.storage
            .transaction(move |tx| {
                let mut statement = tx.prepare(&format!(
                    "SELECT {VIEW_COLUMNS} FROM activations a JOIN users u ON u.id = a.user_id
                     WHERE u.name = ?1 AND (?2 IS NULL OR a.id = ?2)
                     ORDER BY a.created_ms DESC, a.id"
                ))?;
                let views = statement
                    .query_map(params![user, only], |row| view_from_row(row, now))?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(views)
            })
            .await
    }

    /// Removes an activation of `user`; false when there is none of that id.
    pub async fn remove_activation(&self, user: &str, id: &str) -> Result<bool, StorageError> {
        let user = user.to_owned();
        let id = id.to_owned();
        self.storage
            .transaction(move |tx| {
                let changed = tx.execute(
                    "UPDATE activations SET status = 'REMOVED', code_hash = NULL
                     WHERE id = ?1 AND user_id = (SELECT id FROM users WHERE name = ?2)",
                    params![id, user],
                )?;
                if changed > 0 {
                    record(tx, "activation.removed", &format!("{id} by user {user:?}"))?;
                }
                Ok(changed > 0)
            })
            .await
    }

    /// Unblocks an activation after too many failed attempts (an operator's decision).
    pub async fn unblock_activation(&self, id: &str) -> Result<bool, StorageError> {
        let id = id.to_owned();
        self.storage
            .transaction(move |tx| {
                let changed = tx.execute(
                    "UPDATE activations SET status = 'ACTIVE', failed_attempts = 0,
                        blocked_reason = NULL WHERE id = ?1 AND status = 'BLOCKED'",
                    [&id],
                )?;
                if changed > 0 {
                    record(tx, "activation.unblocked", &id)?;
                }
                Ok(changed > 0)
            })
            .await
    }
}

/// Why a signature did not authorize a request.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// It did not match; one more failed attempt was counted.
    Invalid(Standing),
    /// The activation cannot sign (created, blocked, removed); nothing was counted.
    NotActive(Standing),
    /// No activation of that id.
    Unknown,
}

/// Who signed: the signature matched, the counter moved on and failed attempts were reset.
#[derive(Debug)]
pub(crate) struct Signer {
    pub(crate) activation_id: String,
    pub(crate) user_id: i64,
    pub(crate) user: String,
    pub(crate) factors: FactorType,
    pub(crate) remaining_attempts: u32,
}

/// Where an activation stands after a refused signature.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Standing {
    pub(crate) status: ActivationStatus,
    pub(crate) remaining_attempts: u32,
    pub(crate) blocked_reason: Option<String>,
}

/// Checks a signature against the activation `id` inside `tx` (spec §7.2): `verify` gets the
/// factor keys, the stored counter and the look-ahead. A match stores the next counter and
/// resets failures; a mismatch counts a failure and blocks at the maximum. Both are audited.
pub(crate) fn check_signature(
    tx: &rusqlite::Transaction<'_>,
    authority: &Authority,
    id: &str,
    verify: impl FnOnce(&FactorKeys, &CtrData, u32) -> Option<SignatureMatch>,
) -> Result<Result<Signer, Refusal>, StorageError> {
    let row = tx
        .query_row(
            "SELECT a.status, a.user_id, u.name, a.server_private_sealed, a.device_public,
                a.ctr_data, a.failed_attempts, a.max_failed_attempts, a.blocked_reason
             FROM activations a JOIN users u ON u.id = a.user_id WHERE a.id = ?1",
            [id],
            |r| {
                Ok((
                    ActivationStatus::from_db(&r.get::<_, String>(0)?),
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Vec<u8>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Vec<u8>>(5)?,
                    r.get::<_, u32>(6)?,
                    r.get::<_, u32>(7)?,
                    r.get::<_, Option<String>>(8)?,
                ))
            },
        )
        .optional()?;
    let Some((status, user_id, user, sealed, device, ctr, failed, max, reason)) = row else {
        return Ok(Err(Refusal::Unknown));
    };
    let standing = |status, failed: u32, reason| Standing {
        status,
        remaining_attempts: max.saturating_sub(failed),
        blocked_reason: reason,
    };
    let Some(device) = device.filter(|_| status == ActivationStatus::Active) else {
        return Ok(Err(Refusal::NotActive(standing(status, failed, reason))));
    };
    let bad_row = |what: &str| StorageError::from_message(format!("activation {id}: {what}"));
    let device = PublicKey::from_base64(&device).map_err(|e| bad_row(&e.to_string()))?;
    let ctr = CtrData::from_slice(&ctr).map_err(|e| bad_row(&e.to_string()))?;
    let server_key = open_activation_key(&authority.vault, id, &sealed)?;
    let keys = DerivedKeys::from_master_secret(&master_secret(&server_key, &device)).factor_keys();
    let now = now_ms();
    match verify(&keys, &ctr, authority.policy.lookahead) {
        Some(matched) => {
            tx.execute(
                "UPDATE activations SET ctr_data = ?2, counter = counter + ?3,
                    failed_attempts = 0, last_used_ms = ?4 WHERE id = ?1",
                params![id, matched.next_ctr.as_bytes().to_vec(), matched.steps, now],
            )?;
            record(
                tx,
                "signature.valid",
                &format!("{id} {}", matched.factors.name()),
            )?;
            Ok(Ok(Signer {
                activation_id: id.to_owned(),
                user_id,
                user,
                factors: matched.factors,
                remaining_attempts: max,
            }))
        }
        None => {
            let failed = failed + 1;
            let blocked = failed >= max;
            let (status, reason) = if blocked {
                (
                    ActivationStatus::Blocked,
                    Some(MAX_FAILED_ATTEMPTS.to_owned()),
                )
            } else {
                (ActivationStatus::Active, None)
            };
            tx.execute(
                "UPDATE activations SET failed_attempts = ?2, status = ?3, blocked_reason = ?4
                 WHERE id = ?1",
                params![id, failed, status.as_str(), reason],
            )?;
            record(
                tx,
                "signature.invalid",
                &format!("{id} attempt {failed} of {max}"),
            )?;
            if blocked {
                record(
                    tx,
                    "activation.blocked",
                    &format!("{id} {MAX_FAILED_ATTEMPTS}"),
                )?;
            }
            Ok(Err(Refusal::Invalid(standing(status, failed, reason))))
        }
    }
}

/// The newest active activation of a user, if any.
pub(crate) fn active_activation(
    tx: &rusqlite::Transaction<'_>,
    user: &str,
) -> Result<Option<(String, Vec<u8>)>, rusqlite::Error> {
    tx.query_row(
        "SELECT a.id, a.server_private_sealed FROM activations a JOIN users u ON u.id = a.user_id
         WHERE u.name = ?1 AND a.status = 'ACTIVE' ORDER BY a.committed_ms DESC, a.id LIMIT 1",
        [user],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/application", get(application))
        .route("/activations", post(create).get(list))
        .route("/activations/{id}", get(one).delete(remove))
        .route("/token/activations", post(commit))
        .route("/token/activations/{id}", get(token_status))
        .route("/token/activations/{id}/remove", post(token_remove))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApplicationInfo {
    service_name: String,
    master_public_key: String,
    lookahead: u32,
    max_failed_attempts: u32,
    identity_key: crate::identity::Jwk,
}

/// `GET /api/v1/application`: what a token needs before it activates.
async fn application(State(state): State<AppState>) -> Json<ApplicationInfo> {
    let authority = &state.authority;
    Json(ApplicationInfo {
        service_name: authority.policy.service_name.clone(),
        master_public_key: authority.keys.master_public.clone(),
        lookahead: authority.policy.lookahead,
        max_failed_attempts: authority.policy.max_failed_attempts,
        identity_key: authority.keys.identity_jwk.clone(),
    })
}

/// `POST /api/v1/activations`: a new activation code for the signed-in user.
async fn create(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let user = signed_in_user(&state, &headers).await?;
    state.check_creation_limit(client).await?;
    let created = state
        .authority
        .create_activation(&user)
        .await
        .map_err(|e| match e {
            ActivationError::Storage(e) => ApiError::from(e),
            // The session names a user that was deleted since.
            ActivationError::UnknownUser => {
                ApiError::new(StatusCode::UNAUTHORIZED, "not_signed_in", "Sign in first.")
            }
        })?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// `GET /api/v1/activations`: the signed-in user's activations.
async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<ActivationView>>, ApiError> {
    let user = signed_in_user(&state, &headers).await?;
    Ok(Json(state.authority.activations(&user, None).await?))
}

fn activation_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "activation_not_found",
        "No such activation.",
    )
}

/// `GET /api/v1/activations/{id}`: one of the signed-in user's activations.
async fn one(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<ActivationView>, ApiError> {
    let user = signed_in_user(&state, &headers).await?;
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
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let user = signed_in_user(&state, &headers).await?;
    if state.authority.remove_activation(&user, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(activation_not_found())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Commit {
    activation_code: String,
    device_public_key: String,
    #[serde(default)]
    device_name: Option<String>,
}

/// What a token receives when it commits.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Committed {
    activation_id: String,
    user: String,
    server_public_key: String,
    ctr_data: String,
    master_public_key: String,
    application_secret: String,
    max_failed_attempts: u32,
    lookahead: u32,
}

/// `POST /api/v1/token/activations`: a token commits its device public key with a code.
async fn commit(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<Commit>,
) -> Result<Response, ApiError> {
    state.check_creation_limit(client).await?;
    let code = ActivationCode::parse(&body.activation_code).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_activation_code",
            format!("{e}."),
        )
    })?;
    let device = PublicKey::from_base64(&body.device_public_key).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_public_key",
            format!("devicePublicKey: {e}; send Base64 of a SEC1 P-256 point."),
        )
    })?;
    let device_name = body.device_name.map(|name| {
        name.chars()
            .filter(|c| !c.is_control())
            .take(100)
            .collect::<String>()
    });
    let code_hash = secret_hash(code.as_str());
    let authority = state.authority.clone();
    let now = now_ms();
    let outcome = state
        .authority
        .storage
        .transaction(move |tx| {
            let row: Option<(String, String, String, i64, Vec<u8>)> = tx
                .query_row(
                    "SELECT a.id, u.name, a.server_public, a.code_expires_ms, a.ctr_data
                     FROM activations a JOIN users u ON u.id = a.user_id
                     WHERE a.code_hash = ?1 AND a.status = 'CREATED'",
                    [&code_hash],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )
                .optional()?;
            let Some((id, user, server_public, expires, ctr)) = row else {
                return Ok(Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    "activation_code_not_found",
                    "This activation code is unknown or was already used; ask for a new one.",
                )));
            };
            if expires <= now {
                tx.execute(
                    "UPDATE activations SET status = 'REMOVED', code_hash = NULL WHERE id = ?1",
                    [&id],
                )?;
                record(tx, "activation.code_expired", &id)?;
                return Ok(Err(ApiError::new(
                    StatusCode::GONE,
                    "activation_code_expired",
                    "This activation code has expired; ask for a new one.",
                )));
            }
            tx.execute(
                "UPDATE activations SET status = 'ACTIVE', code_hash = NULL, device_public = ?2,
                    device_name = ?3, committed_ms = ?4 WHERE id = ?1",
                params![id, device.to_base64(), device_name, now],
            )?;
            record(
                tx,
                "activation.committed",
                &format!("{id} for user {user:?}"),
            )?;
            let ctr = CtrData::from_slice(&ctr)
                .map_err(|e| StorageError::from_message(format!("activation {id}: {e}")))?;
            Ok(Ok(Committed {
                activation_id: id,
                user,
                server_public_key: server_public,
                ctr_data: ctr.to_base64(),
                master_public_key: authority.keys.master_public.clone(),
                application_secret: authority.keys.application_secret.clone(),
                max_failed_attempts: authority.policy.max_failed_attempts,
                lookahead: authority.policy.lookahead,
            }))
        })
        .await??;
    Ok((StatusCode::CREATED, Json(outcome)).into_response())
}

/// `GET /api/v1/token/activations/{id}`: where a token's activation stands.
async fn token_status(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<TokenStanding>, ApiError> {
    let now = now_ms();
    let view = state
        .authority
        .storage
        .transaction(move |tx| {
            Ok(tx
                .query_row(
                    &format!(
                        "SELECT {VIEW_COLUMNS}, a.counter FROM activations a
                         JOIN users u ON u.id = a.user_id WHERE a.id = ?1"
                    ),
                    [&id],
                    |row| Ok((view_from_row(row, now)?, row.get::<_, i64>(13)?)),
                )
                .optional()?)
        })
        .await?
        .ok_or_else(activation_not_found)?;
    let (view, counter) = view;
    Ok(Json(TokenStanding {
        standing: Standing {
            status: view.status,
            remaining_attempts: view.remaining_attempts,
            blocked_reason: view.blocked_reason,
        },
        counter,
    }))
}

/// What a token learns about its own activation.
#[derive(Serialize)]
pub(crate) struct TokenStanding {
    #[serde(flatten)]
    standing: Standing,
    /// How many counter steps the server has accepted since the activation: a token that has
    /// made more codes than this knows how many the server has not seen yet.
    counter: i64,
}

/// `POST /api/v1/token/activations/{id}/remove`: the token removes itself, signed with its
/// possession key (any body; the signature covers it).
async fn token_remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<StatusCode, ApiError> {
    let authorization = Authorization::from_headers(
        &headers,
        &[
            FactorType::Possession,
            FactorType::PossessionKnowledge,
            FactorType::PossessionBiometry,
        ],
    )?;
    if authorization.activation_id() != id {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_authorization",
            "pa_activation_id does not name this activation.",
        ));
    }
    let authority = state.authority.clone();
    state
        .authority
        .storage
        .transaction(move |tx| {
            let signer =
                match authorization.check(tx, &authority, ACTIVATION_REMOVE_URI_ID, &body)? {
                    Ok(signer) => signer,
                    Err(refusal) => return Ok(Err(refusal.into())),
                };
            tx.execute(
                "UPDATE activations SET status = 'REMOVED' WHERE id = ?1",
                [&signer.activation_id],
            )?;
            record(
                tx,
                "activation.removed",
                &format!("{} by its token", signer.activation_id),
            )?;
            Ok(Ok(StatusCode::NO_CONTENT))
        })
        .await?
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Unknown => activation_not_found(),
            Refusal::Invalid(standing) if standing.status == ActivationStatus::Blocked => {
                ApiError::new(
                    StatusCode::FORBIDDEN,
                    "activation_blocked",
                    "The signature is wrong, and that was the last attempt: the activation is blocked.",
                )
            }
            Refusal::Invalid(standing) => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "signature_invalid",
                format!(
                    "The signature is wrong (a wrong PIN gives a wrong signature); {} attempts left.",
                    standing.remaining_attempts
                ),
            ),
            Refusal::NotActive(standing) => ApiError::new(
                StatusCode::FORBIDDEN,
                match standing.status {
                    ActivationStatus::Blocked => "activation_blocked",
                    _ => "activation_not_active",
                },
                format!(
                    "The activation is {} and cannot sign.",
                    standing.status.as_str().to_lowercase()
                ),
            ),
        }
    }
}
