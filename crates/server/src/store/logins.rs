//! `login_sessions`: online QR logins. `state` holds [`LoginState::as_str`]; a session whose
//! time is up reads as EXPIRED ([`LoginState::at`]), and the sweep writes the same rule down.

use qrauth_core::{Denial, FactorType, LoginState};

use super::StorageError;

/// A new login session, PENDING.
pub(crate) struct NewLoginRow<'a> {
    pub(crate) id: &'a str,
    pub(crate) poll_secret_hash: &'a [u8],
    pub(crate) scan_code_hash: &'a [u8],
    pub(crate) service: &'a str,
    pub(crate) requester_address: &'a str,
    pub(crate) requester_agent: &'a str,
    pub(crate) created_ms: i64,
    pub(crate) expires_ms: i64,
}

/// A login session as stored; `state` is as stored, before its expiry is applied.
pub(crate) struct LoginRow {
    pub(crate) poll_secret_hash: Vec<u8>,
    pub(crate) scan_code_hash: Vec<u8>,
    pub(crate) state: LoginState,
    pub(crate) service: String,
    pub(crate) address: String,
    pub(crate) agent: String,
    pub(crate) created_ms: i64,
    pub(crate) expires_ms: i64,
    /// Who approved, once approved: user id, activation id and the factors proved.
    pub(crate) approver: Option<(i64, String, FactorType)>,
    /// Why it was denied, once denied.
    pub(crate) denial: Option<Denial>,
}

/// Online login sessions.
pub(crate) trait LoginTable {
    /// Stores a new session.
    fn insert_login(&mut self, row: &NewLoginRow<'_>) -> Result<(), StorageError>;

    /// The session `id`.
    fn login(&mut self, id: &str) -> Result<Option<LoginRow>, StorageError>;

    /// The id of the session whose scan code hashes to `scan_code_hash`.
    fn login_by_scan_code(&mut self, scan_code_hash: &[u8])
    -> Result<Option<String>, StorageError>;

    /// Moves the session to `state`.
    fn set_login_state(
        &mut self,
        id: &str,
        state: LoginState,
        now_ms: i64,
    ) -> Result<(), StorageError>;

    /// The session's new expiry, `expires_ms` (more time for the person, WCAG 2.2.1).
    fn extend_login(&mut self, id: &str, expires_ms: i64, now_ms: i64) -> Result<(), StorageError>;

    /// DENIED, for `denial`.
    fn deny_login(&mut self, id: &str, denial: Denial, now_ms: i64) -> Result<(), StorageError>;

    /// APPROVED by `approver`, to be completed by `expires_ms`.
    fn approve_login(
        &mut self,
        id: &str,
        approver: (i64, &str, FactorType),
        expires_ms: i64,
        now_ms: i64,
    ) -> Result<(), StorageError>;

    /// Writes down that the sessions whose time was up by `now_ms` are EXPIRED; how many.
    fn expire_due_logins(&mut self, now_ms: i64) -> Result<usize, StorageError>;

    /// Deletes final sessions last changed by `before_ms`; how many.
    fn delete_final_logins(&mut self, before_ms: i64) -> Result<usize, StorageError>;

    /// Sessions that are not final at `now_ms`.
    fn logins_waiting_at(&mut self, now_ms: i64)
    -> Result<Vec<(String, LoginState)>, StorageError>;
}
