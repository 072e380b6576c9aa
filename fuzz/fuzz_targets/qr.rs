//! Any text a page asks to draw as a QR code, at any error-correction level, with any label:
//! either a clear refusal (too long) or a code that an independent decoder (rqrr) reads back
//! byte for byte, in an SVG whose label cannot break out of its attribute.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qrauth_token::{ErrorCorrection, QrError, QrMatrix, QrOptions};

fuzz_target!(|input: (u8, &str, &str)| {
    let (level, label, text) = input;
    let error_correction = [
        ErrorCorrection::Low,
        ErrorCorrection::Medium,
        ErrorCorrection::Quartile,
        ErrorCorrection::High,
    ][usize::from(level % 4)];
    let matrix = match QrMatrix::encode(text, error_correction) {
        Ok(matrix) => matrix,
        Err(QrError::TooLong { bytes, max }) => {
            assert_eq!(bytes, text.len());
            assert!(bytes > max);
            return;
        }
        Err(other) => panic!("encoding {text:?}: {other}"),
    };
    let grid = rqrr::SimpleGrid::from_func(matrix.width(), |x, y| matrix.is_dark(x, y));
    let mut decoded = Vec::new();
    rqrr::Grid::new(grid)
        .decode_to(&mut decoded)
        .unwrap_or_else(|e| panic!("{text:?} at {error_correction:?} does not decode: {e:?}"));
    assert_eq!(decoded, text.as_bytes());

    let options = QrOptions {
        error_correction,
        label: Some(label.to_owned()),
        ..QrOptions::default()
    };
    let svg = matrix
        .to_svg(&options)
        .expect("the default drawing is valid");
    // <svg …>, <rect …/>, <path …/>, </svg>, and ten quoted attribute values: nothing the
    // label holds becomes markup or ends its attribute.
    assert_eq!(svg.matches('<').count(), 4, "{svg}");
    assert_eq!(svg.matches('>').count(), 4, "{svg}");
    assert_eq!(svg.matches('"').count(), 20, "{svg}");
});
