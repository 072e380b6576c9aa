//! Standard Base64 (RFC 4648 alphabet `+/`, `=` padding), as PowerAuth writes keys, nonces
//! and signatures. Decoding is strict: no other alphabet, no missing padding, no stray bits.

use alloc::{string::String, vec::Vec};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Encodes bytes.
pub fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes text; fails on anything but canonical standard Base64.
pub fn decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    STANDARD.decode(text)
}

/// Encodes bytes as URL-safe Base64 without padding (`-_`): what travels in a QR link.
pub fn encode_url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes URL-safe Base64 without padding; fails on anything else.
pub fn decode_url(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text)
}
