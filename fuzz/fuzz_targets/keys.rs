//! Any Base64 text where a key or a counter is expected (what a server sends a token, and a
//! token sends a server): never a panic, and what decodes reads back the same from its own
//! encoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qrauth_core::counter::CtrData;
use qrauth_core::keys::{PrivateKey, PublicKey, SecretKey};

fuzz_target!(|text: &str| {
    if let Ok(key) = PublicKey::from_base64(text) {
        let again = PublicKey::from_base64(&key.to_base64()).unwrap();
        assert_eq!(again.to_uncompressed(), key.to_uncompressed());
    }
    if let Ok(ctr) = CtrData::from_base64(text) {
        assert_eq!(
            CtrData::from_base64(&ctr.to_base64()).unwrap().as_bytes(),
            ctr.as_bytes()
        );
    }
    if let Ok(key) = SecretKey::from_base64(text) {
        assert!(SecretKey::from_base64(&key.to_base64()).unwrap() == key);
    }
    if let Ok(key) = PrivateKey::from_java_bytes(text.as_bytes()) {
        let again = PrivateKey::from_java_bytes(&key.to_java_bytes()).unwrap();
        assert_eq!(
            again.public_key().to_uncompressed(),
            key.public_key().to_uncompressed()
        );
    }
    let _ = PrivateKey::from_base64(text);
});
