//! Pictures to text: the pixels of a camera frame or a picture decoded to the text of the QR
//! code in it. Only the token page reads QR codes, and the decoder (`rqrr`, with a 64 KB table
//! for its error correction) is its heaviest part, so it is its own wasm (feature `js-scan`),
//! which the token page loads when a person first scans; [`ScanError`] is in every build, so
//! that the page can say what went wrong.

use std::fmt;

/// Why no text came out of a picture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanError {
    /// The picture has no pixels, or fewer than its size says.
    EmptyImage,
    /// No QR code was found.
    NoCode,
    /// A QR code was found but could not be read (blurred, cut off, damaged).
    Unreadable,
    /// The QR code holds bytes that are not UTF-8 text.
    NotText,
}

impl ScanError {
    const ALL: [ScanError; 4] = [
        ScanError::EmptyImage,
        ScanError::NoCode,
        ScanError::Unreadable,
        ScanError::NotText,
    ];

    /// Its stable name, as the decoder's wasm throws it across to the page's.
    pub fn code(self) -> &'static str {
        match self {
            ScanError::EmptyImage => "empty_image",
            ScanError::NoCode => "no_code",
            ScanError::Unreadable => "unreadable",
            ScanError::NotText => "not_text",
        }
    }

    /// The error that [`ScanError::code`] names.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.code() == code)
    }
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ScanError::EmptyImage => "The picture is empty.",
            ScanError::NoCode => {
                "No QR code was found. Hold the code flat and fully in view, or choose a sharper picture."
            }
            ScanError::Unreadable => {
                "A QR code was found but could not be read: it may be blurred, cut off or damaged."
            }
            ScanError::NotText => "This QR code does not hold text, so it is not from qrauth.",
        })
    }
}

/// The text of the first readable QR code in an RGBA picture (`width` × `height`, four bytes a
/// pixel, as `ImageData` has it). Transparent pixels count as white, as a page shows them.
#[cfg(feature = "scan")]
pub fn decode_rgba(width: usize, height: usize, rgba: &[u8]) -> Result<String, ScanError> {
    let pixels = width.checked_mul(height).filter(|&n| n > 0);
    let Some(pixels) = pixels.filter(|n| n.checked_mul(4).is_some_and(|b| b <= rgba.len())) else {
        return Err(ScanError::EmptyImage);
    };
    let luma: Vec<u8> = rgba
        .chunks_exact(4)
        .take(pixels)
        .map(|p| {
            // ITU-R BT.601 weights in 8.8 fixed point, then over white by alpha.
            let grey = (77 * u32::from(p[0]) + 150 * u32::from(p[1]) + 29 * u32::from(p[2])) >> 8;
            let alpha = u32::from(p[3]);
            ((grey * alpha + 255 * (255 - alpha)) / 255) as u8
        })
        .collect();
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| luma[y * width + x]);
    let grids = image.detect_grids();
    if grids.is_empty() {
        return Err(ScanError::NoCode);
    }
    let mut problem = ScanError::Unreadable;
    for grid in grids {
        let mut bytes = Vec::new();
        if grid.decode_to(&mut bytes).is_ok() {
            match String::from_utf8(bytes) {
                Ok(text) => return Ok(text),
                Err(_) => problem = ScanError::NotText,
            }
        }
    }
    Err(problem)
}

#[cfg(test)]
mod tests {
    use super::ScanError;

    #[test]
    fn every_error_crosses_by_its_code() {
        for error in ScanError::ALL {
            assert_eq!(ScanError::from_code(error.code()), Some(error));
        }
        assert_eq!(ScanError::from_code("no_such"), None);
    }
}
