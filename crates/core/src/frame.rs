//! The animated sign-in QR (`docs/security.md`, "Relayed QR codes"). A login's QR changes every
//! second: each frame is the login's link followed by `.<step>.<mac>`, where `step` counts the
//! seconds since the server made the login and `mac` is HMAC-SHA256 of the step under a secret
//! that only the page showing the QR holds (truncated to 64 bits, URL-safe Base64). The server
//! accepts a scan only of a frame it can verify and that is at most a few seconds old, so a
//! photo, a screenshot or a forwarded picture of the QR signs nobody in: only a live relay of
//! the screen would.
//!
//! The page counts steps on its monotonic clock from the server's answer, so a wrong wall clock
//! on either side does not matter; the server counts them from the login's creation.

use alloc::{format, string::String};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::base64;

/// How long each frame shows.
pub const FRAME_MS: u64 = 1_000;

/// Bytes of the HMAC a frame carries. Frames are checked online, one guess per request under
/// the server's rate limit, so 64 bits leave nothing to guess; they keep the QR small.
pub const MAC_BYTES: usize = 8;

/// How many seconds old a scanned frame may be by default: time for a camera to focus and a
/// phone to send it on a slow network, too little to pass a picture on.
pub const DEFAULT_WINDOW_SECONDS: u64 = 5;

/// How many steps a frame may be ahead of the server's count: the page starts counting when the
/// answer arrives, after the server did, so a genuine frame is never more than a rounding ahead.
pub const AHEAD_STEPS: u64 = 1;

/// The longest step text accepted (a login lasting over 30 years is not one).
const MOST_STEP_DIGITS: usize = 10;

/// The page's secret of one login, from which it makes the frames. Travels as URL-safe Base64.
#[derive(Clone, PartialEq, Eq)]
pub struct FrameSecret([u8; 32]);

impl core::fmt::Debug for FrameSecret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("FrameSecret(<hidden>)")
    }
}

impl FrameSecret {
    /// Wraps 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        FrameSecret(bytes)
    }

    /// Reads the secret as the API sends it (`qrSecret`).
    pub fn from_text(text: &str) -> Option<Self> {
        let bytes = base64::decode_url(text).ok()?;
        Some(FrameSecret(bytes.try_into().ok()?))
    }

    /// The secret as the API sends it.
    pub fn to_text(&self) -> String {
        base64::encode_url(&self.0)
    }

    /// The MAC of frame `step`.
    pub fn mac(&self, step: u64) -> [u8; MAC_BYTES] {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!());
        mac.update(&step.to_be_bytes());
        let full = mac.finalize().into_bytes();
        let mut truncated = [0u8; MAC_BYTES];
        truncated.copy_from_slice(&full[..MAC_BYTES]);
        truncated
    }
}

/// The two digits (10 to 99) that the page shows once a token scanned its login, and that the
/// person types on the token before Approve (number matching): derived from the login's secret,
/// so the server keeps nothing more and the token, which never has the secret, cannot know them.
pub fn matching_number(secret: &FrameSecret) -> String {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(&secret.0).unwrap_or_else(|_| unreachable!());
    mac.update(b"number matching");
    let bytes = mac.finalize().into_bytes();
    let value = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    format!("{}", 10 + value % 90)
}

/// The step a page shows `elapsed_ms` after the login was made.
pub fn step_at(elapsed_ms: u64) -> u64 {
    elapsed_ms / FRAME_MS
}

/// A login's QR as its page draws it: the link, and the secret that makes its frames.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginQr {
    /// The link without a frame, `https://…/token#scan=<code>`.
    link: String,
    secret: FrameSecret,
}

impl LoginQr {
    /// The QR of a login whose first frame is `first_frame` (the API's `qrText`) and whose
    /// secret is `secret` (`qrSecret`); `None` if the frame is not one.
    pub fn new(first_frame: &str, secret: &str) -> Option<Self> {
        let (link, scan) = first_frame.rsplit_once("#scan=")?;
        let frame = ScannedFrame::parse(scan).ok()?;
        Some(LoginQr {
            link: format!("{link}#scan={}", frame.scan_code),
            secret: FrameSecret::from_text(secret)?,
        })
    }

    /// The login's link with its secret, for the server that makes both.
    pub fn from_parts(link: String, secret: FrameSecret) -> Self {
        LoginQr { link, secret }
    }

    /// What the QR shows at `step`: the link, the step and its MAC.
    pub fn frame(&self, step: u64) -> String {
        format!(
            "{}.{step}.{}",
            self.link,
            base64::encode_url(&self.secret.mac(step))
        )
    }
}

/// Why a scanned frame is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The scan code carries no frame: a link made without the page, not a live QR.
    Missing,
    /// The frame is not `<code>.<step>.<mac>` with a decimal step and a whole MAC.
    Malformed,
    /// The MAC is not this login's for that step: made up, or taken from another login.
    Forged,
    /// The frame is older than the window: a picture of the QR, not the QR.
    Stale,
    /// The frame claims a step the login has not reached.
    Future,
}

impl FrameError {
    /// A stable name, as the API's error `code`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Missing => "qr_frame_missing",
            Self::Malformed => "qr_frame_malformed",
            Self::Forged => "qr_frame_forged",
            Self::Stale => "qr_frame_stale",
            Self::Future => "qr_frame_future",
        }
    }

    /// What it means for the person holding the phone.
    pub fn message(self) -> &'static str {
        match self {
            Self::Missing | Self::Malformed => {
                "This is not a live sign-in code: scan the code on the screen itself."
            }
            Self::Forged => {
                "This code was not made by the sign-in page it names: scan the code on the screen itself."
            }
            Self::Stale => {
                "This code is from a picture or a screenshot: scan the code on the screen itself."
            }
            Self::Future => {
                "This code is ahead of the sign-in it names: scan the code on the screen itself."
            }
        }
    }
}

impl core::fmt::Display for FrameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.message())
    }
}

/// A scan code as a token reads it from a frame: `<code>.<step>.<mac>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScannedFrame<'a> {
    /// The login's scan code, which names the login.
    pub scan_code: &'a str,
    /// The frame's step.
    pub step: u64,
    /// The frame's MAC.
    pub mac: [u8; MAC_BYTES],
}

impl<'a> ScannedFrame<'a> {
    /// Reads a scan code with its frame.
    pub fn parse(text: &'a str) -> Result<Self, FrameError> {
        let mut parts = text.rsplitn(3, '.');
        let (Some(mac), Some(step), Some(scan_code)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(FrameError::Missing);
        };
        let url_safe = |s: &str| {
            s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if scan_code.is_empty()
            || !url_safe(scan_code)
            || step.is_empty()
            || step.len() > MOST_STEP_DIGITS
            || !step.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(FrameError::Malformed);
        }
        let step = step.parse().map_err(|_| FrameError::Malformed)?;
        let mac = base64::decode_url(mac)
            .ok()
            .and_then(|bytes| <[u8; MAC_BYTES]>::try_from(bytes).ok())
            .ok_or(FrameError::Malformed)?;
        Ok(ScannedFrame {
            scan_code,
            step,
            mac,
        })
    }

    /// Whether this frame is one `secret` made, whatever its age.
    pub fn check_mac(&self, secret: &FrameSecret) -> Result<(), FrameError> {
        if bool::from(self.mac.ct_eq(&secret.mac(self.step))) {
            Ok(())
        } else {
            Err(FrameError::Forged)
        }
    }

    /// Whether this frame may be scanned at the login's step `now`: made by `secret`, at most
    /// `window` steps old and not ahead of `now` by more than [`AHEAD_STEPS`].
    pub fn check(&self, secret: &FrameSecret, now: u64, window: u64) -> Result<(), FrameError> {
        self.check_mac(secret)?;
        if self.step > now.saturating_add(AHEAD_STEPS) {
            Err(FrameError::Future)
        } else if self.step.saturating_add(window) < now {
            Err(FrameError::Stale)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::borrow::ToOwned;

    fn secret(byte: u8) -> FrameSecret {
        FrameSecret::from_bytes([byte; 32])
    }

    fn scan_of(frame: &str) -> &str {
        frame.split_once("#scan=").unwrap().1
    }

    #[test]
    fn a_frame_reads_back_and_checks_within_its_window() {
        let qr = LoginQr::from_parts(
            "https://login.example.com/token#scan=abc_-9".into(),
            secret(7),
        );
        let frame = qr.frame(12);
        assert!(frame.starts_with("https://login.example.com/token#scan=abc_-9.12."));
        let scanned = ScannedFrame::parse(scan_of(&frame)).unwrap();
        assert_eq!((scanned.scan_code, scanned.step), ("abc_-9", 12));
        for now in 11..=17 {
            assert_eq!(scanned.check(&secret(7), now, 5), Ok(()), "now {now}");
        }
        assert_eq!(scanned.check(&secret(7), 18, 5), Err(FrameError::Stale));
        assert_eq!(scanned.check(&secret(7), 10, 5), Err(FrameError::Future));
        assert_eq!(scanned.check(&secret(8), 12, 5), Err(FrameError::Forged));
    }

    #[test]
    fn the_page_makes_the_frames_the_server_made_from_the_first_one() {
        let server = LoginQr::from_parts("http://127.0.0.1:8080/token#scan=code".into(), secret(1));
        let page = LoginQr::new(&server.frame(0), &secret(1).to_text()).unwrap();
        for step in [0, 1, 9, 10, 119, u64::from(u32::MAX)] {
            assert_eq!(page.frame(step), server.frame(step));
        }
        assert_eq!(
            LoginQr::new("http://x/token#scan=code", &secret(1).to_text()),
            None
        );
        assert_eq!(LoginQr::new(&server.frame(0), "short"), None);
    }

    #[test]
    fn the_matching_number_is_two_digits_of_the_login_and_differs_between_logins() {
        let numbers: alloc::collections::BTreeSet<String> =
            (0..=255).map(|b| matching_number(&secret(b))).collect();
        assert!(
            numbers
                .iter()
                .all(|n| n.len() == 2 && n.parse::<u32>().is_ok_and(|v| (10..100).contains(&v)))
        );
        assert!(
            numbers.len() > 50,
            "{} distinct numbers of 256 logins",
            numbers.len()
        );
        assert_eq!(matching_number(&secret(9)), matching_number(&secret(9)));
    }

    #[test]
    fn every_other_shape_is_refused_by_name() {
        let good =
            scan_of(&LoginQr::from_parts("h#scan=c0de".into(), secret(3)).frame(4)).to_owned();
        let (head, mac) = good.rsplit_once('.').unwrap();
        assert_eq!(ScannedFrame::parse("c0de"), Err(FrameError::Missing));
        assert_eq!(ScannedFrame::parse("c0de.4"), Err(FrameError::Missing));
        for bad in [
            format!("{head}.{}", &mac[..mac.len() - 1]),
            format!("{head}.{mac}A"),
            format!("{head}."),
            format!("c0de..{mac}"),
            format!("c0de.-4.{mac}"),
            format!("c0de.4x.{mac}"),
            format!("c0de.99999999999.{mac}"),
            format!("c0de.18446744073709551616.{mac}"),
            format!(".4.{mac}"),
            format!("c0/de.4.{mac}"),
            format!("c0.de.4.{mac}"),
        ] {
            assert_eq!(
                ScannedFrame::parse(&bad),
                Err(FrameError::Malformed),
                "{bad}"
            );
        }
        let mut flipped = ScannedFrame::parse(&good).unwrap();
        flipped.mac[0] ^= 1;
        assert_eq!(flipped.check(&secret(3), 4, 5), Err(FrameError::Forged));
        let mut moved = ScannedFrame::parse(&good).unwrap();
        moved.step = 5;
        assert_eq!(moved.check(&secret(3), 5, 5), Err(FrameError::Forged));
    }
}
