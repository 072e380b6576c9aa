//! Keys and their derivation (spec §2, §3): P-256 key pairs in PowerAuth's encodings, the
//! master secret by ECDH, the index-based AES KDF, KDF_INTERNAL, and the PIN protection of the
//! knowledge key.

use alloc::{string::String, vec::Vec};
use core::fmt;

use aes::Aes128;
use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use hmac::{Hmac, Mac};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::base64;

/// Why key material was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyError {
    /// The bytes have the wrong length for this kind of key.
    WrongLength {
        /// What the key needs.
        expected: usize,
        /// What was given.
        found: usize,
    },
    /// The text is not standard Base64 with padding.
    InvalidBase64,
    /// Not a P-256 private scalar (zero, negative, or not below the group order).
    InvalidPrivateKey,
    /// Not a point on P-256 in SEC1 encoding.
    InvalidPublicKey,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::WrongLength { expected, found } => {
                write!(f, "key has {found} bytes, expected {expected}")
            }
            KeyError::InvalidBase64 => f.write_str("key is not valid Base64"),
            KeyError::InvalidPrivateKey => f.write_str("not a valid P-256 private key"),
            KeyError::InvalidPublicKey => f.write_str("not a valid P-256 public key"),
        }
    }
}

impl core::error::Error for KeyError {}

/// A 16-byte symmetric key: the master secret, a factor key, the transport key.
///
/// Zeroized on drop, compared in constant time, never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey([u8; 16]);

impl SecretKey {
    /// Wraps 16 bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        SecretKey(bytes)
    }

    /// Reads exactly 16 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, KeyError> {
        bytes16(bytes).map(SecretKey)
    }

    /// Reads standard Base64 of 16 bytes.
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        base64_bytes16(text).map(SecretKey)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Standard Base64 of the bytes, as PowerAuth writes keys.
    pub fn to_base64(&self) -> String {
        base64::encode(&self.0)
    }
}

impl PartialEq for SecretKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for SecretKey {}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<16 bytes>)")
    }
}

/// Exactly 16 bytes, as keys and counters are.
pub(crate) fn bytes16(bytes: &[u8]) -> Result<[u8; 16], KeyError> {
    <[u8; 16]>::try_from(bytes).map_err(|_| KeyError::WrongLength {
        expected: 16,
        found: bytes.len(),
    })
}

/// Standard Base64 of exactly 16 bytes; the decoded copy is wiped.
pub(crate) fn base64_bytes16(text: &str) -> Result<[u8; 16], KeyError> {
    let mut bytes = base64::decode(text).map_err(|_| KeyError::InvalidBase64)?;
    let array = bytes16(&bytes);
    bytes.zeroize();
    array
}

/// `x[i] XOR x[i + 16]`: PowerAuth's reduction of 32 bytes to 16 (`convert32Bto16B`).
pub fn fold16(bytes: &[u8; 32]) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = bytes[i] ^ bytes[i + 16];
    }
    out
}

/// The index-based KDF: one AES-128 block, `AES(key, 0x00 × 8 || u64_be(index))`.
///
/// The index goes in the last eight bytes; PowerAuth's own documentation shows the first eight,
/// which matches none of its vectors.
pub fn kdf(key: &SecretKey, index: u64) -> SecretKey {
    let mut block = [0u8; 16];
    block[8..].copy_from_slice(&index.to_be_bytes());
    SecretKey(aes_encrypt_block(key.as_bytes(), block))
}

/// `KDF_INTERNAL(key, data) = fold16(HMAC-SHA256(key, data))`: the status-blob IV and the
/// counter hash.
pub fn kdf_internal(key: &SecretKey, data: &[u8]) -> SecretKey {
    SecretKey(fold16(&hmac_sha256(key.as_bytes(), data)))
}

pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().into()
}

fn aes_encrypt_block(key: &[u8; 16], block: [u8; 16]) -> [u8; 16] {
    let cipher = Aes128::new(&(*key).into());
    let mut block = aes::Block::from(block);
    cipher.encrypt_block(&mut block);
    block.into()
}

fn aes_decrypt_block(key: &[u8; 16], block: [u8; 16]) -> [u8; 16] {
    let cipher = Aes128::new(&(*key).into());
    let mut block = aes::Block::from(block);
    cipher.decrypt_block(&mut block);
    block.into()
}

/// Index of each key derived from the master secret (spec §3.2).
const POSSESSION: u64 = 1;
const KNOWLEDGE: u64 = 2;
const BIOMETRY: u64 = 3;
const TRANSPORT: u64 = 1000;
const VAULT: u64 = 2000;

/// The keys both sides derive from the master secret of an activation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DerivedKeys {
    /// `KEY_SIGNATURE_POSSESSION`.
    pub possession: SecretKey,
    /// `KEY_SIGNATURE_KNOWLEDGE`: kept on the token only under the PIN.
    pub knowledge: SecretKey,
    /// `KEY_SIGNATURE_BIOMETRY`.
    pub biometry: SecretKey,
    /// `KEY_TRANSPORT`: status blob and activation-scope encryption.
    pub transport: SecretKey,
    /// `KEY_ENCRYPTION_VAULT`: never stored on the token.
    pub vault: SecretKey,
}

impl DerivedKeys {
    /// Derives every key from `KEY_MASTER_SECRET`.
    pub fn from_master_secret(master: &SecretKey) -> Self {
        DerivedKeys {
            possession: kdf(master, POSSESSION),
            knowledge: kdf(master, KNOWLEDGE),
            biometry: kdf(master, BIOMETRY),
            transport: kdf(master, TRANSPORT),
            vault: kdf(master, VAULT),
        }
    }

    /// The three signature keys.
    pub fn factor_keys(&self) -> crate::signature::FactorKeys {
        crate::signature::FactorKeys {
            possession: self.possession.clone(),
            knowledge: self.knowledge.clone(),
            biometry: self.biometry.clone(),
        }
    }
}

/// A P-256 private key.
#[derive(Clone)]
pub struct PrivateKey(p256::SecretKey);

impl PrivateKey {
    /// Reads the key as PowerAuth stores it: Java `BigInteger.toByteArray()` of the scalar,
    /// minimal signed big-endian (usually 32 bytes, 33 with a leading zero, rarely fewer).
    pub fn from_java_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        if bytes.first().is_some_and(|b| b & 0x80 != 0) {
            return Err(KeyError::InvalidPrivateKey); // negative
        }
        let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
        let magnitude = &bytes[start..];
        if magnitude.len() > 32 {
            return Err(KeyError::WrongLength {
                expected: 32,
                found: magnitude.len(),
            });
        }
        let mut scalar = [0u8; 32];
        scalar[32 - magnitude.len()..].copy_from_slice(magnitude);
        let key = p256::SecretKey::from_slice(&scalar).map_err(|_| KeyError::InvalidPrivateKey);
        scalar.zeroize();
        key.map(PrivateKey)
    }

    /// Reads standard Base64 of the Java `BigInteger` form.
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        let mut bytes = base64::decode(text).map_err(|_| KeyError::InvalidBase64)?;
        let key = Self::from_java_bytes(&bytes);
        bytes.zeroize();
        key
    }

    /// Writes the key in Java `BigInteger` form, as PowerAuth Server stores it.
    pub fn to_java_bytes(&self) -> Vec<u8> {
        let scalar = self.0.to_bytes();
        let start = scalar.iter().position(|&b| b != 0).unwrap_or(31);
        let mut out = Vec::with_capacity(33);
        if scalar[start] & 0x80 != 0 {
            out.push(0);
        }
        out.extend_from_slice(&scalar[start..]);
        out
    }

    /// Makes a key from 32 bytes of randomness chosen by the caller (core has no random source).
    /// Fails for the rare values that are not valid scalars; draw again.
    pub fn from_random(bytes: &[u8; 32]) -> Result<Self, KeyError> {
        p256::SecretKey::from_slice(bytes)
            .map(PrivateKey)
            .map_err(|_| KeyError::InvalidPrivateKey)
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.public_key())
    }

    pub(crate) fn inner(&self) -> &p256::SecretKey {
        &self.0
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKey(<P-256>)")
    }
}

/// A P-256 public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey(p256::PublicKey);

impl PublicKey {
    /// Reads a SEC1 point, uncompressed (`04 || X || Y`, as PowerAuth sends it) or compressed.
    /// The point is checked to lie on the curve.
    pub fn from_sec1(bytes: &[u8]) -> Result<Self, KeyError> {
        p256::PublicKey::from_sec1_bytes(bytes)
            .map(PublicKey)
            .map_err(|_| KeyError::InvalidPublicKey)
    }

    /// Reads standard Base64 of a SEC1 point.
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        Self::from_sec1(&base64::decode(text).map_err(|_| KeyError::InvalidBase64)?)
    }

    /// The uncompressed SEC1 form, 65 bytes.
    pub fn to_uncompressed(&self) -> Vec<u8> {
        self.0.to_encoded_point(false).as_bytes().to_vec()
    }

    /// Standard Base64 of the uncompressed form.
    pub fn to_base64(&self) -> String {
        base64::encode(&self.to_uncompressed())
    }

    pub(crate) fn inner(&self) -> &p256::PublicKey {
        &self.0
    }
}

/// `KEY_MASTER_SECRET = fold16(ECDH(private, peer).x)`: the same value on the token (device
/// private, server public) and on the server (server private, device public).
pub fn master_secret(private: &PrivateKey, peer: &PublicKey) -> SecretKey {
    let shared = p256::ecdh::diffie_hellman(
        private.inner().to_nonzero_scalar(),
        peer.inner().as_affine(),
    );
    let mut x = [0u8; 32];
    x.copy_from_slice(shared.raw_secret_bytes());
    let key = SecretKey(fold16(&x));
    x.zeroize();
    key
}

/// PBKDF2-HMAC-SHA1 rounds for the PIN key (spec §3.3).
pub const PIN_ITERATIONS: u32 = 10_000;

/// The knowledge key as the token stores it: encrypted under a key from the PIN.
///
/// Decryption succeeds with any PIN and gives a wrong key for a wrong one, which gives a wrong
/// code: nothing stored lets anyone test a PIN offline; the server's attempt limit does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinProtectedKey {
    /// Random salt for PBKDF2, 16 bytes.
    pub salt: [u8; 16],
    /// `AES-128-CBC(PBKDF2(PIN, salt), IV = 0, key)`, one block.
    pub ciphertext: [u8; 16],
}

impl PinProtectedKey {
    /// Encrypts `key` under `pin` with the caller's random `salt`.
    pub fn protect(key: &SecretKey, pin: &str, salt: [u8; 16]) -> Self {
        let mut pin_key = pin_key(pin, &salt);
        // CBC with a zero IV on one block is one AES block.
        let ciphertext = aes_encrypt_block(&pin_key, *key.as_bytes());
        pin_key.zeroize();
        PinProtectedKey { salt, ciphertext }
    }

    /// Decrypts with `pin`; a wrong PIN gives a wrong key, by design.
    pub fn unprotect(&self, pin: &str) -> SecretKey {
        let mut pin_key = pin_key(pin, &self.salt);
        let key = SecretKey(aes_decrypt_block(&pin_key, self.ciphertext));
        pin_key.zeroize();
        key
    }
}

fn pin_key(pin: &str, salt: &[u8; 16]) -> [u8; 16] {
    let mut out = [0u8; 16];
    pbkdf2::pbkdf2_hmac::<sha1::Sha1>(pin.as_bytes(), salt, PIN_ITERATIONS, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kdf_puts_the_index_in_the_last_eight_bytes() {
        let master = SecretKey::from_bytes([7; 16]);
        let mut block = [0u8; 16];
        block[15] = 1;
        assert_eq!(
            kdf(&master, 1).as_bytes(),
            &aes_encrypt_block(&[7; 16], block)
        );
    }

    #[test]
    fn java_private_key_forms_round_trip() {
        for first in [0x01u8, 0x7f, 0x80, 0xff] {
            let mut scalar = [0x11u8; 32];
            scalar[0] = first;
            let key = PrivateKey::from_random(&scalar).unwrap();
            let java = key.to_java_bytes();
            assert_eq!(java.len(), if first & 0x80 != 0 { 33 } else { 32 });
            let again = PrivateKey::from_java_bytes(&java).unwrap();
            assert_eq!(again.public_key(), key.public_key());
        }
        assert_eq!(
            PrivateKey::from_java_bytes(&[0x80; 32]).unwrap_err(),
            KeyError::InvalidPrivateKey
        );
        assert_eq!(
            PrivateKey::from_java_bytes(&[0; 32]).unwrap_err(),
            KeyError::InvalidPrivateKey
        );
        assert!(matches!(
            PrivateKey::from_java_bytes(&[1; 34]),
            Err(KeyError::WrongLength { found: 34, .. })
        ));
    }

    #[test]
    fn a_wrong_pin_gives_a_wrong_key_and_no_error() {
        let key = SecretKey::from_bytes([42; 16]);
        let stored = PinProtectedKey::protect(&key, "1234", [9; 16]);
        assert_eq!(stored.unprotect("1234"), key);
        assert_ne!(stored.unprotect("1235"), key);
    }
}
