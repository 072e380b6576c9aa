//! What handlers take from a request: JSON bodies with their own error codes, the poll
//! secret, the signed-in user, the token's signature header, the origin for QR links.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use qrauth_core::FactorType;
use qrauth_core::signature::AUTHORIZATION_HEADER;
use serde::de::DeserializeOwned;

use super::{ApiError, AppState};
use crate::flows::attempts::SignedRequest;

/// A JSON request body; every way it can be wrong becomes an [`ApiError`] with its own code.
pub(crate) struct ApiJson<T>(pub T);

/// A JSON request body together with its exact bytes, for requests whose signature covers them.
pub(crate) struct SignedJson<T> {
    pub(crate) value: T,
    pub(crate) raw: axum::body::Bytes,
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for SignedJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = request
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                let v = v.trim();
                v.eq_ignore_ascii_case("application/json")
                    || (v.starts_with("application/") && v.ends_with("+json"))
            });
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the body as JSON with Content-Type: application/json.",
            ));
        }
        let RawBody(raw) = RawBody::from_request(request, state).await?;
        // Through a JSON value first: serde would also read a struct from an array.
        let value: serde_json::Value = serde_json::from_slice(&raw).map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                "The body is not valid JSON.",
            )
        })?;
        if !value.is_object() {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
                "The body must be a JSON object.",
            ));
        }
        let value = serde_json::from_value(value).map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
                format!("The request does not have the expected fields: {e}"),
            )
        })?;
        Ok(SignedJson { value, raw })
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        SignedJson::from_request(request, state)
            .await
            .map(|body| ApiJson(body.value))
    }
}

fn bad_header(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_authorization", message)
}

/// Reads `PowerAuth pa_activation_id="…", pa_nonce="…", pa_signature_type="…",
/// pa_signature="…", pa_version="3.1"`. `allowed` lists the signature types the endpoint
/// accepts; another is refused before any key is touched.
pub(crate) fn signed_request(
    headers: &HeaderMap,
    allowed: &[FactorType],
) -> Result<SignedRequest, ApiError> {
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
    let rest = value
        .strip_prefix("PowerAuth ")
        .ok_or_else(|| bad_header("The authorization header must start with \"PowerAuth \"."))?;
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
    Ok(SignedRequest {
        activation_id: activation_id.ok_or_else(|| missing("pa_activation_id"))?,
        nonce: nonce_bytes,
        factors,
        signature: signature.ok_or_else(|| missing("pa_signature"))?,
    })
}

/// A query string; a malformed one is answered with the error shape, like every other fault.
pub(crate) struct ApiQuery<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| ApiQuery(value))
            .map_err(|e| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_query",
                    format!("The query string is not valid: {}.", e.body_text()),
                )
            })
    }
}

/// A path parameter, such as a login's id; one that does not decode is answered with the error
/// shape.
pub(crate) struct ApiPath<T>(pub(crate) T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| ApiPath(value))
            .map_err(|e| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_path",
                    format!("The address is not valid: {}.", e.body_text()),
                )
            })
    }
}

/// A body of any type as its exact bytes (a signature covers them), with the error shape for a
/// body too large or cut off.
pub(crate) struct RawBody(pub(crate) axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        axum::body::Bytes::from_request(request, state)
            .await
            .map(RawBody)
            .map_err(body_rejection)
    }
}

fn body_rejection(e: axum::extract::rejection::BytesRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("The body is larger than {} bytes.", crate::MAX_BODY_BYTES),
        )
    } else {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", e.body_text())
    }
}

/// The client's address: the peer's, or, when the peer is a trusted proxy (`--trusted-proxy`),
/// the right-most address of `X-Forwarded-For` that is not one of the trusted proxies. Rate
/// limits count by it, and the token shows it as where a login was asked from.
pub(crate) struct ClientAddress(pub(crate) std::net::IpAddr);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "The server does not know the client's address.",
                )
            })?;
        let policy = state.authority.policy();
        if !policy.is_trusted_proxy(peer) {
            return Ok(ClientAddress(peer));
        }
        let forwarded: Vec<std::net::IpAddr> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map_while(|a| a.trim().parse().ok())
            .collect();
        let client = forwarded
            .iter()
            .rev()
            .find(|a| !policy.is_trusted_proxy(**a))
            .or(forwarded.first())
            .copied()
            .unwrap_or(peer);
        Ok(ClientAddress(client))
    }
}

/// The poll secret from `Authorization: Bearer …`: the page's proof that a login is its own.
pub(crate) struct PollSecret(pub(crate) String);

/// The token of `Authorization: Bearer <token>`, if the request has one.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The user name and password of `Authorization: Basic` (RFC 7617), if the request has
/// well-formed ones: Base64 of UTF-8 `name:password`, split at the first colon.
pub(crate) fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let (scheme, encoded) = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let (name, password) = String::from_utf8(decoded)
        .ok()?
        .split_once(':')
        .map(|(name, password)| (name.to_owned(), password.to_owned()))?;
    Some((name, password))
}

impl<S: Send + Sync> FromRequestParts<S> for PollSecret {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        bearer(&parts.headers)
            .map(|v| PollSecret(v.to_owned()))
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "poll_secret_required",
                    "Send the login's poll secret as Authorization: Bearer <pollSecret>.",
                )
            })
    }
}

/// The cookie that carries a browser session.
pub const COOKIE: &str = "qrauth_session";

/// The session token from the request's cookies, if any.
pub(crate) fn session_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

/// The `Set-Cookie` value for a session token: HttpOnly (no script reads it), SameSite=Strict
/// (no other site sends it), and Secure when the server is behind TLS.
pub(crate) fn cookie(token: &str, max_age_s: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_s}{secure}")
}

/// The user of the browser session in the request's cookie, or 401.
pub(crate) struct SignedInUser(pub(crate) String);

impl SignedInUser {
    /// The user, or `None` when the request has no live session.
    pub(crate) async fn optional(
        state: &AppState,
        headers: &HeaderMap,
    ) -> Result<Option<String>, ApiError> {
        match session_token(headers) {
            Some(token) => Ok(state
                .authority
                .browser_session(token)
                .await?
                .map(|session| session.user)),
            None => Ok(None),
        }
    }
}

impl FromRequestParts<AppState> for SignedInUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Self::optional(state, &parts.headers)
            .await?
            .map(SignedInUser)
            .ok_or_else(ApiError::not_signed_in)
    }
}

/// The origin to put in QR links and identity tokens: the configured one, or, on a server that
/// listens on loopback only (`Server::bind` refuses anything else without a public URL), the
/// `Host` the browser used if it names this machine. Any other Host would let whoever sends
/// the request write the link a phone opens and the issuer of the identity token.
pub(crate) fn origin(state: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    let policy = state.authority.policy();
    if let Some(origin) = &policy.public_origin {
        return Ok(origin.trim_end_matches('/').to_owned());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| is_loopback_host(h))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_host",
                "The Host header does not name this machine (localhost, 127.0.0.1 or [::1]); \
                 a server reached by another name needs --public-url.",
            )
        })?;
    let scheme = if policy.secure_cookies {
        "https"
    } else {
        "http"
    };
    Ok(format!("{scheme}://{host}"))
}

/// `localhost`, `127.x.y.z` or `[::1]`, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port))
            if !name.ends_with(':')
                && !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            name
        }
        _ => host,
    };
    if name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(name);
    bare.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
        && (name.starts_with('[') || !bare.contains(':'))
}

#[cfg(test)]
mod tests {
    use super::is_loopback_host;

    #[test]
    fn only_names_of_this_machine_are_loopback_hosts() {
        for host in [
            "localhost",
            "LOCALHOST:8080",
            "127.0.0.1",
            "127.0.0.1:40521",
            "127.9.0.3",
            "[::1]",
            "[::1]:8080",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "evil.example.com",
            "evil.example.com:80",
            "localhost.evil.com",
            "127.0.0.1.evil.com",
            "10.0.0.1:8080",
            "::1",
            "[::2]",
            "",
            "127.0.0.1:80x",
            "localhost:",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
