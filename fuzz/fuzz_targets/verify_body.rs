//! Any body for `POST /api/v1/operations/{id}/verify` (a typed code) against a pending payment
//! of a user with an active token: never a server error, every refusal in the API's error
//! shape, and no code the fuzzer makes up is accepted.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let target = qrauth_fuzz::target();
    let path = format!("/api/v1/operations/{}/verify", target.operation_id);
    let answer = target.post(&path, &[], body);
    answer.check();
    let verdict: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_ne!(verdict["valid"], true, "a made-up code was accepted");
});
