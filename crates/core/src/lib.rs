//! The qrauth protocol, pure Rust: no I/O, no browser, no async runtime.
//!
//! It builds for `wasm32-unknown-unknown` and native alike, so the server, the command line and
//! the browser token share one implementation of everything that must agree byte for byte.

pub mod code;

pub use code::{AuthCode, CodeEntry, CodeError};
