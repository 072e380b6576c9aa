//! What the app's browser tests share: mounting a view, finding things by `data-testid`, and
//! acting as a person would.
#![allow(dead_code)] // each test file uses its own part

use leptos::prelude::*;
use qrauth_app::clock::{Clock, ManualClock};
use wasm_bindgen::JsCast;
use web_sys::{Event, EventInit, HtmlElement, HtmlFormElement, HtmlInputElement};

/// Mounts `view` in a fresh element of the document, with `clock` as the app's clock.
pub fn mount<V: IntoView + 'static>(
    clock: &ManualClock,
    view: impl FnOnce() -> V + 'static,
) -> HtmlElement {
    let document = document();
    let host: HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    let clock = Clock::Manual(clock.clone());
    // Keep the mounted view alive for the rest of the test.
    std::mem::forget(leptos::mount::mount_to(host.clone(), move || {
        provide_context(clock);
        view()
    }));
    host
}

pub fn find<T: JsCast>(host: &HtmlElement, test_id: &str) -> T {
    host.query_selector(&format!("[data-testid='{test_id}']"))
        .unwrap()
        .unwrap_or_else(|| panic!("no element with data-testid {test_id}"))
        .unchecked_into()
}

pub fn text(host: &HtmlElement, test_id: &str) -> String {
    find::<HtmlElement>(host, test_id)
        .text_content()
        .unwrap_or_default()
}

pub fn present(host: &HtmlElement, test_id: &str) -> bool {
    host.query_selector(&format!("[data-testid='{test_id}']"))
        .unwrap()
        .is_some()
}

/// Lets every woken task, effect and DOM update run: a macrotask comes after all microtasks.
pub async fn settle() {
    for _ in 0..3 {
        gloo_timers::future::TimeoutFuture::new(0).await;
    }
}

/// Moves the test clock forward in steps of `step` ms, letting the page react after each.
pub async fn advance(clock: &ManualClock, total: u32, step: f64) {
    let total = f64::from(total);
    let mut moved = 0.0;
    while moved < total {
        let by = step.min(total - moved);
        clock.advance(by);
        moved += by;
        settle().await;
    }
}

/// Edits a field as a browser does: the value and caret change, then `input` bubbles up.
pub async fn type_into(input: &HtmlInputElement, value: &str, caret: Option<u32>) {
    input.set_value(value);
    let caret = caret.unwrap_or(value.encode_utf16().count() as u32);
    input.set_selection_range(caret, caret).unwrap();
    let init = EventInit::new();
    init.set_bubbles(true);
    input
        .dispatch_event(&Event::new_with_event_init_dict("input", &init).unwrap())
        .unwrap();
    settle().await;
}

pub async fn submit(host: &HtmlElement) {
    let form: HtmlFormElement = host
        .query_selector("form")
        .unwrap()
        .unwrap()
        .unchecked_into();
    form.request_submit().unwrap();
    settle().await;
}
