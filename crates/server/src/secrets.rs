//! Random secrets and identifiers, and the hashes the database keeps in their place.

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::store::StorageError;

/// Random bytes from the operating system.
pub fn random<const N: usize>() -> Result<[u8; N], StorageError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|e| StorageError::from_message(format!("no randomness: {e}")))?;
    Ok(bytes)
}

/// `N` random bytes as URL-safe Base64 without padding: secrets that travel in headers,
/// cookies and URL fragments.
pub fn random_token<const N: usize>() -> Result<String, StorageError> {
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random::<N>()?))
}

/// A 128-bit random secret (22 characters): poll secrets and scan codes.
pub fn random_secret() -> Result<String, StorageError> {
    random_token::<16>()
}

/// A random UUID (version 4) for ids that clients see.
pub fn random_uuid() -> Result<String, StorageError> {
    let mut bytes = random::<16>()?;
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    ))
}

/// What the database keeps of a secret a client presents. The secrets have at least 80 random
/// bits and live minutes, so a plain SHA-256 is enough: nothing is left to guess offline.
/// Looking a hash up by equality in SQLite does not leak the secret's bytes through timing.
pub fn secret_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// The operator's credential for the API: what a bank's backend presents as
/// `Authorization: Bearer <token>` to make payments for any user (`--operator-token-file`).
/// Only its hash is held, and it is compared in constant time.
pub struct OperatorToken {
    hash: Vec<u8>,
}

impl OperatorToken {
    /// Reads the token from `path`, or makes a new random one there (mode 0600) if the file
    /// does not exist.
    pub fn open(path: &std::path::Path) -> Result<Self, StorageError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let token = random_token::<32>()?;
                crate::vault::write_new_secret_file(path, "operator token", &token)?;
                eprintln!(
                    "qrauth: created a new operator token in {}; give it to the backends that \
                     make payments",
                    path.display()
                );
                token
            }
            Err(e) => {
                return Err(StorageError::from_message(format!(
                    "cannot read the operator token {}: {e}",
                    path.display()
                )));
            }
        };
        let token = text.trim();
        if token.len() < 22 {
            return Err(StorageError::from_message(format!(
                "the operator token in {} is too short: at least 22 characters (128 bits)",
                path.display()
            )));
        }
        Ok(OperatorToken {
            hash: secret_hash(token),
        })
    }

    /// Whether `presented` is the token.
    pub fn matches(&self, presented: &str) -> bool {
        use subtle::ConstantTimeEq;
        bool::from(self.hash.ct_eq(&secret_hash(presented)))
    }
}
