//! `qrauth-token`: the software token that lives in the browser, and the helpers a page needs
//! around it.
//!
//! Rust code (the qrauth app) uses the modules directly; JavaScript uses the npm package built
//! from the `js` feature, whose API is documented in `web/README.md`.
//!
//! - [`SoftwareToken`]: activation, activations kept in IndexedDB, offline codes, online login
//!   approval (browser only).
//! - [`StoredActivation`]: one activation and the cryptography done with it, pure Rust.
//! - [`OfflineOperation`]: a scanned payload as a person reads it.
//! - [`render_qr_svg`], [`CodeEntry`], [`CodeInput`]: QR codes and typed codes for pages.
//! - [`sign_in::LoginApi`]: a sign-in page's QR login, followed until a phone approves it
//!   ([`poll`], [`clock`]: the polling and the time it runs on); [`operations::OperationApi`]:
//!   offline sign-in and typed codes; [`countdown`], [`sign_in::LoginProgress`],
//!   [`CodeVerdict`]: what the pages say about them.

pub mod activation;
pub mod browser;
pub mod clock;
pub mod code_input;
pub mod countdown;
pub mod error;
pub mod health;
pub mod operations;
pub mod poll;
pub mod qr;
pub mod review;
pub mod scan;
pub mod sign_in;

#[cfg(any(feature = "js-page", feature = "js-scan"))]
mod js;

pub use activation::{CounterStanding, StoredActivation};
pub use browser::{LoginRequest, OfflineCode, SoftwareToken};
pub use code_input::{CodeInput, CodeVerdict};
pub use error::TokenError;
pub use qr::{ErrorCorrection, QrError, QrMatrix, QrOptions, render_qr_svg};
/// Typed offline codes, shared with the server through `qrauth-core`.
pub use qrauth_core::{AuthCode, CodeEntry, CodeError};
pub use review::{DisplayField, DisplayFlags, OfflineOperation};
