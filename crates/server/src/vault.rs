//! Encryption at rest for the server's private keys and secrets.
//!
//! Everything secret in the database (the application's master and identity private keys, the
//! application secret, each activation's server private key) is sealed with AES-256-GCM under a
//! storage key that never enters the database. The row it belongs to is bound in as associated
//! data, so a sealed value copied into another row does not open.

use std::fmt;
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::Engine as _;
use zeroize::Zeroizing;

use crate::store::{Database, StorageError};

/// The environment variable that may hold the storage key (Base64 of 32 bytes).
pub const KEY_ENV: &str = "QRAUTH_STORAGE_KEY";

/// Where the storage key comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum KeySource {
    /// Base64 of 32 bytes, for example from [`KEY_ENV`].
    Base64(String),
    /// A file holding Base64 of 32 bytes; created with a new random key (mode 0600) if missing.
    File(PathBuf),
    /// None was given where no default is safe: servers sharing a PostgreSQL database must all
    /// hold the same key, which a file made by each of them would not be.
    Unset,
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::Base64(_) => f.write_str("KeySource::Base64(<hidden>)"),
            KeySource::File(path) => write!(f, "KeySource::File({})", path.display()),
            KeySource::Unset => f.write_str("KeySource::Unset"),
        }
    }
}

impl KeySource {
    /// The default for a database: the environment variable if set, otherwise a key file beside
    /// a SQLite database (`<database>.key`); a PostgreSQL database has no default.
    pub fn default_for(database: &Database) -> Self {
        match (std::env::var(KEY_ENV), database) {
            (Ok(value), _) if !value.trim().is_empty() => KeySource::Base64(value),
            (_, Database::Sqlite(path)) => {
                let mut name = path.as_os_str().to_owned();
                name.push(".key");
                KeySource::File(PathBuf::from(name))
            }
            (_, Database::Postgres(_)) => KeySource::Unset,
        }
    }
}

/// The storage key. Clones share one expanded key: every request in flight holds a clone, and
/// a copy each would spread the key schedule (a kilobyte) over the heap.
#[derive(Clone)]
pub struct Vault {
    cipher: std::sync::Arc<Aes256Gcm>,
    /// The key the per-login and per-operation secrets are derived from (the animated QR's,
    /// the proximity TOTP's), itself derived from the storage key: every server sharing a
    /// database makes the same, and nothing of them is stored.
    derivation_key: std::sync::Arc<Zeroizing<[u8; 32]>>,
}

/// HMAC-SHA256 of `parts`, one after another, under `key`.
fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

fn decode_key(text: &str, origin: &str) -> Result<Zeroizing<Vec<u8>>, StorageError> {
    use base64::Engine;
    let bytes = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| {
                StorageError::from_message(format!("{origin}: the storage key is not Base64"))
            })?,
    );
    if bytes.len() != 32 {
        return Err(StorageError::from_message(format!(
            "{origin}: the storage key has {} bytes; it needs 32 (Base64 of 32 random bytes)",
            bytes.len()
        )));
    }
    Ok(bytes)
}

impl Vault {
    /// Loads the key, creating the key file with a fresh random key if it does not exist.
    pub fn open(source: &KeySource) -> Result<Self, StorageError> {
        let key = match source {
            KeySource::Base64(text) => decode_key(text, KEY_ENV)?,
            KeySource::Unset => {
                return Err(StorageError::from_message(format!(
                    "a PostgreSQL database needs its storage key named: every server on it must \
                     hold the same one, so give --key-file FILE (made on the first start if \
                     missing; copy it to each server) or {KEY_ENV}"
                )));
            }
            KeySource::File(path) => {
                let origin = path.display().to_string();
                match std::fs::read_to_string(path) {
                    Ok(text) => decode_key(&text, &origin)?,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        let key = Zeroizing::new(crate::secrets::random::<32>()?.to_vec());
                        let text = Zeroizing::new(
                            base64::engine::general_purpose::STANDARD.encode(key.as_slice()),
                        );
                        write_new_secret_file(path, "storage key", &text)?;
                        eprintln!(
                            "qrauth: created a new storage key in {}; keep it apart from the \
                             database and back it up",
                            path.display()
                        );
                        key
                    }
                    Err(e) => {
                        return Err(StorageError::from_message(format!(
                            "cannot read the storage key {origin}: {e}"
                        )));
                    }
                }
            }
        };
        Vault::with_key(&key)
    }

    fn with_key(key: &[u8]) -> Result<Self, StorageError> {
        let cipher = Aes256Gcm::new_from_slice(key)
            .map_err(|_| StorageError::from_message("storage key length".into()))?;
        let derivation_key = hmac(key, &[b"qrauth login QR frames"]);
        Ok(Vault {
            cipher: std::sync::Arc::new(cipher),
            derivation_key: std::sync::Arc::new(Zeroizing::new(derivation_key)),
        })
    }

    /// The TOTP seed of offline operation `operation_id`'s proximity check (spec §4.6).
    pub(crate) fn proximity_seed(&self, operation_id: &str) -> [u8; 32] {
        // Login ids are UUIDs: none starts with this label, so no seed is a login's secret.
        hmac(
            self.derivation_key.as_slice(),
            &[b"proximity ", operation_id.as_bytes()],
        )
    }

    /// The secret of login `login_id`'s QR frames.
    pub(crate) fn frame_secret(&self, login_id: &str) -> qrauth_core::frame::FrameSecret {
        qrauth_core::frame::FrameSecret::from_bytes(hmac(
            self.derivation_key.as_slice(),
            &[login_id.as_bytes()],
        ))
    }

    /// A vault with a random key that dies with it.
    #[cfg(test)]
    pub(crate) fn ephemeral() -> Result<Self, StorageError> {
        let key = Zeroizing::new(crate::secrets::random::<32>()?);
        Vault::with_key(key.as_slice())
    }

    /// Encrypts `plaintext` for the row named by `binding`: a random 96-bit nonce, then the
    /// ciphertext and tag.
    pub fn seal(&self, binding: &str, plaintext: &[u8]) -> Result<Vec<u8>, StorageError> {
        let nonce = crate::secrets::random::<12>()?;
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: binding.as_bytes(),
                },
            )
            .map_err(|_| StorageError::from_message("encryption failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(out)
    }

    /// Decrypts what [`Vault::seal`] made for the same `binding`.
    pub fn open_sealed(
        &self,
        binding: &str,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, StorageError> {
        let wrong = || {
            StorageError::from_message(format!(
                "cannot decrypt {binding}: the storage key is not the one this database was \
                 made with, or the row was altered"
            ))
        };
        if sealed.len() < 12 + 16 {
            return Err(wrong());
        }
        let (nonce, ciphertext) = sealed.split_at(12);
        self.cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: binding.as_bytes(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| wrong())
    }
}

/// Writes `text` to a new file only its owner can read (mode 0600), and syncs it: a key or a
/// token that is lost with a crash would lock the server out of its own data.
pub(crate) fn write_new_secret_file(
    path: &Path,
    what: &str,
    text: &str,
) -> Result<(), StorageError> {
    use std::io::Write;
    let fail = |e: std::io::Error| {
        StorageError::from_message(format!("cannot create the {what} {}: {e}", path.display()))
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(fail)?;
    file.write_all(text.as_bytes()).map_err(fail)?;
    file.write_all(b"\n").map_err(fail)?;
    file.sync_all().map_err(fail)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_row() {
        let vault = Vault::ephemeral().unwrap();
        let sealed = vault.seal("activation:a", b"secret").unwrap();
        assert_eq!(
            vault
                .open_sealed("activation:a", &sealed)
                .unwrap()
                .as_slice(),
            b"secret"
        );
        assert!(vault.open_sealed("activation:b", &sealed).is_err());
        assert!(
            Vault::ephemeral()
                .unwrap()
                .open_sealed("activation:a", &sealed)
                .is_err()
        );
    }

    #[test]
    fn a_key_file_is_made_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/qrauth.key");
        let first = Vault::open(&KeySource::File(path.clone())).unwrap();
        let sealed = first.seal("x", b"y").unwrap();
        let second = Vault::open(&KeySource::File(path.clone())).unwrap();
        assert_eq!(second.open_sealed("x", &sealed).unwrap().as_slice(), b"y");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let short = KeySource::Base64("AAAA".into());
        assert!(
            Vault::open(&short)
                .err()
                .unwrap()
                .to_string()
                .contains("32")
        );
    }
}
