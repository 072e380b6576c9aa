//! `users` and `web_sessions`: people who sign in with a password, and their browser sessions
//! (kept as hashes of the cookie's token). A session is live until its `expires_ms`.

use super::StorageError;

/// A live browser session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WebSessionRow {
    pub(crate) user_id: i64,
    pub(crate) user: String,
    /// How the person signed in: RFC 8176 methods, space-separated.
    pub(crate) amr: String,
    /// When: OpenID's `auth_time`.
    pub(crate) created_ms: i64,
}

/// Users and their browser sessions.
pub(crate) trait UserTable {
    /// Adds a user; with `replace`, sets the password hash of an existing one. False when the
    /// name is taken and `replace` is not asked for.
    fn insert_user(
        &mut self,
        name: &str,
        password_hash: &str,
        created_ms: i64,
        replace: bool,
    ) -> Result<bool, StorageError>;

    /// The id and password hash of the user `name`.
    fn password_hash(&mut self, name: &str) -> Result<Option<(i64, String)>, StorageError>;

    /// The id of the user `name`.
    fn user_id(&mut self, name: &str) -> Result<Option<i64>, StorageError>;

    /// The name of the user `id`.
    fn user_name(&mut self, id: i64) -> Result<Option<String>, StorageError>;

    /// Starts a browser session, signed in by the methods `amr` (RFC 8176, space-separated).
    fn insert_web_session(
        &mut self,
        token_hash: &[u8],
        user_id: i64,
        amr: &str,
        created_ms: i64,
        expires_ms: i64,
    ) -> Result<(), StorageError>;

    /// The session whose token hashes to `token_hash`, if it is live at `now_ms`.
    fn web_session(
        &mut self,
        token_hash: &[u8],
        now_ms: i64,
    ) -> Result<Option<WebSessionRow>, StorageError>;

    /// Ends a session.
    fn delete_web_session(&mut self, token_hash: &[u8]) -> Result<(), StorageError>;

    /// Ends every browser session of the user `name`; how many.
    fn delete_user_web_sessions(&mut self, name: &str) -> Result<usize, StorageError>;

    /// Deletes the sessions that ended by `now_ms`; how many.
    fn delete_ended_web_sessions(&mut self, now_ms: i64) -> Result<usize, StorageError>;
}
