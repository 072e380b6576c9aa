//! HTTP/1.1 connections as browsers and balancers use them: many requests on one connection,
//! requests sent before the previous answer, bodies in chunks, and a shutdown in the middle.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

mod support;

use std::time::Duration;

use support::{Reply, Running};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads one answer from a connection that stays open: its head, then as many body bytes as
/// its `Content-Length` (or its chunks) say. `None` when the server closed the connection.
async fn next_answer(stream: &mut TcpStream, buffered: &mut Vec<u8>) -> Option<Reply> {
    loop {
        if let Some(end) = buffered.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffered[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(|v| v.trim().parse::<usize>().unwrap());
            let complete = match length {
                Some(length) => (buffered.len() >= end + 4 + length).then_some(end + 4 + length),
                None if head.contains("transfer-encoding: chunked") => buffered
                    .windows(5)
                    .position(|w| w == b"0\r\n\r\n")
                    .map(|at| at + 5),
                None => Some(end + 4),
            };
            if let Some(complete) = complete {
                let reply = Reply::parse(&buffered[..complete]);
                buffered.drain(..complete);
                return Some(reply);
            }
        }
        let mut chunk = [0u8; 4096];
        match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return None,
            Ok(Ok(n)) => buffered.extend_from_slice(&chunk[..n]),
            Err(_) => panic!("no answer within 10 s"),
        }
    }
}

/// True when the server closes the connection within `within` without sending anything more.
async fn closes_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut chunk = [0u8; 64];
    matches!(
        tokio::time::timeout(within, stream.read(&mut chunk)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

/// The page's long-poll of login `id` for `wait` seconds, on a connection kept open.
fn long_poll(host: std::net::SocketAddr, id: &str, secret: &str, wait: u32) -> String {
    format!(
        "GET /api/v1/logins/{id}?wait={wait}&state=PENDING HTTP/1.1\r\nHost: {host}\r\n\
         Authorization: Bearer {secret}\r\n\r\n"
    )
}

#[tokio::test]
async fn one_connection_carries_many_requests_and_a_long_poll_among_them() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(dir.path(), None).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let mut buffered = Vec::new();
    let host = server.addr;

    stream
        .write_all(format!("POST /api/v1/logins HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let created = next_answer(&mut stream, &mut buffered).await.unwrap();
    assert_eq!(created.status, 201, "{}", created.text());
    let created = created.json();
    let (id, secret) = (
        created["loginId"].as_str().unwrap().to_owned(),
        created["pollSecret"].as_str().unwrap().to_owned(),
    );

    // The long-poll waits its second on this connection, then answers on it.
    let started = std::time::Instant::now();
    stream
        .write_all(long_poll(host, &id, &secret, 1).as_bytes())
        .await
        .unwrap();
    let polled = next_answer(&mut stream, &mut buffered).await.unwrap();
    assert_eq!(polled.status, 200, "{}", polled.text());
    assert_eq!(polled.json()["state"], "PENDING");
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert!(polled.has_header("date"));

    // Two requests written at once (pipelined) get their answers in order, and a body given by
    // Content-Length is read whole: the scan code in it is looked up.
    let body = r#"{"scanCode":"not-a-login-here.0.AAAAAAAAAAA"}"#;
    stream
        .write_all(
            format!(
                "POST /api/v1/token/logins/attach HTTP/1.1\r\nHost: {host}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}\
                 GET /api/v1/live HTTP/1.1\r\nHost: {host}\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let attached = next_answer(&mut stream, &mut buffered).await.unwrap();
    assert_eq!(attached.status, 404, "{}", attached.text());
    assert_eq!(attached.json()["error"]["code"], "scan_code_not_found");
    let live = next_answer(&mut stream, &mut buffered).await.unwrap();
    assert_eq!(live.status, 200);
    assert_eq!(live.json()["status"], "live");

    // `Connection: close` is answered, then the connection ends.
    stream
        .write_all(
            format!("GET /api/v1/live HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    let last = next_answer(&mut stream, &mut buffered).await.unwrap();
    assert_eq!(last.status, 200);
    assert_eq!(last.header("connection"), "close");
    assert!(next_answer(&mut stream, &mut buffered).await.is_none());
    server.stop().await;
}

#[tokio::test]
async fn chunked_bodies_http_1_0_head_and_expect_are_served_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(dir.path(), None).await;
    let host = server.addr;

    // A body sent in chunks is read, and the connection goes on serving.
    let mut stream = TcpStream::connect(host).await.unwrap();
    let mut buffered = Vec::new();
    let body = r#"{"scanCode":"not-a-login-here.0.AAAAAAAAAAA"}"#;
    stream
        .write_all(
            format!(
                "POST /api/v1/token/logins/attach HTTP/1.1\r\nHost: {host}\r\n\
                 Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n\
                 {:x}\r\n{body}\r\n0\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let attached = next_answer(&mut stream, &mut buffered).await.unwrap();
    assert_eq!(attached.json()["error"]["code"], "scan_code_not_found");
    stream
        .write_all(format!("GET /api/v1/live HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    assert_eq!(
        next_answer(&mut stream, &mut buffered)
            .await
            .unwrap()
            .status,
        200
    );

    // HTTP/1.0 and HEAD.
    for request in [
        "GET /api/v1/live HTTP/1.0\r\n\r\n".to_owned(),
        format!("HEAD /api/v1/live HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
    ] {
        let mut stream = TcpStream::connect(host).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        let reply = Reply::parse(&raw);
        assert_eq!(reply.status, 200, "{request:?}");
        if request.starts_with("HEAD") {
            assert!(reply.body.is_empty(), "HEAD answered with a body");
        } else {
            assert_eq!(reply.json()["status"], "live");
        }
    }

    // `Expect: 100-continue` gets its interim answer before the body is sent.
    let mut stream = TcpStream::connect(host).await.unwrap();
    stream
        .write_all(
            format!(
                "POST /api/v1/token/logins/attach HTTP/1.1\r\nHost: {host}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\n\
                 Expect: 100-continue\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut interim = vec![0u8; 64];
    let n = stream.read(&mut interim).await.unwrap();
    assert!(
        interim[..n].starts_with(b"HTTP/1.1 100"),
        "{:?}",
        String::from_utf8_lossy(&interim[..n])
    );
    stream.write_all(body.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    assert_eq!(
        Reply::parse(&raw).json()["error"]["code"],
        "scan_code_not_found"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_body_over_the_limit_or_a_malformed_head_is_refused_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(dir.path(), None).await;
    let big = vec![b' '; qrauth_server::MAX_BODY_BYTES + 1];
    let reply = server
        .send(
            "POST",
            "/api/v1/token/logins/attach",
            "Content-Type: application/json\r\n",
            &big,
        )
        .await;
    assert_eq!(reply.status, 413);

    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /api/v1/live HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n")
        .await
        .unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    let answer = String::from_utf8_lossy(&raw);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer:?}");
    server.stop().await;
}

#[tokio::test]
async fn at_shutdown_idle_connections_close_and_a_long_poll_in_flight_is_answered() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(dir.path(), None).await;
    let host = server.addr;
    let created = server.request("POST", "/api/v1/logins").await.json();
    let (id, secret) = (
        created["loginId"].as_str().unwrap().to_owned(),
        created["pollSecret"].as_str().unwrap().to_owned(),
    );
    let mut idle = TcpStream::connect(host).await.unwrap();
    let mut idle_buffered = Vec::new();
    idle.write_all(format!("GET /api/v1/live HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    assert_eq!(
        next_answer(&mut idle, &mut idle_buffered)
            .await
            .unwrap()
            .status,
        200
    );
    let mut polling = TcpStream::connect(host).await.unwrap();
    polling
        .write_all(long_poll(host, &id, &secret, 2).as_bytes())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stopping = tokio::spawn(server.stop());
    assert!(
        closes_within(&mut idle, Duration::from_secs(1)).await,
        "an idle connection is closed at shutdown"
    );
    let mut buffered = Vec::new();
    let polled = next_answer(&mut polling, &mut buffered).await.unwrap();
    assert_eq!(polled.status, 200);
    assert_eq!(polled.json()["state"], "PENDING");
    tokio::time::timeout(Duration::from_secs(5), stopping)
        .await
        .expect("the server stops once the long-poll is answered")
        .unwrap();
}

#[tokio::test]
async fn a_page_that_leaves_mid_long_poll_gives_its_connection_back_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = qrauth_server::ServerConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        support::fresh_database(dir.path()).await,
    );
    config.policy.max_connections_per_address = 4;
    let server = Running::with_config(config).await;
    let host = server.addr;
    let created = server.request("POST", "/api/v1/logins").await.json();
    let (id, secret) = (
        created["loginId"].as_str().unwrap().to_owned(),
        created["pollSecret"].as_str().unwrap().to_owned(),
    );
    // The address's whole share waits on 30 s long-polls, then every page goes away.
    let mut waiting = Vec::new();
    for _ in 0..4 {
        let mut stream = TcpStream::connect(host).await.unwrap();
        stream
            .write_all(long_poll(host, &id, &secret, 30).as_bytes())
            .await
            .unwrap();
        waiting.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(waiting);
    // Their places are free again long before the 30 s are up.
    let given_back = std::time::Instant::now();
    let mut answered = 0;
    while answered < 4 {
        assert!(
            given_back.elapsed() < Duration::from_secs(10),
            "the connections of pages that left were still held"
        );
        let mut streams = Vec::new();
        for _ in 0..4 {
            let mut stream = TcpStream::connect(host).await.unwrap();
            stream
                .write_all(format!("GET /api/v1/live HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes())
                .await
                .unwrap();
            streams.push(stream);
        }
        answered = 0;
        for stream in &mut streams {
            let mut buffered = Vec::new();
            if next_answer(stream, &mut buffered)
                .await
                .is_some_and(|r| r.status == 200)
            {
                answered += 1;
            }
        }
        if answered < 4 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    server.stop().await;
}
