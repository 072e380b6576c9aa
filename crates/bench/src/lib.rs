//! What the benchmarks share: the inputs of spec §13.2's worked example, read from the
//! specification itself (`../shared/spec/powerauth-offline.md`), never copied into the project.

use std::path::{Path, PathBuf};

/// The specification, beside the project.
pub fn spec_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec/powerauth-offline.md")
}

/// The worked example of §13.2: its QR payload (268 bytes, key type 1) and the
/// `KEY_SERVER_PUBLIC` it verifies with.
#[derive(Clone, Debug)]
pub struct WorkedExample {
    /// The payload as the QR carries it.
    pub payload: String,
    /// Base64 of the public key that signed it.
    pub server_public: String,
}

impl WorkedExample {
    /// Reads the example from the text of the specification.
    pub fn from_spec(spec: &str) -> Result<Self, String> {
        let section = spec
            .split("### 13.2")
            .nth(1)
            .ok_or("the specification has no §13.2")?;
        let block = section
            .split("- QR (KT=1):")
            .nth(1)
            .and_then(|rest| rest.split("```").nth(1))
            .ok_or("§13.2 has no QR block")?;
        let payload = block
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        let server_public = section
            .split("KEY_SERVER_PUBLIC = ")
            .nth(1)
            .and_then(|rest| rest.split('`').next())
            .ok_or("§13.2 names no KEY_SERVER_PUBLIC")?
            .to_owned();
        Ok(WorkedExample {
            payload,
            server_public,
        })
    }

    /// Reads the example from the specification beside the project.
    pub fn load() -> Result<Self, String> {
        let path = spec_path();
        let spec = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::from_spec(&spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worked_example_is_the_signed_268_byte_payment() {
        let example = WorkedExample::load().unwrap();
        assert_eq!(example.payload.len(), 268);
        let payload = qrauth_core::OfflinePayload::parse(&example.payload).unwrap();
        let key = qrauth_core::PublicKey::from_base64(&example.server_public).unwrap();
        payload.verify_signature(&key).unwrap();
    }
}
