//! Holds many login long-polls open at once against a running `qrauth serve` and reports what
//! the server paid: `long-polls <url> <clients> <server pid>` prints one JSON line.
//!
//! Requests are written by hand over TCP (HTTP/1.1, `Connection: close`): a client library
//! would add nothing but weight to a test of the server.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

/// Connections being opened at once: the listen backlog is finite.
const OPENING_AT_ONCE: usize = 256;

struct Login {
    id: String,
    poll_secret: String,
}

/// Connects and sends one request; the answer is read with [`answer`].
async fn send(host: &str, head: &str, body: &str) -> Result<TcpStream, String> {
    let mut stream = TcpStream::connect(host)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let request = format!(
        "{head}\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("write: {e}"))?;
    Ok(stream)
}

/// The whole answer (the server closes the connection after it): its status and body.
async fn answer(mut stream: TcpStream) -> Result<(u16, String), String> {
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .await
        .map_err(|e| format!("read: {e}"))?;
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status line in {text:?}"))?;
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    Ok((status, body))
}

async fn create_login(host: &str) -> Result<Login, String> {
    let (status, body) = answer(send(host, "POST /api/v1/logins HTTP/1.1", "").await?).await?;
    if status != 201 {
        return Err(format!("POST /api/v1/logins: {status} {body}"));
    }
    let json: serde_json::Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
    let field = |name: &str| {
        json[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("no {name} in {body}"))
    };
    Ok(Login {
        id: field("loginId")?,
        poll_secret: field("pollSecret")?,
    })
}

/// Resident memory of `pid` in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, clients, pid] = args.as_slice() else {
        return Err("usage: long-polls <http://127.0.0.1:port> <clients> <server pid>".into());
    };
    let host = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let clients: usize = clients.parse().map_err(|_| "clients is a number")?;
    let pid: u32 = pid.parse().map_err(|_| "pid is a number")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(run(Arc::from(host), clients, pid))
}

async fn run(host: Arc<str>, clients: usize, pid: u32) -> Result<(), String> {
    let rss_before = rss_kib(pid);
    let opening = Arc::new(Semaphore::new(OPENING_AT_ONCE));
    let mut created = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (host, opening) = (Arc::clone(&host), Arc::clone(&opening));
        created.push(tokio::spawn(async move {
            let _turn = opening.acquire().await;
            create_login(&host).await
        }));
    }
    let mut logins = Vec::with_capacity(clients);
    for task in created {
        logins.push(task.await.map_err(|e| e.to_string())??);
    }
    let rss_idle = rss_kib(pid);

    let waiting = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut polls = Vec::with_capacity(clients);
    for login in logins {
        let (host, opening, waiting) = (
            Arc::clone(&host),
            Arc::clone(&opening),
            Arc::clone(&waiting),
        );
        polls.push(tokio::spawn(async move {
            let head = format!(
                "GET /api/v1/logins/{}?wait=30&state=PENDING HTTP/1.1\r\nAuthorization: Bearer {}",
                login.id, login.poll_secret
            );
            let turn = opening.acquire().await;
            let stream = send(&host, &head, "").await?;
            drop(turn);
            waiting.fetch_add(1, Ordering::Relaxed);
            match answer(stream).await? {
                (200, body) if body.contains("\"PENDING\"") => Ok(()),
                (status, body) => Err(format!("{status} {body}")),
            }
        }));
    }
    // Memory while every poll is held: sampled until the first answers come (after 30 s).
    let mut rss_peak = 0;
    let mut all_waiting_after = None;
    while started.elapsed() < Duration::from_secs(28) {
        rss_peak = rss_peak.max(rss_kib(pid));
        if all_waiting_after.is_none() && waiting.load(Ordering::Relaxed) == clients {
            all_waiting_after = Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut errors = Vec::new();
    for poll in polls {
        if let Err(e) = poll.await.map_err(|e| e.to_string()).and_then(|r| r) {
            errors.push(e);
        }
    }
    let first_errors: Vec<&String> = errors.iter().take(3).collect();
    println!(
        "{}",
        serde_json::json!({
            "clients": clients,
            "allWaitingAfterMs": all_waiting_after.map(|d| d.as_millis() as u64),
            "rssBeforeKib": rss_before,
            "rssWithLoginsKib": rss_idle,
            "rssPeakKib": rss_peak,
            "errors": errors.len(),
            "firstErrors": first_errors,
        })
    );
    Ok(())
}
