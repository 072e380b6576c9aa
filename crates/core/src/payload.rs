//! The offline QR payload (spec §4, §5):
//! `{OPERATION_ID}\n{TITLE}\n{MESSAGE}\n{OPERATION_DATA}\n{FLAGS}\n[{TOTP}\n]{NONCE}\n{KEY_TYPE}{SIGNATURE}`.
//!
//! The signed bytes are sliced from the scanned text, never rebuilt from parsed fields, and
//! display-side unescaping never feeds back into signing.

use alloc::{borrow::ToOwned, format, string::String, string::ToString, vec::Vec};
use core::fmt;

use crate::base64;
use crate::ecdsa::{self, SignatureError};
use crate::keys::{PrivateKey, PublicKey};
use crate::operation::{OperationData, OperationDataError, escape_text, unescape};
use crate::signature::offline_message;

/// Which server key signed a payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    /// `0`: the application's master key (the activation is not known yet, e.g. login).
    Master,
    /// `1`: the activation's own server key (payments).
    Personalized,
}

impl KeyType {
    fn letter(self) -> char {
        match self {
            KeyType::Master => '0',
            KeyType::Personalized => '1',
        }
    }
}

/// What the flags line asks of the token.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    /// `B`: the code may use biometry instead of the PIN.
    pub biometry: bool,
    /// `X`: swap the approve and reject buttons.
    pub flip_buttons: bool,
    /// `F`: show a fraud warning before approval.
    pub fraud_warning: bool,
    /// `C`: do not approve during a phone call.
    pub block_on_call: bool,
}

impl Flags {
    /// Reads the letters by containment; other letters are ignored (newer flags).
    pub fn parse(line: &str) -> Self {
        Flags {
            biometry: line.contains('B'),
            flip_buttons: line.contains('X'),
            fraud_warning: line.contains('F'),
            block_on_call: line.contains('C'),
        }
    }

    /// Reads flags given by an integrator, strictly: only `B`, `X`, `F` and `C`. `Err` holds
    /// the first other character.
    pub fn from_letters(letters: &str) -> Result<Self, char> {
        match letters
            .chars()
            .find(|c| !matches!(c, 'B' | 'X' | 'F' | 'C'))
        {
            Some(other) => Err(other),
            None => Ok(Self::parse(letters)),
        }
    }

    fn write(self) -> String {
        [
            (self.biometry, 'B'),
            (self.flip_buttons, 'X'),
            (self.fraud_warning, 'F'),
            (self.block_on_call, 'C'),
        ]
        .iter()
        .filter(|(set, _)| *set)
        .map(|(_, letter)| letter)
        .collect()
    }
}

/// Why a scanned payload was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayloadError {
    /// Fewer than seven lines.
    TooFewLines(usize),
    /// The first line is empty.
    EmptyOperationId,
    /// The last line is empty.
    MissingSignature,
    /// The last line does not start with key type `0` or `1`.
    UnknownKeyType(String),
    /// The signature is not Base64 of a DER ECDSA signature.
    MalformedSignature,
    /// The nonce is not 24 characters of Base64 for 16 bytes.
    InvalidNonce,
    /// The operation data line is malformed.
    OperationData(OperationDataError),
}

impl PayloadError {
    /// A stable identifier for programs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::TooFewLines(_) => "payload_too_few_lines",
            Self::EmptyOperationId => "payload_empty_operation_id",
            Self::MissingSignature => "payload_missing_signature",
            Self::UnknownKeyType(_) => "payload_unknown_key_type",
            Self::MalformedSignature => "payload_malformed_signature",
            Self::InvalidNonce => "payload_invalid_nonce",
            Self::OperationData(_) => "payload_invalid_operation_data",
        }
    }
}

impl fmt::Display for PayloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooFewLines(n) => write!(
                f,
                "this QR code has {n} line{}; an operation to approve has at least 7",
                if *n == 1 { "" } else { "s" }
            ),
            Self::EmptyOperationId => f.write_str("the QR code names no operation"),
            Self::MissingSignature => f.write_str("the QR code carries no signature"),
            Self::UnknownKeyType(k) => write!(
                f,
                "the QR code's signature line starts with {k:?}, not the key type 0 or 1"
            ),
            Self::MalformedSignature => f.write_str("the QR code's signature is malformed"),
            Self::InvalidNonce => f.write_str("the QR code's nonce is not 16 bytes of Base64"),
            Self::OperationData(e) => write!(f, "the operation in the QR code is malformed: {e}"),
        }
    }
}

impl core::error::Error for PayloadError {}

impl From<OperationDataError> for PayloadError {
    fn from(e: OperationDataError) -> Self {
        PayloadError::OperationData(e)
    }
}

/// A parsed offline payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfflinePayload {
    text: String,
    signed_len: usize,
    /// The operation id, as signed.
    pub operation_id: String,
    /// The title, unescaped for display.
    pub title: String,
    /// The message, unescaped for display.
    pub message: String,
    /// The operation data, parsed, with its line as signed.
    pub operation_data: OperationData,
    /// The flags.
    pub flags: Flags,
    /// The proximity TOTP line, when there is one.
    pub totp: Option<String>,
    /// Lines of a newer format between the flags (or TOTP) and the nonce, kept as they are.
    pub extra_lines: Vec<String>,
    /// The 16-byte nonce.
    pub nonce: [u8; 16],
    /// Which key signed the payload.
    pub key_type: KeyType,
    /// The DER signature.
    pub signature: Vec<u8>,
}

impl OfflinePayload {
    /// Parses the text of a scanned QR code.
    pub fn parse(text: &str) -> Result<Self, PayloadError> {
        let lines: Vec<&str> = text.split('\n').collect();
        let count = lines.len();
        if count < 7 {
            return Err(PayloadError::TooFewLines(count));
        }
        let operation_id = lines[0];
        if operation_id.is_empty() {
            return Err(PayloadError::EmptyOperationId);
        }
        let signature_line = lines[count - 1];
        let mut chars = signature_line.chars();
        let key_type = match chars.next() {
            None => return Err(PayloadError::MissingSignature),
            Some('0') => KeyType::Master,
            Some('1') => KeyType::Personalized,
            Some(other) => return Err(PayloadError::UnknownKeyType(other.to_string())),
        };
        let signature_b64 = chars.as_str();
        let signature =
            base64::decode(signature_b64).map_err(|_| PayloadError::MalformedSignature)?;
        ecdsa::der_to_raw(&signature).map_err(|_| PayloadError::MalformedSignature)?;
        let nonce_line = lines[count - 2];
        let nonce: [u8; 16] = (nonce_line.len() == 24)
            .then(|| base64::decode(nonce_line).ok())
            .flatten()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(PayloadError::InvalidNonce)?;
        let operation_data = OperationData::parse(lines[3])?;
        // Lines between the flags and the nonce: a TOTP (digits) first, if any, then lines of
        // newer formats. Wultra's parsers take line 5 as TOTP whatever it holds.
        let mut middle = &lines[5..count - 2];
        let totp = match middle.first() {
            Some(line) if !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit()) => {
                middle = &middle[1..];
                Some((*line).to_owned())
            }
            _ => None,
        };
        Ok(OfflinePayload {
            signed_len: text.len() - signature_b64.len(),
            operation_id: operation_id.to_owned(),
            title: unescape(lines[1], false),
            message: unescape(lines[2], false),
            operation_data,
            flags: Flags::parse(lines[4]),
            totp,
            extra_lines: middle.iter().map(|l| (*l).to_owned()).collect(),
            nonce,
            key_type,
            signature,
            text: text.to_owned(),
        })
    }

    /// The whole payload text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The bytes the server signed: the text up to and including the key type.
    pub fn signed_bytes(&self) -> &[u8] {
        &self.text.as_bytes()[..self.signed_len]
    }

    /// Whether lines of a newer format were present.
    pub fn is_newer_format(&self) -> bool {
        !self.extra_lines.is_empty()
    }

    /// Checks the server's signature with the key its key type names: the application's master
    /// public key for [`KeyType::Master`], the activation's server public key otherwise.
    pub fn verify_signature(&self, key: &PublicKey) -> Result<(), SignatureError> {
        ecdsa::verify_der(key, self.signed_bytes(), &self.signature)
    }

    /// `operation_id & operation_data [& totp]`: the body an offline code signs.
    pub fn body(&self) -> String {
        let mut body = format!("{}&{}", self.operation_id, self.operation_data.source);
        if let Some(totp) = &self.totp {
            body.push('&');
            body.push_str(totp);
        }
        body
    }

    /// The same payload for another proximity step: its DATA lines and nonce as they are, the
    /// TOTP line `totp` in place of this one's, signed again with `key` (the key its key type
    /// names). The server shows a proximity payload's QR anew each step this way (spec §4.6).
    /// `totp` is digits, as [`crate::totp::proximity_totp`] makes it.
    pub fn with_totp(&self, totp: &str, key: &PrivateKey) -> String {
        // DATA is the first five lines exactly as signed; the lines after it are rebuilt.
        let data_len = self
            .text
            .match_indices('\n')
            .nth(4)
            .map_or(0, |(at, _)| at + 1);
        let mut text = String::from(&self.text[..data_len]);
        text.push_str(totp);
        text.push('\n');
        for line in &self.extra_lines {
            text.push_str(line);
            text.push('\n');
        }
        seal(text, &self.nonce, self.key_type, key)
    }

    /// The bytes an offline code for this payload signs, for `uri_id`.
    pub fn message(&self, uri_id: &str) -> Vec<u8> {
        offline_message(
            uri_id,
            &self.nonce,
            &self.operation_id,
            &self.operation_data.source,
            self.totp.as_deref(),
        )
    }
}

/// What the server puts in a payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayloadContent {
    /// The operation id: no line breaks.
    pub operation_id: String,
    /// The title, as a person reads it; escaped when written.
    pub title: String,
    /// The message, as a person reads it; escaped when written.
    pub message: String,
    /// The canonical operation data line ([`OperationData::build`]).
    pub operation_data: String,
    /// The flags.
    pub flags: Flags,
    /// The proximity TOTP, if any.
    pub totp: Option<String>,
}

/// Builds and signs a payload: `DATA \n [TOTP \n] NONCE \n KT` signed with `key`, then the
/// Base64 DER signature appended after the key type.
pub fn build_payload(
    content: &PayloadContent,
    nonce: &[u8; 16],
    key_type: KeyType,
    key: &PrivateKey,
) -> Result<String, PayloadError> {
    if content.operation_id.is_empty() {
        return Err(PayloadError::EmptyOperationId);
    }
    if content.operation_id.contains(['\n', '\r']) {
        return Err(PayloadError::OperationData(
            OperationDataError::InvalidHeader("operation id with a line break".into()),
        ));
    }
    // Validates the line and refuses one that would break the payload's structure.
    OperationData::parse(&content.operation_data)?;
    let data = format!(
        "{}\n{}\n{}\n{}\n{}",
        content.operation_id,
        escape_text(&content.title, false),
        escape_text(&content.message, false),
        content.operation_data,
        content.flags.write(),
    );
    Ok(sign_data(
        &data,
        content.totp.as_deref(),
        nonce,
        key_type,
        key,
    ))
}

/// Signs DATA as a PowerAuth Server does (spec §4.2), without reading it: `data \n [totp \n]
/// NONCE \n KT` signed with `key`, the Base64 DER signature appended. This is what PowerAuth's
/// create methods answer with; the caller checks that a token can read the result
/// ([`OfflinePayload::parse`]).
pub fn sign_data(
    data: &str,
    totp: Option<&str>,
    nonce: &[u8; 16],
    key_type: KeyType,
    key: &PrivateKey,
) -> String {
    let mut text = String::with_capacity(data.len() + 140);
    text.push_str(data);
    text.push('\n');
    if let Some(totp) = totp {
        text.push_str(totp);
        text.push('\n');
    }
    seal(text, nonce, key_type, key)
}

/// `text` (DATA and any TOTP or newer lines, each ending in a line break) followed by
/// `NONCE \n KT`, signed with `key` and the Base64 DER signature appended.
fn seal(mut text: String, nonce: &[u8; 16], key_type: KeyType, key: &PrivateKey) -> String {
    text.push_str(&base64::encode(nonce));
    text.push('\n');
    text.push(key_type.letter());
    let signature = ecdsa::sign_der(key, text.as_bytes());
    text.push_str(&base64::encode(&signature));
    text
}
