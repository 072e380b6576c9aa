//! Any body for `POST /api/v1/session` (password sign-in): never a server error, every refusal
//! in the API's error shape.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    qrauth_fuzz::target()
        .post("/api/v1/session", &[], body)
        .check();
});
