//! People who sign in with a password, and their browser sessions.
//!
//! Passwords are stored as Argon2id hashes (PHC strings). A browser session is a 256-bit random
//! token in an HttpOnly cookie; the database keeps only its SHA-256, so a leaked database opens
//! no session.

use std::fmt;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rusqlite::{OptionalExtension, params};

use crate::storage::{Storage, StorageError, now_ms};

/// How long a browser session lasts.
pub const SESSION_LIFETIME_MS: i64 = 12 * 60 * 60 * 1000;

/// Why a user could not be added or signed in.
#[derive(Debug)]
pub enum UserError {
    /// The name is empty, too long or has characters other than letters, digits and `._-@`.
    InvalidName,
    /// Fewer than 8 characters, or more than 1024.
    WeakPassword,
    /// A user of this name exists (and replacing was not asked for).
    Exists,
    /// The database failed.
    Storage(StorageError),
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserError::InvalidName => {
                f.write_str("a user name has 1 to 64 letters, digits and the characters . _ - @")
            }
            UserError::WeakPassword => f.write_str("a password has 8 to 1024 characters"),
            UserError::Exists => f.write_str("a user of this name exists"),
            UserError::Storage(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for UserError {}

impl From<StorageError> for UserError {
    fn from(e: StorageError) -> Self {
        UserError::Storage(e)
    }
}

pub(crate) fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
}

fn hash_password(password: &str) -> Result<String, StorageError> {
    let salt = SaltString::encode_b64(&crate::secrets::random::<16>()?)
        .map_err(|e| StorageError::from_message(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| StorageError::from_message(format!("password hash: {e}")))
}

/// A fixed hash to verify against when the user does not exist, so that an unknown name and a
/// wrong password take the same time.
fn decoy_hash() -> &'static str {
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$Xx0C6GhsFw2b9gH5hXPUJrw8kZ8dHqGZl7zFx8xqOcA"
}

/// Adds a user, or with `replace` sets the password of an existing one.
pub async fn add_user(
    storage: &Storage,
    name: &str,
    password: &str,
    replace: bool,
) -> Result<(), UserError> {
    if !valid_name(name) {
        return Err(UserError::InvalidName);
    }
    if !(8..=1024).contains(&password.chars().count()) {
        return Err(UserError::WeakPassword);
    }
    let owned_password = password.to_owned();
    let hash = tokio::task::spawn_blocking(move || hash_password(&owned_password))
        .await
        .map_err(|e| StorageError::from_message(format!("hashing failed: {e}")))??;
    let name = name.to_owned();
    let created = now_ms();
    let inserted = storage
        .with(move |c| {
            let sql = if replace {
                "INSERT INTO users (name, password_hash, created_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT(name) DO UPDATE SET password_hash = excluded.password_hash"
            } else {
                "INSERT INTO users (name, password_hash, created_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT(name) DO NOTHING"
            };
            c.execute(sql, params![name, hash, created])
        })
        .await?;
    if inserted == 0 {
        return Err(UserError::Exists);
    }
    Ok(())
}

/// The user's id when `password` is theirs. Unknown names cost as much as wrong passwords.
pub async fn check_password(
    storage: &Storage,
    name: &str,
    password: &str,
) -> Result<Option<i64>, StorageError> {
    let lookup = name.to_owned();
    let row: Option<(i64, String)> = storage
        .with(move |c| {
            c.query_row(
                "SELECT id, password_hash FROM users WHERE name = ?1",
                [lookup],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })
        .await?;
    let (id, hash) = match row {
        Some((id, hash)) => (Some(id), hash),
        None => (None, decoy_hash().to_owned()),
    };
    let password = password.to_owned();
    let matches = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .map_err(|e| StorageError::from_message(format!("verifying failed: {e}")))?;
    Ok(id.filter(|_| matches))
}

/// Starts a browser session for `user_id`; returns the token for the cookie.
pub async fn start_session(storage: &Storage, user_id: i64) -> Result<String, StorageError> {
    let token = crate::secrets::random_token::<32>()?;
    let hash = crate::secrets::secret_hash(&token);
    let now = now_ms();
    storage
        .with(move |c| {
            c.execute(
                "INSERT INTO web_sessions (token_hash, user_id, created_ms, expires_ms)
                 VALUES (?1, ?2, ?3, ?4)",
                params![hash, user_id, now, now + SESSION_LIFETIME_MS],
            )
        })
        .await?;
    Ok(token)
}

/// The name of the user whose live session `token` is.
pub async fn session_user(storage: &Storage, token: &str) -> Result<Option<String>, StorageError> {
    let hash = crate::secrets::secret_hash(token);
    let now = now_ms();
    storage
        .with(move |c| {
            c.query_row(
                "SELECT users.name FROM web_sessions JOIN users ON users.id = web_sessions.user_id
                 WHERE token_hash = ?1 AND expires_ms > ?2",
                params![hash, now],
                |r| r.get(0),
            )
            .optional()
        })
        .await
}

/// Ends the session `token`, if it exists.
pub async fn end_session(storage: &Storage, token: &str) -> Result<(), StorageError> {
    let hash = crate::secrets::secret_hash(token);
    storage
        .with(move |c| {
            c.execute("DELETE FROM web_sessions WHERE token_hash = ?1", [hash])
                .map(drop)
        })
        .await
}
