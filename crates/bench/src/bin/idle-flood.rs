//! Opens many idle connections to a running `qrauth serve` from one address (127.0.0.1), as a
//! slowloris attacker would, and times `GET /api/v1/live` for another client (127.0.0.2) before
//! and during the flood: `idle-flood <url> <sockets>` prints one JSON line.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Requests timed in each phase; the median is reported.
const SAMPLES: usize = 21;

/// One `GET /api/v1/live` from 127.0.0.2 on its own connection: how long until the whole answer.
async fn live(addr: std::net::SocketAddr) -> Result<Duration, String> {
    let started = Instant::now();
    let socket = TcpSocket::new_v4().map_err(|e| e.to_string())?;
    socket
        .bind("127.0.0.2:0".parse().map_err(|e| format!("{e}"))?)
        .map_err(|e| format!("bind 127.0.0.2: {e}"))?;
    let mut stream = tokio::time::timeout(Duration::from_secs(10), socket.connect(addr))
        .await
        .map_err(|_| "connect: no answer in 10 s".to_owned())?
        .map_err(|e| format!("connect: {e}"))?;
    stream
        .write_all(b"GET /api/v1/live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await
        .map_err(|e| format!("write: {e}"))?;
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .map_err(|_| "read: no answer in 10 s".to_owned())?
        .map_err(|e| format!("read: {e}"))?;
    if !answer.starts_with(b"HTTP/1.1 200") {
        return Err(format!("answer: {}", String::from_utf8_lossy(&answer)));
    }
    Ok(started.elapsed())
}

async fn median(addr: std::net::SocketAddr) -> Result<f64, String> {
    let mut times = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        times.push(live(addr).await?.as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[SAMPLES / 2])
}

async fn run(url: &str, sockets: usize) -> Result<String, String> {
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let addr: std::net::SocketAddr = host.parse().map_err(|e| format!("{host}: {e}"))?;
    let quiet = median(addr).await?;
    let mut flood = Vec::with_capacity(sockets);
    for _ in 0..sockets {
        match TcpStream::connect(addr).await {
            Ok(stream) => flood.push(stream),
            Err(e) => return Err(format!("flood socket {}: {e}", flood.len())),
        }
    }
    let during = median(addr).await?;
    // How many the server still holds: those it closed read as the end of the stream.
    let mut held = 0;
    for stream in &mut flood {
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_millis(5), stream.read(&mut byte)).await;
        if read.is_err() {
            held += 1;
        }
    }
    Ok(format!(
        "{{\"quietMs\":{quiet:.3},\"floodMs\":{during:.3},\"sockets\":{sockets},\"heldOpen\":{held}}}"
    ))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(url), Some(sockets)) = (args.get(1), args.get(2).and_then(|n| n.parse().ok())) else {
        eprintln!("usage: idle-flood <url> <sockets>");
        return std::process::ExitCode::FAILURE;
    };
    match run(url, sockets).await {
        Ok(line) => {
            println!("{line}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("idle-flood: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
