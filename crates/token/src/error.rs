//! Everything that can go wrong in the token, each with a stable code for programs and a message
//! for people.

use std::fmt;

use qrauth_core::activation::{ActivationCodeError, ActivationQrError};
use qrauth_core::payload::PayloadError;

/// The shortest PIN the token accepts.
pub const MIN_PIN_LENGTH: usize = 4;
/// The longest PIN the token accepts, in characters.
pub const MAX_PIN_LENGTH: usize = 64;

/// Why the token refused or failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// A scanned offline payload is malformed.
    Payload(PayloadError),
    /// A scanned offline payload's signature is not the server's.
    PayloadSignature {
        /// The service the token belongs to, for the message.
        service: String,
    },
    /// A typed activation code is malformed (length, character, checksum).
    ActivationCode(ActivationCodeError),
    /// A scanned activation QR is malformed or not signed by the server.
    ActivationQr(ActivationQrError),
    /// The PIN is shorter than [`MIN_PIN_LENGTH`] or longer than [`MAX_PIN_LENGTH`].
    PinLength(usize),
    /// The PIN and its confirmation differ.
    PinMismatch,
    /// No activation with this id on this device.
    UnknownActivation(String),
    /// No activation at all on this device.
    NoActivation,
    /// A login link or scan code is not one.
    ScanCode,
    /// The login asks for the two digits its page shows (number matching), and what was typed
    /// is not two digits.
    MatchingNumber,
    /// The server refused, with its own code and message.
    Server {
        /// HTTP status.
        status: u16,
        /// The server's error code (`activation_code_expired`, `signature_invalid`, ...).
        code: String,
        /// The server's message.
        message: String,
        /// The seconds the server asked to wait before the next attempt (`Retry-After`, sent
        /// with 429 and 503).
        retry_after_seconds: Option<u32>,
    },
    /// The server could not be reached.
    Network(String),
    /// The server answered something that is not its API.
    BadAnswer(String),
    /// The server named a login state this code does not know (a newer server?): never taken
    /// for another, and asking again would not help.
    UnknownLoginState(String),
    /// The browser has no IndexedDB, or will not open it for this page (private mode in some
    /// browsers, site data blocked, Node.js without a polyfill).
    StorageUnavailable,
    /// The browser's storage for this origin is full (`QuotaExceededError`): nothing was
    /// saved, so no code was made.
    StorageFull,
    /// IndexedDB failed (quota, blocked, corrupted record).
    Storage(String),
}

impl TokenError {
    /// True when the same request may succeed later: no answer, an answer that is not the API's
    /// (a proxy's error page), the server busy (429, 503) or failing (5xx), a timeout (408).
    /// Anything else the server refused stays refused.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Network(_) | Self::BadAnswer(_) => true,
            Self::Server { status, .. } => matches!(status, 408 | 429 | 500..=599),
            _ => false,
        }
    }

    /// How long the server asked to wait before trying again, in milliseconds.
    pub fn retry_after_ms(&self) -> Option<f64> {
        match self {
            Self::Server {
                retry_after_seconds: Some(seconds),
                ..
            } => Some(f64::from(*seconds) * 1000.0),
            _ => None,
        }
    }

    /// A stable identifier for programs.
    pub fn code(&self) -> &str {
        match self {
            Self::Payload(e) => e.kind(),
            Self::PayloadSignature { .. } => "payload_signature_invalid",
            Self::ActivationCode(_) => "invalid_activation_code",
            Self::ActivationQr(ActivationQrError::Code(_)) => "invalid_activation_code",
            Self::ActivationQr(_) => "activation_qr_invalid",
            Self::PinLength(_) => "pin_length",
            Self::PinMismatch => "pin_mismatch",
            Self::UnknownActivation(_) => "activation_not_on_device",
            Self::NoActivation => "no_activation",
            Self::ScanCode => "invalid_scan_code",
            Self::MatchingNumber => "number_invalid",
            Self::Server { code, .. } => code,
            Self::Network(_) => "network",
            Self::BadAnswer(_) => "server_answer_invalid",
            Self::UnknownLoginState(_) => "login_state_unknown",
            Self::StorageUnavailable => "storage_unavailable",
            Self::StorageFull => "storage_full",
            Self::Storage(_) => "storage_failed",
        }
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Payload(e) => write!(f, "This is not an operation to approve: {e}."),
            Self::PayloadSignature { service } => write!(
                f,
                "This QR code was not made by {service}: its signature does not verify. Do not \
                 approve it."
            ),
            Self::ActivationCode(e) => write!(f, "The activation code is not valid: {e}."),
            Self::ActivationQr(e) => write!(f, "The activation QR code is not valid: {e}."),
            Self::PinLength(n) => write!(
                f,
                "A PIN has {MIN_PIN_LENGTH} to {MAX_PIN_LENGTH} characters; this one has {n}."
            ),
            Self::PinMismatch => f.write_str("The two PINs differ: type the same PIN twice."),
            Self::UnknownActivation(id) => {
                write!(f, "There is no activation {id} on this device.")
            }
            Self::NoActivation => f.write_str(
                "This device has no activated token yet: activate it from your account page first.",
            ),
            Self::ScanCode => {
                f.write_str("This is not a sign-in link: it has no scan code (…/token#scan=…).")
            }
            Self::MatchingNumber => {
                f.write_str("Type the two digits the sign-in page shows, then approve.")
            }
            Self::Server { message, .. } => f.write_str(message),
            Self::Network(e) => write!(f, "The server could not be reached: {e}."),
            Self::BadAnswer(e) => write!(f, "The server's answer was not understood: {e}."),
            Self::UnknownLoginState(name) => write!(
                f,
                "The server says the login is “{name}”, a state this page does not know: it \
                 cannot tell whether you are signed in. Start again, or update the page."
            ),
            Self::StorageUnavailable => f.write_str(
                "This browser does not let this page keep data (IndexedDB is missing or blocked: \
                 a private window, or site data blocked in the settings), so it cannot keep a \
                 token.",
            ),
            Self::StorageFull => f.write_str(
                "This browser's storage for this site is full, so no code was made: the token \
                 saves its counter before it shows a code. Free some space (other sites' data) \
                 and try again.",
            ),
            Self::Storage(e) => write!(f, "The token's storage failed: {e}."),
        }
    }
}

impl std::error::Error for TokenError {}

impl From<PayloadError> for TokenError {
    fn from(e: PayloadError) -> Self {
        TokenError::Payload(e)
    }
}

/// Checks a new PIN and its confirmation.
pub fn check_new_pin(pin: &str, again: &str) -> Result<(), TokenError> {
    let length = pin.chars().count();
    if !(MIN_PIN_LENGTH..=MAX_PIN_LENGTH).contains(&length) {
        return Err(TokenError::PinLength(length));
    }
    if pin != again {
        return Err(TokenError::PinMismatch);
    }
    Ok(())
}
