//! Any text a camera may read: parsing never panics, and whatever parses keeps its signed bytes
//! a prefix of the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qrauth_core::OfflinePayload;

fuzz_target!(|text: &str| {
    if let Ok(payload) = OfflinePayload::parse(text) {
        assert!(text.as_bytes().starts_with(payload.signed_bytes()));
        let _ = payload.body();
    }
});
