//! The app's components mounted in headless Chromium.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use leptos::prelude::*;
use qrauth_app::{CodeField, PageQrCode};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Event, EventInit, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

/// Mounts `view` in a fresh element of the document and returns that element.
fn mount<V: IntoView + 'static>(view: impl FnOnce() -> V + 'static) -> HtmlElement {
    let document = document();
    let host: HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    // Keep the mounted view alive for the rest of the test.
    std::mem::forget(leptos::mount::mount_to(host.clone(), view));
    host
}

fn find<T: JsCast>(host: &HtmlElement, test_id: &str) -> T {
    host.query_selector(&format!("[data-testid='{test_id}']"))
        .unwrap()
        .unwrap_or_else(|| panic!("no element with data-testid {test_id}"))
        .unchecked_into()
}

fn text(host: &HtmlElement, test_id: &str) -> String {
    find::<HtmlElement>(host, test_id)
        .text_content()
        .unwrap_or_default()
}

fn absent(host: &HtmlElement, test_id: &str) -> bool {
    host.query_selector(&format!("[data-testid='{test_id}']"))
        .unwrap()
        .is_none()
}

/// Types as a browser does: the value changes, then an `input` event bubbles up.
async fn type_into(input: &HtmlInputElement, value: &str) {
    input.set_value(value);
    let init = EventInit::new();
    init.set_bubbles(true);
    input
        .dispatch_event(&Event::new_with_event_init_dict("input", &init).unwrap())
        .unwrap();
    leptos::task::tick().await;
}

#[wasm_bindgen_test]
async fn code_field_normalizes_what_is_typed() {
    let host = mount(CodeField);
    let input: HtmlInputElement = find(&host, "code-input");
    assert_eq!(input.get_attribute("inputmode").as_deref(), Some("numeric"));
    assert_eq!(
        input.get_attribute("autocomplete").as_deref(),
        Some("one-time-code")
    );
    assert_eq!(
        text(&host, "code-status"),
        "Enter the code your token shows."
    );

    type_into(&input, "1234 5678-90").await;
    assert_eq!(
        text(&host, "code-status"),
        "The code has 10 of 16 digits: 6 digits missing."
    );
    assert!(absent(&host, "code-normalized"));

    type_into(&input, "1234 5678-9012 3456").await;
    assert_eq!(text(&host, "code-status"), "Complete: 1234-5678-9012-3456");
    assert_eq!(text(&host, "code-normalized"), "12345678-90123456");

    type_into(&input, "1234 5678-9012 345x").await;
    assert_eq!(
        text(&host, "code-status"),
        "“x” (character 19) is not a digit: a code has only digits, spaces and dashes."
    );
    assert!(absent(&host, "code-normalized"));
}

#[wasm_bindgen_test]
async fn page_qr_code_is_an_accessible_svg_of_the_page_address() {
    let host = mount(PageQrCode);
    let url = window().location().href().unwrap();
    let svg = find::<HtmlElement>(&host, "page-qr")
        .query_selector("svg")
        .unwrap()
        .expect("an svg element");
    assert_eq!(svg.get_attribute("role").as_deref(), Some("img"));
    assert_eq!(
        svg.get_attribute("aria-label"),
        Some(format!("QR code of this page's address, {url}"))
    );
    assert_eq!(text(&host, "page-url"), url);
}
