//! `qrauth serve` under faults, as a process: SIGKILLs during load, a full disk, a database
//! file that cannot be written, and the clock jumping forward. The load is qrauth-soak's
//! simulated users; `cargo xtask soak` runs the same at full size.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use qrauth_server::Database;
use qrauth_soak::http::{Client, Reply};
use qrauth_soak::load::{self, Plan};
use qrauth_soak::server::{Deployment, OPERATOR_TOKEN, PASSWORD, Running};
use qrauth_soak::token::{PIN, Token};
use serde_json::{Value, json};

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_qrauth"))
}

const WAIT: Duration = Duration::from_secs(30);

async fn post(client: &Client, path: &str, headers: &[(&str, &str)], body: Value) -> Reply {
    let body = body.to_string();
    client
        .send("POST", path, headers, Some(body.as_bytes()), WAIT)
        .await
        .unwrap()
}

async fn get(client: &Client, path: &str, headers: &[(&str, &str)]) -> Reply {
    client.send("GET", path, headers, None, WAIT).await.unwrap()
}

async fn payment(client: &Client, user: &str) -> Reply {
    let operator = format!("Bearer {OPERATOR_TOKEN}");
    post(
        client,
        "/api/v1/operations",
        &[("Authorization", &operator)],
        json!({"type": "payment", "amount": "10.00", "currency": "EUR",
               "iban": "CZ6508000000192000145399", "user": user}),
    )
    .await
}

/// A payment created and approved with `token`'s code: the code is accepted.
async fn approve_payment(client: &Client, token: &mut Token, user: &str) {
    let created = payment(client, user).await;
    assert_eq!(created.status, 201, "{}", created.describe());
    let created = created.json();
    let code = token
        .offline_code(created["payload"].as_str().unwrap(), PIN)
        .unwrap();
    let id = created["operationId"].as_str().unwrap();
    let verdict = post(
        client,
        &format!("/api/v1/operations/{id}/verify"),
        &[],
        json!({"code": code}),
    )
    .await;
    assert_eq!(verdict.json()["valid"], true, "{}", verdict.describe());
}

/// Runs `program` and fails the test with its output if it fails.
fn run(program: &str, args: &[&str]) {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} is needed for this test (cargo xtask setup): {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_under_sigkills_lose_nothing_and_see_no_server_error() {
    let dir = tempfile::tempdir().unwrap();
    let plan = Plan {
        users: 16,
        duration: Duration::from_secs(12),
        kills: 3,
        seed: 7,
        lifetime_s: 5,
        database_restarts: 0,
    };
    let (mut deployment, accounts) = Deployment::create(&binary(), dir.path(), plan.users)
        .await
        .unwrap();
    deployment.options = load::server_options(&plan);
    let report = load::run(&mut deployment, &accounts, &plan).await.unwrap();
    println!("{}", report.summary());
    assert_eq!(report.server_errors, Vec::<String>::new());
    assert_eq!(report.problems, Vec::<String>::new());
    assert_eq!(report.restarts.len(), 3);
    for flow in [
        "offline approval",
        "online login completed",
        "online login denied",
        "online login cancelled",
    ] {
        assert!(
            report.flows.get(flow).is_some_and(|n| *n > 0),
            "no {flow}: {report:?}"
        );
    }
    assert!(report.checked > 50, "{}", report.summary());
}

/// Clients that come back at the same moment, such as after a restart: while the server cannot
/// accept (stopped with SIGSTOP, as a server busy for a moment is), the kernel queues every one
/// of them, more than the usual listen queue of 128; none has its SYN dropped to be sent again a
/// second later, and all are answered once the server goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_connections_is_queued_while_the_server_cannot_accept() {
    const CLIENTS: usize = 400;
    let dir = tempfile::tempdir().unwrap();
    let (mut deployment, _) = one_user(dir.path()).await;
    let server = deployment.start().await.unwrap();
    let addr = server.client.addr;
    let pid = server.pid().unwrap().to_string();
    run("kill", &["-STOP", &pid]);
    // A queued connection completes in the kernel at once; a dropped SYN is resent after 1 s.
    let connects = (0..CLIENTS).map(|_| {
        tokio::spawn(async move {
            tokio::time::timeout(
                Duration::from_millis(700),
                tokio::net::TcpStream::connect(addr),
            )
            .await
        })
    });
    let mut streams = Vec::new();
    for connect in connects.collect::<Vec<_>>() {
        if let Ok(Ok(stream)) = connect.await.unwrap() {
            streams.push(stream);
        }
    }
    let queued = streams.len();
    run("kill", &["-CONT", &pid]);
    assert_eq!(
        queued, CLIENTS,
        "connections queued while the server was stopped (Linux caps the queue at net.core.somaxconn)"
    );

    let client = server.client;
    let answers = streams.into_iter().map(|stream| {
        tokio::spawn(async move {
            client
                .send_on(stream, "GET", "/api/v1/health", WAIT)
                .await
                .unwrap()
                .status
        })
    });
    for answer in answers.collect::<Vec<_>>() {
        assert_eq!(answer.await.unwrap(), 200);
    }
    server.kill().await;
}

/// A fresh database in `dir` with one user, `user-0`, and the text of their activation QR.
async fn one_user(dir: &Path) -> (Deployment, String) {
    let (deployment, accounts) = Deployment::create(&binary(), dir, 1).await.unwrap();
    (deployment, accounts[0].activation_qr.clone())
}

/// Starts the server and activates the user's token on it.
async fn start_with_token(deployment: &mut Deployment, activation_qr: &str) -> (Running, Token) {
    let server = deployment.start().await.unwrap();
    let token = Token::activate(&server.client, activation_qr, "phone")
        .await
        .unwrap();
    (server, token)
}

fn strings<const N: usize>(items: [&str; N]) -> Vec<String> {
    items.map(str::to_owned).to_vec()
}

/// Creates payments until the server refuses one with `code`; returns how many it still took
/// (the WAL may have room left in pages it already holds) and the refusal.
async fn count_refusals(client: &Client, user: &str, code: &str) -> (usize, Reply) {
    for attempt in 0..200 {
        let reply = payment(client, user).await;
        if reply.status != 201 {
            assert_eq!(reply.error_code(), code, "{}", reply.describe());
            return (attempt, reply);
        }
    }
    panic!("200 payments were created on storage that should refuse them");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_changes_clearly_keeps_reads_and_recovers_when_space_is_freed() {
    let dir = tempfile::tempdir().unwrap();
    let staging = dir.path().join("made");
    let disk = dir.path().join("disk");
    std::fs::create_dir_all(&staging).unwrap();
    std::fs::create_dir_all(&disk).unwrap();
    let (mut deployment, activation_qr) = one_user(&staging).await;
    // The server runs in its own mount namespace on an 8 MB tmpfs: a disk that really fills.
    deployment.database = Database::Sqlite(disk.join("qrauth.sqlite3"));
    deployment.wrapper = strings([
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        "mount -t tmpfs -o size=8m tmpfs \"$0\" && cp \"$1\"/qrauth.sqlite3* \"$0\"/ && shift && exec \"$@\"",
        disk.to_str().unwrap(),
        staging.to_str().unwrap(),
    ]);
    let (server, mut token) = start_with_token(&mut deployment, &activation_qr).await;
    let client = server.client;
    approve_payment(&client, &mut token, "user-0").await;
    let pending = payment(&client, "user-0").await.json();
    let pid = server.pid().unwrap().to_string();
    let in_namespace = |script: &str| {
        run(
            "nsenter",
            &[
                "--target",
                &pid,
                "--mount",
                "sh",
                "-c",
                script,
                disk.to_str().unwrap(),
            ],
        )
    };

    // Fill the disk (dd stops at "No space left on device").
    in_namespace("dd if=/dev/zero of=\"$0/filler\" bs=64k 2>/dev/null; true");
    let (created, refused) = count_refusals(&client, "user-0", "storage_full").await;
    assert_eq!(refused.status, 507);
    assert!(
        refused.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nothing was changed")
    );
    // Reads go on: the pending payment is there, and its code is refused without a trace
    // (the counter and the attempts are as they were).
    let id = pending["operationId"].as_str().unwrap();
    let shown = get(&client, &format!("/api/v1/operations/{id}"), &[]).await;
    assert_eq!(shown.json()["state"], "PENDING", "{}", shown.describe());
    let code = token
        .offline_code(pending["payload"].as_str().unwrap(), PIN)
        .unwrap();
    let verify = format!("/api/v1/operations/{id}/verify");
    let during = post(&client, &verify, &[], json!({"code": code})).await;
    assert_eq!(during.error_code(), "storage_full", "{}", during.describe());
    assert_eq!(
        get(&client, &format!("/api/v1/operations/{id}"), &[])
            .await
            .json()["state"],
        "PENDING"
    );
    let log = server.log_lines().join("\n");
    assert!(
        log.contains("disk that holds the database is full"),
        "{log}"
    );

    // Space is freed: the same code is accepted now, and new payments are made again.
    in_namespace("rm \"$0/filler\"");
    let after = post(&client, &verify, &[], json!({"code": code})).await;
    assert_eq!(after.json()["valid"], true, "{}", after.describe());
    approve_payment(&client, &mut token, "user-0").await;
    println!("disk full after {created} more payments; refused with 507, recovered");
    server.kill().await;
}

/// Makes files immutable (`chattr +i`: even root's writes through open descriptors fail) until
/// dropped.
struct Immutable(Vec<PathBuf>);

impl Immutable {
    fn set(files: Vec<PathBuf>) -> Immutable {
        for file in &files {
            run("chattr", &["+i", file.to_str().unwrap()]);
        }
        Immutable(files)
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        for file in &self.0 {
            let _ = Command::new("chattr").arg("-i").arg(file).status();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_cannot_be_written_refuses_changes_clearly_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let (mut deployment, activation_qr) = one_user(dir.path()).await;
    let (server, mut token) = start_with_token(&mut deployment, &activation_qr).await;
    let client = server.client;
    approve_payment(&client, &mut token, "user-0").await;
    let pending = payment(&client, "user-0").await.json();
    let id = pending["operationId"].as_str().unwrap();
    let code = token
        .offline_code(pending["payload"].as_str().unwrap(), PIN)
        .unwrap();
    let verify = format!("/api/v1/operations/{id}/verify");

    let Database::Sqlite(database) = deployment.database.clone() else {
        unreachable!("made on SQLite")
    };
    let wal = PathBuf::from(format!("{}-wal", database.display()));
    let locked = Immutable::set(vec![database, wal]);
    let (_, refused) = count_refusals(&client, "user-0", "storage_read_only").await;
    assert_eq!(refused.status, 503);
    let during = post(&client, &verify, &[], json!({"code": code})).await;
    assert_eq!(
        during.error_code(),
        "storage_read_only",
        "{}",
        during.describe()
    );
    let shown = get(&client, &format!("/api/v1/operations/{id}"), &[]).await;
    assert_eq!(shown.json()["state"], "PENDING", "{}", shown.describe());
    let log = server.log_lines().join("\n");
    assert!(log.contains("the database cannot be written"), "{log}");

    drop(locked);
    let after = post(&client, &verify, &[], json!({"code": code})).await;
    assert_eq!(after.json()["valid"], true, "{}", after.describe());
    approve_payment(&client, &mut token, "user-0").await;
    server.kill().await;
}

/// Where Debian's libfaketime is (`cargo xtask setup` installs it).
const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

async fn login_state(client: &Client, login: &Value) -> String {
    let bearer = format!("Bearer {}", login["pollSecret"].as_str().unwrap());
    let id = login["loginId"].as_str().unwrap();
    let reply = get(
        client,
        &format!("/api/v1/logins/{id}"),
        &[("Authorization", &bearer)],
    )
    .await;
    reply.json()["state"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn operation_state(client: &Client, operation: &Value) -> String {
    let id = operation["operationId"].as_str().unwrap();
    let reply = get(client, &format!("/api/v1/operations/{id}"), &[]).await;
    reply.json()["state"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn verify_code(client: &Client, token: &mut Token, operation: &Value) -> Reply {
    let code = token
        .offline_code(operation["payload"].as_str().unwrap(), PIN)
        .unwrap();
    let id = operation["operationId"].as_str().unwrap();
    post(
        client,
        &format!("/api/v1/operations/{id}/verify"),
        &[],
        json!({"code": code}),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clock_jumping_forward_expires_what_is_due_and_nothing_else() {
    assert!(
        Path::new(LIBFAKETIME).exists(),
        "{LIBFAKETIME} is missing: run `cargo xtask setup` (Debian package faketime)"
    );
    let dir = tempfile::tempdir().unwrap();
    let (mut deployment, activation_qr) = one_user(dir.path()).await;
    // The server's wall clock is read from this file at every call; its monotonic clock
    // (timers, rate limits) goes on as a real clock does when NTP steps the time.
    let clock = dir.path().join("clock");
    std::fs::write(&clock, "+0").unwrap();
    deployment.env = [
        ("LD_PRELOAD", LIBFAKETIME),
        ("FAKETIME_TIMESTAMP_FILE", clock.to_str().unwrap()),
        ("FAKETIME_NO_CACHE", "1"),
        ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec();
    deployment.options = strings([
        "--login-lifetime",
        "60",
        "--operation-lifetime",
        "300",
        "--activation-code-lifetime",
        "120",
    ]);
    let (server, mut token) = start_with_token(&mut deployment, &activation_qr).await;
    let client = server.client;
    let signed_in = post(
        &client,
        "/api/v1/session",
        &[],
        json!({"user": "user-0", "password": PASSWORD}),
    )
    .await;
    let cookie = signed_in
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let cookie = [("Cookie", cookie.as_str())];
    let second_code = post(&client, "/api/v1/activations", &cookie, json!({}))
        .await
        .json();
    let login = post(&client, "/api/v1/logins", &[], json!({})).await.json();
    let early = payment(&client, "user-0").await.json();
    assert_eq!(login_state(&client, &login).await, "PENDING");

    // 150 s later: the login (60 s) and the activation code (120 s) are over; the payment
    // (300 s), the browser session (12 h) and the token are not.
    std::fs::write(&clock, "+150").unwrap();
    assert_eq!(login_state(&client, &login).await, "EXPIRED");
    let device = qrauth_core::keys::PrivateKey::from_random(&[5u8; 32]).unwrap();
    let late_commit = post(
        &client,
        "/api/v1/token/activations",
        &[],
        json!({"activationCode": second_code["activationCode"],
               "devicePublicKey": device.public_key().to_base64()}),
    )
    .await;
    assert_eq!(
        late_commit.error_code(),
        "activation_code_expired",
        "{}",
        late_commit.describe()
    );
    assert_eq!(operation_state(&client, &early).await, "PENDING");
    let session = get(&client, "/api/v1/session", &cookie).await;
    assert_eq!(session.status, 200, "{}", session.describe());
    let fresh = post(&client, "/api/v1/logins", &[], json!({})).await.json();
    let left = fresh["expiresInMs"].as_i64().unwrap();
    assert!(
        (55_000..=60_000).contains(&left),
        "a new login has {left} ms"
    );
    let middle = payment(&client, "user-0").await.json();
    let accepted = verify_code(&client, &mut token, &early).await;
    assert_eq!(accepted.json()["valid"], true, "{}", accepted.describe());

    // 500 s after the start: the payment made at 150 s (300 s) is over, the approved one
    // stays approved, and the token still signs.
    std::fs::write(&clock, "+500").unwrap();
    assert_eq!(operation_state(&client, &middle).await, "EXPIRED");
    let refused = verify_code(&client, &mut token, &middle).await;
    assert_eq!(
        refused.error_code(),
        "operation_expired",
        "{}",
        refused.describe()
    );
    assert_eq!(operation_state(&client, &early).await, "APPROVED");
    assert_eq!(login_state(&client, &fresh).await, "EXPIRED");
    let id = token.activation_id().to_owned();
    let standing = get(&client, &format!("/api/v1/token/activations/{id}"), &[]).await;
    assert_eq!(
        standing.json()["status"],
        "ACTIVE",
        "{}",
        standing.describe()
    );
    assert_eq!(get(&client, "/api/v1/session", &cookie).await.status, 200);
    approve_payment(&client, &mut token, "user-0").await;
    server.kill().await;
}
