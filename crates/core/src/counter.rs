//! The hash-based counter `CTR_DATA` (spec §6.6, §9).

use alloc::string::String;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::keys::{KeyError, SecretKey, base64_bytes16, bytes16, fold16, kdf, kdf_internal};

/// Index of the key, derived from `KEY_TRANSPORT`, that hashes the counter for the status blob.
const TRANSPORT_CTR: u64 = 4000;

/// The 16-byte counter both sides advance with `fold16(SHA-256(ctr))` after every code.
#[derive(Clone, Eq, Zeroize, ZeroizeOnDrop)]
pub struct CtrData([u8; 16]);

impl CtrData {
    /// Wraps 16 bytes (the server draws them at random at activation).
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        CtrData(bytes)
    }

    /// Reads exactly 16 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, KeyError> {
        bytes16(bytes).map(CtrData)
    }

    /// Reads standard Base64 of 16 bytes.
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        base64_bytes16(text).map(CtrData)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Standard Base64 of the bytes.
    pub fn to_base64(&self) -> String {
        crate::base64::encode(&self.0)
    }

    /// The value after this one.
    pub fn next(&self) -> CtrData {
        CtrData(fold16(&Sha256::digest(self.0).into()))
    }

    /// The hash the status blob carries, so a token can find how far apart the two counters
    /// are without the server revealing its value: `KDF_INTERNAL(KDF(KEY_TRANSPORT, 4000), ctr)`.
    pub fn status_hash(&self, transport: &SecretKey) -> [u8; 16] {
        *kdf_internal(&kdf(transport, TRANSPORT_CTR), &self.0).as_bytes()
    }
}

impl PartialEq for CtrData {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl core::fmt::Debug for CtrData {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "CtrData({})", self.to_base64())
    }
}
