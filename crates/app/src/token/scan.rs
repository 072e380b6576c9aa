//! What a scanned QR code holds: the sizes at which pictures are decoded (by the decoder's own
//! wasm, `qrauth_token::scan`, loaded when a person first scans: [`super::scanner`]), and the
//! text sorted into what the token can do with it.

use std::fmt;

/// Camera frames are scaled so that their long side is at most this many pixels: the size the
/// camera is asked for, which bounds the work per frame whatever the camera gives.
pub const MAX_FRAME_SIDE: u32 = 1280;

/// No picture is decoded larger than this on its long side.
pub const MAX_PICTURE_SIDE: u32 = 2400;

/// The scales at which a picture of `width` × `height` is tried, in order, until one reads: first
/// at camera size (quick), then at its own size, then enlarged. The decoder finds a code only
/// when its modules are about four pixels or more, and a dense code in a screenshot (a version
/// 13 payment at 3.4 pixels a module) needs the enlargement.
pub fn picture_scales(width: u32, height: u32) -> Vec<f64> {
    let long = f64::from(width.max(height).max(1));
    let mut scales = vec![(f64::from(MAX_FRAME_SIDE) / long).min(1.0)];
    for scale in [1.0, 1.5, 2.0] {
        if long * scale <= f64::from(MAX_PICTURE_SIDE) && scale > scales[scales.len() - 1] {
            scales.push(scale);
        }
    }
    if long > f64::from(MAX_PICTURE_SIDE) {
        scales.push(f64::from(MAX_PICTURE_SIDE) / long);
    }
    scales
}

pub use qrauth_token::scan::ScanError;

/// What a scanned or pasted text asks the token to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scanned {
    /// A sign-in link, `https://…/token#scan=<code>`: attach to that login.
    Login(String),
    /// An offline operation's payload (lines separated by `\n`): review it.
    Offline(String),
    /// An activation QR, `CODE#signature`, or a bare activation code: activate with it.
    Activation(String),
}

/// Why a text is none of the things the token reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotForToken;

impl fmt::Display for NotForToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "This is not a qrauth code: the token reads sign-in links, payments to approve and \
             activation codes.",
        )
    }
}

impl Scanned {
    /// Sorts `text` by its shape; the token checks the content (signatures, checksums) later.
    pub fn classify(text: &str) -> Result<Self, NotForToken> {
        let trimmed = text.trim();
        if trimmed.contains("#scan=") {
            return Ok(Scanned::Login(trimmed.to_owned()));
        }
        // A payload keeps its exact bytes: its signature covers them. Anything on several
        // lines goes to the payload parser, which says what is wrong with it.
        if trimmed.contains('\n') {
            return Ok(Scanned::Offline(text.to_owned()));
        }
        let code = trimmed.split('#').next().unwrap_or_default();
        if code.len() == 23 && code.split('-').count() == 4 {
            return Ok(Scanned::Activation(trimmed.to_owned()));
        }
        Err(NotForToken)
    }
}
