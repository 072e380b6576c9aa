//! `audit_log`: who did what, when. Every state change writes its event in the transaction of
//! the change, so the two commit together.

use super::StorageError;

/// The most characters of an event's detail the log keeps: details name ids, users and
/// addresses, and a longer one (a 64 KB user name typed at the sign-in form) is cut here.
pub(crate) const MAX_DETAIL_CHARS: usize = 200;

/// The audit log.
pub(crate) trait AuditLog {
    /// Appends `event` with `detail` (cut to [`MAX_DETAIL_CHARS`]), at the current time.
    fn record(&mut self, event: &'static str, detail: &str) -> Result<(), StorageError> {
        match detail.char_indices().nth(MAX_DETAIL_CHARS) {
            Some((cut, _)) => self.append(event, &format!("{}…", &detail[..cut])),
            None => self.append(event, detail),
        }
    }

    /// Appends `event` with `detail` as it is; [`AuditLog::record`] bounds it first.
    fn append(&mut self, event: &'static str, detail: &str) -> Result<(), StorageError>;

    /// Deletes the events older than `before_ms`, and the oldest beyond the newest `keep`;
    /// how many.
    fn prune_audit(&mut self, before_ms: i64, keep: usize) -> Result<usize, StorageError>;

    /// The newest event: (event, detail).
    fn last_event(&mut self) -> Result<Option<(String, String)>, StorageError>;

    /// The detail of every event named `event`, oldest first.
    fn details_of(&mut self, event: &str) -> Result<Vec<String>, StorageError>;
}
