//! The JavaScript API of the npm package `qrauth-token`.
//!
//! Every failure reaches JavaScript as an `Error` whose `code` property is a stable identifier
//! (`qr_too_long`, `invalid_options`, ...) and whose message a person can read.

use serde::{Deserialize, Serialize};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::qr::{self, ErrorCorrection, QrOptions};
use qrauth_core::{CodeEntry, CodeError};

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

#[derive(Serialize)]
struct CodeCheck<'a> {
    ok: bool,
    canonical: Option<String>,
    display: Option<String>,
    grouped: String,
    missing: usize,
    error: Option<ErrorInfo<'a>>,
}

#[derive(Serialize)]
struct ErrorInfo<'a> {
    code: &'a str,
    message: String,
}

/// Reads an offline code as a person typed or pasted it (spaces, dashes, full-width digits) and
/// says what it is: the canonical and display forms when complete, otherwise how many digits
/// are missing or which character does not belong.
#[wasm_bindgen(js_name = normalizeCode, unchecked_return_type = "CodeCheck")]
pub fn normalize_code(input: &str) -> Result<JsValue, JsValue> {
    let entry = CodeEntry::read(input);
    let code = entry.code();
    let check = CodeCheck {
        ok: code.is_ok(),
        canonical: code.ok().map(|c| c.canonical()),
        display: code.ok().map(|c| c.display()),
        grouped: entry.grouped(),
        missing: entry.missing(),
        error: code.err().map(|e: &CodeError| ErrorInfo {
            code: e.kind(),
            message: e.to_string(),
        }),
    };
    to_js(&check)
}

/// The option names of `QrOptions` in JavaScript, as serde reads them.
const QR_OPTION_NAMES: [&str; 6] = [
    "errorCorrection",
    "margin",
    "dark",
    "light",
    "size",
    "label",
];

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct JsQrOptions {
    error_correction: Option<String>,
    margin: Option<u32>,
    dark: Option<String>,
    light: Option<String>,
    size: Option<u32>,
    label: Option<String>,
}

/// Draws `text` as a QR code in SVG markup, from its UTF-8 bytes in byte mode.
///
/// Throws an `Error` with `code` `qr_too_long`, `qr_invalid_colour`, `qr_invalid_margin`,
/// `qr_invalid_size`, `qr_invalid_error_correction` or `invalid_options`.
#[wasm_bindgen(js_name = renderQrSvg)]
pub fn render_qr_svg(
    text: &str,
    #[wasm_bindgen(unchecked_param_type = "QrOptions | undefined")] options: JsValue,
) -> Result<String, JsValue> {
    let given: JsQrOptions = if options.is_undefined() || options.is_null() {
        JsQrOptions::default()
    } else {
        // serde-wasm-bindgen reads only the fields it knows, so a misspelt option would be
        // silently ignored without this check.
        if let Some(object) = options.dyn_ref::<js_sys::Object>() {
            for key in js_sys::Object::keys(object) {
                let key = key.as_string().unwrap_or_default();
                if !QR_OPTION_NAMES.contains(&key.as_str()) {
                    return Err(error(
                        "invalid_options",
                        &format!(
                            "Unknown QR option {key:?}: the options are {}.",
                            QR_OPTION_NAMES.join(", ")
                        ),
                    ));
                }
            }
        }
        serde_wasm_bindgen::from_value(options)
            .map_err(|e| error("invalid_options", &format!("Invalid QR options: {e}.")))?
    };
    let defaults = QrOptions::default();
    let options = QrOptions {
        error_correction: match given.error_correction {
            Some(letter) => ErrorCorrection::from_letter(&letter).map_err(qr_error)?,
            None => defaults.error_correction,
        },
        margin: given.margin.unwrap_or(defaults.margin),
        dark: given.dark.unwrap_or(defaults.dark),
        light: given.light.unwrap_or(defaults.light),
        size: given.size,
        label: given.label,
    };
    qr::render_qr_svg(text, &options).map_err(qr_error)
}

fn qr_error(e: qr::QrError) -> JsValue {
    error(e.kind(), &e.to_string())
}

/// A JavaScript `Error` with a stable `code` property.
fn error(code: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    // Setting a property on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(&error, &"code".into(), &code.into());
    error.into()
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::new().serialize_missing_as_null(true))
        .map_err(|e| error("internal", &e.to_string()))
}
