//! The worked example of spec §13.2, from QR text to code and back through verification.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use qrauth_core::ecdsa::SignatureError;
use qrauth_core::signature::{
    DEFAULT_LOOKAHEAD, FactorKeys, FactorType, OFFLINE_URI_ID, offline_code, verify_offline_code,
};
use qrauth_core::{CtrData, DerivedKeys, Field, KeyType, OfflinePayload, PublicKey, SecretKey};

const QR: &str = "5ff1b1ed-a3cc-45a3-8ab0-ed60950312b6
Payment
Please confirm this payment
A1*A100CZK*ICZ2730300000001165254011*D20180425*NZa večerní pivo \\* 2
B
OIIYX91Q7IC6TIo102NCtg==
1MEUCIQCQxzK9hsuD2+k51WZKB/nPRonAQ3OBtWpEIF0J8nc1qQIgdhljq82x7VKoUFjHquHd0gIK7czGwxg8m84Yrs+lENA=";

const SERVER_PUBLIC: &str =
    "BIB8OLOLcm9L7bu+5S6Qs6ZsdTS3psSEuL1pHhKoTw3k+iJcFQLYlHdy/bC5zNQo0ljILUP4lzlkgY7tNbwRCN8=";

fn keys() -> FactorKeys {
    let derived = DerivedKeys::from_master_secret(
        &SecretKey::from_base64("PCXvq5LWmjt/s3kJbbIvyQ==").unwrap(),
    );
    let keys = FactorKeys {
        possession: derived.possession,
        knowledge: derived.knowledge,
        biometry: derived.biometry,
    };
    assert_eq!(keys.possession.to_base64(), "hQIxwa1RGJUUyhxyaxRjww==");
    assert_eq!(keys.knowledge.to_base64(), "Z1Q+qecTgFzGSk7iaR5XYQ==");
    assert_eq!(keys.biometry.to_base64(), "0TUDnH73wgbEXNVII1n5hg==");
    keys
}

fn ctr(n: usize) -> CtrData {
    let mut ctr = CtrData::from_base64("FEIjl5pIangaV3KVYyUs4Q==").unwrap();
    for _ in 0..n {
        ctr = ctr.next();
    }
    ctr
}

#[test]
fn the_payload_parses_and_its_signature_verifies_over_the_exact_prefix() {
    let payload = OfflinePayload::parse(QR).unwrap();
    assert!(
        std::str::from_utf8(payload.signed_bytes())
            .unwrap()
            .ends_with("OIIYX91Q7IC6TIo102NCtg==\n1")
    );
    assert_eq!(payload.key_type, KeyType::Personalized);
    assert!(payload.flags.biometry);
    assert_eq!(
        payload.operation_data.fields[3],
        Field::Note("Za večerní pivo * 2".into())
    );
    assert_eq!(
        Field::grouped_iban("CZ2730300000001165254011"),
        "CZ27 3030 0000 0011 6525 4011"
    );
    let key = PublicKey::from_base64(SERVER_PUBLIC).unwrap();
    payload.verify_signature(&key).unwrap();
    // One changed byte of the signed text (the note's "2" becomes "3") is refused.
    let forged = OfflinePayload::parse(&QR.replace("pivo \\* 2", "pivo \\* 3")).unwrap();
    assert_eq!(forged.verify_signature(&key), Err(SignatureError::Mismatch));
}

#[test]
fn codes_at_the_first_three_counter_values() {
    let keys = keys();
    let message = OfflinePayload::parse(QR).unwrap().message(OFFLINE_URI_ID);
    assert!(String::from_utf8(message.clone()).unwrap().starts_with(
        "POST&L29wZXJhdGlvbi9hdXRob3JpemUvb2ZmbGluZQ==&OIIYX91Q7IC6TIo102NCtg==&NWZmMWIxZWQtYTNjYy00NWEzLThhYjAtZWQ2MDk1MDMxMmI2JkExKkExMDBDWksqSUNaMjczMDMwMDAwMDAwMTE2NTI1NDAxMSpEMjAxODA0MjUqTlphIHZlxI1lcm7DrSBwaXZvIFwqIDI=&offline"
    ));
    assert_eq!(ctr(1).to_base64(), "otnaxuz+bQsIwfoq8Tn3LA==");
    assert_eq!(ctr(2).to_base64(), "z37B+cfGNOvuX1MiuY/Dbg==");
    for (factors, n, length, expected) in [
        (FactorType::PossessionKnowledge, 0, 8, "24456606-24115264"),
        (FactorType::PossessionBiometry, 0, 8, "24456606-78950636"),
        (FactorType::PossessionKnowledge, 0, 4, "6606-5264"),
        (FactorType::PossessionKnowledge, 1, 8, "67828379-34100981"),
        (FactorType::PossessionKnowledge, 2, 8, "64094139-76244833"),
    ] {
        let code = offline_code(&keys, factors, &ctr(n), &message, length).unwrap();
        assert_eq!(
            code, expected,
            "{factors:?} at counter {n}, length {length}"
        );
    }
}

#[test]
fn verification_looks_ahead_and_stores_one_past_the_match() {
    let keys = keys();
    let message = OfflinePayload::parse(QR).unwrap().message(OFFLINE_URI_ID);
    let verify = |typed: &str, allow_biometry| {
        verify_offline_code(
            typed,
            &keys,
            &ctr(0),
            &message,
            allow_biometry,
            8,
            DEFAULT_LOOKAHEAD,
        )
        .unwrap()
    };
    let found = verify("64094139-76244833", false).unwrap();
    assert_eq!(found.factors, FactorType::PossessionKnowledge);
    assert_eq!(found.steps, 3);
    assert_eq!(found.next_ctr, ctr(3));
    assert_eq!(
        verify("24456606-78950636", false),
        None,
        "biometry not allowed"
    );
    assert_eq!(
        verify("24456606-78950636", true).unwrap().factors,
        FactorType::PossessionBiometry
    );
    assert_eq!(verify("24456606-24115265", true), None);
    // A code 20 steps ahead is still found; 21 is outside the window.
    let at =
        |n| offline_code(&keys, FactorType::PossessionKnowledge, &ctr(n), &message, 8).unwrap();
    assert_eq!(verify(&at(19), false).unwrap().steps, 20);
    assert_eq!(verify(&at(20), false), None);
}

#[test]
fn data_signed_as_powerauth_signs_it_is_the_worked_example_with_a_new_signature() {
    // PowerAuth's create methods take DATA as it is (spec §4.2): the example's first five lines.
    let data = QR.lines().take(5).collect::<Vec<_>>().join("\n");
    let key = qrauth_core::PrivateKey::from_random(&[42; 32]).unwrap();
    let nonce: [u8; 16] = qrauth_core::base64::decode("OIIYX91Q7IC6TIo102NCtg==")
        .unwrap()
        .try_into()
        .unwrap();
    let signed = qrauth_core::sign_data(&data, None, &nonce, KeyType::Personalized, &key);
    let payload = OfflinePayload::parse(&signed).unwrap();
    assert_eq!(
        payload.signed_bytes(),
        OfflinePayload::parse(QR).unwrap().signed_bytes(),
        "the same bytes signed as the example's"
    );
    assert_eq!(payload.verify_signature(&key.public_key()), Ok(()));
    assert_eq!(
        payload.message(OFFLINE_URI_ID),
        OfflinePayload::parse(QR).unwrap().message(OFFLINE_URI_ID)
    );

    let with_totp = qrauth_core::sign_data(&data, Some("12345678"), &nonce, KeyType::Master, &key);
    let payload = OfflinePayload::parse(&with_totp).unwrap();
    assert_eq!(payload.totp.as_deref(), Some("12345678"));
    assert_eq!(payload.key_type, KeyType::Master);
    assert!(with_totp.starts_with(&format!("{data}\n12345678\nOIIYX91Q7IC6TIo102NCtg==\n0")));
}
