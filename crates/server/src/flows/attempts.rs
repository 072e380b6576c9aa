//! Failed-attempt counting: every signature a token makes (a typed offline code, a signed
//! approval, a signed removal) is checked here against its activation, inside the flow's
//! transaction. A match moves the counter on and resets the failures; a mismatch counts one
//! failure and blocks at the limit (spec §7.2, `FailedAttempts` in core). Both are audited.
//!
//! Which mismatches count depends on who can make the request ([`Counting`]). A login can be
//! asked for by anyone who knows a user name, and an approval names any activation id; if
//! their wrong signatures counted, a stranger could block anyone's token with five guesses. So
//! there a failure counts only when its first, possession component is right: it was made with
//! the device (a wrong PIN), which is exactly the guessing the limit is there to stop. A
//! signature without the device's component is refused without counting; such guesses are
//! bounded by the per-address limit of the endpoints, and each matches with a chance of about
//! `lookahead / 10^8` per component.

use qrauth_core::activation::MAX_FAILED_ATTEMPTS;
use qrauth_core::keys::{DerivedKeys, PublicKey, master_secret};
use qrauth_core::signature::{
    FactorKeys, SignatureFormat, SignatureMatch, has_possession_component, signed_message,
    verify_signature,
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

impl crate::store::Outcome for SignatureError {
    fn rolls_back(&self) -> bool {
        matches!(self, SignatureError::Storage(_))
    }
}

/// What a checked signature showed.
#[derive(Debug)]
pub(crate) enum Attempt {
    /// It matched.
    Matched(SignatureMatch),
    /// It did not match, but its possession component did: made with the device.
    WithDevice,
    /// Not even its possession component matched.
    WithoutDevice,
}

/// Which failed signatures count toward blocking the activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Counting {
    /// Every failure: the request is bound to the user, such as a payment made from the
    /// user's own session or by the operator.
    Every,
    /// Only failures made with the device: the request can be made by anyone who knows a name
    /// or an id (a login, an approval).
    WithDevice,
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

impl Attempt {
    /// The attempt, from the full check's match and, when there is none, whether the
    /// possession component was right.
    pub(crate) fn of(matched: Option<SignatureMatch>, with_device: impl FnOnce() -> bool) -> Self {
        match matched {
            Some(matched) => Attempt::Matched(matched),
            None if with_device() => Attempt::WithDevice,
            None => Attempt::WithoutDevice,
        }
    }
}

impl Authority {
    /// Checks the signature of `body` sent to `uri_id` (spec §6.2–6.3), counting a failure made
    /// with the device: an online request names its activation, which anyone may know.
    pub(crate) fn check_signed_request(
        &self,
        tx: &mut dyn Tx,
        request: &SignedRequest,
        uri_id: &str,
        body: &[u8],
    ) -> Result<Signer, SignatureError> {
        let message = signed_message(uri_id, &request.nonce, body, &self.keys.application_secret);
        self.verify_counting_attempts(
            tx,
            &request.activation_id,
            Counting::WithDevice,
            |keys, ctr, lookahead| {
                let matched = verify_signature(
                    &request.signature,
                    keys,
                    ctr,
                    &message,
                    &[request.factors],
                    SignatureFormat::Base64,
                    lookahead,
                );
                let with_device = || {
                    has_possession_component(
                        &request.signature,
                        keys,
                        ctr,
                        &message,
                        SignatureFormat::Base64,
                        lookahead,
                    )
                    .unwrap_or(false)
                };
                Attempt::of(matched.ok().flatten(), with_device)
            },
        )
    }

    /// Checks a signature against activation `id`: `verify` gets the factor keys, the stored
    /// counter and the look-ahead, and says whether and where it matched; `counting` says which
    /// failures count.
    pub(crate) fn verify_counting_attempts(
        &self,
        tx: &mut dyn Tx,
        id: &str,
        counting: Counting,
        verify: impl FnOnce(&FactorKeys, &CtrData, u32) -> Attempt,
    ) -> Result<Signer, SignatureError> {
        let assessed = self.assess(tx, id, verify)?;
        self.settle(tx, assessed, counting)
    }

    /// Checks a signature made by one of `ids`, a user's active tokens, each of which could
    /// have made it: it is counted against the token that made it. A match signs with that
    /// token; a failure made with one token's device (a wrong PIN) counts against that token;
    /// a failure no token's device made is counted against none when there are several (it is
    /// nobody's guess at a PIN), and as `counting` says when there is one.
    pub(crate) fn verify_with_any(
        &self,
        tx: &mut dyn Tx,
        ids: &[String],
        counting: Counting,
        verify: impl Fn(&FactorKeys, &CtrData, u32) -> Attempt,
    ) -> Result<Signer, SignatureError> {
        let mut assessed = Vec::with_capacity(ids.len());
        for id in ids {
            assessed.push(self.assess(tx, id, &verify)?);
        }
        let rank = |a: &Assessed| match &a.attempt {
            Some(Attempt::Matched(_)) => 0,
            Some(Attempt::WithDevice) => 1,
            Some(Attempt::WithoutDevice) => 2,
            None => 3,
        };
        // The first of the best: ids come newest first, so an unattributed failure reports the
        // newest token's standing.
        let several = assessed.len() > 1;
        let best = assessed
            .into_iter()
            .enumerate()
            .min_by_key(|(index, a)| (rank(a), *index))
            .map(|(_, a)| a)
            .ok_or(SignatureError::UnknownActivation)?;
        let counting = if several {
            Counting::WithDevice
        } else {
            counting
        };
        self.settle(tx, best, counting)
    }

    /// Reads activation `id` and checks a signature against it, writing nothing.
    fn assess(
        &self,
        tx: &mut dyn Tx,
        id: &str,
        verify: impl FnOnce(&FactorKeys, &CtrData, u32) -> Attempt,
    ) -> Result<Assessed, SignatureError> {
        let row = tx
            .activation(id, now_ms())?
            .ok_or(SignatureError::UnknownActivation)?;
        let Some(device) = row
            .device_public
            .as_deref()
            .filter(|_| row.status == ActivationStatus::Active)
        else {
            return Ok(Assessed { row, attempt: None });
        };
        let device = PublicKey::from_base64(device)
            .map_err(|e| StorageError::bad_row("activation", id, e))?;
        let ctr = CtrData::from_slice(&row.ctr_data)
            .map_err(|e| StorageError::bad_row("activation", id, e))?;
        let server_key = open_activation_key(&self.vault, id, &row.server_private_sealed)?;
        let keys =
            DerivedKeys::from_master_secret(&master_secret(&server_key, &device)).factor_keys();
        let attempt = verify(&keys, &ctr, self.policy.lookahead);
        Ok(Assessed {
            row,
            attempt: Some(attempt),
        })
    }

    /// Writes down what an assessed signature showed: the counter moves on and failures reset
    /// for a match; a failure counts as `counting` says, and blocks at the limit.
    fn settle(
        &self,
        tx: &mut dyn Tx,
        Assessed { row, attempt }: Assessed,
        counting: Counting,
    ) -> Result<Signer, SignatureError> {
        let id = row.id.as_str();
        let standing = |status, attempts: qrauth_core::FailedAttempts, reason| Standing {
            status,
            remaining_attempts: attempts.remaining(),
            blocked_reason: reason,
        };
        let attempt = match attempt {
            None => {
                return Err(SignatureError::NotActive(standing(
                    row.status,
                    row.attempts,
                    row.blocked_reason,
                )));
            }
            Some(Attempt::WithoutDevice) if counting == Counting::WithDevice => {
                tx.record("signature.without_device", id)?;
                return Err(SignatureError::Invalid(standing(
                    row.status,
                    row.attempts,
                    row.blocked_reason,
                )));
            }
            Some(attempt) => attempt,
        };
        if let Attempt::Matched(matched) = attempt {
            tx.record_good_signature(id, matched.next_ctr.as_bytes(), matched.steps, now_ms())?;
            tx.record(
                "signature.valid",
                &format!("{id} {}", matched.factors.name()),
            )?;
            return Ok(Signer {
                activation_id: row.id.clone(),
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

/// An activation and what a signature showed against it; `None` when it cannot sign.
struct Assessed {
    row: crate::store::ActivationRow,
    attempt: Option<Attempt>,
}

#[cfg(test)]
mod tests {
    use qrauth_core::keys::PrivateKey;

    use super::*;
    use crate::flows::activations::Commitment;
    use crate::flows::tests::in_memory;
    use crate::flows::{Policy, users};

    /// An active activation of a new user `alice`.
    async fn activated(authority: &Authority) -> String {
        users::add_user(&authority.storage, "alice", "correct horse battery", false)
            .await
            .unwrap();
        let offer = authority.create_activation("alice").await.unwrap();
        let device = PrivateKey::from_random(&[7; 32]).unwrap();
        authority
            .commit_activation(Commitment {
                activation_code: offer.activation_code,
                device_public_key: device.public_key().to_base64(),
                device_name: Some("test".into()),
            })
            .await
            .unwrap()
            .activation_id
    }

    async fn attempt(
        authority: &Authority,
        id: &str,
        matched: Option<SignatureMatch>,
    ) -> Result<Signer, SignatureError> {
        attempt_as(authority, id, Counting::Every, matched, true).await
    }

    async fn attempt_as(
        authority: &Authority,
        id: &str,
        counting: Counting,
        matched: Option<SignatureMatch>,
        with_device: bool,
    ) -> Result<Signer, SignatureError> {
        let (authority, id) = (authority.clone(), id.to_owned());
        authority
            .storage
            .clone()
            .transaction(move |tx| {
                authority.verify_counting_attempts(tx, &id, counting, |_, ctr, lookahead| {
                    assert_eq!(lookahead, 20);
                    let matched = matched.clone().map(|m| SignatureMatch {
                        next_ctr: ctr.next(),
                        ..m
                    });
                    Attempt::of(matched, || with_device)
                })
            })
            .await
    }

    fn remaining(result: Result<Signer, SignatureError>) -> (ActivationStatus, u32) {
        match result {
            Err(SignatureError::Invalid(s) | SignatureError::NotActive(s)) => {
                (s.status, s.remaining_attempts)
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn the_fifth_wrong_signature_blocks_and_a_good_one_resets_the_count() {
        let authority = in_memory(Policy::default()).await;
        let id = activated(&authority).await;
        for left in [4, 3] {
            assert_eq!(
                remaining(attempt(&authority, &id, None).await),
                (ActivationStatus::Active, left)
            );
        }
        let good = SignatureMatch {
            factors: FactorType::PossessionKnowledge,
            steps: 3,
            next_ctr: CtrData::from_slice(&[0; 16]).unwrap(),
        };
        let signer = attempt(&authority, &id, Some(good.clone())).await.unwrap();
        assert_eq!(
            (signer.user.as_str(), signer.remaining_attempts),
            ("alice", 5)
        );
        let view = authority
            .activations("alice", Some(&id))
            .await
            .unwrap()
            .remove(0);
        assert_eq!(view.failed_attempts, 0);
        assert!(view.last_used_at.is_some());

        for left in [4, 3, 2, 1] {
            assert_eq!(
                remaining(attempt(&authority, &id, None).await),
                (ActivationStatus::Active, left)
            );
        }
        assert_eq!(
            remaining(attempt(&authority, &id, None).await),
            (ActivationStatus::Blocked, 0)
        );
        assert_eq!(
            remaining(attempt(&authority, &id, Some(good.clone())).await),
            (ActivationStatus::Blocked, 0),
            "a blocked activation cannot sign, even rightly, and nothing more is counted"
        );
        let blocked = authority
            .activations("alice", Some(&id))
            .await
            .unwrap()
            .remove(0);
        assert_eq!(blocked.blocked_reason.as_deref(), Some(MAX_FAILED_ATTEMPTS));
        assert_eq!(blocked.failed_attempts, 5);
        assert_eq!(
            authority
                .storage
                .audit_details("activation.blocked")
                .await
                .unwrap()
                .len(),
            1
        );

        assert!(authority.unblock_activation(&id).await.unwrap());
        // A stranger's guesses at a login, without the device, block nothing however many;
        // a wrong PIN on the device still counts there.
        for _ in 0..20 {
            assert_eq!(
                remaining(attempt_as(&authority, &id, Counting::WithDevice, None, false).await),
                (ActivationStatus::Active, 5)
            );
        }
        assert_eq!(
            remaining(attempt_as(&authority, &id, Counting::WithDevice, None, true).await),
            (ActivationStatus::Active, 4)
        );
        assert_eq!(
            remaining(attempt_as(&authority, &id, Counting::Every, None, false).await),
            (ActivationStatus::Active, 3),
            "on a payment every wrong code counts"
        );
        assert!(!authority.unblock_activation(&id).await.unwrap());
        assert!(attempt(&authority, &id, Some(good)).await.is_ok());
        assert!(matches!(
            attempt(&authority, "no-such-activation", None).await,
            Err(SignatureError::UnknownActivation)
        ));
    }
}
