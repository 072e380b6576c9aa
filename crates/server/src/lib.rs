//! The qrauth reference server: the HTTP API under `/api/v1`, durable storage, and optionally
//! the built single-page app, all in one process.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use qrauth_server::{Server, ServerConfig};
//! let server = Server::bind(ServerConfig::new("127.0.0.1:0".parse()?, std::path::PathBuf::from("qrauth.sqlite3"))).await?;
//! println!("listening on {}", server.local_addr());
//! server.run(async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(()) }
//! ```

mod flows;
mod http;
pub mod secrets;
mod store;
mod vault;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tokio::net::{TcpListener, TcpSocket};

pub use flows::attempts::SignatureError;
pub use flows::oidc::{ClientError, ClientView, NewClient, RegisteredClient};
pub use flows::{
    ActivationError, Authority, Caller, IpRange, LoginError, OperationError, Policy, users,
};
pub use http::connections::{HEADER_TIMEOUT, MAX_CONNECTIONS_PER_ADDRESS};
pub use http::{COOKIE, SIGN_IN_ATTEMPTS_PER_MINUTE};
pub use qrauth_core::wire::{ActivationView, CreateOperation, NewActivation, NewOperation};
pub use qrauth_core::{ActivationStatus, LoginState};
pub use store::{Database, Storage, StorageError, StorageFault};
pub use vault::{KEY_ENV, KeySource, Vault};

/// The version every response and the health endpoint report.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Request bodies larger than this are refused with 413 before any handler reads them: no API
/// request needs more, and a cap keeps a flood of large bodies from exhausting memory.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What `qrauth serve` is told on its command line.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The database: a SQLite file (created if missing) or a PostgreSQL URL.
    pub database: Database,
    /// A built app (trunk's `dist/`) to serve at `/`; `None` serves the API alone.
    pub static_dir: Option<PathBuf>,
    /// Where the key that seals private keys at rest comes from.
    pub key: KeySource,
    /// A file with the operator's token (`Authorization: Bearer …` makes payments for any
    /// user), made if missing; `None`: payments come only from the user's own session.
    pub operator_token: Option<PathBuf>,
    /// PowerAuth Server's REST methods for offline authentication, when enabled.
    pub powerauth: Option<PowerAuthRest>,
    /// Lifetimes, limits and names.
    pub policy: Policy,
}

/// Where and for whom `qrauth serve` offers PowerAuth Server's REST methods (docs/powerauth.md),
/// so that an application written for PowerAuth works unchanged.
#[derive(Clone, Debug)]
pub struct PowerAuthRest {
    /// The path they are mounted under, such as `/powerauth` (then
    /// `/powerauth/rest/v3/signature/offline/verify`).
    pub prefix: String,
    /// The file of clients allowed to call them (`token:secret` per line, HTTP basic), made
    /// with one new client if missing.
    pub clients_file: PathBuf,
    /// The `applicationId` they answer to and report.
    pub application_id: String,
}

impl PowerAuthRest {
    /// Mounted at PowerAuth Server's usual `/powerauth`, for application `qrauth`.
    pub fn new(clients_file: PathBuf) -> Self {
        PowerAuthRest {
            prefix: "/powerauth".into(),
            clients_file,
            application_id: "qrauth".into(),
        }
    }

    fn check(&self) -> Result<(), String> {
        let prefix = &self.prefix;
        let segments_ok = prefix.strip_prefix('/').is_some_and(|rest| {
            rest.split('/').all(|segment| {
                !segment.is_empty()
                    && segment
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
            })
        });
        if !segments_ok {
            return Err(format!(
                "the prefix {prefix:?} is not a path such as /powerauth (no trailing /)"
            ));
        }
        if prefix == "/api" || prefix.starts_with("/api/") {
            return Err(format!(
                "the prefix {prefix:?} is under /api, which is qrauth's own"
            ));
        }
        if self.application_id.trim().is_empty() {
            return Err("the application id is empty".into());
        }
        Ok(())
    }
}

impl ServerConfig {
    /// A configuration that serves the API alone, with the default policy and the storage key
    /// from [`KEY_ENV`] or beside a SQLite database.
    pub fn new(listen: SocketAddr, database: impl Into<Database>) -> Self {
        let database = database.into();
        ServerConfig {
            listen,
            key: KeySource::default_for(&database),
            database,
            static_dir: None,
            operator_token: None,
            powerauth: None,
            policy: Policy::default(),
        }
    }
}

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The database could not be opened or migrated.
    #[error("{0}")]
    Storage(#[from] StorageError),
    /// The storage key is unusable or does not open this database's keys.
    #[error("storage key: {0}")]
    Key(StorageError),
    /// The operator token file cannot be read or made, or holds too short a token.
    #[error("operator token: {0}")]
    OperatorToken(StorageError),
    /// The PowerAuth REST methods are misconfigured, or their client file is unusable.
    #[error("PowerAuth REST: {0}")]
    PowerAuth(String),
    /// The static directory has no usable `index.html`.
    #[error("static files: {0}")]
    StaticFiles(String),
    /// An allowed origin is not of the form `scheme://host[:port]`.
    #[error("allowed origin: {0}")]
    Origin(String),
    /// The server listens beyond loopback without a public URL.
    #[error("public URL: {0}")]
    PublicUrl(String),
    /// The address could not be bound, or the listener failed.
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
}

/// Connections the kernel may hold for the server before it accepts them (Linux lowers it to
/// `net.core.somaxconn`). The usual 128 is fewer than the clients that come back at once after
/// a restart or a pause: the kernel drops the SYNs beyond it, and each such client waits a whole
/// second to send its SYN again (the soak's slowest requests, 1.04 s of connecting, were these).
const LISTEN_BACKLOG: u32 = 4096;

/// A server that has opened its storage and bound its address, ready to run.
pub struct Server {
    listener: TcpListener,
    router: Router,
    storage: Storage,
    policy: Policy,
}

impl Server {
    /// Opens the database, reads the static app if any, and binds the address.
    pub async fn bind(config: ServerConfig) -> Result<Self, ServeError> {
        // Without a public URL the QR links are written from the Host header, which only a
        // loopback-only server can trust to name itself (http/extract.rs, `origin`).
        if config.policy.public_origin.is_none() && !config.listen.ip().is_loopback() {
            return Err(ServeError::PublicUrl(format!(
                "listening on {} needs the public URL pages and phones reach this server at \
                 (--public-url https://login.example.com)",
                config.listen
            )));
        }
        let vault = Vault::open(&config.key).map_err(ServeError::Key)?;
        let storage = Storage::connect(&config.database).await?;
        let authority = Authority::open(storage.clone(), vault, config.policy.clone())
            .await
            .map_err(ServeError::Key)?;
        authority.watch_other_servers();
        let cors = http::web::cors(&config.policy.allowed_origins).map_err(ServeError::Origin)?;
        let static_app = match &config.static_dir {
            Some(dir) => Some(http::web::StaticApp::load(dir).map_err(ServeError::StaticFiles)?),
            None => None,
        };
        let operator = match &config.operator_token {
            Some(path) => {
                Some(secrets::OperatorToken::open(path).map_err(ServeError::OperatorToken)?)
            }
            None => None,
        };
        let powerauth = match &config.powerauth {
            Some(rest) => {
                rest.check().map_err(ServeError::PowerAuth)?;
                let clients = secrets::IntegrationClients::open(&rest.clients_file)
                    .map_err(|e| ServeError::PowerAuth(e.to_string()))?;
                let state = http::powerauth::PowerAuthState {
                    authority: authority.clone(),
                    application_id: rest.application_id.as_str().into(),
                    clients: std::sync::Arc::new(clients),
                };
                Some((rest.prefix.clone(), http::powerauth::routes(state)))
            }
            None => None,
        };
        let router = router(
            http::AppState::new(authority, operator),
            static_app,
            cors,
            powerauth,
        );
        let socket = if config.listen.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        // A restarted server takes its port back while the old connections are in TIME_WAIT.
        socket.set_reuseaddr(true)?;
        socket.bind(config.listen)?;
        let listener = socket.listen(LISTEN_BACKLOG)?;
        Ok(Server {
            listener,
            router,
            storage,
            policy: config.policy,
        })
    }

    /// The address actually bound (with the port chosen when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    /// The routes without the listener, to answer requests in-process (the fuzz targets in
    /// `fuzz/` drive them this way). Each request needs a
    /// `ConnectInfo<SocketAddr>` extension, as the listener would add; no retention sweep runs.
    pub fn into_router(self) -> Router {
        self.router
    }

    /// Serves until `shutdown` completes, then lets requests in flight finish.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let addr = self.local_addr();
        self.storage
            .audit("server.started", format!("version {VERSION} on {addr}"))
            .await?;
        let sweeper = tokio::spawn(flows::retention::run(self.storage.clone()));
        http::connections::serve(self.listener, self.router, &self.policy, shutdown).await;
        sweeper.abort();
        self.storage.audit("server.stopped", String::new()).await?;
        Ok(())
    }
}

fn router(
    state: http::AppState,
    static_app: Option<http::web::StaticApp>,
    cors: Option<tower_http::cors::CorsLayer>,
    powerauth: Option<(String, Router)>,
) -> Router {
    let oidc = http::oidc::routes(state.clone());
    let mut v1 = http::routes(state);
    if let Some(cors) = cors {
        v1 = v1.layer(cors);
    }
    let mut api = Router::new()
        .nest("/api/v1", v1)
        .route("/api/{*rest}", axum::routing::any(http::not_found))
        .merge(oidc);
    if let Some((prefix, methods)) = powerauth {
        api = api.nest(&prefix, methods);
    }
    let (router, inline_scripts) = match static_app {
        Some(app) => {
            let hashes = app.inline_script_hashes().to_vec();
            (api.merge(app.routes()), hashes)
        }
        None => (api.fallback(http::not_found), Vec::new()),
    };
    http::web::with_security_headers(router, &inline_scripts)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_powerauth_prefix_is_a_path_of_its_own() {
        let with = |prefix: &str| PowerAuthRest {
            prefix: prefix.into(),
            ..PowerAuthRest::new("clients".into())
        };
        for good in ["/powerauth", "/bank/powerauth-server", "/pa_1.0"] {
            assert_eq!(with(good).check(), Ok(()), "{good}");
        }
        for bad in [
            "",
            "/",
            "powerauth",
            "/powerauth/",
            "/a//b",
            "/api",
            "/api/pa",
            "/p a",
        ] {
            assert!(with(bad).check().is_err(), "{bad:?}");
        }
        let nameless = PowerAuthRest {
            application_id: " ".into(),
            ..PowerAuthRest::new("clients".into())
        };
        assert!(nameless.check().is_err());
    }
}
