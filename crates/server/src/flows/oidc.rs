//! OpenID Connect: qrauth as an OpenID Provider for the relying parties the operator registers
//! (`qrauth client add`). The authorization code flow with PKCE (S256 only), codes that live a
//! minute and are used once (a second use revokes what the first issued), ES256 identity tokens
//! that say how the person signed in (`amr`), and userinfo. The browser session is the
//! existing one: the sign-in page (QR, offline code, password) signs the person in, and the
//! session remembers how (`web_sessions.amr`) and when (`auth_time`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Authority;
use crate::secrets::{random_token, random_uuid, secret_hash};
use crate::store::{ClientRow, GrantRow, StorageError, WebSessionRow, now_ms};

/// How long an authorization code can be exchanged, unless the policy says otherwise: the
/// browser's redirect and the relying party's token request take a second; a minute leaves
/// room and little else.
pub const CODE_LIFETIME: std::time::Duration = std::time::Duration::from_secs(60);

/// How long an access token opens userinfo.
pub const ACCESS_TOKEN_LIFETIME_S: i64 = 600;

/// A client the operator registers.
#[derive(Clone, Debug)]
pub struct NewClient {
    /// What the sign-in page says is asking ("Grafana").
    pub name: String,
    /// Where codes may be sent, matched exactly.
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may return, matched exactly.
    pub post_logout_redirect_uris: Vec<String>,
    /// A public client (a single-page or native app): no secret, PKCE alone.
    pub public: bool,
}

/// A registered client, as `qrauth client add` prints it once.
#[derive(Clone, Debug)]
pub struct RegisteredClient {
    /// Its `client_id`.
    pub client_id: String,
    /// `None` for a public client. Shown once: only its hash is kept.
    pub client_secret: Option<String>,
}

/// A client as `qrauth client list` shows it.
#[derive(Clone, Debug)]
pub struct ClientView {
    /// Its `client_id`.
    pub client_id: String,
    /// What the sign-in page shows.
    pub name: String,
    /// No secret: PKCE alone.
    pub public: bool,
    /// Where codes may be sent.
    pub redirect_uris: Vec<String>,
    /// Where signing out may return.
    pub post_logout_redirect_uris: Vec<String>,
}

/// Why a client could not be registered.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A name or URI that cannot be used; the message says why.
    #[error("{0}")]
    Invalid(String),
    /// Another client has the name.
    #[error("a client named {0:?} exists already")]
    Taken(String),
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl crate::store::Outcome for ClientError {
    fn rolls_back(&self) -> bool {
        matches!(self, ClientError::Storage(_))
    }
}

/// Checks a redirect URI as registered: absolute, https (http only to this machine, for
/// development), no fragment (RFC 6749 §3.1.2).
fn check_uri(uri: &str) -> Result<(), ClientError> {
    let invalid = |why: &str| ClientError::Invalid(format!("{uri:?}: {why}"));
    let rest = if let Some(rest) = uri.strip_prefix("https://") {
        rest
    } else if let Some(rest) = uri.strip_prefix("http://") {
        let host = rest.split(['/', '?']).next().unwrap_or_default();
        let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
        if !matches!(name, "localhost" | "127.0.0.1" | "[::1]") {
            return Err(invalid("use https (http only for localhost and 127.0.0.1)"));
        }
        rest
    } else {
        return Err(invalid("an absolute https:// URI"));
    };
    if rest.is_empty() || rest.starts_with('/') {
        return Err(invalid("no host"));
    }
    if uri.contains('#') {
        return Err(invalid("a redirect URI has no fragment"));
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("spaces and control characters are not allowed"));
    }
    Ok(())
}

/// The S256 challenge of a PKCE verifier (RFC 7636 §4.2).
pub(crate) fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// What an authorization asks, once its client and redirect URI are known to be right.
#[derive(Clone, Debug)]
pub(crate) struct Authorization {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) code_challenge: String,
    pub(crate) nonce: Option<String>,
    pub(crate) scope: String,
}

/// How a client authenticated at the token endpoint.
#[derive(Clone, Debug)]
pub(crate) struct ClientCredentials {
    pub(crate) client_id: String,
    pub(crate) secret: Option<String>,
}

/// A token request.
#[derive(Clone, Debug)]
pub(crate) struct CodeExchange {
    pub(crate) code: String,
    pub(crate) redirect_uri: String,
    pub(crate) code_verifier: String,
}

/// What the token endpoint answers (RFC 6749 §5.1, OpenID Connect Core §3.1.3.3).
#[derive(Debug, Serialize)]
pub(crate) struct Tokens {
    pub(crate) access_token: String,
    pub(crate) token_type: &'static str,
    pub(crate) expires_in: i64,
    pub(crate) id_token: String,
    pub(crate) scope: String,
}

/// The errors of the token endpoint, with the codes of RFC 6749 §5.2.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TokenError {
    /// `invalid_client`: unknown client, wrong or missing secret.
    #[error("{0}")]
    InvalidClient(String),
    /// `invalid_grant`: the code is unknown, expired, used, another client's or redirect
    /// URI's, or the PKCE verifier does not match it.
    #[error("{0}")]
    InvalidGrant(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl crate::store::Outcome for TokenError {
    fn rolls_back(&self) -> bool {
        matches!(self, TokenError::Storage(_))
    }
}

/// What an identity token says (OpenID Connect Core §2).
#[derive(Debug, Serialize)]
struct IdClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    azp: &'a str,
    exp: i64,
    iat: i64,
    auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    amr: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    preferred_username: Option<&'a str>,
}

/// Userinfo's answer.
#[derive(Debug, Serialize)]
pub(crate) struct UserInfo {
    pub(crate) sub: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) preferred_username: Option<String>,
}

fn has_scope(scope: &str, wanted: &str) -> bool {
    scope.split(' ').any(|s| s == wanted)
}

impl Authority {
    /// Registers a relying party; its secret is returned once and kept as a hash.
    pub async fn add_client(&self, client: NewClient) -> Result<RegisteredClient, ClientError> {
        let name = client.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
            return Err(ClientError::Invalid(
                "the name is one line of 1 to 80 characters".into(),
            ));
        }
        if client.redirect_uris.is_empty() {
            return Err(ClientError::Invalid(
                "give at least one --redirect-uri".into(),
            ));
        }
        for uri in client
            .redirect_uris
            .iter()
            .chain(&client.post_logout_redirect_uris)
        {
            check_uri(uri)?;
        }
        let client_id = random_uuid()?;
        let secret = if client.public {
            None
        } else {
            Some(random_token::<32>()?)
        };
        let row = ClientRow {
            id: client_id.clone(),
            name: name.clone(),
            secret_hash: secret.as_deref().map(secret_hash),
            redirect_uris: client.redirect_uris,
            post_logout_uris: client.post_logout_redirect_uris,
            created_ms: now_ms(),
        };
        self.storage
            .transaction(move |tx| -> Result<_, ClientError> {
                if !tx.insert_client(&row)? {
                    return Err(ClientError::Taken(row.name.clone()));
                }
                tx.record("oidc.client_added", &format!("{} {:?}", row.id, row.name))?;
                Ok(())
            })
            .await?;
        Ok(RegisteredClient {
            client_id,
            client_secret: secret,
        })
    }

    /// The registered clients, by name.
    pub async fn clients(&self) -> Result<Vec<ClientView>, StorageError> {
        let rows = self.storage.transaction(|tx| tx.clients()).await?;
        Ok(rows
            .into_iter()
            .map(|row| ClientView {
                client_id: row.id,
                name: row.name,
                public: row.secret_hash.is_none(),
                redirect_uris: row.redirect_uris,
                post_logout_redirect_uris: row.post_logout_uris,
            })
            .collect())
    }

    /// Removes the client named `name`, and with it every code and token it was given; false
    /// when there is none.
    pub async fn remove_client(&self, name: &str) -> Result<bool, StorageError> {
        let name = name.to_owned();
        self.storage
            .transaction(move |tx| {
                let removed = tx.remove_client(&name)?;
                if removed {
                    tx.record("oidc.client_removed", &format!("{name:?}"))?;
                }
                Ok(removed)
            })
            .await
    }

    /// The client `id`.
    pub(crate) async fn oidc_client(&self, id: &str) -> Result<Option<ClientRow>, StorageError> {
        let id = id.to_owned();
        self.storage.transaction(move |tx| tx.client(&id)).await
    }

    /// A code for `authorization`, to the person of `session`.
    pub(crate) async fn issue_code(
        &self,
        authorization: Authorization,
        session: WebSessionRow,
    ) -> Result<String, StorageError> {
        let code = random_token::<32>()?;
        let now = now_ms();
        let grant = GrantRow {
            code_hash: secret_hash(&code),
            client_id: authorization.client_id,
            user_id: session.user_id,
            redirect_uri: authorization.redirect_uri,
            code_challenge: authorization.code_challenge,
            nonce: authorization.nonce,
            scope: authorization.scope,
            auth_time_ms: session.created_ms,
            amr: session.amr,
            code_expires_ms: now + self.policy.authorization_code_lifetime.as_millis() as i64,
            redeemed_ms: None,
            access_expires_ms: None,
        };
        let user = session.user;
        self.storage
            .transaction(move |tx| {
                tx.insert_grant(&grant)?;
                tx.record(
                    "oidc.code_issued",
                    &format!("to client {} for user {user:?}", grant.client_id),
                )
            })
            .await?;
        Ok(code)
    }

    /// The token endpoint: the code, its client, redirect URI and PKCE verifier checked, once.
    pub(crate) async fn exchange_code(
        &self,
        credentials: ClientCredentials,
        exchange: CodeExchange,
        issuer: String,
    ) -> Result<Tokens, TokenError> {
        let authority = self.clone();
        self.storage
            .transaction(move |tx| -> Result<_, TokenError> {
                let now = now_ms();
                let client = tx
                    .client(&credentials.client_id)?
                    .ok_or_else(|| TokenError::InvalidClient("unknown client_id".into()))?;
                match (&client.secret_hash, &credentials.secret) {
                    (None, _) => {}
                    (Some(_), None) => {
                        return Err(TokenError::InvalidClient(
                            "this client authenticates with its secret".into(),
                        ));
                    }
                    (Some(hash), Some(secret)) => {
                        use subtle::ConstantTimeEq;
                        if !bool::from(hash.ct_eq(&secret_hash(secret))) {
                            tx.record("oidc.client_refused", &client.id)?;
                            return Err(TokenError::InvalidClient("wrong client secret".into()));
                        }
                    }
                }
                let code_hash = secret_hash(&exchange.code);
                let grant = tx
                    .grant(&code_hash)?
                    .filter(|g| g.client_id == client.id)
                    .ok_or_else(|| {
                        TokenError::InvalidGrant("the code is not one this client was given".into())
                    })?;
                if grant.redeemed_ms.is_some() {
                    // RFC 6749 §4.1.2: a code used twice revokes what it issued.
                    tx.revoke_grant(&code_hash)?;
                    tx.record("oidc.code_reused", &client.id)?;
                    return Err(TokenError::InvalidGrant(
                        "the code was used already; what it gave is revoked".into(),
                    ));
                }
                if grant.code_expires_ms <= now {
                    return Err(TokenError::InvalidGrant("the code has expired".into()));
                }
                if grant.redirect_uri != exchange.redirect_uri {
                    return Err(TokenError::InvalidGrant(
                        "redirect_uri is not the one the code was sent to".into(),
                    ));
                }
                let challenge = pkce_challenge(&exchange.code_verifier);
                let verified: bool = {
                    use subtle::ConstantTimeEq;
                    challenge
                        .as_bytes()
                        .ct_eq(grant.code_challenge.as_bytes())
                        .into()
                };
                if !verified {
                    return Err(TokenError::InvalidGrant(
                        "code_verifier does not match the code_challenge".into(),
                    ));
                }
                let user = tx
                    .user_name(grant.user_id)?
                    .ok_or_else(|| TokenError::InvalidGrant("the user is gone".into()))?;
                let access_token = random_token::<32>()?;
                tx.redeem_grant(
                    &code_hash,
                    &secret_hash(&access_token),
                    now + ACCESS_TOKEN_LIFETIME_S * 1000,
                    now,
                )?;
                let iat = now / 1000;
                let profile = has_scope(&grant.scope, "profile");
                let claims = IdClaims {
                    iss: &issuer,
                    sub: &user,
                    aud: &client.id,
                    azp: &client.id,
                    exp: iat + super::identity::IDENTITY_TOKEN_LIFETIME_S,
                    iat,
                    auth_time: grant.auth_time_ms / 1000,
                    nonce: grant.nonce.as_deref(),
                    amr: grant.amr.split(' ').filter(|m| !m.is_empty()).collect(),
                    preferred_username: profile.then_some(user.as_str()),
                };
                let id_token = super::identity::sign(
                    &authority.keys.identity,
                    &authority.keys.identity_jwk,
                    &claims,
                );
                tx.record(
                    "oidc.token_issued",
                    &format!("to client {} for user {user:?}", client.id),
                )?;
                Ok(Tokens {
                    access_token,
                    token_type: "Bearer",
                    expires_in: ACCESS_TOKEN_LIFETIME_S,
                    id_token,
                    scope: grant.scope,
                })
            })
            .await
    }

    /// Userinfo for a live access token; `None` when it is unknown, expired or revoked.
    pub(crate) async fn userinfo(
        &self,
        access_token: &str,
    ) -> Result<Option<UserInfo>, StorageError> {
        let hash = secret_hash(access_token);
        let found = self
            .storage
            .transaction(move |tx| tx.grant_by_access_token(&hash, now_ms()))
            .await?;
        Ok(found.map(|(user, grant)| UserInfo {
            preferred_username: has_scope(&grant.scope, "profile").then(|| user.clone()),
            sub: user,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_s256_challenge_is_rfc_7636s() {
        // RFC 7636 Appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn redirect_uris_are_absolute_https_or_this_machine() {
        for good in [
            "https://grafana.example.com/login/generic_oauth",
            "http://127.0.0.1:3000/callback",
            "http://localhost/cb?x=1",
        ] {
            assert!(check_uri(good).is_ok(), "{good}");
        }
        for bad in [
            "http://example.com/cb",
            "/callback",
            "https://",
            "https://a.example/cb#frag",
            "https://a.example/c b",
            "javascript:alert(1)",
        ] {
            assert!(check_uri(bad).is_err(), "{bad}");
        }
    }
}
