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
//!
//! Without the feature `std` only [`qr`] and [`code_input`] are there, and the crate needs no
//! `std`: that is the npm package's light entry, whose wasm then carries none of `std`'s panic
//! and formatting machinery (a panic is a bare trap there).

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "std")]
pub mod activation;
#[cfg(feature = "std")]
pub mod browser;
#[cfg(feature = "std")]
pub mod clock;
pub mod code_input;
#[cfg(feature = "std")]
pub mod countdown;
#[cfg(feature = "std")]
pub mod error;
#[cfg(feature = "std")]
pub mod health;
#[cfg(feature = "std")]
pub mod operations;
#[cfg(feature = "std")]
pub mod poll;
pub mod qr;
#[cfg(feature = "std")]
pub mod review;
#[cfg(feature = "std")]
pub mod scan;
#[cfg(feature = "std")]
pub mod sign_in;

#[cfg(any(feature = "js-page", feature = "js-scan"))]
mod js;

#[cfg(feature = "std")]
pub use activation::{CounterStanding, StoredActivation};
#[cfg(feature = "std")]
pub use browser::{LoginRequest, OfflineCode, SoftwareToken};
pub use code_input::CodeInput;
#[cfg(feature = "std")]
pub use code_input::CodeVerdict;
#[cfg(feature = "std")]
pub use error::TokenError;
pub use qr::{ErrorCorrection, QrError, QrMatrix, QrOptions, render_qr_svg};
/// Typed offline codes, shared with the server through `qrauth-core`.
pub use qrauth_core::{AuthCode, CodeEntry, CodeError};
#[cfg(feature = "std")]
pub use review::{DisplayField, DisplayFlags, OfflineOperation};

/// The light entry's wasm, built without `std`: a panic is a trap and nothing more. It has no
/// panic hook that could show a message, and the machinery to format one is most of what `std`
/// would add. (Its allocator is in `js`.)
#[cfg(all(not(feature = "std"), feature = "js-page", target_arch = "wasm32"))]
#[panic_handler]
fn trap(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
