//! Offline operations (spec §4, §7): a payment or a login the person approves by typing the
//! code their token computes from the operation's QR. Personalized (key type 1, signed with
//! the activation's server key) when the user has an active activation, otherwise signed with
//! the master key (key type 0). An operation is approved at most once.

use qrauth_core::keys::PrivateKey;
use qrauth_core::operation::{Date, Decimal};
use qrauth_core::payload::{KeyType, OfflinePayload, PayloadContent, build_payload};
use qrauth_core::signature::{
    DEFAULT_COMPONENT_LENGTH, OFFLINE_URI_ID, SignatureFormat, has_possession_component,
    offline_message,
};
use qrauth_core::totp::proximity_totp;
use qrauth_core::wire::{CreateOperation, NewOperation, OperationState, OperationView, Verdict};
use qrauth_core::{ActivationStatus, AuthCode, CodeError, Field, Flags, OperationData};

use super::attempts::{Attempt, Counting, SignatureError};
use super::{Authority, ms_until, open_activation_key};
use crate::secrets::{random, random_uuid};
use crate::store::{NewOperationRow, OperationRow, StorageError, Tx, now_ms};

/// The step length of a proximity payload when the server no longer names one: PowerAuth's
/// usual 30 s.
const DEFAULT_PROXIMITY_STEP: std::time::Duration = std::time::Duration::from_secs(30);

/// The TOTP step (`floor(unix time / step length)`) at `now_ms`, and the milliseconds until it
/// ends.
fn proximity_step(now_ms: i64, step: std::time::Duration) -> (u64, u64) {
    let length = (step.as_millis() as u64).max(1);
    let now = u64::try_from(now_ms).unwrap_or(0);
    (now / length, length - now % length)
}

/// A code refused with nothing said of the activation: the answer for a user with no token, and
/// for every refused login.
fn refused_without_standing() -> Verdict {
    Verdict {
        valid: false,
        operation_state: OperationState::Pending,
        remaining_attempts: 0,
        activation_status: None,
        blocked_reason: None,
        factors: None,
        user: None,
    }
}

/// Who asks for an operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// The operator (a bank's backend, the command line): may name any user.
    Operator,
    /// A browser signed in as this user.
    SignedIn(String),
    /// Anyone else.
    Anonymous,
}

/// Why an operation could not be made or approved.
#[derive(Debug, thiserror::Error)]
pub enum OperationError {
    /// A field is not valid; the message says which and why.
    #[error("{0}")]
    InvalidField(String),
    /// No operation of that id.
    #[error("no such operation")]
    NotFound,
    /// A code was accepted already.
    #[error("this operation was already approved")]
    AlreadyApproved,
    /// Its time is up.
    #[error("this operation has expired")]
    Expired,
    /// The typed text is not a code.
    #[error("{0}")]
    InvalidCode(CodeError),
    /// A flag letter other than B, X, F and C.
    #[error("flags: {0:?} is not one of B, X, F, C")]
    InvalidFlag(char),
    /// The request names no user and comes from no signed-in browser.
    #[error("the operation names no user")]
    NoUser,
    /// A payment asked from a browser that is not signed in.
    #[error("a payment is made from its payer's own session")]
    PaymentNeedsSession,
    /// A signed-in user asked for another user's payment.
    #[error("a payment can only be for the signed-in user")]
    NotYourAccount,
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl crate::store::Outcome for OperationError {
    fn rolls_back(&self) -> bool {
        matches!(self, OperationError::Storage(_))
    }
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
    let (year, month, day) = super::utc_date(now_ms());
    Date::new(u16::try_from(year).ok()?, month, day)
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
    details: &CreateOperation,
    user: &str,
    service: &str,
) -> Result<(String, String, String), OperationError> {
    let invalid = |m: String| OperationError::InvalidField(m);
    match details {
        CreateOperation::Payment {
            amount,
            currency,
            iban,
            payee,
            note,
            ..
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
        CreateOperation::Login { .. } => Ok((
            "Sign in".into(),
            format!("Sign in to {service} as {user}"),
            "A2".into(),
        )),
    }
}

impl Authority {
    /// Makes an offline operation and its signed payload, as `caller` may: a payment only for
    /// the signed-in user (or any user the operator names), a login for the user it names.
    pub async fn create_operation(
        &self,
        request: CreateOperation,
        caller: Caller,
    ) -> Result<NewOperation, OperationError> {
        let (named, flags) = match &request {
            CreateOperation::Payment { user, flags, .. }
            | CreateOperation::Login { user, flags } => (user.clone(), flags),
        };
        let flags = Flags::from_letters(flags.as_deref().unwrap_or_default())
            .map_err(OperationError::InvalidFlag)?;
        let payment = matches!(request, CreateOperation::Payment { .. });
        let user = match (caller, named) {
            (Caller::Operator, Some(user)) => user,
            (Caller::Operator, None) => {
                return Err(OperationError::InvalidField(
                    "user: name the user the operation is for".into(),
                ));
            }
            (Caller::SignedIn(me), Some(user)) if payment && user != me => {
                return Err(OperationError::NotYourAccount);
            }
            (Caller::SignedIn(me), named) => named.unwrap_or(me),
            (Caller::Anonymous, _) if payment => return Err(OperationError::PaymentNeedsSession),
            (Caller::Anonymous, Some(user)) => user,
            (Caller::Anonymous, None) => return Err(OperationError::NoUser),
        };
        if !super::users::valid_name(&user) {
            return Err(OperationError::InvalidField(format!(
                "user {user:?}: not a user name"
            )));
        }
        let (title, message, operation_data) =
            describe(&request, &user, &self.policy.service_name)?;
        let id = random_uuid()?;
        let nonce = random::<16>()?;
        let nonce_text = qrauth_core::base64::encode(&nonce);
        let now = now_ms();
        let expires_at = now + self.policy.operation_lifetime.as_millis() as i64;
        let kind = if payment { "payment" } else { "login" };
        let proximity = self.policy.offline_proximity;
        let authority = self.clone();
        let (row_id, row_nonce) = (id.clone(), nonce_text.clone());
        let (payload, key_type) = self
            .storage
            .transaction(move |tx| -> Result<_, OperationError> {
                let content = PayloadContent {
                    operation_id: row_id.clone(),
                    title: title.clone(),
                    message: message.clone(),
                    operation_data: operation_data.clone(),
                    flags,
                    totp: proximity.map(|step| {
                        let seed = authority.vault.proximity_seed(&row_id);
                        proximity_totp(&seed, proximity_step(now, step).0)
                    }),
                };
                // A login can be asked for by anyone who knows a name, so it is signed with the
                // master key whether or not the user has a token: its key type tells nothing.
                // A payment is personalized for the user's token; a user with several (two
                // browsers, a phone and a laptop) gets a master-signed payload that each of
                // them verifies, and the code is checked against every one (verify below).
                let mut tokens = if payment {
                    tx.active_activations(&user)?
                } else {
                    Vec::new()
                };
                let personal = if tokens.len() == 1 {
                    tokens.pop()
                } else {
                    None
                };
                let (payload, key_type, activation_id) = match personal {
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
                let payload = payload.map_err(|e| OperationError::InvalidField(e.to_string()))?;
                tx.insert_operation(&NewOperationRow {
                    id: &row_id,
                    kind,
                    user: &user,
                    activation_id: activation_id.as_deref(),
                    key_type,
                    payload: &payload,
                    nonce: &row_nonce,
                    operation_data: &operation_data,
                    allow_biometry: flags.biometry,
                    created_ms: now,
                    expires_ms: expires_at,
                })?;
                tx.record(
                    "operation.created",
                    &format!("{row_id} {kind} for user {user:?} key type {key_type}"),
                )?;
                Ok((payload, key_type))
            })
            .await?;
        Ok(NewOperation {
            operation_id: id,
            kind: kind.to_owned(),
            payload,
            nonce: nonce_text,
            key_type,
            expires_at,
            expires_in_ms: ms_until(expires_at, now),
            payload_changes_in_ms: proximity.map(|step| proximity_step(now, step).1),
        })
    }

    /// `row`'s payload and the step length of its proximity check, if it has one: the
    /// server's, or the usual one if the server no longer checks proximity for new operations.
    fn proximity_of(&self, row: &OperationRow) -> Option<(OfflinePayload, std::time::Duration)> {
        let payload = OfflinePayload::parse(&row.payload).ok()?;
        payload.totp.as_ref()?;
        let step = self
            .policy
            .offline_proximity
            .unwrap_or(DEFAULT_PROXIMITY_STEP);
        Some((payload, step))
    }

    /// `payload`, of pending operation `id`, for the TOTP step at `now_ms`, signed anew with
    /// the key its key type names; with the milliseconds until the step ends.
    fn payload_at(
        &self,
        tx: &mut dyn Tx,
        (id, row, payload): (&str, &OperationRow, &OfflinePayload),
        step: std::time::Duration,
        now_ms: i64,
    ) -> Result<(String, u64), OperationError> {
        let bad = |what: &str| StorageError::bad_row("operation", id, what);
        let (counter, ends_in) = proximity_step(now_ms, step);
        let totp = proximity_totp(&self.vault.proximity_seed(id), counter);
        let personal: PrivateKey;
        let key = match &row.activation_id {
            Some(activation_id) if row.key_type == 1 => {
                let activation = tx
                    .activation(activation_id, now_ms)?
                    .ok_or_else(|| bad("its activation is gone"))?;
                personal = open_activation_key(
                    &self.vault,
                    activation_id,
                    &activation.server_private_sealed,
                )?;
                &personal
            }
            _ => &self.keys.master,
        };
        Ok((payload.with_totp(&totp, key), ends_in))
    }

    /// The operation `id`.
    pub(crate) async fn operation(&self, id: &str) -> Result<OperationView, OperationError> {
        let id = id.to_owned();
        let authority = self.clone();
        self.storage
            .transaction(move |tx| -> Result<_, OperationError> {
                let now = now_ms();
                let row = tx.operation(&id, now)?.ok_or(OperationError::NotFound)?;
                // A proximity payload is shown anew each step while the operation waits.
                let (payload, payload_changes_in_ms) = match authority.proximity_of(&row) {
                    Some((payload, step)) if row.state == OperationState::Pending => {
                        let (payload, ends_in) =
                            authority.payload_at(tx, (&id, &row, &payload), step, now)?;
                        (payload, Some(ends_in))
                    }
                    _ => (row.payload.clone(), None),
                };
                Ok(OperationView {
                    operation_id: id.clone(),
                    kind: row.kind,
                    user: row.user,
                    state: row.state,
                    payload,
                    payload_changes_in_ms,
                    nonce: row.nonce,
                    key_type: row.key_type,
                    expires_at: row.expires_ms,
                    expires_in_ms: ms_until(row.expires_ms, now),
                })
            })
            .await
    }

    /// Checks a code for operation `id` in any shape a person types it. A malformed code is
    /// refused without counting; a wrong one counts one failed attempt against the activation.
    /// A valid code for a login operation also names the user to sign in, and what the token
    /// proved (`Some((user id, factors))`).
    pub(crate) async fn verify_operation(
        &self,
        id: &str,
        typed: &str,
    ) -> Result<(Verdict, Option<(i64, qrauth_core::FactorType)>), OperationError> {
        let code = AuthCode::parse(typed).map_err(OperationError::InvalidCode)?;
        let authority = self.clone();
        let id = id.to_owned();
        self.storage
            .transaction(move |tx| -> Result<_, OperationError> {
                let row = tx
                    .operation(&id, now_ms())?
                    .ok_or(OperationError::NotFound)?;
                match row.state {
                    OperationState::Pending => {}
                    OperationState::Approved => return Err(OperationError::AlreadyApproved),
                    OperationState::Expired => return Err(OperationError::Expired),
                }
                // Key type 0 operations learn the activation now: any of the user's active
                // ones may have made the code.
                let candidates: Vec<String> = match row.activation_id.clone() {
                    Some(id) => vec![id],
                    None => tx
                        .active_activations(&row.user)?
                        .into_iter()
                        .map(|(id, _)| id)
                        .collect(),
                };
                if candidates.is_empty() {
                    tx.record("operation.no_activation", &id)?;
                    return Ok((refused_without_standing(), None));
                }
                let nonce = qrauth_core::base64::decode(&row.nonce)
                    .ok()
                    .and_then(|b| <[u8; 16]>::try_from(b).ok())
                    .ok_or_else(|| StorageError::bad_row("operation", &id, "nonce"))?;
                // With the proximity check, the code signs the TOTP of the step its QR showed:
                // the current step's, or the previous one's for a code typed just after a step
                // ended (spec §7.2). Any older one is a wrong code.
                let messages: Vec<Vec<u8>> = match authority.proximity_of(&row) {
                    None => vec![offline_message(
                        OFFLINE_URI_ID,
                        &nonce,
                        &id,
                        &row.operation_data,
                        None,
                    )],
                    Some((_, step)) => {
                        let seed = authority.vault.proximity_seed(&id);
                        let (current, _) = proximity_step(now_ms(), step);
                        [Some(current), current.checked_sub(1)]
                            .into_iter()
                            .flatten()
                            .map(|counter| {
                                let totp = proximity_totp(&seed, counter);
                                offline_message(
                                    OFFLINE_URI_ID,
                                    &nonce,
                                    &id,
                                    &row.operation_data,
                                    Some(&totp),
                                )
                            })
                            .collect()
                    }
                };
                // Anyone who knows a name can ask for a login, so only codes made with the
                // device count there (flows/attempts.rs); a payment is bound to its payer.
                let login = row.kind == "login";
                let counting = if login {
                    Counting::WithDevice
                } else {
                    Counting::Every
                };
                let canonical = code.canonical();
                let format = SignatureFormat::Decimal(DEFAULT_COMPONENT_LENGTH);
                let checked =
                    authority.verify_with_any(tx, &candidates, counting, |keys, ctr, lookahead| {
                        let matched = messages.iter().find_map(|message| {
                            qrauth_core::signature::verify_offline_code(
                                &canonical,
                                keys,
                                ctr,
                                message,
                                row.allow_biometry,
                                DEFAULT_COMPONENT_LENGTH,
                                lookahead,
                            )
                            .ok()
                            .flatten()
                        });
                        let with_device = || {
                            messages.iter().any(|message| {
                                has_possession_component(
                                    &canonical, keys, ctr, message, format, lookahead,
                                )
                                .unwrap_or(false)
                            })
                        };
                        Attempt::of(matched, with_device)
                    });
                match checked {
                    Ok(signer) if signer.user == row.user => {
                        tx.approve_operation(&id, signer.factors, now_ms())?;
                        tx.record(
                            "operation.approved",
                            &format!("{id} by {}", signer.activation_id),
                        )?;
                        Ok((
                            Verdict {
                                valid: true,
                                operation_state: OperationState::Approved,
                                remaining_attempts: signer.remaining_attempts,
                                activation_status: Some(ActivationStatus::Active),
                                blocked_reason: None,
                                factors: Some(signer.factors.name().to_owned()),
                                user: login.then(|| signer.user.clone()),
                            },
                            login.then_some((signer.user_id, signer.factors)),
                        ))
                    }
                    Ok(_) | Err(SignatureError::UnknownActivation) => Err(StorageError::bad_row(
                        "operation",
                        &id,
                        format!("activation {} is not the user's", candidates.join(", ")),
                    )
                    .into()),
                    Err(SignatureError::Invalid(_) | SignatureError::NotActive(_)) if login => {
                        // A login's answer says no more than "not right": anyone can ask for
                        // one by name, and whether that user has a token, a blocked one or
                        // attempts left is not theirs to learn.
                        Ok((refused_without_standing(), None))
                    }
                    Err(
                        SignatureError::Invalid(standing) | SignatureError::NotActive(standing),
                    ) => Ok((
                        Verdict {
                            valid: false,
                            operation_state: OperationState::Pending,
                            remaining_attempts: standing.remaining_attempts,
                            activation_status: Some(standing.status),
                            blocked_reason: standing.blocked_reason,
                            factors: None,
                            user: None,
                        },
                        None,
                    )),
                    Err(SignatureError::Storage(e)) => Err(e.into()),
                }
            })
            .await
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
