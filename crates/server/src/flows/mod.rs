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
pub mod oidc;
pub(crate) mod operations;
pub(crate) mod powerauth;
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
    /// How many times its page may give a login its lifetime again, for a person who needs more
    /// time (WCAG 2.2.1): a login lives at most `login_lifetime × (1 + login_extensions)`.
    pub login_extensions: u32,
    /// How old a frame of an animated login QR may be when a token scans it (whole seconds):
    /// older frames are pictures of the QR, not the QR.
    pub qr_frame_window: Duration,
    /// Whether approving a QR sign-in needs the two digits its page shows once scanned
    /// (number matching), so that nobody approves without looking at the screen.
    pub number_matching: bool,
    /// How long an OpenID Connect authorization code can be exchanged.
    pub authorization_code_lifetime: Duration,
    /// How long an offline operation can be approved.
    pub operation_lifetime: Duration,
    /// The proximity check of offline operations (spec §4.6), with the TOTP's step length:
    /// their payloads carry the TOTP of the step, the page shows a new QR each step, and a code
    /// is accepted only for the current or the previous step. `None`: off.
    pub offline_proximity: Option<Duration>,
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
    /// Reverse proxies whose `X-Forwarded-For` names the client (`--trusted-proxy`); from any
    /// other peer the header is ignored, so nobody can pose as another address.
    pub trusted_proxies: Vec<IpRange>,
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
            login_extensions: 3,
            qr_frame_window: Duration::from_secs(qrauth_core::frame::DEFAULT_WINDOW_SECONDS),
            number_matching: true,
            authorization_code_lifetime: oidc::CODE_LIFETIME,
            operation_lifetime: Duration::from_secs(300),
            offline_proximity: None,
            max_failed_attempts: 5,
            lookahead: qrauth_core::signature::DEFAULT_LOOKAHEAD,
            poll_interval: Duration::from_secs(2),
            max_long_poll: Duration::from_secs(30),
            service_name: "qrauth".into(),
            public_origin: None,
            creations_per_minute: 60,
            max_connections_per_address: crate::http::connections::MAX_CONNECTIONS_PER_ADDRESS,
            header_timeout: crate::http::connections::HEADER_TIMEOUT,
            trusted_proxies: Vec::new(),
            secure_cookies: false,
            allowed_origins: Vec::new(),
        }
    }
}

impl Policy {
    /// Whether `address` is one of the trusted proxies.
    pub fn is_trusted_proxy(&self, address: std::net::IpAddr) -> bool {
        self.trusted_proxies
            .iter()
            .any(|range| range.contains(address))
    }
}

/// A range of addresses in CIDR notation, `10.0.0.0/8`, `2001:db8::/32`, or one address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpRange {
    network: std::net::IpAddr,
    prefix: u8,
}

impl std::str::FromStr for IpRange {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (address, prefix) = text.split_once('/').unwrap_or((text, ""));
        let network: std::net::IpAddr = address
            .trim()
            .parse()
            .map_err(|_| format!("{text:?} is not an address or a range such as 10.0.0.0/8"))?;
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            "" => bits,
            p => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= bits)
                .ok_or_else(|| format!("{text:?}: the prefix is 0 to {bits}"))?,
        };
        Ok(IpRange { network, prefix })
    }
}

impl IpRange {
    /// Whether `address` is in the range (an IPv4 address also as IPv6-mapped).
    pub fn contains(self, address: std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        let address = match address {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
            v4 => v4,
        };
        let bits = |a: IpAddr| match a {
            IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32u32),
            IpAddr::V6(v6) => (u128::from(v6), 128u32),
        };
        let ((network, width), (candidate, candidate_width)) = (bits(self.network), bits(address));
        if width != candidate_width {
            return false;
        }
        let host_bits = width - u32::from(self.prefix);
        host_bits >= width || (network >> host_bits) == (candidate >> host_bits)
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

/// The UTC calendar date (year, month 1–12, day 1–31) of `ms` since the Unix epoch.
pub(crate) fn utc_date(ms: i64) -> (i64, u8, u8) {
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let days = ms.div_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = (if mp < 10 { mp + 3 } else { mp - 9 }) as u8;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// `ms` since the Unix epoch as ISO 8601 in UTC with milliseconds,
/// `2026-12-08T09:30:00.000+00:00`: how PowerAuth Server's JSON writes a date.
pub(crate) fn iso_timestamp(ms: i64) -> String {
    let (year, month, day) = utc_date(ms);
    let in_day = ms.rem_euclid(86_400_000);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}+00:00",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
}

/// Milliseconds left until `at_ms`, 0 once past: the `…InMs` of every answer.
pub(crate) fn ms_until(at_ms: i64, now_ms: i64) -> u64 {
    u64::try_from(at_ms - now_ms).unwrap_or(0)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn timestamps_are_written_as_powerauth_writes_dates() {
        assert_eq!(iso_timestamp(0), "1970-01-01T00:00:00.000+00:00");
        assert_eq!(
            iso_timestamp(1_796_733_005_123),
            "2026-12-08T12:30:05.123+00:00"
        );
        assert_eq!(utc_date(951_782_400_000), (2000, 2, 29));
    }

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

#[cfg(test)]
mod range_tests {
    use super::IpRange;

    #[test]
    fn ranges_hold_the_addresses_of_their_prefix() {
        let range: IpRange = "10.1.0.0/16".parse().unwrap();
        assert!(range.contains("10.1.200.3".parse().unwrap()));
        assert!(!range.contains("10.2.0.1".parse().unwrap()));
        assert!(
            range.contains("::ffff:10.1.0.9".parse().unwrap()),
            "IPv4-mapped"
        );
        let one: IpRange = "127.0.0.1".parse().unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        let all: IpRange = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("203.0.113.9".parse().unwrap()));
        assert!(!all.contains("2001:db8::1".parse().unwrap()));
        let v6: IpRange = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains("2001:db8:ffff::1".parse().unwrap()));
        for bad in ["10.0.0.0/33", "proxy", "10.0.0.0/x", "::/129"] {
            assert!(bad.parse::<IpRange>().is_err(), "{bad}");
        }
    }
}
