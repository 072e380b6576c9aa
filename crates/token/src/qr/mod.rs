//! QR codes drawn in the page, from the exact UTF-8 bytes of the text.
//!
//! The whole text goes into one byte-mode segment. Encoders that segment automatically may pick
//! Kanji mode for UTF-8 sequences that happen to look like Shift-JIS, which phones then decode as
//! mojibake; one byte segment costs a little capacity and is read back byte for byte by every
//! reader. No ECI header is written: readers take byte mode as UTF-8, and some old ones choke on
//! ECI.

use alloc::{borrow::ToOwned, string::String, vec::Vec};
use core::fmt;

use qrauth_core::text::{join, push_decimal};

use codewords::{MAX_VERSION, byte_segment_bits, codewords, data_capacity};

mod codewords;
mod mask;
mod symbol;

/// How much of the code may be damaged and still read: 7 %, 15 %, 25 % or 30 %.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ErrorCorrection {
    /// About 7 % of the code may be damaged.
    Low,
    /// About 15 %: the default, as in node-qrcode.
    #[default]
    Medium,
    /// About 25 %.
    Quartile,
    /// About 30 %.
    High,
}

impl ErrorCorrection {
    /// Reads the letter used by QR libraries: `L`, `M`, `Q` or `H` (either case).
    pub fn from_letter(letter: &str) -> Result<Self, QrError> {
        match letter {
            "L" | "l" => Ok(Self::Low),
            "M" | "m" => Ok(Self::Medium),
            "Q" | "q" => Ok(Self::Quartile),
            "H" | "h" => Ok(Self::High),
            other => Err(QrError::InvalidErrorCorrection(other.to_owned())),
        }
    }
}

/// How a QR code is drawn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QrOptions {
    /// Error-correction level; [`ErrorCorrection::Medium`] by default.
    pub error_correction: ErrorCorrection,
    /// Quiet zone around the code, in modules; 4 by default, as the QR standard asks.
    pub margin: u32,
    /// Colour of the dark modules as `#rgb`, `#rrggbb` or `#rrggbbaa`; black by default.
    pub dark: String,
    /// Colour of the background and quiet zone; white by default.
    pub light: String,
    /// Width and height in CSS pixels; `None` lets the SVG fill its container.
    pub size: Option<u32>,
    /// Accessible name for screen readers, such as "QR code to sign in".
    pub label: Option<String>,
}

impl Default for QrOptions {
    fn default() -> Self {
        QrOptions {
            error_correction: ErrorCorrection::default(),
            margin: 4,
            dark: "#000000".into(),
            light: "#ffffff".into(),
            size: None,
            label: None,
        }
    }
}

/// The largest quiet zone accepted, in modules: more only shrinks the code.
pub const MAX_MARGIN: u32 = 64;
/// The largest size accepted, in CSS pixels.
pub const MAX_SIZE: u32 = 8192;

/// Why a QR code could not be drawn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QrError {
    /// The text does not fit in a version 40 code at this error-correction level.
    TooLong {
        /// UTF-8 bytes in the text.
        bytes: usize,
        /// The most bytes that fit at this level.
        max: usize,
    },
    /// An error-correction level other than L, M, Q or H.
    InvalidErrorCorrection(String),
    /// A colour that is not `#rgb`, `#rgba`, `#rrggbb` or `#rrggbbaa`.
    InvalidColour(String),
    /// A quiet zone over [`MAX_MARGIN`].
    InvalidMargin(u32),
    /// A size of 0 or over [`MAX_SIZE`].
    InvalidSize(u32),
    /// The element gives no 2D drawing context.
    NoCanvas,
}

impl QrError {
    /// A stable identifier for programs; the `Display` text is for people.
    pub fn kind(&self) -> &'static str {
        match self {
            QrError::TooLong { .. } => "qr_too_long",
            QrError::InvalidErrorCorrection(_) => "qr_invalid_error_correction",
            QrError::InvalidColour(_) => "qr_invalid_colour",
            QrError::InvalidMargin(_) => "qr_invalid_margin",
            QrError::InvalidSize(_) => "qr_invalid_size",
            QrError::NoCanvas => "qr_no_canvas",
        }
    }

    /// What is wrong, in words for people (also the `Display` text, which the light npm entry
    /// does not use: `core::fmt` would come with it).
    pub fn message(&self) -> String {
        match self {
            QrError::TooLong { bytes, max } => join(&[
                "The text is ".into(),
                (*bytes).into(),
                " bytes long; a QR code at this error-correction level holds at most ".into(),
                (*max).into(),
                ".".into(),
            ]),
            QrError::InvalidErrorCorrection(value) => join(&[
                "Unknown error-correction level “".into(),
                value.into(),
                "”: use “L”, “M”, “Q” or “H”.".into(),
            ]),
            QrError::InvalidColour(value) => join(&[
                "Colour “".into(),
                value.into(),
                "” is not a hex colour such as “#000” or “#1a2b3c”.".into(),
            ]),
            QrError::InvalidMargin(value) => join(&[
                "A margin of ".into(),
                (*value).into(),
                " modules is too wide: at most ".into(),
                MAX_MARGIN.into(),
                ".".into(),
            ]),
            QrError::InvalidSize(value) => join(&[
                "A size of ".into(),
                (*value).into(),
                " px is outside 1..=".into(),
                MAX_SIZE.into(),
                ".".into(),
            ]),
            QrError::NoCanvas => "The canvas gives no 2D context to draw on.".to_owned(),
        }
    }
}

impl fmt::Display for QrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl core::error::Error for QrError {}

/// The modules of an encoded QR code, without quiet zone.
#[derive(Clone, Debug)]
pub struct QrMatrix {
    width: usize,
    /// 1 where dark, row by row.
    dark: Vec<u8>,
}

impl QrMatrix {
    /// Encodes the UTF-8 bytes of `text` as one byte-mode segment, in the smallest version that
    /// holds them.
    pub fn encode(text: &str, error_correction: ErrorCorrection) -> Result<Self, QrError> {
        let data = text.as_bytes();
        let version = (1..=MAX_VERSION)
            .find(|&version| fits(version, error_correction, data.len()))
            .ok_or(QrError::TooLong {
                bytes: data.len(),
                max: max_bytes(error_correction),
            })?;
        let symbol = symbol::Symbol::new(version, &codewords(data, version, error_correction));
        Ok(QrMatrix {
            width: symbol.width(),
            dark: mask::Unmasked::new(&symbol, error_correction).best_masked(),
        })
    }

    /// Modules per side (21 for version 1, 177 for version 40).
    pub fn width(&self) -> usize {
        self.width
    }

    /// Whether the module at column `x`, row `y` is dark; outside the code is light.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.width && self.dark[y * self.width + x] == 1
    }

    /// Draws the code as a standalone SVG element: one path of dark modules on a filled
    /// background, so dark mode and page styles cannot invert or thin it.
    pub fn to_svg(&self, options: &QrOptions) -> Result<String, QrError> {
        let (dark, light, margin) = drawing(options)?;
        let side = self.width + 2 * margin;
        let mut svg = String::with_capacity(self.width * self.width * 2 + 256);
        push_number(
            &mut svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 "#,
            side,
        );
        push_number(&mut svg, " ", side);
        svg.push_str(r#"" shape-rendering="crispEdges""#);
        if let Some(size) = options.size {
            push_number(&mut svg, r#" width=""#, size as usize);
            push_number(&mut svg, r#"" height=""#, size as usize);
            svg.push('"');
        }
        match &options.label {
            Some(label) => {
                svg.push_str(r#" role="img" aria-label=""#);
                svg.push_str(&escape_xml(label));
                svg.push('"');
            }
            None => svg.push_str(r#" aria-hidden="true""#),
        }
        push_number(&mut svg, r#"><rect width=""#, side);
        push_number(&mut svg, r#"" height=""#, side);
        svg.push_str(r#"" fill=""#);
        svg.push_str(light);
        svg.push_str(r#""/><path fill=""#);
        svg.push_str(dark);
        svg.push_str(r#"" d=""#);
        // By hand: `write!` per run took most of the drawing time. Each run is `M x yh…v1h-…z`.
        let mut before = "M";
        for (x, y, run) in self.dark_runs() {
            push_number(&mut svg, before, x + margin);
            push_number(&mut svg, " ", y + margin);
            push_number(&mut svg, "h", run);
            push_number(&mut svg, "v1h-", run);
            before = "zM";
        }
        if before != "M" {
            svg.push('z');
        }
        svg.push_str(r#""/></svg>"#);
        Ok(svg)
    }

    /// Draws the code on `canvas`, `size` CSS pixels wide (its laid-out width when `None`),
    /// with `pixel_ratio` device pixels per CSS pixel so that it stays sharp on dense screens.
    /// Modules are whole device pixels; what is left over goes to the quiet zone.
    pub fn draw_on_canvas(
        &self,
        canvas: &web_sys::HtmlCanvasElement,
        options: &QrOptions,
        pixel_ratio: f64,
    ) -> Result<(), QrError> {
        let (dark, light, margin) = drawing(options)?;
        let css = options.size.unwrap_or_else(|| css_width(canvas));
        let ratio = if pixel_ratio.is_finite() && pixel_ratio > 0.0 {
            pixel_ratio.min(8.0)
        } else {
            1.0
        };
        // `f64::round` is `std`'s; the light entry has none.
        let device = js_sys::Math::round(f64::from(css) * ratio).max(1.0) as u32;
        let modules = (self.width + 2 * margin) as u32;
        let module = (device / modules).max(1);
        let offset = f64::from(device.saturating_sub(module * modules) / 2)
            + f64::from(module) * margin as f64;
        canvas.set_width(device);
        canvas.set_height(device);
        let css_px = join(&[css.into(), "px".into()]);
        let _ = canvas.style().set_property("width", &css_px);
        let _ = canvas.style().set_property("height", &css_px);
        let context = canvas
            .get_context("2d")
            .ok()
            .flatten()
            .and_then(|c| {
                wasm_bindgen::JsCast::dyn_into::<web_sys::CanvasRenderingContext2d>(c).ok()
            })
            .ok_or(QrError::NoCanvas)?;
        context.set_fill_style_str(light);
        context.fill_rect(0.0, 0.0, f64::from(device), f64::from(device));
        context.set_fill_style_str(dark);
        let module = f64::from(module);
        for (x, y, run) in self.dark_runs() {
            context.fill_rect(
                offset + x as f64 * module,
                offset + y as f64 * module,
                run as f64 * module,
                module,
            );
        }
        Ok(())
    }

    /// The dark modules row by row as horizontal runs `(x, y, length)`: what both drawings
    /// paint.
    fn dark_runs(&self) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        self.dark
            .chunks_exact(self.width)
            .enumerate()
            .flat_map(|(y, row)| {
                let mut x = 0;
                core::iter::from_fn(move || {
                    x += row[x..].iter().position(|&m| m == 1)?;
                    let start = x;
                    x += row[x..]
                        .iter()
                        .position(|&m| m == 0)
                        .unwrap_or(row.len() - x);
                    Some((start, y, x - start))
                })
            })
    }
}

/// The width of `canvas` in CSS pixels: as laid out, else as its style says (a canvas not in
/// the page), else its pixel buffer. Never the buffer once drawn: it is `pixel_ratio` times
/// larger, and reading it back would grow the code at every redraw.
fn css_width(canvas: &web_sys::HtmlCanvasElement) -> u32 {
    let laid_out = u32::try_from(canvas.client_width()).unwrap_or(0);
    let styled = canvas
        .style()
        .get_property_value("width")
        .ok()
        // JavaScript's parseFloat: Rust's float parser would add its tables to the wasm.
        .and_then(|w| w.strip_suffix("px").map(js_sys::Number::parse_float))
        .filter(|w| w.is_finite())
        .map_or(0, |w| js_sys::Math::round(w) as u32);
    [laid_out, styled, canvas.width()]
        .into_iter()
        .find(|&w| w > 0)
        .unwrap_or(1)
}

/// Checks the options that every drawing uses: (dark, light, margin).
fn drawing(options: &QrOptions) -> Result<(&str, &str, usize), QrError> {
    let dark = colour(&options.dark)?;
    let light = colour(&options.light)?;
    if options.margin > MAX_MARGIN {
        return Err(QrError::InvalidMargin(options.margin));
    }
    match options.size {
        Some(size) if size == 0 || size > MAX_SIZE => Err(QrError::InvalidSize(size)),
        _ => Ok((dark, light, options.margin as usize)),
    }
}

/// Encodes `text` and draws it as SVG in one step.
pub fn render_qr_svg(text: &str, options: &QrOptions) -> Result<String, QrError> {
    QrMatrix::encode(text, options.error_correction)?.to_svg(options)
}

/// Whether `len` bytes fit in `version` at `level` as one byte segment.
fn fits(version: usize, level: ErrorCorrection, len: usize) -> bool {
    byte_segment_bits(version, len) <= 8 * data_capacity(version, level)
}

/// The most bytes a code holds at `level`.
fn max_bytes(level: ErrorCorrection) -> usize {
    (8 * data_capacity(MAX_VERSION, level) - byte_segment_bits(MAX_VERSION, 0)) / 8
}

/// Appends `before`, then `n` in decimal.
fn push_number(out: &mut String, before: &str, n: usize) {
    out.push_str(before);
    push_decimal(out, n as u64);
}

/// Checks a hex colour; returns it unchanged for use in an attribute.
fn colour(value: &str) -> Result<&str, QrError> {
    let hex = value.strip_prefix('#').unwrap_or("");
    if matches!(hex.len(), 3 | 4 | 6 | 8) && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(value)
    } else {
        Err(QrError::InvalidColour(value.to_owned()))
    }
}

fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a matrix back with an independent decoder (rqrr, a port of quirc).
    fn decode(matrix: &QrMatrix) -> Vec<u8> {
        let grid = rqrr::SimpleGrid::from_func(matrix.width(), |x, y| matrix.is_dark(x, y));
        let mut out = Vec::new();
        rqrr::Grid::new(grid).decode_to(&mut out).expect("decodes");
        out
    }

    #[test]
    fn round_trips_utf8_bytes_exactly() {
        for text in [
            "https://example.com/token#scan=AbC123",
            "Platba 1 250,00 Kč — příjemce Žluťoučký kůň",
            "日本語のタイトル",
            "Ünïcödé \\* escapes \\n and emoji 🔐",
            "1234567890",
        ] {
            let matrix = QrMatrix::encode(text, ErrorCorrection::Medium).unwrap();
            assert_eq!(decode(&matrix), text.as_bytes(), "{text}");
        }
    }

    #[test]
    fn holds_the_standard_byte_capacity_at_every_level() {
        // ISO/IEC 18004 table 7, version 40, byte mode.
        for (level, max) in [
            (ErrorCorrection::Low, 2953),
            (ErrorCorrection::Medium, 2331),
            (ErrorCorrection::Quartile, 1663),
            (ErrorCorrection::High, 1273),
        ] {
            let fits = "a".repeat(max);
            let matrix = QrMatrix::encode(&fits, level).unwrap();
            assert_eq!(matrix.width(), 177);
            assert_eq!(decode(&matrix).len(), max);
            let too_long = "a".repeat(max + 1);
            assert_eq!(
                QrMatrix::encode(&too_long, level).unwrap_err(),
                QrError::TooLong {
                    bytes: max + 1,
                    max
                }
            );
        }
    }

    #[test]
    fn picks_the_smallest_version() {
        // Version 1-M holds 14 bytes, version 2-M 26.
        assert_eq!(
            QrMatrix::encode(&"x".repeat(14), ErrorCorrection::Medium)
                .unwrap()
                .width(),
            21
        );
        assert_eq!(
            QrMatrix::encode(&"x".repeat(15), ErrorCorrection::Medium)
                .unwrap()
                .width(),
            25
        );
    }

    #[test]
    fn svg_has_quiet_zone_colours_size_and_label() {
        let options = QrOptions {
            margin: 4,
            dark: "#112233".into(),
            light: "#fff".into(),
            size: Some(240),
            label: Some("QR code to sign in <here> & \"now\"".into()),
            ..QrOptions::default()
        };
        let svg = render_qr_svg("hello", &options).unwrap();
        assert!(svg.starts_with(r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 29 29""#));
        assert!(svg.contains(r#"width="240" height="240""#));
        assert!(svg.contains(
            r#"role="img" aria-label="QR code to sign in &lt;here&gt; &amp; &quot;now&quot;""#
        ));
        assert!(svg.contains(r##"<rect width="29" height="29" fill="#fff"/>"##));
        assert!(
            svg.contains(r##"<path fill="#112233" d="M4 4h7v1h-7z"##),
            "{svg}"
        );
        let unlabelled = render_qr_svg("hello", &QrOptions::default()).unwrap();
        assert!(unlabelled.contains(r#"aria-hidden="true""#));
        let root = unlabelled.split('>').next().unwrap();
        assert!(!root.contains("width="), "{root}");
    }

    #[test]
    fn refuses_bad_options_with_specific_errors() {
        let with = |change: fn(&mut QrOptions)| {
            let mut options = QrOptions::default();
            change(&mut options);
            render_qr_svg("x", &options).unwrap_err()
        };
        assert_eq!(
            with(|o| o.dark = "red\" onload=\"alert(1)".into()),
            QrError::InvalidColour("red\" onload=\"alert(1)".into())
        );
        assert_eq!(
            with(|o| o.light = "#12345".into()).kind(),
            "qr_invalid_colour"
        );
        assert_eq!(with(|o| o.margin = 65), QrError::InvalidMargin(65));
        assert_eq!(with(|o| o.size = Some(0)), QrError::InvalidSize(0));
        assert_eq!(
            ErrorCorrection::from_letter("X").unwrap_err().kind(),
            "qr_invalid_error_correction"
        );
    }
}
