//! Requests a token signs, PowerAuth style: an `X-PowerAuth-Authorization` header whose
//! signature covers the method, a logical URI id, a nonce, the exact body bytes and the
//! application secret (spec §6.2–6.3), in the Base64 format of protocol 3.1.

use axum::http::{HeaderMap, StatusCode};
use qrauth_core::FactorType;
use qrauth_core::signature::{
    AUTHORIZATION_HEADER, SignatureFormat, signed_message, verify_signature,
};

use crate::activations::{Refusal, Signer, check_signature};
use crate::api::ApiError;
use crate::authority::Authority;

/// A parsed `X-PowerAuth-Authorization` header.
#[derive(Debug)]
pub(crate) struct Authorization {
    activation_id: String,
    nonce: [u8; 16],
    factors: FactorType,
    signature: String,
}

fn bad_header(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_authorization", message)
}

impl Authorization {
    /// Reads `PowerAuth pa_activation_id="…", pa_nonce="…", pa_signature_type="…",
    /// pa_signature="…", pa_version="3.1"`. `allowed` lists the signature types the endpoint
    /// accepts; another is refused before any key is touched.
    pub(crate) fn from_headers(
        headers: &HeaderMap,
        allowed: &[FactorType],
    ) -> Result<Self, ApiError> {
        let value = headers
            .get(AUTHORIZATION_HEADER)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "signature_required",
                    "This request must be signed by a token (X-PowerAuth-Authorization).",
                )
            })?
            .to_str()
            .map_err(|_| bad_header("The authorization header is not ASCII."))?;
        let rest = value.strip_prefix("PowerAuth ").ok_or_else(|| {
            bad_header("The authorization header must start with \"PowerAuth \".")
        })?;
        let mut activation_id = None;
        let mut nonce = None;
        let mut factors = None;
        let mut signature = None;
        let mut version = None;
        for part in rest.split(',') {
            let (name, quoted) = part
                .trim()
                .split_once('=')
                .ok_or_else(|| bad_header(format!("{:?} is not name=\"value\".", part.trim())))?;
            let text = quoted
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .ok_or_else(|| bad_header(format!("The value of {name} must be quoted.")))?
                .to_owned();
            match name {
                "pa_activation_id" => activation_id = Some(text),
                "pa_nonce" => nonce = Some(text),
                "pa_signature_type" => factors = Some(text),
                "pa_signature" => signature = Some(text),
                "pa_version" => version = Some(text),
                // PowerAuth clients also send pa_application_key; this server has one
                // application, so it carries nothing to check.
                "pa_application_key" => {}
                other => return Err(bad_header(format!("Unknown parameter {other}."))),
            }
        }
        let missing = |name: &str| bad_header(format!("The header has no {name}."));
        if version.as_deref() != Some("3.1") {
            return Err(bad_header(
                "pa_version must be \"3.1\" (Base64 signatures of protocol 3.1).",
            ));
        }
        let nonce_text = nonce.ok_or_else(|| missing("pa_nonce"))?;
        let nonce_bytes = qrauth_core::base64::decode(&nonce_text)
            .ok()
            .and_then(|b| <[u8; 16]>::try_from(b).ok())
            .ok_or_else(|| bad_header("pa_nonce must be Base64 of 16 random bytes."))?;
        let factor_name = factors.ok_or_else(|| missing("pa_signature_type"))?;
        let factors = FactorType::from_name(&factor_name)
            .ok_or_else(|| bad_header(format!("Unknown signature type {factor_name:?}.")))?;
        if !allowed.contains(&factors) {
            let names: Vec<_> = allowed.iter().map(|f| f.name().to_lowercase()).collect();
            return Err(bad_header(format!(
                "This request needs a signature of type {}.",
                names.join(" or ")
            )));
        }
        Ok(Authorization {
            activation_id: activation_id.ok_or_else(|| missing("pa_activation_id"))?,
            nonce: nonce_bytes,
            factors,
            signature: signature.ok_or_else(|| missing("pa_signature"))?,
        })
    }

    /// The activation that claims to have signed.
    pub(crate) fn activation_id(&self) -> &str {
        &self.activation_id
    }

    /// Checks the signature of `body` sent to `uri_id`, counting a failure against the
    /// activation, inside the caller's transaction.
    pub(crate) fn check(
        &self,
        tx: &rusqlite::Transaction<'_>,
        authority: &Authority,
        uri_id: &str,
        body: &[u8],
    ) -> Result<Result<Signer, Refusal>, crate::StorageError> {
        let message = signed_message(
            uri_id,
            &self.nonce,
            body,
            &authority.keys.application_secret,
        );
        check_signature(
            tx,
            authority,
            &self.activation_id,
            |keys, ctr, lookahead| {
                verify_signature(
                    &self.signature,
                    keys,
                    ctr,
                    &message,
                    &[self.factors],
                    SignatureFormat::Base64,
                    lookahead,
                )
                .ok()
                .flatten()
            },
        )
    }
}
