//! The token in headless Chromium against a real `qrauth serve`: activation, persistence in
//! IndexedDB, offline codes the server checks, refused payloads, the counter, online logins.
//!
//! `cargo xtask test wasm` starts the server (with this test page's origin allowed), makes the
//! user, and passes both in `QRAUTH_TEST_SERVER`, `QRAUTH_TEST_USER`, `QRAUTH_TEST_PASSWORD`.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]
// a failed unwrap is a failed test
// Without the server from `cargo xtask test wasm` these tests must fail, and say why.
#![allow(clippy::option_env_unwrap)]

use qrauth_token::browser::scan_code;
use qrauth_token::{SoftwareToken, TokenError};
use serde_json::{Value, json};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Request, RequestCredentials, RequestInit, Response};

wasm_bindgen_test_configure!(run_in_browser);

const PIN: &str = "2468";

fn server() -> &'static str {
    option_env!("QRAUTH_TEST_SERVER")
        .expect("QRAUTH_TEST_SERVER is not set: run these tests with `cargo xtask test wasm`")
}

/// A request as the account page makes it: with the session cookie.
async fn page(method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    page_with(method, path, body, None).await
}

/// The sign-in page's view of `login` (with its poll secret), as it polls it.
async fn login_view(login: &Value) -> Value {
    let path = format!("/logins/{}", login["loginId"].as_str().unwrap());
    let secret = login["pollSecret"].as_str().unwrap();
    let (status, view) = page_with("GET", &path, None, Some(secret)).await;
    assert_eq!(status, 200, "{view}");
    view
}

async fn page_with(
    method: &str,
    path: &str,
    body: Option<Value>,
    bearer: Option<&str>,
) -> (u16, Value) {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(RequestCredentials::Include);
    let headers = web_sys::Headers::new().unwrap();
    if let Some(secret) = bearer {
        headers
            .set("Authorization", &format!("Bearer {secret}"))
            .unwrap();
    }
    if let Some(body) = &body {
        headers.set("Content-Type", "application/json").unwrap();
        init.set_body(&body.to_string().into());
    }
    init.set_headers(&headers);
    let request =
        Request::new_with_str_and_init(&format!("{}/api/v1{path}", server()), &init).unwrap();
    let window = web_sys::window().unwrap();
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .unwrap()
        .dyn_into()
        .unwrap();
    let text = JsFuture::from(response.text().unwrap())
        .await
        .unwrap()
        .as_string()
        .unwrap();
    let value = serde_json::from_str(&text).unwrap_or(Value::Null);
    (response.status(), value)
}

thread_local! {
    static SIGNED_IN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Signs the page in once; the cookie serves every test after that (sign-in is rate limited).
async fn sign_in() {
    if SIGNED_IN.get() {
        return;
    }
    let (status, body) = page(
        "POST",
        "/session",
        Some(json!({
            "user": option_env!("QRAUTH_TEST_USER").unwrap(),
            "password": option_env!("QRAUTH_TEST_PASSWORD").unwrap(),
        })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    SIGNED_IN.set(true);
}

async fn activation_qr() -> String {
    sign_in().await;
    let (status, body) = page("POST", "/activations", None).await;
    assert_eq!(status, 201, "{body}");
    body["activationQr"].as_str().unwrap().to_owned()
}

async fn payment(note: &str) -> (String, String) {
    sign_in().await;
    let (status, body) = page(
        "POST",
        "/operations",
        Some(
            json!({"type": "payment", "amount": "1250.00", "currency": "EUR",
                    "iban": "CZ65 0800 0000 1920 0014 5399", "note": note}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    (
        body["operationId"].as_str().unwrap().to_owned(),
        body["payload"].as_str().unwrap().to_owned(),
    )
}

async fn verify(operation: &str, code: &str) -> Value {
    let (status, body) = page(
        "POST",
        &format!("/operations/{operation}/verify"),
        Some(json!({ "code": code })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// A fresh IndexedDB database per test, so tests never see each other's activations.
fn database(name: &str) -> String {
    format!("qrauth-test-{name}-{}", js_sys::Math::random())
}

async fn activated(db: &str) -> (SoftwareToken, String) {
    let token = SoftwareToken::open(server(), db).await.unwrap();
    let activation = token
        .activate(&activation_qr().await, PIN, PIN, "test browser")
        .await
        .unwrap();
    (token, activation.activation_id)
}

#[wasm_bindgen_test]
async fn an_activation_survives_a_new_token_instance_and_its_codes_are_accepted() {
    let db = database("persist");
    let (token, id) = activated(&db).await;
    let stored = token.activation(&id).await.unwrap();
    let (_, account) = page("GET", &format!("/activations/{id}"), None).await;
    assert_eq!(account["status"], "ACTIVE");
    assert_eq!(account["fingerprint"], stored.fingerprint.as_str());
    drop(token);

    // What a reload sees: a new instance on the same database.
    let reloaded = SoftwareToken::open(server(), &db).await.unwrap();
    let all = reloaded.activations().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0], stored);
    let (operation, payload) = payment("Rent").await;
    let review = reloaded.review_offline(&id, &payload).await.unwrap();
    assert_eq!(review.title, "Payment");
    let code = reloaded.offline_code(&id, &payload, PIN).await.unwrap();
    assert_eq!(code.code.display().len(), 19);
    let answer = verify(&operation, &code.code.display()).await;
    assert_eq!(answer["valid"], true, "{answer}");
}

#[wasm_bindgen_test]
async fn a_wrong_pin_gives_a_code_the_server_refuses() {
    let (token, id) = activated(&database("pin")).await;
    let (operation, payload) = payment("Wrong PIN").await;
    let wrong = token.offline_code(&id, &payload, "9999").await.unwrap();
    let answer = verify(&operation, &wrong.code.canonical()).await;
    assert_eq!(answer["valid"], false, "{answer}");
    assert_eq!(answer["remainingAttempts"], 4);
    let right = token.offline_code(&id, &payload, PIN).await.unwrap();
    assert_ne!(right.code, wrong.code);
    let answer = verify(&operation, &right.code.canonical()).await;
    assert_eq!(answer["valid"], true, "{answer}");
}

#[wasm_bindgen_test]
async fn a_tampered_payload_is_refused_and_costs_no_counter() {
    let (token, id) = activated(&database("tamper")).await;
    let (_, payload) = payment("Rent").await;
    let tampered = payload.replacen("1250.00", "9250.00", 1);
    assert_ne!(tampered, payload);
    let before = token.activation(&id).await.unwrap();
    let refused = token.review_offline(&id, &tampered).await.unwrap_err();
    assert_eq!(refused.code(), "payload_signature_invalid");
    assert!(refused.to_string().contains("Do not approve it"));
    let refused = token.offline_code(&id, &tampered, PIN).await.unwrap_err();
    assert_eq!(refused.code(), "payload_signature_invalid");
    let garbled = token
        .offline_code(&id, "not a payload", PIN)
        .await
        .unwrap_err();
    assert_eq!(garbled.code(), "payload_too_few_lines");
    assert_eq!(token.activation(&id).await.unwrap(), before);
}

#[wasm_bindgen_test]
async fn the_counter_is_stored_before_the_code_is_returned() {
    let db = database("counter");
    let (token, id) = activated(&db).await;
    let (_, payload) = payment("Counter").await;
    let before = token.activation(&id).await.unwrap();
    let code = token.offline_code(&id, &payload, PIN).await.unwrap();
    // Another instance, as another tab or a reload right after the code appeared, reads the
    // advanced counter from storage.
    let other = SoftwareToken::open(server(), &db).await.unwrap();
    let after = other.activation(&id).await.unwrap();
    assert_eq!(after, before.advanced().unwrap());
    assert_eq!(code.standing.unconfirmed, 1);
    // The code was made with the counter before the step: the same record computes it again.
    let payload = qrauth_core::OfflinePayload::parse(&payload).unwrap();
    assert_eq!(before.offline_code(&payload, PIN).unwrap(), code.code);
}

#[wasm_bindgen_test]
async fn two_instances_racing_for_a_code_never_share_a_counter() {
    let db = database("race");
    let (first, id) = activated(&db).await;
    let second = SoftwareToken::open(server(), &db).await.unwrap();
    let (operation, payload) = payment("Race").await;
    let start = first.activation(&id).await.unwrap().counter;
    let (a, b) = futures::future::join(
        first.offline_code(&id, &payload, PIN),
        second.offline_code(&id, &payload, PIN),
    )
    .await;
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_ne!(a.code, b.code, "both instances used the same counter");
    assert_eq!(first.activation(&id).await.unwrap().counter, start + 2);
    // Whichever the server sees first is within its look-ahead.
    let answer = verify(&operation, &a.code.canonical()).await;
    assert_eq!(answer["valid"], true, "{answer}");
}

#[wasm_bindgen_test]
async fn an_online_login_is_attached_approved_with_the_pin_and_confirms_the_counter() {
    let (token, id) = activated(&database("login")).await;
    let (_, payload) = payment("Unconfirmed").await;
    token.offline_code(&id, &payload, PIN).await.unwrap();
    assert_eq!(
        token.activation(&id).await.unwrap().standing().unconfirmed,
        1
    );

    let (status, login) = page("POST", "/logins", None).await;
    assert_eq!(status, 201, "{login}");
    let request = token
        .attach_login(login["qrText"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(request.requester.state.as_str(), "SCANNED");
    assert_eq!(request.requester.service, "qrauth");
    assert!(
        request.requester.browser.contains("Chrome"),
        "{}",
        request.requester.browser
    );
    // Number matching: the page shows two digits once scanned, and Approve needs them.
    assert!(request.requester.number_matching);
    let shown = login_view(&login).await["number"]
        .as_str()
        .unwrap()
        .to_owned();
    for typed in [None, Some(""), Some("4"), Some("4a"), Some("123")] {
        let refused = token
            .approve_login(&id, &request, PIN, typed)
            .await
            .unwrap_err();
        assert_eq!(refused.code(), "number_invalid", "{typed:?}");
    }
    let wrong = token
        .approve_login(&id, &request, "0000", Some(&shown))
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), "signature_invalid");
    let decision = token
        .approve_login(&id, &request, PIN, Some(&shown))
        .await
        .unwrap();
    assert_eq!(decision.state.as_str(), "APPROVED");
    // The server accepted a signature two steps past the offline code: it has seen them all.
    assert_eq!(
        token.activation(&id).await.unwrap().standing().unconfirmed,
        0
    );
    let status = token.refresh(&id).await.unwrap();
    assert_eq!(status.status.as_str(), "ACTIVE");
    assert_eq!(status.remaining_attempts, 5);

    let (_, other) = page("POST", "/logins", None).await;
    let request = token
        .attach_login(other["qrText"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(
        token.deny_login(&request).await.unwrap().state.as_str(),
        "DENIED"
    );
    assert_eq!(login_view(&other).await["denial"], "on_token");

    // A number that is not the page's denies the login, and the page learns why.
    let (_, third) = page("POST", "/logins", None).await;
    let request = token
        .attach_login(third["qrText"].as_str().unwrap())
        .await
        .unwrap();
    let shown = login_view(&third).await["number"]
        .as_str()
        .unwrap()
        .to_owned();
    let wrong_number = if shown == "10" { "11" } else { "10" };
    let refused = token
        .approve_login(&id, &request, PIN, Some(wrong_number))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "number_mismatch");
    let view = login_view(&third).await;
    assert_eq!(
        (view["state"].as_str(), view["denial"].as_str()),
        (Some("DENIED"), Some("wrong_number"))
    );
    let late = token
        .approve_login(&id, &request, PIN, Some(&shown))
        .await
        .unwrap_err();
    assert_eq!(late.code(), "login_state_conflict", "no second guess");
}

#[wasm_bindgen_test]
async fn bad_input_gets_its_own_error_and_changes_nothing() {
    let db = database("bad");
    let token = SoftwareToken::open(server(), &db).await.unwrap();
    let typo = token
        .activate("WQ3TE-BRPZM-CUU4F-CCL3X", PIN, PIN, "t")
        .await
        .unwrap_err();
    assert_eq!(typo.code(), "invalid_activation_code");
    let qr = activation_qr().await;
    let mismatch = token.activate(&qr, PIN, "1357", "t").await.unwrap_err();
    assert_eq!(mismatch, TokenError::PinMismatch);
    let short = token.activate(&qr, "12", "12", "t").await.unwrap_err();
    assert_eq!(short.code(), "pin_length");
    let (code, signature) = qr.split_once('#').unwrap();
    let forged = format!("{code}#{}", &signature[..signature.len() - 4]);
    let refused = token.activate(&forged, PIN, PIN, "t").await.unwrap_err();
    assert_eq!(refused.code(), "activation_qr_invalid", "{refused}");
    assert!(token.activations().await.unwrap().is_empty());
    // The code was never sent, so it still works.
    let activation = token.activate(&qr, PIN, PIN, "t").await.unwrap();
    let again = token.activate(&qr, PIN, PIN, "t").await.unwrap_err();
    assert_eq!(again.code(), "activation_code_not_found");
    assert_eq!(
        scan_code("https://x.example/token#scan=").unwrap_err(),
        TokenError::ScanCode
    );
    let unknown = token
        .attach_login("https://x.example/token#scan=AAAA.0.AAAAAAAAAAA")
        .await;
    assert!(matches!(
        unknown,
        Err(TokenError::Server { status: 404, .. })
    ));

    assert!(token.remove(&activation.activation_id).await.unwrap());
    assert!(token.activations().await.unwrap().is_empty());
    let (_, account) = page(
        "GET",
        &format!("/activations/{}", activation.activation_id),
        None,
    )
    .await;
    assert_eq!(account["status"], "REMOVED");
}

#[wasm_bindgen_test]
fn a_canvas_qr_is_drawn_at_the_pixel_ratio_and_reads_back_byte_for_byte() {
    use qrauth_token::{ErrorCorrection, QrMatrix, QrOptions};
    let document = web_sys::window().unwrap().document().unwrap();
    let canvas: web_sys::HtmlCanvasElement = document
        .create_element("canvas")
        .unwrap()
        .dyn_into()
        .unwrap();
    let text = "Platba 1 250,00 Kč \\* Žluťoučký kůň 🔐";
    let matrix = QrMatrix::encode(text, ErrorCorrection::Medium).unwrap();
    let options = QrOptions {
        size: Some(200),
        ..QrOptions::default()
    };
    matrix.draw_on_canvas(&canvas, &options, 2.0).unwrap();
    assert_eq!((canvas.width(), canvas.height()), (400, 400));
    assert_eq!(canvas.style().get_property_value("width").unwrap(), "200px");
    let context: web_sys::CanvasRenderingContext2d = canvas
        .get_context("2d")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    let pixels = context
        .get_image_data(0.0, 0.0, 400.0, 400.0)
        .unwrap()
        .data();
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(400, 400, |x, y| pixels[(y * 400 + x) * 4]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1);
    let mut bytes = Vec::new();
    grids[0].decode_to(&mut bytes).unwrap();
    assert_eq!(bytes, text.as_bytes());
    // Redrawn without a size, it keeps its CSS size: in the page and out of it.
    matrix
        .draw_on_canvas(&canvas, &QrOptions::default(), 2.0)
        .unwrap();
    assert_eq!(canvas.width(), 400);
    document.body().unwrap().append_child(&canvas).unwrap();
    for _ in 0..2 {
        matrix
            .draw_on_canvas(&canvas, &QrOptions::default(), 2.0)
            .unwrap();
        assert_eq!((canvas.width(), canvas.client_width()), (400, 200));
    }
    canvas.remove();
    let bad = QrOptions {
        dark: "black".into(),
        ..QrOptions::default()
    };
    assert_eq!(
        matrix
            .draw_on_canvas(&canvas, &bad, 1.0)
            .unwrap_err()
            .kind(),
        "qr_invalid_colour"
    );
}
