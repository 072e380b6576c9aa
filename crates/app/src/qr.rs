//! QR codes drawn in the page from the server's text.

use leptos::prelude::*;
use qrauth_token::{QrOptions, render_qr_svg};

/// `text` as an SVG QR code: black on white in every colour scheme, a quiet zone of four
/// modules, scaled without blur, named `label` for screen readers.
#[component]
pub fn QrCode(
    /// What the code holds, as UTF-8 bytes; drawn again in place when it changes.
    #[prop(into)]
    text: Signal<String>,
    /// The accessible name, such as "QR code to sign in with your phone".
    #[prop(into)]
    label: String,
) -> impl IntoView {
    let options = QrOptions {
        label: Some(label),
        ..QrOptions::default()
    };
    move || match render_qr_svg(&text.get(), &options) {
        Ok(svg) => view! { <div class="qr" data-testid="qr" inner_html=svg></div> }.into_any(),
        Err(e) => view! {
            <p class="error" role="alert" data-testid="qr-error">
                {format!("The QR code cannot be drawn: {e}")}
            </p>
        }
        .into_any(),
    }
}
