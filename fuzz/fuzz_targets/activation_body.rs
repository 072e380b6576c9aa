//! Any body for `POST /api/v1/token/activations` (a token commits its key with an activation
//! code): never a server error, every refusal in the API's error shape.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    qrauth_fuzz::target()
        .post("/api/v1/token/activations", &[], body)
        .check();
});
