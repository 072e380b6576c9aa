//! Any body for the token's login endpoints (attach, deny, approve with any
//! `X-PowerAuth-Authorization` header) against a login it has scanned: never a server error,
//! every refusal in the API's error shape, and nothing approves without a valid signature.
//!
//! The first byte picks the endpoint; for approve, the input up to the first newline is the
//! header and the rest the body.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let target = qrauth_fuzz::target();
    let login = &target.login_id;
    match selector % 3 {
        0 => target
            .post("/api/v1/token/logins/attach", &[], rest)
            .check(),
        1 => target
            .post(&format!("/api/v1/token/logins/{login}/deny"), &[], rest)
            .check(),
        _ => {
            let (header, body) = match rest.iter().position(|&b| b == b'\n') {
                Some(at) => (&rest[..at], &rest[at + 1..]),
                None => (rest, &[][..]),
            };
            let path = format!("/api/v1/token/logins/{login}/approve");
            let answer = target.post(&path, &[("x-powerauth-authorization", header)], body);
            answer.check();
            assert_ne!(answer.status, 200, "approved without a valid signature");
        }
    }
});
