//! ECDSA P-256 with SHA-256, signatures in ASN.1 DER (spec §2.6).

use alloc::vec::Vec;
use core::fmt;

use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};

use crate::keys::{PrivateKey, PublicKey};

/// Why a signature was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignatureError {
    /// The bytes are not a DER `SEQUENCE { INTEGER r, INTEGER s }` with valid scalars.
    Malformed,
    /// Well formed, but not made by this key over these bytes.
    Mismatch,
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignatureError::Malformed => {
                f.write_str("the signature is not a DER-encoded ECDSA signature")
            }
            SignatureError::Mismatch => {
                f.write_str("the signature does not match the signed data and the signer's key")
            }
        }
    }
}

impl core::error::Error for SignatureError {}

/// Signs `message` (hashed with SHA-256 here) and returns the DER signature.
///
/// The nonce is derived deterministically (RFC 6979): core has no random source, and equal
/// inputs giving equal signatures is harmless. Verifiers must not compare signatures bytewise.
pub fn sign_der(key: &PrivateKey, message: &[u8]) -> Vec<u8> {
    let signature: Signature = SigningKey::from(key.inner()).sign(message);
    signature.to_der().as_bytes().to_vec()
}

/// Checks a DER signature over `message` (hashed with SHA-256 here).
pub fn verify_der(key: &PublicKey, message: &[u8], der: &[u8]) -> Result<(), SignatureError> {
    let signature = Signature::from_der(der).map_err(|_| SignatureError::Malformed)?;
    VerifyingKey::from(key.inner())
        .verify(message, &signature)
        .map_err(|_| SignatureError::Mismatch)
}

/// Signs `message` and returns the raw `r || s` form (IEEE P1363), as JWS ES256 writes it.
pub fn sign_raw(key: &PrivateKey, message: &[u8]) -> [u8; 64] {
    let signature: Signature = SigningKey::from(key.inner()).sign(message);
    signature.to_bytes().into()
}

/// Checks a raw `r || s` signature over `message`.
pub fn verify_raw(key: &PublicKey, message: &[u8], raw: &[u8]) -> Result<(), SignatureError> {
    let signature = Signature::from_slice(raw).map_err(|_| SignatureError::Malformed)?;
    VerifyingKey::from(key.inner())
        .verify(message, &signature)
        .map_err(|_| SignatureError::Mismatch)
}

/// Converts DER to the raw `r || s` form (IEEE P1363, 64 bytes) that WebCrypto expects.
pub fn der_to_raw(der: &[u8]) -> Result<[u8; 64], SignatureError> {
    let signature = Signature::from_der(der).map_err(|_| SignatureError::Malformed)?;
    Ok(signature.to_bytes().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_verifies_and_refuses_changes() {
        let key = PrivateKey::from_random(&[3; 32]).unwrap();
        let der = sign_der(&key, b"message");
        assert!((68..=72).contains(&der.len()));
        verify_der(&key.public_key(), b"message", &der).unwrap();
        assert_eq!(
            verify_der(&key.public_key(), b"messagE", &der),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_der(&key.public_key(), b"message", &der[..der.len() - 1]),
            Err(SignatureError::Malformed)
        );
        let raw = der_to_raw(&der).unwrap();
        assert_eq!(
            Signature::from_slice(&raw).unwrap().to_der().as_bytes(),
            &der[..]
        );
    }
}
