//! Any body for `POST /api/v1/operations` (a payment or an offline sign-in): never a server
//! error, every refusal in the API's error shape, and what is created has an offline payload.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let answer = qrauth_fuzz::target().post("/api/v1/operations", &[], body);
    answer.check();
    if answer.status == 201 {
        let created: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
        let payload = created["payload"].as_str().unwrap();
        assert!(
            qrauth_core::OfflinePayload::parse(payload).is_ok(),
            "{payload}"
        );
    }
});
