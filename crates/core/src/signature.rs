//! PowerAuth signatures: the multi-factor HMAC chain over the signature base string, shown as
//! decimal codes offline (spec §6) and as Base64 online (protocol 3.1), and the server's
//! look-ahead verification (spec §7).

use alloc::{borrow::ToOwned, format, string::String, vec, vec::Vec};
use core::fmt;

use subtle::ConstantTimeEq;

use crate::base64;
use crate::counter::CtrData;
use crate::keys::{SecretKey, hmac_sha256};

/// The URI id that offline codes sign unless an integration configures another.
pub const OFFLINE_URI_ID: &str = "/operation/authorize/offline";
/// What stands for the application secret in offline codes.
pub const OFFLINE_APPLICATION_SECRET: &str = "offline";
/// The URI id a token signs to approve an online login.
pub const LOGIN_APPROVE_URI_ID: &str = "/login/approve";
/// The URI id a token signs to remove its own activation.
pub const ACTIVATION_REMOVE_URI_ID: &str = "/activation/remove";
/// The name of the header that carries a signed request (`X-PowerAuth-Authorization`), in
/// the lower case HTTP libraries want for header names given as constants.
pub const AUTHORIZATION_HEADER: &str = "x-powerauth-authorization";

/// The value of the [`AUTHORIZATION_HEADER`] for a 3.1 signature: `nonce` is the 16 random
/// bytes that went into the signed message, `signature` its Base64 form.
pub fn authorization_header(
    activation_id: &str,
    nonce: &[u8; 16],
    factors: FactorType,
    signature: &str,
) -> String {
    format!(
        "PowerAuth pa_activation_id=\"{activation_id}\", pa_nonce=\"{}\", \
         pa_signature_type=\"{}\", pa_signature=\"{signature}\", pa_version=\"3.1\"",
        crate::base64::encode(nonce),
        factors.name().to_ascii_lowercase()
    )
}

/// How many counter values the server tries (`signatureValidationLookahead`).
pub const DEFAULT_LOOKAHEAD: u32 = 20;
/// Digits per component of an offline code unless configured otherwise.
pub const DEFAULT_COMPONENT_LENGTH: u8 = 8;

/// Which factors a signature proves, and so which keys make it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FactorType {
    /// The device alone.
    Possession,
    /// The PIN alone (not used in practice).
    Knowledge,
    /// Biometry alone (not used in practice).
    Biometry,
    /// Device and PIN: what offline codes use.
    PossessionKnowledge,
    /// Device and biometry: offline only when the payload has flag `B`.
    PossessionBiometry,
    /// All three.
    PossessionKnowledgeBiometry,
}

impl FactorType {
    /// Reads PowerAuth's name (`possession_knowledge`, ...), in either case.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "possession" => Self::Possession,
            "knowledge" => Self::Knowledge,
            "biometry" => Self::Biometry,
            "possession_knowledge" => Self::PossessionKnowledge,
            "possession_biometry" => Self::PossessionBiometry,
            "possession_knowledge_biometry" => Self::PossessionKnowledgeBiometry,
            _ => return None,
        })
    }

    /// PowerAuth's upper-case name, as its APIs report it (`POSSESSION_KNOWLEDGE`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Possession => "POSSESSION",
            Self::Knowledge => "KNOWLEDGE",
            Self::Biometry => "BIOMETRY",
            Self::PossessionKnowledge => "POSSESSION_KNOWLEDGE",
            Self::PossessionBiometry => "POSSESSION_BIOMETRY",
            Self::PossessionKnowledgeBiometry => "POSSESSION_KNOWLEDGE_BIOMETRY",
        }
    }

    /// The factor keys in the order the chain uses them.
    pub fn keys(self, keys: &FactorKeys) -> Vec<&SecretKey> {
        let FactorKeys {
            possession,
            knowledge,
            biometry,
        } = keys;
        match self {
            Self::Possession => vec![possession],
            Self::Knowledge => vec![knowledge],
            Self::Biometry => vec![biometry],
            Self::PossessionKnowledge => vec![possession, knowledge],
            Self::PossessionBiometry => vec![possession, biometry],
            Self::PossessionKnowledgeBiometry => vec![possession, knowledge, biometry],
        }
    }
}

/// The three factor keys of an activation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FactorKeys {
    /// `KEY_SIGNATURE_POSSESSION`.
    pub possession: SecretKey,
    /// `KEY_SIGNATURE_KNOWLEDGE`.
    pub knowledge: SecretKey,
    /// `KEY_SIGNATURE_BIOMETRY`.
    pub biometry: SecretKey,
}

/// A component length outside 4..=8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidComponentLength(pub u8);

impl fmt::Display for InvalidComponentLength {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a code component has 4 to 8 digits, not {}", self.0)
    }
}

impl core::error::Error for InvalidComponentLength {}

/// The HMAC chain (spec §6.4): component `i` is `HMAC(DK_i, message)` where `DK_i` starts as
/// `HMAC(K[i], ctr)` and is re-keyed by `HMAC(K[j + 1], ctr)` for every `j < i`.
pub fn signature_components(keys: &[&SecretKey], ctr: &CtrData, message: &[u8]) -> Vec<[u8; 32]> {
    let ctr = ctr.as_bytes();
    (0..keys.len())
        .map(|i| {
            let mut derived = hmac_sha256(keys[i].as_bytes(), ctr);
            for key in &keys[1..=i] {
                derived = hmac_sha256(&hmac_sha256(key.as_bytes(), ctr), &derived);
            }
            hmac_sha256(&derived, message)
        })
        .collect()
}

/// The decimal form: per component, the last four bytes with the top bit cleared, modulo
/// `10^length`, zero-padded; components joined by `-`.
pub fn decimal_code(components: &[[u8; 32]], length: u8) -> Result<String, InvalidComponentLength> {
    if !(4..=8).contains(&length) {
        return Err(InvalidComponentLength(length));
    }
    let modulus = 10u32.pow(u32::from(length));
    let parts: Vec<String> = components
        .iter()
        .map(|c| {
            let value = u32::from_be_bytes([c[28], c[29], c[30], c[31]]) & 0x7fff_ffff;
            format!("{:0width$}", value % modulus, width = usize::from(length))
        })
        .collect();
    Ok(parts.join("-"))
}

/// The Base64 form of protocol 3.1 online signatures: the last 16 bytes of every component,
/// concatenated, in one Base64 string.
pub fn base64_code(components: &[[u8; 32]]) -> String {
    let bytes: Vec<u8> = components
        .iter()
        .flat_map(|c| c[16..].iter().copied())
        .collect();
    base64::encode(&bytes)
}

/// `METHOD&B64(uri)&B64(nonce)&B64(data)` (spec §6.2): the method upper-cased, `GET` when
/// absent; an absent URI, nonce or body leaves its segment empty. The URI is not hashed.
pub fn signature_base_string(
    method: Option<&str>,
    uri: Option<&str>,
    nonce: Option<&[u8]>,
    data: Option<&[u8]>,
) -> String {
    let method = method.map_or_else(|| "GET".to_owned(), str::to_ascii_uppercase);
    let segment = |bytes: Option<&[u8]>| bytes.map(base64::encode).unwrap_or_default();
    format!(
        "{method}&{}&{}&{}",
        segment(uri.map(str::as_bytes)),
        segment(nonce),
        segment(data)
    )
}

/// The bytes a signature signs: `POST&B64(uri_id)&B64(nonce)&B64(body)&application_secret`
/// (spec §6.2–6.3). Online requests use the application secret from the activation; offline
/// codes use the literal `offline`.
pub fn signed_message(
    uri_id: &str,
    nonce: &[u8],
    body: &[u8],
    application_secret: &str,
) -> Vec<u8> {
    let base = signature_base_string(Some("POST"), Some(uri_id), Some(nonce), Some(body));
    format!("{base}&{application_secret}").into_bytes()
}

/// The bytes an offline code signs (spec §6.1–6.3):
/// `POST&B64(uri_id)&B64(nonce)&B64(operation_id "&" operation_data ["&" totp])&offline`.
/// `operation_data` is the escaped line exactly as it stands in the payload.
pub fn offline_message(
    uri_id: &str,
    nonce: &[u8; 16],
    operation_id: &str,
    operation_data: &str,
    totp: Option<&str>,
) -> Vec<u8> {
    let mut body = format!("{operation_id}&{operation_data}");
    if let Some(totp) = totp {
        body.push('&');
        body.push_str(totp);
    }
    signed_message(uri_id, nonce, body.as_bytes(), OFFLINE_APPLICATION_SECRET)
}

/// How a signature is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureFormat {
    /// Digits per component (4 to 8), components joined by `-`: offline codes.
    Decimal(u8),
    /// Base64 of the last 16 bytes of each component: online requests from protocol 3.1 on.
    Base64,
}

impl SignatureFormat {
    fn write(self, components: &[[u8; 32]]) -> Result<String, InvalidComponentLength> {
        match self {
            SignatureFormat::Decimal(length) => decimal_code(components, length),
            SignatureFormat::Base64 => Ok(base64_code(components)),
        }
    }
}

/// The signature of `message` by `factors` at counter `ctr`, in `format`.
pub fn compute_signature(
    keys: &FactorKeys,
    factors: FactorType,
    ctr: &CtrData,
    message: &[u8],
    format: SignatureFormat,
) -> Result<String, InvalidComponentLength> {
    format.write(&signature_components(&factors.keys(keys), ctr, message))
}

/// The decimal offline code for `factors` at counter `ctr`.
pub fn offline_code(
    keys: &FactorKeys,
    factors: FactorType,
    ctr: &CtrData,
    message: &[u8],
    length: u8,
) -> Result<String, InvalidComponentLength> {
    compute_signature(
        keys,
        factors,
        ctr,
        message,
        SignatureFormat::Decimal(length),
    )
}

/// A signature that matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureMatch {
    /// Which factors the signature proved.
    pub factors: FactorType,
    /// How many counter values the token had used past the stored one, plus one: add it to the
    /// numeric counter.
    pub steps: u32,
    /// The counter to store: one past the matched value.
    pub next_ctr: CtrData,
}

/// Verifies a signature as the server does (spec §7.2): for each of `lookahead` counter values
/// from `stored`, try each of `factors` in order. Pure: the caller stores the result and counts
/// failures.
pub fn verify_signature(
    typed: &str,
    keys: &FactorKeys,
    stored: &CtrData,
    message: &[u8],
    factors: &[FactorType],
    format: SignatureFormat,
    lookahead: u32,
) -> Result<Option<SignatureMatch>, InvalidComponentLength> {
    let mut ctr = stored.clone();
    for step in 1..=lookahead {
        let next = ctr.next();
        for &factor in factors {
            let expected = compute_signature(keys, factor, &ctr, message, format)?;
            // Every candidate is compared in full; lengths are public (they follow `format`).
            if bool::from(expected.as_bytes().ct_eq(typed.as_bytes())) {
                return Ok(Some(SignatureMatch {
                    factors: factor,
                    steps: step,
                    next_ctr: next,
                }));
            }
        }
        ctr = next;
    }
    Ok(None)
}

/// Whether `typed` starts with a right possession component at one of the `lookahead` counter
/// values from `stored`: it was made with the device's possession key, so whoever made it holds
/// the token, and only a later component (the PIN's, or biometry's) can be wrong. The first
/// component of every signature type is the possession one (spec §6.4; `signature_components`).
pub fn has_possession_component(
    typed: &str,
    keys: &FactorKeys,
    stored: &CtrData,
    message: &[u8],
    format: SignatureFormat,
    lookahead: u32,
) -> Result<bool, InvalidComponentLength> {
    let typed_first: Vec<u8> = match format {
        SignatureFormat::Decimal(_) => typed.split('-').next().unwrap_or_default().into(),
        SignatureFormat::Base64 => match base64::decode(typed) {
            Ok(bytes) if bytes.len() >= 16 => bytes[..16].to_vec(),
            _ => return Ok(false),
        },
    };
    let mut ctr = stored.clone();
    let mut found = false;
    for _ in 0..lookahead {
        let expected = compute_signature(keys, FactorType::Possession, &ctr, message, format)?;
        let expected: Vec<u8> = match format {
            SignatureFormat::Decimal(_) => expected.into_bytes(),
            SignatureFormat::Base64 => base64::decode(&expected).unwrap_or_default(),
        };
        // Every counter value is tried, so the time does not tell which one matched.
        found |= bool::from(expected.ct_eq(&typed_first));
        ctr = ctr.next();
    }
    Ok(found)
}

/// Verifies a typed offline code (canonical form, such as `12345678-90123456`): possession and
/// knowledge, then possession and biometry when the payload allows it (flag `B`).
pub fn verify_offline_code(
    typed: &str,
    keys: &FactorKeys,
    stored: &CtrData,
    message: &[u8],
    allow_biometry: bool,
    length: u8,
    lookahead: u32,
) -> Result<Option<SignatureMatch>, InvalidComponentLength> {
    let mut factors = vec![FactorType::PossessionKnowledge];
    if allow_biometry {
        factors.push(FactorType::PossessionBiometry);
    }
    verify_signature(
        typed,
        keys,
        stored,
        message,
        &factors,
        SignatureFormat::Decimal(length),
        lookahead,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_form_is_the_last_16_bytes_of_each_component() {
        let mut first = [0u8; 32];
        let mut second = [0u8; 32];
        first[16..].copy_from_slice(&[1; 16]);
        second[16..].copy_from_slice(&[2; 16]);
        first[0] = 0xff; // outside the kept half
        let mut expected = vec![1u8; 16];
        expected.extend([2u8; 16]);
        assert_eq!(base64_code(&[first, second]), base64::encode(&expected));
    }

    #[test]
    fn a_code_made_with_the_device_and_a_wrong_pin_has_the_possession_component() {
        let keys = crate::keys::DerivedKeys::from_master_secret(&SecretKey::from_bytes([7; 16]))
            .factor_keys();
        let stored = CtrData::from_slice(&[1; 16]).unwrap_or_else(|_| unreachable!());
        let ahead = stored.next().next();
        let message = b"message";
        let format = SignatureFormat::Decimal(8);
        let right = compute_signature(
            &keys,
            FactorType::PossessionKnowledge,
            &ahead,
            message,
            format,
        )
        .unwrap_or_default();
        let (possession, knowledge) = right.split_once('-').unwrap_or_default();
        let wrong_pin = format!(
            "{possession}-{:08}",
            (knowledge.parse::<u32>().unwrap_or(0) + 1) % 100_000_000
        );
        let guessed = format!(
            "{:08}-{knowledge}",
            (possession.parse::<u32>().unwrap_or(0) + 1) % 100_000_000
        );
        let check = |typed: &str, lookahead| {
            has_possession_component(typed, &keys, &stored, message, format, lookahead)
        };
        assert_eq!(check(&wrong_pin, 20), Ok(true));
        assert_eq!(check(&right, 20), Ok(true));
        assert_eq!(check(&guessed, 20), Ok(false));
        assert_eq!(check(&wrong_pin, 2), Ok(false), "beyond the look-ahead");
        assert_eq!(check("", 20), Ok(false));

        let online = compute_signature(
            &keys,
            FactorType::PossessionKnowledge,
            &stored,
            message,
            SignatureFormat::Base64,
        )
        .unwrap_or_default();
        let mut bytes = base64::decode(&online).unwrap_or_default();
        bytes[20] ^= 1; // the knowledge half
        let wrong_pin_online = base64::encode(&bytes);
        assert_eq!(
            has_possession_component(
                &wrong_pin_online,
                &keys,
                &stored,
                message,
                SignatureFormat::Base64,
                1
            ),
            Ok(true)
        );
        bytes[3] ^= 1; // and the possession half
        assert_eq!(
            has_possession_component(
                &base64::encode(&bytes),
                &keys,
                &stored,
                message,
                SignatureFormat::Base64,
                1
            ),
            Ok(false)
        );
        assert_eq!(
            has_possession_component(
                "not base64",
                &keys,
                &stored,
                message,
                SignatureFormat::Base64,
                1
            ),
            Ok(false)
        );
    }

    #[test]
    fn component_lengths_outside_4_to_8_are_refused() {
        assert_eq!(decimal_code(&[[0; 32]], 3), Err(InvalidComponentLength(3)));
        assert_eq!(decimal_code(&[[0; 32]], 9), Err(InvalidComponentLength(9)));
        assert_eq!(decimal_code(&[[0; 32]], 4).unwrap(), "0000");
    }
}
