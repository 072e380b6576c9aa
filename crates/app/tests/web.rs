//! The app's components mounted in headless Chromium, with time driven by a test clock.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use leptos::prelude::*;
use qrauth_app::api::{ApiError, LoginState};
use qrauth_app::clock::{Clock, ManualClock, PageVisibility};
use qrauth_app::code_field::{CodeField, CodeVerdict};
use qrauth_app::countdown::{AUTOMATIC_RENEWALS, ExpiringCode};
use qrauth_core::wire::LoginView;
use qrauth_token::poll::{PollEvent, PollPlan, poll_until_final};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;
use web_sys::{Event, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

mod support;
use support::*;

#[wasm_bindgen_test]
async fn code_field_groups_what_is_typed_and_sends_the_normalized_code() {
    let sent = Arc::new(Mutex::new(Vec::<String>::new()));
    let verdict = RwSignal::new(None::<CodeVerdict>);
    let recorded = Arc::clone(&sent);
    let host = mount(&ManualClock::new(), move || {
        view! {
            <CodeField
                label="Code from your token"
                action="Approve"
                submit=Callback::new(move |code| recorded.lock().unwrap().push(code))
                verdict=verdict
                busy=false
            />
        }
    });
    let input: HtmlInputElement = find(&host, "code-input");
    assert_eq!(input.get_attribute("inputmode").as_deref(), Some("numeric"));
    assert_eq!(
        input.get_attribute("autocomplete").as_deref(),
        Some("one-time-code")
    );
    assert_eq!(
        text(&host, "code-status"),
        "Type the 16 digits your token shows."
    );

    // Typing with spaces and dashes: groups of four, and how many digits are missing.
    type_into(&input, "1234 5678-90", None).await;
    assert_eq!(input.value(), "1234-5678-90");
    assert_eq!(text(&host, "code-status"), "6 digits missing.");
    assert_eq!(input.selection_start().unwrap(), Some(12));

    // Sending too early sends nothing and says why.
    submit(&host).await;
    assert!(sent.lock().unwrap().is_empty());
    assert_eq!(text(&host, "code-message"), "6 digits missing.");
    assert_eq!(input.get_attribute("aria-invalid").as_deref(), Some("true"));

    // A digit typed in the middle keeps the caret after it.
    type_into(&input, "1234-95678-90", Some(6)).await;
    assert_eq!(input.value(), "1234-9567-890");
    assert_eq!(input.selection_start().unwrap(), Some(6));
    assert_eq!(
        text(&host, "code-message"),
        "",
        "a new edit clears the message"
    );

    // A paste with words around the code: the digits are kept, the rest left out and said so.
    type_into(&input, "Code: 1234 5678 9012 3456", None).await;
    assert_eq!(input.value(), "1234-5678-9012-3456");
    assert_eq!(
        text(&host, "code-status"),
        "“C” is not a digit and was left out."
    );
    // Full-width digits from a phone keyboard count as digits.
    type_into(&input, "１２３４５６７８９０１２３４５６", None).await;
    assert_eq!(input.value(), "1234-5678-9012-3456");
    assert_eq!(text(&host, "code-status"), "All 16 digits are there.");

    submit(&host).await;
    assert_eq!(*sent.lock().unwrap(), ["12345678-90123456"]);

    // What the server says comes back into the field.
    verdict.set(Some(CodeVerdict::Wrong { remaining: 3 }));
    settle().await;
    assert_eq!(
        text(&host, "code-message"),
        "That code is not right. 3 attempts left."
    );
    verdict.set(Some(CodeVerdict::Wrong { remaining: 1 }));
    settle().await;
    assert_eq!(
        text(&host, "code-message"),
        "That code is not right. 1 attempt left before your token is blocked."
    );
    verdict.set(Some(CodeVerdict::Blocked));
    settle().await;
    assert!(
        text(&host, "code-message").starts_with("Too many wrong codes: your token is blocked.")
    );
    assert!(input.disabled(), "a blocked token takes no more codes");
    submit(&host).await;
    assert_eq!(sent.lock().unwrap().len(), 1);
}

/// Counts the changes screen readers would hear in a live region.
fn count_mutations(target: &HtmlElement) -> (Rc<RefCell<Vec<String>>>, web_sys::MutationObserver) {
    let heard = Rc::new(RefCell::new(Vec::new()));
    let record = Rc::clone(&heard);
    let region = target.clone();
    let callback = Closure::<dyn Fn()>::new(move || {
        record
            .borrow_mut()
            .push(region.text_content().unwrap_or_default());
    });
    let observer = web_sys::MutationObserver::new(callback.as_ref().unchecked_ref()).unwrap();
    callback.forget();
    let options = web_sys::MutationObserverInit::new();
    options.set_child_list(true);
    options.set_character_data(true);
    options.set_subtree(true);
    observer.observe_with_options(target, &options).unwrap();
    (heard, observer)
}

#[wasm_bindgen_test]
async fn countdown_announces_at_thresholds_expires_and_renews_three_times_then_waits() {
    let clock = ManualClock::new();
    let renewals = RwSignal::new(0u32);
    let renewed = RwSignal::new(0u32);
    let host = mount(&clock, move || {
        let renew = Callback::new(move |()| renewed.update(|n| *n += 1));
        // Each renewal makes a new code, as the pages do.
        move || {
            renewed.track();
            view! {
                <ExpiringCode expires_in_ms=65_000 renewals renew>
                    <p>"the code"</p>
                </ExpiringCode>
            }
        }
    });
    settle().await;
    assert_eq!(text(&host, "countdown"), "Expires in 1:05");
    assert_eq!(text(&host, "countdown-announcement"), "");
    assert_eq!(
        find::<HtmlElement>(&host, "countdown")
            .get_attribute("role")
            .as_deref(),
        Some("timer")
    );

    let (heard, observer) = count_mutations(&find(&host, "countdown-announcement"));
    advance(&clock, 4_300, 100.0).await;
    assert_eq!(text(&host, "countdown"), "Expires in 1:01");
    advance(&clock, 1_000, 100.0).await;
    assert_eq!(
        text(&host, "countdown"),
        "Expires in 0:60".replace("0:60", "1:00")
    );
    // Second by second down to expiry: screen readers hear 60, 30, 10 seconds and the expiry.
    advance(&clock, 60_000, 250.0).await;
    observer.disconnect();
    let heard = heard.borrow().clone();
    assert_eq!(
        heard[..3],
        [
            "The code expires in 1 minute.",
            "The code expires in 30 seconds.",
            "The code expires in 10 seconds.",
        ]
    );
    // At expiry the code is replaced at once; nothing else was said in between.
    assert!(heard.len() <= 4, "{heard:?}");
    // Expired: renewed at once, by itself.
    settle().await;
    assert_eq!(renewed.get_untracked(), 1);
    assert_eq!(text(&host, "countdown"), "Expires in 1:05");

    // Two more expiries renew by themselves too...
    for expected in 2..=AUTOMATIC_RENEWALS {
        advance(&clock, 65_000, 1_000.0).await;
        assert_eq!(renewed.get_untracked(), expected);
    }
    // ...then the code stays expired, dimmed, and waits for a click.
    advance(&clock, 65_000, 1_000.0).await;
    assert_eq!(renewed.get_untracked(), AUTOMATIC_RENEWALS);
    assert_eq!(text(&host, "countdown"), "Expired");
    assert_eq!(
        text(&host, "countdown-announcement"),
        "The code has expired."
    );
    assert!(
        find::<HtmlElement>(&host, "expiring-code")
            .class_list()
            .contains("expired")
    );
    advance(&clock, 120_000, 10_000.0).await;
    assert_eq!(
        renewed.get_untracked(),
        AUTOMATIC_RENEWALS,
        "no click, no renewal"
    );
    let button: HtmlElement = find(&host, "renew");
    assert_eq!(button.text_content().unwrap(), "Get a new code");
    button.click();
    settle().await;
    assert_eq!(renewed.get_untracked(), AUTOMATIC_RENEWALS + 1);
    assert_eq!(text(&host, "countdown"), "Expires in 1:05");
    assert!(!present(&host, "renew"));
    // A click starts the count again: the next expiry renews by itself.
    advance(&clock, 65_000, 1_000.0).await;
    assert_eq!(renewed.get_untracked(), AUTOMATIC_RENEWALS + 2);
}

type Shared<T> = Rc<RefCell<T>>;

/// How a poll ended: its final answer, or the error that ended it.
type Polled = Result<LoginView, ApiError>;

/// A poll target that answers from a script and records when and how it was asked.
#[derive(Clone, Default)]
struct ScriptedServer {
    answers: Rc<RefCell<Vec<Result<LoginState, ApiError>>>>,
    asked: Rc<RefCell<Vec<Asked>>>,
}

#[derive(Clone, Debug, PartialEq)]
struct Asked {
    at: f64,
    wait: Option<u32>,
    known: Option<LoginState>,
}

impl ScriptedServer {
    fn new(answers: Vec<Result<LoginState, ApiError>>) -> Self {
        ScriptedServer {
            answers: Rc::new(RefCell::new(answers.into_iter().rev().collect())),
            asked: Rc::default(),
        }
    }

    fn times(&self) -> Vec<f64> {
        self.asked.borrow().iter().map(|a| a.at).collect()
    }

    /// Starts polling it; returns the final status once there is one, and the events.
    fn poll(
        &self,
        clock: &ManualClock,
        plan: PollPlan,
    ) -> (Shared<Option<Polled>>, Shared<Vec<PollEvent<LoginView>>>) {
        let result = Rc::new(RefCell::new(None));
        let events = Rc::new(RefCell::new(Vec::new()));
        let (server, clock, done, seen) = (
            self.clone(),
            Clock::Manual(clock.clone()),
            Rc::clone(&result),
            Rc::clone(&events),
        );
        wasm_bindgen_futures::spawn_local(async move {
            let fetch_clock = clock.clone();
            let last = poll_until_final(
                &clock,
                &PageVisibility::of_page(),
                plan,
                move |last: Option<&LoginView>, wait| {
                    server.asked.borrow_mut().push(Asked {
                        at: fetch_clock.now_ms(),
                        wait,
                        known: last.map(|s| s.state),
                    });
                    let answer = server
                        .answers
                        .borrow_mut()
                        .pop()
                        .unwrap_or(Ok(LoginState::Pending));
                    async move {
                        answer.map(|state| LoginView {
                            login_id: "l".into(),
                            state,
                            expires_at: 0,
                            expires_in_ms: 60_000,
                            number: None,
                            denial: None,
                        })
                    }
                },
                |status| !status.state.is_open(),
                move |event| seen.borrow_mut().push(event),
            )
            .await;
            *done.borrow_mut() = Some(last);
        });
        (result, events)
    }
}

fn network_down() -> Result<LoginState, ApiError> {
    Err(ApiError::Network("Failed to fetch".into()))
}

fn refused(
    status: u16,
    code: &str,
    retry_after_seconds: Option<u32>,
) -> Result<LoginState, ApiError> {
    Err(ApiError::Server {
        status,
        code: code.into(),
        message: "refused".into(),
        retry_after_seconds,
    })
}

#[wasm_bindgen_test]
async fn poller_waits_as_long_as_retry_after_asks_and_stops_when_the_server_refuses_for_good() {
    let clock = ManualClock::new();
    let server = ScriptedServer::new(vec![
        Ok(LoginState::Pending),
        refused(429, "rate_limited", Some(20)),
        refused(503, "storage_unavailable", None),
        Ok(LoginState::Scanned),
        refused(403, "poll_secret_invalid", None),
        Ok(LoginState::Approved),
    ]);
    let (result, events) = server.poll(&clock, EVERY_2_S);
    settle().await;
    advance(&clock, 60_000, 100.0).await;

    let times = server.times();
    assert_eq!(times.len(), 5, "asked at {times:?}");
    let gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    // A back-off of 1 to 2 s after the first failure, but the server asked for 20 s.
    assert!((20_000.0..20_250.0).contains(&gaps[1]), "{gaps:?}");
    // Its own back-off after a 503 without Retry-After: 2 to 4 s.
    assert!((2_000.0..4_250.0).contains(&gaps[2]), "{gaps:?}");
    match result.borrow().clone() {
        Some(Err(ApiError::Server { status: 403, .. })) => {}
        other => panic!("a 403 ends the polling with its error, not {other:?}"),
    }
    let retried = events
        .borrow()
        .iter()
        .filter(|e| matches!(e, PollEvent::Reconnecting { .. }))
        .count();
    assert_eq!(retried, 2, "429 and 503 are retried, 403 is not");
    advance(&clock, 60_000, 1_000.0).await;
    assert_eq!(server.times().len(), 5, "nothing asked after the refusal");
}

const EVERY_2_S: PollPlan = PollPlan {
    interval_ms: 2_000.0,
    long_poll_seconds: None,
};

#[wasm_bindgen_test]
async fn poller_backs_off_with_jitter_recovers_and_stops_on_a_final_state() {
    let clock = ManualClock::new();
    let mut script = vec![Ok(LoginState::Pending)];
    script.extend((0..6).map(|_| network_down()));
    script.extend([
        Ok(LoginState::Scanned),
        Ok(LoginState::Scanned),
        Ok(LoginState::Denied),
    ]);
    let server = ScriptedServer::new(script);
    let (result, events) = server.poll(&clock, EVERY_2_S);
    settle().await;
    advance(&clock, 120_000, 100.0).await;

    let times = server.times();
    assert_eq!(times.len(), 10, "asked at {times:?}");
    let gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(gaps[0], 2_000.0, "every 2 s while the server answers");
    assert_eq!(gaps.len(), 9);
    // After the n-th failure in a row: between half and all of 2 s × 2^(n-1), at most 30 s.
    for (failure, gap) in gaps[1..7].iter().enumerate() {
        let ceiling = (2_000.0 * 2f64.powi(failure as i32)).min(30_000.0);
        assert!(
            *gap >= ceiling / 2.0 && *gap <= ceiling + 250.0,
            "gap {gap} after failure {} (ceiling {ceiling}); gaps {gaps:?}",
            failure + 1
        );
    }
    // Back to the interval once the server answers, and nothing after a final state.
    assert!(
        gaps[7..].iter().all(|g| (2_000.0..2_250.0).contains(g)),
        "{gaps:?}"
    );
    assert_eq!(
        result.borrow().clone().map(|s| s.map(|s| s.state)),
        Some(Ok(LoginState::Denied))
    );
    let reconnecting: Vec<u32> = events
        .borrow()
        .iter()
        .filter_map(|e| match e {
            PollEvent::Reconnecting { failures, .. } => Some(*failures),
            PollEvent::Answer(_) => None,
        })
        .collect();
    assert_eq!(reconnecting, [1, 2, 3, 4, 5, 6]);
    advance(&clock, 60_000, 1_000.0).await;
    assert_eq!(server.times().len(), 10, "stopped on DENIED");
}

#[wasm_bindgen_test]
async fn poller_long_polls_from_the_last_state_and_keeps_the_interval_when_answered_at_once() {
    let clock = ManualClock::new();
    let server = ScriptedServer::new(vec![
        Ok(LoginState::Pending),
        Ok(LoginState::Pending),
        Ok(LoginState::Scanned),
        Ok(LoginState::Approved),
    ]);
    let plan = PollPlan {
        interval_ms: 2_000.0,
        long_poll_seconds: Some(30),
    };
    let (result, _) = server.poll(&clock, plan);
    settle().await;
    advance(&clock, 10_000, 100.0).await;
    let asked = server.asked.borrow().clone();
    assert_eq!(
        asked,
        [
            Asked {
                at: 0.0,
                wait: None,
                known: None
            },
            Asked {
                at: 2_000.0,
                wait: Some(30),
                known: Some(LoginState::Pending)
            },
            Asked {
                at: 4_000.0,
                wait: Some(30),
                known: Some(LoginState::Pending)
            },
            Asked {
                at: 6_000.0,
                wait: Some(30),
                known: Some(LoginState::Scanned)
            },
        ]
    );
    assert_eq!(
        result.borrow().clone().map(|s| s.map(|s| s.state)),
        Some(Ok(LoginState::Approved))
    );
}

/// Makes the document report `state` as its visibility and tells the page, as a browser does
/// when the tab is hidden or shown.
fn set_visibility(state: &str) {
    let document = document();
    let descriptor = js_sys::Object::new();
    let value = JsValue::from_str(state);
    let getter = Closure::<dyn Fn() -> JsValue>::new(move || value.clone());
    js_sys::Reflect::set(&descriptor, &"get".into(), getter.as_ref()).unwrap();
    js_sys::Reflect::set(&descriptor, &"configurable".into(), &JsValue::TRUE).unwrap();
    getter.forget();
    js_sys::Object::define_property(&document, &"visibilityState".into(), &descriptor);
    document
        .dispatch_event(&Event::new("visibilitychange").unwrap())
        .unwrap();
}

#[wasm_bindgen_test]
async fn poller_pauses_while_the_page_is_hidden_and_asks_at_once_when_it_returns() {
    let clock = ManualClock::new();
    let mut script = vec![Ok(LoginState::Pending)];
    script.extend((0..5).map(|_| network_down()));
    script.push(Ok(LoginState::Expired));
    let server = ScriptedServer::new(script);
    let (result, _) = server.poll(&clock, EVERY_2_S);
    settle().await;
    assert_eq!(server.times(), [0.0]);

    set_visibility("hidden");
    advance(&clock, 20_000, 500.0).await;
    assert_eq!(server.times(), [0.0], "nothing while hidden");
    set_visibility("visible");
    settle().await;
    assert_eq!(server.times(), [0.0, 20_000.0], "at once on return");

    // The call on return failed; the retry comes within 2 s and fails too, and the next back-off
    // is at least 2 s. A return from hidden in the middle of it asks at once.
    advance(&clock, 2_100, 100.0).await;
    assert_eq!(server.times().len(), 3, "{:?}", server.times());
    set_visibility("hidden");
    advance(&clock, 200, 100.0).await;
    set_visibility("visible");
    settle().await;
    let times = server.times();
    assert_eq!(times.len(), 4, "{times:?}");
    assert_eq!(
        times[3],
        clock.now_ms(),
        "asked the moment the page returned"
    );
    assert!(
        times[3] - times[2] < 2_000.0,
        "before the back-off ended: {times:?}"
    );
    advance(&clock, 200_000, 1_000.0).await;
    assert_eq!(
        result.borrow().clone().map(|s| s.map(|s| s.state)),
        Some(Ok(LoginState::Expired))
    );
}
