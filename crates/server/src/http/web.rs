//! The built single-page app and the security headers on every response.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::body::Bytes;
use axum::extract::Request;
use axum::handler::HandlerWithoutStateExt;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::ServeDir;

/// The app's page families, each its own bundle built by trunk from its own HTML file
/// (`crates/app/src/lib.rs`): the paths of each but the sign-in page's. Every other path gets
/// `index.html`, the sign-in page's bundle, which says "Page not found" where it has no page.
pub(crate) const PAGES: [(&str, &str); 3] = [
    ("/account", "account.html"),
    ("/approve", "account.html"),
    ("/token", "token.html"),
];

/// Trunk's output: `index.html`, `account.html` and `token.html`, plus hashed scripts, wasm and
/// styles.
pub(crate) struct StaticApp {
    dir: PathBuf,
    sign_in_html: Bytes,
    /// The page of each path in [`PAGES`].
    pages: Vec<(&'static str, Bytes)>,
    inline_script_hashes: Vec<String>,
}

impl StaticApp {
    /// Reads the pages once; the other files are served from disk as they are asked for.
    pub(crate) fn load(dir: &Path) -> Result<Self, String> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(|e| {
                format!(
                    "cannot read {}: {e} (build the app first: `cargo xtask dist` runs \
                     trunk for account.html and token.html, and the sign-in page)",
                    path.display()
                )
            })
        };
        let sign_in = read("index.html")?;
        let mut hashes = inline_script_hashes(&sign_in);
        let mut pages = Vec::new();
        for (path, file) in PAGES {
            let html = read(file)?;
            hashes.extend(inline_script_hashes(&html));
            pages.push((path, Bytes::from(html)));
        }
        hashes.sort();
        hashes.dedup();
        Ok(StaticApp {
            dir: dir.to_owned(),
            inline_script_hashes: hashes,
            sign_in_html: Bytes::from(sign_in),
            pages,
        })
    }

    /// CSP sources (`'sha256-...'`) for the inline scripts of the pages: trunk writes the
    /// start-up script inline, and hashing it lets the policy forbid every other inline script.
    pub(crate) fn inline_script_hashes(&self) -> &[String] {
        &self.inline_script_hashes
    }

    /// Files from the directory; a path of [`PAGES`] gets its page, and any other path without
    /// a file extension gets `index.html`, so that the app's own routes load on a reload or a
    /// shared link.
    pub(crate) fn routes(self) -> Router {
        let (sign_in_html, pages) = (self.sign_in_html, self.pages);
        let page = move |uri: Uri| {
            let html = pages
                .iter()
                .find(|(path, _)| *path == uri.path())
                .map_or_else(|| sign_in_html.clone(), |(_, html)| html.clone());
            async move {
                let last_segment = uri.path().rsplit('/').next().unwrap_or_default();
                if last_segment.contains('.') {
                    return (StatusCode::NOT_FOUND, "Not found").into_response();
                }
                (
                    [
                        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                        (header::CACHE_CONTROL, "no-cache"),
                    ],
                    html,
                )
                    .into_response()
            }
        };
        // A built file's `.gz` beside it (`cargo xtask dist` writes them, gzip -9) is sent as it
        // is: compressing the wasm again on every request cost each first visit ~100 ms.
        let files = ServeDir::new(self.dir)
            .precompressed_gzip()
            .append_index_html_on_directories(false)
            .fallback(page.into_service());
        // The app's wasm shrinks to under half its size with gzip.
        Router::new()
            .fallback_service(files)
            .layer(middleware::from_fn(cache_policy))
            .layer(CompressionLayer::new())
    }
}

/// Trunk names built files `name-<hash>.ext` (the hash is a 64-bit number in hex, so up to 16
/// digits; the wasm adds `_bg`): such a file never changes, so browsers
/// may keep it a year; anything else is checked with the server on every use.
async fn cache_policy(request: Request, next: Next) -> Response {
    let immutable = is_hashed_asset(request.uri().path());
    let mut response = next.run(request).await;
    if response.status().is_success() && !response.headers().contains_key(header::CACHE_CONTROL) {
        let policy = if immutable {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}

fn is_hashed_asset(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let stem = name.split('.').next().unwrap_or_default();
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(_, hash)| {
        (12..=16).contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

fn inline_script_hashes(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut hashes = Vec::new();
    let mut from = 0;
    while let Some(start) = lower[from..].find("<script").map(|i| i + from) {
        let Some(tag_end) = lower[start..].find('>').map(|i| i + start + 1) else {
            break;
        };
        let Some(close) = lower[tag_end..].find("</script").map(|i| i + tag_end) else {
            break;
        };
        let is_inline = !lower[start..tag_end].contains(" src=");
        if is_inline {
            let digest = Sha256::digest(&html.as_bytes()[tag_end..close]);
            hashes.push(format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
        }
        from = close;
    }
    hashes
}

/// The Content-Security-Policy of every response: the app's own scripts and wasm, its own API,
/// no framing (against clickjacking and QRLjacking by embedding), no plugins, no base rewriting.
fn content_security_policy(inline_scripts: &[String]) -> String {
    let mut script_src = String::from("'self' 'wasm-unsafe-eval'");
    for hash in inline_scripts {
        script_src.push(' ');
        script_src.push_str(hash);
    }
    format!(
        "default-src 'none'; script-src {script_src}; style-src 'self'; img-src 'self' data: blob:; \
         connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// Lets pages of `origins` call the API with cookies and the signed-request header; `None`
/// when there are none, so that by default the browser keeps every other origin out.
pub(crate) fn cors(origins: &[String]) -> Result<Option<CorsLayer>, String> {
    if origins.is_empty() {
        return Ok(None);
    }
    let values = origins
        .iter()
        .map(|origin| {
            let valid = origin.split_once("://").is_some_and(|(scheme, rest)| {
                matches!(scheme, "http" | "https") && !rest.is_empty() && !rest.contains('/')
            });
            HeaderValue::from_str(origin)
                .ok()
                .filter(|_| valid)
                .ok_or_else(|| {
                    format!("{origin:?} is not an origin such as https://shop.example.com:8443")
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(values))
            .allow_credentials(true)
            .allow_methods([Method::GET, Method::POST, Method::DELETE])
            .allow_headers([
                header::CONTENT_TYPE,
                header::AUTHORIZATION,
                HeaderName::from_static(qrauth_core::signature::AUTHORIZATION_HEADER),
            ])
            // A page on another origin backs off as the server asks only if it can read this.
            .expose_headers([header::RETRY_AFTER])
            .max_age(std::time::Duration::from_secs(600)),
    ))
}

/// Adds the security headers to every response, the API's included.
pub(crate) fn with_security_headers(router: Router, inline_scripts: &[String]) -> Router {
    let csp = HeaderValue::from_str(&content_security_policy(inline_scripts))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"));
    let headers: Vec<(HeaderName, HeaderValue)> = vec![
        (header::CONTENT_SECURITY_POLICY, csp),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
        (
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(self), microphone=(), geolocation=(), payment=()"),
        ),
    ];
    // A plain tower layer, whose future is not boxed: every request in flight (10 000
    // long-polls) carries it.
    let headers = std::sync::Arc::new(headers);
    router.layer(tower::util::MapResponseLayer::new(
        move |mut response: Response| {
            for (name, value) in headers.iter() {
                response.headers_mut().insert(name.clone(), value.clone());
            }
            response
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_trunk_hashed_names_are_immutable() {
        assert!(is_hashed_asset("/qrauth-app-34df01e574613f8a.js"));
        assert!(is_hashed_asset("/qrauth-app-34df01e574613f8a_bg.wasm"));
        assert!(is_hashed_asset("/qrauth-app-34df01e574613f8.js"));
        assert!(!is_hashed_asset("/favicon.svg"));
        assert!(!is_hashed_asset("/app-1.js"));
        assert!(!is_hashed_asset("/"));
    }

    #[test]
    fn hashes_only_inline_scripts() {
        let html = r#"<html><head><script type="module" src="/app.js"></script>
<SCRIPT type="module">import init from '/app.js';await init();</SCRIPT></head></html>"#;
        let hashes = inline_script_hashes(html);
        let expected = Sha256::digest(b"import init from '/app.js';await init();");
        assert_eq!(
            hashes,
            vec![format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(expected)
            )]
        );
        assert!(content_security_policy(&hashes).contains(&hashes[0]));
    }
}
