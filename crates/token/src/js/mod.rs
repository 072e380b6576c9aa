//! The JavaScript API of the npm package `qrauth-token`, in three entries: `qrauth-token/qr`
//! ([`page`]: QR codes and typed codes), `qrauth-token/sign-in` (those and the sign-in session)
//! and `qrauth-token` (all, plus [`token`]: the software token); and of the QR decoder that the
//! qrauth app's token page loads when a person scans ([`scan`]). Each is its own wasm build, so
//! that a page loads none of what it does not use.
//!
//! Every failure reaches JavaScript as an `Error` whose `code` property is a stable identifier
//! (`qr_too_long`, `invalid_options`, ...) and whose message a person can read.

#[cfg(feature = "js-sign-in")]
mod code_login;
#[cfg(feature = "js-page")]
mod page;
#[cfg(feature = "js-scan")]
mod scan;
#[cfg(feature = "js-sign-in")]
mod sign_in;
#[cfg(feature = "js")]
mod token;

#[cfg(feature = "js-page")]
use alloc::string::String;
#[cfg(feature = "js-page")]
use js_sys::{Object, Reflect};
#[cfg(feature = "js-page")]
use qrauth_core::text::join;
#[cfg(feature = "js-page")]
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

// Single-threaded wasm: the lock is never contended, and unlike `AssumeSingleThreaded` it needs
// no `unsafe`.
#[cfg(all(feature = "js-page", target_arch = "wasm32"))]
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());

/// Reads an options object; `undefined` and `null` give the defaults. serde-wasm-bindgen reads
/// only the fields it knows, so a misspelt option would be silently ignored without the check
/// of the names.
#[cfg(feature = "js")]
pub(super) fn read_options<T: serde::de::DeserializeOwned + Default>(
    options: JsValue,
    names: &[&str],
    what: &str,
) -> Result<T, JsValue> {
    if option_object(options.clone(), names, what)?.is_none() {
        return Ok(T::default());
    }
    serde_wasm_bindgen::from_value(options)
        .map_err(|e| error("invalid_options", &format!("Invalid {what} options: {e}.")))
}

#[cfg(feature = "js-page")]
/// The options object, `None` for `undefined` and `null`; an error for anything that is not an
/// object or has a name that is not one of `names` (a misspelt option is never ignored).
pub(super) fn option_object(
    options: JsValue,
    names: &[&str],
    what: &str,
) -> Result<Option<js_sys::Object>, JsValue> {
    if options.is_undefined() || options.is_null() {
        return Ok(None);
    }
    let Ok(object) = options.dyn_into::<js_sys::Object>() else {
        return Err(error(
            "invalid_options",
            &join(&[
                "The ".into(),
                what.into(),
                " options must be an object.".into(),
            ]),
        ));
    };
    for key in js_sys::Object::keys(&object) {
        let key = key.as_string().unwrap_or_default();
        if !names.contains(&key.as_str()) {
            return Err(error(
                "invalid_options",
                &join(&[
                    "Unknown ".into(),
                    what.into(),
                    " option “".into(),
                    (&key).into(),
                    "”: the options are ".into(),
                    (&names.join(", ")).into(),
                    ".".into(),
                ]),
            ));
        }
    }
    Ok(Some(object))
}

/// A future as a JavaScript Promise. The sign-in entry's exports all go through this one boxed
/// type, so that its wasm carries one copy of the machinery that drives a future into a Promise
/// rather than one per export.
#[cfg(feature = "js-sign-in")]
pub(super) fn to_promise(
    work: impl Future<Output = Result<JsValue, JsValue>> + 'static,
) -> js_sys::Promise {
    let work: std::pin::Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>> = Box::pin(work);
    wasm_bindgen_futures::future_to_promise(work)
}

/// A JavaScript `Error` with a stable `code` property.
pub(super) fn error(code: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    // Setting a property on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(&error, &"code".into(), &code.into());
    error.into()
}

#[cfg(feature = "js-page")]
/// A plain JavaScript object, field by field.
pub(super) struct Fields(Object);

#[cfg(feature = "js-page")]
impl Fields {
    pub(super) fn new() -> Self {
        Fields(Object::new())
    }

    pub(super) fn with(self, name: &str, value: impl Into<JsValue>) -> Self {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&self.0, &name.into(), &value.into());
        self
    }

    pub(super) fn into_js(self) -> JsValue {
        self.0.into()
    }
}

#[cfg(feature = "js-page")]
/// `Some(text)` as a string, `None` as `null`.
pub(super) fn or_null(text: Option<String>) -> JsValue {
    text.map_or(JsValue::NULL, JsValue::from)
}

#[cfg(feature = "js-page")]
/// The option `name`: absent (`undefined` or `null`), or the value.
pub(super) fn option_value(options: &Object, name: &str) -> Option<JsValue> {
    Reflect::get(options, &name.into())
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

#[cfg(feature = "js-page")]
/// Why option `name` of `what` was refused: it `must_be` something else.
pub(super) fn invalid_option(what: &str, name: &str, must_be: &str) -> String {
    join(&[
        "Invalid ".into(),
        what.into(),
        " options: `".into(),
        name.into(),
        "` must be ".into(),
        must_be.into(),
        ".".into(),
    ])
}

#[cfg(feature = "js-page")]
pub(super) fn text_option(
    options: &Object,
    name: &str,
    what: &str,
) -> Result<Option<String>, JsValue> {
    option_value(options, name)
        .map(|v| {
            v.as_string()
                .ok_or_else(|| error("invalid_options", &invalid_option(what, name, "a string")))
        })
        .transpose()
}

#[cfg(feature = "js-page")]
pub(super) fn whole_number_option(
    options: &Object,
    name: &str,
    what: &str,
) -> Result<Option<u32>, JsValue> {
    option_value(options, name)
        .map(|v| {
            v.as_f64()
                .filter(|&n| (0.0..=f64::from(u32::MAX)).contains(&n) && f64::from(n as u32) == n)
                .map(|n| n as u32)
                .ok_or_else(|| {
                    error(
                        "invalid_options",
                        &invalid_option(what, name, "a whole number of 0 or more"),
                    )
                })
        })
        .transpose()
}
