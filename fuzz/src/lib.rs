//! A qrauth server answering in-process, for the fuzz targets that send it request bodies.
//!
//! One server per fuzzing process, on a fresh database in the temporary directory, with a user
//! who has an active token, a pending payment and a scanned login: so that a body that parses
//! reaches the checks behind it (codes, signatures, states), not only "not found".

use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderName, HeaderValue, Request};
use qrauth_server::{KeySource, Policy, Server, ServerConfig, Storage};
use serde_json::{Value, json};
use tower::ServiceExt;

/// The server and what it was given to work on.
pub struct Target {
    runtime: tokio::runtime::Runtime,
    router: Router,
    /// A pending payment of the user with the token.
    pub operation_id: String,
    /// A login the token has scanned, and its scan code.
    pub login_id: String,
    pub scan_code: String,
}

/// What the server answered.
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

static TARGET: OnceLock<Target> = OnceLock::new();

/// The process's server, started on first use.
pub fn target() -> &'static Target {
    TARGET.get_or_init(Target::start)
}

impl Target {
    fn start() -> Target {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a Tokio runtime");
        let dir = std::env::temp_dir().join(format!("qrauth-fuzz-{}", std::process::id()));
        remove_databases_of_ended_runs();
        let _ = std::fs::remove_dir_all(&dir);
        let database = dir.join("qrauth.sqlite3");
        let router = runtime.block_on(async {
            let storage = Storage::open(&database).expect("the fuzz database");
            qrauth_server::users::add_user(&storage, "alice", "correct horse battery", false)
                .await
                .expect("a user");
            let mut config =
                ServerConfig::new("127.0.0.1:0".parse().expect("an address"), database);
            config.key = KeySource::Base64(qrauth_core::base64::encode(&[9u8; 32]));
            // Every input comes from one address; the per-address limit would otherwise turn
            // all but the first few into 429 before their bodies are looked at.
            config.policy = Policy {
                creations_per_minute: u32::MAX,
                ..Policy::default()
            };
            Server::bind(config)
                .await
                .expect("the server")
                .into_router()
        });
        let mut target = Target {
            runtime,
            router,
            operation_id: String::new(),
            login_id: String::new(),
            scan_code: String::new(),
        };
        target.prepare();
        target
    }

    /// A signed-in user with an active token, a pending payment and a scanned login.
    fn prepare(&mut self) {
        let signed_in = self.post_json(
            "/api/v1/session",
            &[],
            json!({"user": "alice", "password": "correct horse battery"}),
        );
        let cookie = signed_in.1.expect("a session cookie");
        let created = self.post_json(
            "/api/v1/activations",
            &[("cookie", cookie.as_bytes())],
            json!({}),
        );
        let device = qrauth_core::keys::PrivateKey::from_random(&[3u8; 32]).expect("a key");
        self.post_json(
            "/api/v1/token/activations",
            &[],
            json!({
                "activationCode": created.0["activationCode"],
                "devicePublicKey": device.public_key().to_base64(),
            }),
        );
        let payment = self.post_json(
            "/api/v1/operations",
            &[("cookie", cookie.as_bytes())],
            json!({"type": "payment", "amount": "100.00", "currency": "EUR",
                   "iban": "CZ6508000000192000145399"}),
        );
        self.operation_id = text(&payment.0["operationId"]);
        let login = self.post_json("/api/v1/logins", &[], json!({}));
        self.login_id = text(&login.0["loginId"]);
        let qr = text(&login.0["qrText"]);
        self.scan_code = qr
            .split_once("#scan=")
            .map(|(_, c)| c.to_owned())
            .unwrap_or_default();
        let scan = json!({"scanCode": self.scan_code});
        self.post_json("/api/v1/token/logins/attach", &[], scan);
    }

    /// A set-up request that must succeed: its JSON answer and any cookie it set.
    fn post_json(
        &self,
        path: &str,
        headers: &[(&str, &[u8])],
        body: Value,
    ) -> (Value, Option<String>) {
        let (answer, cookie) = self.exchange(path, headers, body.to_string().as_bytes());
        assert!(
            answer.status < 300,
            "set-up {path}: {} {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        );
        let value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
        (value, cookie)
    }

    /// POSTs `body` as JSON to `path` with extra headers (a header whose value is not a valid
    /// header value is left out, as no HTTP client could send it).
    pub fn post(&self, path: &str, headers: &[(&str, &[u8])], body: &[u8]) -> Answer {
        self.exchange(path, headers, body).0
    }

    fn exchange(
        &self,
        path: &str,
        headers: &[(&str, &[u8])],
        body: &[u8],
    ) -> (Answer, Option<String>) {
        let mut request = Request::post(path)
            .header("host", "127.0.0.1")
            .header("content-type", "application/json")
            .body(Body::from(body.to_vec()))
            .expect("a request");
        for (name, value) in headers {
            if let (Ok(name), Ok(value)) =
                (HeaderName::try_from(*name), HeaderValue::from_bytes(value))
            {
                request.headers_mut().insert(name, value);
            }
        }
        let client: SocketAddr = ([127, 0, 0, 1], 40000).into();
        request.extensions_mut().insert(ConnectInfo(client));
        self.runtime.block_on(async {
            let response = self
                .router
                .clone()
                .oneshot(request)
                .await
                .expect("the router never fails");
            let status = response.status().as_u16();
            let cookie = response
                .headers()
                .get("set-cookie")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(';').next())
                .map(str::to_owned);
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .expect("a body")
                .to_vec();
            (Answer { status, body }, cookie)
        })
    }
}

/// libFuzzer ends the process with `exit`, so no run removes its own database: each removes
/// those of runs whose process is gone.
fn remove_databases_of_ended_runs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix("qrauth-fuzz-")) else {
            continue;
        };
        if !std::path::Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

impl Answer {
    /// What every answer to any body must be: not a server error, and a refusal says why in
    /// the API's error shape.
    pub fn check(&self) {
        assert!(
            self.status < 500,
            "server error {}: {}",
            self.status,
            String::from_utf8_lossy(&self.body)
        );
        if self.status >= 400 {
            let value: Value = serde_json::from_slice(&self.body).expect("an error answer is JSON");
            let code = value["error"]["code"].as_str().expect("an error code");
            let message = value["error"]["message"]
                .as_str()
                .expect("an error message");
            assert!(!code.is_empty() && !message.is_empty());
        }
    }
}
