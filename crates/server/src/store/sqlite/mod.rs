//! The SQLite backend: one embedded file, nothing to install.
//!
//! SQLite survives restarts and, with WAL, lets readers proceed while a write commits. All
//! access goes through one connection, which serializes writers: the counters and attempt
//! limits rely on that. Every statement of this backend is in this folder, one file per table.

mod activations;
mod application;
mod audit;
mod logins;
mod oidc;
mod operations;
mod users;

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use super::{Backend, StorageError, StorageFault, Tx};

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
    // 4: why a login was denied (`on_token`, `wrong_number`), for its page to say.
    "ALTER TABLE login_sessions ADD COLUMN denial TEXT;",
    // 5: OpenID Connect: how each browser session signed in (RFC 8176 `amr`), the relying
    // parties the operator registered, and their grants (a code's hash, then its access token's).
    "ALTER TABLE web_sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
    CREATE TABLE oidc_clients (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        secret_hash BLOB,
        redirect_uris TEXT NOT NULL,
        post_logout_uris TEXT NOT NULL,
        created_ms INTEGER NOT NULL
    );
    CREATE TABLE oidc_grants (
        code_hash BLOB PRIMARY KEY,
        client_id TEXT NOT NULL REFERENCES oidc_clients(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        redirect_uri TEXT NOT NULL,
        code_challenge TEXT NOT NULL,
        nonce TEXT,
        scope TEXT NOT NULL,
        auth_time_ms INTEGER NOT NULL,
        amr TEXT NOT NULL,
        code_expires_ms INTEGER NOT NULL,
        redeemed_ms INTEGER,
        access_hash BLOB UNIQUE,
        access_expires_ms INTEGER
    );
    CREATE INDEX oidc_grants_by_end ON oidc_grants(code_expires_ms);",
];

/// One SQLite file behind one connection.
pub(crate) struct Sqlite {
    connection: Mutex<Connection>,
    /// Opened only to read, beside a server that writes: transactions take no write lock.
    read_only: bool,
}

/// A transaction of [`Sqlite`], with every table's interface.
pub(crate) struct SqliteTx<'a>(&'a rusqlite::Transaction<'a>);

impl From<rusqlite::Error> for StorageError {
    fn from(e: rusqlite::Error) -> Self {
        let fault = match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => StorageFault::Full,
            Some(rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::SystemIoFailure) => {
                StorageFault::Unwritable
            }
            _ => StorageFault::Unavailable,
        };
        StorageError::with_fault(e.to_string(), fault)
    }
}

impl Sqlite {
    pub(crate) fn open(path: &Path) -> Result<Self, StorageError> {
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

    pub(crate) fn open_read_only(path: &Path) -> Result<Self, StorageError> {
        let connection = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| {
                StorageError::from_message(format!("cannot open {}: {e}", path.display()))
            })?;
        connection.execute_batch("PRAGMA busy_timeout = 5000;")?;
        Ok(Sqlite {
            connection: Mutex::new(connection),
            read_only: true,
        })
    }

    pub(crate) fn in_memory() -> Result<Self, StorageError> {
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
        Ok(Sqlite {
            connection: Mutex::new(connection),
            read_only: false,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite itself consistent (the transaction
        // rolls back), so a poisoned lock is safe to reuse.
        self.connection.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Backend for Sqlite {
    fn transaction(&self, work: &mut dyn FnMut(&mut dyn Tx) -> bool) -> Result<(), StorageError> {
        let mut connection = self.lock();
        // Immediate: the write lock is taken at the start, so a read-check-write is atomic and
        // never fails half-way with SQLITE_BUSY.
        let behavior = if self.read_only {
            TransactionBehavior::Deferred
        } else {
            TransactionBehavior::Immediate
        };
        let transaction = connection.transaction_with_behavior(behavior)?;
        if work(&mut SqliteTx(&transaction)) {
            transaction.commit()?;
        }
        Ok(())
    }

    fn read_now(
        &self,
        work: &mut dyn FnMut(&mut dyn Tx) -> bool,
    ) -> Option<Result<(), StorageError>> {
        let mut connection = match self.connection.try_lock() {
            Ok(connection) => connection,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return None,
        };
        // Deferred: a reader in WAL mode takes no lock that a writer elsewhere could hold.
        Some(
            connection
                .transaction_with_behavior(TransactionBehavior::Deferred)
                .map(|transaction| {
                    work(&mut SqliteTx(&transaction));
                })
                .map_err(StorageError::from),
        )
    }

    fn schema_versions(&self) -> Result<(i64, i64), StorageError> {
        let version = self
            .lock()
            .query_row("PRAGMA user_version", [], |row| row.get::<_, i64>(0))?;
        Ok((version, MIGRATIONS.len() as i64))
    }
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

/// Column `column` of `row` read back as a `T` by its name (an enum's `from_name`); a value
/// this server never writes is a damaged row, never a guess.
fn named<T>(
    row: &rusqlite::Row<'_>,
    column: usize,
    from_name: impl Fn(&str) -> Option<T>,
) -> rusqlite::Result<T> {
    let text: String = row.get(column)?;
    from_name(&text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            column,
            rusqlite::types::Type::Text,
            format!("{text:?} is not a value this server writes").into(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Storage;

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
        let mode: String = Connection::open(&path)
            .unwrap()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
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
