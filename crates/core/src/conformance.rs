//! Runs PowerAuth's official vector files (`{"description", "data": [{"input", "output"}]}`)
//! through this library: `qrauth conformance` and the tests use the same code.

use alloc::{format, string::String, string::ToString, vec::Vec};
use core::fmt;
use core::str::FromStr;

use serde_json::Value;

use crate::base64;
use crate::counter::CtrData;
use crate::ecdsa;
use crate::keys::{DerivedKeys, PrivateKey, PublicKey, SecretKey, master_secret};
use crate::signature::{
    DEFAULT_COMPONENT_LENGTH, FactorKeys, FactorType, base64_code, decimal_code,
    signature_components,
};

/// A kind of vector file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VectorKind {
    /// `signatures-offline.json`: decimal codes from factor keys, counter and message.
    SignaturesDecimal,
    /// The same schema with Base64 (protocol 3.1 online) signatures in `output.signature`.
    SignaturesBase64,
    /// `compute-derived-keys.json`: the KDF from the master secret.
    DerivedKeys,
    /// `compute-master-secret-key.json`: ECDH and fold, both directions.
    MasterSecret,
    /// `verify-activation-data-signature-v3.json`: ECDSA P-256 DER over UTF-8 text.
    Ecdsa,
}

impl VectorKind {
    /// Every kind, with its command-line name.
    pub const ALL: [(&'static str, VectorKind); 5] = [
        ("signatures-decimal", VectorKind::SignaturesDecimal),
        ("signatures-base64", VectorKind::SignaturesBase64),
        ("derived-keys", VectorKind::DerivedKeys),
        ("master-secret", VectorKind::MasterSecret),
        ("ecdsa", VectorKind::Ecdsa),
    ];
}

impl FromStr for VectorKind {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        Self::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, kind)| *kind)
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|(n, _)| *n).collect();
                format!(
                    "unknown vector kind {name:?}; kinds are {}",
                    names.join(", ")
                )
            })
    }
}

/// What a run found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Cases that gave the expected output.
    pub passed: usize,
    /// One line per case that did not: its index and why.
    pub failures: Vec<String>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for failure in &self.failures {
            writeln!(f, "FAIL {failure}")?;
        }
        write!(f, "{} passed, {} failed", self.passed, self.failures.len())
    }
}

/// Runs every case of a vector file. Fails only when the file itself is not a vector file.
pub fn run(kind: VectorKind, json: &str) -> Result<Report, String> {
    let file: Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    let cases = file
        .get("data")
        .and_then(Value::as_array)
        .ok_or("no \"data\" array: not a PowerAuth vector file")?;
    let mut report = Report::default();
    for (index, case) in cases.iter().enumerate() {
        let case = Case(case);
        match check(kind, &case) {
            Ok(()) => report.passed += 1,
            Err(why) => report.failures.push(format!("case {index}: {why}")),
        }
    }
    Ok(report)
}

struct Case<'a>(&'a Value);

impl Case<'_> {
    fn get(&self, part: &str, name: &str) -> Result<&str, String> {
        self.0
            .get(part)
            .and_then(|p| p.get(name))
            .and_then(Value::as_str)
            .ok_or_else(|| format!("no {part}.{name}"))
    }

    fn input(&self, name: &str) -> Result<&str, String> {
        self.get("input", name)
    }

    fn output(&self, name: &str) -> Result<&str, String> {
        self.get("output", name)
    }
}

fn expect_eq(what: &str, actual: &str, expected: &str) -> Result<(), String> {
    if actual == expected {
        Ok(())
    } else {
        Err(format!("{what}: got {actual}, expected {expected}"))
    }
}

fn secret(case: &Case, name: &str) -> Result<SecretKey, String> {
    SecretKey::from_base64(case.input(name)?).map_err(|e| format!("{name}: {e}"))
}

fn check(kind: VectorKind, case: &Case) -> Result<(), String> {
    match kind {
        VectorKind::SignaturesDecimal | VectorKind::SignaturesBase64 => {
            let keys = FactorKeys {
                possession: secret(case, "signaturePossessionKey")?,
                knowledge: secret(case, "signatureKnowledgeKey")?,
                biometry: secret(case, "signatureBiometryKey")?,
            };
            let factors = FactorType::from_name(case.input("signatureType")?)
                .ok_or("unknown signatureType")?;
            let ctr = CtrData::from_base64(case.input("counterData")?)
                .map_err(|e| format!("counterData: {e}"))?;
            let message = base64::decode(case.input("data")?).map_err(|e| format!("data: {e}"))?;
            let components = signature_components(&factors.keys(&keys), &ctr, &message);
            let signature = if kind == VectorKind::SignaturesBase64 {
                base64_code(&components)
            } else {
                let length = match case.input("signatureComponentLength") {
                    Ok(text) => text.parse().map_err(|_| "bad signatureComponentLength")?,
                    Err(_) => DEFAULT_COMPONENT_LENGTH,
                };
                decimal_code(&components, length).map_err(|e| e.to_string())?
            };
            expect_eq("signature", &signature, case.output("signature")?)
        }
        VectorKind::DerivedKeys => {
            let keys = DerivedKeys::from_master_secret(&secret(case, "masterSecretKey")?);
            for (name, key) in [
                ("signaturePossessionKey", &keys.possession),
                ("signatureKnowledgeKey", &keys.knowledge),
                ("signatureBiometryKey", &keys.biometry),
                ("transportKey", &keys.transport),
                ("vaultEncryptionKey", &keys.vault),
            ] {
                expect_eq(name, &key.to_base64(), case.output(name)?)?;
            }
            Ok(())
        }
        VectorKind::MasterSecret => {
            let private = |name| {
                PrivateKey::from_base64(case.input(name)?).map_err(|e| format!("{name}: {e}"))
            };
            let public = |name| {
                PublicKey::from_base64(case.input(name)?).map_err(|e| format!("{name}: {e}"))
            };
            let device = private("devicePrivateKey")?;
            let server = private("serverPrivateKey")?;
            let expected = case.output("masterSecretKey")?;
            expect_eq(
                "device side",
                &master_secret(&device, &public("serverPublicKey")?).to_base64(),
                expected,
            )?;
            expect_eq(
                "server side",
                &master_secret(&server, &public("devicePublicKey")?).to_base64(),
                expected,
            )?;
            expect_eq(
                "devicePublicKey",
                &device.public_key().to_base64(),
                case.input("devicePublicKey")?,
            )
        }
        VectorKind::Ecdsa => {
            let message = case.input("activationCode")?.as_bytes();
            let public = PublicKey::from_base64(case.input("masterPublicKey")?)
                .map_err(|e| format!("masterPublicKey: {e}"))?;
            let signature = base64::decode(case.output("activationSignature")?)
                .map_err(|e| format!("activationSignature: {e}"))?;
            ecdsa::verify_der(&public, message, &signature)
                .map_err(|e| format!("official signature: {e}"))?;
            // Our own signature with the same key must verify too (signatures are randomized
            // in PowerAuth, so they are compared by verifying, never bytewise).
            let private = PrivateKey::from_base64(case.input("masterPrivateKey")?)
                .map_err(|e| format!("masterPrivateKey: {e}"))?;
            if private.public_key() != public {
                return Err("masterPrivateKey does not match masterPublicKey".into());
            }
            ecdsa::verify_der(&public, message, &ecdsa::sign_der(&private, message))
                .map_err(|e| format!("our signature: {e}"))
        }
    }
}
