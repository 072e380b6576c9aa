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

    let drawn = |label: &str| {
        let options = QrOptions {
            error_correction,
            label: Some(label.to_owned()),
            ..QrOptions::default()
        };
        matrix
            .to_svg(&options)
            .expect("the default drawing is valid")
    };
    // The label stays inside its attribute: the SVG is the one drawn with an empty label but
    // for that attribute's value, which holds no character that could end it or add markup.
    let (svg, plain) = (drawn(label), drawn(""));
    let attribute = "aria-label=\"";
    let start = svg.find(attribute).expect("a labelled SVG has aria-label") + attribute.len();
    let end = start + svg[start..].find('"').expect("the attribute ends");
    let value = &svg[start..end];
    assert!(!value.contains(['<', '>']), "{value}");
    assert_eq!(format!("{}{}", &svg[..start], &svg[end..]), plain, "{svg}");
    assert_eq!(value.is_empty(), label.is_empty());
});
