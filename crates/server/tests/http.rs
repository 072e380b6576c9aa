//! The server over real HTTP on 127.0.0.1, with a real database file.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

mod support;

use std::path::Path;

use qrauth_server::{Database, Server, ServerConfig, Storage, VERSION};
use support::Running;

#[tokio::test]
async fn health_reports_version_and_storage() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(dir.path(), None).await;
    let reply = server.request("GET", "/api/v1/health").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), "application/json");
    assert_eq!(
        reply.json(),
        serde_json::json!({"status": "ok", "version": VERSION, "storage": "ok"})
    );
    let live = server.request("GET", "/api/v1/live").await;
    assert_eq!(live.status, 200);
    assert_eq!(live.json(), serde_json::json!({"status": "live"}));
    let csp = reply.header("content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(reply.header("x-content-type-options"), "nosniff");
    assert_eq!(reply.header("x-frame-options"), "DENY");
    server.stop().await;
}

#[tokio::test]
async fn unknown_endpoints_and_methods_get_json_errors() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(dir.path(), None).await;
    for path in ["/api/v1/nothing-here", "/api/v2/health", "/"] {
        let reply = server.request("GET", path).await;
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(reply.json()["error"]["code"], "not_found", "{path}");
    }
    let reply = server.request("DELETE", "/api/v1/health").await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.json()["error"]["code"], "method_not_allowed");
    server.stop().await;
}

#[tokio::test]
async fn a_bad_query_path_or_raw_body_gets_the_error_shape_too() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(dir.path(), None).await;
    let login = server.request("POST", "/api/v1/logins").await.json();
    let (id, secret) = (
        login["loginId"].as_str().unwrap(),
        login["pollSecret"].as_str().unwrap(),
    );
    let bearer = format!("Authorization: Bearer {secret}\r\n");
    for (path, code) in [
        (format!("/api/v1/logins/{id}?wait=soon"), "invalid_query"),
        (
            format!("/api/v1/logins/{id}?state=WAITING"),
            "invalid_query",
        ),
        ("/api/v1/logins/%FF%FE".to_owned(), "invalid_path"),
    ] {
        let reply = server.request_with("GET", &path, &bearer).await;
        assert_eq!(reply.status, 400, "{path}: {}", reply.text());
        assert_eq!(reply.header("content-type"), "application/json", "{path}");
        assert_eq!(reply.json()["error"]["code"], code, "{path}");
    }
    let huge = vec![b'x'; 70 * 1024];
    let reply = server
        .send("POST", "/api/v1/token/activations/a/remove", "", &huge)
        .await;
    assert_eq!(reply.status, 413);
    assert_eq!(reply.json()["error"]["code"], "body_too_large");
    server.stop().await;
}

#[tokio::test]
async fn the_qr_link_and_the_issuer_come_only_from_a_host_that_names_this_machine() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(dir.path(), None).await;
    for host in [
        "evil.example.com",
        "localhost.evil.example.com:80",
        "10.0.0.1",
    ] {
        let reply = create_login_as(server.addr, host).await;
        assert_eq!(reply.status, 400, "{host}: {}", reply.text());
        assert_eq!(reply.json()["error"]["code"], "invalid_host", "{host}");
    }
    let port = server.addr.port();
    let reply = create_login_as(server.addr, &format!("localhost:{port}")).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let qr = reply.json()["qrText"].as_str().unwrap().to_owned();
    assert!(
        qr.starts_with(&format!("http://localhost:{port}/token#scan=")),
        "{qr}"
    );
    server.stop().await;

    // Beyond loopback the Host cannot be trusted, so the public URL is required.
    let mut config = ServerConfig::new("0.0.0.0:0".parse().unwrap(), dir.path().join("db.sqlite3"));
    let error = Server::bind(config.clone())
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("--public-url"), "{error}");
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.policy.public_origin = Some("https://login.example.com".into());
    let server = Running::with_config(config).await;
    let reply = create_login_as(server.addr, "evil.example.com").await;
    assert_eq!(reply.status, 201);
    assert!(
        reply.json()["qrText"]
            .as_str()
            .unwrap()
            .starts_with("https://login.example.com/token#scan=")
    );
    server.stop().await;
}

/// `POST /api/v1/logins` with `host` as the only Host header.
async fn create_login_as(addr: std::net::SocketAddr, host: &str) -> support::Reply {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST /api/v1/logins HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    support::Reply::parse(&raw)
}

#[tokio::test]
async fn serves_the_app_with_a_policy_that_allows_only_its_own_start_script() {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    std::fs::create_dir(&dist).unwrap();
    // One bundle per page family.
    for (page, script) in [
        ("index.html", "app-1.js"),
        ("account.html", "account-1.js"),
        ("token.html", "token-1.js"),
    ] {
        std::fs::write(
            dist.join(page),
            format!("<html><head><script type=\"module\">import init from '/{script}';init();</script></head></html>"),
        )
        .unwrap();
    }
    let script_text = "export default function init() {}\n".repeat(100);
    std::fs::write(dist.join("app-1.js"), &script_text).unwrap();
    let server = Running::start(dir.path(), Some(&dist)).await;

    for (path, bundle) in [
        ("/", "/app-1.js"),
        ("/approve/123", "/app-1.js"),
        ("/account", "/account-1.js"),
        ("/approve", "/account-1.js"),
        ("/token", "/token-1.js"),
        ("/token/", "/app-1.js"),
    ] {
        let reply = server.request("GET", path).await;
        assert_eq!(reply.status, 200, "{path}");
        assert!(reply.text().contains(bundle), "{path} loads {bundle}");
        assert_eq!(reply.header("cache-control"), "no-cache");
        // Any page's start script may run: the policy names each, and nothing else inline.
        let csp = reply.header("content-security-policy");
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"),
            "{csp}"
        );
        assert_eq!(csp.matches("'sha256-").count(), 3, "{csp}");
    }
    let script = server.request("GET", "/app-1.js").await;
    assert_eq!(script.status, 200);
    assert_eq!(script.text(), script_text);
    assert_eq!(
        script.header("cache-control"),
        "no-cache",
        "not a hashed name"
    );
    let compressed = server
        .request_with("GET", "/app-1.js", "Accept-Encoding: gzip\r\n")
        .await;
    assert_eq!(compressed.header("content-encoding"), "gzip");
    assert!(compressed.body.len() < script_text.len() / 4);
    // A file built with its gzip beside it (`cargo xtask dist`) is sent as that file, with the
    // original's type, not compressed again on every request.
    let wasm = dist.join("app-1_bg.wasm");
    std::fs::write(&wasm, b"\0asm\x01\0\0\0".repeat(200)).unwrap();
    let gzipped = std::process::Command::new("gzip")
        .args(["-9", "-k"])
        .arg(&wasm)
        .status()
        .unwrap();
    assert!(gzipped.success());
    let stored = std::fs::read(dist.join("app-1_bg.wasm.gz")).unwrap();
    let sent = server
        .request_with("GET", "/app-1_bg.wasm", "Accept-Encoding: gzip\r\n")
        .await;
    assert_eq!(sent.status, 200);
    assert_eq!(sent.header("content-encoding"), "gzip");
    assert_eq!(sent.header("content-type"), "application/wasm");
    assert_eq!(sent.body, stored, "the stored gzip, byte for byte");
    let plain = server.request("GET", "/app-1_bg.wasm").await;
    assert_eq!(
        plain.body.len(),
        1600,
        "uncompressed for a client that takes no gzip"
    );
    assert_eq!(server.request("GET", "/missing.js").await.status, 404);
    assert_eq!(server.request("GET", "/api/v1/health").await.status, 200);
    assert_eq!(
        server.request("GET", "/api/v1/missing").await.json()["error"]["code"],
        "not_found"
    );
    server.stop().await;
}

#[tokio::test]
async fn refuses_to_start_without_a_built_app() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap(), dir.path().join("db"));
    config.static_dir = Some(dir.path().join("no-dist"));
    let error = Server::bind(config).await.err().unwrap().to_string();
    assert!(error.contains("cargo xtask dist"), "{error}");
}

#[tokio::test]
async fn state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let database = support::fresh_database(dir.path()).await;
    Running::on(&database, None).await.stop().await;
    let server = Running::on(&database, None).await;
    assert_eq!(server.request("GET", "/api/v1/health").await.status, 200);
    server.stop().await;
    let storage = Storage::connect(&database).await.unwrap();
    let starts = storage.audit_details("server.started").await.unwrap();
    assert_eq!(starts.len(), 2, "{starts:?}");
}

/// A fresh database in `dir` with the user alice, password "correct horse battery".
async fn database_with_alice(dir: &Path) -> Database {
    let database = support::fresh_database(dir).await;
    let storage = Storage::connect(&database).await.unwrap();
    qrauth_server::users::add_user(&storage, "alice", "correct horse battery", false)
        .await
        .unwrap();
    database
}

#[tokio::test]
async fn password_sign_in_gives_an_http_only_session_that_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let database = database_with_alice(dir.path()).await;
    let server = Running::on(&database, None).await;

    let reply = server
        .json(
            "POST",
            "/api/v1/session",
            "",
            r#"{"user":"alice","password":"correct horse battery"}"#,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json(), serde_json::json!({"user": "alice"}));
    let cookie = reply.header("set-cookie").to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_owned();
    let with_cookie = format!("Cookie: {session}\r\n");
    assert_eq!(
        server
            .request_with("GET", "/api/v1/session", &with_cookie)
            .await
            .json()["user"],
        "alice"
    );

    server.stop().await;
    let server = Running::on(&database, None).await;
    assert_eq!(
        server
            .request_with("GET", "/api/v1/session", &with_cookie)
            .await
            .status,
        200,
        "the session survives a restart"
    );
    assert_eq!(
        server
            .request_with("DELETE", "/api/v1/session", &with_cookie)
            .await
            .status,
        204
    );
    let after = server
        .request_with("GET", "/api/v1/session", &with_cookie)
        .await;
    assert_eq!(
        (after.status, after.json()["error"]["code"].clone()),
        (401, "not_signed_in".into())
    );
    server.stop().await;
}

#[tokio::test]
async fn wrong_passwords_and_unknown_users_get_the_same_answer() {
    let dir = tempfile::tempdir().unwrap();
    let database = database_with_alice(dir.path()).await;
    let server = Running::on(&database, None).await;
    for body in [
        r#"{"user":"alice","password":"wrong password"}"#,
        r#"{"user":"mallory","password":"correct horse battery"}"#,
    ] {
        let reply = server.json("POST", "/api/v1/session", "", body).await;
        assert_eq!(reply.status, 401, "{body}");
        assert_eq!(reply.json()["error"]["code"], "invalid_credentials");
        assert!(reply.headers.iter().all(|(k, _)| k != "set-cookie"));
    }
    server.stop().await;
}

#[tokio::test]
async fn bad_bodies_get_specific_errors() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(dir.path(), None).await;
    let huge = format!(r#"{{"user":"a","password":"{}"}}"#, "x".repeat(70 * 1024));
    // Nesting far past serde_json's depth limit (128), within the size limit: refused as
    // malformed, not a stack overflow.
    let deep_arrays = format!("{}{}", "[".repeat(30_000), "]".repeat(30_000));
    let deep_objects = format!(
        r#"{{"user":"a","password":{}1{}}}"#,
        r#"{"a":"#.repeat(10_000),
        "}".repeat(10_000)
    );
    for (body, status, code) in [
        (deep_arrays.as_str(), 400, "malformed_json"),
        (deep_objects.as_str(), 400, "malformed_json"),
        ("{not json", 400, "malformed_json"),
        (r#"{"user":"a"}"#, 422, "invalid_request"),
        (
            r#"{"user":"a","password":"b","admin":true}"#,
            422,
            "invalid_request",
        ),
        (r#"["a","b"]"#, 422, "invalid_request"),
        (huge.as_str(), 413, "body_too_large"),
    ] {
        let reply = server.json("POST", "/api/v1/session", "", body).await;
        assert_eq!(reply.status, status, "{}", &body[..body.len().min(40)]);
        assert_eq!(reply.json()["error"]["code"], code);
    }
    let plain = server
        .send(
            "POST",
            "/api/v1/session",
            "Content-Type: text/plain\r\n",
            b"{}",
        )
        .await;
    assert_eq!(
        (plain.status, plain.json()["error"]["code"].clone()),
        (415, "unsupported_media_type".into())
    );
    server.stop().await;
}

#[tokio::test]
async fn sign_in_attempts_are_limited_per_address() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(dir.path(), None).await;
    let attempt = r#"{"user":"mallory","password":"guess guess"}"#;
    for _ in 0..qrauth_server::SIGN_IN_ATTEMPTS_PER_MINUTE {
        assert_eq!(
            server
                .json("POST", "/api/v1/session", "", attempt)
                .await
                .status,
            401
        );
    }
    let limited = server.json("POST", "/api/v1/session", "", attempt).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.json()["error"]["code"], "rate_limited");
    let retry: u64 = limited.header("retry-after").parse().unwrap();
    assert!((1..=7).contains(&retry), "{retry}");
    // Reading the session is not limited.
    assert_eq!(server.request("GET", "/api/v1/session").await.status, 401);
    server.stop().await;
}

#[tokio::test]
async fn only_allowed_origins_may_call_the_api_from_the_browser() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap(), dir.path().join("db"));
    config.policy.allowed_origins = vec!["https://shop.example.com".into()];
    let server = Running::with_config(config).await;
    let preflight = |origin: &str| {
        format!(
            "Origin: {origin}\r\nAccess-Control-Request-Method: POST\r\n\
             Access-Control-Request-Headers: content-type, x-powerauth-authorization\r\n"
        )
    };
    let allowed = server
        .request_with(
            "OPTIONS",
            "/api/v1/token/logins/attach",
            &preflight("https://shop.example.com"),
        )
        .await;
    assert_eq!(allowed.status, 200);
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        "https://shop.example.com"
    );
    assert_eq!(allowed.header("access-control-allow-credentials"), "true");
    assert!(
        allowed
            .header("access-control-allow-headers")
            .contains("x-powerauth-authorization")
    );
    let other = server
        .request_with(
            "OPTIONS",
            "/api/v1/token/logins/attach",
            &preflight("https://evil.example.com"),
        )
        .await;
    assert!(!other.has_header("access-control-allow-origin"));
    let plain = server
        .request_with(
            "GET",
            "/api/v1/health",
            "Origin: https://evil.example.com\r\n",
        )
        .await;
    assert_eq!(plain.status, 200);
    assert!(!plain.has_header("access-control-allow-origin"));
    server.stop().await;

    for bad in [
        "shop.example.com",
        "https://shop.example.com/path",
        "ftp://x",
    ] {
        let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap(), dir.path().join("db"));
        config.policy.allowed_origins = vec![bad.into()];
        let error = Server::bind(config).await.err().unwrap().to_string();
        assert!(
            error.contains("allowed origin") && error.contains(bad),
            "{error}"
        );
    }
}

/// Reads until the server closes the connection, or `within` passes; true when it closed.
async fn closed_within(stream: &mut tokio::net::TcpStream, within: std::time::Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buffer = vec![0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

#[tokio::test]
async fn slow_and_idle_connections_are_closed_and_one_address_gets_only_its_share() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap(), dir.path().join("db"));
    config.policy.header_timeout = std::time::Duration::from_secs(1);
    config.policy.max_connections_per_address = 50;
    let server = Running::with_config(config).await;
    let addr = server.addr;
    let patience = std::time::Duration::from_secs(5);

    // Headers trickled and never finished (slowloris): closed.
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /api/v1/live HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    assert!(
        closed_within(&mut slow, patience).await,
        "a connection that never finishes its headers"
    );

    // A keep-alive connection left idle after its answer: closed too.
    let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /api/v1/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    assert!(
        closed_within(&mut idle, patience).await,
        "an idle keep-alive connection"
    );

    // 2 000 idle sockets from one address: it keeps 50, the rest are closed as they come, and
    // another address is served all the while.
    let mut flood = Vec::new();
    for _ in 0..2000 {
        flood.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    let other = tokio::net::TcpSocket::new_v4().unwrap();
    other.bind("127.0.0.2:0".parse().unwrap()).unwrap();
    let mut other = other.connect(addr).await.unwrap();
    other
        .write_all(b"GET /api/v1/live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut other, &mut answer)
        .await
        .unwrap();
    assert_eq!(support::Reply::parse(&answer).status, 200);
    let mut closed = 0;
    for socket in &mut flood {
        if closed_within(socket, std::time::Duration::from_millis(20)).await {
            closed += 1;
        }
    }
    assert!(closed >= 1950, "{closed} of 2000 closed at once");
    drop(flood);
    server.stop().await;
}
