//! The qrauth protocol, pure Rust: no I/O, no browser, no async runtime.
//!
//! It builds for `wasm32-unknown-unknown` and native alike, so the server, the command line and
//! the browser token share one implementation of everything that must agree byte for byte with
//! PowerAuth 3.x (`docs/protocol.md`). Randomness comes from the caller: core has no random
//! source of its own.
//!
//! It needs no `std`, only `alloc`: the npm package's light entry (QR codes and typed codes)
//! builds without `std`, which leaves its panic and formatting machinery out of that wasm.

#![no_std]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod activation;
pub mod base64;
pub mod code;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod counter;
pub mod ecdsa;
pub mod frame;
pub mod keys;
pub mod login;
pub mod operation;
pub mod payload;
pub mod signature;
pub mod text;
pub mod totp;
#[cfg(feature = "wire")]
pub mod wire;

pub use activation::{ActivationCode, ActivationStatus, FailedAttempts, fingerprint};
pub use code::{AuthCode, CodeEntry, CodeError, ShownCharacter};
pub use counter::CtrData;
pub use keys::{DerivedKeys, KeyError, PinProtectedKey, PrivateKey, PublicKey, SecretKey};
pub use login::{Denial, LoginRefusal, LoginState, LoginStep};
pub use operation::{Field, OperationData};
pub use payload::{Flags, KeyType, OfflinePayload, sign_data};
pub use signature::{FactorKeys, FactorType, SignatureFormat, SignatureMatch};
