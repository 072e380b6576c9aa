//! The token page's parts in headless Chromium: the review screen (what it shows, what each
//! flag changes), the refusal of forged payloads, and the decoder on camera-sized frames.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::sync::{Arc, Mutex};

use leptos::prelude::*;
use qrauth_app::clock::ManualClock;
use qrauth_app::token::review::{OfflineReview, PayloadRefused};
use qrauth_app::token::scan::{ScanError, Scanned, picture_scales};
use qrauth_core::operation::{Date, Decimal};
use qrauth_core::payload::{KeyType, PayloadContent, build_payload};
use qrauth_core::wire::Committed;
use qrauth_core::{Field, Flags, OfflinePayload, OperationData, PrivateKey, base64};
use qrauth_token::activation::{NewActivation, find_signer};
use qrauth_token::scan::decode_rgba;
use qrauth_token::{ErrorCorrection, OfflineOperation, QrMatrix, StoredActivation, TokenError};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{HtmlButtonElement, HtmlElement, HtmlInputElement};

mod support;
use support::*;

wasm_bindgen_test_configure!(run_in_browser);

fn key(seed: u8) -> PrivateKey {
    PrivateKey::from_random(&[seed; 32]).unwrap()
}

/// The server's key pair and an activation of the token made with it, as `activate` would
/// store it.
struct Bank {
    server: PrivateKey,
    master: PrivateKey,
    activation: StoredActivation,
}

impl Bank {
    fn new() -> Self {
        let (server, master) = (key(3), key(4));
        let activation = StoredActivation::derive(NewActivation {
            server: "https://bank.example",
            device: &key(5),
            answer: Committed {
                activation_id: "0f0e0d0c-0000-4000-8000-000000000001".into(),
                user: "bohumila".into(),
                server_public_key: server.public_key().to_base64(),
                ctr_data: base64::encode(&[9u8; 16]),
                master_public_key: master.public_key().to_base64(),
                application_secret: base64::encode(&[1u8; 16]),
                max_failed_attempts: 5,
                lookahead: 20,
            },
            device_name: "Chrome 131 on Android",
            service_name: "Demo Bank",
            pin: "2580",
            salt: [2; 16],
            now: 0.0,
        })
        .unwrap();
        Bank {
            server,
            master,
            activation,
        }
    }

    /// A payment payload with `flags`, signed with `key` as key type `key_type`.
    fn payment(&self, flags: &str, key: &PrivateKey, key_type: KeyType) -> String {
        let fields = [
            Field::Amount {
                amount: Decimal::parse("1250.00").unwrap(),
                currency: "EUR".into(),
            },
            Field::Iban {
                iban: "CZ6508000000192000145399".into(),
                bic: None,
            },
            Field::Empty,
            Field::Date(Date::new(2026, 11, 22).unwrap()),
            Field::Note("Nájem * prosinec \\ byt 4".into()),
        ];
        build_payload(
            &PayloadContent {
                operation_id: "5ff1b1ed-1a5c-4c56-a0d9-d5d0c2f7b1a4".into(),
                title: "Payment to Zuzana Čermáková".into(),
                message: "Pay 1250.00 EUR\nto CZ65 0800 0000 1920 0014 5399".into(),
                operation_data: OperationData::build('A', 1, &fields).unwrap(),
                flags: Flags::from_letters(flags).unwrap(),
                totp: None,
            },
            &[6; 16],
            key_type,
            key,
        )
        .unwrap()
    }

    fn signed_payment(&self, flags: &str) -> String {
        self.payment(flags, &self.server, KeyType::Personalized)
    }
}

/// What the review screen was asked to do.
#[derive(Clone, Debug, PartialEq)]
enum Asked {
    Approve(String),
    Reject,
}

/// Mounts the review of `payload` and records what it asks for.
fn review(payload: &str) -> (HtmlElement, Arc<Mutex<Vec<Asked>>>) {
    let operation = OfflineOperation::of(&OfflinePayload::parse(payload).unwrap());
    let asked = Arc::new(Mutex::new(Vec::new()));
    let (on_approve, on_reject) = (Arc::clone(&asked), Arc::clone(&asked));
    let scanned = payload.to_owned();
    let host = mount(&ManualClock::new(), move || {
        view! {
            <OfflineReview
                operation
                service="Demo Bank"
                scanned
                approve=Callback::new(move |pin| on_approve.lock().unwrap().push(Asked::Approve(pin)))
                reject=Callback::new(move |()| on_reject.lock().unwrap().push(Asked::Reject))
                busy=Signal::stored(false)
                problem=Signal::stored(None::<String>)
            />
        }
    });
    (host, asked)
}

/// The `data-testid`s of the decision buttons, in the order a person meets them.
fn decision_order(host: &HtmlElement) -> Vec<String> {
    let buttons = host
        .query_selector_all("[data-testid='decision'] button")
        .unwrap();
    (0..buttons.length())
        .map(|i| {
            buttons
                .item(i)
                .unwrap()
                .unchecked_into::<HtmlElement>()
                .get_attribute("data-testid")
                .unwrap()
        })
        .collect()
}

fn click(host: &HtmlElement, test_id: &str) {
    find::<HtmlElement>(host, test_id).click();
}

#[wasm_bindgen_test]
async fn the_review_shows_the_payment_as_a_person_reads_it_and_approves_with_the_pin() {
    let bank = Bank::new();
    let payload = bank.signed_payment("");
    let (host, asked) = review(&payload);
    settle().await;

    assert_eq!(
        text(&host, "operation-title"),
        "Payment to Zuzana Čermáková"
    );
    assert_eq!(
        text(&host, "operation-message"),
        "Pay 1250.00 EUR\nto CZ65 0800 0000 1920 0014 5399"
    );
    assert_eq!(text(&host, "detail-amount"), "1250.00 EUR");
    assert_eq!(
        text(&host, "detail-account"),
        "CZ65 0800 0000 1920 0014 5399"
    );
    assert_eq!(text(&host, "detail-date"), "2026-11-22");
    assert_eq!(text(&host, "detail-note"), "Nájem * prosinec \\ byt 4");
    assert_eq!(text(&host, "scanned-text"), payload);
    // No flags: no warnings, Approve first.
    assert!(!present(&host, "fraud-warning"));
    assert!(!present(&host, "call-warning"));
    assert_eq!(decision_order(&host), ["approve", "reject"]);

    type_into(&find::<HtmlInputElement>(&host, "pin"), "2580", None).await;
    click(&host, "approve");
    settle().await;
    click(&host, "reject");
    settle().await;
    assert_eq!(
        *asked.lock().unwrap(),
        [Asked::Approve("2580".into()), Asked::Reject]
    );
}

#[wasm_bindgen_test]
async fn flag_x_puts_reject_where_approve_usually_is() {
    let bank = Bank::new();
    let (host, _) = review(&bank.signed_payment("X"));
    settle().await;
    assert_eq!(decision_order(&host), ["reject", "approve"]);
}

#[wasm_bindgen_test]
async fn flag_f_puts_a_fraud_warning_in_front_of_approval() {
    let bank = Bank::new();
    let (host, asked) = review(&bank.signed_payment("F"));
    settle().await;
    assert!(text(&host, "fraud-warning").contains("this may be fraud"));
    assert!(text(&host, "fraud-warning").contains("Demo Bank"));
    assert!(
        !present(&host, "approve"),
        "no way to approve behind the warning"
    );
    assert!(!present(&host, "pin"));
    // The payment itself is there to read.
    assert_eq!(text(&host, "detail-amount"), "1250.00 EUR");

    click(&host, "fraud-reject");
    settle().await;
    assert_eq!(*asked.lock().unwrap(), [Asked::Reject]);

    click(&host, "fraud-continue");
    settle().await;
    assert!(!present(&host, "fraud-warning"));
    assert!(present(&host, "approve"));
}

#[wasm_bindgen_test]
async fn flag_c_warns_against_approving_during_a_call_until_the_person_says_they_are_not_on_one() {
    let bank = Bank::new();
    let (host, asked) = review(&bank.signed_payment("C"));
    settle().await;
    assert!(text(&host, "call-warning").contains("Do not approve during a phone call."));
    let approve: HtmlButtonElement = find(&host, "approve");
    assert!(approve.disabled());
    type_into(&find::<HtmlInputElement>(&host, "pin"), "2580", None).await;
    submit(&host).await;
    assert!(
        asked.lock().unwrap().is_empty(),
        "Enter does not get past it"
    );

    click(&host, "not-on-call");
    settle().await;
    assert!(!approve.disabled());
    approve.click();
    settle().await;
    assert_eq!(*asked.lock().unwrap(), [Asked::Approve("2580".into())]);
}

#[wasm_bindgen_test]
async fn flags_combine_and_b_leaves_the_pin() {
    let bank = Bank::new();
    let (host, _) = review(&bank.signed_payment("BXFC"));
    settle().await;
    assert!(present(&host, "fraud-warning"));
    click(&host, "fraud-continue");
    settle().await;
    assert!(present(&host, "call-warning"));
    assert_eq!(decision_order(&host), ["reject", "approve"]);
    // This token keeps no biometric key, so B changes nothing: the PIN makes the code.
    assert!(present(&host, "pin"));
}

#[wasm_bindgen_test]
async fn forged_and_foreign_payloads_are_refused_with_the_reason_and_no_code() {
    let bank = Bank::new();
    let activations = [bank.activation.clone()];
    let signed = bank.signed_payment("");
    let check = |payload: &str| -> Result<String, TokenError> {
        let parsed = OfflinePayload::parse(payload)?;
        find_signer(&activations, &parsed).map(|a| a.activation_id.clone())
    };
    assert_eq!(
        check(&signed).unwrap(),
        bank.activation.activation_id,
        "the server's own payload"
    );
    assert!(
        check(&bank.payment("", &bank.master, KeyType::Master)).is_ok(),
        "key type 0, signed with the master key"
    );

    let forged_amount = signed.replace("*A1250.00EUR*", "*A9250.00EUR*");
    let forged_title = signed.replace("Zuzana", "Zuzanna");
    let forged_flags = signed.replacen("\n\n", "\nB\n", 1);
    let other_bank = bank.payment("", &key(7), KeyType::Personalized);
    let master_as_personal = bank.payment("", &bank.master, KeyType::Personalized);
    for forged in [
        &forged_amount,
        &forged_title,
        &forged_flags,
        &other_bank,
        &master_as_personal,
    ] {
        assert_ne!(forged, &signed);
        assert_eq!(
            check(forged),
            Err(TokenError::PayloadSignature {
                service: "Demo Bank".into()
            }),
            "{forged}"
        );
    }
    assert_eq!(
        find_signer(&[], &OfflinePayload::parse(&signed).unwrap()).map(|_| ()),
        Err(TokenError::NoActivation)
    );
    let cut = signed.lines().take(4).collect::<Vec<_>>().join("\n");
    assert!(matches!(check(&cut), Err(TokenError::Payload(_))));

    // What the person reads.
    let reason = check(&forged_amount).unwrap_err().to_string();
    let host = mount(
        &ManualClock::new(),
        move || view! { <PayloadRefused reason/> },
    );
    settle().await;
    assert_eq!(
        text(&host, "refusal"),
        "This QR code was not made by Demo Bank: its signature does not verify. Do not approve it."
    );
    assert!(!present(&host, "code"));
    assert!(!present(&host, "approve"));
}

#[wasm_bindgen_test]
fn scanned_texts_are_sorted_by_what_they_ask() {
    let bank = Bank::new();
    let payload = bank.signed_payment("");
    assert_eq!(
        Scanned::classify("https://bank.example/token#scan=Ab3_x-9"),
        Ok(Scanned::Login(
            "https://bank.example/token#scan=Ab3_x-9".into()
        ))
    );
    assert_eq!(
        Scanned::classify(&payload),
        Ok(Scanned::Offline(payload.clone()))
    );
    assert_eq!(
        Scanned::classify("AAAAA-BBBBB-CCCCC-DDDDD#MEUCIQ=="),
        Ok(Scanned::Activation(
            "AAAAA-BBBBB-CCCCC-DDDDD#MEUCIQ==".into()
        ))
    );
    for other in ["", "hello", "https://example.com/", "WIFI:S:home;;"] {
        assert!(Scanned::classify(other).is_err(), "{other:?}");
    }
}

/// A grey camera frame with `text`'s QR code in it, `module` pixels a module, a little uneven
/// light and noise (deterministic).
fn camera_frame(text: &str, width: usize, height: usize, module: usize) -> Vec<u8> {
    let qr = QrMatrix::encode(text, ErrorCorrection::Medium).unwrap();
    let side = (qr.width() + 8) * module;
    let (left, top) = ((width - side) / 2, (height - side) / 2);
    let mut seed = 0x2545_f491_u32;
    let mut rgba = Vec::with_capacity(width * height * 4);
    for y in 0..height {
        for x in 0..width {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let noise = (seed % 24) as i32 - 12;
            let light = 150 + (60 * x / width) as i32;
            let inside = (left..left + side).contains(&x) && (top..top + side).contains(&y);
            let value = if inside {
                let (mx, my) = ((x - left) / module, (y - top) / module);
                let dark = (4..qr.width() + 4).contains(&mx)
                    && (4..qr.width() + 4).contains(&my)
                    && qr.is_dark(mx - 4, my - 4);
                if dark { 35 } else { light + 60 }
            } else {
                light - 40
            };
            let value = (value + noise).clamp(0, 255) as u8;
            rgba.extend_from_slice(&[value, value, value, 255]);
        }
    }
    rgba
}

#[wasm_bindgen_test]
fn camera_sized_frames_decode_byte_for_byte_and_the_rate_is_reported() {
    let bank = Bank::new();
    let payload = bank.signed_payment("X");
    let performance = web_sys::window().unwrap().performance().unwrap();
    for (width, height, module) in [(640, 480, 5), (1280, 720, 7)] {
        let frame = camera_frame(&payload, width, height, module);
        assert_eq!(
            decode_rgba(width, height, &frame).as_deref(),
            Ok(payload.as_str())
        );
        let empty = vec![128u8; width * height * 4];
        assert_eq!(decode_rgba(width, height, &empty), Err(ScanError::NoCode));

        let runs = 10;
        let start = performance.now();
        for _ in 0..runs {
            decode_rgba(width, height, &frame).unwrap();
        }
        let found = (performance.now() - start) / f64::from(runs);
        let start = performance.now();
        for _ in 0..runs {
            decode_rgba(width, height, &empty).unwrap_err();
        }
        let empty_ms = (performance.now() - start) / f64::from(runs);
        console_log!(
            "decode {width}x{height}: {found:.1} ms a frame with the payment's QR ({:.0} frames/s), \
             {empty_ms:.1} ms without one ({:.0} frames/s)",
            1000.0 / found,
            1000.0 / empty_ms
        );
    }
    assert_eq!(decode_rgba(0, 0, &[]), Err(ScanError::EmptyImage));
    assert_eq!(decode_rgba(10, 10, &[0; 12]), Err(ScanError::EmptyImage));
}

#[wasm_bindgen_test]
fn pictures_are_tried_at_camera_size_then_their_own_then_enlarged() {
    assert_eq!(picture_scales(1280, 900), [1.0, 1.5]);
    assert_eq!(picture_scales(300, 300), [1.0, 1.5, 2.0]);
    assert_eq!(picture_scales(2560, 1440), [0.5, 2400.0 / 2560.0]);
    assert_eq!(picture_scales(0, 0), [1.0, 1.5, 2.0]);
}
