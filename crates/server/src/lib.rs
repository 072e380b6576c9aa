//! The qrauth reference server: the HTTP API under `/api/v1`, durable storage, and optionally
//! the built single-page app, all in one process.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use qrauth_server::{Server, ServerConfig};
//! let server = Server::bind(ServerConfig::new("127.0.0.1:0".parse()?, "qrauth.sqlite3".into())).await?;
//! println!("listening on {}", server.local_addr());
//! server.run(async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(()) }
//! ```

mod activations;
mod api;
mod authority;
mod identity;
mod limits;
mod logins;
mod operations;
mod retention;
pub mod secrets;
mod session;
mod signed;
mod storage;
pub mod users;
mod vault;
mod web;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tokio::net::{TcpListener, TcpSocket};

pub use activations::{ActivationError, ActivationStatus, ActivationView, NewActivation};
pub use authority::{Authority, Policy};
pub use logins::LoginState;
pub use operations::{NewOperation, OperationDetails, OperationError, OperationRequest};
pub use storage::{Storage, StorageError, StorageFault};
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
    /// The SQLite database file, created if missing.
    pub database: PathBuf,
    /// A built app (trunk's `dist/`) to serve at `/`; `None` serves the API alone.
    pub static_dir: Option<PathBuf>,
    /// Where the key that seals private keys at rest comes from.
    pub key: KeySource,
    /// Lifetimes, limits and names.
    pub policy: Policy,
}

impl ServerConfig {
    /// A configuration that serves the API alone, with the default policy and the storage key
    /// from [`KEY_ENV`] or beside the database.
    pub fn new(listen: SocketAddr, database: PathBuf) -> Self {
        ServerConfig {
            listen,
            key: KeySource::default_for(&database),
            database,
            static_dir: None,
            policy: Policy::default(),
        }
    }
}

/// Why the server could not start or stopped with an error.
#[derive(Debug)]
pub enum ServeError {
    /// The database could not be opened or migrated.
    Storage(StorageError),
    /// The storage key is unusable or does not open this database's keys.
    Key(StorageError),
    /// The static directory has no usable `index.html`.
    StaticFiles(String),
    /// An allowed origin is not of the form `scheme://host[:port]`.
    Origin(String),
    /// The address could not be bound, or the listener failed.
    Io(std::io::Error),
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServeError::Storage(e) => write!(f, "{e}"),
            ServeError::Key(e) => write!(f, "storage key: {e}"),
            ServeError::StaticFiles(e) => write!(f, "static files: {e}"),
            ServeError::Origin(e) => write!(f, "allowed origin: {e}"),
            ServeError::Io(e) => write!(f, "network: {e}"),
        }
    }
}

impl std::error::Error for ServeError {}

impl From<StorageError> for ServeError {
    fn from(e: StorageError) -> Self {
        ServeError::Storage(e)
    }
}

impl From<std::io::Error> for ServeError {
    fn from(e: std::io::Error) -> Self {
        ServeError::Io(e)
    }
}

/// Shared by every request.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) authority: Authority,
    /// Password sign-in attempts per client address.
    pub(crate) sign_in_limit: Arc<limits::RateLimit>,
    /// Requests per client address to the endpoints that create things.
    pub(crate) creation_limit: Arc<limits::RateLimit>,
    /// Wakes long-polls of login sessions.
    pub(crate) login_watch: Arc<logins::LoginWatch>,
}

impl AppState {
    /// Takes one request from `client`'s creation budget, or answers 429 (audited).
    pub(crate) async fn check_creation_limit(
        &self,
        client: SocketAddr,
    ) -> Result<(), api::ApiError> {
        if let Err(wait) = self.creation_limit.check(client.ip()) {
            self.authority
                .storage
                .audit("rate_limited", format!("client {}", client.ip()))
                .await?;
            return Err(api::ApiError::rate_limited(wait));
        }
        Ok(())
    }

    /// Starts a browser session for `user_id` and returns its `Set-Cookie` value.
    pub(crate) async fn start_browser_session(&self, user_id: i64) -> Result<String, StorageError> {
        let token = users::start_session(&self.authority.storage, user_id).await?;
        Ok(session::cookie(
            &token,
            users::SESSION_LIFETIME_MS / 1000,
            self.authority.policy.secure_cookies,
        ))
    }
}

/// Password sign-in attempts allowed per client address: a burst of this many, refilled over a
/// minute. Argon2 makes each attempt cost the server too, so this also bounds that work.
pub const SIGN_IN_ATTEMPTS_PER_MINUTE: u32 = 10;

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
}

impl Server {
    /// Opens the database, reads the static app if any, and binds the address.
    pub async fn bind(config: ServerConfig) -> Result<Self, ServeError> {
        let storage = Storage::open(&config.database)?;
        let vault = Vault::open(&config.key).map_err(ServeError::Key)?;
        let authority = Authority::open(storage.clone(), vault, config.policy.clone())
            .await
            .map_err(ServeError::Key)?;
        let cors = web::cors(&config.policy.allowed_origins).map_err(ServeError::Origin)?;
        let static_app = match &config.static_dir {
            Some(dir) => Some(web::StaticApp::load(dir).map_err(ServeError::StaticFiles)?),
            None => None,
        };
        let router = router(
            AppState {
                sign_in_limit: Arc::new(limits::RateLimit::new(
                    SIGN_IN_ATTEMPTS_PER_MINUTE,
                    std::time::Duration::from_secs(60),
                )),
                creation_limit: Arc::new(limits::RateLimit::new(
                    config.policy.creations_per_minute,
                    std::time::Duration::from_secs(60),
                )),
                login_watch: Arc::default(),
                authority,
            },
            static_app,
            cors,
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
        let sweeper = tokio::spawn(retention::run(self.storage.clone()));
        let served = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        sweeper.abort();
        served?;
        self.storage.audit("server.stopped", String::new()).await?;
        Ok(())
    }
}

fn router(
    state: AppState,
    static_app: Option<web::StaticApp>,
    cors: Option<tower_http::cors::CorsLayer>,
) -> Router {
    let mut v1 = api::routes(state);
    if let Some(cors) = cors {
        v1 = v1.layer(cors);
    }
    let api = Router::new()
        .nest("/api/v1", v1)
        .route("/api/{*rest}", axum::routing::any(api::not_found));
    let (router, inline_scripts) = match static_app {
        Some(app) => {
            let hashes = app.inline_script_hashes().to_vec();
            (api.merge(app.routes()), hashes)
        }
        None => (api.fallback(api::not_found), Vec::new()),
    };
    web::with_security_headers(router, &inline_scripts).layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}
