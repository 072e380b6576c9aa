//! `oidc_clients` and `oidc_grants`: the relying parties the operator registered, and what each
//! authorization gave them. A grant is born as an authorization code (kept as a hash), is
//! redeemed once for an access token (also a hash, in the same row), and is revoked when its
//! code is presented again (RFC 6749 §4.1.2).

use super::StorageError;

/// A registered client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ClientRow {
    /// `client_id`.
    pub(crate) id: String,
    /// What the sign-in page says is asking.
    pub(crate) name: String,
    /// The secret's hash; `None` for a public client (PKCE alone).
    pub(crate) secret_hash: Option<Vec<u8>>,
    /// Exact redirect URIs.
    pub(crate) redirect_uris: Vec<String>,
    /// Exact URIs RP-initiated logout may return to.
    pub(crate) post_logout_uris: Vec<String>,
    pub(crate) created_ms: i64,
}

/// What an authorization code stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GrantRow {
    pub(crate) code_hash: Vec<u8>,
    pub(crate) client_id: String,
    pub(crate) user_id: i64,
    pub(crate) redirect_uri: String,
    /// The S256 PKCE challenge.
    pub(crate) code_challenge: String,
    pub(crate) nonce: Option<String>,
    /// Space-separated scopes granted.
    pub(crate) scope: String,
    /// When the person signed in (the session's start).
    pub(crate) auth_time_ms: i64,
    /// Space-separated authentication method references (RFC 8176).
    pub(crate) amr: String,
    pub(crate) code_expires_ms: i64,
    /// When the code was exchanged; a second exchange revokes the grant.
    pub(crate) redeemed_ms: Option<i64>,
    pub(crate) access_expires_ms: Option<i64>,
}

/// Relying parties and their grants.
pub(crate) trait OidcTable {
    /// Registers a client; false when the name is taken.
    fn insert_client(&mut self, client: &ClientRow) -> Result<bool, StorageError>;

    /// The client `id`.
    fn client(&mut self, id: &str) -> Result<Option<ClientRow>, StorageError>;

    /// Every client, by name.
    fn clients(&mut self) -> Result<Vec<ClientRow>, StorageError>;

    /// Removes the client named `name` and its grants; false when there is none.
    fn remove_client(&mut self, name: &str) -> Result<bool, StorageError>;

    /// Stores a new authorization code.
    fn insert_grant(&mut self, grant: &GrantRow) -> Result<(), StorageError>;

    /// The grant of the code hashing to `code_hash`, redeemed or not.
    fn grant(&mut self, code_hash: &[u8]) -> Result<Option<GrantRow>, StorageError>;

    /// The code was exchanged for the access token hashing to `access_hash`.
    fn redeem_grant(
        &mut self,
        code_hash: &[u8],
        access_hash: &[u8],
        access_expires_ms: i64,
        now_ms: i64,
    ) -> Result<(), StorageError>;

    /// Ends what the grant issued: its access token no longer works.
    fn revoke_grant(&mut self, code_hash: &[u8]) -> Result<(), StorageError>;

    /// The user name and grant of a live access token.
    fn grant_by_access_token(
        &mut self,
        access_hash: &[u8],
        now_ms: i64,
    ) -> Result<Option<(String, GrantRow)>, StorageError>;

    /// Deletes grants whose code and token both ended before `before_ms`; how many.
    fn delete_ended_grants(&mut self, before_ms: i64) -> Result<usize, StorageError>;
}

/// URIs as one column: one per line.
pub(crate) fn join_uris(uris: &[String]) -> String {
    uris.join("\n")
}

pub(crate) fn split_uris(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}
