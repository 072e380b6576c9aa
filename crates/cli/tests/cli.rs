//! The `qrauth` binary as integrators run it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::io::Write;
use std::process::{Command, Output, Stdio};

const QR: &str = "5ff1b1ed-a3cc-45a3-8ab0-ed60950312b6\nPayment\nPlease confirm this payment\nA1*A100CZK*ICZ2730300000001165254011*D20180425*NZa večerní pivo \\* 2\nB\nOIIYX91Q7IC6TIo102NCtg==\n1MEUCIQCQxzK9hsuD2+k51WZKB/nPRonAQ3OBtWpEIF0J8nc1qQIgdhljq82x7VKoUFjHquHd0gIK7czGwxg8m84Yrs+lENA=";
const SERVER_PUBLIC: &str =
    "BIB8OLOLcm9L7bu+5S6Qs6ZsdTS3psSEuL1pHhKoTw3k+iJcFQLYlHdy/bC5zNQo0ljILUP4lzlkgY7tNbwRCN8=";

fn qrauth(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_qrauth"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn payload_inspect_shows_the_operation_and_checks_the_signature() {
    let output = qrauth(
        &["payload", "inspect", "--public-key", SERVER_PUBLIC],
        &format!("{QR}\n"),
    );
    assert!(output.status.success());
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["signature"]["valid"], true);
    assert_eq!(json["operationData"]["fields"][0]["amount"], "100");
    assert_eq!(
        json["operationData"]["fields"][3]["text"],
        "Za večerní pivo * 2"
    );

    let forged = qrauth(
        &["payload", "inspect", "--public-key", SERVER_PUBLIC],
        &QR.replace("A100CZK", "A900CZK"),
    );
    assert_eq!(forged.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_str(&stdout(&forged)).unwrap();
    assert_eq!(json["signature"]["valid"], false);

    let garbage = qrauth(&["payload", "inspect"], "not a payload");
    assert_eq!(garbage.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&garbage.stderr).contains("at least 7"));
}

#[test]
fn code_normalize_prints_the_canonical_form_or_why_not() {
    let ok = qrauth(&["code", "normalize", "1234 5678-9012 3456"], "");
    assert_eq!(stdout(&ok), "12345678-90123456\n");
    let short = qrauth(&["code", "normalize", "1234 5678"], "");
    assert_eq!(short.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&short.stderr).contains("8 digits missing"));
    let six = qrauth(
        &["code", "normalize", "123 456-654 321", "--length", "6"],
        "",
    );
    assert_eq!(stdout(&six), "123456-654321\n");
}

#[test]
fn conformance_counts_and_fails_on_a_wrong_file() {
    let vectors = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/powerauth/"
    );
    let ok = qrauth(
        &[
            "conformance",
            "derived-keys",
            &format!("{vectors}compute-derived-keys.json"),
        ],
        "",
    );
    assert!(ok.status.success());
    assert_eq!(stdout(&ok), "20 passed, 0 failed\n");
    let wrong = qrauth(
        &[
            "conformance",
            "master-secret",
            &format!("{vectors}compute-derived-keys.json"),
        ],
        "",
    );
    assert_eq!(wrong.status.code(), Some(1));
    assert!(stdout(&wrong).ends_with("0 passed, 20 failed\n"));
}

#[test]
fn activation_and_operation_create_print_codes_that_check_out() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("q.sqlite3");
    let db = db.to_str().unwrap();
    let added = qrauth(
        &["user", "add", "alice", "--db", db, "--password-stdin"],
        "long enough password\n",
    );
    assert!(added.status.success());

    let created = qrauth(&["activation", "create", "--user", "alice", "--db", db], "");
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let text = stdout(&created);
    let code = text
        .lines()
        .find_map(|l| l.strip_prefix("activation code"))
        .unwrap()
        .trim();
    qrauth_core::ActivationCode::parse(code).unwrap();
    assert!(
        text.contains('\u{2580}') || text.contains('\u{2584}'),
        "a QR is drawn"
    );
    let unknown = qrauth(
        &["activation", "create", "--user", "nobody", "--db", db],
        "",
    );
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no user of that name"));

    let payment = |amount: &str, iban: &str| {
        let args = [
            "operation",
            "create",
            "--user",
            "alice",
            "--db",
            db,
            "payment",
            "--amount",
            amount,
            "--currency",
            "EUR",
            "--iban",
            iban,
        ];
        qrauth(&args, "")
    };
    let operation = payment("12.50", "DE89 3704 0044 0532 0130 00");
    assert!(
        operation.status.success(),
        "{}",
        String::from_utf8_lossy(&operation.stderr)
    );
    let text = stdout(&operation);
    let payload = text
        .split_once("payload:\n")
        .unwrap()
        .1
        .trim_end_matches('\n');
    let parsed = qrauth_core::OfflinePayload::parse(payload).unwrap();
    assert_eq!(parsed.key_type, qrauth_core::KeyType::Master);
    assert!(
        parsed
            .operation_data
            .source
            .starts_with("A1*A12.50EUR*IDE89370400440532013000")
    );

    let bad = payment("1", "DE00 0000");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a valid IBAN"));

    // Without flags the payload's fifth line is empty; `--flags` may follow the kind.
    assert_eq!(payload.split('\n').nth(4), Some(""));
    let flagged = qrauth(
        &[
            "operation",
            "create",
            "--user",
            "alice",
            "--database",
            db,
            "login",
            "--flags",
            "BF",
        ],
        "",
    );
    assert!(
        flagged.status.success(),
        "{}",
        String::from_utf8_lossy(&flagged.stderr)
    );
    let text = stdout(&flagged);
    let payload = text
        .split_once("payload:\n")
        .unwrap()
        .1
        .trim_end_matches('\n');
    let parsed = qrauth_core::OfflinePayload::parse(payload).unwrap();
    assert!(
        parsed.flags.biometry && parsed.flags.fraud_warning,
        "{payload}"
    );
}

#[test]
fn serve_refuses_a_lifetime_it_cannot_honour_before_touching_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("q.sqlite3");
    for (value, why) in [
        ("2", "a lifetime is 5 to 86400 seconds"),
        ("2m", "a lifetime is a whole number of seconds"),
        ("1.5", "a lifetime is a whole number of seconds"),
    ] {
        let refused = qrauth(
            &[
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--db",
                db.to_str().unwrap(),
                "--login-lifetime",
                value,
            ],
            "",
        );
        assert!(!refused.status.success(), "--login-lifetime {value}");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains(why), "--login-lifetime {value}: {stderr}");
    }
    assert!(!db.exists(), "nothing was created");
}

#[test]
fn user_sessions_end_signs_a_user_out_everywhere_or_says_who_is_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db.sqlite3");
    let db = db.to_str().unwrap();
    let added = qrauth(
        &["user", "add", "carol", "--db", db, "--password-stdin"],
        "correct horse battery\n",
    );
    assert!(added.status.success(), "{added:?}");
    let ended = qrauth(&["user", "sessions", "end", "carol", "--db", db], "");
    assert!(ended.status.success(), "{ended:?}");
    assert_eq!(stdout(&ended), "user carol: 0 browser sessions ended\n");
    let unknown = qrauth(&["user", "sessions", "end", "nobody", "--db", db], "");
    assert!(!unknown.status.success());
    let message = String::from_utf8_lossy(&unknown.stderr);
    assert!(message.contains("no user of this name"), "{message}");
}
