//! Failed-attempt counting: every signature a token makes (a typed offline code, a signed
//! approval, a signed removal) is checked here against its activation, inside the flow's
//! transaction. A match moves the counter on and resets the failures; a mismatch counts one
//! failure and blocks at the limit (spec §7.2, `FailedAttempts` in core). Both are audited.

use qrauth_core::activation::MAX_FAILED_ATTEMPTS;
use qrauth_core::keys::{DerivedKeys, PublicKey, master_secret};
use qrauth_core::signature::{
    FactorKeys, SignatureFormat, SignatureMatch, signed_message, verify_signature,
};
use qrauth_core::wire::Standing;
use qrauth_core::{ActivationStatus, CtrData, FactorType};

use super::{Authority, open_activation_key};
use crate::store::{StorageError, Tx, now_ms};

/// Who signed: the signature matched, the counter moved on and failed attempts were reset.
#[derive(Debug)]
pub(crate) struct Signer {
    pub(crate) activation_id: String,
    pub(crate) user_id: i64,
    pub(crate) user: String,
    pub(crate) factors: FactorType,
    pub(crate) remaining_attempts: u32,
}

/// Why a signature did not authorize a request.
#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    /// It did not match; one more failed attempt was counted.
    #[error("the signature does not match; {} attempts left", .0.remaining_attempts)]
    Invalid(Standing),
    /// The activation cannot sign (created, blocked, removed); nothing was counted.
    #[error("the activation is {} and cannot sign", .0.status.as_str())]
    NotActive(Standing),
    /// No activation of that id.
    #[error("no such activation")]
    UnknownActivation,
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A request a token signed online (PowerAuth's `X-PowerAuth-Authorization`): which activation,
/// the nonce, the factors and the signature, in the Base64 format of protocol 3.1.
#[derive(Debug)]
pub(crate) struct SignedRequest {
    pub(crate) activation_id: String,
    pub(crate) nonce: [u8; 16],
    pub(crate) factors: FactorType,
    pub(crate) signature: String,
}

impl Authority {
    /// Checks the signature of `body` sent to `uri_id` (spec §6.2–6.3), counting a failure.
    pub(crate) fn check_signed_request(
        &self,
        tx: &mut dyn Tx,
        request: &SignedRequest,
        uri_id: &str,
        body: &[u8],
    ) -> Result<Signer, SignatureError> {
        let message = signed_message(uri_id, &request.nonce, body, &self.keys.application_secret);
        self.verify_counting_attempts(tx, &request.activation_id, |keys, ctr, lookahead| {
            verify_signature(
                &request.signature,
                keys,
                ctr,
                &message,
                &[request.factors],
                SignatureFormat::Base64,
                lookahead,
            )
            .ok()
            .flatten()
        })
    }

    /// Checks a signature against activation `id`: `verify` gets the factor keys, the stored
    /// counter and the look-ahead, and says whether and where it matched.
    pub(crate) fn verify_counting_attempts(
        &self,
        tx: &mut dyn Tx,
        id: &str,
        verify: impl FnOnce(&FactorKeys, &CtrData, u32) -> Option<SignatureMatch>,
    ) -> Result<Signer, SignatureError> {
        let row = tx
            .signing_activation(id)?
            .ok_or(SignatureError::UnknownActivation)?;
        let standing = |status, attempts: qrauth_core::FailedAttempts, reason| Standing {
            status,
            remaining_attempts: attempts.remaining(),
            blocked_reason: reason,
        };
        let Some(device) = row
            .device_public
            .as_deref()
            .filter(|_| row.status == ActivationStatus::Active)
        else {
            return Err(SignatureError::NotActive(standing(
                row.status,
                row.attempts,
                row.blocked_reason,
            )));
        };
        let device = PublicKey::from_base64(device)
            .map_err(|e| StorageError::bad_row("activation", id, e))?;
        let ctr = CtrData::from_slice(&row.ctr_data)
            .map_err(|e| StorageError::bad_row("activation", id, e))?;
        let server_key = open_activation_key(&self.vault, id, &row.server_private_sealed)?;
        let keys =
            DerivedKeys::from_master_secret(&master_secret(&server_key, &device)).factor_keys();
        if let Some(matched) = verify(&keys, &ctr, self.policy.lookahead) {
            tx.record_good_signature(id, matched.next_ctr.as_bytes(), matched.steps, now_ms())?;
            tx.record(
                "signature.valid",
                &format!("{id} {}", matched.factors.name()),
            )?;
            return Ok(Signer {
                activation_id: id.to_owned(),
                user_id: row.user_id,
                user: row.user,
                factors: matched.factors,
                remaining_attempts: row.attempts.reset().remaining(),
            });
        }
        let attempts = row.attempts.after_failure();
        let (status, reason) = if attempts.exhausted() {
            (ActivationStatus::Blocked, Some(MAX_FAILED_ATTEMPTS))
        } else {
            (ActivationStatus::Active, None)
        };
        tx.record_failed_signature(id, attempts, status, reason)?;
        tx.record(
            "signature.invalid",
            &format!("{id} attempt {} of {}", attempts.failed, attempts.max),
        )?;
        if attempts.exhausted() {
            tx.record("activation.blocked", &format!("{id} {MAX_FAILED_ATTEMPTS}"))?;
        }
        Err(SignatureError::Invalid(standing(
            status,
            attempts,
            reason.map(str::to_owned),
        )))
    }
}
