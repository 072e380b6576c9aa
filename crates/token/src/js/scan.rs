//! The QR decoder's own wasm (feature `js-scan`), which the qrauth app's token page loads when a
//! person first scans: [`crate::scan::decode_rgba`] for JavaScript.

use wasm_bindgen::prelude::*;

use super::error;

/// The text of the first readable QR code in the RGBA pixels of a picture (`ImageData`'s
/// `data`, `width` × `height`). Throws an `Error` whose `code` is a [`crate::scan::ScanError`]'s.
#[wasm_bindgen(js_name = decodeRgba)]
pub fn decode_rgba(width: u32, height: u32, rgba: &[u8]) -> Result<String, JsValue> {
    crate::scan::decode_rgba(width as usize, height as usize, rgba)
        .map_err(|e| error(e.code(), &e.to_string()))
}
