//! The only code that knows the database. Flows run a closure over one transaction ([`Tx`]) and
//! call the typed methods of each table's interface; a backend implements those interfaces with
//! its own SQL. SQLite (`sqlite/`) is the embedded default.
//!
//! One file per table: `audit`, `users` (with browser sessions), `application`, `activations`,
//! `logins`, `operations`. Each says how its status enum is written (once, by the enum's
//! `as_str` in core) and which expiry rule of core it applies, so reads and the sweep agree.

mod activations;
mod application;
mod audit;
mod logins;
mod operations;
mod sqlite;
mod users;

use std::fmt;
use std::path::Path;
use std::sync::Arc;

pub(crate) use activations::{ActivationRow, ActivationTable, NewActivationRow};
pub(crate) use application::{ApplicationTable, SealedApplicationKeys};
pub(crate) use audit::AuditLog;
#[cfg(test)]
pub(crate) use audit::MAX_DETAIL_CHARS;
pub(crate) use logins::{LoginRow, LoginTable, NewLoginRow};
pub(crate) use operations::{NewOperationRow, OperationRow, OperationTable};
pub(crate) use users::UserTable;

/// One transaction, with every table's interface.
pub(crate) trait Tx:
    AuditLog + UserTable + ApplicationTable + ActivationTable + LoginTable + OperationTable
{
}

impl<T> Tx for T where
    T: AuditLog + UserTable + ApplicationTable + ActivationTable + LoginTable + OperationTable
{
}

/// What a storage engine provides: transactions, run on the calling thread (the store calls it
/// on tokio's blocking pool).
pub(crate) trait Backend: Send + Sync {
    /// Runs `work` in one transaction that other writers cannot interleave with; commits when
    /// `work` returns true, rolls back otherwise.
    fn transaction(&self, work: &mut dyn FnMut(&mut dyn Tx) -> bool) -> Result<(), StorageError>;

    /// The schema version the database has and the one this server expects.
    fn schema_versions(&self) -> Result<(i64, i64), StorageError>;
}

/// An error a transaction's work may end with. Errors of the database roll the transaction back;
/// every other outcome (a refused code, an expired session) commits what was written before it,
/// such as a counted failed attempt or the expiry just applied.
pub(crate) trait Outcome: From<StorageError> {
    /// True for a failure of the storage itself.
    fn rolls_back(&self) -> bool;
}

impl Outcome for StorageError {
    fn rolls_back(&self) -> bool {
        true
    }
}

/// The server's database.
#[derive(Clone)]
pub struct Storage {
    backend: Arc<dyn Backend>,
}

/// A storage failure, with the engine's own message for the operator's log.
#[derive(Debug)]
pub struct StorageError {
    message: String,
    fault: StorageFault,
}

/// Why storage failed, as far as a client's answer and an operator's next step differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StorageFault {
    /// The disk that holds the database is full: nothing can be added until space is freed.
    Full,
    /// The database cannot be written: a read-only or immutable file or file system, or a
    /// failing disk. Reads may still work.
    Unwritable,
    /// Anything else.
    Unavailable,
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hint = match self.fault {
            StorageFault::Full => " (the disk that holds the database is full: free space)",
            StorageFault::Unwritable => {
                " (the database cannot be written: check the file's permissions and \
                 attributes, the file system and the disk)"
            }
            StorageFault::Unavailable => "",
        };
        write!(f, "storage: {}{hint}", self.message)
    }
}

impl std::error::Error for StorageError {}

impl StorageError {
    pub(crate) fn from_message(message: String) -> Self {
        StorageError {
            message,
            fault: StorageFault::Unavailable,
        }
    }

    pub(crate) fn with_fault(message: String, fault: StorageFault) -> Self {
        StorageError { message, fault }
    }

    /// A row that does not read back as what was written.
    pub(crate) fn bad_row(table: &str, id: &str, what: impl fmt::Display) -> Self {
        Self::from_message(format!("{table} {id}: {what}"))
    }

    /// Why it failed.
    pub fn fault(&self) -> StorageFault {
        self.fault
    }
}

impl Storage {
    /// Opens (or creates) the SQLite database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        Ok(Self::with_backend(sqlite::Sqlite::open(path)?))
    }

    /// Opens an existing SQLite database without writing to it, beside a server that runs on
    /// it: for checks such as the soak's.
    pub fn open_read_only(path: &Path) -> Result<Self, StorageError> {
        Ok(Self::with_backend(sqlite::Sqlite::open_read_only(path)?))
    }

    /// A private database that lives as long as the value: for tests and trials.
    pub fn in_memory() -> Result<Self, StorageError> {
        Ok(Self::with_backend(sqlite::Sqlite::in_memory()?))
    }

    fn with_backend(backend: impl Backend + 'static) -> Self {
        Storage {
            backend: Arc::new(backend),
        }
    }

    /// Runs `work` in one transaction on the blocking pool: committed when `work` returns `Ok`
    /// or an error that is not the storage's ([`Outcome`]), rolled back on a storage error.
    /// Writers are serialized, so a read-check-write inside is atomic.
    pub(crate) async fn transaction<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: Outcome + Send + 'static,
        F: FnOnce(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        let backend = Arc::clone(&self.backend);
        let ran = tokio::task::spawn_blocking(move || {
            let mut work = Some(work);
            let mut result = None;
            backend.transaction(&mut |tx| match work.take() {
                Some(work) => {
                    let outcome = work(tx);
                    let commit = outcome.as_ref().map_or_else(|e| !e.rolls_back(), |_| true);
                    result = Some(outcome);
                    commit
                }
                None => false,
            })?;
            result.unwrap_or_else(|| {
                Err(StorageError::from_message("the transaction did not run".into()).into())
            })
        })
        .await;
        ran.unwrap_or_else(|e| {
            Err(StorageError::from_message(format!("storage task failed: {e}")).into())
        })
    }

    /// Confirms that the database answers and its schema is current.
    pub async fn check(&self) -> Result<(), StorageError> {
        let backend = Arc::clone(&self.backend);
        let (version, expected) = tokio::task::spawn_blocking(move || backend.schema_versions())
            .await
            .map_err(|e| StorageError::from_message(format!("storage task failed: {e}")))??;
        if version == expected {
            Ok(())
        } else {
            Err(StorageError::from_message(format!(
                "schema version {version}, expected {expected}"
            )))
        }
    }

    /// Appends an event to the audit log on its own.
    pub async fn audit(&self, event: &'static str, detail: String) -> Result<(), StorageError> {
        self.transaction(move |tx| tx.record(event, &detail)).await
    }

    /// The newest audit event, if any: (event, detail).
    pub async fn last_audit_event(&self) -> Result<Option<(String, String)>, StorageError> {
        self.transaction(|tx| tx.last_event()).await
    }

    /// The detail of every audit event named `event`, oldest first.
    pub async fn audit_details(&self, event: &'static str) -> Result<Vec<String>, StorageError> {
        self.transaction(move |tx| tx.details_of(event)).await
    }

    /// The counter and failed attempts of every active activation, by id.
    pub async fn active_counters(&self) -> Result<Vec<(String, i64, u32)>, StorageError> {
        self.transaction(|tx| tx.active_counters()).await
    }

    /// Logins and operations that are not final at `now_ms`, as `login <id> <STATE>` and
    /// `operation <id> <STATE>`.
    pub async fn waiting_at(&self, now_ms: i64) -> Result<Vec<String>, StorageError> {
        self.transaction(move |tx| {
            let mut found: Vec<String> = tx
                .logins_waiting_at(now_ms)?
                .into_iter()
                .map(|(id, state)| format!("login {id} {}", state.as_str()))
                .collect();
            found.extend(
                tx.operations_waiting_at(now_ms)?
                    .into_iter()
                    .map(|id| format!("operation {id} PENDING")),
            );
            Ok(found)
        })
        .await
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
