//! What a token and a server need to agree on an activation (spec §3.4): the activation code a
//! person scans or types, its signature by the application's master key, and the fingerprint
//! both sides show so a person can see that they hold the same keys.

use alloc::{format, string::String, vec::Vec};
use core::fmt;

use sha2::{Digest, Sha256};

use crate::base64;
use crate::ecdsa::{self, SignatureError};
use crate::keys::{PrivateKey, PublicKey};

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
/// Characters in a code without its dashes.
const CODE_CHARS: usize = 20;

/// A one-time activation code, `XXXXX-XXXXX-XXXXX-XXXXX`: ten random bytes and their
/// CRC-16/ARC (big endian) in Base32, as PowerAuth 3 writes them. The checksum catches typing
/// errors before anything is sent; the code itself is not key material.
#[derive(Clone, PartialEq, Eq)]
pub struct ActivationCode(String);

/// Why a text is not an activation code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActivationCodeError {
    /// Not 20 characters once dashes and spaces are removed.
    WrongLength(usize),
    /// A character outside Base32 (`A`–`Z`, `2`–`7`).
    ForeignCharacter(char),
    /// Well formed, but the checksum does not match: a character was mistyped.
    Checksum,
}

impl ActivationCodeError {
    /// A stable name for programs: `wrong_length`, `foreign_character`, `checksum`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::WrongLength(_) => "wrong_length",
            Self::ForeignCharacter(_) => "foreign_character",
            Self::Checksum => "checksum",
        }
    }
}

impl fmt::Display for ActivationCodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongLength(n) => write!(
                f,
                "an activation code has 20 letters and digits in four groups of five, not {n}"
            ),
            Self::ForeignCharacter(c) => write!(
                f,
                "an activation code has only the letters A to Z and the digits 2 to 7, not {c:?}"
            ),
            Self::Checksum => f.write_str("this activation code has a typing error; check it"),
        }
    }
}

impl core::error::Error for ActivationCodeError {}

/// CRC-16/ARC: polynomial 0x8005 reflected, initial value 0, no final XOR.
fn crc16_arc(bytes: &[u8]) -> u16 {
    let mut crc = 0u16;
    for &byte in bytes {
        crc ^= u16::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xa001
            } else {
                crc >> 1
            };
        }
    }
    crc
}

impl ActivationCode {
    /// Makes a code from ten random bytes chosen by the caller (core has no random source).
    pub fn from_random(random: [u8; 10]) -> Self {
        let mut bytes = [0u8; 12];
        bytes[..10].copy_from_slice(&random);
        bytes[10..].copy_from_slice(&crc16_arc(&random).to_be_bytes());
        // 96 bits in 20 five-bit characters; the last character carries four zero bits.
        let mut chars = String::with_capacity(CODE_CHARS + 3);
        for i in 0..CODE_CHARS {
            if i > 0 && i % 5 == 0 {
                chars.push('-');
            }
            let mut value = 0usize;
            for bit in i * 5..i * 5 + 5 {
                let set = bit < 96 && bytes[bit / 8] & (0x80 >> (bit % 8)) != 0;
                value = value << 1 | usize::from(set);
            }
            chars.push(char::from(BASE32[value]));
        }
        ActivationCode(chars)
    }

    /// Reads a code as a person types or scans it: either case, with or without dashes and
    /// spaces.
    pub fn parse(input: &str) -> Result<Self, ActivationCodeError> {
        let mut values = Vec::with_capacity(CODE_CHARS);
        for c in input.chars().filter(|c| !matches!(c, '-' | ' ')) {
            let upper = c.to_ascii_uppercase();
            let value = BASE32
                .iter()
                .position(|&b| char::from(b) == upper)
                .ok_or(ActivationCodeError::ForeignCharacter(c))?;
            values.push(value);
            if values.len() > CODE_CHARS {
                break;
            }
        }
        if values.len() != CODE_CHARS {
            let count = input.chars().filter(|c| !matches!(c, '-' | ' ')).count();
            return Err(ActivationCodeError::WrongLength(count));
        }
        let mut bits = 0u128;
        for &value in &values {
            bits = bits << 5 | value as u128;
        }
        if bits & 0xf != 0 {
            return Err(ActivationCodeError::Checksum);
        }
        let bytes = (bits >> 4).to_be_bytes();
        let bytes = &bytes[4..]; // the low 96 bits
        if crc16_arc(&bytes[..10]).to_be_bytes() != bytes[10..] {
            return Err(ActivationCodeError::Checksum);
        }
        let mut canonical = String::with_capacity(CODE_CHARS + 3);
        for (i, &value) in values.iter().enumerate() {
            if i > 0 && i % 5 == 0 {
                canonical.push('-');
            }
            canonical.push(char::from(BASE32[value]));
        }
        Ok(ActivationCode(canonical))
    }

    /// The canonical form, `XXXXX-XXXXX-XXXXX-XXXXX`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text of the activation QR: `CODE#SIGNATURE`, the signature being ECDSA by the
    /// application's master key over the code's UTF-8 bytes, in Base64 DER.
    pub fn qr_text(&self, master: &PrivateKey) -> String {
        let signature = ecdsa::sign_der(master, self.0.as_bytes());
        format!("{}#{}", self.0, base64::encode(&signature))
    }
}

impl fmt::Debug for ActivationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ActivationCode(<hidden>)")
    }
}

/// Why the text of an activation QR was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActivationQrError {
    /// The code part is not an activation code.
    Code(ActivationCodeError),
    /// No `#` and signature after the code.
    MissingSignature,
    /// The signature is not Base64.
    InvalidBase64,
    /// The signature is not the application's.
    Signature(SignatureError),
}

impl ActivationQrError {
    /// A stable name for programs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Code(e) => e.kind(),
            Self::MissingSignature => "missing_signature",
            Self::InvalidBase64 => "invalid_base64",
            Self::Signature(SignatureError::Malformed) => "malformed_signature",
            Self::Signature(SignatureError::Mismatch) => "signature_mismatch",
        }
    }
}

impl fmt::Display for ActivationQrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Code(e) => write!(f, "{e}"),
            Self::MissingSignature => f.write_str("the activation QR has no signature"),
            Self::InvalidBase64 => f.write_str("the activation QR's signature is not Base64"),
            Self::Signature(e) => write!(f, "the activation QR was not made by this server: {e}"),
        }
    }
}

impl core::error::Error for ActivationQrError {}

/// Reads the text of an activation QR and checks its signature with the application's master
/// public key. A code alone (typed, no `#`) is refused here: use [`ActivationCode::parse`].
pub fn verify_activation_qr(
    text: &str,
    master: &PublicKey,
) -> Result<ActivationCode, ActivationQrError> {
    let (code, signature) = text
        .split_once('#')
        .ok_or(ActivationQrError::MissingSignature)?;
    let parsed = ActivationCode::parse(code).map_err(ActivationQrError::Code)?;
    let der = base64::decode(signature).map_err(|_| ActivationQrError::InvalidBase64)?;
    // Signed over the code exactly as it stands in the QR.
    ecdsa::verify_der(master, code.as_bytes(), &der).map_err(ActivationQrError::Signature)?;
    Ok(parsed)
}

/// The activation fingerprint both sides show (spec §3.4): eight digits from the last four
/// bytes of `SHA-256(devicePubX || activationId || serverPubX)`, where X is the affine X
/// coordinate without leading zero bytes (Java `BigInteger` magnitude).
pub fn fingerprint(device: &PublicKey, activation_id: &str, server: &PublicKey) -> String {
    fn x_magnitude(key: &PublicKey) -> Vec<u8> {
        let point = key.to_uncompressed();
        let x = &point[1..33];
        let start = x.iter().position(|&b| b != 0).unwrap_or(x.len());
        x[start..].to_vec()
    }
    let mut hash = Sha256::new();
    hash.update(x_magnitude(device));
    hash.update(activation_id.as_bytes());
    hash.update(x_magnitude(server));
    let digest = hash.finalize();
    let value = u32::from_be_bytes([digest[28], digest[29], digest[30], digest[31]]) & 0x7fff_ffff;
    format!("{:08}", value % 100_000_000)
}

/// The life of an activation, with PowerAuth's names.
///
/// ```text
/// CREATED -> ACTIVE <-> BLOCKED
/// CREATED | ACTIVE | BLOCKED -> REMOVED      (final)
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "SCREAMING_SNAKE_CASE")
)]
#[cfg_attr(feature = "ts", derive(tsify::Tsify))]
pub enum ActivationStatus {
    /// The code was issued; no token has committed yet.
    Created,
    /// A token holds the keys and may sign.
    Active,
    /// Too many failed signatures; nothing it signs is accepted.
    Blocked,
    /// Removed by its user or the token, or its code expired unused.
    Removed,
}

impl ActivationStatus {
    /// Every status.
    pub const ALL: [ActivationStatus; 4] =
        [Self::Created, Self::Active, Self::Blocked, Self::Removed];

    /// The name the API uses, `ACTIVE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "CREATED",
            Self::Active => "ACTIVE",
            Self::Blocked => "BLOCKED",
            Self::Removed => "REMOVED",
        }
    }

    /// The status named `name` (as [`Self::as_str`] writes it).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == name)
    }

    /// The status at `now_ms` of an activation stored with this status whose code expires at
    /// `code_expires_at_ms`: a code nobody committed in time is as good as removed.
    pub fn at(self, code_expires_at_ms: i64, now_ms: i64) -> Self {
        if self == Self::Created && code_expires_at_ms <= now_ms {
            Self::Removed
        } else {
            self
        }
    }

    /// The status after `step`, or `None` when the step does not apply: a token commits only to
    /// a created activation, only an operator unblocks, and a removed one stays removed.
    pub fn after(self, step: ActivationStep) -> Option<Self> {
        use ActivationStatus::{Active, Blocked, Created, Removed};
        match (step, self) {
            (ActivationStep::Commit, Created) => Some(Active),
            (ActivationStep::Block, Active) => Some(Blocked),
            (ActivationStep::Unblock, Blocked) => Some(Active),
            (ActivationStep::Remove, Created | Active | Blocked) => Some(Removed),
            _ => None,
        }
    }
}

/// What happens to an activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActivationStep {
    /// A token committed its public key with the code.
    Commit,
    /// The last allowed signature failed.
    Block,
    /// An operator lifted the block.
    Unblock,
    /// Its user or its token removed it, or its code expired.
    Remove,
}

/// Why an activation was blocked, as PowerAuth names it.
pub const MAX_FAILED_ATTEMPTS: &str = "MAX_FAILED_ATTEMPTS";

/// The failed signatures of an activation against its limit (spec §7.2: PowerAuth blocks after
/// 5 by default). A good signature resets them; the failure that reaches the limit blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailedAttempts {
    /// Failed signatures since the last good one.
    pub failed: u32,
    /// Failed signatures allowed before the activation is blocked.
    pub max: u32,
}

impl FailedAttempts {
    /// What is left before the activation is blocked.
    pub fn remaining(self) -> u32 {
        self.max.saturating_sub(self.failed)
    }

    /// One more failure; the activation is blocked when this is true of the result.
    pub fn after_failure(self) -> Self {
        FailedAttempts {
            failed: self.failed.saturating_add(1),
            max: self.max,
        }
    }

    /// Whether no attempt is left, so the activation is blocked.
    pub fn exhausted(self) -> bool {
        self.failed >= self.max
    }

    /// After a good signature.
    pub fn reset(self) -> Self {
        FailedAttempts {
            failed: 0,
            max: self.max,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activation_steps_go_where_the_life_cycle_says() {
        use ActivationStatus::*;
        use ActivationStep::*;
        let table = [
            (Created, [Some(Active), None, None, Some(Removed)]),
            (Active, [None, Some(Blocked), None, Some(Removed)]),
            (Blocked, [None, None, Some(Active), Some(Removed)]),
            (Removed, [None, None, None, None]),
        ];
        for (status, expected) in table {
            for (step, want) in [Commit, Block, Unblock, Remove].into_iter().zip(expected) {
                assert_eq!(status.after(step), want, "{status:?} + {step:?}");
            }
            assert_eq!(ActivationStatus::from_name(status.as_str()), Some(status));
        }
        assert_eq!(Created.at(1_000, 999), Created);
        assert_eq!(Created.at(1_000, 1_000), Removed);
        assert_eq!(Active.at(1_000, 5_000), Active);
    }

    #[test]
    fn the_fifth_failure_blocks_and_a_good_signature_resets() {
        let mut attempts = FailedAttempts { failed: 0, max: 5 };
        for left in (0..5).rev() {
            assert!(!attempts.exhausted());
            attempts = attempts.after_failure();
            assert_eq!(attempts.remaining(), left);
        }
        assert!(attempts.exhausted());
        assert_eq!(attempts.after_failure().remaining(), 0);
        assert_eq!(attempts.reset(), FailedAttempts { failed: 0, max: 5 });
    }

    #[test]
    fn crc16_arc_check_value() {
        // The catalogue's check value: CRC of "123456789".
        assert_eq!(crc16_arc(b"123456789"), 0xbb3d);
    }

    #[test]
    fn codes_round_trip_in_any_typed_shape() {
        for seed in 0u8..50 {
            let random = [seed.wrapping_mul(37); 10].map(|b| b ^ seed);
            let code = ActivationCode::from_random(random);
            assert_eq!(code.as_str().len(), 23);
            assert_eq!(ActivationCode::parse(code.as_str()).unwrap(), code);
            let typed = code.as_str().replace('-', " ").to_lowercase();
            assert_eq!(ActivationCode::parse(&typed).unwrap(), code);
        }
    }

    #[test]
    fn typing_errors_are_caught() {
        let code = ActivationCode::from_random(*b"0123456789");
        let mut chars: Vec<char> = code.as_str().chars().collect();
        chars[2] = if chars[2] == 'A' { 'B' } else { 'A' };
        let typo: String = chars.into_iter().collect();
        assert_eq!(
            ActivationCode::parse(&typo),
            Err(ActivationCodeError::Checksum)
        );
        assert_eq!(
            ActivationCode::parse("AAAAA-AAAAA"),
            Err(ActivationCodeError::WrongLength(10))
        );
        assert_eq!(
            ActivationCode::parse("AAAAA-AAAAA-AAAAA-AAAA1"),
            Err(ActivationCodeError::ForeignCharacter('1'))
        );
    }

    #[test]
    fn qr_text_is_signed_by_the_master_key() {
        let master = PrivateKey::from_random(&[7; 32]).unwrap();
        let other = PrivateKey::from_random(&[8; 32]).unwrap();
        let code = ActivationCode::from_random([1; 10]);
        let text = code.qr_text(&master);
        assert_eq!(
            verify_activation_qr(&text, &master.public_key()).unwrap(),
            code
        );
        assert_eq!(
            verify_activation_qr(&text, &other.public_key()),
            Err(ActivationQrError::Signature(SignatureError::Mismatch))
        );
        assert_eq!(
            verify_activation_qr(code.as_str(), &master.public_key()),
            Err(ActivationQrError::MissingSignature)
        );
    }

    #[test]
    fn fingerprint_is_eight_digits_and_binds_every_input() {
        let device = PrivateKey::from_random(&[1; 32]).unwrap().public_key();
        let server = PrivateKey::from_random(&[2; 32]).unwrap().public_key();
        let print = fingerprint(&device, "id", &server);
        assert_eq!(print.len(), 8);
        assert!(print.bytes().all(|b| b.is_ascii_digit()));
        assert_ne!(print, fingerprint(&server, "id", &device));
        assert_ne!(print, fingerprint(&device, "id2", &server));
    }
}
