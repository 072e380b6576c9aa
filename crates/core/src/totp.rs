//! RFC 6238 TOTP, for the proximity line of offline payloads (spec §4.6).

use alloc::{format, string::String, vec::Vec};
use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha512};

/// The HMAC behind a TOTP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TotpAlgorithm {
    /// HMAC-SHA256: what PowerAuth Server uses.
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

/// Digits of the proximity TOTP, as PowerAuth Server writes it by default
/// (`powerauth.service.proximity-check.otp.length`).
pub const PROXIMITY_DIGITS: u32 = 8;

/// The proximity TOTP line of step `step` (`floor(unix seconds / step length)`), with
/// HMAC-SHA256 as PowerAuth Server makes it.
pub fn proximity_totp(seed: &[u8], step: u64) -> String {
    // `totp` takes seconds and a step length; one-second steps make `step` the counter itself.
    totp(seed, step, 1, PROXIMITY_DIGITS, TotpAlgorithm::Sha256).unwrap_or_default()
}

/// The `digits`-digit TOTP (1..=9) for `unix_seconds` with steps of `step_seconds` (non-zero).
pub fn totp(
    seed: &[u8],
    unix_seconds: u64,
    step_seconds: u64,
    digits: u32,
    algorithm: TotpAlgorithm,
) -> Option<String> {
    if !(1..=9).contains(&digits) || step_seconds == 0 {
        return None;
    }
    let step = (unix_seconds / step_seconds).to_be_bytes();
    let hash: Vec<u8> = match algorithm {
        TotpAlgorithm::Sha256 => {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(seed).ok()?;
            mac.update(&step);
            mac.finalize().into_bytes().to_vec()
        }
        TotpAlgorithm::Sha512 => {
            let mut mac = <Hmac<Sha512> as Mac>::new_from_slice(seed).ok()?;
            mac.update(&step);
            mac.finalize().into_bytes().to_vec()
        }
    };
    // RFC 4226 dynamic truncation.
    let offset = usize::from(hash[hash.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        hash[offset],
        hash[offset + 1],
        hash[offset + 2],
        hash[offset + 3],
    ]) & 0x7fff_ffff;
    let value = binary % 10u32.pow(digits);
    Some(format!("{value:0width$}", width = digits as usize))
}
