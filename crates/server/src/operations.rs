//! Offline operations (spec §4, §7): a payment or a login the person approves by typing the
//! code their token computes from the operation's QR. Personalized (key type 1, signed with
//! the activation's server key) when the user has an active activation, otherwise signed with
//! the master key (key type 0). An operation is approved at most once.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use qrauth_core::operation::{Date, Decimal};
use qrauth_core::payload::{KeyType, PayloadContent, build_payload};
use qrauth_core::signature::{DEFAULT_COMPONENT_LENGTH, OFFLINE_URI_ID, offline_message};
use qrauth_core::{AuthCode, Field, Flags, OperationData};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::activations::{ActivationStatus, Refusal, Standing, active_activation, check_signature};
use crate::api::{ApiError, ApiJson};
use crate::authority::{Authority, open_activation_key};
use crate::secrets::{random, random_uuid};
use crate::storage::{StorageError, now_ms, record};

/// What is to be approved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OperationDetails {
    /// A payment to an account.
    Payment {
        /// The amount as written, such as `1250.00`: positive, at most two decimals.
        amount: String,
        /// ISO 4217, such as `EUR`.
        currency: String,
        /// The payee's IBAN; spaces are ignored.
        iban: String,
        /// Who is paid, at most 70 characters: the title becomes "Payment to {payee}".
        payee: Option<String>,
        /// A note for the payer, at most 140 characters.
        note: Option<String>,
    },
    /// Signing in.
    Login,
}

/// A request for an operation.
#[derive(Clone, Debug)]
pub struct OperationRequest {
    /// Whose token approves it.
    pub user: String,
    /// What it is.
    pub details: OperationDetails,
    /// Flags for the token (B, X, F, C).
    pub flags: Flags,
}

/// Why an operation could not be made.
#[derive(Debug)]
pub enum OperationError {
    /// A field is not valid; the message says which and why.
    InvalidField(String),
    /// The database failed.
    Storage(StorageError),
}

impl std::fmt::Display for OperationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OperationError::InvalidField(message) => f.write_str(message),
            OperationError::Storage(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for OperationError {}

impl From<StorageError> for OperationError {
    fn from(e: StorageError) -> Self {
        OperationError::Storage(e)
    }
}

/// A new operation, for the page that shows its QR.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewOperation {
    /// The operation's id.
    pub operation_id: String,
    /// `payment` or `login`.
    pub kind: &'static str,
    /// The offline payload: the QR's text.
    pub payload: String,
    /// The payload's nonce (Base64 of 16 bytes).
    pub nonce: String,
    /// 1 when signed with the activation's key, 0 with the master key.
    pub key_type: u8,
    /// When it can no longer be approved (ms since the epoch).
    pub expires_at: i64,
    /// The same as a duration, for countdowns on a monotonic clock.
    pub expires_in_ms: i64,
}

/// Checks an IBAN's length, characters and ISO 13616 check digits (mod 97).
fn valid_iban(iban: &str) -> bool {
    let bytes = iban.as_bytes();
    if !(15..=34).contains(&bytes.len())
        || !bytes[..2].iter().all(u8::is_ascii_uppercase)
        || !bytes[2..4].iter().all(u8::is_ascii_digit)
        || !bytes.iter().all(u8::is_ascii_alphanumeric)
    {
        return false;
    }
    let rearranged = bytes[4..].iter().chain(&bytes[..4]);
    let remainder = rearranged.fold(0u32, |acc, &b| {
        if b.is_ascii_digit() {
            (acc * 10 + u32::from(b - b'0')) % 97
        } else {
            (acc * 100 + u32::from(b.to_ascii_uppercase() - b'A' + 10)) % 97
        }
    });
    remainder == 1
}

/// Today's date in UTC.
fn today() -> Option<Date> {
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let days = now_ms().div_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Date::new(
        u16::try_from(year).ok()?,
        u8::try_from(month).ok()?,
        u8::try_from(day).ok()?,
    )
}

/// An optional text field, trimmed, at most `max` characters, on one line: the token shows it
/// as it is, so control characters have no place in it.
fn text_field<'a>(
    name: &str,
    value: &'a Option<String>,
    max: usize,
) -> Result<Option<&'a str>, OperationError> {
    let Some(value) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > max {
        return Err(OperationError::InvalidField(format!(
            "{name}: at most {max} characters"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(OperationError::InvalidField(format!(
            "{name}: one line of text, without control characters"
        )));
    }
    Ok(Some(value))
}

/// The title, message and operation data of a request.
fn describe(
    details: &OperationDetails,
    user: &str,
    service: &str,
) -> Result<(String, String, String), OperationError> {
    let invalid = |m: String| OperationError::InvalidField(m);
    match details {
        OperationDetails::Payment {
            amount,
            currency,
            iban,
            payee,
            note,
        } => {
            let amount_value = Decimal::parse(amount.trim())
                .filter(|d| d.units > 0 && d.scale <= 2)
                .ok_or_else(|| {
                    invalid(format!(
                        "amount {amount:?}: write a positive amount with at most two decimals, such as 1250.00"
                    ))
                })?;
            let currency = currency.trim().to_ascii_uppercase();
            if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(invalid(format!(
                    "currency {currency:?}: use a three-letter ISO 4217 code, such as EUR"
                )));
            }
            let iban: String = iban
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
                .to_ascii_uppercase();
            if !valid_iban(&iban) {
                return Err(invalid(format!(
                    "iban {iban:?}: not a valid IBAN (country, check digits, account)"
                )));
            }
            let payee = text_field("payee", payee, 70)?;
            let note = text_field("note", note, 140)?;
            let date =
                today().ok_or_else(|| invalid("the server's clock is out of range".into()))?;
            let fields = [
                Field::Amount {
                    amount: amount_value,
                    currency: currency.clone(),
                },
                Field::Iban {
                    iban: iban.clone(),
                    bic: None,
                },
                Field::Empty,
                Field::Date(date),
                note.map_or(Field::Empty, |n| Field::Note(n.to_owned())),
            ];
            let data = OperationData::build('A', 1, &fields)
                .map_err(|e| invalid(format!("operation data: {e}")))?;
            Ok((
                payee.map_or_else(|| "Payment".into(), |p| format!("Payment to {p}")),
                format!(
                    "Pay {} {currency} to {}",
                    amount.trim(),
                    Field::grouped_iban(&iban)
                ),
                data,
            ))
        }
        OperationDetails::Login => Ok((
            "Sign in".into(),
            format!("Sign in to {service} as {user}"),
            "A2".into(),
        )),
    }
}

impl Authority {
    /// Makes an offline operation and its signed payload.
    pub async fn create_operation(
        &self,
        request: OperationRequest,
    ) -> Result<NewOperation, OperationError> {
        if !crate::users::valid_name(&request.user) {
            return Err(OperationError::InvalidField(format!(
                "user {:?}: not a user name",
                request.user
            )));
        }
        let (title, message, operation_data) =
            describe(&request.details, &request.user, &self.policy.service_name)?;
        let id = random_uuid()?;
        let nonce = random::<16>()?;
        let now = now_ms();
        let expires_at = now + self.policy.operation_lifetime.as_millis() as i64;
        let kind = match request.details {
            OperationDetails::Payment { .. } => "payment",
            OperationDetails::Login => "login",
        };
        let authority = self.clone();
        let row_id = id.clone();
        let (payload, key_type) = self
            .storage
            .transaction(move |tx| {
                let activation = active_activation(tx, &request.user)?;
                let content = PayloadContent {
                    operation_id: row_id.clone(),
                    title,
                    message,
                    operation_data: operation_data.clone(),
                    flags: request.flags,
                    totp: None,
                };
                let (payload, key_type, activation_id) = match activation {
                    Some((activation_id, sealed)) => {
                        let key = open_activation_key(&authority.vault, &activation_id, &sealed)?;
                        let payload = build_payload(&content, &nonce, KeyType::Personalized, &key);
                        (payload, 1u8, Some(activation_id))
                    }
                    None => (
                        build_payload(&content, &nonce, KeyType::Master, &authority.keys.master),
                        0u8,
                        None,
                    ),
                };
                let payload = match payload {
                    Ok(payload) => payload,
                    Err(e) => return Ok(Err(OperationError::InvalidField(e.to_string()))),
                };
                tx.execute(
                    "INSERT INTO operations (id, kind, user_name, activation_id, key_type, payload,
                        nonce, operation_data, allow_biometry, state, created_ms, expires_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'PENDING', ?10, ?11)",
                    params![
                        row_id,
                        kind,
                        request.user,
                        activation_id,
                        key_type,
                        payload,
                        qrauth_core::base64::encode(&nonce),
                        operation_data,
                        request.flags.biometry,
                        now,
                        expires_at
                    ],
                )?;
                record(
                    tx,
                    "operation.created",
                    &format!(
                        "{row_id} {kind} for user {:?} key type {key_type}",
                        request.user
                    ),
                )?;
                Ok(Ok((payload, key_type)))
            })
            .await??;
        Ok(NewOperation {
            operation_id: id,
            kind,
            payload,
            nonce: qrauth_core::base64::encode(&nonce),
            key_type,
            expires_at,
            expires_in_ms: expires_at - now,
        })
    }
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/operations", post(create))
        .route("/operations/{id}", get(show))
        .route("/operations/{id}/verify", post(verify))
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
enum CreateBody {
    Payment {
        amount: String,
        currency: String,
        iban: String,
        #[serde(default)]
        payee: Option<String>,
        #[serde(default)]
        note: Option<String>,
        #[serde(default)]
        user: Option<String>,
        #[serde(default)]
        flags: Option<String>,
    },
    Login {
        #[serde(default)]
        user: Option<String>,
        #[serde(default)]
        flags: Option<String>,
    },
}

/// `POST /api/v1/operations`: a payment or login operation for the signed-in user or the
/// user named in the body.
async fn create(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<Response, ApiError> {
    state.check_creation_limit(client).await?;
    let (details, user, flags) = match body {
        CreateBody::Payment {
            amount,
            currency,
            iban,
            payee,
            note,
            user,
            flags,
        } => (
            OperationDetails::Payment {
                amount,
                currency,
                iban,
                payee,
                note,
            },
            user,
            flags,
        ),
        CreateBody::Login { user, flags } => (OperationDetails::Login, user, flags),
    };
    let flags = Flags::from_letters(flags.as_deref().unwrap_or_default()).map_err(|c| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            format!("flags: {c:?} is not one of B, X, F, C."),
        )
    })?;
    let user = match user {
        Some(user) => user,
        None => crate::session::signed_in_user(&state, &headers).await?,
    };
    let created = state
        .authority
        .create_operation(OperationRequest {
            user,
            details,
            flags,
        })
        .await
        .map_err(|e| match e {
            OperationError::InvalidField(message) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_operation",
                format!("{message}."),
            ),
            OperationError::Storage(e) => e.into(),
        })?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// Where an operation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum OperationState {
    Pending,
    Approved,
    Expired,
}

struct OperationRow {
    kind: String,
    user: String,
    activation_id: Option<String>,
    key_type: u8,
    payload: String,
    nonce: String,
    operation_data: String,
    allow_biometry: bool,
    state: OperationState,
    expires_ms: i64,
}

fn load(tx: &rusqlite::Transaction<'_>, id: &str) -> Result<Option<OperationRow>, StorageError> {
    let now = now_ms();
    Ok(tx
        .query_row(
            "SELECT kind, user_name, activation_id, key_type, payload, nonce, operation_data,
                allow_biometry, state, expires_ms FROM operations WHERE id = ?1",
            [id],
            |r| {
                let expires_ms: i64 = r.get(9)?;
                let state = match r.get::<_, String>(8)?.as_str() {
                    "APPROVED" => OperationState::Approved,
                    _ if expires_ms <= now => OperationState::Expired,
                    _ => OperationState::Pending,
                };
                Ok(OperationRow {
                    kind: r.get(0)?,
                    user: r.get(1)?,
                    activation_id: r.get(2)?,
                    key_type: r.get(3)?,
                    payload: r.get(4)?,
                    nonce: r.get(5)?,
                    operation_data: r.get(6)?,
                    allow_biometry: r.get(7)?,
                    state,
                    expires_ms,
                })
            },
        )
        .optional()?)
}

fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "operation_not_found",
        "No such operation.",
    )
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OperationView {
    operation_id: String,
    kind: String,
    user: String,
    state: OperationState,
    payload: String,
    nonce: String,
    key_type: u8,
    expires_at: i64,
    expires_in_ms: i64,
}

/// `GET /api/v1/operations/{id}`.
async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<OperationView>, ApiError> {
    let row_id = id.clone();
    let row = state
        .authority
        .storage
        .transaction(move |tx| load(tx, &row_id))
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(OperationView {
        operation_id: id,
        kind: row.kind,
        user: row.user,
        state: row.state,
        payload: row.payload,
        nonce: row.nonce,
        key_type: row.key_type,
        expires_at: row.expires_ms,
        expires_in_ms: (row.expires_ms - now_ms()).max(0),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyBody {
    code: String,
}

/// The answer to a typed code.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Verdict {
    valid: bool,
    operation_state: OperationState,
    /// Failed attempts left before the activation is blocked.
    remaining_attempts: u32,
    /// The activation's status; `null` when the user has no active activation.
    activation_status: Option<ActivationStatus>,
    blocked_reason: Option<String>,
    /// The factors the code proved, when valid.
    factors: Option<&'static str>,
    /// For a login operation that was approved: who is now signed in.
    user: Option<String>,
}

impl Verdict {
    fn refused(standing: Standing) -> Self {
        Verdict {
            valid: false,
            operation_state: OperationState::Pending,
            remaining_attempts: standing.remaining_attempts,
            activation_status: Some(standing.status),
            blocked_reason: standing.blocked_reason,
            factors: None,
            user: None,
        }
    }
}

/// `POST /api/v1/operations/{id}/verify {"code"}`: checks a typed code in any shape a person
/// types it. A malformed code is refused without counting; a wrong one counts one failed
/// attempt against the activation.
async fn verify(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<VerifyBody>,
) -> Result<Response, ApiError> {
    let code = AuthCode::parse(&body.code).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_code",
            format!("{e}."),
        )
    })?;
    let authority = state.authority.clone();
    let (verdict, user_id) = state
        .authority
        .storage
        .transaction(move |tx| {
            let Some(row) = load(tx, &id)? else {
                return Ok(Err(not_found()));
            };
            match row.state {
                OperationState::Pending => {}
                OperationState::Approved => {
                    return Ok(Err(ApiError::new(
                        StatusCode::CONFLICT,
                        "operation_already_approved",
                        "This operation was already approved; a code is accepted once.",
                    )));
                }
                OperationState::Expired => {
                    return Ok(Err(ApiError::new(
                        StatusCode::GONE,
                        "operation_expired",
                        "This operation has expired; start again for a new code.",
                    )));
                }
            }
            // Key type 0 operations learn the activation now: the user's active one.
            let activation_id = match row.activation_id.clone() {
                Some(id) => Some(id),
                None => active_activation(tx, &row.user)?.map(|(id, _)| id),
            };
            let Some(activation_id) = activation_id else {
                record(tx, "operation.no_activation", &id)?;
                return Ok(Ok((
                    Verdict {
                        valid: false,
                        operation_state: OperationState::Pending,
                        remaining_attempts: 0,
                        activation_status: None,
                        blocked_reason: None,
                        factors: None,
                        user: None,
                    },
                    None,
                )));
            };
            let nonce = qrauth_core::base64::decode(&row.nonce)
                .ok()
                .and_then(|b| <[u8; 16]>::try_from(b).ok())
                .ok_or_else(|| StorageError::from_message(format!("operation {id}: nonce")))?;
            let message = offline_message(OFFLINE_URI_ID, &nonce, &id, &row.operation_data, None);
            let check = check_signature(tx, &authority, &activation_id, |keys, ctr, lookahead| {
                qrauth_core::signature::verify_offline_code(
                    &code.canonical(),
                    keys,
                    ctr,
                    &message,
                    row.allow_biometry,
                    DEFAULT_COMPONENT_LENGTH,
                    lookahead,
                )
                .ok()
                .flatten()
            })?;
            Ok(Ok(match check {
                Ok(signer) if signer.user == row.user => {
                    tx.execute(
                        "UPDATE operations SET state = 'APPROVED', approved_ms = ?2, factors = ?3
                         WHERE id = ?1",
                        params![id, now_ms(), signer.factors.name()],
                    )?;
                    record(
                        tx,
                        "operation.approved",
                        &format!("{id} by {activation_id}"),
                    )?;
                    let login = row.kind == "login";
                    (
                        Verdict {
                            valid: true,
                            operation_state: OperationState::Approved,
                            remaining_attempts: signer.remaining_attempts,
                            activation_status: Some(ActivationStatus::Active),
                            blocked_reason: None,
                            factors: Some(signer.factors.name()),
                            user: login.then(|| signer.user.clone()),
                        },
                        login.then_some(signer.user_id),
                    )
                }
                Ok(_) | Err(Refusal::Unknown) => {
                    return Err(StorageError::from_message(format!(
                        "operation {id}: activation {activation_id} is not the user's"
                    )));
                }
                Err(Refusal::Invalid(standing) | Refusal::NotActive(standing)) => {
                    (Verdict::refused(standing), None)
                }
            }))
        })
        .await??;
    match user_id {
        Some(user_id) => {
            let cookie = state.start_browser_session(user_id).await?;
            Ok(([(header::SET_COOKIE, cookie)], Json(verdict)).into_response())
        }
        None => Ok(Json(verdict).into_response()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ibans_are_checked_by_their_check_digits() {
        assert!(valid_iban("CZ6508000000192000145399"));
        assert!(valid_iban("DE89370400440532013000"));
        assert!(!valid_iban("DE89370400440532013001"));
        assert!(!valid_iban("DE8937040044"));
        assert!(!valid_iban("XX89370400440532013000!"));
    }

    #[test]
    fn today_is_a_real_date() {
        let date = today().unwrap();
        assert!(date.year >= 2024);
    }
}
