//! Token activations (spec §3.4): a signed-in user asks for an activation code, a token commits
//! its device public key with it, and both sides derive the same keys. The life cycle is core's
//! ([`ActivationStatus::after`]).

use qrauth_core::activation::{ActivationCode, ActivationCodeError, ActivationStep, fingerprint};
use qrauth_core::keys::PublicKey;
use qrauth_core::signature::ACTIVATION_REMOVE_URI_ID;
use qrauth_core::wire::{ActivationView, Committed, NewActivation, TokenStanding};
use qrauth_core::{CtrData, KeyError};

use super::attempts::{SignatureError, SignedRequest};
use super::{Authority, activation_binding, ms_until, new_private_key, seal_private};
use crate::secrets::{random, random_uuid, secret_hash};
use crate::store::{ActivationRow, NewActivationRow, StorageError, now_ms};

/// Why an activation step was refused.
#[derive(Debug, thiserror::Error)]
pub enum ActivationError {
    /// No user of that name.
    #[error("no user of that name")]
    UnknownUser,
    /// No activation of that id (of this user).
    #[error("no such activation")]
    NotFound,
    /// The text is not an activation code.
    #[error("{0}")]
    InvalidCode(ActivationCodeError),
    /// The device public key is not a P-256 point.
    #[error("devicePublicKey: {0}")]
    InvalidPublicKey(KeyError),
    /// No unused activation has this code.
    #[error("this activation code is unknown or was already used")]
    UnknownCode,
    /// The code's time is up.
    #[error("this activation code has expired")]
    CodeExpired,
    /// The token's signature was refused.
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// The database or the vault failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl crate::store::Outcome for ActivationError {
    fn rolls_back(&self) -> bool {
        matches!(
            self,
            ActivationError::Storage(_) | ActivationError::Signature(SignatureError::Storage(_))
        )
    }
}

/// What a token sends when it commits.
pub(crate) struct Commitment {
    pub(crate) activation_code: String,
    pub(crate) device_public_key: String,
    pub(crate) device_name: Option<String>,
}

fn view(row: ActivationRow) -> ActivationView {
    let fingerprint = row.device_public.as_deref().and_then(|device| {
        Some(fingerprint(
            &PublicKey::from_base64(device).ok()?,
            &row.id,
            &PublicKey::from_base64(&row.server_public).ok()?,
        ))
    });
    ActivationView {
        activation_id: row.id,
        user: row.user,
        status: row.status,
        device_name: row.device_name,
        fingerprint,
        failed_attempts: row.attempts.failed,
        max_failed_attempts: row.attempts.max,
        remaining_attempts: row.attempts.remaining(),
        blocked_reason: row.blocked_reason,
        created_at: row.created_ms,
        code_expires_at: row.code_expires_ms,
        committed_at: row.committed_ms,
        last_used_at: row.last_used_ms,
    }
}

impl Authority {
    /// Issues an activation code for `user`: a new server key pair and counter, sealed and
    /// stored; the code itself is kept only as a hash.
    pub async fn create_activation(&self, user: &str) -> Result<NewActivation, ActivationError> {
        let id = random_uuid()?;
        let code = ActivationCode::from_random(random::<10>()?);
        let server_key = new_private_key()?;
        let sealed = seal_private(&self.vault, &activation_binding(&id), &server_key)?;
        let ctr = random::<16>()?;
        let now = now_ms();
        let expires_at = now + self.policy.activation_code_lifetime.as_millis() as i64;
        let user = user.to_owned();
        let code_hash = secret_hash(code.as_str());
        let max = self.policy.max_failed_attempts;
        let row_id = id.clone();
        self.storage
            .transaction(move |tx| -> Result<_, ActivationError> {
                let user_id = tx.user_id(&user)?.ok_or(ActivationError::UnknownUser)?;
                tx.insert_activation(&NewActivationRow {
                    id: &row_id,
                    user_id,
                    code_hash: &code_hash,
                    code_expires_ms: expires_at,
                    server_private_sealed: &sealed,
                    server_public: &server_key.public_key().to_base64(),
                    ctr_data: &ctr,
                    max_failed_attempts: max,
                    created_ms: now,
                })?;
                tx.record("activation.created", &format!("{row_id} for user {user:?}"))?;
                Ok(())
            })
            .await?;
        Ok(NewActivation {
            activation_id: id,
            activation_qr: code.qr_text(&self.keys.master),
            activation_code: code.as_str().to_owned(),
            expires_at,
            expires_in_ms: ms_until(expires_at, now),
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
        self.storage
            .transaction(move |tx| {
                let rows = tx.user_activations(&user, only.as_deref(), now_ms())?;
                Ok(rows.into_iter().map(view).collect())
            })
            .await
    }

    /// Removes an activation of `user`.
    pub async fn remove_activation(&self, user: &str, id: &str) -> Result<(), ActivationError> {
        let (user, id) = (user.to_owned(), id.to_owned());
        self.storage
            .transaction(move |tx| -> Result<_, ActivationError> {
                if !tx.remove_user_activation(&id, &user)? {
                    return Err(ActivationError::NotFound);
                }
                tx.record("activation.removed", &format!("{id} by user {user:?}"))?;
                Ok(())
            })
            .await
    }

    /// Unblocks an activation after too many failed attempts (an operator's decision); false
    /// when it was not blocked.
    pub async fn unblock_activation(&self, id: &str) -> Result<bool, StorageError> {
        let id = id.to_owned();
        self.storage
            .transaction(move |tx| {
                let unblocked = tx.unblock_activation(&id)?;
                if unblocked {
                    tx.record("activation.unblocked", &id)?;
                }
                Ok(unblocked)
            })
            .await
    }

    /// A token commits its device public key with an activation code.
    pub(crate) async fn commit_activation(
        &self,
        commitment: Commitment,
    ) -> Result<Committed, ActivationError> {
        let code = ActivationCode::parse(&commitment.activation_code)
            .map_err(ActivationError::InvalidCode)?;
        let device = PublicKey::from_base64(&commitment.device_public_key)
            .map_err(ActivationError::InvalidPublicKey)?;
        let device_name = commitment.device_name.map(|name| {
            name.chars()
                .filter(|c| !c.is_control())
                .take(100)
                .collect::<String>()
        });
        let code_hash = secret_hash(code.as_str());
        let authority = self.clone();
        self.storage
            .transaction(move |tx| -> Result<_, ActivationError> {
                let now = now_ms();
                let row = tx
                    .activation_by_code(&code_hash, now)?
                    .ok_or(ActivationError::UnknownCode)?;
                // Found by its unused code, it is CREATED, unless its time ran out.
                if row.status.after(ActivationStep::Commit).is_none() {
                    tx.remove_activation(&row.id)?;
                    tx.record("activation.code_expired", &row.id)?;
                    return Err(ActivationError::CodeExpired);
                }
                tx.commit_activation(&row.id, &device.to_base64(), device_name.as_deref(), now)?;
                tx.record(
                    "activation.committed",
                    &format!("{} for user {:?}", row.id, row.user),
                )?;
                let ctr = CtrData::from_slice(&row.ctr_data)
                    .map_err(|e| StorageError::bad_row("activation", &row.id, e))?;
                Ok(Committed {
                    activation_id: row.id,
                    user: row.user,
                    server_public_key: row.server_public,
                    ctr_data: ctr.to_base64(),
                    master_public_key: authority.keys.master_public.clone(),
                    application_secret: authority.keys.application_secret.clone(),
                    max_failed_attempts: authority.policy.max_failed_attempts,
                    lookahead: authority.policy.lookahead,
                })
            })
            .await
    }

    /// Where a token's activation stands.
    pub(crate) async fn token_standing(&self, id: &str) -> Result<TokenStanding, ActivationError> {
        let id = id.to_owned();
        self.storage
            .transaction(move |tx| -> Result<_, ActivationError> {
                let row = tx
                    .activation(&id, now_ms())?
                    .ok_or(ActivationError::NotFound)?;
                Ok(TokenStanding {
                    status: row.status,
                    remaining_attempts: row.attempts.remaining(),
                    blocked_reason: row.blocked_reason,
                    counter: u64::try_from(row.counter).unwrap_or(0),
                })
            })
            .await
    }

    /// The token removes its own activation, signed with its possession key over `body`.
    pub(crate) async fn remove_by_token(
        &self,
        signed: SignedRequest,
        body: Vec<u8>,
    ) -> Result<(), ActivationError> {
        let authority = self.clone();
        self.storage
            .transaction(move |tx| -> Result<_, ActivationError> {
                let signer =
                    authority.check_signed_request(tx, &signed, ACTIVATION_REMOVE_URI_ID, &body)?;
                tx.remove_activation(&signer.activation_id)?;
                tx.record(
                    "activation.removed",
                    &format!("{} by its token", signer.activation_id),
                )?;
                Ok(())
            })
            .await
    }
}
