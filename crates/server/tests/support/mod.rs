//! A server on 127.0.0.1 and a plain HTTP/1.1 client for the integration tests.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)] // shared by several test crates

use std::net::SocketAddr;
use std::path::Path;

use qrauth_server::{Database, Server, ServerConfig, Storage};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The environment variable that runs these tests on PostgreSQL: the URL of a cluster's
/// maintenance database, where each test makes a database of its own. `cargo xtask test` sets
/// it for the second run of these tests, on a throwaway cluster it starts.
pub const POSTGRES_ENV: &str = "QRAUTH_TEST_POSTGRES";

/// A new, empty database for one test: a SQLite file in `dir`, or, with [`POSTGRES_ENV`] set,
/// a database of its own on that cluster.
pub async fn fresh_database(dir: &Path) -> Database {
    let Ok(cluster) = std::env::var(POSTGRES_ENV) else {
        return Database::Sqlite(dir.join("db.sqlite3"));
    };
    static MADE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let name = format!(
        "test_{}_{}_{}",
        std::process::id(),
        MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let create = format!("CREATE DATABASE {name}");
    let url = cluster.clone();
    tokio::task::spawn_blocking(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        client.batch_execute(&create).unwrap();
    })
    .await
    .unwrap();
    let (base, _) = cluster.rsplit_once('/').unwrap();
    Database::Postgres(format!("{base}/{name}"))
}

/// The storage of `database`, opened beside a server that may be running on it.
pub async fn beside(database: &Database) -> Storage {
    match database {
        Database::Sqlite(path) => Storage::open_read_only(path).unwrap(),
        other => Storage::connect(other).await.unwrap(),
    }
}

pub struct Running {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Running {
    /// A server on a fresh database in `dir`.
    pub async fn start(dir: &Path, static_dir: Option<&Path>) -> Running {
        Self::on(&fresh_database(dir).await, static_dir).await
    }

    /// A server on `database`, which may hold a previous server's data.
    pub async fn on(database: &Database, static_dir: Option<&Path>) -> Running {
        let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap(), database.clone());
        config.static_dir = static_dir.map(Path::to_owned);
        Self::with_config(config).await
    }

    pub async fn with_config(config: ServerConfig) -> Running {
        let server = Server::bind(config).await.unwrap();
        let addr = server.local_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            server
                .run(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Running {
            addr,
            stop: Some(stop),
            task,
        }
    }

    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap();
    }

    pub async fn request(&self, method: &str, path: &str) -> Reply {
        self.request_with(method, path, "").await
    }

    /// A request with extra header lines, each ending in CRLF.
    pub async fn request_with(&self, method: &str, path: &str, headers: &str) -> Reply {
        self.send(method, path, headers, b"").await
    }

    /// A request with a JSON body and optional extra header lines.
    pub async fn json(&self, method: &str, path: &str, headers: &str, body: &str) -> Reply {
        let headers = format!("Content-Type: application/json\r\n{headers}");
        self.send(method, path, &headers, body.as_bytes()).await
    }

    pub async fn send(&self, method: &str, path: &str, headers: &str, body: &[u8]) -> Reply {
        send(self.addr, method, path, headers, body).await
    }
}

/// One request on its own connection; free of `Running` so that spawned tasks can make it.
pub async fn send(addr: SocketAddr, method: &str, path: &str, headers: &str, body: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // The server may answer (413) and close before reading a large body.
    let _ = stream.write_all(body).await;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    Reply::parse(&raw)
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn parse(raw: &[u8]) -> Reply {
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8(raw[..split].to_vec()).unwrap();
        let body = &raw[split + 4..];
        let mut lines = head.lines();
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect::<Vec<_>>();
        let chunked = headers
            .iter()
            .any(|(k, v)| k == "transfer-encoding" && v == "chunked");
        let body = if chunked {
            dechunk(body)
        } else {
            body.to_vec()
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
    }

    pub fn has_header(&self, name: &str) -> bool {
        self.headers.iter().any(|(k, _)| k == name)
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }
}

pub fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = body.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&body[..end]).unwrap();
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        if size == 0 {
            break;
        }
        let rest = &body[end + 2..];
        out.extend_from_slice(&rest[..size]);
        body = &rest[size + 2..];
    }
    out
}
