//! `activations`: token activations and their signing state. `status` holds
//! [`ActivationStatus::as_str`]; an activation whose code expired unused reads as REMOVED
//! ([`ActivationStatus::at`]), and the sweep writes the same rule down.

use qrauth_core::{ActivationStatus, FailedAttempts};

use super::StorageError;

/// A new activation, before any token committed.
pub(crate) struct NewActivationRow<'a> {
    pub(crate) id: &'a str,
    pub(crate) user_id: i64,
    pub(crate) code_hash: &'a [u8],
    pub(crate) code_expires_ms: i64,
    pub(crate) server_private_sealed: &'a [u8],
    pub(crate) server_public: &'a str,
    pub(crate) ctr_data: &'a [u8],
    pub(crate) max_failed_attempts: u32,
    pub(crate) created_ms: i64,
}

/// An activation as its user, operators and its token see it; `status` is as of the read.
pub(crate) struct ActivationRow {
    pub(crate) id: String,
    pub(crate) user_id: i64,
    pub(crate) user: String,
    pub(crate) status: ActivationStatus,
    pub(crate) device_name: Option<String>,
    pub(crate) device_public: Option<String>,
    pub(crate) server_public: String,
    pub(crate) server_private_sealed: Vec<u8>,
    pub(crate) ctr_data: Vec<u8>,
    pub(crate) counter: i64,
    pub(crate) attempts: FailedAttempts,
    pub(crate) blocked_reason: Option<String>,
    pub(crate) created_ms: i64,
    pub(crate) code_expires_ms: i64,
    pub(crate) committed_ms: Option<i64>,
    pub(crate) last_used_ms: Option<i64>,
}

/// Token activations.
pub(crate) trait ActivationTable {
    /// Stores a new activation as CREATED.
    fn insert_activation(&mut self, row: &NewActivationRow<'_>) -> Result<(), StorageError>;

    /// The activations of `user`, newest first; `only` narrows to one id.
    fn user_activations(
        &mut self,
        user: &str,
        only: Option<&str>,
        now_ms: i64,
    ) -> Result<Vec<ActivationRow>, StorageError>;

    /// The activation `id`.
    fn activation(&mut self, id: &str, now_ms: i64) -> Result<Option<ActivationRow>, StorageError>;

    /// The activation whose unused code hashes to `code_hash`.
    fn activation_by_code(
        &mut self,
        code_hash: &[u8],
        now_ms: i64,
    ) -> Result<Option<ActivationRow>, StorageError>;

    /// The active activations of `user`, newest first: their ids and sealed server keys.
    fn active_activations(&mut self, user: &str) -> Result<Vec<(String, Vec<u8>)>, StorageError>;

    /// A token committed: ACTIVE with its public key, and the code can no longer be used.
    fn commit_activation(
        &mut self,
        id: &str,
        device_public: &str,
        device_name: Option<&str>,
        now_ms: i64,
    ) -> Result<(), StorageError>;

    /// REMOVED, and its code (if still unused) can no longer be used.
    fn remove_activation(&mut self, id: &str) -> Result<(), StorageError>;

    /// Removes the activation `id` if it is `user`'s; false when there is none.
    fn remove_user_activation(&mut self, id: &str, user: &str) -> Result<bool, StorageError>;

    /// A BLOCKED activation becomes ACTIVE with no failed attempts; false when it was not
    /// blocked.
    fn unblock_activation(&mut self, id: &str) -> Result<bool, StorageError>;

    /// A good signature: the counter moves on by `steps` and failed attempts are reset.
    fn record_good_signature(
        &mut self,
        id: &str,
        next_ctr: &[u8],
        steps: u32,
        now_ms: i64,
    ) -> Result<(), StorageError>;

    /// A failed signature: the attempts, and the status and reason they lead to.
    fn record_failed_signature(
        &mut self,
        id: &str,
        attempts: FailedAttempts,
        status: ActivationStatus,
        reason: Option<&str>,
    ) -> Result<(), StorageError>;

    /// Writes down that the codes which expired unused by `now_ms` are removed; how many.
    fn remove_expired_codes(&mut self, now_ms: i64) -> Result<usize, StorageError>;

    /// The id, counter and failed attempts of every active activation.
    fn active_counters(&mut self) -> Result<Vec<(String, i64, u32)>, StorageError>;
}
