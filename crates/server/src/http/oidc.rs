//! OpenID Connect (flows/oidc.rs) at the server's root, where relying parties expect it:
//! discovery, the authorization endpoint (which sends a person who is not signed in to the
//! sign-in page and back), the token endpoint, userinfo and RP-initiated logout. Errors are
//! the specifications' own: before the redirect URI is known to be the client's, a page and
//! no redirect (RFC 6749 §4.1.2.1); after, `error` on the redirect; the token endpoint's JSON
//! of RFC 6749 §5.2; userinfo's `WWW-Authenticate: Bearer` of RFC 6750 §3.

use std::collections::HashMap;

use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use base64::Engine;
use serde_json::json;

use super::extract::{origin, session_token};
use super::{ApiError, AppState};
use crate::flows::oidc::{Authorization, ClientCredentials, CodeExchange, TokenError};

/// Where each endpoint is, under the issuer.
const AUTHORIZE: &str = "/oauth/authorize";
const TOKEN: &str = "/oauth/token";
const USERINFO: &str = "/oauth/userinfo";
const LOGOUT: &str = "/oauth/logout";

pub(crate) fn routes(state: AppState) -> Router {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route(AUTHORIZE, get(authorize))
        .route(TOKEN, axum::routing::post(token))
        .route(USERINFO, get(userinfo).post(userinfo))
        .route(LOGOUT, get(logout))
        .with_state(state)
}

/// `/api/v1/oidc/clients/{id}`, for the sign-in page to say which application asks.
pub(crate) fn api_routes() -> Router<AppState> {
    Router::new().route("/oidc/clients/{id}", get(client_name))
}

/// `GET /api/v1/oidc/clients/{id}` → `{"name"}`: public, as the name is shown to whoever
/// follows the application's sign-in link.
async fn client_name(
    State(state): State<AppState>,
    super::extract::ApiPath(id): super::extract::ApiPath<String>,
) -> Result<Response, ApiError> {
    match state.authority.oidc_client(&id).await? {
        Some(client) => {
            Ok(Json(json!({"clientId": client.id, "name": client.name})).into_response())
        }
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "client_not_found",
            "No application is registered with this client_id.",
        )),
    }
}

/// `%`-encoding for a query value (RFC 3986: all but the unreserved characters).
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `uri` with `params` added to its query.
fn with_query(uri: &str, params: &[(&str, &str)]) -> String {
    let mut out = uri.to_owned();
    let mut separator = if uri.contains('?') { '&' } else { '?' };
    for (name, value) in params {
        out.push(separator);
        out.push_str(name);
        out.push('=');
        out.push_str(&encode(value));
        separator = '&';
    }
    out
}

fn redirect(to: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, to.to_owned())]).into_response()
}

/// A page for the person, when the request cannot be sent back to the application.
fn refusal_page(status: StatusCode, why: &str) -> Response {
    let why = why
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let page = format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><link rel=\"icon\" \
         href=\"data:,\"><title>Sign-in link refused · qrauth</title><main><h1>This sign-in link is not valid</h1>\
         <p data-testid=\"oidc-refusal\">{why}</p><p>Go back to the application and try again; \
         if it happens again, tell whoever runs it.</p></main></html>"
    );
    (status, Html(page)).into_response()
}

/// `GET /.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §3).
async fn discovery(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let issuer = origin(&state, &headers)?;
    Ok(Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}{AUTHORIZE}"),
        "token_endpoint": format!("{issuer}{TOKEN}"),
        "userinfo_endpoint": format!("{issuer}{USERINFO}"),
        "end_session_endpoint": format!("{issuer}{LOGOUT}"),
        "jwks_uri": format!("{issuer}/api/v1/jwks.json"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "scopes_supported": ["openid", "profile"],
        "claims_supported": ["iss", "sub", "aud", "azp", "exp", "iat", "auth_time", "nonce", "amr", "preferred_username"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
        "prompt_values_supported": ["none"],
    }))
    .into_response())
}

/// `GET /oauth/authorize`: a code for a person signed in here, or the sign-in page first.
async fn authorize(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    let Ok(Query(params)) = query else {
        return Ok(refusal_page(
            StatusCode::BAD_REQUEST,
            "The request's parameters cannot be read.",
        ));
    };
    let param = |name: &str| {
        params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    let Some(client_id) = param("client_id") else {
        return Ok(refusal_page(
            StatusCode::BAD_REQUEST,
            "It names no application (client_id).",
        ));
    };
    let Some(client) = state.authority.oidc_client(client_id).await? else {
        return Ok(refusal_page(
            StatusCode::BAD_REQUEST,
            "It names an application this server does not know (client_id).",
        ));
    };
    // Only a redirect URI registered for this client, exactly: never an open redirect.
    let Some(redirect_uri) =
        param("redirect_uri").filter(|uri| client.redirect_uris.iter().any(|r| r == uri))
    else {
        return Ok(refusal_page(
            StatusCode::BAD_REQUEST,
            &format!(
                "It would send you to an address {} did not register (redirect_uri).",
                client.name
            ),
        ));
    };
    let issuer = origin(&state, &headers)?;
    let state_param = param("state");
    let back = |error: &str, description: &str| {
        let mut out = vec![("error", error), ("error_description", description)];
        if let Some(s) = state_param {
            out.push(("state", s));
        }
        out.push(("iss", issuer.as_str()));
        redirect(&with_query(redirect_uri, &out))
    };
    if param("response_type") != Some("code") {
        return Ok(back(
            "unsupported_response_type",
            "only response_type=code is supported",
        ));
    }
    let scope = param("scope").unwrap_or_default();
    if !scope.split(' ').any(|s| s == "openid") {
        return Ok(back("invalid_scope", "scope must include openid"));
    }
    let granted: Vec<&str> = ["openid", "profile"]
        .into_iter()
        .filter(|known| scope.split(' ').any(|s| s == *known))
        .collect();
    let Some(code_challenge) = param("code_challenge") else {
        return Ok(back(
            "invalid_request",
            "PKCE is required: code_challenge with code_challenge_method=S256",
        ));
    };
    if param("code_challenge_method") != Some("S256") || code_challenge.len() != 43 {
        return Ok(back(
            "invalid_request",
            "PKCE with code_challenge_method=S256 is required",
        ));
    }
    let session = match session_token(&headers) {
        Some(token) => state.authority.browser_session(token).await?,
        None => None,
    };
    let Some(session) = session else {
        if param("prompt").is_some_and(|p| p.split(' ').any(|v| v == "none")) {
            return Ok(back("login_required", "the person is not signed in"));
        }
        // The sign-in page signs the person in, then comes back here with the session (a
        // navigation from this site carries the SameSite=Strict cookie; the application's did
        // not).
        let here = uri.path_and_query().map_or(AUTHORIZE, |pq| pq.as_str());
        return Ok(redirect(&with_query("/", &[("return", here)])));
    };
    let code = state
        .authority
        .issue_code(
            Authorization {
                client_id: client.id,
                redirect_uri: redirect_uri.to_owned(),
                code_challenge: code_challenge.to_owned(),
                nonce: param("nonce").map(str::to_owned),
                scope: granted.join(" "),
            },
            session,
        )
        .await?;
    let mut out = vec![("code", code.as_str())];
    if let Some(s) = state_param {
        out.push(("state", s));
    }
    out.push(("iss", issuer.as_str()));
    Ok(redirect(&with_query(redirect_uri, &out)))
}

/// An error of the token endpoint (RFC 6749 §5.2).
fn token_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut response = (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Basic realm=\"qrauth\""),
        );
    }
    response
}

/// The client's credentials: HTTP basic (`client_secret_basic`, its parts form-encoded, RFC
/// 6749 §2.3.1) or the form's `client_id` and `client_secret` (`client_secret_post`, or
/// `none` for a public client).
fn credentials(headers: &HeaderMap, form: &HashMap<String, String>) -> Option<ClientCredentials> {
    if let Some((id, secret)) = super::extract::basic(headers) {
        return Some(ClientCredentials {
            client_id: form_decoded(&id)?,
            secret: Some(form_decoded(&secret)?),
        });
    }
    Some(ClientCredentials {
        client_id: form.get("client_id")?.clone(),
        secret: form.get("client_secret").cloned(),
    })
}

/// `text` with `application/x-www-form-urlencoded` undone (`+` is a space, `%XX` a byte), as
/// a client's id and secret are encoded inside HTTP basic (RFC 6749 §2.3.1).
fn form_decoded(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        match first {
            b'%' => {
                let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
                bytes.push(u8::from_str_radix(hex, 16).ok()?);
                rest = &tail[2..];
            }
            b'+' => {
                bytes.push(b' ');
                rest = tail;
            }
            other => {
                bytes.push(other);
                rest = tail;
            }
        }
    }
    String::from_utf8(bytes).ok()
}

/// `POST /oauth/token` (`grant_type=authorization_code`).
async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, ApiError> {
    let Ok(Form(form)) = form else {
        return Ok(token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the body is application/x-www-form-urlencoded",
        ));
    };
    let Some(credentials) = credentials(&headers, &form) else {
        return Ok(token_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "no client credentials",
        ));
    };
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return Ok(token_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only authorization_code",
        ));
    }
    let field = |name: &str| form.get(name).filter(|v| !v.is_empty()).cloned();
    let (Some(code), Some(redirect_uri)) = (field("code"), field("redirect_uri")) else {
        return Ok(token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "code and redirect_uri are required",
        ));
    };
    let Some(code_verifier) = field("code_verifier") else {
        return Ok(token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "code_verifier is required (PKCE)",
        ));
    };
    let issuer = origin(&state, &headers)?;
    let exchange = CodeExchange {
        code,
        redirect_uri,
        code_verifier,
    };
    match state
        .authority
        .exchange_code(credentials, exchange, issuer)
        .await
    {
        Ok(tokens) => Ok((
            [
                (header::CACHE_CONTROL, "no-store"),
                (header::PRAGMA, "no-cache"),
            ],
            Json(tokens),
        )
            .into_response()),
        Err(TokenError::InvalidClient(why)) => Ok(token_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            &why,
        )),
        Err(TokenError::InvalidGrant(why)) => {
            Ok(token_error(StatusCode::BAD_REQUEST, "invalid_grant", &why))
        }
        Err(TokenError::Storage(e)) => Err(e.into()),
    }
}

/// `GET|POST /oauth/userinfo` with `Authorization: Bearer`.
async fn userinfo(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let refused = |error: &str, description: &str| {
        let challenge = format!("Bearer error=\"{error}\", error_description=\"{description}\"");
        let mut response = (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": error, "error_description": description})),
        )
            .into_response();
        if let Ok(value) = header::HeaderValue::from_str(&challenge) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    };
    let Some(token) = super::extract::bearer(&headers) else {
        return Ok(refused(
            "invalid_request",
            "send the access token as Authorization: Bearer",
        ));
    };
    match state.authority.userinfo(token).await? {
        Some(info) => Ok(Json(info).into_response()),
        None => Ok(refused(
            "invalid_token",
            "the access token is unknown, expired or revoked",
        )),
    }
}

/// `GET /oauth/logout` (OpenID Connect RP-Initiated Logout 1.0): ends the browser session and
/// returns to `post_logout_redirect_uri` when the client registered it.
async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    if let Some(token) = session_token(&headers) {
        state.authority.end_browser_session(token).await?;
    }
    let ended = super::extract::cookie("", 0, state.authority.policy().secure_cookies);
    // The client: `client_id`, or the audience of `id_token_hint` (read only to find which
    // client's registered addresses apply: a return address is never taken from it).
    let client_id = params.get("client_id").cloned().or_else(|| {
        let hint = params.get("id_token_hint")?;
        let payload = hint.split('.').nth(1)?;
        let claims: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .ok()?,
        )
        .ok()?;
        claims["aud"].as_str().map(str::to_owned)
    });
    let client = match client_id {
        Some(id) => state.authority.oidc_client(&id).await?,
        None => None,
    };
    let back = params.get("post_logout_redirect_uri").filter(|uri| {
        client
            .as_ref()
            .is_some_and(|c| c.post_logout_uris.iter().any(|r| r == *uri))
    });
    let mut response = match back {
        Some(uri) => {
            let mut extra = Vec::new();
            if let Some(s) = params.get("state") {
                extra.push(("state", s.as_str()));
            }
            redirect(&with_query(uri, &extra))
        }
        None => Html(
            "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><link rel=\"icon\" \
             href=\"data:,\"><title>Signed out · qrauth</title><main><h1 data-testid=\"signed-out\">You are signed out</h1>\
             <p><a href=\"/\">Sign in again</a></p></main></html>",
        )
        .into_response(),
    };
    if let Ok(value) = header::HeaderValue::from_str(&ended) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        assert_eq!(form_decoded("a%2Bb+c%3A").as_deref(), Some("a+b c:"));
        assert_eq!(form_decoded("%zz"), None);
        assert_eq!(form_decoded("%4"), None);
        let encoded = with_query("", &[("x", "ž ~")]);
        assert_eq!(form_decoded(&encoded[3..]).as_deref(), Some("ž ~"));
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            with_query(
                "https://rp.example/cb",
                &[("code", "a b+c/="), ("state", "ž")]
            ),
            "https://rp.example/cb?code=a%20b%2Bc%2F%3D&state=%C5%BE"
        );
        assert_eq!(
            with_query("https://rp.example/cb?x=1", &[("code", "k")]),
            "https://rp.example/cb?x=1&code=k"
        );
    }
}
