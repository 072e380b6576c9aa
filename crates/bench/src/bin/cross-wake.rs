//! How soon a page's long-poll on one server learns of an approval made on another:
//! `cross-wake <page server> <phone server> <user> <password> <rounds>` prints one JSON line
//! with the latencies in ms (p50, p99, max). Each round is a real sign-in by QR: the page makes a
//! login on the first server and waits on it (`?wait=30&state=SCANNED`), the token scans and
//! approves it on the second with a signed request, and the time counts from the approval's
//! answer to the long-poll's. Given one server twice, it measures the in-process wake-up, the
//! peer of the figure.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use qrauth_core::signature::{AUTHORIZATION_HEADER, LOGIN_APPROVE_URI_ID};
use qrauth_soak::http::Client;
use qrauth_soak::token::{PIN, Token};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(40);

fn client(url: &str) -> Result<Client, String> {
    let addr: SocketAddr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .map_err(|e| format!("{url}: {e}"))?;
    Ok(Client { addr })
}

async fn call(
    client: &Client,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
    status: u16,
) -> Result<(Value, Option<String>), String> {
    let body = body.map(Value::to_string);
    let reply = client
        .send(
            method,
            path,
            headers,
            body.as_deref().map(str::as_bytes),
            WAIT,
        )
        .await
        .map_err(|e| format!("{method} {path}: {e}"))?;
    if reply.status != status {
        return Err(format!("{method} {path}: {}", reply.describe()));
    }
    let cookie = reply
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .map(str::to_owned);
    Ok((reply.json(), cookie))
}

async fn run() -> Result<Value, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [page_url, phone_url, user, password, rounds] = &args[..] else {
        return Err(
            "usage: cross-wake <page server> <phone server> <user> <password> <rounds>".into(),
        );
    };
    let rounds: usize = rounds.parse().map_err(|e| format!("rounds: {e}"))?;
    let (page, phone) = (client(page_url)?, client(phone_url)?);

    let credentials = json!({"user": user, "password": password});
    let (_, cookie) = call(
        &page,
        "POST",
        "/api/v1/session",
        &[],
        Some(&credentials),
        200,
    )
    .await?;
    let cookie = cookie.ok_or("no session cookie")?;
    let (activation, _) = call(
        &page,
        "POST",
        "/api/v1/activations",
        &[("Cookie", &cookie)],
        None,
        201,
    )
    .await?;
    let qr = activation["activationQr"]
        .as_str()
        .ok_or("no activationQr")?;
    let mut token = Token::activate(&phone, qr, "bench").await?;

    let mut latencies = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let (login, _) = call(&page, "POST", "/api/v1/logins", &[], None, 201).await?;
        let id = login["loginId"].as_str().ok_or("no loginId")?.to_owned();
        let bearer = format!(
            "Bearer {}",
            login["pollSecret"].as_str().ok_or("no pollSecret")?
        );
        let qr_text = login["qrText"].as_str().ok_or("no qrText")?;
        let scan = qr_text.split_once("#scan=").ok_or("no #scan= in the QR")?.1;
        call(
            &phone,
            "POST",
            "/api/v1/token/logins/attach",
            &[],
            Some(&json!({"scanCode": scan})),
            200,
        )
        .await?;
        // Number matching: the person types the two digits the page shows once scanned.
        let (view, _) = call(
            &page,
            "GET",
            &format!("/api/v1/logins/{id}"),
            &[("Authorization", &bearer)],
            None,
            200,
        )
        .await?;
        let body = json!({"scanCode": scan, "number": view["number"]});

        let waiting = {
            let path = format!("/api/v1/logins/{id}?wait=30&state=SCANNED");
            tokio::spawn(async move {
                let answered = call(
                    &page,
                    "GET",
                    &path,
                    &[("Authorization", &bearer)],
                    None,
                    200,
                )
                .await;
                answered.map(|(view, _)| (view, Instant::now()))
            })
        };
        // Long enough for the long-poll to be waiting on the server.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let signature = token.sign(LOGIN_APPROVE_URI_ID, body.to_string().as_bytes(), PIN)?;
        let path = format!("/api/v1/token/logins/{id}/approve");
        call(
            &phone,
            "POST",
            &path,
            &[(AUTHORIZATION_HEADER, &signature)],
            Some(&body),
            200,
        )
        .await?;
        let approved = Instant::now();
        let (view, woke) = waiting.await.map_err(|e| e.to_string())??;
        if view["state"] != "APPROVED" {
            return Err(format!("the long-poll answered {view}"));
        }
        latencies.push(woke.saturating_duration_since(approved).as_secs_f64() * 1000.0);
    }
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    Ok(json!({
        "rounds": rounds,
        "p50Ms": at(0.5),
        "p99Ms": at(0.99),
        "maxMs": at(1.0),
    }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(report) => {
            println!("{report}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cross-wake: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
