//! A plain HTTP/1.1 client, one connection per request: a request that the server's death cuts
//! off fails on its own, and no connection outlives a restart.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An answer from the server.
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Header lines, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body, as sent.
    pub body: Vec<u8>,
    /// From the start of the connection to the last byte read.
    pub latency: Duration,
    /// The part of `latency` spent connecting: a long one is the kernel's queue of connections
    /// not yet accepted, not the server's work.
    pub connecting: Duration,
}

impl Reply {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The body as the API's answer of type `T` (`qrauth_core::wire`).
    pub fn answer<T: serde::de::DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_slice(&self.body)
            .map_err(|e| format!("{e} in {}", String::from_utf8_lossy(&self.body)))
    }

    /// The API's error code, for a refusal.
    pub fn error_code(&self) -> String {
        self.answer::<qrauth_core::wire::ErrorBody>()
            .map(|body| body.error.code)
            .unwrap_or_default()
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Status and body, for messages.
    pub fn describe(&self) -> String {
        format!("{} {}", self.status, String::from_utf8_lossy(&self.body))
    }
}

/// Why no answer came.
#[derive(Debug)]
pub enum Failed {
    /// No connection, or it broke before a whole answer: the server may or may not have acted.
    Connection(std::io::Error),
    /// No whole answer in time.
    Timeout,
    /// Something that is not HTTP came back.
    Garbled(String),
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failed::Connection(e) => write!(f, "connection: {e}"),
            Failed::Timeout => write!(f, "no answer in time"),
            Failed::Garbled(why) => write!(f, "not HTTP: {why}"),
        }
    }
}

/// Where requests go.
#[derive(Clone, Copy, Debug)]
pub struct Client {
    /// The server's address.
    pub addr: SocketAddr,
}

impl Client {
    /// Sends one request: `headers` are `(name, value)`, a body is sent as JSON.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<Reply, Failed> {
        within(timeout, async {
            let started = Instant::now();
            let stream = TcpStream::connect(self.addr)
                .await
                .map_err(Failed::Connection)?;
            let connecting = started.elapsed();
            let mut reply = self.exchange(stream, method, path, headers, body).await?;
            reply.latency = started.elapsed();
            reply.connecting = connecting;
            Ok(reply)
        })
        .await
    }

    /// Sends one request on a connection made beforehand, such as one the kernel queued while
    /// the server could not accept it; `latency` counts from the first byte sent.
    pub async fn send_on(
        &self,
        stream: TcpStream,
        method: &str,
        path: &str,
        timeout: Duration,
    ) -> Result<Reply, Failed> {
        within(timeout, async {
            let started = Instant::now();
            let mut reply = self.exchange(stream, method, path, &[], None).await?;
            reply.latency = started.elapsed();
            Ok(reply)
        })
        .await
    }

    async fn exchange(
        &self,
        mut stream: TcpStream,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Reply, Failed> {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.addr);
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        let body = body.unwrap_or_default();
        if !body.is_empty() || method == "POST" {
            head.push_str("Content-Type: application/json\r\n");
        }
        head.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        ));
        let mut request = head.into_bytes();
        request.extend_from_slice(body);
        stream
            .write_all(&request)
            .await
            .map_err(Failed::Connection)?;
        let mut raw = Vec::new();
        stream
            .read_to_end(&mut raw)
            .await
            .map_err(Failed::Connection)?;
        parse(&raw)
    }
}

/// `exchange`'s result, or `Failed::Timeout` when it takes longer than `timeout`.
async fn within(
    timeout: Duration,
    exchange: impl Future<Output = Result<Reply, Failed>>,
) -> Result<Reply, Failed> {
    tokio::time::timeout(timeout, exchange)
        .await
        .unwrap_or(Err(Failed::Timeout))
}

fn parse(raw: &[u8]) -> Result<Reply, Failed> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| {
            Failed::Connection(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!(
                    "closed after {} bytes, before the end of the head",
                    raw.len()
                ),
            ))
        })?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|e| Failed::Garbled(e.to_string()))?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| Failed::Garbled(format!("status line of {head:?}")))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let body = raw[end + 4..].to_vec();
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok());
    if length.is_some_and(|length| length != body.len()) {
        return Err(Failed::Connection(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("body cut at {} of {length:?} bytes", body.len()),
        )));
    }
    Ok(Reply {
        status,
        headers,
        body,
        latency: Duration::ZERO,
        connecting: Duration::ZERO,
    })
}
