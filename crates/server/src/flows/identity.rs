//! Identity tokens: what a completed login returns, an ES256 JWT (RFC 7519, RFC 7515) that a
//! relying party checks with the key at `/api/v1/jwks.json`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use qrauth_core::FactorType;
use qrauth_core::keys::{PrivateKey, PublicKey};
use qrauth_core::wire::Jwk;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// How long an identity token is valid: long enough to hand it to a backend, no longer.
pub const IDENTITY_TOKEN_LIFETIME_S: i64 = 300;

/// The JWK of a P-256 signing key, with the key id tokens name in their header.
pub(crate) fn jwk(key: &PublicKey) -> Jwk {
    let point = key.to_uncompressed();
    Jwk {
        kty: "EC".into(),
        crv: "P-256".into(),
        x: URL_SAFE_NO_PAD.encode(&point[1..33]),
        y: URL_SAFE_NO_PAD.encode(&point[33..65]),
        usage: "sig".into(),
        alg: "ES256".into(),
        kid: key_id(key),
    }
}

/// The key id: the first 16 characters of the unpadded URL-safe Base64 of SHA-256 of the
/// uncompressed point.
fn key_id(key: &PublicKey) -> String {
    let digest = Sha256::digest(key.to_uncompressed());
    URL_SAFE_NO_PAD.encode(digest)[..16].to_owned()
}

/// Authentication method references (RFC 8176) for the factors a token proved.
pub(crate) fn methods(factors: FactorType) -> Vec<&'static str> {
    let mut amr = vec!["swk"]; // possession of a software-secured key
    match factors {
        FactorType::PossessionKnowledge => amr.push("pin"),
        FactorType::PossessionBiometry => amr.push("user"),
        FactorType::PossessionKnowledgeBiometry => amr.extend(["pin", "user"]),
        _ => {}
    }
    amr.push("mfa");
    amr
}

/// The methods of a sign-in by an offline code: a one-time code (`otp`) that the token made
/// with `factors`.
pub(crate) fn offline_methods(factors: FactorType) -> Vec<&'static str> {
    let mut amr = vec!["otp"];
    amr.extend(methods(factors));
    amr
}

/// What an identity token says.
#[derive(Debug, Serialize)]
pub(crate) struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'static str,
    iat: i64,
    exp: i64,
    jti: String,
    /// The login session that was approved.
    sid: &'a str,
    amr: Vec<&'static str>,
    /// PowerAuth's name of the signature type.
    factors: &'static str,
    /// The activation that approved.
    activation: &'a str,
}

impl<'a> Claims<'a> {
    pub(crate) fn new(
        issuer: &'a str,
        user: &'a str,
        login: &'a str,
        activation: &'a str,
        factors: FactorType,
        now_ms: i64,
    ) -> Result<Self, crate::store::StorageError> {
        let iat = now_ms / 1000;
        Ok(Claims {
            iss: issuer,
            sub: user,
            aud: "qrauth",
            iat,
            exp: iat + IDENTITY_TOKEN_LIFETIME_S,
            jti: crate::secrets::random_uuid()?,
            sid: login,
            amr: methods(factors),
            factors: factors.name(),
            activation,
        })
    }
}

/// Signs `claims` as a compact JWS with ES256; `public` is `key`'s JWK, whose `kid` goes into
/// the header.
pub(crate) fn sign(key: &PrivateKey, public: &Jwk, claims: &impl Serialize) -> String {
    let header = serde_json::json!({
        "alg": "ES256",
        "typ": "JWT",
        "kid": public.kid,
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(serde_json::to_string(claims).unwrap_or_default())
    );
    let signature = qrauth_core::ecdsa::sign_raw(key, signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}
