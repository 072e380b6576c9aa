//! The official PowerAuth vectors and the transcribed cases in `../shared/vectors/powerauth/`,
//! read from there (never copied into the project).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::path::PathBuf;

use qrauth_core::conformance::{self, VectorKind};
use qrauth_core::counter::CtrData;
use qrauth_core::keys::{SecretKey, kdf, kdf_internal};
use qrauth_core::signature::signature_base_string;
use qrauth_core::totp::{TotpAlgorithm, proximity_totp, totp};
use qrauth_core::{base64, keys};
use serde_json::Value;

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/powerauth")
}

fn read(name: &str) -> String {
    let path = vectors_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the vectors live in ../shared beside the project)",
            path.display()
        )
    })
}

fn cases(name: &str) -> Vec<Value> {
    let file: Value = serde_json::from_str(&read(name)).unwrap();
    file["data"].as_array().unwrap().clone()
}

fn run(kind: VectorKind, file: &str, expected_cases: usize) {
    let report = conformance::run(kind, &read(file)).unwrap();
    assert!(report.failures.is_empty(), "{file}:\n{report}");
    assert_eq!(report.passed, expected_cases, "{file}");
}

#[test]
fn all_200_offline_signatures() {
    run(
        VectorKind::SignaturesDecimal,
        "signatures-offline.json",
        200,
    );
}

#[test]
fn derived_keys() {
    run(VectorKind::DerivedKeys, "compute-derived-keys.json", 20);
}

#[test]
fn master_secrets_from_both_sides() {
    run(
        VectorKind::MasterSecret,
        "compute-master-secret-key.json",
        20,
    );
}

#[test]
fn ecdsa_signatures() {
    run(
        VectorKind::Ecdsa,
        "verify-activation-data-signature-v3.json",
        20,
    );
}

#[test]
fn a_wrong_expected_value_is_reported_as_a_failure() {
    let tampered = read("signatures-offline.json").replacen("\"6766\"", "\"6767\"", 1);
    let report = conformance::run(VectorKind::SignaturesDecimal, &tampered).unwrap();
    assert_eq!((report.passed, report.failures.len()), (199, 1));
    assert!(report.failures[0].starts_with("case 0: signature: got 6766, expected 6767"));
}

#[test]
fn signature_base_strings() {
    let file: Value = serde_json::from_str(&read("signature-base-string-cases.json")).unwrap();
    let all = file["data"].as_array().unwrap();
    assert_eq!(all.len(), 9);
    for case in all {
        let input = &case["input"];
        let nonce = input["nonce_b64"]
            .as_str()
            .map(|n| base64::decode(n).unwrap());
        let base = signature_base_string(
            input["httpMethod"].as_str(),
            input["requestUri"].as_str(),
            nonce.as_deref(),
            input["data_utf8"].as_str().map(str::as_bytes),
        );
        assert_eq!(
            base,
            case["output"]["signatureBaseString"].as_str().unwrap()
        );
    }
    // The mobile SDK appends the application secret to the base string.
    let mobile = &file["mobile_sdk_normalization_case"];
    let input = &mobile["input"];
    let base = signature_base_string(
        input["method"].as_str(),
        input["uri"].as_str(),
        Some(&base64::decode(input["nonce_b64"].as_str().unwrap()).unwrap()),
        Some(input["body"].as_str().unwrap().as_bytes()),
    );
    // An empty body is an empty segment, exactly like an absent one.
    assert_eq!(
        format!("{base}&{}", input["app_secret"].as_str().unwrap()),
        mobile["output"]["normalized_data"].as_str().unwrap()
    );
}

#[test]
fn status_blob_iv_is_kdf_internal_of_challenge_and_nonce() {
    let all = cases("activation-status-blob-iv.json");
    assert_eq!(all.len(), 32);
    for case in all {
        let input = &case["input"];
        let transport = SecretKey::from_base64(input["transportKey"].as_str().unwrap()).unwrap();
        let mut data = base64::decode(input["challenge"].as_str().unwrap()).unwrap();
        data.extend(base64::decode(input["nonce"].as_str().unwrap()).unwrap());
        let iv = kdf_internal(&kdf(&transport, 3000), &data);
        assert_eq!(iv.to_base64(), case["output"]["iv"].as_str().unwrap());
    }
}

#[test]
fn counter_hash_after_the_given_distance() {
    let all = cases("activation-status-blob-data.json");
    assert_eq!(all.len(), 8);
    for case in all {
        let (input, output) = (&case["input"], &case["output"]);
        let transport = SecretKey::from_base64(input["transportKey"].as_str().unwrap()).unwrap();
        let mut ctr = CtrData::from_base64(input["ctrData"].as_str().unwrap()).unwrap();
        let distance: usize = output["counterDistance"].as_str().unwrap().parse().unwrap();
        for _ in 0..distance {
            ctr = ctr.next();
        }
        assert_eq!(
            base64::encode(&ctr.status_hash(&transport)),
            output["ctrDataHash"].as_str().unwrap()
        );
    }
}

#[test]
fn rfc_6238_table() {
    let table = read("totp-rfc6238-data.csv");
    let mut checked = 0;
    for line in table.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let time: u64 = cells[0].parse().unwrap();
        let algorithm = match cells[4] {
            "HmacSHA256" => TotpAlgorithm::Sha256,
            "HmacSHA512" => TotpAlgorithm::Sha512,
            other => panic!("unexpected algorithm {other}"),
        };
        let seed: Vec<u8> = (0..cells[5].len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&cells[5][i..i + 2], 16).unwrap())
            .collect();
        assert_eq!(
            totp(&seed, time, 30, 8, algorithm).unwrap(),
            cells[3],
            "{line}"
        );
        // The proximity line the server writes: HMAC-SHA256, 8 digits, for the step's counter.
        if algorithm == TotpAlgorithm::Sha256 {
            assert_eq!(proximity_totp(&seed, time / 30), cells[3], "{line}");
        }
        checked += 1;
    }
    assert!(checked >= 12, "only {checked} rows");
}

#[test]
fn fold_is_xor_of_halves() {
    let mut bytes = [0u8; 32];
    bytes[0] = 0xf0;
    bytes[16] = 0x0f;
    assert_eq!(keys::fold16(&bytes)[0], 0xff);
}

#[test]
fn official_activation_codes_pass_the_checksum_and_their_qr_verifies() {
    use qrauth_core::activation::{ActivationCode, verify_activation_qr};
    use qrauth_core::keys::PublicKey;
    let cases = cases("verify-activation-data-signature-v3.json");
    assert!(cases.len() >= 3);
    for case in cases {
        let code = case["input"]["activationCode"].as_str().unwrap();
        assert_eq!(ActivationCode::parse(code).unwrap().as_str(), code);
        let master =
            PublicKey::from_base64(case["input"]["masterPublicKey"].as_str().unwrap()).unwrap();
        let signature = case["output"]["activationSignature"].as_str().unwrap();
        let qr = format!("{code}#{signature}");
        assert_eq!(verify_activation_qr(&qr, &master).unwrap().as_str(), code);
        let forged = format!(
            "{}#{signature}",
            ActivationCode::from_random([9; 10]).as_str()
        );
        assert!(verify_activation_qr(&forged, &master).is_err());
    }
}
