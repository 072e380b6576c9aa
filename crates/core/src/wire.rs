//! The wire contract of `/api/v1`: every request and answer body, defined once and used by the
//! server that sends them, the token and the app that read them, the command line and the soak.
//! `docs/api.md` describes each endpoint; the npm package's TypeScript declarations are
//! generated from these types (`cargo xtask npm`), so no side writes the shapes by hand.
//!
//! Field names are camelCase on the wire; states and statuses are SCREAMING_SNAKE_CASE. Times
//! are milliseconds since the Unix epoch (`…At`) or from now (`…InMs`, for countdowns on a
//! monotonic clock).

use alloc::string::String;
use serde::{Deserialize, Serialize};

pub use crate::activation::ActivationStatus;
pub use crate::login::{Denial, LoginState};

/// Every error: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(tsify::Tsify), tsify(missing_as_null))]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// A code programs can rely on and a message for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(tsify::Tsify), tsify(missing_as_null))]
pub struct ErrorDetail {
    /// Stable, such as `login_expired`.
    pub code: String,
    /// A sentence for the person.
    pub message: String,
}

/// `GET /health`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(tsify::Tsify), tsify(missing_as_null))]
pub struct Health {
    /// `ok`, or `unavailable` when the storage does not answer.
    pub status: String,
    /// The server's version.
    pub version: String,
    /// `ok` or `unavailable`.
    pub storage: String,
}

/// A P-256 public key as a JWK (RFC 7517), with the key id tokens name in their header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(tsify::Tsify), tsify(missing_as_null))]
pub struct Jwk {
    /// `EC`.
    pub kty: String,
    /// `P-256`.
    pub crv: String,
    /// The point's x, unpadded URL-safe Base64.
    pub x: String,
    /// The point's y.
    pub y: String,
    /// `sig`.
    #[serde(rename = "use")]
    pub usage: String,
    /// `ES256`.
    pub alg: String,
    /// The key id.
    pub kid: String,
}

/// `GET /application`: what a token needs before it activates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(tsify::Tsify), tsify(missing_as_null))]
#[serde(rename_all = "camelCase")]
pub struct ApplicationInfo {
    /// The name tokens show as the service.
    pub service_name: String,
    /// `KEY_SERVER_MASTER_PUBLIC`, Base64 of the SEC1 point.
    pub master_public_key: String,
    /// Counter values the server tries past its own.
    pub lookahead: u32,
    /// Failed signatures before an activation is blocked.
    pub max_failed_attempts: u32,
    /// The key that signs identity tokens.
    pub identity_key: Jwk,
}

/// `POST /session`: password sign-in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(tsify::Tsify), tsify(missing_as_null))]
#[serde(deny_unknown_fields)]
pub struct PasswordSignIn {
    /// The user name.
    pub user: String,
    /// The password.
    pub password: String,
}

/// `GET /session`, `POST /session`: who is signed in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(tsify::Tsify), tsify(missing_as_null))]
pub struct SignedIn {
    /// The user name.
    pub user: String,
}

/// `POST /activations`: a new activation code, as its user sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(tsify::Tsify), tsify(missing_as_null))]
#[serde(rename_all = "camelCase")]
pub struct NewActivation {
    /// The activation's id.
    pub activation_id: String,
    /// `XXXXX-XXXXX-XXXXX-XXXXX`, for typing.
    pub activation_code: String,
    /// `CODE#SIGNATURE`, for the QR.
    pub activation_qr: String,
    /// When the code stops working.
    pub expires_at: i64,
    /// The same as a duration.
    pub expires_in_ms: u64,
}

/// `GET /activations`: an activation as its user and operators see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(tsify::Tsify), tsify(missing_as_null))]
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
    /// When the code was issued.
    pub created_at: i64,
    /// When the code stops (or stopped) working.
    pub code_expires_at: i64,
    /// When the token committed.
    pub committed_at: Option<i64>,
    /// When it last signed something valid.
    pub last_used_at: Option<i64>,
}

/// `POST /token/activations`: a token commits its device public key with a code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(tsify::Tsify), tsify(missing_as_null))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CommitRequest {
    /// The code as scanned or typed.
    pub activation_code: String,
    /// Base64 of the token's SEC1 P-256 public key.
    pub device_public_key: String,
    /// What the token calls itself (control characters dropped, at most 100 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
}

/// What a token receives when it commits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(tsify::Tsify), tsify(missing_as_null))]
#[serde(rename_all = "camelCase")]
pub struct Committed {
    /// The activation's id.
    pub activation_id: String,
    /// Whose token it is.
    pub user: String,
    /// Base64 of the server's public key for this activation.
    pub server_public_key: String,
    /// The initial counter, Base64 of 16 bytes.
    pub ctr_data: String,
    /// `KEY_SERVER_MASTER_PUBLIC`.
    pub master_public_key: String,
    /// `APPLICATION_SECRET`, the last segment of every online signature's data.
    pub application_secret: String,
    /// Failed signatures before the activation is blocked.
    pub max_failed_attempts: u32,
    /// Counter values the server tries past its own.
    pub lookahead: u32,
}

/// Where an activation stands after a refused signature, and what a token learns of its own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(tsify::Tsify), tsify(missing_as_null))]
#[serde(rename_all = "camelCase")]
pub struct Standing {
    /// The status.
    pub status: ActivationStatus,
    /// Failed signatures left before it is blocked.
    pub remaining_attempts: u32,
    /// Why it is blocked, when it is.
    pub blocked_reason: Option<String>,
}

/// `GET /token/activations/{id}`: where a token's activation stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(tsify::Tsify), tsify(missing_as_null))]
#[serde(rename_all = "camelCase")]
pub struct TokenStanding {
    /// The status.
    pub status: ActivationStatus,
    /// Failed signatures left before it is blocked.
    pub remaining_attempts: u32,
    /// Why it is blocked, when it is.
    pub blocked_reason: Option<String>,
    /// One past the last counter step the server accepted (0 before any), not a count of
    /// codes: a token whose own counter is past it knows how many of its codes the server has
    /// not seen yet.
    pub counter: u64,
}

/// `POST /logins`: a new login session, for the page that shows its QR.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(tsify::Tsify), tsify(missing_as_null))]
#[serde(rename_all = "camelCase")]
pub struct LoginCreated {
    /// The session's id.
    pub login_id: String,
    /// The page's proof of ownership; only this page has it.
    pub poll_secret: String,
    /// What the QR shows first: a link that opens the token, with the frame of step 0
    /// (`<link>.0.<mac>`, see `qrauth_core::frame`). The QR changes every second; a frame is
    /// accepted for a few seconds only.
    pub qr_text: String,
    /// The secret that makes the next frames (URL-safe Base64 of 32 bytes); only this page has
    /// it.
    pub qr_secret: String,
    /// `PENDING`.
    pub state: LoginState,
    /// When it expires.
    pub expires_at: i64,
    /// The same as a duration.
    pub expires_in_ms: u64,
    /// How often to poll without long-polling.
    pub poll_interval_ms: u64,
    /// The longest `wait` the server accepts.
    pub long_poll_max_seconds: u64,
}

/// `GET /logins/{id}`, `DELETE /logins/{id}`: a login as its page sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(tsify::Tsify), tsify(missing_as_null))]
#[serde(rename_all = "camelCase")]
pub struct LoginView {
    /// The session's id.
    pub login_id: String,
    /// Where it stands.
    pub state: LoginState,
    /// When it expires.
    pub expires_at: i64,
    /// The same as a duration; 0 once past.
    pub expires_in_ms: u64,
    /// While `SCANNED`, with number matching on: the two digits to show, which the person types
    /// on the token before Approve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// Once `DENIED`: why (`on_token`, `wrong_number`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denial: Option<Denial>,
}

/// The query of `GET /logins/{id}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(tsify::Tsify), tsify(missing_as_null))]
#[serde(rename_all = "camelCase")]
pub struct PollQuery {
    /// Seconds to wait for a change (long-poll), at most the server's maximum.
    #[serde(default)]
    pub wait: Option<u64>,
    /// The state the page already knows; a long-poll answers when the state differs.
    #[serde(default)]
    pub state: Option<LoginState>,
}

/// `POST /logins/{id}/complete`: what an approved login hands to its page, once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(tsify::Tsify), tsify(missing_as_null))]
#[serde(rename_all = "camelCase")]
pub struct LoginCompleted {
    /// The session's id.
    pub login_id: String,
    /// Who signed in.
    pub user: String,
    /// The factors the token proved, `POSSESSION_KNOWLEDGE`.
    pub factors: String,
    /// An ES256 JWT for the page's backend, checked with `/jwks.json`.
    pub id_token: String,
}

/// `POST /token/logins/attach`, `/approve`, `/deny`: the scan code from the QR.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(tsify::Tsify), tsify(missing_as_null))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScanCode {
    /// The `#scan=` part of the QR link.
    pub scan_code: String,
}

/// `POST /token/logins/{id}/approve`: the scanned frame and, with number matching, the number
/// the person typed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(tsify::Tsify), tsify(missing_as_null))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LoginApproval {
    /// The `#scan=` part of the QR link the token attached with.
    pub scan_code: String,
    /// The two digits the page shows, as the person typed them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
}

/// `POST /token/logins/attach`: who is asking, as the token shows it before Approve and Deny.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(tsify::Tsify), tsify(missing_as_null))]
#[serde(rename_all = "camelCase")]
pub struct Requester {
    /// The session's id.
    pub login_id: String,
    /// `SCANNED`.
    pub state: LoginState,
    /// The service asking.
    pub service: String,
    /// The browser asking, `Chrome 131 on Linux`.
    pub browser: String,
    /// The browser's address as the server saw it.
    pub address: String,
    /// When the page asked.
    pub requested_at: i64,
    /// When the session expires.
    pub expires_at: i64,
    /// The same as a duration.
    pub expires_in_ms: u64,
    /// Approve needs the two digits the page shows (number matching): ask the person for them.
    pub number_matching: bool,
}

/// `POST /token/logins/{id}/approve` and `/deny`: what the token sees after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(tsify::Tsify), tsify(missing_as_null))]
#[serde(rename_all = "camelCase")]
pub struct LoginDecision {
    /// The session's id.
    pub login_id: String,
    /// `APPROVED` or `DENIED`.
    #[cfg_attr(feature = "ts", tsify(type = "\"APPROVED\" | \"DENIED\""))]
    pub state: LoginState,
}

/// `POST /operations`: a payment or a login to approve with a typed code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(tsify::Tsify), tsify(missing_as_null))]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum CreateOperation {
    /// A payment to an account.
    Payment {
        /// `1250.00`: positive, at most two decimals.
        amount: String,
        /// ISO 4217 letters.
        currency: String,
        /// The payee's IBAN; spaces are ignored.
        iban: String,
        /// Who is paid, at most 70 characters.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        payee: Option<String>,
        /// A note, at most 140 characters.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        /// Whose token approves it; the signed-in user when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user: Option<String>,
        /// Letters of B, X, F, C.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        flags: Option<String>,
    },
    /// Signing in.
    Login {
        /// Whose token approves it; the signed-in user when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user: Option<String>,
        /// Letters of B, X, F, C.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        flags: Option<String>,
    },
}

/// Where an offline operation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(tsify::Tsify), tsify(missing_as_null))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OperationState {
    /// Waiting for its code.
    Pending,
    /// A code was accepted (final).
    Approved,
    /// Nobody typed a right code in time (final).
    Expired,
}

impl OperationState {
    /// Every state.
    pub const ALL: [OperationState; 3] = [Self::Pending, Self::Approved, Self::Expired];

    /// The state named `name` (as [`Self::as_str`] writes it).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == name)
    }

    /// The name the API uses, `PENDING`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Approved => "APPROVED",
            Self::Expired => "EXPIRED",
        }
    }

    /// The state at `now_ms` of an operation stored in this state that expires at
    /// `expires_at_ms`: a pending one whose time is up is expired.
    pub fn at(self, expires_at_ms: i64, now_ms: i64) -> Self {
        if self == Self::Pending && expires_at_ms <= now_ms {
            Self::Expired
        } else {
            self
        }
    }
}

/// `POST /operations`: a new operation, for the page that shows its QR.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(tsify::Tsify), tsify(missing_as_null))]
#[serde(rename_all = "camelCase")]
pub struct NewOperation {
    /// The operation's id.
    pub operation_id: String,
    /// `payment` or `login`.
    pub kind: String,
    /// The offline payload: the QR's text.
    pub payload: String,
    /// The payload's nonce (Base64 of 16 bytes).
    pub nonce: String,
    /// 1 when signed with the activation's key, 0 with the master key.
    pub key_type: u8,
    /// When it can no longer be approved.
    pub expires_at: i64,
    /// The same as a duration.
    pub expires_in_ms: u64,
    /// With the proximity check: milliseconds until this payload's TOTP step ends. The QR
    /// must then show the payload of the next step: get it from `GET /operations/{id}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_changes_in_ms: Option<u64>,
}

/// `GET /operations/{id}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(tsify::Tsify), tsify(missing_as_null))]
#[serde(rename_all = "camelCase")]
pub struct OperationView {
    /// The operation's id.
    pub operation_id: String,
    /// `payment` or `login`.
    pub kind: String,
    /// Whose token approves it.
    pub user: String,
    /// Where it stands.
    pub state: OperationState,
    /// The offline payload.
    pub payload: String,
    /// The payload's nonce.
    pub nonce: String,
    /// 1 or 0, as in [`NewOperation`].
    pub key_type: u8,
    /// When it can no longer be approved.
    pub expires_at: i64,
    /// The same as a duration; 0 once past.
    pub expires_in_ms: u64,
    /// With the proximity check: milliseconds until this payload's TOTP step ends. The QR
    /// must then show the payload of the next step: get it from `GET /operations/{id}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_changes_in_ms: Option<u64>,
}

/// `POST /operations/{id}/verify`: the code as the person typed it, in any shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(tsify::Tsify), tsify(missing_as_null))]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// `1234-5678-9012-3456`, spaces, dashes or `12345678-90123456`.
    pub code: String,
}

/// The answer to a typed code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(tsify::Tsify), tsify(missing_as_null))]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    /// True when the code was right.
    pub valid: bool,
    /// Where the operation stands now.
    pub operation_state: OperationState,
    /// Failed attempts left before the activation is blocked.
    pub remaining_attempts: u32,
    /// The activation's status; `null` when the user has no active activation.
    pub activation_status: Option<ActivationStatus>,
    /// Why it is blocked, when it is.
    pub blocked_reason: Option<String>,
    /// The factors the code proved, when valid.
    pub factors: Option<String>,
    /// For a login operation that was approved: who is now signed in.
    pub user: Option<String>,
}

impl Verdict {
    /// True when wrong codes blocked the activation: no code will be accepted any more.
    pub fn blocked(&self) -> bool {
        self.activation_status == Some(ActivationStatus::Blocked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_read_back_from_the_json_the_server_sends() {
        let view = LoginView {
            login_id: "l".into(),
            state: LoginState::Scanned,
            expires_at: 5,
            expires_in_ms: 0,
            number: Some("47".into()),
            denial: None,
        };
        let text = serde_json::to_string(&view).unwrap_or_default();
        assert_eq!(
            text,
            r#"{"loginId":"l","state":"SCANNED","expiresAt":5,"expiresInMs":0,"number":"47"}"#
        );
        assert_eq!(serde_json::from_str::<LoginView>(&text).ok(), Some(view));
        let denied = r#"{"loginId":"l","state":"DENIED","expiresAt":5,"expiresInMs":0,"denial":"wrong_number"}"#;
        let read = serde_json::from_str::<LoginView>(denied).ok();
        assert_eq!(read.and_then(|v| v.denial), Some(Denial::WrongNumber));
        let payment: Result<CreateOperation, _> = serde_json::from_str(
            r#"{"type":"payment","amount":"1","currency":"EUR","iban":"X","extra":1}"#,
        );
        assert!(payment.is_err(), "unknown fields are refused");
    }

    #[test]
    fn an_operation_expires_only_while_it_waits() {
        assert_eq!(OperationState::Pending.at(10, 9), OperationState::Pending);
        assert_eq!(OperationState::Pending.at(10, 10), OperationState::Expired);
        assert_eq!(
            OperationState::Approved.at(10, 99),
            OperationState::Approved
        );
    }
}
