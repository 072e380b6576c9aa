//! A phone's software token: qrauth-token's activation logic, held in memory. The counter
//! moves before a code or signature is handed out, as the browser token saves it first.

use std::time::Duration;

use qrauth_core::OfflinePayload;
use qrauth_core::keys::{PrivateKey, PublicKey};
use qrauth_core::wire::{ApplicationInfo, CommitRequest};
use qrauth_token::StoredActivation;
use qrauth_token::activation::NewActivation;

use crate::http::{Client, Failed};

/// The PIN of every token the harness activates.
pub const PIN: &str = "2468";
/// A PIN that is not it.
pub const WRONG_PIN: &str = "1357";

/// An activated token.
pub struct Token {
    stored: StoredActivation,
}

impl Token {
    /// Activates with the text of an activation QR: checks its signature with the server's
    /// master key, commits a new device key, and derives the factor keys.
    pub async fn activate(
        client: &Client,
        activation_qr: &str,
        name: &str,
    ) -> Result<Token, String> {
        let wait = Duration::from_secs(30);
        let application = client
            .send("GET", "/api/v1/application", &[], None, wait)
            .await
            .map_err(|e| e.to_string())?
            .answer::<ApplicationInfo>()?;
        let master = PublicKey::from_base64(&application.master_public_key)
            .map_err(|e| format!("master key: {e}"))?;
        let code = qrauth_core::activation::verify_activation_qr(activation_qr, &master)
            .map_err(|e| format!("activation QR: {e}"))?;
        let device = PrivateKey::from_random(&random()?).map_err(|e| e.to_string())?;
        let body = serde_json::to_string(&CommitRequest {
            activation_code: code.as_str().to_owned(),
            device_public_key: device.public_key().to_base64(),
            device_name: Some(name.to_owned()),
        })
        .map_err(|e| e.to_string())?;
        let reply = client
            .send(
                "POST",
                "/api/v1/token/activations",
                &[],
                Some(body.as_bytes()),
                wait,
            )
            .await
            .map_err(|e: Failed| e.to_string())?;
        if reply.status != 201 {
            return Err(format!("commit: {}", reply.describe()));
        }
        let answer = serde_json::from_slice(&reply.body).map_err(|e| e.to_string())?;
        let stored = StoredActivation::derive(NewActivation {
            server: "http://127.0.0.1",
            device: &device,
            answer,
            device_name: name,
            service_name: "qrauth",
            pin: PIN,
            salt: random()?,
            now: 0.0,
        })
        .map_err(|e| e.to_string())?;
        Ok(Token { stored })
    }

    /// The activation's id.
    pub fn activation_id(&self) -> &str {
        &self.stored.activation_id
    }

    /// The counter the next code or signature uses.
    pub fn counter(&self) -> u64 {
        self.stored.counter
    }

    /// Checks that `payload` was signed by the server and computes the code the token shows
    /// (`1234-5678-9012-3456`) with `pin`.
    pub fn offline_code(&mut self, payload: &str, pin: &str) -> Result<String, String> {
        let payload = OfflinePayload::parse(payload).map_err(|e| e.to_string())?;
        self.stored
            .check_payload(&payload)
            .map_err(|e| e.to_string())?;
        let code = self
            .stored
            .offline_code(&payload, pin)
            .map_err(|e| e.to_string())?;
        self.advance()?;
        Ok(code.display())
    }

    /// The `X-PowerAuth-Authorization` value for `body` sent to `uri_id`, signed with `pin`.
    pub fn sign(&mut self, uri_id: &str, body: &[u8], pin: &str) -> Result<String, String> {
        let value = self
            .stored
            .sign_with_pin(uri_id, body, pin, &random()?)
            .map_err(|e| e.to_string())?;
        self.advance()?;
        Ok(value)
    }

    fn advance(&mut self) -> Result<(), String> {
        self.stored = self.stored.advanced().map_err(|e| e.to_string())?;
        Ok(())
    }
}

/// Random bytes from the operating system.
pub fn random<const N: usize>() -> Result<[u8; N], String> {
    qrauth_server::secrets::random::<N>().map_err(|e| e.to_string())
}
