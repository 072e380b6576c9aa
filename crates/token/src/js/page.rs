//! `qrauth-token/qr`: QR codes and typed offline codes for pages.
//!
//! Options and answers go through `js_sys` by hand, not serde: serde's readers and their error
//! messages (which format floats) were two thirds of this entry's wasm. Built on its own, this
//! entry has no `std` (see the crate's docs), and its errors' words come from `message()`, not
//! `Display`, so that no `core::fmt` is linked either. `bindCodeInput` is JavaScript
//! (`web/bind-code-input.js`, appended to each entry's module by `cargo xtask npm`) over
//! [`format_code_input`]: its types are declared here.

use alloc::string::String;
use wasm_bindgen::prelude::*;

use super::{Fields, error, option_object, or_null, text_option, whole_number_option};
use crate::code_input::FieldEdit;
use crate::qr::{self, ErrorCorrection, QrMatrix, QrOptions};
use qrauth_core::CodeEntry;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r##"
/** What `normalizeCode` makes of a typed offline code. */
export interface CodeCheck {
  /** True when the input is a complete, well-formed code. */
  ok: boolean;
  /** The form to send to the server, `12345678-90123456`, or null. */
  canonical: string | null;
  /** The form to show, `1234-5678-9012-3456`, or null. */
  display: string | null;
  /** The digits typed so far in groups of four, `1234-5678-9`: for formatting as the user types. */
  grouped: string;
  /** How many digits are still missing (0 when complete or too long). */
  missing: number;
  /** Why the input is not a code, or null when it is. */
  error: { code: "empty" | "foreign_character" | "too_few_digits" | "too_many_digits"; message: string } | null;
}

/** What `formatCodeInput` makes of a code field's value as the person types. */
export interface CodeInput {
  /** The digits in groups of four with dashes, `1234-5678-9`: put it back into the field. */
  value: string;
  /** Where the caret goes in `value` (`setSelectionRange(caret, caret)`). */
  caret: number;
  /** Digits still missing of 16. */
  missing: number;
  /** True when all 16 digits are there. */
  complete: boolean;
  /** The code to send, `12345678-90123456`, or null until complete. */
  code: string | null;
  /** The status line: `7 digits missing.`, `“x” is not a digit and was left out.`, ... */
  status: string;
}

/** How `renderQrSvg` draws a code. Every field is optional. */
export interface QrOptions {
  /** Error-correction level: "L", "M" (default), "Q" or "H". */
  errorCorrection?: "L" | "M" | "Q" | "H";
  /** Quiet zone in modules, 4 by default. */
  margin?: number;
  /** Dark modules as a hex colour, "#000000" by default. */
  dark?: string;
  /** Background and quiet zone as a hex colour, "#ffffff" by default. */
  light?: string;
  /** Width and height in CSS pixels; without it the SVG fills its container. */
  size?: number;
  /** Accessible name for screen readers; without it the SVG is hidden from them. */
  label?: string;
}
"##;

/// Reads an offline code as a person typed or pasted it (spaces, dashes, full-width digits) and
/// says what it is: the canonical and display forms when complete, otherwise how many digits
/// are missing or which character does not belong.
#[wasm_bindgen(js_name = normalizeCode, unchecked_return_type = "CodeCheck")]
pub fn normalize_code(input: &str) -> JsValue {
    let entry = CodeEntry::read(input);
    let code = entry.code();
    let error = match code {
        Ok(_) => JsValue::NULL,
        Err(e) => Fields::new()
            .with("code", e.kind())
            .with("message", e.message())
            .into_js(),
    };
    Fields::new()
        .with("ok", code.is_ok())
        .with("canonical", or_null(code.ok().map(|c| c.canonical())))
        .with("display", or_null(code.ok().map(|c| c.display())))
        .with("grouped", entry.grouped())
        .with("missing", entry.missing() as u32)
        .with("error", error)
        .into_js()
}

/// The option names of `QrOptions` in JavaScript.
const QR_OPTION_NAMES: [&str; 6] = [
    "errorCorrection",
    "margin",
    "dark",
    "light",
    "size",
    "label",
];

/// Draws `text` as a QR code in SVG markup, from its UTF-8 bytes in byte mode.
///
/// Throws an `Error` with `code` `qr_too_long`, `qr_invalid_colour`, `qr_invalid_margin`,
/// `qr_invalid_size`, `qr_invalid_error_correction` or `invalid_options`.
#[wasm_bindgen(js_name = renderQrSvg)]
pub fn render_qr_svg(
    text: &str,
    #[wasm_bindgen(unchecked_optional_param_type = "QrOptions")] options: Option<JsValue>,
) -> Result<String, JsValue> {
    qr::render_qr_svg(text, &qr_options(options)?).map_err(qr_error)
}

/// Draws `text` as a QR code on a `<canvas>`, `size` CSS pixels wide (its CSS width
/// without it), at the device's pixel ratio so that it stays sharp.
///
/// Throws like `renderQrSvg`, and `qr_no_canvas` when the element has no 2D context.
#[wasm_bindgen(js_name = renderQrCanvas)]
pub fn render_qr_canvas(
    canvas: &web_sys::HtmlCanvasElement,
    text: &str,
    #[wasm_bindgen(unchecked_optional_param_type = "QrOptions")] options: Option<JsValue>,
) -> Result<(), JsValue> {
    let options = qr_options(options)?;
    // The canvas's own window rather than `js_sys::global()`, whose lookup of the global object
    // the light entry would otherwise carry for this one number.
    let ratio = canvas
        .owner_document()
        .and_then(|document| document.default_view())
        .map_or(1.0, |window| window.device_pixel_ratio());
    QrMatrix::encode(text, options.error_correction)
        .and_then(|matrix| matrix.draw_on_canvas(canvas, &options, ratio))
        .map_err(qr_error)
}

fn qr_options(options: Option<JsValue>) -> Result<QrOptions, JsValue> {
    let defaults = QrOptions::default();
    let Some(given) = option_object(
        options.unwrap_or(JsValue::UNDEFINED),
        &QR_OPTION_NAMES,
        "QR",
    )?
    else {
        return Ok(defaults);
    };
    Ok(QrOptions {
        error_correction: match text_option(&given, "errorCorrection", "QR")? {
            Some(letter) => ErrorCorrection::from_letter(&letter).map_err(qr_error)?,
            None => defaults.error_correction,
        },
        margin: whole_number_option(&given, "margin", "QR")?.unwrap_or(defaults.margin),
        dark: text_option(&given, "dark", "QR")?.unwrap_or(defaults.dark),
        light: text_option(&given, "light", "QR")?.unwrap_or(defaults.light),
        size: whole_number_option(&given, "size", "QR")?,
        label: text_option(&given, "label", "QR")?,
    })
}

/// Formats a code field as the person types: the digits in groups of four with dashes,
/// nothing else, at most 16 digits. Give it the field's value and caret position
/// (`selectionStart`, in UTF-16 units); put the returned `value` and `caret` back into the
/// field. It also gives the code to send once complete and the status line to show: all that
/// `bindCodeInput` does with a field, for pages that hold the field's value themselves.
#[wasm_bindgen(js_name = formatCodeInput, unchecked_return_type = "CodeInput")]
pub fn format_code_input(value: &str, caret: Option<u32>) -> JsValue {
    let edit = FieldEdit::of(value, caret);
    Fields::new()
        .with("value", edit.input.value)
        .with("caret", u32::try_from(edit.input.caret).unwrap_or(0))
        .with("missing", edit.input.missing as u32)
        .with("complete", edit.input.complete)
        .with("code", or_null(edit.code))
        .with("status", edit.status)
        .into_js()
}

pub(super) fn qr_error(e: qr::QrError) -> JsValue {
    error(e.kind(), &e.message())
}

#[wasm_bindgen(typescript_custom_section)]
const BINDING_TYPES: &'static str = r##"
/** How `bindCodeInput` tells the page about the field. Every field is optional. */
export interface BindCodeInputOptions {
  /** After each edit: the field as it now is. */
  onInput?: (field: CodeField) => void;
  /** When the 16th digit arrives (typed or pasted): the code to send, `12345678-90123456`. */
  onComplete?: (code: string) => void;
}

/** A bound code field after an edit. */
export interface CodeField {
  /** What the field shows, `1234-5678-9`. */
  value: string;
  /** Digits still missing of 16. */
  missing: number;
  /** True when all 16 digits are there. */
  complete: boolean;
  /** The code to send, `12345678-90123456`, or null until complete. */
  code: string | null;
  /** The status line: `7 digits missing.`, `“x” is not a digit and was left out.`, ... */
  status: string;
}

/** A code field bound by `bindCodeInput`. */
export interface CodeBinding {
  /** The code to send, `12345678-90123456`, or null while digits are missing. */
  readonly code: string | null;
  /** The status line for what the field holds now. */
  readonly status: string;
  /** Stops formatting the field and lets it go. */
  unbind(): void;
}

/**
 * Makes `input` the 16-digit code field: the digits grouped by four as the person types or
 * pastes, the caret kept where they type, anything else left out and said so; `onInput` hears
 * each edit (with the status line to show), `onComplete` the normalized code once all 16
 * digits are there. Sets what phones and password managers need (`inputmode="numeric"`,
 * `autocomplete="one-time-code"`, ...) where the page did not. Throws `invalid_options` for
 * options that are not an object of these two functions.
 */
export function bindCodeInput(input: HTMLInputElement, options?: BindCodeInputOptions): CodeBinding;
"##;
