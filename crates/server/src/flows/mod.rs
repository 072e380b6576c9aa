//! What the server does, one method per flow on [`Authority`], the server's domain type: login
//! create/poll/cancel/complete/attach/approve/deny (`logins`), activation
//! create/commit/remove/unblock (`activations`), operation create/verify (`operations`), and
//! password sign-in (`users`). Each flow is one transaction of the store and ends in a value or
//! a domain error such as [`LoginError`]; nothing here knows HTTP. Failed signatures are counted
//! in `attempts`, the one place where an activation's counter and attempts move.

pub(crate) mod activations;
pub(crate) mod attempts;
pub(crate) mod identity;
pub(crate) mod logins;
pub(crate) mod operations;
pub(crate) mod retention;
pub mod users;

use std::sync::Arc;
use std::time::Duration;

use qrauth_core::keys::PrivateKey;
use qrauth_core::wire::Jwk;

use crate::secrets::random;
use crate::store::{SealedApplicationKeys, Storage, StorageError, now_ms};
use crate::vault::Vault;

pub use activations::ActivationError;
pub use logins::LoginError;
pub use operations::{Caller, OperationError};

/// Lifetimes and limits an operator may change.
#[derive(Clone, Debug)]
pub struct Policy {
    /// How long an activation code can be used.
    pub activation_code_lifetime: Duration,
    /// How long a QR login session waits for approval.
    pub login_lifetime: Duration,
    /// How long an offline operation can be approved.
    pub operation_lifetime: Duration,
    /// Failed signatures before an activation is blocked (PowerAuth's default is 5).
    pub max_failed_attempts: u32,
    /// Counter values tried past the stored one (PowerAuth's default is 20).
    pub lookahead: u32,
    /// How often a page should poll a login when it does not long-poll.
    pub poll_interval: Duration,
    /// The longest a long-poll waits.
    pub max_long_poll: Duration,
    /// The name tokens show as the service asking for a login.
    pub service_name: String,
    /// The origin written into login QR codes (`https://login.example.com`); when `None`, the
    /// `Host` the browser used.
    pub public_origin: Option<String>,
    /// Requests per minute per client address to the endpoints that create things or check
    /// codes and signatures (which bounds guessing).
    pub creations_per_minute: u32,
    /// Connections one client address may hold open at once.
    pub max_connections_per_address: usize,
    /// How long a connection may take to send a request's headers, or stay idle between
    /// requests.
    pub header_timeout: Duration,
    /// Whether cookies carry `Secure` (set this behind TLS).
    pub secure_cookies: bool,
    /// Other origins whose pages may call the API from the browser, with cookies (CORS), such
    /// as a site that embeds the `qrauth-token` package while the API lives elsewhere.
    pub allowed_origins: Vec<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            activation_code_lifetime: Duration::from_secs(120),
            login_lifetime: Duration::from_secs(120),
            operation_lifetime: Duration::from_secs(300),
            max_failed_attempts: 5,
            lookahead: qrauth_core::signature::DEFAULT_LOOKAHEAD,
            poll_interval: Duration::from_secs(2),
            max_long_poll: Duration::from_secs(30),
            service_name: "qrauth".into(),
            public_origin: None,
            creations_per_minute: 60,
            max_connections_per_address: crate::http::connections::MAX_CONNECTIONS_PER_ADDRESS,
            header_timeout: crate::http::connections::HEADER_TIMEOUT,
            secure_cookies: false,
            allowed_origins: Vec::new(),
        }
    }
}

/// The keys of the application, made on first start and kept sealed in the database.
pub(crate) struct ApplicationKeys {
    /// `KEY_SERVER_MASTER_PRIVATE`: signs activation QR codes and key type 0 payloads.
    pub(crate) master: PrivateKey,
    /// Signs the identity tokens (ES256) that completed logins return.
    pub(crate) identity: PrivateKey,
    /// `APPLICATION_SECRET`: the last segment of every online signature's data.
    pub(crate) application_secret: String,
    /// `KEY_SERVER_MASTER_PUBLIC` in Base64, which tokens need to check activation QR codes and
    /// key type 0 payloads; derived once, not per request.
    pub(crate) master_public: String,
    /// The public identity key as published at `/jwks.json`; its `kid` names it in tokens.
    pub(crate) identity_jwk: Jwk,
}

/// A new P-256 key from the operating system's randomness.
pub(crate) fn new_private_key() -> Result<PrivateKey, StorageError> {
    loop {
        // Fails only for the ~2^-32 of values at or above the group order; draw again.
        if let Ok(key) = PrivateKey::from_random(&random::<32>()?) {
            return Ok(key);
        }
    }
}

fn open_private(vault: &Vault, binding: &str, sealed: &[u8]) -> Result<PrivateKey, StorageError> {
    let bytes = vault.open_sealed(binding, sealed)?;
    PrivateKey::from_java_bytes(&bytes)
        .map_err(|e| StorageError::from_message(format!("{binding}: {e}")))
}

pub(crate) fn seal_private(
    vault: &Vault,
    binding: &str,
    key: &PrivateKey,
) -> Result<Vec<u8>, StorageError> {
    let bytes = zeroize::Zeroizing::new(key.to_java_bytes());
    vault.seal(binding, &bytes)
}

/// The vault binding of an activation's server key.
pub(crate) fn activation_binding(activation_id: &str) -> String {
    format!("activation:{activation_id}")
}

pub(crate) fn open_activation_key(
    vault: &Vault,
    activation_id: &str,
    sealed: &[u8],
) -> Result<PrivateKey, StorageError> {
    open_private(vault, &activation_binding(activation_id), sealed)
}

impl ApplicationKeys {
    fn new(master: PrivateKey, identity: PrivateKey, application_secret: String) -> Self {
        ApplicationKeys {
            master_public: master.public_key().to_base64(),
            identity_jwk: identity::jwk(&identity.public_key()),
            master,
            identity,
            application_secret,
        }
    }

    /// Reads the keys, or makes and stores them on the first start.
    async fn load_or_create(storage: &Storage, vault: &Vault) -> Result<Self, StorageError> {
        let vault = vault.clone();
        storage
            .transaction(move |tx| {
                if let Some(sealed) = tx.application_keys()? {
                    let secret =
                        vault.open_sealed("application:secret", &sealed.application_secret)?;
                    return Ok(ApplicationKeys::new(
                        open_private(&vault, "application:master", &sealed.master_private)?,
                        open_private(&vault, "application:identity", &sealed.identity_private)?,
                        String::from_utf8_lossy(&secret).into_owned(),
                    ));
                }
                let keys = ApplicationKeys::new(
                    new_private_key()?,
                    new_private_key()?,
                    qrauth_core::base64::encode(&random::<16>()?),
                );
                tx.insert_application_keys(
                    &SealedApplicationKeys {
                        master_private: seal_private(&vault, "application:master", &keys.master)?,
                        master_public: keys.master_public.clone(),
                        identity_private: seal_private(
                            &vault,
                            "application:identity",
                            &keys.identity,
                        )?,
                        identity_public: keys.identity.public_key().to_base64(),
                        application_secret: vault
                            .seal("application:secret", keys.application_secret.as_bytes())?,
                    },
                    now_ms(),
                )?;
                Ok(keys)
            })
            .await
    }
}

/// The storage, the sealing key, the application's keys and the policy: what the HTTP API and
/// the command line both act through.
#[derive(Clone)]
pub struct Authority {
    pub(crate) storage: Storage,
    pub(crate) vault: Vault,
    pub(crate) keys: Arc<ApplicationKeys>,
    pub(crate) policy: Arc<Policy>,
    /// Wakes long-polls of login sessions.
    pub(crate) login_watch: Arc<logins::LoginWatch>,
}

impl Authority {
    /// Opens the application's keys in `storage` with `vault` (making them on first use).
    pub async fn open(
        storage: Storage,
        vault: Vault,
        policy: Policy,
    ) -> Result<Self, StorageError> {
        let keys = ApplicationKeys::load_or_create(&storage, &vault).await?;
        Ok(Authority {
            storage,
            vault,
            keys: Arc::new(keys),
            policy: Arc::new(policy),
            login_watch: Arc::default(),
        })
    }

    /// The policy it acts by.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// What a token needs before it activates.
    pub fn application_info(&self) -> qrauth_core::wire::ApplicationInfo {
        qrauth_core::wire::ApplicationInfo {
            service_name: self.policy.service_name.clone(),
            master_public_key: self.keys.master_public.clone(),
            lookahead: self.policy.lookahead,
            max_failed_attempts: self.policy.max_failed_attempts,
            identity_key: self.keys.identity_jwk.clone(),
        }
    }
}

/// Milliseconds left until `at_ms`, 0 once past: the `…InMs` of every answer.
pub(crate) fn ms_until(at_ms: i64, now_ms: i64) -> u64 {
    u64::try_from(at_ms - now_ms).unwrap_or(0)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An authority on a private in-memory store with a throwaway storage key.
    pub(crate) async fn in_memory(policy: Policy) -> Authority {
        Authority::open(
            Storage::in_memory().unwrap(),
            Vault::ephemeral().unwrap(),
            policy,
        )
        .await
        .unwrap()
    }
}
