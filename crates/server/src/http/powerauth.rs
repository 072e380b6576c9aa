//! PowerAuth Server's REST methods for offline authentication (spec §8; flows/powerauth.rs),
//! under the prefix the operator chose: the v3 names and their v4 aliases, in PowerAuth's
//! envelope (`{"requestObject": …}` in, `{"status": "OK", "responseObject": …}` out, errors
//! `{"status": "ERROR", "responseObject": {"code": "ERR00xx", "message": …}}`), for clients
//! that authenticate with HTTP basic as PowerAuth's integrations do.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::flows::powerauth::{
    MAX_PROXIMITY_STEPS, OfflineVerdict, OfflineVerification, PowerAuthError, ProximityCheck,
    SignedPayload,
};
use crate::flows::{Authority, iso_timestamp};
use crate::secrets::IntegrationClients;

/// What the PowerAuth methods share.
#[derive(Clone)]
pub(crate) struct PowerAuthState {
    pub(crate) authority: Authority,
    /// The `applicationId` the methods answer to and report.
    pub(crate) application_id: Arc<str>,
    pub(crate) clients: Arc<IntegrationClients>,
}

/// Which generation of PowerAuth's names a route answers with.
#[derive(Clone, Copy)]
enum Names {
    /// `/rest/v3/signature/offline/…`: `signature`, `signatureValid`, `signatureType`.
    V3,
    /// `/rest/v4/auth/offline/…`: `authenticationCode`, `authenticationValid`,
    /// `authenticationCodeType` (spec §8.6).
    V4,
}

pub(crate) fn routes(state: PowerAuthState) -> Router {
    Router::new()
        .route(
            "/rest/v3/signature/offline/personalized/create",
            post(personalized_create),
        )
        .route(
            "/rest/v4/auth/offline/personalized/create",
            post(personalized_create),
        )
        .route(
            "/rest/v3/signature/offline/non-personalized/create",
            post(non_personalized_create),
        )
        .route(
            "/rest/v4/auth/offline/non-personalized/create",
            post(non_personalized_create),
        )
        .route(
            "/rest/v3/signature/offline/verify",
            post(|state, headers, body| verify(state, headers, body, Names::V3)),
        )
        .route(
            "/rest/v4/auth/offline/verify",
            post(|state, headers, body| verify(state, headers, body, Names::V4)),
        )
        .route("/rest/v3/activation/list", post(activation_list))
        .fallback(|| async {
            Failure::new(
                StatusCode::NOT_FOUND,
                "ERR0024",
                "No such method here: see docs/powerauth.md for the methods qrauth serves.",
            )
        })
        .with_state(state)
}

/// An error in PowerAuth's envelope.
struct Failure {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl Failure {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Failure {
            status,
            code,
            message: message.into(),
        }
    }

    fn invalid(message: impl Into<String>) -> Self {
        Failure::new(StatusCode::BAD_REQUEST, "ERR0024", message)
    }
}

impl From<PowerAuthError> for Failure {
    fn from(error: PowerAuthError) -> Self {
        let status = match error {
            PowerAuthError::Storage(ref cause) => {
                eprintln!("qrauth: PowerAuth method: {cause}");
                return Failure::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    error.code(),
                    "The server could not complete the request; its log says why.",
                );
            }
            _ => StatusCode::BAD_REQUEST,
        };
        Failure::new(status, error.code(), error.to_string())
    }
}

impl From<crate::store::StorageError> for Failure {
    fn from(error: crate::store::StorageError) -> Self {
        PowerAuthError::from(error).into()
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let body = json!({
            "status": "ERROR",
            "responseObject": {"code": self.code, "message": self.message},
        });
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Basic realm=\"qrauth PowerAuth REST\""),
            );
        }
        response
    }
}

fn ok(response: Value) -> Response {
    Json(json!({"status": "OK", "responseObject": response})).into_response()
}

/// The client token of the request's HTTP basic credentials, or 401.
fn client<'a>(state: &'a PowerAuthState, headers: &HeaderMap) -> Result<&'a str, Failure> {
    let refused = |why: &str| {
        Failure::new(
            StatusCode::UNAUTHORIZED,
            "ERR_AUTHENTICATION",
            format!("{why}: these methods take HTTP basic with a client of --powerauth-clients."),
        )
    };
    let (token, secret) = super::extract::basic(headers)
        .ok_or_else(|| refused("No HTTP basic credentials (Base64 of token:secret)"))?;
    state
        .clients
        .authenticate(&token, &secret)
        .ok_or_else(|| refused("Wrong client token or secret"))
}

/// The `requestObject` of a PowerAuth request.
fn request_object<T: DeserializeOwned>(body: &[u8]) -> Result<T, Failure> {
    #[derive(Deserialize)]
    struct Envelope<T> {
        #[serde(rename = "requestObject")]
        request_object: Option<T>,
    }
    let envelope: Envelope<T> = serde_json::from_slice(body)
        .map_err(|e| Failure::invalid(format!("The body is not a PowerAuth request: {e}")))?;
    envelope
        .request_object
        .ok_or_else(|| Failure::invalid("requestObject is missing"))
}

/// A field the method cannot do without, present and not blank.
fn required(value: Option<String>, name: &str) -> Result<String, Failure> {
    value
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| Failure::invalid(format!("{name} is missing")))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProximityJson {
    seed: Option<String>,
    /// Seconds, as a number or as an ISO 8601 duration (`PT30S`), which is how Jackson may
    /// write a `java.time.Duration`.
    step_length: Option<Value>,
    step_count: Option<i64>,
}

impl ProximityJson {
    fn check(self) -> Result<ProximityCheck, Failure> {
        let seed = required(self.seed, "proximityCheck.seed")?;
        let seed = qrauth_core::base64::decode(&seed)
            .map_err(|_| Failure::invalid("proximityCheck.seed: not Base64"))?;
        let seconds = match self.step_length {
            None | Some(Value::Null) => Some(30),
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(text)) => iso_seconds(&text),
            Some(_) => None,
        }
        .filter(|s| (1..=3600).contains(s))
        .ok_or_else(|| {
            Failure::invalid("proximityCheck.stepLength: 1 to 3600 seconds (30, or \"PT30S\")")
        })?;
        let steps = self.step_count.unwrap_or(1);
        let steps = u32::try_from(steps)
            .ok()
            .filter(|s| *s <= MAX_PROXIMITY_STEPS)
            .ok_or_else(|| {
                Failure::invalid(format!(
                    "proximityCheck.stepCount: 0 to {MAX_PROXIMITY_STEPS}, not {steps}"
                ))
            })?;
        Ok(ProximityCheck {
            seed,
            step: Duration::from_secs(seconds),
            steps,
        })
    }
}

/// The seconds of an ISO 8601 duration of whole seconds or minutes (`PT30S`, `PT1M`).
fn iso_seconds(text: &str) -> Option<u64> {
    let rest = text.strip_prefix("PT")?;
    let (number, unit) = rest.split_at(rest.len().checked_sub(1)?);
    let number: u64 = number.parse().ok()?;
    match unit {
        "S" => Some(number),
        "M" => number.checked_mul(60),
        _ => None,
    }
}

fn payload_response(payload: SignedPayload) -> Response {
    ok(json!({"offlineData": payload.offline_data, "nonce": payload.nonce}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PersonalizedCreate {
    activation_id: Option<String>,
    data: Option<String>,
    nonce: Option<String>,
    proximity_check: Option<ProximityJson>,
}

/// `…/offline/personalized/create`.
async fn personalized_create(
    State(state): State<PowerAuthState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Failure> {
    let client = client(&state, &headers)?;
    let request: PersonalizedCreate = request_object(&body)?;
    let activation_id = required(request.activation_id, "activationId")?;
    let data = required(request.data, "data")?;
    let nonce = match request.nonce.filter(|n| !n.trim().is_empty()) {
        None => None,
        Some(text) => Some(
            (text.len() == 24)
                .then(|| qrauth_core::base64::decode(&text).ok())
                .flatten()
                .and_then(|bytes| <[u8; 16]>::try_from(bytes).ok())
                .ok_or_else(|| {
                    Failure::invalid("nonce: 16 bytes in Base64, 24 characters with == at the end")
                })?,
        ),
    };
    let proximity = request
        .proximity_check
        .map(ProximityJson::check)
        .transpose()?;
    if proximity.is_some() && nonce.is_none() {
        return Err(Failure::invalid("nonce: required with proximityCheck"));
    }
    let payload = state
        .authority
        .powerauth_personalized_payload(&activation_id, data, nonce, proximity, client)
        .await?;
    Ok(payload_response(payload))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NonPersonalizedCreate {
    /// A string, or a number as PowerAuth's older versions wrote it.
    application_id: Option<Value>,
    data: Option<String>,
}

/// An application id as text, whether sent as a string or a number.
fn application_id(value: Option<Value>) -> Option<String> {
    match value? {
        Value::String(text) => Some(text),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// `…/offline/non-personalized/create`.
async fn non_personalized_create(
    State(state): State<PowerAuthState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Failure> {
    let client = client(&state, &headers)?;
    let request: NonPersonalizedCreate = request_object(&body)?;
    let application = required(application_id(request.application_id), "applicationId")?;
    let data = required(request.data, "data")?;
    let payload = state
        .authority
        .powerauth_master_payload(&application, &state.application_id, &data, client)
        .await?;
    Ok(payload_response(payload))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VerifyJson {
    activation_id: Option<String>,
    data: Option<String>,
    signature: Option<String>,
    authentication_code: Option<String>,
    allow_biometry: Option<bool>,
    component_length: Option<Value>,
    proximity_check: Option<ProximityJson>,
}

/// `…/offline/verify`.
async fn verify(
    State(state): State<PowerAuthState>,
    headers: HeaderMap,
    body: Bytes,
    names: Names,
) -> Result<Response, Failure> {
    let client = client(&state, &headers)?;
    let request: VerifyJson = request_object(&body)?;
    let (code, code_name) = match names {
        Names::V3 => (request.signature, "signature"),
        Names::V4 => (request.authentication_code, "authenticationCode"),
    };
    let component_length = match request.component_length {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            value
                .as_u64()
                .and_then(|n| u8::try_from(n).ok())
                .ok_or_else(|| Failure::invalid("componentLength: a whole number, 4 to 8"))?,
        ),
    };
    let activation_id = required(request.activation_id, "activationId")?;
    let verification = OfflineVerification {
        activation_id: activation_id.clone(),
        data: required(request.data, "data")?,
        code: required(code, code_name)?,
        code_field: code_name,
        allow_biometry: request.allow_biometry.unwrap_or(false),
        component_length,
        proximity: request
            .proximity_check
            .map(ProximityJson::check)
            .transpose()?,
    };
    let verdict = state
        .authority
        .powerauth_verify(verification, client)
        .await?;
    let OfflineVerdict {
        valid,
        status,
        blocked_reason,
        user,
        factors,
        remaining_attempts,
    } = verdict;
    let (valid_name, type_name) = match names {
        Names::V3 => ("signatureValid", "signatureType"),
        Names::V4 => ("authenticationValid", "authenticationCodeType"),
    };
    let known = user.is_some();
    Ok(ok(json!({
        valid_name: valid,
        "activationStatus": status.as_str(),
        "blockedReason": blocked_reason,
        "activationId": activation_id,
        "userId": user,
        "applicationId": known.then(|| state.application_id.to_string()),
        type_name: factors.map(|f| f.name()),
        "remainingAttempts": remaining_attempts,
        "applicationRoles": [],
        "activationFlags": [],
    })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActivationListJson {
    user_id: Option<String>,
    application_id: Option<Value>,
    activation_statuses: Option<Vec<String>>,
}

/// `/rest/v3/activation/list`: the user's activations, newest first, so that an intermediate
/// application can let the person choose a token by its name and when it was activated.
async fn activation_list(
    State(state): State<PowerAuthState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Failure> {
    client(&state, &headers)?;
    let request: ActivationListJson = request_object(&body)?;
    let user = required(request.user_id, "userId")?;
    if let Some(application) = application_id(request.application_id)
        && application != *state.application_id
    {
        return Err(PowerAuthError::InvalidApplication(
            application,
            state.application_id.to_string(),
        )
        .into());
    }
    let statuses = request.activation_statuses.unwrap_or_default();
    let activations: Vec<Value> = state
        .authority
        .activations(&user, None)
        .await?
        .into_iter()
        .filter(|a| statuses.is_empty() || statuses.iter().any(|s| s == a.status.as_str()))
        .map(|a| {
            json!({
                "activationId": a.activation_id,
                "activationStatus": a.status.as_str(),
                "blockedReason": a.blocked_reason,
                "activationName": a.device_name,
                "protocol": "powerauth",
                "platform": "unknown",
                "activationFlags": [],
                "timestampCreated": iso_timestamp(a.created_at),
                "timestampActivated": a.committed_at.map(iso_timestamp),
                "timestampLastUsed": a.last_used_at.map(iso_timestamp),
                "userId": a.user,
                "applicationId": &*state.application_id,
                "failedAttempts": a.failed_attempts,
                "maxFailedAttempts": a.max_failed_attempts,
                "version": 3,
            })
        })
        .collect();
    Ok(ok(json!({"userId": user, "activations": activations})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_lengths_are_read_as_numbers_or_iso_durations() {
        assert_eq!(iso_seconds("PT30S"), Some(30));
        assert_eq!(iso_seconds("PT2M"), Some(120));
        for bad in ["30", "PT", "P1D", "PTxS", "PT30H"] {
            assert_eq!(iso_seconds(bad), None, "{bad}");
        }
    }
}
