//! `qrauth-token`: the software token that lives in the browser, and the helpers a page needs
//! around it.
//!
//! Rust code (the qrauth app) uses the modules directly; JavaScript uses the npm package built
//! from the `js` feature, whose API is documented in `web/README.md`.

pub mod qr;

#[cfg(feature = "js")]
mod js;

pub use qr::{ErrorCorrection, QrError, QrMatrix, QrOptions, render_qr_svg};
/// Typed offline codes, shared with the server through `qrauth-core`.
pub use qrauth_core::{AuthCode, CodeEntry, CodeError};
