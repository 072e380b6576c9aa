//! The server's keys and rules: what every flow needs besides the database.

use std::time::Duration;

use qrauth_core::keys::PrivateKey;

use crate::identity::Jwk;
use rusqlite::{OptionalExtension, params};

use crate::secrets::random;
use crate::storage::{Storage, StorageError, now_ms};
use crate::vault::Vault;

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
    /// Requests per minute per client address to the endpoints that create things.
    pub creations_per_minute: u32,
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

pub(crate) fn open_activation_key(
    vault: &Vault,
    activation_id: &str,
    sealed: &[u8],
) -> Result<PrivateKey, StorageError> {
    open_private(vault, &format!("activation:{activation_id}"), sealed)
}

impl ApplicationKeys {
    fn new(master: PrivateKey, identity: PrivateKey, application_secret: String) -> Self {
        ApplicationKeys {
            master_public: master.public_key().to_base64(),
            identity_jwk: Jwk::of(&identity.public_key()),
            master,
            identity,
            application_secret,
        }
    }

    /// Reads the keys, or makes and stores them on the first start.
    pub(crate) async fn load_or_create(
        storage: &Storage,
        vault: &Vault,
    ) -> Result<Self, StorageError> {
        let vault = vault.clone();
        storage
            .transaction(move |tx| {
                let row: Option<(Vec<u8>, Vec<u8>, Vec<u8>)> = tx
                    .query_row(
                        "SELECT master_private_sealed, identity_private_sealed,
                                application_secret_sealed FROM application WHERE id = 1",
                        [],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .optional()?;
                if let Some((master, identity, secret)) = row {
                    let secret = vault.open_sealed("application:secret", &secret)?;
                    return Ok(ApplicationKeys::new(
                        open_private(&vault, "application:master", &master)?,
                        open_private(&vault, "application:identity", &identity)?,
                        String::from_utf8_lossy(&secret).into_owned(),
                    ));
                }
                let keys = ApplicationKeys::new(
                    new_private_key()?,
                    new_private_key()?,
                    qrauth_core::base64::encode(&random::<16>()?),
                );
                tx.execute(
                    "INSERT INTO application (id, master_private_sealed, master_public,
                        identity_private_sealed, identity_public, application_secret_sealed,
                        created_ms) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        seal_private(&vault, "application:master", &keys.master)?,
                        keys.master_public,
                        seal_private(&vault, "application:identity", &keys.identity)?,
                        keys.identity.public_key().to_base64(),
                        vault.seal("application:secret", keys.application_secret.as_bytes())?,
                        now_ms()
                    ],
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
    pub(crate) keys: std::sync::Arc<ApplicationKeys>,
    pub(crate) policy: std::sync::Arc<Policy>,
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
            keys: std::sync::Arc::new(keys),
            policy: std::sync::Arc::new(policy),
        })
    }
}
