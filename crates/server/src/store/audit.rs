//! `audit_log`: who did what, when. Every state change writes its event in the transaction of
//! the change, so the two commit together.

use super::StorageError;

/// The audit log.
pub(crate) trait AuditLog {
    /// Appends `event` with `detail`, at the current time.
    fn record(&mut self, event: &'static str, detail: &str) -> Result<(), StorageError>;

    /// The newest event: (event, detail).
    fn last_event(&mut self) -> Result<Option<(String, String)>, StorageError>;

    /// The detail of every event named `event`, oldest first.
    fn details_of(&mut self, event: &str) -> Result<Vec<String>, StorageError>;
}
