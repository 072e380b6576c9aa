//! Reading a QR code into the token: live from the camera (`getUserMedia`, decoded in wasm
//! frame after frame), from a picture, or from pasted text.

use std::cell::RefCell;

use js_sys::{Function, Object, Reflect};
use leptos::prelude::*;
use leptos::task::spawn_local_scoped_with_cancellation;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    CanvasRenderingContext2d, DomException, HtmlCanvasElement, HtmlInputElement, HtmlVideoElement,
    MediaStream, MediaStreamConstraints, MediaStreamTrack,
};

use super::scan::{MAX_FRAME_SIDE, ScanError, Scanned, picture_scales};
use crate::clock::use_clock;

/// Pause between camera frames: the browser paints and the page stays responsive, and decoding
/// still runs well over ten times a second.
const FRAME_PAUSE_MS: f64 = 20.0;

/// Camera, picture and paste, each ending in `scanned` with what the text asks for. Text that is
/// not for the token is named here and the camera keeps looking.
#[component]
pub fn Scanner(
    /// Gets what was read.
    scanned: Callback<Scanned>,
) -> impl IntoView {
    let problem = RwSignal::new(None::<String>);
    let camera_on = RwSignal::new(false);
    let pasted = RwSignal::new(String::new());
    let deliver = move |text: String| match Scanned::classify(&text) {
        Ok(what) => {
            camera_on.set(false);
            scanned.run(what);
            true
        }
        Err(e) => {
            problem.set(Some(e.to_string()));
            false
        }
    };
    let on_picture = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|files| files.get(0)) else {
            return;
        };
        // The same file chosen again must fire `change` again.
        input.set_value("");
        problem.set(None);
        spawn_local_scoped_with_cancellation(async move {
            match read_picture(&file).await {
                Ok(text) => {
                    deliver(text);
                }
                Err(message) => problem.set(Some(message)),
            }
        });
    };
    view! {
        <div class="scanner" data-testid="scanner">
            <Show
                when=move || camera_on.get()
                fallback=move || view! {
                    <button
                        type="button"
                        class="primary"
                        data-testid="scan-camera"
                        on:click=move |_| {
                            problem.set(None);
                            camera_on.set(true);
                        }
                    >
                        "Use the camera"
                    </button>
                }
            >
                <Camera deliver=Callback::new(deliver) problem stop=camera_on/>
            </Show>
            <input
                id="scan-picture"
                class="visually-hidden"
                type="file"
                accept="image/*"
                data-testid="scan-picture"
                on:change=on_picture
            />
            <label class="button" for="scan-picture">"Choose a picture"</label>
            <p class="error" role="alert" data-testid="scan-problem">
                {move || problem.get().unwrap_or_default()}
            </p>
            <details class="paste">
                <summary>"Paste the text instead"</summary>
                <form
                    class="stack"
                    on:submit=move |ev| {
                        ev.prevent_default();
                        problem.set(None);
                        deliver(pasted.get_untracked());
                    }
                >
                    <label for="scan-text">"Text of the QR code or link"</label>
                    <textarea
                        id="scan-text"
                        rows="4"
                        spellcheck="false"
                        data-testid="scan-text"
                        prop:value=move || pasted.get()
                        on:input=move |ev| pasted.set(event_target_value(&ev))
                    ></textarea>
                    <button type="submit" data-testid="scan-read">"Read"</button>
                </form>
            </details>
        </div>
    }
}

/// The camera's picture, decoded frame after frame until `deliver` takes a text. The camera is
/// released when this leaves the page.
#[component]
fn Camera(
    /// Takes a decoded text; `true` when it was for the token and scanning ends.
    deliver: Callback<String, bool>,
    /// Where camera errors go.
    problem: RwSignal<Option<String>>,
    /// Set to `false` to stop.
    stop: RwSignal<bool>,
) -> impl IntoView {
    let video = NodeRef::<leptos::html::Video>::new();
    let clock = use_clock();
    spawn_local_scoped_with_cancellation(async move {
        let opened = match open_camera().await {
            Ok(opened) => opened,
            Err(message) => {
                problem.set(Some(message));
                stop.set(false);
                return;
            }
        };
        // Dropped when the loop ends or when the camera leaves the page (which cancels this
        // task): either way the camera is released.
        let opened = Released(opened);
        let Some(element) = video.get_untracked() else {
            return;
        };
        let element: HtmlVideoElement = element;
        element.set_src_object(Some(&opened.0));
        let _ = element.play();
        let frames = match Decoder::load().await {
            Ok(decoder) => FrameReader::new(decoder),
            Err(message) => Err(message),
        };
        let frames = match frames {
            Ok(frames) => frames,
            Err(message) => {
                problem.set(Some(message));
                return;
            }
        };
        let mut last_refused = String::new();
        loop {
            // HAVE_CURRENT_DATA: a frame can be drawn.
            if element.ready_state() >= 2
                && let Ok(text) = frames.decode_video(&element)
                && text != last_refused
            {
                if deliver.run(text.clone()) {
                    break;
                }
                last_refused = text;
            }
            clock.sleep(FRAME_PAUSE_MS).await;
        }
    });
    view! {
        <div class="camera">
            <video
                node_ref=video
                data-testid="camera-view"
                aria-label="Camera: hold the QR code in view"
                autoplay
                muted
                playsinline
            ></video>
            <p class="hint" role="status">"Looking for a QR code…"</p>
            <button type="button" data-testid="camera-stop" on:click=move |_| stop.set(false)>
                "Stop the camera"
            </button>
        </div>
    }
}

/// The back camera when there is one, at a size that decodes quickly.
async fn open_camera() -> Result<MediaStream, String> {
    let devices = web_sys::window()
        .and_then(|w| w.navigator().media_devices().ok())
        .ok_or_else(|| {
            "This browser gives the page no camera (it needs https): choose a picture instead."
                .to_owned()
        })?;
    let video = Object::new();
    for (key, value) in [
        ("facingMode", JsValue::from_str("environment")),
        ("width", ideal(1280.0)),
        ("height", ideal(720.0)),
    ] {
        let _ = Reflect::set(&video, &key.into(), &value);
    }
    let constraints = MediaStreamConstraints::new();
    constraints.set_video(&video);
    let asked = devices
        .get_user_media_with_constraints(&constraints)
        .map_err(camera_problem)?;
    JsFuture::from(asked)
        .await
        .map_err(camera_problem)?
        .dyn_into::<MediaStream>()
        .map_err(camera_problem)
}

fn ideal(value: f64) -> JsValue {
    let object = Object::new();
    let _ = Reflect::set(&object, &"ideal".into(), &value.into());
    object.into()
}

/// A camera stream that stops its tracks when dropped, so the camera's light goes off.
struct Released(MediaStream);

impl Drop for Released {
    fn drop(&mut self) {
        for track in self.0.get_tracks() {
            if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
                track.stop();
            }
        }
    }
}

/// What a refused `getUserMedia` means for the person.
fn camera_problem(error: JsValue) -> String {
    let name = error
        .dyn_ref::<DomException>()
        .map(DomException::name)
        .unwrap_or_default();
    match name.as_str() {
        "NotAllowedError" | "SecurityError" => {
            "The camera is not allowed: allow it in the browser's site settings, or choose a picture."
        }
        "NotFoundError" | "OverconstrainedError" => {
            "No camera was found: choose a picture of the QR code instead."
        }
        "NotReadableError" | "AbortError" => {
            "The camera is in use by another app: close it and try again, or choose a picture."
        }
        _ => "The camera could not be started: choose a picture of the QR code instead.",
    }
    .to_owned()
}

/// The text of the QR code in a picture file.
async fn read_picture(file: &web_sys::File) -> Result<String, String> {
    let unreadable = |_| "This file is not a picture the browser can open.".to_owned();
    let window = web_sys::window().ok_or("No window.")?;
    let bitmap: web_sys::ImageBitmap = JsFuture::from(
        window
            .create_image_bitmap_with_blob(file)
            .map_err(unreadable)?,
    )
    .await
    .map_err(unreadable)?
    .unchecked_into();
    let frames = FrameReader::new(Decoder::load().await?)?;
    let (width, height) = (bitmap.width(), bitmap.height());
    let mut result = Err(ScanError::EmptyImage);
    for scale in picture_scales(width, height) {
        result = frames.decode_bitmap(&bitmap, scaled(width, scale), scaled(height, scale));
        // Text that is not UTF-8 stays so at any size.
        if matches!(result, Ok(_) | Err(ScanError::NotText)) {
            break;
        }
    }
    bitmap.close();
    result.map_err(|e| e.to_string())
}

#[wasm_bindgen(module = "/src/token/load_scanner.js")]
extern "C" {
    #[wasm_bindgen(js_name = loadScanner)]
    fn load_scanner(js: &str, wasm: &str) -> js_sys::Promise;
}

/// The QR decoder's `decodeRgba`, from its own wasm (`qrauth_token::scan`), which `cargo xtask
/// dist` puts beside the token page and names in its `<meta name="qrauth-scanner">`. Loaded
/// once, when a person first scans, so that the token page's first load does not carry it.
#[derive(Clone)]
struct Decoder(Function);

thread_local! {
    static DECODER: RefCell<Option<Decoder>> = const { RefCell::new(None) };
}

impl Decoder {
    async fn load() -> Result<Decoder, String> {
        if let Some(decoder) = DECODER.with_borrow(Clone::clone) {
            return Ok(decoder);
        }
        let missing = || "This page has no QR reader: choose “Paste the text instead”.".to_owned();
        let meta = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| {
                d.query_selector("meta[name=\"qrauth-scanner\"]")
                    .ok()
                    .flatten()
            })
            .ok_or_else(missing)?;
        let (js, wasm) = (
            meta.get_attribute("data-js"),
            meta.get_attribute("data-wasm"),
        );
        let (Some(js), Some(wasm)) = (js, wasm) else {
            return Err(missing());
        };
        let module = JsFuture::from(load_scanner(&js, &wasm))
            .await
            .map_err(|_| {
                "The QR reader could not be loaded: the connection may have dropped. Try again."
                    .to_owned()
            })?;
        let decoder = Reflect::get(&module, &"decodeRgba".into())
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
            .map(Decoder)
            .ok_or_else(missing)?;
        DECODER.set(Some(decoder.clone()));
        Ok(decoder)
    }

    /// The text of the QR code in `image`. A failure the decoder does not name (it stopped on
    /// a picture it could not handle) is an unreadable code: the camera tries the next frame.
    fn decode(&self, image: &web_sys::ImageData) -> Result<String, ScanError> {
        let pixels = Reflect::get(image, &"data".into()).map_err(|_| ScanError::EmptyImage)?;
        let (width, height) = (image.width(), image.height());
        match self
            .0
            .call3(&JsValue::NULL, &width.into(), &height.into(), &pixels)
        {
            Ok(text) => text.as_string().ok_or(ScanError::Unreadable),
            Err(thrown) => Err(Reflect::get(&thrown, &"code".into())
                .ok()
                .and_then(|code| code.as_string())
                .and_then(|code| ScanError::from_code(&code))
                .unwrap_or(ScanError::Unreadable)),
        }
    }
}

/// A canvas off the page where frames are drawn, scaled, and read back as pixels for the decoder.
struct FrameReader {
    canvas: HtmlCanvasElement,
    context: CanvasRenderingContext2d,
    decoder: Decoder,
}

impl FrameReader {
    fn new(decoder: Decoder) -> Result<Self, String> {
        let unsupported = || "This browser cannot read pictures in the page.".to_owned();
        let canvas: HtmlCanvasElement = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.create_element("canvas").ok())
            .and_then(|c| c.dyn_into().ok())
            .ok_or_else(unsupported)?;
        // Frames are read back every time: tell the browser to keep the canvas in memory.
        let options = Object::new();
        let _ = Reflect::set(&options, &"willReadFrequently".into(), &true.into());
        let context = canvas
            .get_context_with_context_options("2d", &options)
            .ok()
            .flatten()
            .and_then(|c| c.dyn_into().ok())
            .ok_or_else(unsupported)?;
        Ok(FrameReader {
            canvas,
            context,
            decoder,
        })
    }

    fn decode_video(&self, video: &HtmlVideoElement) -> Result<String, ScanError> {
        let (width, height) = (video.video_width(), video.video_height());
        let scale = (f64::from(MAX_FRAME_SIDE) / f64::from(width.max(height).max(1))).min(1.0);
        self.decode_drawn(
            scaled(width, scale),
            scaled(height, scale),
            |context, w, h| {
                context.draw_image_with_html_video_element_and_dw_and_dh(video, 0.0, 0.0, w, h)
            },
        )
    }

    /// The picture drawn at `width` × `height`, decoded.
    fn decode_bitmap(
        &self,
        bitmap: &web_sys::ImageBitmap,
        width: u32,
        height: u32,
    ) -> Result<String, ScanError> {
        let enlarged = width > bitmap.width() || height > bitmap.height();
        self.decode_drawn(width, height, |context, w, h| {
            // Enlarged, each pixel stays a sharp block: the decoder sees module edges, not blur.
            context.set_image_smoothing_enabled(!enlarged);
            // A transparent picture shows on white, as a page shows it.
            context.set_fill_style_str("#fff");
            context.fill_rect(0.0, 0.0, w, h);
            context.draw_image_with_image_bitmap_and_dw_and_dh(bitmap, 0.0, 0.0, w, h)
        })
    }

    /// The canvas at `width` × `height`, drawn on by `draw`, decoded.
    fn decode_drawn(
        &self,
        width: u32,
        height: u32,
        draw: impl FnOnce(&CanvasRenderingContext2d, f64, f64) -> Result<(), JsValue>,
    ) -> Result<String, ScanError> {
        self.resize(width, height);
        draw(&self.context, f64::from(width), f64::from(height))
            .map_err(|_| ScanError::EmptyImage)?;
        self.decode(width, height)
    }

    fn resize(&self, width: u32, height: u32) {
        if self.canvas.width() != width || self.canvas.height() != height {
            self.canvas.set_width(width);
            self.canvas.set_height(height);
        }
    }

    fn decode(&self, width: u32, height: u32) -> Result<String, ScanError> {
        if width == 0 || height == 0 {
            return Err(ScanError::EmptyImage);
        }
        let image = self
            .context
            .get_image_data(0.0, 0.0, f64::from(width), f64::from(height))
            .map_err(|_| ScanError::EmptyImage)?;
        self.decoder.decode(&image)
    }
}

/// A side scaled, at least one pixel.
fn scaled(side: u32, scale: f64) -> u32 {
    (f64::from(side) * scale).round().max(1.0) as u32
}
