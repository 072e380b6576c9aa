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
