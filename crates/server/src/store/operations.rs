//! `operations`: offline operations approved by a typed code. `state` holds
//! [`OperationState::as_str`]; a pending operation whose time is up reads as EXPIRED
//! ([`OperationState::at`]).

use qrauth_core::FactorType;
use qrauth_core::wire::OperationState;

use super::StorageError;

/// A new operation, PENDING.
pub(crate) struct NewOperationRow<'a> {
    pub(crate) id: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) user: &'a str,
    pub(crate) activation_id: Option<&'a str>,
    pub(crate) key_type: u8,
    pub(crate) payload: &'a str,
    pub(crate) nonce: &'a str,
    pub(crate) operation_data: &'a str,
    pub(crate) allow_biometry: bool,
    pub(crate) created_ms: i64,
    pub(crate) expires_ms: i64,
}

/// An operation; `state` is as of the read.
pub(crate) struct OperationRow {
    pub(crate) kind: String,
    pub(crate) user: String,
    pub(crate) activation_id: Option<String>,
    pub(crate) key_type: u8,
    pub(crate) payload: String,
    pub(crate) nonce: String,
    pub(crate) operation_data: String,
    pub(crate) allow_biometry: bool,
    pub(crate) state: OperationState,
    pub(crate) expires_ms: i64,
}

/// Offline operations.
pub(crate) trait OperationTable {
    /// Stores a new operation.
    fn insert_operation(&mut self, row: &NewOperationRow<'_>) -> Result<(), StorageError>;

    /// The operation `id`.
    fn operation(&mut self, id: &str, now_ms: i64) -> Result<Option<OperationRow>, StorageError>;

    /// APPROVED with the factors the code proved.
    fn approve_operation(
        &mut self,
        id: &str,
        factors: FactorType,
        now_ms: i64,
    ) -> Result<(), StorageError>;

    /// Deletes operations that expired by `before_ms`; how many.
    fn delete_expired_operations(&mut self, before_ms: i64) -> Result<usize, StorageError>;

    /// Ids of operations still pending at `now_ms`.
    fn operations_waiting_at(&mut self, now_ms: i64) -> Result<Vec<String>, StorageError>;
}
