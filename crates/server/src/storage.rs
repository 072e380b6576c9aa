//! Durable state in one embedded SQLite file.
//!
//! SQLite needs nothing installed, survives restarts, and with WAL lets readers proceed while a
//! write commits. All access goes through one connection on the blocking pool, which serializes
//! writes: the counters and attempt limits of later issues rely on that.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, params};

/// Schema changes, applied in order at start-up; `PRAGMA user_version` records how many ran.
/// Append only: a released migration never changes.
const MIGRATIONS: &[&str] = &[
    // 1: who did what, when. Written by every state change; read by operators.
    "CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        event TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
    );",
    // 2: people who sign in with a password, and their browser sessions (hashed tokens).
    "CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        created_ms INTEGER NOT NULL
    );
    CREATE TABLE web_sessions (
        token_hash BLOB PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_ms INTEGER NOT NULL,
        expires_ms INTEGER NOT NULL
    );",
    // 3: the application's keys, token activations, QR login sessions and offline operations.
    // Sealed columns are AES-GCM under the storage key (vault.rs); secrets a client presents
    // (activation codes, poll secrets, scan codes) are kept only as SHA-256 hashes.
    "CREATE TABLE application (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        master_private_sealed BLOB NOT NULL,
        master_public TEXT NOT NULL,
        identity_private_sealed BLOB NOT NULL,
        identity_public TEXT NOT NULL,
        application_secret_sealed BLOB NOT NULL,
        created_ms INTEGER NOT NULL
    );
    CREATE TABLE activations (
        id TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        status TEXT NOT NULL,
        code_hash BLOB UNIQUE,
        code_expires_ms INTEGER NOT NULL,
        server_private_sealed BLOB NOT NULL,
        server_public TEXT NOT NULL,
        device_public TEXT,
        device_name TEXT,
        ctr_data BLOB NOT NULL,
        counter INTEGER NOT NULL DEFAULT 0,
        failed_attempts INTEGER NOT NULL DEFAULT 0,
        max_failed_attempts INTEGER NOT NULL,
        blocked_reason TEXT,
        created_ms INTEGER NOT NULL,
        committed_ms INTEGER,
        last_used_ms INTEGER
    );
    CREATE INDEX activations_by_user ON activations(user_id, status);
    CREATE TABLE login_sessions (
        id TEXT PRIMARY KEY,
        poll_secret_hash BLOB NOT NULL,
        scan_code_hash BLOB NOT NULL UNIQUE,
        state TEXT NOT NULL,
        service TEXT NOT NULL,
        requester_address TEXT NOT NULL,
        requester_agent TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        expires_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL,
        user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
        activation_id TEXT,
        factors TEXT
    );
    CREATE TABLE operations (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        user_name TEXT NOT NULL,
        activation_id TEXT,
        key_type INTEGER NOT NULL,
        payload TEXT NOT NULL,
        nonce TEXT NOT NULL,
        operation_data TEXT NOT NULL,
        allow_biometry INTEGER NOT NULL,
        state TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        expires_ms INTEGER NOT NULL,
        approved_ms INTEGER,
        factors TEXT
    );",
];

/// The server's database.
#[derive(Clone)]
pub struct Storage {
    connection: Arc<Mutex<Connection>>,
}

/// A storage failure, with SQLite's own message for the operator's log.
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

    /// Why it failed.
    pub fn fault(&self) -> StorageFault {
        self.fault
    }
}

impl From<rusqlite::Error> for StorageError {
    fn from(e: rusqlite::Error) -> Self {
        let fault = match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => StorageFault::Full,
            Some(rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::SystemIoFailure) => {
                StorageFault::Unwritable
            }
            _ => StorageFault::Unavailable,
        };
        StorageError {
            message: e.to_string(),
            fault,
        }
    }
}

impl Storage {
    /// Opens (or creates) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                StorageError::from_message(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        let connection = Connection::open(path).map_err(|e| {
            StorageError::from_message(format!("cannot open {}: {e}", path.display()))
        })?;
        Self::prepare(connection)
    }

    /// A private database that lives as long as the value: for tests and trials.
    pub fn in_memory() -> Result<Self, StorageError> {
        Self::prepare(Connection::open_in_memory()?)
    }

    fn prepare(mut connection: Connection) -> Result<Self, StorageError> {
        // FULL makes each commit durable on power loss, not only on a crash of the process:
        // an approval or a counter must never be lost once the client was told it happened.
        connection.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;
             PRAGMA busy_timeout = 5000;",
        )?;
        migrate(&mut connection)?;
        Ok(Storage {
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    /// Runs `work` on the connection on tokio's blocking pool.
    pub async fn with<T, F>(&self, work: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, rusqlite::Error> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock leaves SQLite itself consistent (the transaction
            // rolls back), so a poisoned lock is safe to reuse.
            let mut guard = connection.lock().unwrap_or_else(|p| p.into_inner());
            work(&mut guard).map_err(StorageError::from)
        })
        .await
        .map_err(|e| StorageError::from_message(format!("storage task failed: {e}")))?
    }

    /// Runs `work` in one immediate transaction on the blocking pool: committed when `work`
    /// returns `Ok` (whatever the outcome inside it, such as a counted failed attempt), rolled
    /// back on `Err`. One connection serializes these, so a read-check-write inside is atomic.
    pub async fn transaction<T, F>(&self, work: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StorageError> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            let mut guard = connection.lock().unwrap_or_else(|p| p.into_inner());
            let transaction =
                guard.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let value = work(&transaction)?;
            transaction.commit()?;
            Ok(value)
        })
        .await
        .map_err(|e| StorageError::from_message(format!("storage task failed: {e}")))?
    }

    /// Confirms that the database answers and its schema is current.
    pub async fn check(&self) -> Result<(), StorageError> {
        let expected = MIGRATIONS.len() as i64;
        let version = self
            .with(|c| c.query_row("PRAGMA user_version", [], |row| row.get::<_, i64>(0)))
            .await?;
        if version == expected {
            Ok(())
        } else {
            Err(StorageError::from_message(format!(
                "schema version {version}, expected {expected}"
            )))
        }
    }

    /// Appends an event to the audit log.
    pub async fn audit(&self, event: &'static str, detail: String) -> Result<(), StorageError> {
        let at_ms = now_ms();
        self.with(move |c| record_at(c, at_ms, event, &detail))
            .await
    }

    /// The newest audit event, if any: (event, detail).
    pub async fn last_audit_event(&self) -> Result<Option<(String, String)>, StorageError> {
        self.with(|c| {
            c.query_row(
                "SELECT event, detail FROM audit_log ORDER BY id DESC LIMIT 1",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
        })
        .await
    }
}

/// Appends an event to the audit log inside the caller's transaction, so the event and the
/// change it records commit together.
pub(crate) fn record(
    connection: &Connection,
    event: &'static str,
    detail: &str,
) -> Result<(), rusqlite::Error> {
    record_at(connection, now_ms(), event, detail)
}

fn record_at(
    connection: &Connection,
    at_ms: i64,
    event: &'static str,
    detail: &str,
) -> Result<(), rusqlite::Error> {
    connection
        .execute(
            "INSERT INTO audit_log (at_ms, event, detail) VALUES (?1, ?2, ?3)",
            params![at_ms, event, detail],
        )
        .map(drop)
}

fn migrate(connection: &mut Connection) -> Result<(), StorageError> {
    let transaction = connection.transaction()?;
    let applied: usize =
        transaction.query_row("PRAGMA user_version", [], |row| row.get::<_, i64>(0))? as usize;
    if applied > MIGRATIONS.len() {
        return Err(StorageError::from_message(format!(
            "the database has schema version {applied}, newer than this server knows ({}); \
             run a newer qrauth",
            MIGRATIONS.len()
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        transaction.execute_batch(sql)?;
        transaction.pragma_update(None, "user_version", (index + 1) as i64)?;
    }
    transaction.commit()?;
    Ok(())
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn schema_is_migrated_once_and_data_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/qrauth.sqlite3");
        let storage = Storage::open(&path).unwrap();
        storage.check().await.unwrap();
        storage.audit("test.event", "first".into()).await.unwrap();
        drop(storage);

        let reopened = Storage::open(&path).unwrap();
        reopened.check().await.unwrap();
        assert_eq!(
            reopened.last_audit_event().await.unwrap(),
            Some(("test.event".into(), "first".into()))
        );
        let mode: String = reopened
            .with(|c| c.query_row("PRAGMA journal_mode", [], |r| r.get(0)))
            .await
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[tokio::test]
    async fn refuses_a_database_from_a_newer_server() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qrauth.sqlite3");
        let connection = Connection::open(&path).unwrap();
        connection.pragma_update(None, "user_version", 99).unwrap();
        drop(connection);
        let error = Storage::open(&path).err().unwrap();
        assert!(error.to_string().contains("schema version 99"), "{error}");
    }
}
