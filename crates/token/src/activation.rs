//! One activation as the token keeps it, and the cryptography done with it: the knowledge key
//! only under the PIN (spec §3.3), the counter advanced before anything signed leaves, codes
//! and signed requests (spec §6–7).

use qrauth_core::keys::{DerivedKeys, PinProtectedKey, PrivateKey, PublicKey, SecretKey};
use qrauth_core::payload::KeyType;
use qrauth_core::signature::{
    DEFAULT_COMPONENT_LENGTH, OFFLINE_URI_ID, authorization_header, base64_code, decimal_code,
    signature_components, signed_message,
};
use qrauth_core::wire::Committed;
use qrauth_core::{AuthCode, CtrData, FactorType, OfflinePayload, base64, fingerprint};
use serde::{Deserialize, Serialize};

use crate::TokenError;

/// How many codes before the server's look-ahead runs out the token starts to warn.
pub const WARN_BEFORE_LOOKAHEAD: u64 = 5;

/// An activation as stored in IndexedDB: everything needed to make codes, nothing that lets
/// anyone test a PIN. Keys are Base64.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredActivation {
    /// The server's id of the activation (the IndexedDB key).
    pub activation_id: String,
    /// The API origin this activation belongs to, `https://login.example.com`.
    pub server: String,
    /// The user the server activated.
    pub user: String,
    /// The name the token gave itself.
    pub device_name: String,
    /// The service name the server gave.
    pub service_name: String,
    /// The eight digits both sides showed at activation (spec §3.4).
    pub fingerprint: String,
    /// `KEY_SIGNATURE_POSSESSION`.
    pub possession_key: String,
    /// The PBKDF2 salt of the PIN key.
    pub knowledge_salt: String,
    /// `KEY_SIGNATURE_KNOWLEDGE` encrypted under the PIN key: any PIN decrypts it, only the
    /// right one to the right key.
    pub knowledge_key: String,
    /// `KEY_SERVER_PUBLIC`: checks key type 1 payloads.
    pub server_public_key: String,
    /// `KEY_SERVER_MASTER_PUBLIC`: checks key type 0 payloads.
    pub master_public_key: String,
    /// The application secret of online signatures.
    pub application_secret: String,
    /// The counter data of the next signature.
    pub ctr_data: String,
    /// How many times the counter has moved since activation.
    pub counter: u64,
    /// The server's counter when the token last heard it.
    pub confirmed_counter: u64,
    /// The server's look-ahead.
    pub lookahead: u32,
    /// When the token was activated, milliseconds since the epoch.
    pub created_at: f64,
}

/// Where the counter stands against the server's look-ahead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify), tsify(missing_as_null))]
#[serde(rename_all = "camelCase")]
pub struct CounterStanding {
    /// Codes and signatures made that the server has not seen yet, as far as the token knows.
    pub unconfirmed: u64,
    /// How many counter values past its own the server tries.
    pub lookahead: u32,
    /// A message for the person when few codes are left before the server would refuse them.
    pub warning: Option<String>,
}

/// The inputs of a new activation, after the server accepted the device's key.
pub struct NewActivation<'a> {
    /// The API origin.
    pub server: &'a str,
    /// The device's key pair, made for this activation and dropped after it.
    pub device: &'a PrivateKey,
    /// The server's answer.
    pub answer: Committed,
    /// The name the token gave itself.
    pub device_name: &'a str,
    /// The service name.
    pub service_name: &'a str,
    /// The PIN, already confirmed.
    pub pin: &'a str,
    /// 16 random bytes for the PIN key's salt.
    pub salt: [u8; 16],
    /// Now, in milliseconds since the epoch.
    pub now: f64,
}

/// The activation among `activations` whose server signed `payload`. With none,
/// [`TokenError::NoActivation`]; when no activation's keys verify the signature,
/// [`TokenError::PayloadSignature`]: a forged or re-signed payload gets no code.
pub fn find_signer<'a>(
    activations: &'a [StoredActivation],
    payload: &OfflinePayload,
) -> Result<&'a StoredActivation, TokenError> {
    let mut refusal = TokenError::NoActivation;
    for activation in activations {
        match activation.check_payload(payload) {
            Ok(()) => return Ok(activation),
            Err(e) => refusal = e,
        }
    }
    Err(refusal)
}

impl StoredActivation {
    /// Derives the keys of a committed activation (spec §3.1–3.3) and keeps what the token
    /// needs: the knowledge key only encrypted under the PIN.
    pub fn derive(new: NewActivation<'_>) -> Result<Self, TokenError> {
        let answer = new.answer;
        let bad = |what: &str| TokenError::BadAnswer(format!("{what} is not a valid key"));
        let server_public = PublicKey::from_base64(&answer.server_public_key)
            .map_err(|_| bad("serverPublicKey"))?;
        PublicKey::from_base64(&answer.master_public_key).map_err(|_| bad("masterPublicKey"))?;
        let ctr = CtrData::from_base64(&answer.ctr_data).map_err(|_| bad("ctrData"))?;
        let master = qrauth_core::keys::master_secret(new.device, &server_public);
        let keys = DerivedKeys::from_master_secret(&master);
        let protected = PinProtectedKey::protect(&keys.knowledge, new.pin, new.salt);
        Ok(StoredActivation {
            fingerprint: fingerprint(
                &new.device.public_key(),
                &answer.activation_id,
                &server_public,
            ),
            activation_id: answer.activation_id,
            server: new.server.to_owned(),
            user: answer.user,
            device_name: new.device_name.to_owned(),
            service_name: new.service_name.to_owned(),
            possession_key: keys.possession.to_base64(),
            knowledge_salt: base64::encode(&protected.salt),
            knowledge_key: base64::encode(&protected.ciphertext),
            server_public_key: answer.server_public_key,
            master_public_key: answer.master_public_key,
            application_secret: answer.application_secret,
            ctr_data: ctr.to_base64(),
            counter: 0,
            confirmed_counter: 0,
            lookahead: answer.lookahead,
            created_at: new.now,
        })
    }

    /// This record knowing that the server has accepted `counter` steps: codes up to there are
    /// confirmed (never more than this token made, never fewer than it knew).
    pub fn with_server_counter(&self, counter: u64) -> Self {
        StoredActivation {
            confirmed_counter: self.confirmed_counter.max(counter.min(self.counter)),
            ..self.clone()
        }
    }

    /// This record with the counter moved one step: what storage must hold before a signature
    /// made with this record's counter leaves the token.
    pub fn advanced(&self) -> Result<Self, TokenError> {
        Ok(StoredActivation {
            ctr_data: self.ctr()?.next().to_base64(),
            counter: self.counter + 1,
            ..self.clone()
        })
    }

    /// Where the counter stands, counting `extra` more codes.
    pub fn standing(&self) -> CounterStanding {
        let unconfirmed = self.counter.saturating_sub(self.confirmed_counter);
        let lookahead = u64::from(self.lookahead);
        let left = lookahead.saturating_sub(unconfirmed);
        let warning = (left <= WARN_BEFORE_LOOKAHEAD).then(|| {
            if left == 0 {
                format!(
                    "The server has not seen the last {unconfirmed} codes from this token, and \
                     it looks only {lookahead} ahead: new codes are likely to be refused. Enter \
                     the newest code you have, or remove and activate the token again."
                )
            } else {
                format!(
                    "The server has not seen the last {unconfirmed} codes from this token. \
                     After {left} more it will refuse them: enter this code, or sign in online \
                     once, so it catches up."
                )
            }
        });
        CounterStanding {
            unconfirmed,
            lookahead: self.lookahead,
            warning,
        }
    }

    /// Checks that `payload` was signed by this activation's server: key type 0 with the
    /// application's master key, key type 1 with the activation's own server key.
    pub fn check_payload(&self, payload: &OfflinePayload) -> Result<(), TokenError> {
        let key = match payload.key_type {
            KeyType::Master => &self.master_public_key,
            KeyType::Personalized => &self.server_public_key,
        };
        let key = PublicKey::from_base64(key).map_err(|e| self.corrupt(&e.to_string()))?;
        payload
            .verify_signature(&key)
            .map_err(|_| TokenError::PayloadSignature {
                service: self.service_name.clone(),
            })
    }

    /// The offline code for a payload already verified, at this record's counter, with the
    /// keys `pin` unlocks; a wrong PIN gives a wrong code.
    pub fn offline_code(
        &self,
        payload: &OfflinePayload,
        pin: &str,
    ) -> Result<AuthCode, TokenError> {
        let message = payload.message(OFFLINE_URI_ID);
        let components = self.components(pin, &message)?;
        decimal_code(&components, DEFAULT_COMPONENT_LENGTH)
            .ok()
            .and_then(|code| AuthCode::parse(&code).ok())
            .ok_or_else(|| TokenError::Storage("the code could not be formed".into()))
    }

    /// The `X-PowerAuth-Authorization` value for `body` sent to `uri_id`, signed with
    /// possession and the PIN at this record's counter; `nonce` is 16 random bytes.
    pub fn sign_with_pin(
        &self,
        uri_id: &str,
        body: &[u8],
        pin: &str,
        nonce: &[u8; 16],
    ) -> Result<String, TokenError> {
        let message = signed_message(uri_id, nonce, body, &self.application_secret);
        let components = self.components(pin, &message)?;
        Ok(authorization_header(
            &self.activation_id,
            nonce,
            FactorType::PossessionKnowledge,
            &base64_code(&components),
        ))
    }

    /// The same with possession alone, for requests that need no PIN (removal).
    pub fn sign_possession(
        &self,
        uri_id: &str,
        body: &[u8],
        nonce: &[u8; 16],
    ) -> Result<String, TokenError> {
        let message = signed_message(uri_id, nonce, body, &self.application_secret);
        let possession = self.possession()?;
        let components = signature_components(&[&possession], &self.ctr()?, &message);
        Ok(authorization_header(
            &self.activation_id,
            nonce,
            FactorType::Possession,
            &base64_code(&components),
        ))
    }

    fn components(&self, pin: &str, message: &[u8]) -> Result<Vec<[u8; 32]>, TokenError> {
        let possession = self.possession()?;
        let knowledge = self.knowledge(pin)?;
        Ok(signature_components(
            &[&possession, &knowledge],
            &self.ctr()?,
            message,
        ))
    }

    fn possession(&self) -> Result<SecretKey, TokenError> {
        SecretKey::from_base64(&self.possession_key).map_err(|e| self.corrupt(&e.to_string()))
    }

    fn knowledge(&self, pin: &str) -> Result<SecretKey, TokenError> {
        let bytes16 = |text: &str| {
            base64::decode(text)
                .ok()
                .and_then(|b| <[u8; 16]>::try_from(b).ok())
                .ok_or_else(|| self.corrupt("bad knowledge key"))
        };
        let protected = PinProtectedKey {
            salt: bytes16(&self.knowledge_salt)?,
            ciphertext: bytes16(&self.knowledge_key)?,
        };
        Ok(protected.unprotect(pin))
    }

    fn ctr(&self) -> Result<CtrData, TokenError> {
        CtrData::from_base64(&self.ctr_data).map_err(|e| self.corrupt(&e.to_string()))
    }

    fn corrupt(&self, what: &str) -> TokenError {
        TokenError::Storage(format!(
            "activation {} is damaged: {what}",
            self.activation_id
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use qrauth_core::keys::master_secret;
    use qrauth_core::signature::{SignatureFormat, verify_signature};

    fn server_and_token() -> (DerivedKeys, StoredActivation) {
        let server = PrivateKey::from_random(&[7; 32]).unwrap();
        let device = PrivateKey::from_random(&[9; 32]).unwrap();
        let master = PrivateKey::from_random(&[3; 32]).unwrap();
        let ctr = CtrData::from_bytes([1; 16]);
        let token = StoredActivation::derive(NewActivation {
            server: "https://login.example.com",
            device: &device,
            answer: Committed {
                activation_id: "a1".into(),
                user: "alice".into(),
                server_public_key: server.public_key().to_base64(),
                ctr_data: ctr.to_base64(),
                master_public_key: master.public_key().to_base64(),
                application_secret: "secret".into(),
                max_failed_attempts: 5,
                lookahead: 20,
            },
            device_name: "test",
            service_name: "qrauth",
            pin: "1234",
            salt: [5; 16],
            now: 0.0,
        })
        .unwrap();
        let keys = DerivedKeys::from_master_secret(&master_secret(&server, &device.public_key()));
        (keys, token)
    }

    #[test]
    fn nothing_stored_holds_the_knowledge_key_or_the_pin() {
        let (keys, token) = server_and_token();
        let stored = serde_json::to_string(&token).unwrap();
        assert!(!stored.contains(&keys.knowledge.to_base64()));
        assert!(!stored.contains("1234"));
        assert_eq!(token.knowledge("1234").unwrap(), keys.knowledge);
        assert_ne!(token.knowledge("1235").unwrap(), keys.knowledge);
    }

    #[test]
    fn signed_requests_verify_on_the_server_side_and_the_counter_moves() {
        let (keys, token) = server_and_token();
        let nonce = [4; 16];
        let header = token
            .sign_with_pin("/login/approve", b"{}", "1234", &nonce)
            .unwrap();
        let signature = header
            .split("pa_signature=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap();
        let message = signed_message("/login/approve", &nonce, b"{}", "secret");
        let ctr = token.ctr().unwrap();
        let matched = verify_signature(
            signature,
            &keys.factor_keys(),
            &ctr,
            &message,
            &[FactorType::PossessionKnowledge],
            SignatureFormat::Base64,
            20,
        )
        .unwrap()
        .unwrap();
        assert_eq!(matched.steps, 1);
        let next = token.advanced().unwrap();
        assert_eq!(next.counter, 1);
        assert_eq!(next.ctr().unwrap(), ctr.next());
    }

    #[test]
    fn the_warning_comes_five_codes_before_the_lookahead_runs_out() {
        let (_, mut token) = server_and_token();
        token.counter = 14;
        assert_eq!(token.standing().warning, None);
        token.counter = 15;
        let standing = token.standing();
        assert_eq!(standing.unconfirmed, 15);
        assert!(standing.warning.unwrap().contains("After 5 more"));
        token.confirmed_counter = 15;
        assert_eq!(token.standing().warning, None);
        token.counter = 35;
        assert!(
            token
                .standing()
                .warning
                .unwrap()
                .contains("likely to be refused")
        );
    }

    #[test]
    fn the_server_counter_confirms_codes_but_never_more_than_were_made_nor_fewer_than_known() {
        let (_, mut token) = server_and_token();
        token.counter = 15;
        assert_eq!(token.with_server_counter(12).standing().unconfirmed, 3);
        // A server ahead of this token (a restored database, a bug) confirms only what it made.
        assert_eq!(token.with_server_counter(40).confirmed_counter, 15);
        token.confirmed_counter = 12;
        // An older answer does not take confirmations back.
        assert_eq!(token.with_server_counter(5).confirmed_counter, 12);
    }
}
