//! People who sign in with a password, and their browser sessions.
//!
//! Passwords are stored as Argon2id hashes (PHC strings). A browser session is a 256-bit random
//! token in an HttpOnly cookie; the database keeps only its SHA-256, so a leaked database opens
//! no session.

use crate::store::{Storage, StorageError, now_ms};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// How long a browser session lasts.
pub const SESSION_LIFETIME_MS: i64 = 12 * 60 * 60 * 1000;

/// Why a user could not be added or signed in.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// The name is empty, too long or has characters other than letters, digits and `._-@`.
    #[error("a user name has 1 to 64 letters, digits and the characters . _ - @")]
    InvalidName,
    /// Fewer than 8 characters, or more than 1024.
    #[error("a password has 8 to 1024 characters")]
    WeakPassword,
    /// A user of this name exists (and replacing was not asked for).
    #[error("a user of this name exists")]
    Exists,
    /// No user of this name.
    #[error("no user of this name")]
    Unknown,
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl crate::store::Outcome for UserError {
    fn rolls_back(&self) -> bool {
        matches!(self, UserError::Storage(_))
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
    storage
        .transaction(move |tx| {
            let existed = tx.user_id(&name)?.is_some();
            if !tx.insert_user(&name, &hash, created, replace)? {
                return Err(UserError::Exists);
            }
            if existed {
                // Whoever knew the old password may be signed in: a new password ends that.
                let ended = tx.delete_user_web_sessions(&name)?;
                tx.record(
                    "user.password_changed",
                    &format!("user {name:?}, {ended} sessions ended"),
                )?;
            }
            Ok(())
        })
        .await
}

/// Ends every browser session of the user `name` (signed out everywhere); how many there were.
pub async fn end_sessions(storage: &Storage, name: &str) -> Result<usize, UserError> {
    let name = name.to_owned();
    storage
        .transaction(move |tx| {
            if tx.user_id(&name)?.is_none() {
                return Err(UserError::Unknown);
            }
            let ended = tx.delete_user_web_sessions(&name)?;
            tx.record(
                "user.sessions_ended",
                &format!("user {name:?}, {ended} sessions"),
            )?;
            Ok(ended)
        })
        .await
}

/// The user's id when `password` is theirs. Unknown names cost as much as wrong passwords.
pub async fn check_password(
    storage: &Storage,
    name: &str,
    password: &str,
) -> Result<Option<i64>, StorageError> {
    let lookup = name.to_owned();
    let row = storage
        .transaction(move |tx| tx.password_hash(&lookup))
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

/// Starts a browser session for `user_id`, signed in by `amr` (RFC 8176 methods, such as
/// [`PASSWORD_AMR`]); returns the token for the cookie.
pub async fn start_session(
    storage: &Storage,
    user_id: i64,
    amr: &[&str],
) -> Result<String, StorageError> {
    let token = crate::secrets::random_token::<32>()?;
    let hash = crate::secrets::secret_hash(&token);
    let now = now_ms();
    let amr = amr.join(" ");
    storage
        .transaction(move |tx| {
            tx.insert_web_session(&hash, user_id, &amr, now, now + SESSION_LIFETIME_MS)
        })
        .await?;
    Ok(token)
}

/// How a password sign-in is named (RFC 8176).
pub const PASSWORD_AMR: &[&str] = &["pwd"];

/// The live session `token`.
pub(crate) async fn session(
    storage: &Storage,
    token: &str,
) -> Result<Option<crate::store::WebSessionRow>, StorageError> {
    let hash = crate::secrets::secret_hash(token);
    let now = now_ms();
    storage
        .transaction(move |tx| tx.web_session(&hash, now))
        .await
}

/// Ends the session `token`, if it exists.
pub async fn end_session(storage: &Storage, token: &str) -> Result<(), StorageError> {
    let hash = crate::secrets::secret_hash(token);
    storage
        .transaction(move |tx| tx.delete_web_session(&hash))
        .await
}

impl super::Authority {
    /// Password sign-in: a new browser session's token when `password` is `user`'s, `None`
    /// otherwise; both are audited.
    pub(crate) async fn sign_in_with_password(
        &self,
        user: &str,
        password: &str,
    ) -> Result<Option<String>, StorageError> {
        let Some(user_id) = check_password(&self.storage, user, password).await? else {
            self.storage
                .audit("session.sign_in_failed", format!("user {user:?}"))
                .await?;
            return Ok(None);
        };
        let token = start_session(&self.storage, user_id, PASSWORD_AMR).await?;
        self.storage
            .audit("session.signed_in", format!("user {user:?}"))
            .await?;
        Ok(Some(token))
    }

    /// A new browser session for `user_id`, signed in by `amr`: the token for its cookie.
    pub(crate) async fn start_browser_session(
        &self,
        user_id: i64,
        amr: &[&str],
    ) -> Result<String, StorageError> {
        start_session(&self.storage, user_id, amr).await
    }

    /// The live browser session `token`: who, how and when they signed in.
    pub(crate) async fn browser_session(
        &self,
        token: &str,
    ) -> Result<Option<crate::store::WebSessionRow>, StorageError> {
        session(&self.storage, token).await
    }

    /// Ends the browser session `token`.
    pub(crate) async fn end_browser_session(&self, token: &str) -> Result<(), StorageError> {
        end_session(&self.storage, token).await
    }

    /// Audits a request refused by a rate limit.
    pub(crate) async fn record_rate_limited(
        &self,
        event: &'static str,
        client: std::net::IpAddr,
    ) -> Result<(), StorageError> {
        self.storage.audit(event, format!("client {client}")).await
    }

    /// Whether the database answers and its schema is current.
    pub(crate) async fn check_storage(&self) -> Result<(), StorageError> {
        self.storage.check().await
    }
}
