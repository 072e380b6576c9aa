//! The only code that knows the database. Flows run a closure over one transaction ([`Tx`]) and
//! call the typed methods of each table's interface; a backend implements those interfaces with
//! its own SQL. SQLite (`sqlite/`) is the embedded default; PostgreSQL (`postgres/`) lets
//! several servers share one database.
//!
//! One file per table: `audit`, `users` (with browser sessions), `application`, `activations`,
//! `logins`, `operations`, `oidc` (relying parties and their grants). Each says how its status enum is written (once, by the enum's
//! `as_str` in core) and which expiry rule of core it applies, so reads and the sweep agree.

mod activations;
mod application;
mod audit;
mod logins;
mod oidc;
mod operations;
mod postgres;
mod rate_limits;
mod sqlite;
mod users;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub(crate) use activations::{ActivationRow, ActivationTable, NewActivationRow};
pub(crate) use application::{ApplicationTable, SealedApplicationKeys};
pub(crate) use audit::AuditLog;
#[cfg(test)]
pub(crate) use audit::MAX_DETAIL_CHARS;
pub(crate) use logins::{LoginRow, LoginTable, NewLoginRow};
pub(crate) use oidc::{ClientRow, GrantRow, OidcTable};
pub(crate) use operations::{NewOperationRow, OperationRow, OperationTable};
pub(crate) use rate_limits::{BucketRow, Take};
pub(crate) use users::{UserTable, WebSessionRow};

/// One transaction, with every table's interface.
pub(crate) trait Tx:
    AuditLog + UserTable + ApplicationTable + ActivationTable + LoginTable + OperationTable + OidcTable
{
}

impl<T> Tx for T where
    T: AuditLog
        + UserTable
        + ApplicationTable
        + ActivationTable
        + LoginTable
        + OperationTable
        + OidcTable
{
}

/// What a storage engine provides: transactions, run on the calling thread (the store calls it
/// on tokio's blocking pool).
pub(crate) trait Backend: Send + Sync {
    /// Runs `work` in one transaction that other writers cannot interleave with; commits when
    /// `work` returns true, rolls back otherwise.
    fn transaction(&self, work: &mut dyn FnMut(&mut dyn Tx) -> bool) -> Result<(), StorageError>;

    /// Runs `work`, which only reads, as cheaply as the engine allows: its statements may each
    /// see the database at a moment of their own (PostgreSQL runs them outside a transaction),
    /// so it is for a read of one row, such as a poll.
    fn read(&self, work: &mut dyn FnMut(&mut dyn Tx) -> bool) -> Result<(), StorageError> {
        self.transaction(work)
    }

    /// Runs [`Backend::read`]'s `work` at once on the calling thread, an async worker, if the
    /// engine can do it without waiting (SQLite, when no other transaction holds the
    /// connection: a read of a cached row takes microseconds, less than handing it to a
    /// blocking thread and back); `None` when it cannot, and the read goes to the blocking pool.
    fn read_now(
        &self,
        work: &mut dyn FnMut(&mut dyn Tx) -> bool,
    ) -> Option<Result<(), StorageError>> {
        let _ = work;
        None
    }

    /// The schema version the database has and the one this server expects.
    fn schema_versions(&self) -> Result<(i64, i64), StorageError>;

    /// Calls `wake` for every login another server changed, until it returns false; `recheck`
    /// bounds how late a change is seen when an announcement is lost. A database only one
    /// server uses has nothing to announce: the flows wake their own waiters after each commit.
    fn watch_logins(
        &self,
        recheck: Duration,
        wake: Arc<dyn Fn(LoginChange<'_>) -> bool + Send + Sync>,
    ) {
        let _ = (recheck, wake);
    }

    /// Applies `take` to the bucket of `client` for `limit` (`fresh` when it has none) and
    /// stores the result, atomically across servers: (before, after). `None` when only one
    /// server uses this database and keeps its buckets in memory.
    fn take_from_bucket(
        &self,
        limit: &str,
        client: &str,
        fresh: BucketRow,
        take: &mut Take,
    ) -> Result<Option<(BucketRow, BucketRow)>, StorageError> {
        let _ = (limit, client, fresh, take);
        Ok(None)
    }

    /// Deletes the shared buckets not touched since `before_ms` (full again, as good as none);
    /// how many.
    fn forget_idle_buckets(&self, before_ms: i64) -> Result<usize, StorageError> {
        let _ = before_ms;
        Ok(0)
    }
}

/// What [`Backend::watch_logins`] reports.
#[derive(Clone, Copy, Debug)]
pub(crate) enum LoginChange<'a> {
    /// The login of this id changed.
    Login(&'a str),
    /// Changes may have been missed (the connection was down): every waiter looks again.
    Everything,
    /// Nothing changed; the watcher asks whether anyone still listens.
    Nothing,
}

/// Where the server keeps its data, as given to `--db`: a file path for SQLite, or a
/// `postgres://` (or `postgresql://`) URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file, created with its schema if missing.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (libpq's form, without TLS: a private network or loopback).
    Postgres(String),
}

impl std::str::FromStr for Database {
    type Err = String;

    /// Anything shaped like `scheme://` names a database server, never a file: an unknown
    /// scheme is refused rather than becoming a SQLite file in a folder called `scheme:`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let Some((scheme, _)) = text.split_once("://") else {
            return if text.trim().is_empty() {
                Err("the database is empty: give a SQLite file or a postgres:// URL".into())
            } else {
                Ok(Database::Sqlite(PathBuf::from(text)))
            };
        };
        match scheme.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" => {
                text.parse::<::postgres::Config>().map_err(|e| {
                    format!(
                        "{} is not a PostgreSQL URL qrauth can use: {e}",
                        postgres::redacted(text)
                    )
                })?;
                Ok(Database::Postgres(text.to_owned()))
            }
            _ => Err(format!(
                "{scheme}:// is not a database qrauth knows: give a SQLite file path or a \
                 postgres://user@host:port/dbname URL"
            )),
        }
    }
}

impl From<PathBuf> for Database {
    fn from(path: PathBuf) -> Self {
        Database::Sqlite(path)
    }
}

impl From<&Path> for Database {
    fn from(path: &Path) -> Self {
        Database::Sqlite(path.to_owned())
    }
}

impl fmt::Display for Database {
    /// For logs: a URL without its password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "{}", path.display()),
            Database::Postgres(url) => f.write_str(&postgres::redacted(url)),
        }
    }
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
    shared: bool,
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

    /// Opens `database`, whichever engine it is, and brings its schema up to date; several
    /// servers starting at once on one PostgreSQL migrate it once.
    pub async fn connect(database: &Database) -> Result<Self, StorageError> {
        let database = database.clone();
        // The PostgreSQL client blocks (it runs a small runtime of its own), like SQLite.
        blocking(move || match database {
            Database::Sqlite(path) => Self::open(&path),
            Database::Postgres(url) => Ok(Storage {
                backend: Arc::new(postgres::Postgres::connect(&url)?),
                shared: true,
            }),
        })
        .await
    }

    /// True when other servers may use the same database (PostgreSQL): per-process state such
    /// as rate limits must then live in the database too.
    pub fn is_shared(&self) -> bool {
        self.shared
    }

    /// Calls `wake` for each login another server changed, while it returns true.
    pub(crate) fn watch_logins(
        &self,
        recheck: Duration,
        wake: Arc<dyn Fn(LoginChange<'_>) -> bool + Send + Sync>,
    ) {
        self.backend.watch_logins(recheck, wake);
    }

    /// The shared bucket of `client` for `limit` after `take`, as (before, after); `None` when
    /// this database is one server's ([`Backend::take_from_bucket`]).
    pub(crate) async fn take_from_bucket(
        &self,
        limit: &'static str,
        client: String,
        fresh: BucketRow,
        mut take: Take,
    ) -> Result<Option<(BucketRow, BucketRow)>, StorageError> {
        let backend = Arc::clone(&self.backend);
        blocking(move || backend.take_from_bucket(limit, &client, fresh, &mut take)).await
    }

    /// Deletes the shared rate-limit buckets idle since `before_ms`; how many.
    pub(crate) async fn forget_idle_buckets(&self, before_ms: i64) -> Result<usize, StorageError> {
        let backend = Arc::clone(&self.backend);
        blocking(move || backend.forget_idle_buckets(before_ms)).await
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
            shared: false,
        }
    }

    /// Runs `work` in one transaction on the blocking pool: committed when `work` returns `Ok`
    /// or an error that is not the storage's ([`Outcome`]), rolled back on a storage error.
    /// Writers are serialized, so a read-check-write inside is atomic.
    pub(crate) async fn transaction<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: Outcome + Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        self.run(false, work).await
    }

    /// Runs `work`, which must not write, with no more isolation than one statement has
    /// ([`Backend::read`]): for a one-row read on a hot path.
    pub(crate) async fn read<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: Outcome + Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        self.run(true, work).await
    }

    async fn run<T, E, F>(&self, read_only: bool, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: Outcome + Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        let mut work = work;
        if read_only {
            let done = drive(&mut work, |each| {
                self.backend.read_now(each).unwrap_or(Ok(()))
            });
            if let Some(done) = done {
                return done;
            }
        }
        let backend = Arc::clone(&self.backend);
        let ran = tokio::task::spawn_blocking(move || {
            drive(&mut work, |each| {
                if read_only {
                    backend.read(each)
                } else {
                    backend.transaction(each)
                }
            })
            .unwrap_or_else(|| {
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
        let (version, expected) = blocking(move || backend.schema_versions()).await?;
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

/// Hands `work` to `engine` as the closure a backend runs in its transaction, committing unless
/// `work` failed with a storage error ([`Outcome`]); what `work` returned, or `None` when the
/// engine did not run it.
fn drive<T, E: Outcome>(
    work: &mut dyn FnMut(&mut dyn Tx) -> Result<T, E>,
    engine: impl FnOnce(&mut dyn FnMut(&mut dyn Tx) -> bool) -> Result<(), StorageError>,
) -> Option<Result<T, E>> {
    let mut result = None;
    let ran = engine(&mut |tx| {
        let outcome = work(tx);
        let commit = outcome.as_ref().map_or_else(|e| !e.rolls_back(), |_| true);
        result = Some(outcome);
        commit
    });
    match ran {
        Err(e) => Some(Err(e.into())),
        Ok(()) => result,
    }
}

/// Runs `work` on tokio's blocking pool, where the engines' synchronous clients belong.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StorageError> + Send + 'static,
) -> Result<T, StorageError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StorageError::from_message(format!("storage task failed: {e}")))?
}

/// `'A', 'B'`: the names of `values` as an SQL list, for the rules core states as predicates
/// over an enum (which states expire, which are final).
fn sql_list<T: Copy>(
    values: &[T],
    keep: impl Fn(T) -> bool,
    name: impl Fn(T) -> &'static str,
) -> String {
    values
        .iter()
        .copied()
        .filter(|v| keep(*v))
        .map(|v| format!("'{}'", name(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
