//! Anything typed into the activation-code field or scanned from an activation QR: never
//! panics, and a code that parses reads back the same from its canonical form.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qrauth_core::activation::{ActivationCode, verify_activation_qr};
use qrauth_core::keys::PrivateKey;

fuzz_target!(|input: &str| {
    if let Ok(code) = ActivationCode::parse(input) {
        assert_eq!(ActivationCode::parse(code.as_str()).as_ref(), Ok(&code));
    }
    if let Ok(master) = PrivateKey::from_random(&[7; 32]) {
        let _ = verify_activation_qr(input, &master.public_key());
    }
});
