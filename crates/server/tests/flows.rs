//! The flows end to end over real HTTP on 127.0.0.1 with a real database, driven by
//! qrauth-token's activation logic: activation, online QR login, offline operations, and the
//! guarantees around them (single use, attempt counting, restarts, bad input).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

mod support;

use std::path::Path;
use std::time::Duration;

use qrauth_core::frame::LoginQr;
use qrauth_core::keys::{PrivateKey, PublicKey};
use qrauth_core::signature::{AUTHORIZATION_HEADER, LOGIN_APPROVE_URI_ID};
use qrauth_core::{OfflinePayload, base64};
use qrauth_server::{Database, Policy, ServerConfig, Storage};
use qrauth_token::StoredActivation;
use qrauth_token::activation::NewActivation;
use serde_json::{Value, json};
use support::{Reply, Running};

const PASSWORD: &str = "correct horse battery";

async fn database(dir: &Path) -> Database {
    let database = support::fresh_database(dir).await;
    let storage = Storage::connect(&database).await.unwrap();
    for user in ["alice", "bob"] {
        qrauth_server::users::add_user(&storage, user, PASSWORD, false)
            .await
            .unwrap();
    }
    database
}

fn config(database: &Database, policy: Policy) -> ServerConfig {
    let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap(), database.clone());
    config.policy = policy;
    config
}

/// No rate limits to speak of, and approvals without number matching: these tests are about
/// other rules; `number_matching_*` tests it, and the token, soak and browser tests run with it.
fn generous() -> Policy {
    Policy {
        creations_per_minute: 10_000,
        number_matching: false,
        ..Policy::default()
    }
}

async fn start(dir: &Path) -> Running {
    Running::with_config(config(&database(dir).await, generous())).await
}

/// Signs in with the password; returns the `Cookie:` header line.
async fn sign_in(server: &Running, user: &str) -> String {
    let reply = server
        .json(
            "POST",
            "/api/v1/session",
            "",
            &json!({"user": user, "password": PASSWORD}).to_string(),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    cookie_of(&reply)
}

fn cookie_of(reply: &Reply) -> String {
    let set = reply.header("set-cookie");
    format!("Cookie: {}\r\n", set.split(';').next().unwrap())
}

fn bearer(secret: &Value) -> String {
    format!("Authorization: Bearer {}\r\n", secret.as_str().unwrap())
}

fn error_code(reply: &Reply) -> String {
    serde_json::from_slice::<Value>(&reply.body)
        .ok()
        .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A software token as a phone would hold it: qrauth-token's stored activation, kept in
/// memory instead of IndexedDB.
struct Token {
    stored: StoredActivation,
}

const PIN: &str = "2468";
const WRONG_PIN: &str = "1357";

impl Token {
    async fn activate(server: &Running, cookie: &str) -> Token {
        let created = server.json("POST", "/api/v1/activations", cookie, "").await;
        assert_eq!(created.status, 201, "{}", created.text());
        let created = created.json();
        Token::commit(server, created["activationQr"].as_str().unwrap())
            .await
            .unwrap()
    }

    async fn commit(server: &Running, qr: &str) -> Result<Token, Reply> {
        let application = server.request("GET", "/api/v1/application").await.json();
        let master_public =
            PublicKey::from_base64(application["masterPublicKey"].as_str().unwrap()).unwrap();
        let code = qrauth_core::activation::verify_activation_qr(qr, &master_public).unwrap();
        let device = PrivateKey::from_random(&rand_bytes()).unwrap();
        let reply = server
            .json(
                "POST",
                "/api/v1/token/activations",
                "",
                &json!({
                    "activationCode": code.as_str(),
                    "devicePublicKey": device.public_key().to_base64(),
                    "deviceName": "test phone",
                })
                .to_string(),
            )
            .await;
        if reply.status != 201 {
            return Err(reply);
        }
        let stored = StoredActivation::derive(NewActivation {
            server: "http://127.0.0.1",
            device: &device,
            answer: serde_json::from_value(reply.json()).unwrap(),
            device_name: "test phone",
            service_name: "qrauth",
            pin: PIN,
            salt: rand_bytes(),
            now: 0.0,
        })
        .unwrap();
        Ok(Token { stored })
    }

    /// Scans an offline payload, checks it was signed by this server, and computes the code
    /// shown as `1234-5678-9012-3456`; the counter moves on whatever the PIN.
    fn offline_code(&mut self, payload: &str, right_pin: bool) -> String {
        let payload = OfflinePayload::parse(payload).unwrap();
        self.stored.check_payload(&payload).unwrap();
        let code = self.stored.offline_code(&payload, pin(right_pin)).unwrap();
        self.stored = self.stored.advanced().unwrap();
        code.display()
    }

    /// The `X-PowerAuth-Authorization` header line for `body` sent to `uri_id`.
    fn sign(&mut self, uri_id: &str, body: &[u8], right_pin: bool) -> String {
        let value = self
            .stored
            .sign_with_pin(uri_id, body, pin(right_pin), &rand_bytes())
            .unwrap();
        self.stored = self.stored.advanced().unwrap();
        format!("{AUTHORIZATION_HEADER}: {value}\r\n")
    }
}

fn pin(right: bool) -> &'static str {
    if right { PIN } else { WRONG_PIN }
}

fn rand_bytes<const N: usize>() -> [u8; N] {
    qrauth_server::secrets::random::<N>().unwrap()
}

fn scan_code(qr_text: &str) -> String {
    qr_text.split_once("#scan=").unwrap().1.to_owned()
}

/// Sends the scan code in a login's QR text to the attach endpoint.
async fn try_attach(server: &Running, qr_text: &str) -> Reply {
    let body = json!({"scanCode": scan_code(qr_text)}).to_string();
    server
        .json("POST", "/api/v1/token/logins/attach", "", &body)
        .await
}

/// Attaches to a login by the scan code in its QR text; returns (login id, scan code, context).
async fn attach(server: &Running, qr_text: &str) -> (String, String, Value) {
    let reply = try_attach(server, qr_text).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let context = reply.json();
    let id = context["loginId"].as_str().unwrap().to_owned();
    (id, scan_code(qr_text), context)
}

/// Approves `login` with the right PIN and no number (the servers of these tests mostly leave
/// number matching off).
async fn approve(server: &Running, token: &mut Token, login: &str, scan: &str) -> Reply {
    approve_with_number(server, token, login, scan, None).await
}

async fn activation(server: &Running, cookie: &str, id: &str) -> Value {
    let reply = server
        .request_with("GET", &format!("/api/v1/activations/{id}"), cookie)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

#[tokio::test]
async fn activation_then_a_passwordless_login_completes_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let cookie = sign_in(&server, "alice").await;

    // Activation: the code works once, and both sides show the same fingerprint.
    let created = server
        .json("POST", "/api/v1/activations", &cookie, "")
        .await
        .json();
    let code = created["activationCode"].as_str().unwrap();
    assert_eq!(code.len(), 23);
    let qr = created["activationQr"].as_str().unwrap();
    assert!(qr.starts_with(&format!("{code}#")));
    let mut token = Token::commit(&server, qr).await.unwrap();
    let view = activation(&server, &cookie, &token.stored.activation_id).await;
    assert_eq!(view["status"], "ACTIVE");
    assert_eq!(view["fingerprint"], token.stored.fingerprint);
    assert_eq!(view["deviceName"], "test phone");
    let again = Token::commit(&server, qr).await.err().unwrap();
    assert_eq!(
        (again.status, error_code(&again).as_str()),
        (404, "activation_code_not_found")
    );

    // The page creates a login (no cookie) and long-polls it.
    let login = server
        .request_with(
            "POST",
            "/api/v1/logins",
            "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36\r\n",
        )
        .await;
    assert_eq!(login.status, 201, "{}", login.text());
    let login = login.json();
    let id = login["loginId"].as_str().unwrap().to_owned();
    let qr_text = login["qrText"].as_str().unwrap();
    assert!(
        qr_text.starts_with(&format!("http://{}/token#scan=", server.addr)),
        "{qr_text}"
    );
    let auth = bearer(&login["pollSecret"]);
    let poll_path = format!("/api/v1/logins/{id}?wait=20&state=PENDING");
    let started = std::time::Instant::now();
    let (long_poll, (attached, scan, context)) =
        tokio::join!(server.request_with("GET", &poll_path, &auth), async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            attach(&server, qr_text).await
        });
    assert_eq!(long_poll.json()["state"], "SCANNED");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(attached, id);
    assert_eq!(context["service"], "qrauth");
    assert_eq!(context["browser"], "Chrome 131 on Linux");
    assert_eq!(context["address"], "127.0.0.1");

    let approved = approve(&server, &mut token, &id, &scan).await;
    assert_eq!(approved.status, 200, "{}", approved.text());
    let polled = server
        .request_with("GET", &format!("/api/v1/logins/{id}"), &auth)
        .await
        .json();
    assert_eq!(polled["state"], "APPROVED");

    // Completed once: an ES256 identity token that the published key verifies, and a session.
    let path = format!("/api/v1/logins/{id}/complete");
    let completed = server.request_with("POST", &path, &auth).await;
    assert_eq!(completed.status, 200, "{}", completed.text());
    let session = cookie_of(&completed);
    let completed = completed.json();
    assert_eq!(completed["user"], "alice");
    assert_eq!(completed["factors"], "POSSESSION_KNOWLEDGE");
    let jwt = completed["idToken"].as_str().unwrap();
    let claims = verify_jwt(&server, jwt).await;
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["sid"], id.as_str());
    assert_eq!(claims["factors"], "POSSESSION_KNOWLEDGE");
    let me = server
        .request_with("GET", "/api/v1/session", &session)
        .await;
    assert_eq!(me.json()["user"], "alice");
    let twice = server.request_with("POST", &path, &auth).await;
    assert_eq!(
        (twice.status, error_code(&twice).as_str()),
        (409, "login_already_completed")
    );
    server.stop().await;
}

async fn verify_jwt(server: &Running, jwt: &str) -> Value {
    use base64_url::decode;
    let jwks = server.request("GET", "/api/v1/jwks.json").await.json();
    let key = &jwks["keys"][0];
    assert_eq!(key["alg"], "ES256");
    let mut point = vec![4u8];
    point.extend(decode(key["x"].as_str().unwrap()));
    point.extend(decode(key["y"].as_str().unwrap()));
    let public = PublicKey::from_sec1(&point).unwrap();
    let (input, signature) = jwt.rsplit_once('.').unwrap();
    qrauth_core::ecdsa::verify_raw(&public, input.as_bytes(), &decode(signature)).unwrap();
    let header: Value = serde_json::from_slice(&decode(input.split('.').next().unwrap())).unwrap();
    assert_eq!(header["kid"], key["kid"]);
    serde_json::from_slice(&decode(input.split('.').nth(1).unwrap())).unwrap()
}

mod base64_url {
    pub fn decode(text: &str) -> Vec<u8> {
        let standard = text.replace('-', "+").replace('_', "/");
        let padded = format!("{standard}{}", "=".repeat((4 - standard.len() % 4) % 4));
        qrauth_core::base64::decode(&padded).unwrap()
    }
}

#[tokio::test]
async fn denied_cancelled_and_expired_logins_end_where_they_should() {
    let dir = tempfile::tempdir().unwrap();
    let policy = Policy {
        login_lifetime: Duration::from_millis(1500),
        ..generous()
    };
    let server = Running::with_config(config(&database(dir.path()).await, policy)).await;
    let cookie = sign_in(&server, "alice").await;
    let _token = Token::activate(&server, &cookie).await;

    // Denied: final, cannot be completed or approved.
    let login = server.request("POST", "/api/v1/logins").await.json();
    let auth = bearer(&login["pollSecret"]);
    let (id, scan, _) = attach(&server, login["qrText"].as_str().unwrap()).await;
    let denied = server
        .json(
            "POST",
            &format!("/api/v1/token/logins/{id}/deny"),
            "",
            &json!({"scanCode": scan}).to_string(),
        )
        .await;
    assert_eq!(denied.json()["state"], "DENIED");
    let state = server
        .request_with("GET", &format!("/api/v1/logins/{id}"), &auth)
        .await;
    assert_eq!(state.json()["state"], "DENIED");
    let complete = server
        .request_with("POST", &format!("/api/v1/logins/{id}/complete"), &auth)
        .await;
    assert_eq!(
        (complete.status, error_code(&complete).as_str()),
        (409, "login_state_conflict")
    );

    // Cancelled by its page.
    let login = server.request("POST", "/api/v1/logins").await.json();
    let id = login["loginId"].as_str().unwrap();
    let auth = bearer(&login["pollSecret"]);
    let cancelled = server
        .request_with("DELETE", &format!("/api/v1/logins/{id}"), &auth)
        .await;
    assert_eq!(cancelled.json()["state"], "CANCELED");
    let late = try_attach(&server, login["qrText"].as_str().unwrap()).await;
    assert_eq!(
        (late.status, error_code(&late).as_str()),
        (409, "login_state_conflict")
    );

    // Expired: a long-poll answers at expiry, and the token can no longer attach.
    let login = server.request("POST", "/api/v1/logins").await.json();
    let id = login["loginId"].as_str().unwrap();
    let auth = bearer(&login["pollSecret"]);
    let started = std::time::Instant::now();
    let polled = server
        .request_with("GET", &format!("/api/v1/logins/{id}?wait=30"), &auth)
        .await;
    assert_eq!(polled.json()["state"], "EXPIRED");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let late = try_attach(&server, login["qrText"].as_str().unwrap()).await;
    assert_eq!(
        (late.status, error_code(&late).as_str()),
        (410, "login_expired")
    );
    server.stop().await;
}

async fn create_payment(server: &Running, cookie: &str) -> Value {
    let reply = server
        .json(
            "POST",
            "/api/v1/operations",
            cookie,
            &json!({"type": "payment", "amount": "1250.00", "currency": "eur",
                    "iban": "CZ65 0800 0000 1920 0014 5399", "payee": "Bytové družstvo Žižkov",
                    "note": "Rent *November*"})
            .to_string(),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    reply.json()
}

async fn verify(server: &Running, operation: &str, code: &str) -> Reply {
    server
        .json(
            "POST",
            &format!("/api/v1/operations/{operation}/verify"),
            "",
            &json!({"code": code}).to_string(),
        )
        .await
}

#[tokio::test]
async fn offline_operations_are_approved_once_and_a_login_operation_signs_in() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let cookie = sign_in(&server, "alice").await;

    // Without an activation: key type 0 and no code can be valid.
    let early = create_payment(&server, &cookie).await;
    assert_eq!(early["keyType"], 0);
    let refused = verify(
        &server,
        early["operationId"].as_str().unwrap(),
        "1234-5678-1234-5678",
    )
    .await;
    assert_eq!(refused.json()["valid"], false);
    assert_eq!(refused.json()["activationStatus"], Value::Null);

    let mut token = Token::activate(&server, &cookie).await;
    let payment = create_payment(&server, &cookie).await;
    assert_eq!(payment["keyType"], 1);
    let payload = payment["payload"].as_str().unwrap();
    let parsed = OfflinePayload::parse(payload).unwrap();
    assert_eq!(parsed.title, "Payment to Bytové družstvo Žižkov");
    assert_eq!(
        parsed.operation_data.source,
        format!(
            "A1*A1250.00EUR*ICZ6508000000192000145399**D{}*NRent \\*November\\*",
            parsed
                .operation_data
                .source
                .split("*D")
                .nth(1)
                .unwrap()
                .split('*')
                .next()
                .unwrap()
        )
    );
    let id = payment["operationId"].as_str().unwrap();
    let code = token.offline_code(payload, true);

    // Malformed input is refused without counting; typed with spaces it is accepted once.
    let garbled = verify(&server, id, "1234-56").await;
    assert_eq!(
        (garbled.status, error_code(&garbled).as_str()),
        (422, "invalid_code")
    );
    let spaced = code.replace('-', " ");
    let accepted = verify(&server, id, &spaced).await;
    assert_eq!(accepted.status, 200, "{}", accepted.text());
    assert_eq!(accepted.json()["valid"], true);
    assert_eq!(accepted.json()["operationState"], "APPROVED");
    assert_eq!(accepted.json()["remainingAttempts"], 5);
    let replay = verify(&server, id, &code).await;
    assert_eq!(
        (replay.status, error_code(&replay).as_str()),
        (409, "operation_already_approved")
    );
    let shown = server
        .request("GET", &format!("/api/v1/operations/{id}"))
        .await
        .json();
    assert_eq!(shown["state"], "APPROVED");

    // An offline login by user name, with no cookie, signs the browser in.
    let login = server
        .json(
            "POST",
            "/api/v1/operations",
            "",
            &json!({"type": "login", "user": "alice"}).to_string(),
        )
        .await
        .json();
    let code = token.offline_code(login["payload"].as_str().unwrap(), true);
    let signed_in = verify(&server, login["operationId"].as_str().unwrap(), &code).await;
    assert_eq!(signed_in.json()["user"], "alice");
    let session = cookie_of(&signed_in);
    let me = server
        .request_with("GET", "/api/v1/session", &session)
        .await;
    assert_eq!(me.json()["user"], "alice");
    server.stop().await;
}

#[tokio::test]
async fn a_user_with_two_tokens_approves_with_either_and_each_code_counts_against_its_maker() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let cookie = sign_in(&server, "alice").await;
    let mut laptop = Token::activate(&server, &cookie).await;
    let mut phone = Token::activate(&server, &cookie).await;
    let failed = |view: Value| view["failedAttempts"].as_u64().unwrap();

    // Signed so that both verify it; the older token's code approves.
    let first = create_payment(&server, &cookie).await;
    assert_eq!(
        first["keyType"], 0,
        "one token's key would shut the other out"
    );
    let payload = first["payload"].as_str().unwrap();
    let code = laptop.offline_code(payload, true);
    let accepted = verify(&server, first["operationId"].as_str().unwrap(), &code).await;
    assert_eq!(accepted.json()["valid"], true, "{}", accepted.text());

    // A wrong PIN on the newer token counts against it alone; its right code then approves.
    let second = create_payment(&server, &cookie).await;
    let second_id = second["operationId"].as_str().unwrap();
    let wrong = phone.offline_code(second["payload"].as_str().unwrap(), false);
    let refused = verify(&server, second_id, &wrong).await.json();
    assert_eq!(
        (&refused["valid"], &refused["remainingAttempts"]),
        (&json!(false), &json!(4))
    );
    let phone_id = phone.stored.activation_id.clone();
    let laptop_id = laptop.stored.activation_id.clone();
    assert_eq!(failed(activation(&server, &cookie, &phone_id).await), 1);
    assert_eq!(failed(activation(&server, &cookie, &laptop_id).await), 0);
    let right = phone.offline_code(second["payload"].as_str().unwrap(), true);
    assert_eq!(
        verify(&server, second_id, &right).await.json()["valid"],
        true
    );

    // A code neither device made is nobody's guess at a PIN: refused, counted against neither.
    let third = create_payment(&server, &cookie).await;
    let typo = verify(
        &server,
        third["operationId"].as_str().unwrap(),
        "1234-5678-1234-5678",
    )
    .await
    .json();
    assert_eq!(typo["valid"], false);
    for id in [&phone_id, &laptop_id] {
        assert_eq!(failed(activation(&server, &cookie, id).await), 0);
    }

    // With one token left, payments are personalized for it again.
    let removed = server
        .request_with(
            "DELETE",
            &format!("/api/v1/activations/{phone_id}"),
            &cookie,
        )
        .await;
    assert_eq!(removed.status, 204, "{}", removed.text());
    let fourth = create_payment(&server, &cookie).await;
    assert_eq!(fourth["keyType"], 1);
    let code = laptop.offline_code(fourth["payload"].as_str().unwrap(), true);
    let accepted = verify(&server, fourth["operationId"].as_str().unwrap(), &code).await;
    assert_eq!(accepted.json()["valid"], true);
    server.stop().await;
}

const POWERAUTH_CLIENT: &str = "bank-web:Zm9yIHRlc3RzIG9ubHksIG5ldmVyIGluIHVzZQ";

/// A server with PowerAuth's REST methods for the client above, under `/powerauth`.
async fn start_with_powerauth(dir: &Path) -> Running {
    let clients = dir.join("powerauth-clients");
    std::fs::write(&clients, format!("# the bank's web\n{POWERAUTH_CLIENT}\n")).unwrap();
    let mut config = config(&database(dir).await, generous());
    config.powerauth = Some(qrauth_server::PowerAuthRest::new(clients));
    Running::with_config(config).await
}

/// Calls a PowerAuth method as a client would: HTTP basic, `{"requestObject": …}`.
async fn powerauth(server: &Running, method: &str, request: Value) -> (u16, Value) {
    powerauth_as(server, POWERAUTH_CLIENT, method, request).await
}

async fn powerauth_as(
    server: &Running,
    credentials: &str,
    method: &str,
    request: Value,
) -> (u16, Value) {
    let auth = format!(
        "Authorization: Basic {}\r\n",
        base64::encode(credentials.as_bytes())
    );
    let reply = server
        .json(
            "POST",
            &format!("/powerauth/rest/{method}"),
            &auth,
            &json!({ "requestObject": request }).to_string(),
        )
        .await;
    (reply.status, reply.json())
}

/// The base string an intermediate application builds (spec §6.2, §8.5) from the payload's
/// operation id, operation data and nonce.
fn base_string(payload: &str) -> String {
    let parsed = OfflinePayload::parse(payload).unwrap();
    let body = format!("{}&{}", parsed.operation_id, parsed.operation_data.source);
    format!(
        "POST&{}&{}&{}",
        base64::encode(b"/operation/authorize/offline"),
        base64::encode(&parsed.nonce),
        base64::encode(body.as_bytes())
    )
}

/// The 8-8 form PowerAuth's verify takes, from the 4x4 digits a person reads off the token.
fn eight_eight(shown: &str) -> String {
    let digits: String = shown.chars().filter(char::is_ascii_digit).collect();
    format!("{}-{}", &digits[..8], &digits[8..])
}

const PAYMENT_DATA: &str = "5ff1b1ed-a3cc-45a3-8ab0-ed60950312b6\nPayment\nPlease confirm this \
    payment\nA1*A100CZK*ICZ2730300000001165254011*D20180425*NZa večerní pivo \\* 2\nB";

fn error_of(reply: &(u16, Value)) -> (u16, &str) {
    assert_eq!(reply.1["status"], "ERROR", "{}", reply.1);
    (reply.0, reply.1["responseObject"]["code"].as_str().unwrap())
}

#[tokio::test]
async fn an_application_written_for_powerauth_signs_verifies_and_is_refused_as_powerauth_says() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_powerauth(dir.path()).await;
    let cookie = sign_in(&server, "alice").await;
    let mut token = Token::activate(&server, &cookie).await;
    let activation_id = token.stored.activation_id.clone();

    // Personalized payload, code, verify: the whole flow of spec §8.
    let (status, created) = powerauth(
        &server,
        "v3/signature/offline/personalized/create",
        json!({"activationId": activation_id, "data": PAYMENT_DATA}),
    )
    .await;
    assert_eq!(
        (status, &created["status"]),
        (200, &json!("OK")),
        "{created}"
    );
    let offline_data = created["responseObject"]["offlineData"].as_str().unwrap();
    assert!(offline_data.starts_with(&format!("{PAYMENT_DATA}\n")));
    let parsed = OfflinePayload::parse(offline_data).unwrap();
    assert_eq!(
        base64::encode(&parsed.nonce),
        created["responseObject"]["nonce"].as_str().unwrap()
    );
    let code = eight_eight(&token.offline_code(offline_data, true));
    let verify = json!({"activationId": activation_id, "data": base_string(offline_data),
                        "signature": code, "allowBiometry": true});
    let (status, verdict) = powerauth(&server, "v3/signature/offline/verify", verify.clone()).await;
    assert_eq!(status, 200);
    let verdict = &verdict["responseObject"];
    assert_eq!(verdict["signatureValid"], true, "{verdict}");
    assert_eq!(verdict["activationStatus"], "ACTIVE");
    assert_eq!(verdict["signatureType"], "POSSESSION_KNOWLEDGE");
    assert_eq!(verdict["userId"], "alice");
    assert_eq!(verdict["applicationId"], "qrauth");
    assert_eq!(verdict["remainingAttempts"], 5);
    // The counter moved past the code: the same code again is a failure, and counts.
    let (_, again) = powerauth(&server, "v3/signature/offline/verify", verify).await;
    assert_eq!(again["responseObject"]["signatureValid"], false);
    assert_eq!(again["responseObject"]["remainingAttempts"], 4);

    // The v4 names, with a shorter code: the last four digits of each group.
    let code = eight_eight(&token.offline_code(offline_data, true));
    let short = format!("{}-{}", &code[4..8], &code[13..]);
    let (_, v4) = powerauth(
        &server,
        "v4/auth/offline/verify",
        json!({"activationId": activation_id, "data": base_string(offline_data),
               "authenticationCode": short, "componentLength": 4}),
    )
    .await;
    let v4 = &v4["responseObject"];
    assert_eq!(v4["authenticationValid"], true, "{v4}");
    assert_eq!(v4["authenticationCodeType"], "POSSESSION_KNOWLEDGE");
    assert_eq!(
        v4["remainingAttempts"], 5,
        "a good code resets the failures"
    );

    // Non-personalized: the master key, for this server's application only.
    let (status, master) = powerauth(
        &server,
        "v4/auth/offline/non-personalized/create",
        json!({"applicationId": "qrauth", "data": PAYMENT_DATA}),
    )
    .await;
    assert_eq!(status, 200, "{master}");
    let master = master["responseObject"]["offlineData"].as_str().unwrap();
    let code = eight_eight(&token.offline_code(master, true));
    let (_, verdict) = powerauth(
        &server,
        "v3/signature/offline/verify",
        json!({"activationId": activation_id, "data": base_string(master), "signature": code}),
    )
    .await;
    assert_eq!(verdict["responseObject"]["signatureValid"], true);

    // The proximity check: the payload carries the TOTP, and verify needs the same seed.
    let seed = base64::encode(&[7u8; 20]);
    let (status, near) = powerauth(
        &server,
        "v3/signature/offline/personalized/create",
        json!({"activationId": activation_id, "data": PAYMENT_DATA,
               "nonce": "OIIYX91Q7IC6TIo102NCtg==",
               "proximityCheck": {"seed": seed, "stepLength": 30}}),
    )
    .await;
    assert_eq!(status, 200, "{near}");
    let near = near["responseObject"]["offlineData"].as_str().unwrap();
    assert!(OfflinePayload::parse(near).unwrap().totp.is_some());
    assert!(
        near.contains("\nOIIYX91Q7IC6TIo102NCtg==\n1"),
        "the caller's nonce"
    );
    let code = eight_eight(&token.offline_code(near, true));
    let (_, verdict) = powerauth(
        &server,
        "v3/signature/offline/verify",
        json!({"activationId": activation_id, "data": base_string(near), "signature": code,
               "proximityCheck": {"seed": seed, "stepLength": "PT30S", "stepCount": 1}}),
    )
    .await;
    assert_eq!(
        verdict["responseObject"]["signatureValid"], true,
        "{verdict}"
    );

    // Every error of spec §8 that applies, each changing nothing.
    let wrong_client = powerauth_as(
        &server,
        "bank-web:not-the-secret-not-the-secret",
        "v3/signature/offline/verify",
        json!({}),
    )
    .await;
    assert_eq!(error_of(&wrong_client), (401, "ERR_AUTHENTICATION"));
    let no_credentials = server
        .json(
            "POST",
            "/powerauth/rest/v3/signature/offline/verify",
            "",
            r#"{"requestObject":{}}"#,
        )
        .await;
    assert_eq!(no_credentials.status, 401);
    assert!(
        no_credentials
            .header("www-authenticate")
            .starts_with("Basic")
    );
    let create = "v3/signature/offline/personalized/create";
    for (request, says) in [
        (json!({"data": PAYMENT_DATA}), "activationId is missing"),
        (json!({"activationId": activation_id}), "data is missing"),
        (
            json!({"activationId": activation_id, "data": PAYMENT_DATA, "nonce": "short"}),
            "nonce: 16 bytes",
        ),
        (
            json!({"activationId": activation_id, "data": PAYMENT_DATA,
                   "proximityCheck": {"seed": seed}}),
            "nonce: required with proximityCheck",
        ),
        (
            json!({"activationId": activation_id, "data": "one\ntwo\nthree"}),
            "a token cannot read",
        ),
        (
            json!({"activationId": activation_id, "data": format!("{PAYMENT_DATA}{}", "x".repeat(3000))}),
            "more than a QR code holds",
        ),
    ] {
        let reply = powerauth(&server, create, request).await;
        assert_eq!(error_of(&reply), (400, "ERR0024"));
        let message = reply.1["responseObject"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{message}");
    }
    let not_an_envelope = server
        .json(
            "POST",
            &format!("/powerauth/rest/{create}"),
            &format!(
                "Authorization: Basic {}\r\n",
                base64::encode(POWERAUTH_CLIENT.as_bytes())
            ),
            r#"{"activationId": "x"}"#,
        )
        .await;
    assert_eq!(not_an_envelope.status, 400);
    assert_eq!(
        not_an_envelope.json()["responseObject"]["message"],
        "requestObject is missing"
    );
    let unknown = powerauth(
        &server,
        create,
        json!({"activationId": "no-such-activation", "data": PAYMENT_DATA}),
    )
    .await;
    assert_eq!(error_of(&unknown), (400, "ERR0009"));
    let other_application = powerauth(
        &server,
        "v3/signature/offline/non-personalized/create",
        json!({"applicationId": 17, "data": PAYMENT_DATA}),
    )
    .await;
    assert_eq!(error_of(&other_application), (400, "ERR0015"));
    let verify = "v3/signature/offline/verify";
    let data = base_string(offline_data);
    for (request, says) in [
        (
            json!({"activationId": activation_id, "data": data, "signature": "1234-5678-9012-3456"}),
            "signature: two groups of 8 digits",
        ),
        (
            json!({"activationId": activation_id, "data": data, "signature": "12345678-90123456",
                   "componentLength": 9}),
            "componentLength: 9 is not 4 to 8",
        ),
        (
            json!({"activationId": activation_id, "signature": "12345678-90123456"}),
            "data is missing",
        ),
        (
            json!({"activationId": activation_id, "data": "POST&x&y&not base64!",
                   "signature": "12345678-90123456", "proximityCheck": {"seed": seed}}),
            "not Base64",
        ),
        (
            json!({"activationId": activation_id, "data": data, "signature": "12345678-90123456",
                   "proximityCheck": {"seed": seed, "stepCount": 11}}),
            "stepCount: 0 to 10",
        ),
    ] {
        let reply = powerauth(&server, verify, request).await;
        assert_eq!(error_of(&reply), (400, "ERR0024"));
        let message = reply.1["responseObject"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{message}");
    }
    let v4 = powerauth(
        &server,
        "v4/auth/offline/verify",
        json!({"activationId": activation_id, "data": data, "authenticationCode": "1234"}),
    )
    .await;
    assert_eq!(error_of(&v4), (400, "ERR0024"));
    assert!(
        v4.1["responseObject"]["message"]
            .as_str()
            .unwrap()
            .starts_with("authenticationCode: two groups of 8 digits"),
        "the v4 name of the field: {}",
        v4.1
    );
    let view = activation(&server, &cookie, &activation_id).await;
    assert_eq!(
        view["failedAttempts"], 0,
        "malformed requests count nothing"
    );

    // An unknown activation is REMOVED; five wrong codes block, as PowerAuth counts them.
    let (_, gone) = powerauth(
        &server,
        verify,
        json!({"activationId": "no-such-activation", "data": data, "signature": "12345678-90123456"}),
    )
    .await;
    assert_eq!(gone["responseObject"]["signatureValid"], false);
    assert_eq!(gone["responseObject"]["activationStatus"], "REMOVED");
    for left in (0..5).rev() {
        let (_, wrong) = powerauth(
            &server,
            verify,
            json!({"activationId": activation_id, "data": data, "signature": "12345678-90123456"}),
        )
        .await;
        assert_eq!(wrong["responseObject"]["remainingAttempts"], left);
    }
    let code = eight_eight(&token.offline_code(offline_data, true));
    let (_, blocked) = powerauth(
        &server,
        verify,
        json!({"activationId": activation_id, "data": data, "signature": code}),
    )
    .await;
    let blocked = &blocked["responseObject"];
    assert_eq!(
        (
            &blocked["signatureValid"],
            &blocked["activationStatus"],
            &blocked["blockedReason"]
        ),
        (
            &json!(false),
            &json!("BLOCKED"),
            &json!("MAX_FAILED_ATTEMPTS")
        )
    );
    assert_eq!(
        server
            .json(
                "POST",
                "/powerauth/rest/v3/no/such/method",
                "",
                r#"{"requestObject":{}}"#
            )
            .await
            .status,
        404
    );
    server.stop().await;
}

#[tokio::test]
async fn through_powerauth_a_person_with_two_tokens_chooses_one_and_its_code_counts_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_powerauth(dir.path()).await;
    let cookie = sign_in(&server, "alice").await;
    let mut older = Token::activate(&server, &cookie).await;
    let newer = Token::activate(&server, &cookie).await;

    let (status, list) = powerauth(&server, "v3/activation/list", json!({"userId": "alice"})).await;
    assert_eq!(status, 200, "{list}");
    let activations = list["responseObject"]["activations"].as_array().unwrap();
    let ids: Vec<&str> = activations
        .iter()
        .map(|a| a["activationId"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            newer.stored.activation_id.as_str(),
            older.stored.activation_id.as_str()
        ],
        "newest first"
    );
    for activation in activations {
        assert_eq!(activation["activationName"], "test phone");
        assert_eq!(activation["activationStatus"], "ACTIVE");
        assert!(
            activation["timestampActivated"]
                .as_str()
                .unwrap()
                .ends_with("+00:00")
        );
    }

    // The person chose the older token: its payload, its code.
    let older_id = older.stored.activation_id.clone();
    let (_, created) = powerauth(
        &server,
        "v3/signature/offline/personalized/create",
        json!({"activationId": older_id, "data": PAYMENT_DATA}),
    )
    .await;
    let payload = created["responseObject"]["offlineData"].as_str().unwrap();
    let code = eight_eight(&older.offline_code(payload, true));
    let (_, verdict) = powerauth(
        &server,
        "v3/signature/offline/verify",
        json!({"activationId": older_id, "data": base_string(payload), "signature": code}),
    )
    .await;
    assert_eq!(verdict["responseObject"]["signatureValid"], true);
    let newer_view = activation(&server, &cookie, &newer.stored.activation_id).await;
    assert_eq!(newer_view["failedAttempts"], 0);
    assert_eq!(
        newer_view["lastUsedAt"],
        Value::Null,
        "the other token is untouched"
    );
    server.stop().await;
}

/// The query parameters of a redirect's `Location`.
fn location_params(reply: &Reply) -> std::collections::HashMap<String, String> {
    assert_eq!(reply.status, 302, "{}", reply.text());
    let location = reply.header("location");
    let query = location.split_once('?').map_or("", |(_, q)| q);
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), percent_decode(v)))
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let encoded: String = v
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        char::from(b).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            format!("{k}={encoded}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

const RP_CALLBACK: &str = "http://127.0.0.1:9/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

#[tokio::test]
async fn an_application_signs_people_in_through_openid_connect_and_mistakes_get_the_specifications_errors()
 {
    let dir = tempfile::tempdir().unwrap();
    let database = database(dir.path()).await;
    let policy = Policy {
        authorization_code_lifetime: Duration::from_secs(3),
        ..generous()
    };
    let authority = qrauth_server::Authority::open(
        Storage::connect(&database).await.unwrap(),
        qrauth_server::Vault::open(&qrauth_server::KeySource::default_for(&database)).unwrap(),
        policy.clone(),
    )
    .await
    .unwrap();
    let grafana = authority
        .add_client(qrauth_server::NewClient {
            name: "Grafana".into(),
            redirect_uris: vec![RP_CALLBACK.into()],
            post_logout_redirect_uris: vec!["http://127.0.0.1:9/bye".into()],
            public: false,
        })
        .await
        .unwrap();
    let secret = grafana.client_secret.clone().unwrap();
    let spa = authority
        .add_client(qrauth_server::NewClient {
            name: "Dashboard".into(),
            redirect_uris: vec![RP_CALLBACK.into()],
            post_logout_redirect_uris: vec![],
            public: true,
        })
        .await
        .unwrap();
    assert!(spa.client_secret.is_none());
    assert!(
        authority
            .add_client(qrauth_server::NewClient {
                name: "Grafana".into(),
                redirect_uris: vec![RP_CALLBACK.into()],
                post_logout_redirect_uris: vec![],
                public: false,
            })
            .await
            .is_err(),
        "names are unique"
    );
    let server = Running::with_config(config(&database, policy)).await;
    let issuer = format!("http://{}", server.addr);

    let discovery = server
        .request("GET", "/.well-known/openid-configuration")
        .await
        .json();
    assert_eq!(discovery["issuer"], issuer.as_str());
    assert_eq!(
        discovery["token_endpoint"],
        format!("{issuer}/oauth/token").as_str()
    );
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        json!(["ES256"])
    );
    assert_eq!(
        discovery["code_challenge_methods_supported"],
        json!(["S256"])
    );
    let name = server
        .request(
            "GET",
            &format!("/api/v1/oidc/clients/{}", grafana.client_id),
        )
        .await
        .json();
    assert_eq!(name["name"], "Grafana");

    let authorize = |client_id: &str, extra: &str| {
        format!(
            "/oauth/authorize?response_type=code&client_id={client_id}&redirect_uri={}\
             &scope=openid%20profile&state=s-1&nonce=n-1{extra}",
            percent_encode(RP_CALLBACK)
        )
    };
    let pkce = format!("&code_challenge={CHALLENGE}&code_challenge_method=S256");
    let id = grafana.client_id.as_str();

    // Not signed in: to the sign-in page, which comes back here; with prompt=none, an error.
    let unsigned = server.request("GET", &authorize(id, &pkce)).await;
    assert_eq!(unsigned.status, 302);
    assert!(
        unsigned
            .header("location")
            .starts_with("/?return=%2Foauth%2Fauthorize%3Fresponse_type%3Dcode"),
        "{}",
        unsigned.header("location")
    );
    let none = location_params(
        &server
            .request("GET", &authorize(id, &format!("{pkce}&prompt=none")))
            .await,
    );
    assert_eq!(
        (
            none["error"].as_str(),
            none["state"].as_str(),
            none["iss"].as_str()
        ),
        ("login_required", "s-1", issuer.as_str())
    );

    // Signed in by QR with the token's PIN: a code, then tokens that say so.
    let cookie = sign_in(&server, "alice").await;
    let mut token = Token::activate(&server, &cookie).await;
    let login = server.request("POST", "/api/v1/logins").await.json();
    let login_id = login["loginId"].as_str().unwrap();
    let (_, scan, _) = attach(&server, login["qrText"].as_str().unwrap()).await;
    assert_eq!(
        approve(&server, &mut token, login_id, &scan).await.status,
        200
    );
    let completed = server
        .request_with(
            "POST",
            &format!("/api/v1/logins/{login_id}/complete"),
            &bearer(&login["pollSecret"]),
        )
        .await;
    let qr_session = cookie_of(&completed);
    let code_of = |reply: &Reply| location_params(reply)["code"].clone();
    let given = server
        .request_with("GET", &authorize(id, &pkce), &qr_session)
        .await;
    let params = location_params(&given);
    assert!(
        given
            .header("location")
            .starts_with(&format!("{RP_CALLBACK}?code="))
    );
    assert_eq!(
        (params["state"].as_str(), params["iss"].as_str()),
        ("s-1", issuer.as_str())
    );
    let code = params["code"].clone();
    let basic = format!(
        "Authorization: Basic {}\r\n",
        base64::encode(format!("{id}:{secret}").as_bytes())
    );
    let exchange = |code: &str, verifier: &str, redirect: &str| {
        form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
        ])
    };
    let tokens = post_token(&server, &basic, exchange(&code, VERIFIER, RP_CALLBACK)).await;
    assert_eq!(tokens.status, 200, "{}", tokens.text());
    assert_eq!(tokens.header("cache-control"), "no-store");
    let tokens = tokens.json();
    let claims = verify_jwt(&server, tokens["id_token"].as_str().unwrap()).await;
    assert_eq!(claims["iss"], issuer.as_str());
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["aud"], id);
    assert_eq!(claims["nonce"], "n-1");
    assert_eq!(claims["amr"], json!(["swk", "pin", "mfa"]));
    assert!(claims["auth_time"].as_i64().unwrap() <= claims["iat"].as_i64().unwrap());
    assert!(claims["exp"].as_i64().unwrap() > claims["iat"].as_i64().unwrap());
    let access = format!(
        "Authorization: Bearer {}\r\n",
        tokens["access_token"].as_str().unwrap()
    );
    let info = server.request_with("GET", "/oauth/userinfo", &access).await;
    assert_eq!(info.status, 200, "{}", info.text());
    assert_eq!(
        info.json(),
        json!({"sub": "alice", "preferred_username": "alice"})
    );

    // The code a second time: refused, and the access token it gave is revoked.
    let again = post_token(&server, &basic, exchange(&code, VERIFIER, RP_CALLBACK)).await;
    assert_eq!(
        (again.status, again.json()["error"].as_str().unwrap()),
        (400, "invalid_grant")
    );
    let revoked = server.request_with("GET", "/oauth/userinfo", &access).await;
    assert_eq!(revoked.status, 401);
    assert!(revoked.header("www-authenticate").contains("invalid_token"));

    // A password session says pwd; client_secret_post works as well as basic.
    let code = code_of(
        &server
            .request_with("GET", &authorize(id, &pkce), &cookie)
            .await,
    );
    let body = format!(
        "{}&{}",
        exchange(&code, VERIFIER, RP_CALLBACK),
        form(&[("client_id", id), ("client_secret", &secret)])
    );
    let posted = post_token(&server, "", body).await;
    assert_eq!(posted.status, 200, "{}", posted.text());
    let claims = verify_jwt(&server, posted.json()["id_token"].as_str().unwrap()).await;
    assert_eq!(claims["amr"], json!(["pwd"]));

    // Signed in by an offline code from the token: a one-time code, made with device and PIN.
    let login = server
        .json(
            "POST",
            "/api/v1/operations",
            "",
            &json!({"type": "login", "user": "alice"}).to_string(),
        )
        .await
        .json();
    let typed = token.offline_code(login["payload"].as_str().unwrap(), true);
    let verified = verify(&server, login["operationId"].as_str().unwrap(), &typed).await;
    let offline_session = cookie_of(&verified);
    let code = code_of(
        &server
            .request_with("GET", &authorize(id, &pkce), &offline_session)
            .await,
    );
    let tokens = post_token(&server, &basic, exchange(&code, VERIFIER, RP_CALLBACK)).await;
    let claims = verify_jwt(&server, tokens.json()["id_token"].as_str().unwrap()).await;
    assert_eq!(claims["amr"], json!(["otp", "swk", "pin", "mfa"]));

    // Each mistake at the token endpoint, with RFC 6749's error; the code stays usable until
    // it is exchanged rightly, and then it expires.
    let code = code_of(
        &server
            .request_with("GET", &authorize(id, &pkce), &cookie)
            .await,
    );
    let wrong_secret = format!(
        "Authorization: Basic {}\r\n",
        base64::encode(format!("{id}:not-the-secret").as_bytes())
    );
    for (headers, body, status, error) in [
        (
            wrong_secret.as_str(),
            exchange(&code, VERIFIER, RP_CALLBACK),
            401,
            "invalid_client",
        ),
        (
            basic.as_str(),
            exchange(&code, "", RP_CALLBACK),
            400,
            "invalid_request",
        ),
        (
            basic.as_str(),
            exchange(
                &code,
                "wrong-verifier-wrong-verifier-wrong-verifier",
                RP_CALLBACK,
            ),
            400,
            "invalid_grant",
        ),
        (
            basic.as_str(),
            exchange(&code, VERIFIER, "http://127.0.0.1:9/elsewhere"),
            400,
            "invalid_grant",
        ),
        (
            basic.as_str(),
            exchange("no-such-code", VERIFIER, RP_CALLBACK),
            400,
            "invalid_grant",
        ),
        (
            basic.as_str(),
            form(&[("grant_type", "password"), ("code", &code)]),
            400,
            "unsupported_grant_type",
        ),
        (
            "",
            exchange(&code, VERIFIER, RP_CALLBACK),
            401,
            "invalid_client",
        ),
    ] {
        let reply = post_token(&server, headers, body).await;
        assert_eq!(
            (reply.status, reply.json()["error"].as_str().unwrap()),
            (status, error),
            "{}",
            reply.text()
        );
    }
    tokio::time::sleep(Duration::from_millis(3200)).await;
    let expired = post_token(&server, &basic, exchange(&code, VERIFIER, RP_CALLBACK)).await;
    assert_eq!(
        (
            expired.status,
            expired.json()["error_description"].as_str().unwrap()
        ),
        (400, "the code has expired")
    );

    // A public client: PKCE alone, no secret.
    let code = code_of(
        &server
            .request_with("GET", &authorize(&spa.client_id, &pkce), &cookie)
            .await,
    );
    let public = post_token(
        &server,
        "",
        format!(
            "{}&client_id={}",
            exchange(&code, VERIFIER, RP_CALLBACK),
            spa.client_id
        ),
    )
    .await;
    assert_eq!(public.status, 200, "{}", public.text());

    // Mistakes at the authorization endpoint: a page and no redirect while the client or its
    // address is not known to be right; after, the error on the redirect.
    for path in [
        authorize(id, &pkce).replace("9%2Fcallback", "9%2Fevil"),
        authorize("no-such-client", &pkce),
        authorize(id, &pkce).replace("&redirect_uri=", "&x="),
    ] {
        let page = server.request_with("GET", &path, &cookie).await;
        assert_eq!(page.status, 400, "{path}");
        assert!(!page.has_header("location"));
        assert!(page.text().contains("This sign-in link is not valid"));
    }
    for (path, error) in [
        (authorize(id, ""), "invalid_request"),
        (
            authorize(
                id,
                &format!("&code_challenge={CHALLENGE}&code_challenge_method=plain"),
            ),
            "invalid_request",
        ),
        (
            authorize(id, &pkce).replace("scope=openid%20profile", "scope=profile"),
            "invalid_scope",
        ),
        (
            authorize(id, &pkce).replace("response_type=code", "response_type=token"),
            "unsupported_response_type",
        ),
    ] {
        let params = location_params(&server.request_with("GET", &path, &cookie).await);
        assert_eq!(
            (params["error"].as_str(), params["state"].as_str()),
            (error, "s-1"),
            "{path}"
        );
        assert!(!params.contains_key("code"));
    }

    // RP-initiated logout: the session ends, and only a registered address is returned to.
    let elsewhere = server
        .request_with(
            "GET",
            &format!(
                "/oauth/logout?client_id={id}&post_logout_redirect_uri={}",
                percent_encode("https://evil.example/")
            ),
            &qr_session,
        )
        .await;
    assert_eq!(elsewhere.status, 200);
    assert!(!elsewhere.has_header("location"));
    let out = server
        .request_with(
            "GET",
            &format!(
                "/oauth/logout?client_id={id}&post_logout_redirect_uri={}&state=bye",
                percent_encode("http://127.0.0.1:9/bye")
            ),
            &cookie,
        )
        .await;
    assert_eq!(out.status, 302);
    assert_eq!(out.header("location"), "http://127.0.0.1:9/bye?state=bye");
    assert!(out.header("set-cookie").contains("Max-Age=0"));
    let gone = server.request_with("GET", "/api/v1/session", &cookie).await;
    assert_eq!(gone.status, 401);
    server.stop().await;
}

/// `POST /oauth/token` with a form `body`.
async fn post_token(server: &Running, headers: &str, body: String) -> Reply {
    let headers = format!("{headers}Content-Type: application/x-www-form-urlencoded\r\n");
    server
        .send("POST", "/oauth/token", &headers, body.as_bytes())
        .await
}

fn percent_encode(text: &str) -> String {
    form(&[("x", text)])[2..].to_owned()
}

// Several worker threads, so that the hundred requests really arrive at the same time.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_wrong_codes_count_as_five_and_block_the_activation() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let cookie = sign_in(&server, "alice").await;
    let mut token = Token::activate(&server, &cookie).await;
    let payment = create_payment(&server, &cookie).await;
    let id = payment["operationId"].as_str().unwrap().to_owned();
    let good = token.offline_code(payment["payload"].as_str().unwrap(), true);
    let wrong = token.offline_code(payment["payload"].as_str().unwrap(), false);

    let replies = verify_at_once(std::slice::from_ref(&server), 100, &id, &wrong).await;
    let statuses: Vec<_> = replies.iter().map(|r| (r.status, r.json())).collect();
    assert!(
        statuses
            .iter()
            .all(|(s, v)| *s == 200 && v["valid"] == false)
    );
    // Exactly four answers saw the activation still active, counting down; every other one
    // saw it blocked.
    let mut counting: Vec<_> = statuses
        .iter()
        .filter(|(_, v)| v["activationStatus"] == "ACTIVE")
        .map(|(_, v)| v["remainingAttempts"].as_u64().unwrap())
        .collect();
    counting.sort_unstable();
    assert_eq!(counting, [1, 2, 3, 4]);
    let view = activation(&server, &cookie, &token.stored.activation_id).await;
    assert_eq!(view["failedAttempts"], 5);
    assert_eq!(view["status"], "BLOCKED");
    assert_eq!(view["blockedReason"], "MAX_FAILED_ATTEMPTS");

    // After the block even the right code is refused, and the operation stays pending.
    let after = verify(&server, &id, &good).await.json();
    assert_eq!(after["valid"], false);
    assert_eq!(after["activationStatus"], "BLOCKED");
    let shown = server
        .request("GET", &format!("/api/v1/operations/{id}"))
        .await
        .json();
    assert_eq!(shown["state"], "PENDING");
    server.stop().await;
}

/// The frame of `login`'s animated QR at `step`, as its page draws it.
fn frame(login: &Value, step: u64) -> String {
    LoginQr::new(
        login["qrText"].as_str().unwrap(),
        login["qrSecret"].as_str().unwrap(),
    )
    .unwrap()
    .frame(step)
}

#[tokio::test]
async fn only_a_live_frame_of_the_sign_in_qr_attaches_and_a_picture_of_it_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let database = database(dir.path()).await;
    let policy = Policy {
        qr_frame_window: Duration::from_secs(1),
        ..generous()
    };
    let server = Running::with_config(config(&database, policy)).await;
    let cookie = sign_in(&server, "alice").await;
    let mut token = Token::activate(&server, &cookie).await;
    let made = std::time::Instant::now();
    let login = server.request("POST", "/api/v1/logins").await.json();
    let other = server.request("POST", "/api/v1/logins").await.json();
    let id = login["loginId"].as_str().unwrap().to_owned();
    let auth = bearer(&login["pollSecret"]);
    let refused = |reply: &Reply| {
        (
            reply.status,
            error_code(reply),
            reply.json()["error"]["message"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
        )
    };

    // A photo taken at step 0, scanned at step 2 with a 1 s window: refused with the words the
    // person must read, and the login still waits.
    let photo = frame(&login, 0);
    tokio::time::sleep(Duration::from_millis(2_200).saturating_sub(made.elapsed())).await;
    assert_eq!(
        refused(&try_attach(&server, &photo).await),
        (
            403,
            "qr_frame_stale".into(),
            "This code is from a picture or a screenshot: scan the code on the screen itself."
                .into()
        )
    );
    let live_step = made.elapsed().as_secs();
    let (head, mac) = frame(&login, live_step)
        .rsplit_once('.')
        .map(|(h, m)| (h.to_owned(), m.to_owned()))
        .unwrap();
    let flipped = format!(
        "{head}.{}{}",
        if mac.starts_with('A') { 'B' } else { 'A' },
        &mac[1..]
    );
    let other_frame = frame(&other, live_step);
    let other_mac = other_frame.rsplit_once('.').unwrap().1;
    let (login_link, _) = head.rsplit_once('.').unwrap();
    for (scanned, status, code) in [
        (
            format!("{head}.{}", &mac[..mac.len() - 2]),
            400,
            "qr_frame_malformed",
        ),
        (login_link.to_owned(), 400, "qr_frame_missing"),
        (flipped, 403, "qr_frame_forged"),
        (format!("{head}.{other_mac}"), 403, "qr_frame_forged"),
        (frame(&login, live_step + 3), 403, "qr_frame_future"),
    ] {
        let reply = try_attach(&server, &scanned).await;
        assert_eq!(
            (reply.status, error_code(&reply).as_str()),
            (status, code),
            "{scanned}"
        );
    }
    let view = server
        .request_with("GET", &format!("/api/v1/logins/{id}"), &auth)
        .await
        .json();
    assert_eq!(view["state"], "PENDING", "nothing refused moved the login");

    // The QR on the screen works, and the frame scanned then still approves once the person
    // has taken longer than the window to read and approve; a forged one does not.
    let live = frame(&login, made.elapsed().as_secs());
    let (attached, scan, _) = attach(&server, &live).await;
    assert_eq!(attached, id);
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let forged_scan = format!("{}.AAAAAAAAAAA", scan.rsplit_once('.').unwrap().0);
    let reply = approve(&server, &mut token, &id, &forged_scan).await;
    assert_eq!(
        (reply.status, error_code(&reply).as_str()),
        (403, "qr_frame_forged")
    );
    let reply = approve(&server, &mut token, &id, &scan).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["state"], "APPROVED");
    server.stop().await;
}

/// Approves `login` with the number `typed` (number matching).
async fn approve_with_number(
    server: &Running,
    token: &mut Token,
    login: &str,
    scan: &str,
    typed: Option<&str>,
) -> Reply {
    let body = json!({"scanCode": scan, "number": typed}).to_string();
    let header = token.sign(LOGIN_APPROVE_URI_ID, body.as_bytes(), true);
    server
        .json(
            "POST",
            &format!("/api/v1/token/logins/{login}/approve"),
            &header,
            &body,
        )
        .await
}

#[tokio::test]
async fn number_matching_shows_the_page_two_digits_and_a_wrong_one_denies_on_both_sides() {
    let dir = tempfile::tempdir().unwrap();
    let database = database(dir.path()).await;
    let policy = Policy {
        number_matching: true,
        ..generous()
    };
    let server = Running::with_config(config(&database, policy)).await;
    let cookie = sign_in(&server, "alice").await;
    let mut token = Token::activate(&server, &cookie).await;
    let view_of = |login: &Value| {
        let (id, auth) = (
            login["loginId"].as_str().unwrap().to_owned(),
            bearer(&login["pollSecret"]),
        );
        let server = &server;
        async move {
            server
                .request_with("GET", &format!("/api/v1/logins/{id}"), &auth)
                .await
                .json()
        }
    };

    // The page sees no number until a phone scans; the token is told to ask for it.
    let login = server.request("POST", "/api/v1/logins").await.json();
    assert_eq!(view_of(&login).await.get("number"), None);
    let (id, scan, asking) = attach(&server, login["qrText"].as_str().unwrap()).await;
    assert_eq!(asking["numberMatching"], true);
    let shown = view_of(&login).await["number"].as_str().unwrap().to_owned();
    assert!(
        shown.len() == 2 && shown.bytes().all(|b| b.is_ascii_digit()),
        "{shown}"
    );

    // No number: refused, nothing moves; the right one with a wrong PIN: the PIN is refused.
    let reply = approve_with_number(&server, &mut token, &id, &scan, None).await;
    assert_eq!(
        (reply.status, error_code(&reply).as_str()),
        (400, "number_required")
    );
    assert_eq!(view_of(&login).await["state"], "SCANNED");
    let body = json!({"scanCode": scan, "number": shown}).to_string();
    let wrong_pin = token.sign(LOGIN_APPROVE_URI_ID, body.as_bytes(), false);
    let reply = server
        .json(
            "POST",
            &format!("/api/v1/token/logins/{id}/approve"),
            &wrong_pin,
            &body,
        )
        .await;
    assert_eq!(
        (reply.status, error_code(&reply).as_str()),
        (401, "signature_invalid")
    );
    let reply = approve_with_number(&server, &mut token, &id, &scan, Some(&shown)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());

    // A wrong number denies the login at once, and its page is told why.
    let login = server.request("POST", "/api/v1/logins").await.json();
    let (id, scan, _) = attach(&server, login["qrText"].as_str().unwrap()).await;
    let shown = view_of(&login).await["number"].as_str().unwrap().to_owned();
    let wrong = if shown == "42" { "43" } else { "42" };
    let reply = approve_with_number(&server, &mut token, &id, &scan, Some(wrong)).await;
    assert_eq!(
        (reply.status, error_code(&reply).as_str()),
        (403, "number_mismatch")
    );
    let view = view_of(&login).await;
    assert_eq!(
        (view["state"].as_str(), view["denial"].as_str()),
        (Some("DENIED"), Some("wrong_number"))
    );
    assert_eq!(view.get("number"), None, "no number once denied");
    let reply = approve_with_number(&server, &mut token, &id, &scan, Some(&shown)).await;
    assert_eq!(
        (reply.status, error_code(&reply).as_str()),
        (409, "login_state_conflict"),
        "no second guess"
    );

    // Denied on the token: said so too.
    let login = server.request("POST", "/api/v1/logins").await.json();
    let (id, scan, _) = attach(&server, login["qrText"].as_str().unwrap()).await;
    let body = json!({"scanCode": scan}).to_string();
    let denied = server
        .json(
            "POST",
            &format!("/api/v1/token/logins/{id}/deny"),
            "",
            &body,
        )
        .await;
    assert_eq!(denied.status, 200, "{}", denied.text());
    assert_eq!(view_of(&login).await["denial"], "on_token");
    server.stop().await;
}

#[tokio::test]
async fn with_the_proximity_check_a_payment_takes_the_code_of_its_current_step_and_refuses_an_old_one()
 {
    let dir = tempfile::tempdir().unwrap();
    let database = database(dir.path()).await;
    let policy = Policy {
        offline_proximity: Some(Duration::from_secs(1)),
        ..generous()
    };
    let server = Running::with_config(config(&database, policy)).await;
    let cookie = sign_in(&server, "alice").await;
    let mut token = Token::activate(&server, &cookie).await;
    let shown = |id: String| {
        let server = &server;
        async move {
            server
                .request("GET", &format!("/api/v1/operations/{id}"))
                .await
                .json()
        }
    };

    // The payload carries the TOTP line, signed with the rest; the page is told when it changes.
    let payment = create_payment(&server, &cookie).await;
    let id = payment["operationId"].as_str().unwrap().to_owned();
    let first = OfflinePayload::parse(payment["payload"].as_str().unwrap()).unwrap();
    let totp = first.totp.clone().unwrap();
    assert!(
        totp.len() == 8 && totp.bytes().all(|b| b.is_ascii_digit()),
        "{totp}"
    );
    assert!(payment["payloadChangesInMs"].as_u64().unwrap() <= 1_000);
    let code = token.offline_code(first.text(), true);
    let verdict = verify(&server, &id, &code).await.json();
    assert_eq!(verdict["valid"], true, "{verdict}");

    // A code made from a QR two steps old is a wrong code; the QR shown now, signed anew for
    // its step with the same data and nonce, gives the right one.
    let payment = create_payment(&server, &cookie).await;
    let id = payment["operationId"].as_str().unwrap().to_owned();
    let old = payment["payload"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let now = shown(id.clone()).await;
    let current = OfflinePayload::parse(now["payload"].as_str().unwrap()).unwrap();
    let before = OfflinePayload::parse(&old).unwrap();
    assert_ne!(current.totp, before.totp);
    assert_eq!(
        (&current.operation_id, current.nonce, &current.title),
        (&before.operation_id, before.nonce, &before.title)
    );
    assert!(now["payloadChangesInMs"].as_u64().is_some());
    let late = verify(&server, &id, &token.offline_code(&old, true))
        .await
        .json();
    assert_eq!(
        (late["valid"].as_bool(), late["remainingAttempts"].as_u64()),
        (Some(false), Some(4)),
        "{late}"
    );
    let verdict = verify(&server, &id, &token.offline_code(current.text(), true))
        .await
        .json();
    assert_eq!(verdict["valid"], true, "{verdict}");
    let approved = shown(id).await;
    assert_eq!(approved["state"], "APPROVED");
    assert_eq!(
        approved.get("payloadChangesInMs"),
        None,
        "an approved payment's QR stays"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_person_may_ask_for_more_time_as_often_as_the_server_allows() {
    let dir = tempfile::tempdir().unwrap();
    let database = database(dir.path()).await;
    let policy = Policy {
        login_lifetime: Duration::from_millis(1_000),
        login_extensions: 2,
        ..generous()
    };
    let server = Running::with_config(config(&database, policy)).await;
    let login = server.request("POST", "/api/v1/logins").await.json();
    let id = login["loginId"].as_str().unwrap().to_owned();
    let auth = bearer(&login["pollSecret"]);
    let extend = |auth: String| {
        let (server, path) = (&server, format!("/api/v1/logins/{id}/extend"));
        async move { server.request_with("POST", &path, &auth).await }
    };
    let refused = |reply: &Reply| (reply.status, error_code(reply));

    tokio::time::sleep(Duration::from_millis(600)).await;
    let first = extend(auth.clone()).await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert!(
        first.json()["expiresAt"].as_i64() > login["expiresAt"].as_i64(),
        "{}",
        first.text()
    );
    assert_eq!(first.json()["state"], "PENDING");
    assert_eq!(
        refused(&extend("Authorization: Bearer wrong\r\n".into()).await),
        (403, "poll_secret_invalid".into())
    );
    // Three lifetimes at most (two extensions): then refused, and the login still waits.
    let mut last = first;
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        last = extend(auth.clone()).await;
        if last.status != 200 {
            break;
        }
    }
    assert_eq!(refused(&last), (409, "login_extension_limit".into()));
    let made = login["expiresAt"].as_i64().unwrap() - 1_000;
    let view = server
        .request_with("GET", &format!("/api/v1/logins/{id}"), &auth)
        .await
        .json();
    assert_eq!(view["expiresAt"].as_i64(), Some(made + 3_000), "{view}");
    tokio::time::sleep(Duration::from_millis(3_100)).await;
    assert_eq!(
        refused(&extend(auth.clone()).await),
        (410, "login_expired".into())
    );

    // An approved or cancelled login is no longer waiting for anyone.
    let other = server.request("POST", "/api/v1/logins").await.json();
    let other_auth = bearer(&other["pollSecret"]);
    let other_id = other["loginId"].as_str().unwrap();
    server
        .request_with("DELETE", &format!("/api/v1/logins/{other_id}"), &other_auth)
        .await;
    let reply = server
        .request_with(
            "POST",
            &format!("/api/v1/logins/{other_id}/extend"),
            &other_auth,
        )
        .await;
    assert_eq!(refused(&reply), (409, "login_state_conflict".into()));
    server.stop().await;
}

#[tokio::test]
async fn a_restart_in_the_middle_of_a_login_and_an_approval_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let database = database(dir.path()).await;
    let server = Running::with_config(config(&database, generous())).await;
    let cookie = sign_in(&server, "alice").await;
    let mut token = Token::activate(&server, &cookie).await;
    let login = server.request("POST", "/api/v1/logins").await.json();
    let (id, scan, _) = attach(&server, login["qrText"].as_str().unwrap()).await;
    let payment = create_payment(&server, &cookie).await;
    server.stop().await;

    let server = Running::with_config(config(&database, generous())).await;
    assert_eq!(approve(&server, &mut token, &id, &scan).await.status, 200);
    let auth = bearer(&login["pollSecret"]);
    server.stop().await;

    let server = Running::with_config(config(&database, generous())).await;
    let completed = server
        .request_with("POST", &format!("/api/v1/logins/{id}/complete"), &auth)
        .await;
    assert_eq!(completed.status, 200, "{}", completed.text());
    verify_jwt(&server, completed.json()["idToken"].as_str().unwrap()).await;
    let code = token.offline_code(payment["payload"].as_str().unwrap(), true);
    let accepted = verify(&server, payment["operationId"].as_str().unwrap(), &code).await;
    assert_eq!(accepted.json()["valid"], true);
    server.stop().await;

    // The keys are sealed: another storage key does not open this database.
    let mut other = config(&database, generous());
    other.key = qrauth_server::KeySource::Base64(base64::encode(&[7u8; 32]));
    let error = qrauth_server::Server::bind(other)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("storage key"), "{error}");
}

#[tokio::test]
async fn bad_input_gets_its_own_status_and_code_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let cookie = sign_in(&server, "alice").await;
    let mut token = Token::activate(&server, &cookie).await;
    let login = server.request("POST", "/api/v1/logins").await.json();
    let id = login["loginId"].as_str().unwrap().to_owned();
    let auth = bearer(&login["pollSecret"]);
    let (_, scan, _) = attach(&server, login["qrText"].as_str().unwrap()).await;
    let approve_path = format!("/api/v1/token/logins/{id}/approve");
    let approve_body = json!({"scanCode": scan}).to_string();
    let forged = {
        let mut header = token.sign(LOGIN_APPROVE_URI_ID, approve_body.as_bytes(), true);
        header = header.replace("pa_signature=\"", "pa_signature=\"AAAA");
        header
    };
    let replayed = token.sign(LOGIN_APPROVE_URI_ID, b"{\"scanCode\":\"other\"}", true);
    let payment = create_payment(&server, &cookie).await;
    let operation = payment["operationId"].as_str().unwrap().to_owned();
    let big = format!("{{\"code\": \"{}\"}}", "1".repeat(70_000));

    let json_header = "Content-Type: application/json\r\n";
    let cases: Vec<(&str, String, String, String, u16, &str)> = vec![
        ("POST", format!("/api/v1/operations/{operation}/verify"), String::new(), "{\"code\": ".into(), 400, "malformed_json"),
        ("POST", format!("/api/v1/operations/{operation}/verify"), String::new(), "[1, 2]".into(), 422, "invalid_request"),
        ("POST", format!("/api/v1/operations/{operation}/verify"), String::new(), big, 413, "body_too_large"),
        ("POST", format!("/api/v1/operations/{operation}/verify"), String::new(), "{\"code\": \"12ab\"}".into(), 422, "invalid_code"),
        ("POST", "/api/v1/operations/00000000-0000-4000-8000-000000000000/verify".into(), String::new(), "{\"code\": \"1234567812345678\"}".into(), 404, "operation_not_found"),
        ("POST", "/api/v1/operations".into(), cookie.clone(), json!({"type": "payment", "amount": "-5", "currency": "EUR", "iban": "CZ6508000000192000145399"}).to_string(), 422, "invalid_operation"),
        ("POST", "/api/v1/operations".into(), cookie.clone(), json!({"type": "payment", "amount": "5", "currency": "EUR", "iban": "CZ6508000000192000145398"}).to_string(), 422, "invalid_operation"),
        ("POST", "/api/v1/operations".into(), cookie.clone(), json!({"type": "payment", "amount": "5", "currency": "EUR", "iban": "CZ6508000000192000145399", "payee": "P".repeat(71)}).to_string(), 422, "invalid_operation"),
        ("POST", "/api/v1/operations".into(), cookie.clone(), json!({"type": "payment", "amount": "5", "currency": "EUR", "iban": "CZ6508000000192000145399", "note": "Rent\nApprove everything"}).to_string(), 422, "invalid_operation"),
        ("POST", "/api/v1/operations".into(), String::new(), json!({"type": "login"}).to_string(), 401, "not_signed_in"),
        ("POST", "/api/v1/operations".into(), String::new(), json!({"type": "wire"}).to_string(), 422, "invalid_request"),
        ("GET", format!("/api/v1/logins/{id}"), String::new(), String::new(), 401, "poll_secret_required"),
        ("GET", format!("/api/v1/logins/{id}"), "Authorization: Bearer wrong\r\n".into(), String::new(), 403, "poll_secret_invalid"),
        ("GET", "/api/v1/logins/unknown".into(), auth.clone(), String::new(), 404, "login_not_found"),
        ("POST", "/api/v1/token/logins/attach".into(), String::new(), json!({"scanCode": "guess.0.AAAAAAAAAAA"}).to_string(), 404, "scan_code_not_found"),
        ("POST", "/api/v1/token/logins/attach".into(), String::new(), json!({"scanCode": "guess"}).to_string(), 400, "qr_frame_missing"),
        ("POST", approve_path.clone(), String::new(), approve_body.clone(), 401, "signature_required"),
        ("POST", approve_path.clone(), "X-PowerAuth-Authorization: Basic abc\r\n".into(), approve_body.clone(), 400, "invalid_authorization"),
        ("POST", approve_path.clone(), forged, approve_body.clone(), 401, "signature_invalid"),
        ("POST", approve_path.clone(), replayed, approve_body.clone(), 401, "signature_invalid"),
        ("POST", "/api/v1/token/activations".into(), String::new(), json!({"activationCode": "AAAAA-AAAAA-AAAAA-AAAAB", "devicePublicKey": "BAAA"}).to_string(), 422, "invalid_activation_code"),
        ("POST", "/api/v1/token/activations".into(), String::new(), json!({"activationCode": "GYA4L-D4C7K-OP2NV-USYYQ", "devicePublicKey": "BAAA"}).to_string(), 422, "invalid_public_key"),
        ("POST", "/api/v1/activations".into(), String::new(), String::new(), 401, "not_signed_in"),
        ("GET", "/api/v1/activations/unknown".into(), cookie.clone(), String::new(), 404, "activation_not_found"),
    ];
    for (method, path, headers, body, status, code) in cases {
        let headers = if body.is_empty() {
            headers
        } else {
            format!("{json_header}{headers}")
        };
        let reply = server.send(method, &path, &headers, body.as_bytes()).await;
        assert_eq!(
            (reply.status, error_code(&reply).as_str()),
            (status, code),
            "{method} {path}: {}",
            reply.text()
        );
    }
    // Nothing changed: the login still waits for the token. The forged and the replayed
    // signature were not made with the device's key for this body, so they were refused without
    // counting (issue 21: whoever knows an activation id must not be able to block it).
    let state = server
        .request_with("GET", &format!("/api/v1/logins/{id}"), &auth)
        .await;
    assert_eq!(state.json()["state"], "SCANNED");
    let view = activation(&server, &cookie, &token.stored.activation_id).await;
    assert_eq!(view["failedAttempts"], 0);
    let shown = server
        .request("GET", &format!("/api/v1/operations/{operation}"))
        .await
        .json();
    assert_eq!(shown["state"], "PENDING");
    assert_eq!(approve(&server, &mut token, &id, &scan).await.status, 200);
    server.stop().await;
}

#[tokio::test]
async fn creating_things_is_rate_limited_per_address() {
    let dir = tempfile::tempdir().unwrap();
    let policy = Policy {
        creations_per_minute: 3,
        ..Policy::default()
    };
    let server = Running::with_config(config(&database(dir.path()).await, policy)).await;
    for _ in 0..3 {
        assert_eq!(server.request("POST", "/api/v1/logins").await.status, 201);
    }
    let limited = server.request("POST", "/api/v1/logins").await;
    assert_eq!(
        (limited.status, error_code(&limited).as_str()),
        (429, "rate_limited")
    );
    assert!(limited.header("retry-after").parse::<u64>().unwrap() >= 1);
    server.stop().await;
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let reply = server.request("GET", "/api/v1/openapi.json").await;
    assert_eq!(reply.status, 200);
    let document = reply.json();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let paths = document["paths"].as_object().unwrap();
    for (path, operations) in paths {
        let methods = operations.as_object().unwrap().keys();
        for method in methods.filter(|m| *m != "parameters") {
            let concrete = path.replace("{id}", "00000000-0000-4000-8000-000000000000");
            let reply = server
                .send(
                    &method.to_uppercase(),
                    &format!("/api/v1{concrete}"),
                    "",
                    b"",
                )
                .await;
            let code = error_code(&reply);
            assert!(
                code != "not_found" && code != "method_not_allowed",
                "{method} {path} is documented but not served"
            );
        }
    }
    for documented in [
        "/health",
        "/live",
        "/session",
        "/application",
        "/jwks.json",
        "/activations",
        "/activations/{id}",
        "/token/activations",
        "/token/activations/{id}",
        "/token/activations/{id}/remove",
        "/logins",
        "/logins/{id}",
        "/logins/{id}/complete",
        "/logins/{id}/extend",
        "/token/logins/attach",
        "/token/logins/{id}/approve",
        "/token/logins/{id}/deny",
        "/oidc/clients/{id}",
        "/operations",
        "/operations/{id}",
        "/operations/{id}/verify",
    ] {
        assert!(
            paths.contains_key(documented),
            "{documented} is served but not documented"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn a_session_planted_before_sign_in_is_never_the_one_signed_in() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let cookie = sign_in(&server, "alice").await;
    let mut token = Token::activate(&server, &cookie).await;
    // Someone who could set a cookie in the victim's browser (session fixation) plants one.
    let planted = "Cookie: qrauth_session=planted-by-someone-else\r\n";
    let login = server
        .request_with("POST", "/api/v1/logins", planted)
        .await
        .json();
    let (id, scan, _) = attach(&server, login["qrText"].as_str().unwrap()).await;
    assert_eq!(approve(&server, &mut token, &id, &scan).await.status, 200);
    let completed = server
        .request_with(
            "POST",
            &format!("/api/v1/logins/{id}/complete"),
            &format!("{}{planted}", bearer(&login["pollSecret"])),
        )
        .await;
    assert_eq!(completed.status, 200, "{}", completed.text());
    let issued = cookie_of(&completed);
    assert!(!issued.contains("planted"), "{issued}");
    let with_planted = server.request_with("GET", "/api/v1/session", planted).await;
    assert_eq!(with_planted.status, 401, "{}", with_planted.text());
    let with_issued = server.request_with("GET", "/api/v1/session", &issued).await;
    assert_eq!(with_issued.json()["user"], "alice");
    // The same for a password sign-in: a fresh session, whatever the browser sent.
    let password = server
        .json(
            "POST",
            "/api/v1/session",
            planted,
            &json!({"user": "bob", "password": PASSWORD}).to_string(),
        )
        .await;
    assert!(!cookie_of(&password).contains("planted"));
    assert_eq!(
        server
            .request_with("GET", "/api/v1/session", planted)
            .await
            .status,
        401
    );
    server.stop().await;
}

#[tokio::test]
async fn a_new_password_and_an_operator_end_every_session_of_the_user() {
    let dir = tempfile::tempdir().unwrap();
    let database = database(dir.path()).await;
    let server = Running::with_config(config(&database, generous())).await;
    let signed_in = |cookie: String| {
        let server = &server;
        async move {
            server
                .request_with("GET", "/api/v1/session", &cookie)
                .await
                .status
        }
    };
    let alice = sign_in(&server, "alice").await;
    let bob = sign_in(&server, "bob").await;
    assert_eq!(signed_in(alice.clone()).await, 200);

    // Whoever knew alice's old password stays signed in no longer once it is changed.
    let storage = Storage::connect(&database).await.unwrap();
    qrauth_server::users::add_user(&storage, "alice", "a new horse battery", true)
        .await
        .unwrap();
    assert_eq!(signed_in(alice).await, 401);
    assert_eq!(signed_in(bob.clone()).await, 200, "other users keep theirs");

    let again = sign_in(&server, "bob").await;
    let ended = qrauth_server::users::end_sessions(&storage, "bob")
        .await
        .unwrap();
    assert_eq!(ended, 2);
    assert_eq!(signed_in(bob).await, 401);
    assert_eq!(signed_in(again).await, 401);
    assert!(matches!(
        qrauth_server::users::end_sessions(&storage, "nobody").await,
        Err(qrauth_server::users::UserError::Unknown)
    ));
    assert_eq!(
        storage
            .last_audit_event()
            .await
            .unwrap()
            .map(|(event, _)| event),
        Some("user.sessions_ended".to_owned())
    );
    server.stop().await;
}

#[tokio::test]
async fn anonymous_floods_leave_the_audit_log_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let database = database(dir.path()).await;
    let policy = Policy {
        creations_per_minute: 3,
        ..Policy::default()
    };
    let server = Running::with_config(config(&database, policy)).await;
    let mut refused = 0;
    for _ in 0..200 {
        if server.request("POST", "/api/v1/logins").await.status == 429 {
            refused += 1;
        }
    }
    assert_eq!(refused, 197);
    let long_name = "x".repeat(60 * 1024);
    let failed = server
        .json(
            "POST",
            "/api/v1/session",
            "",
            &json!({"user": long_name, "password": "wrong password"}).to_string(),
        )
        .await;
    assert_eq!(failed.status, 401);
    let log = support::beside(&database).await;
    assert_eq!(
        log.audit_details("rate_limited").await.unwrap().len(),
        1,
        "a run of refusals is one event"
    );
    let sign_in = log.audit_details("session.sign_in_failed").await.unwrap();
    assert!(sign_in[0].chars().count() <= 201, "{}", sign_in[0].len());
    server.stop().await;
}

#[tokio::test]
async fn a_page_of_another_origin_cannot_change_anything_for_the_person_signed_in() {
    let dir = tempfile::tempdir().unwrap();
    let mut policy = generous();
    policy.allowed_origins = vec!["https://shop.example.com".into()];
    let server = Running::with_config(config(&database(dir.path()).await, policy)).await;
    let alice = sign_in(&server, "alice").await;
    let own = format!("http://{}", server.addr);
    let other_port = format!("http://127.0.0.1:{}", server.addr.port() + 1);
    for origin in [
        other_port.as_str(),
        "http://localhost",
        "null",
        "https://evil.example.com",
    ] {
        let headers = format!("{alice}Origin: {origin}\r\n");
        for (method, path) in [
            ("POST", "/api/v1/activations"),
            ("DELETE", "/api/v1/session"),
            ("POST", "/api/v1/logins"),
        ] {
            let reply = server.request_with(method, path, &headers).await;
            assert_eq!(reply.status, 403, "{method} {path} from {origin}");
            assert_eq!(error_code(&reply), "origin_not_allowed");
        }
    }
    let list = server
        .request_with("GET", "/api/v1/activations", &alice)
        .await;
    assert_eq!(list.json(), json!([]), "nothing was made");
    assert_eq!(
        server
            .request_with(
                "GET",
                "/api/v1/session",
                &format!("{alice}Origin: {other_port}\r\n")
            )
            .await
            .status,
        200,
        "reading is for CORS to allow or not"
    );
    for headers in [
        format!("{alice}Origin: {own}\r\n"),
        format!("{alice}Origin: https://shop.example.com\r\n"),
        alice.clone(),
    ] {
        let reply = server
            .request_with("POST", "/api/v1/activations", &headers)
            .await;
        assert_eq!(reply.status, 201, "{headers}: {}", reply.text());
    }
    server.stop().await;
}

#[tokio::test]
async fn payments_come_only_from_the_payers_session_or_the_operator() {
    let dir = tempfile::tempdir().unwrap();
    let operator = dir.path().join("operator.token");
    std::fs::write(&operator, "an-operator-token-of-enough-length\n").unwrap();
    let mut with_operator = config(&database(dir.path()).await, generous());
    with_operator.operator_token = Some(operator);
    let server = Running::with_config(with_operator).await;
    let alice = sign_in(&server, "alice").await;
    Token::activate(&server, &alice).await;
    let bob = sign_in(&server, "bob").await;
    let payment = |user: Option<&str>| {
        let mut body = json!({"type": "payment", "amount": "10.00", "currency": "EUR",
                              "iban": "CZ6508000000192000145399"});
        if let Some(user) = user {
            body["user"] = json!(user);
        }
        body.to_string()
    };
    let create = async |headers: &str, body: String| {
        server
            .json("POST", "/api/v1/operations", headers, &body)
            .await
    };
    // A phishing page cannot get a genuine payment signed for someone else.
    for (headers, user, status, code) in [
        ("", Some("alice"), 401, "not_signed_in"),
        (bob.as_str(), Some("alice"), 403, "not_your_account"),
        (
            "Authorization: Bearer a-guessed-token-of-enough-length\r\n",
            Some("alice"),
            403,
            "operator_token_invalid",
        ),
    ] {
        let reply = create(headers, payment(user)).await;
        assert_eq!(
            (reply.status, error_code(&reply).as_str()),
            (status, code),
            "{headers:?}"
        );
    }
    let own = create(&alice, payment(None)).await;
    assert_eq!(own.status, 201, "{}", own.text());
    assert_eq!(
        own.json()["keyType"],
        1,
        "signed with alice's own activation key"
    );
    let named_own = create(&alice, payment(Some("alice"))).await;
    assert_eq!(named_own.status, 201);
    let backend = create(
        "Authorization: Bearer an-operator-token-of-enough-length\r\n",
        payment(Some("alice")),
    )
    .await;
    assert_eq!(backend.status, 201, "{}", backend.text());
    assert_eq!(backend.json()["kind"], "payment");

    // Anyone may ask for a login by name; its key type never tells who has a token.
    for user in ["alice", "bob", "nobody"] {
        let login = create("", json!({"type": "login", "user": user}).to_string()).await;
        assert_eq!(login.status, 201, "{user}: {}", login.text());
        assert_eq!(login.json()["keyType"], 0, "{user}");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_stranger_who_knows_a_name_or_an_id_cannot_block_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let alice = sign_in(&server, "alice").await;
    let mut token = Token::activate(&server, &alice).await;
    let id = token.stored.activation_id.clone();

    // Five and more wrong codes for a login asked for by alice's name, without her token.
    let login = server
        .json(
            "POST",
            "/api/v1/operations",
            "",
            &json!({"type": "login", "user": "alice"}).to_string(),
        )
        .await
        .json();
    let login_id = login["operationId"].as_str().unwrap();
    let mut answers = std::collections::BTreeSet::new();
    for guess in 0..8u32 {
        let typed = format!("{:08}-{:08}", guess * 7_919, guess * 104_729);
        let verdict = verify(&server, login_id, &typed).await.json();
        assert_eq!(verdict["valid"], false);
        answers.insert(verdict.to_string());
    }
    // The same answer for bob, who has no token, and for a name nobody has: a login's answer
    // does not tell who has a token.
    for user in ["bob", "nobody"] {
        let other = server
            .json(
                "POST",
                "/api/v1/operations",
                "",
                &json!({"type": "login", "user": user}).to_string(),
            )
            .await
            .json();
        let verdict = verify(
            &server,
            other["operationId"].as_str().unwrap(),
            "1234-5678-1234-5678",
        )
        .await;
        answers.insert(verdict.json().to_string());
    }
    assert_eq!(answers.len(), 1, "{answers:?}");
    // Five and more approvals of the stranger's own login that name alice's activation, with
    // signatures made without her device.
    let created = server.request("POST", "/api/v1/logins").await.json();
    let (own_login, scan, _) = attach(&server, created["qrText"].as_str().unwrap()).await;
    let body = json!({"scanCode": scan}).to_string();
    for _ in 0..8 {
        let header = format!(
            "{AUTHORIZATION_HEADER}: PowerAuth pa_activation_id=\"{id}\", pa_nonce=\"{}\", \
             pa_signature_type=\"possession_knowledge\", pa_signature=\"{}\", pa_version=\"3.1\"\r\n",
            base64::encode(&rand_bytes::<16>()),
            base64::encode(&rand_bytes::<32>()),
        );
        let reply = server
            .json(
                "POST",
                &format!("/api/v1/token/logins/{own_login}/approve"),
                &header,
                &body,
            )
            .await;
        assert_eq!(
            (reply.status, error_code(&reply).as_str()),
            (401, "signature_invalid")
        );
    }
    let standing = activation(&server, &alice, &id).await;
    assert_eq!(
        (
            standing["status"].clone(),
            standing["remainingAttempts"].clone()
        ),
        (json!("ACTIVE"), json!(5)),
        "{standing}"
    );

    // A wrong PIN on alice's own token still counts, there too: that is the guessing the limit
    // stops.
    let wrong_pin = token.offline_code(login["payload"].as_str().unwrap(), false);
    assert_eq!(
        verify(&server, login_id, &wrong_pin).await.json()["valid"],
        false
    );
    let standing = activation(&server, &alice, &id).await;
    assert_eq!(standing["remainingAttempts"], 4, "{standing}");
    let right = token.offline_code(login["payload"].as_str().unwrap(), true);
    assert_eq!(
        verify(&server, login_id, &right).await.json()["valid"],
        true
    );
    server.stop().await;
}

#[tokio::test]
async fn guessing_codes_is_limited_per_address() {
    let dir = tempfile::tempdir().unwrap();
    let policy = Policy {
        creations_per_minute: 4,
        ..Policy::default()
    };
    let server = Running::with_config(config(&database(dir.path()).await, policy)).await;
    let login = server
        .json(
            "POST",
            "/api/v1/operations",
            "",
            &json!({"type": "login", "user": "alice"}).to_string(),
        )
        .await
        .json();
    let id = login["operationId"].as_str().unwrap();
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(verify(&server, id, "1234-5678-1234-5678").await.status);
    }
    // The login took one request of the four a minute.
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    server.stop().await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_limits_count_the_forwarded_client_and_no_one_else_can_pose() {
    let dir = tempfile::tempdir().unwrap();
    let proxied_db = database(dir.path()).await;
    let policy = |trusted: &[&str]| Policy {
        creations_per_minute: 2,
        trusted_proxies: trusted.iter().map(|r| r.parse().unwrap()).collect(),
        ..Policy::default()
    };
    let create = async |server: &Running, forwarded: &str| {
        server
            .request_with(
                "POST",
                "/api/v1/logins",
                &format!("X-Forwarded-For: {forwarded}\r\n"),
            )
            .await
    };

    let proxied = Running::with_config(config(&proxied_db, policy(&["127.0.0.1/32"]))).await;
    let statuses = [
        create(&proxied, "203.0.113.5").await.status,
        create(&proxied, "203.0.113.5").await.status,
        create(&proxied, "203.0.113.5").await.status,
    ];
    assert_eq!(statuses, [201, 201, 429], "one client behind the proxy");
    let other = create(&proxied, "198.51.100.7, 127.0.0.1").await;
    assert_eq!(
        other.status, 201,
        "another client, through two proxies, has its own budget"
    );
    let (_, _, asking) = attach(&proxied, other.json()["qrText"].as_str().unwrap()).await;
    assert_eq!(
        asking["address"], "198.51.100.7",
        "the token shows the client, not the proxy"
    );
    proxied.stop().await;

    // Without --trusted-proxy the header is the client's word, and is ignored. A database of
    // its own: budgets outlive a server where servers share them.
    let direct_db = database(&dir.path().join("direct")).await;
    let direct = Running::with_config(config(&direct_db, policy(&[]))).await;
    let statuses = [
        create(&direct, "203.0.113.1").await.status,
        create(&direct, "203.0.113.2").await.status,
        create(&direct, "203.0.113.3").await.status,
    ];
    assert_eq!(statuses, [201, 201, 429]);
    direct.stop().await;
}

/// `n` servers sharing one fresh PostgreSQL database, started at the same moment (so that they
/// migrate the schema together), or `None` when these tests run on SQLite, which one server
/// owns.
async fn servers_sharing_a_database(dir: &Path, n: usize, policy: Policy) -> Option<Vec<Running>> {
    let database = database(dir).await;
    if matches!(database, Database::Sqlite(_)) {
        eprintln!(
            "several servers share only PostgreSQL: set {}",
            support::POSTGRES_ENV
        );
        return None;
    }
    let mut starting = tokio::task::JoinSet::new();
    for _ in 0..n {
        starting.spawn(Running::with_config(config(&database, policy.clone())));
    }
    Some(starting.join_all().await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_login_made_on_one_server_is_scanned_approved_and_completed_on_others() {
    let dir = tempfile::tempdir().unwrap();
    // No periodic re-check within the test: only the announcement can wake the long-poll.
    let policy = Policy {
        poll_interval: Duration::from_secs(120),
        ..generous()
    };
    let Some(servers) = servers_sharing_a_database(dir.path(), 3, policy).await else {
        return;
    };
    let [a, b, c] = &servers[..] else {
        unreachable!()
    };
    let cookie = sign_in(a, "alice").await;
    let mut token = Token::activate(b, &cookie).await;
    let login = a.request("POST", "/api/v1/logins").await.json();
    let id = login["loginId"].as_str().unwrap().to_owned();
    let auth = bearer(&login["pollSecret"]);

    // The page waits on A while the phone works on B and C.
    let wait = |known: &'static str| {
        let (addr, path, auth) = (
            a.addr,
            format!("/api/v1/logins/{id}?wait=25&state={known}"),
            auth.clone(),
        );
        tokio::spawn(async move {
            let asked = std::time::Instant::now();
            let reply = support::send(addr, "GET", &path, &auth, b"").await;
            // Woken by the change, not answered at the end of its 25 s with a fresh read.
            assert!(
                asked.elapsed() < Duration::from_secs(10),
                "the long-poll was not woken"
            );
            reply
        })
    };
    let waiting = wait("PENDING");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, scan, _) = attach(b, login["qrText"].as_str().unwrap()).await;
    let woke = waiting.await.unwrap();
    assert_eq!(woke.json()["state"], "SCANNED", "{}", woke.text());

    let waiting = wait("SCANNED");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(approve(c, &mut token, &id, &scan).await.status, 200);
    let woke = waiting.await.unwrap();
    assert_eq!(woke.json()["state"], "APPROVED", "{}", woke.text());

    let completed = a
        .request_with("POST", &format!("/api/v1/logins/{id}/complete"), &auth)
        .await;
    assert_eq!(completed.status, 200, "{}", completed.text());
    verify_jwt(b, completed.json()["idToken"].as_str().unwrap()).await;
    // Completed once, whichever server is asked next.
    for server in [b, c] {
        let again = server
            .request_with("POST", &format!("/api/v1/logins/{id}/complete"), &auth)
            .await;
        assert_eq!(again.status, 409, "{}", again.text());
    }
    for server in servers {
        server.stop().await;
    }
}

#[tokio::test]
async fn a_remembered_poll_answers_a_change_at_once_on_the_server_that_made_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let login = server.request("POST", "/api/v1/logins").await.json();
    let path = format!("/api/v1/logins/{}", login["loginId"].as_str().unwrap());
    let auth = bearer(&login["pollSecret"]);
    for _ in 0..2 {
        let polled = server.request_with("GET", &path, &auth).await.json();
        assert_eq!(polled["state"], "PENDING");
    }
    attach(&server, login["qrText"].as_str().unwrap()).await;
    let polled = server.request_with("GET", &path, &auth).await.json();
    assert_eq!(
        polled["state"], "SCANNED",
        "answered from memory after the change"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_poll_answered_from_memory_sees_another_servers_change_as_soon_as_it_is_announced() {
    let dir = tempfile::tempdir().unwrap();
    // No periodic re-check within the test: only the announcement can make A read again.
    let policy = Policy {
        poll_interval: Duration::from_secs(120),
        ..generous()
    };
    let Some(servers) = servers_sharing_a_database(dir.path(), 2, policy).await else {
        return;
    };
    let [a, b] = &servers[..] else { unreachable!() };
    let login = a.request("POST", "/api/v1/logins").await.json();
    let path = format!("/api/v1/logins/{}", login["loginId"].as_str().unwrap());
    let auth = bearer(&login["pollSecret"]);
    // Polled twice, so that A remembers it PENDING.
    for _ in 0..2 {
        let polled = a.request_with("GET", &path, &auth).await;
        assert_eq!(polled.json()["state"], "PENDING", "{}", polled.text());
    }
    // A remembered login still checks the poll secret.
    let wrong = a
        .request_with("GET", &path, "Authorization: Bearer not-the-secret\r\n")
        .await;
    assert_eq!(wrong.status, 403, "{}", wrong.text());

    attach(b, login["qrText"].as_str().unwrap()).await;
    let changed = std::time::Instant::now();
    loop {
        let polled = a.request_with("GET", &path, &auth).await.json();
        if polled["state"] == "SCANNED" {
            break;
        }
        assert_eq!(polled["state"], "PENDING");
        assert!(
            changed.elapsed() < Duration::from_secs(5),
            "A kept answering from memory after B's change"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for server in servers {
        server.stop().await;
    }
}

/// `code` for operation `id` sent `times` times at the same moment, spread over `servers` in
/// turn.
async fn verify_at_once(servers: &[Running], times: usize, id: &str, code: &str) -> Vec<Reply> {
    let body = json!({"code": code}).to_string();
    let path = format!("/api/v1/operations/{id}/verify");
    let headers = "Content-Type: application/json\r\n";
    send_at_once(servers, times, "POST", &path, headers, &body).await
}

/// One request sent `times` times at the same moment, spread over `servers` in turn.
async fn send_at_once(
    servers: &[Running],
    times: usize,
    method: &'static str,
    path: &str,
    headers: &str,
    body: &str,
) -> Vec<Reply> {
    let mut requests = tokio::task::JoinSet::new();
    for server in servers.iter().cycle().take(times) {
        let (addr, path, headers, body) = (
            server.addr,
            path.to_owned(),
            headers.to_owned(),
            body.to_owned(),
        );
        requests.spawn(async move {
            support::send(addr, method, &path, &headers, body.as_bytes()).await
        });
    }
    requests.join_all().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_clients_request_budget_is_one_across_three_servers() {
    let dir = tempfile::tempdir().unwrap();
    let policy = Policy {
        creations_per_minute: 9,
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        ..Policy::default()
    };
    let Some(servers) = servers_sharing_a_database(dir.path(), 3, policy).await else {
        return;
    };
    // Thirty logins from one address at once, as a balancer spreads them: nine in a minute.
    let client = "X-Forwarded-For: 203.0.113.5\r\n";
    let replies = send_at_once(&servers, 30, "POST", "/api/v1/logins", client, "").await;
    let mut statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [[201; 9].as_slice(), &[429; 21]].concat());
    let refused = replies.iter().find(|r| r.status == 429).unwrap();
    assert_eq!(refused.json()["error"]["code"], "rate_limited");
    for server in &servers {
        let more = server.request_with("POST", "/api/v1/logins", client).await;
        assert_eq!(more.status, 429, "every server refuses the spent client");
    }
    // Another address has a budget of its own on every server.
    let other = "X-Forwarded-For: 198.51.100.7\r\n";
    for server in &servers {
        let created = server.request_with("POST", "/api/v1/logins", other).await;
        assert_eq!(created.status, 201, "{}", created.text());
    }
    for server in servers {
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_codes_spread_over_three_servers_count_exactly_and_a_code_is_accepted_once() {
    let dir = tempfile::tempdir().unwrap();
    let Some(servers) = servers_sharing_a_database(dir.path(), 3, generous()).await else {
        return;
    };
    let cookie = sign_in(&servers[0], "alice").await;
    let mut token = Token::activate(&servers[1], &cookie).await;

    // One right code typed into every server at the same moment: one acceptance.
    let payment = create_payment(&servers[0], &cookie).await;
    let id = payment["operationId"].as_str().unwrap().to_owned();
    let good = token.offline_code(payment["payload"].as_str().unwrap(), true);
    let replies = verify_at_once(&servers, 6, &id, &good).await;
    let accepted = replies
        .iter()
        .filter(|r| r.status == 200 && r.json()["valid"] == true)
        .count();
    assert_eq!(
        accepted,
        1,
        "{:?}",
        replies.iter().map(Reply::text).collect::<Vec<_>>()
    );

    // A hundred wrong codes spread over the three: exactly five count, and the token blocks.
    let payment = create_payment(&servers[2], &cookie).await;
    let id = payment["operationId"].as_str().unwrap().to_owned();
    let wrong = token.offline_code(payment["payload"].as_str().unwrap(), false);
    let replies = verify_at_once(&servers, 100, &id, &wrong).await;
    assert!(
        replies
            .iter()
            .all(|r| r.status == 200 && r.json()["valid"] == false),
        "{:?}",
        replies.iter().find(|r| r.status != 200).map(Reply::text)
    );
    let mut counting: Vec<_> = replies
        .iter()
        .map(Reply::json)
        .filter(|v| v["activationStatus"] == "ACTIVE")
        .map(|v| v["remainingAttempts"].as_u64().unwrap())
        .collect();
    counting.sort_unstable();
    assert_eq!(counting, [1, 2, 3, 4]);
    for server in &servers {
        let view = activation(server, &cookie, &token.stored.activation_id).await;
        assert_eq!(view["failedAttempts"], 5);
        assert_eq!(view["status"], "BLOCKED");
    }
    for server in servers {
        server.stop().await;
    }
}
