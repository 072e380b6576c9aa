//! PowerAuth Server's offline methods (spec §8), for an intermediate application written for
//! PowerAuth: it hands over DATA and gets a signed payload back, then hands over the base string
//! it built and the typed code and gets a verdict. Nothing is stored of a payload, as in
//! PowerAuth; `activationId` is a qrauth activation and `userId` a qrauth user name. The
//! verdict is counted in `attempts` like every other signature, in the same transaction.

use std::time::Duration;

use qrauth_core::payload::{KeyType, OfflinePayload, sign_data};
use qrauth_core::signature::{OFFLINE_APPLICATION_SECRET, verify_offline_code};
use qrauth_core::totp::proximity_totp;
use qrauth_core::{ActivationStatus, FactorType};

use super::attempts::{Attempt, Counting, SignatureError};
use super::{Authority, open_activation_key};
use crate::secrets::random;
use crate::store::{StorageError, now_ms};

/// The most bytes a QR code holds (version 40, level L, byte mode): a longer payload could not
/// be shown, so DATA that would make one is refused.
const MAX_QR_BYTES: usize = 2953;

/// Steps before the current one a proximity check may look back; PowerAuth's usual is 1.
pub(crate) const MAX_PROXIMITY_STEPS: u32 = 10;

/// Why a PowerAuth method failed, with PowerAuth's code for it (docs/Server-Error-Codes.md).
#[derive(Debug, thiserror::Error)]
pub(crate) enum PowerAuthError {
    /// `ERR0024`: the request is missing something or holds something malformed.
    #[error("{0}")]
    InvalidRequest(String),
    /// `ERR0009`: no activation of that id.
    #[error("no activation has the id {0:?}")]
    ActivationNotFound(String),
    /// `ERR0015`: not this server's application.
    #[error("no application has the id {0:?}; this server's is {1:?}")]
    InvalidApplication(String, String),
    /// `ERR0000`: the database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl PowerAuthError {
    /// PowerAuth's error code.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            PowerAuthError::InvalidRequest(_) => "ERR0024",
            PowerAuthError::ActivationNotFound(_) => "ERR0009",
            PowerAuthError::InvalidApplication(..) => "ERR0015",
            PowerAuthError::Storage(_) => "ERR0000",
        }
    }
}

impl crate::store::Outcome for PowerAuthError {
    fn rolls_back(&self) -> bool {
        matches!(self, PowerAuthError::Storage(_))
    }
}

fn invalid(message: impl Into<String>) -> PowerAuthError {
    PowerAuthError::InvalidRequest(message.into())
}

/// PowerAuth's proximity check (spec §4.6): a TOTP of the caller's seed in the payload, and a
/// code accepted for the current step or up to `steps` before it.
#[derive(Clone, Debug)]
pub(crate) struct ProximityCheck {
    pub(crate) seed: Vec<u8>,
    pub(crate) step: Duration,
    pub(crate) steps: u32,
}

impl ProximityCheck {
    /// The TOTP `back` steps before the one at `now_ms`.
    fn totp(&self, now_ms: i64, back: u32) -> Option<String> {
        let length = u64::try_from(self.step.as_millis()).ok()?.max(1);
        let step = u64::try_from(now_ms).ok()? / length;
        Some(proximity_totp(
            &self.seed,
            step.checked_sub(u64::from(back))?,
        ))
    }
}

/// A signed payload: PowerAuth's `offlineData` and the nonce in it.
#[derive(Debug)]
pub(crate) struct SignedPayload {
    pub(crate) offline_data: String,
    pub(crate) nonce: String,
}

/// What `verify` is asked.
#[derive(Debug)]
pub(crate) struct OfflineVerification {
    pub(crate) activation_id: String,
    /// The base string the caller built (spec §6.2), as text.
    pub(crate) data: String,
    /// The typed code, `dddddddd-dddddddd`.
    pub(crate) code: String,
    /// The code's field in the request, for the message that refuses it (v3 `signature`, v4
    /// `authenticationCode`).
    pub(crate) code_field: &'static str,
    pub(crate) allow_biometry: bool,
    pub(crate) component_length: Option<u8>,
    pub(crate) proximity: Option<ProximityCheck>,
}

/// What `verify` answers (spec §8.4).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct OfflineVerdict {
    pub(crate) valid: bool,
    pub(crate) status: ActivationStatus,
    pub(crate) blocked_reason: Option<String>,
    pub(crate) user: Option<String>,
    pub(crate) factors: Option<FactorType>,
    pub(crate) remaining_attempts: Option<u32>,
}

/// Signs DATA as PowerAuth Server does, and refuses DATA no token could read or no QR hold.
fn sign_for_tokens(
    data: &str,
    totp: Option<&str>,
    nonce: &[u8; 16],
    key_type: KeyType,
    key: &qrauth_core::PrivateKey,
) -> Result<String, PowerAuthError> {
    let payload = sign_data(data, totp, nonce, key_type, key);
    OfflinePayload::parse(&payload).map_err(|e| {
        invalid(format!(
            "data: a token cannot read the payload it makes: {e} (DATA is five lines: \
             operation id, title, message, operation data, flags)"
        ))
    })?;
    if payload.len() > MAX_QR_BYTES {
        return Err(invalid(format!(
            "data: its payload would be {} bytes, more than a QR code holds ({MAX_QR_BYTES})",
            payload.len()
        )));
    }
    Ok(payload)
}

/// `data` with `& totp` appended to the body in its last segment, as PowerAuth's verify
/// rebuilds it for a proximity check (spec §7.2 step 4).
fn with_totp_in_body(data: &str, totp: &str) -> Result<String, PowerAuthError> {
    let (head, body) = data
        .rsplit_once('&')
        .ok_or_else(|| invalid("data: not a base string (METHOD&URI&NONCE&BODY)"))?;
    let mut body = qrauth_core::base64::decode(body)
        .map_err(|_| invalid("data: its last segment, the body, is not Base64"))?;
    body.push(b'&');
    body.extend_from_slice(totp.as_bytes());
    Ok(format!("{head}&{}", qrauth_core::base64::encode(&body)))
}

/// Whether `code` has PowerAuth's offline form: two groups of `length` digits joined by `-`.
fn is_code_of_length(code: &str, length: u8) -> bool {
    let mut groups = code.split('-');
    let group_ok = |g: Option<&str>| {
        g.is_some_and(|g| g.len() == usize::from(length) && g.bytes().all(|b| b.is_ascii_digit()))
    };
    group_ok(groups.next()) && group_ok(groups.next()) && groups.next().is_none()
}

impl Authority {
    /// `personalized/create`: DATA signed with activation `activation_id`'s server key (key
    /// type 1), with the caller's nonce or a random one, and the proximity TOTP when asked.
    pub(crate) async fn powerauth_personalized_payload(
        &self,
        activation_id: &str,
        data: String,
        nonce: Option<[u8; 16]>,
        proximity: Option<ProximityCheck>,
        client: &str,
    ) -> Result<SignedPayload, PowerAuthError> {
        let nonce = match nonce {
            Some(nonce) => nonce,
            None => random::<16>()?,
        };
        let totp = match &proximity {
            Some(check) => Some(
                check
                    .totp(now_ms(), 0)
                    .ok_or_else(|| invalid("proximityCheck: the clock is out of range"))?,
            ),
            None => None,
        };
        let authority = self.clone();
        let (id, client) = (activation_id.to_owned(), client.to_owned());
        let offline_data = self
            .storage
            .transaction(move |tx| -> Result<_, PowerAuthError> {
                let row = tx
                    .activation(&id, now_ms())?
                    .ok_or_else(|| PowerAuthError::ActivationNotFound(id.clone()))?;
                let key = open_activation_key(&authority.vault, &id, &row.server_private_sealed)?;
                let payload =
                    sign_for_tokens(&data, totp.as_deref(), &nonce, KeyType::Personalized, &key)?;
                tx.record(
                    "powerauth.payload",
                    &format!("key type 1 for {id} by client {client:?}"),
                )?;
                Ok(payload)
            })
            .await?;
        Ok(SignedPayload {
            offline_data,
            nonce: qrauth_core::base64::encode(&nonce),
        })
    }

    /// `non-personalized/create`: DATA signed with the master key (key type 0), with a random
    /// nonce, for application `application_id`.
    pub(crate) async fn powerauth_master_payload(
        &self,
        application_id: &str,
        expected_application: &str,
        data: &str,
        client: &str,
    ) -> Result<SignedPayload, PowerAuthError> {
        if application_id != expected_application {
            return Err(PowerAuthError::InvalidApplication(
                application_id.to_owned(),
                expected_application.to_owned(),
            ));
        }
        let nonce = random::<16>()?;
        let offline_data = sign_for_tokens(data, None, &nonce, KeyType::Master, &self.keys.master)?;
        self.storage
            .audit(
                "powerauth.payload",
                format!("key type 0 by client {client:?}"),
            )
            .await?;
        Ok(SignedPayload {
            offline_data,
            nonce: qrauth_core::base64::encode(&nonce),
        })
    }

    /// `verify` (spec §7.2): the code against the activation, within the look-ahead, for
    /// possession and knowledge (and biometry when allowed), counting every failure as
    /// PowerAuth does: the caller is an integrator that bound the request to its user.
    pub(crate) async fn powerauth_verify(
        &self,
        request: OfflineVerification,
        client: &str,
    ) -> Result<OfflineVerdict, PowerAuthError> {
        let length = request
            .component_length
            .unwrap_or(qrauth_core::signature::DEFAULT_COMPONENT_LENGTH);
        if !(4..=8).contains(&length) {
            return Err(invalid(format!("componentLength: {length} is not 4 to 8")));
        }
        if !is_code_of_length(&request.code, length) {
            return Err(invalid(format!(
                "{}: two groups of {length} digits joined by '-' (such as 12345678-90123456), \
                 not {:?}",
                request.code_field, request.code
            )));
        }
        let datas = match &request.proximity {
            None => vec![request.data.clone()],
            Some(check) => {
                let now = now_ms();
                (0..=check.steps)
                    .filter_map(|back| check.totp(now, back))
                    .map(|totp| with_totp_in_body(&request.data, &totp))
                    .collect::<Result<Vec<_>, _>>()?
            }
        };
        let messages: Vec<Vec<u8>> = datas
            .iter()
            .map(|data| format!("{data}&{OFFLINE_APPLICATION_SECRET}").into_bytes())
            .collect();
        let authority = self.clone();
        let client = client.to_owned();
        self.storage
            .transaction(move |tx| -> Result<_, PowerAuthError> {
                let id = &request.activation_id;
                let checked = authority.verify_counting_attempts(
                    tx,
                    id,
                    Counting::Every,
                    |keys, ctr, lookahead| {
                        let matched = messages.iter().find_map(|message| {
                            verify_offline_code(
                                &request.code,
                                keys,
                                ctr,
                                message,
                                request.allow_biometry,
                                length,
                                lookahead,
                            )
                            .ok()
                            .flatten()
                        });
                        // Every failure counts here, so whether the device made it is moot.
                        Attempt::of(matched, || true)
                    },
                );
                // A wrong code was counted; an activation that cannot sign counted nothing.
                let failed = |tx: &mut dyn crate::store::Tx,
                              standing: qrauth_core::wire::Standing,
                              counted: bool|
                 -> Result<OfflineVerdict, StorageError> {
                    Ok(OfflineVerdict {
                        valid: false,
                        status: standing.status,
                        blocked_reason: standing.blocked_reason,
                        user: tx.activation(id, now_ms())?.map(|row| row.user),
                        // PowerAuth names the first allowed type on a failure.
                        factors: counted.then_some(FactorType::PossessionKnowledge),
                        remaining_attempts: counted.then_some(standing.remaining_attempts),
                    })
                };
                let verdict = match checked {
                    Ok(signer) => OfflineVerdict {
                        valid: true,
                        status: ActivationStatus::Active,
                        blocked_reason: None,
                        user: Some(signer.user),
                        factors: Some(signer.factors),
                        remaining_attempts: Some(signer.remaining_attempts),
                    },
                    Err(SignatureError::UnknownActivation) => OfflineVerdict {
                        valid: false,
                        status: ActivationStatus::Removed,
                        blocked_reason: None,
                        user: None,
                        factors: None,
                        remaining_attempts: None,
                    },
                    Err(SignatureError::Invalid(standing)) => failed(tx, standing, true)?,
                    Err(SignatureError::NotActive(standing)) => failed(tx, standing, false)?,
                    Err(SignatureError::Storage(e)) => return Err(e.into()),
                };
                tx.record(
                    "powerauth.verify",
                    &format!(
                        "{id} {} by client {client:?}",
                        if verdict.valid { "valid" } else { "invalid" }
                    ),
                )?;
                Ok(verdict)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_two_groups_of_the_component_length() {
        assert!(is_code_of_length("12345678-90123456", 8));
        assert!(is_code_of_length("6606-5264", 4));
        for bad in [
            "1234-5678-9012-3456",
            "12345678",
            "12345678-9012345",
            "12345678-90123456-1",
            "1234567a-90123456",
            "",
        ] {
            assert!(!is_code_of_length(bad, 8), "{bad}");
        }
    }

    #[test]
    fn a_proximity_check_appends_the_totp_to_the_body_segment() {
        // The worked example of spec §13.2: body "5ff1…&A1*…".
        let data = "POST&L29wZXJhdGlvbi9hdXRob3JpemUvb2ZmbGluZQ==&OIIYX91Q7IC6TIo102NCtg==&YSZi";
        let rebuilt = with_totp_in_body(data, "12345678").unwrap();
        assert_eq!(
            rebuilt,
            format!(
                "POST&L29wZXJhdGlvbi9hdXRob3JpemUvb2ZmbGluZQ==&OIIYX91Q7IC6TIo102NCtg==&{}",
                qrauth_core::base64::encode(b"a&b&12345678")
            )
        );
        assert!(with_totp_in_body("POST&x&y&not base64!", "1").is_err());
        assert!(with_totp_in_body("no segments", "1").is_err());
    }
}
