//! `startLogin`: a sign-in page's QR login for JavaScript, on the same session code as the
//! qrauth app's sign-in page ([`crate::sign_in`]). It creates the login, follows it in the
//! background, renews it a bounded number of times when it expires, and tells the page through
//! events; an `AbortSignal` or [`Login::cancel`] ends it and cancels the login on the server, so
//! that a component mounted twice (React's StrictMode) leaves no login behind.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use futures::channel::oneshot;
use futures::future::select;
use js_sys::{Function, Object};
use qrauth_core::wire::LoginCreated;
use qrauth_core::{Denial, LoginState};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{AbortController, AbortSignal};

use super::{
    Fields, error, option_object, option_value, text_option, to_promise, whole_number_option,
};
use crate::TokenError;
use crate::clock::{Clock, PageVisibility};
use crate::countdown;
use crate::poll::{PollEvent, backoff_ms};
use crate::sign_in::{
    AUTOMATIC_RENEWALS, LoginApi, LoginFrames, LoginProgress, PASSWORD_FIELDS_EMPTY,
    no_code_message, password_problem,
};

/// The whole package declares `LoginState` already, from the Rust type.
#[cfg(not(feature = "js"))]
#[wasm_bindgen(typescript_custom_section)]
const LOGIN_STATE: &'static str = r##"
/** Where a QR login stands, as the server names it. */
export type LoginState = "PENDING" | "SCANNED" | "APPROVED" | "COMPLETED" | "DENIED" | "EXPIRED" | "CANCELED";
"##;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r##"
/** How `startLogin` runs. Every field is optional. */
export interface StartLoginOptions {
  /** The qrauth server's origin, `https://login.example.com`; the page's own by default. */
  server?: string;
  /** Ends the login when aborted, and cancels it on the server: give it a component's lifetime. */
  signal?: AbortSignal;
  /** How many times in a row an expired login is replaced without asking; 3 by default. */
  renewals?: number;
  /**
   * A `POST /api/v1/logins` the page sent itself before the wasm loaded, as `fetch` returned it:
   * its login is the first one, so that the request and the wasm's download overlap. Used once.
   */
  created?: Promise<Response>;
}

/** How `signInWithPassword` runs. */
export interface PasswordSignInOptions {
  user: string;
  password: string;
  /** The qrauth server's origin; the page's own by default. */
  server?: string;
}

/** What `signInWithPassword` resolves to: who is now signed in (the server set its session cookie). */
export interface PasswordSignedIn {
  user: string;
}

/**
 * The `code` of the package's errors: stable identifiers to branch on (the `message` is for
 * people). The server's own codes (`rate_limited`, `login_not_found`, ...) are in docs/api.md.
 */
export type QrauthErrorCode =
  | "init_required" | "load_failed" | "invalid_options" | "aborted" | "unsupported" | "network" | "server_answer_invalid"
  | "login_state_unknown" | "login_not_approved" | "login_ended"
  | "code_incomplete" | "code_not_right" | "code_wrong" | "token_blocked" | "no_token"
  | "qr_too_long" | "qr_invalid_colour" | "qr_invalid_margin" | "qr_invalid_size" | "qr_invalid_error_correction" | "qr_no_canvas"
  | "payload_signature_invalid" | "invalid_activation_code" | "activation_qr_invalid" | "pin_length" | "pin_mismatch"
  | "activation_not_on_device" | "invalid_scan_code" | "number_invalid" | "storage_unavailable" | "storage_full" | "storage_failed"
  | "login_extension_limit" | "rate_limited" | "operation_expired" | "operation_already_approved" | "login_expired" | "activation_blocked"
  | (string & {});

/** Every error the package throws or rejects with: an `Error` with a stable `code`. */
export interface QrauthError extends Error {
  code: QrauthErrorCode;
  /** Worth trying again (no answer, HTTP 5xx or 429). */
  transient?: boolean;
  /** How long the server asked to wait before trying again. */
  retryAfterMs?: number;
  /** On a login's `error` event: the login goes on and tries again in this many milliseconds. */
  retryInMs?: number;
  /** On `code_wrong`: the attempts left before the token is blocked. */
  remainingAttempts?: number;
}

/** The events of a `Login`, and what each listener receives. */
export interface LoginEvents {
  /** The state changed (`SCANNED` when a phone scanned the code, `APPROVED`: call `complete()`). */
  state: LoginState;
  /** A failure. With `retryInMs` the login goes on and tries again then (the next answer comes as a `state` event, changed or not); without it the login has ended. */
  error: QrauthError;
  /**
   * The QR's next frame, every second while the login waits for a phone: draw it in place of
   * the last one (and use it as the same-device link). A frame is accepted for a few seconds
   * only, so a photo or a screenshot of the QR signs nobody in.
   */
  frame: string;
  /** The login expired and was replaced: draw the new `qrText`. */
  renewed: Login;
  /** The login expired and is not replaced any more; `renew()` starts a new one. */
  expired: void;
}

/** `on` and `off`, typed by event (merged into the class `Login`). */
export interface Login {
  /** Calls `listener` on each `event`. */
  on<K extends keyof LoginEvents>(event: K, listener: (value: LoginEvents[K]) => void): void;
  /** Stops calling `listener` on `event`. */
  off<K extends keyof LoginEvents>(event: K, listener: (value: LoginEvents[K]) => void): void;
}

/** What `complete()` resolves to: who signed in, and an ES256 identity token for the page's backend. */
export interface LoginCompleted {
  loginId: string;
  user: string;
  factors: string;
  idToken: string;
}
"##;

/// The events a page can listen to.
const EVENTS: [&str; 5] = ["state", "error", "frame", "renewed", "expired"];

/// The option names of `startLogin`.
const OPTION_NAMES: [&str; 4] = ["server", "signal", "renewals", "created"];

/// A QR login in progress: the code to show, where it stands, and events as it goes.
#[wasm_bindgen]
pub struct Login {
    session: Rc<Session>,
}

/// A listener on the page's `AbortSignal`, and the signal.
type AbortListener = (AbortSignal, Closure<dyn FnMut()>);

struct Session {
    server: String,
    /// Automatic renewals allowed in a row.
    bound: u32,
    /// Automatic renewals made in a row.
    renewed: Cell<u32>,
    login: RefCell<LoginCreated>,
    /// The current login's animated QR.
    frames: RefCell<LoginFrames>,
    /// When the current login expires, on the monotonic clock.
    deadline_ms: Cell<f64>,
    state: Cell<LoginState>,
    /// With the state, from the same answer: the number to show while SCANNED (number
    /// matching), and why a DENIED login was denied.
    number: RefCell<Option<String>>,
    denial: Cell<Option<Denial>>,
    /// The latest news was a failure the login goes on after: the next answer is told as a
    /// `state` event even when the state did not change, so the page stops saying so.
    reconnecting: Cell<bool>,
    /// Ends the requests of the login that runs; replaced by each new one.
    requests: RefCell<AbortController>,
    /// Dropping it stops the background loop at once, wherever it waits.
    stop: RefCell<Option<oneshot::Sender<()>>>,
    /// Cancelled, aborted or completed: nothing more happens.
    ended: Cell<bool>,
    listeners: RefCell<Vec<(&'static str, Function)>>,
    /// The page's listener on its `AbortSignal`, removed when the login ends.
    on_abort: RefCell<Option<AbortListener>>,
}

/// Starts a QR login: creates it on the server and follows it until a phone approves or denies
/// it. Resolves once the first code is there (`login.qrText`).
///
/// Rejects with an `Error` whose `code` is `invalid_options`, `aborted` (the signal was
/// aborted first), `network`, or the server's own (`rate_limited`, ...).
#[wasm_bindgen(js_name = startLogin, unchecked_return_type = "Promise<Login>")]
pub fn start_login(
    #[wasm_bindgen(unchecked_optional_param_type = "StartLoginOptions")] options: Option<JsValue>,
) -> js_sys::Promise {
    to_promise(async move { start(options).await.map(JsValue::from) })
}

async fn start(options: Option<JsValue>) -> Result<Login, JsValue> {
    let given = option_object(
        options.unwrap_or(JsValue::UNDEFINED),
        &OPTION_NAMES,
        "startLogin",
    )?;
    let (server, signal, bound, started) = match &given {
        Some(given) => (
            text_option(given, "server", "startLogin")?.unwrap_or_default(),
            abort_signal(given)?,
            whole_number_option(given, "renewals", "startLogin")?.unwrap_or(AUTOMATIC_RENEWALS),
            started_request(given)?,
        ),
        None => (String::new(), None, AUTOMATIC_RENEWALS, None),
    };
    if signal.as_ref().is_some_and(AbortSignal::aborted) {
        return Err(aborted());
    }
    // Not cut short when the page leaves meanwhile: the server may have made the login already,
    // and only its answer says which one to cancel.
    let api = LoginApi::new(&server);
    let created = match started {
        Some(request) => api.created_by(request).await,
        None => api.create().await,
    };
    let login = created.map_err(|e| to_js(&e))?;
    if signal.as_ref().is_some_and(AbortSignal::aborted) {
        let _ = LoginApi::new(&server).cancel(&login).await;
        return Err(aborted());
    }
    let requests = AbortController::new().map_err(|_| no_abort_controller())?;
    let arrived = Clock::Browser.now_ms();
    let frames = match LoginFrames::new(&login, arrived) {
        Ok(frames) => frames,
        Err(e) => {
            let _ = LoginApi::new(&server).cancel(&login).await;
            return Err(to_js(&e));
        }
    };
    let session = Rc::new(Session {
        server,
        bound,
        renewed: Cell::new(0),
        frames: RefCell::new(frames),
        deadline_ms: Cell::new(arrived + login.expires_in_ms as f64),
        state: Cell::new(login.state),
        number: RefCell::new(None),
        denial: Cell::new(None),
        reconnecting: Cell::new(false),
        login: RefCell::new(login),
        requests: RefCell::new(requests),
        stop: RefCell::new(None),
        ended: Cell::new(false),
        listeners: RefCell::new(Vec::new()),
        on_abort: RefCell::new(None),
    });
    if let Some(signal) = signal {
        let weak = Rc::downgrade(&session);
        let on_abort = Closure::<dyn FnMut()>::new(move || {
            if let Some(session) = weak.upgrade() {
                wasm_bindgen_futures::spawn_local(Session::cancel(session));
            }
        });
        let _ = signal.add_event_listener_with_callback("abort", on_abort.as_ref().unchecked_ref());
        *session.on_abort.borrow_mut() = Some((signal, on_abort));
    }
    Session::run(&session, false);
    Ok(Login { session })
}

#[wasm_bindgen]
impl Login {
    /// The login's id.
    #[wasm_bindgen(getter, js_name = loginId)]
    pub fn login_id(&self) -> String {
        self.session.login.borrow().login_id.clone()
    }

    /// What the QR shows now: the link that opens the token, with the current frame; it also
    /// works as a same-device link. It changes every second (the `frame` event).
    #[wasm_bindgen(getter, js_name = qrText)]
    pub fn qr_text(&self) -> String {
        self.session
            .frames
            .borrow()
            .frame_at(Clock::Browser.now_ms())
    }

    /// Milliseconds until the code expires, counted on the monotonic clock from the server's
    /// answer (a wrong wall clock does not matter); 0 once past.
    #[wasm_bindgen(getter, js_name = expiresInMs)]
    pub fn expires_in_ms(&self) -> f64 {
        (self.session.deadline_ms.get() - Clock::Browser.now_ms())
            .max(0.0)
            .round()
    }

    /// Where the login stands.
    #[wasm_bindgen(getter, unchecked_return_type = "LoginState")]
    pub fn state(&self) -> String {
        self.session.state.get().as_str().to_owned()
    }

    /// While `SCANNED` with number matching on: the two digits to show, which the person types
    /// on the token before Approve; otherwise `null`.
    #[wasm_bindgen(getter, unchecked_return_type = "string | null")]
    pub fn number(&self) -> JsValue {
        self.session
            .number
            .borrow()
            .as_deref()
            .map_or(JsValue::NULL, JsValue::from)
    }

    /// Once `DENIED`: why, `on_token` (the person chose Deny) or `wrong_number` (the number
    /// typed on the token was not this page's); otherwise `null`.
    #[wasm_bindgen(
        getter,
        unchecked_return_type = "\"on_token\" | \"wrong_number\" | null"
    )]
    pub fn denial(&self) -> JsValue {
        self.session
            .denial
            .get()
            .map_or(JsValue::NULL, |d| d.as_str().into())
    }

    /// Calls `listener` on each `event`: `state`, `error`, `frame`, `renewed` or `expired`.
    #[wasm_bindgen(skip_typescript)]
    pub fn on(&self, event: &str, listener: Function) -> Result<(), JsValue> {
        let event = event_name(event)?;
        self.session.listeners.borrow_mut().push((event, listener));
        Ok(())
    }

    /// Stops calling `listener` on `event`.
    #[wasm_bindgen(skip_typescript)]
    pub fn off(&self, event: &str, listener: &Function) -> Result<(), JsValue> {
        let event = event_name(event)?;
        self.session
            .listeners
            .borrow_mut()
            .retain(|(name, f)| !(*name == event && f == listener));
        Ok(())
    }

    /// Ends the login: stops following it, and cancels it on the server while no phone has
    /// approved it, so that its QR is worth nothing if scanned later. Safe to call more than once.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn cancel(&self) -> js_sys::Promise {
        let session = Rc::clone(&self.session);
        to_promise(async move {
            Session::cancel(session).await;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// More time for the person (WCAG 2.2.1): the code lives its whole lifetime again from now,
    /// as often as the server allows. Rejects with `login_extension_limit` after that (offer
    /// `renew()`), or `login_expired`, `login_state_conflict` once it no longer waits.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn extend(&self) -> js_sys::Promise {
        let session = Rc::clone(&self.session);
        to_promise(async move {
            let login = session.login.borrow().clone();
            let view = LoginApi::new(&session.server)
                .extend(&login)
                .await
                .map_err(|e| to_js(&e))?;
            // Unless the login was replaced meanwhile.
            if session.login.borrow().login_id == view.login_id {
                session
                    .deadline_ms
                    .set(Clock::Browser.now_ms() + view.expires_in_ms as f64);
            }
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Replaces the code with a new one now, and allows the automatic renewals again: what a
    /// "Get a new code" button does, after expiry or a denial.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn renew(&self) -> js_sys::Promise {
        to_promise(Session::renew(Rc::clone(&self.session)))
    }

    /// Completes an approved login, once: resolves to who signed in, with an identity token for
    /// the page's backend, and the server sets its session cookie. Rejects with
    /// `login_not_approved` before the phone approved it.
    #[wasm_bindgen(unchecked_return_type = "Promise<LoginCompleted>")]
    pub fn complete(&self) -> js_sys::Promise {
        to_promise(Session::complete(Rc::clone(&self.session)))
    }
}

impl Session {
    async fn renew(session: Rc<Session>) -> Result<JsValue, JsValue> {
        if session.ended.get() {
            return Err(error(
                "login_ended",
                "This login has ended: start a new one.",
            ));
        }
        session.renewed.set(0);
        let old = session.login.borrow().clone();
        let open = session.state.get().is_open();
        // The old login's requests end; its QR is worth nothing once cancelled.
        session.requests.borrow().abort();
        Session::run(&session, true);
        if open {
            let _ = LoginApi::new(&session.server).cancel(&old).await;
        }
        Ok(JsValue::UNDEFINED)
    }

    async fn complete(session: Rc<Session>) -> Result<JsValue, JsValue> {
        if session.state.get() != LoginState::Approved {
            return Err(error(
                "login_not_approved",
                &format!(
                    "Only an approved login can be completed; this one is {}.",
                    session.state.get().as_str()
                ),
            ));
        }
        let login = session.login.borrow().clone();
        let done = LoginApi::new(&session.server)
            .complete(&login)
            .await
            .map_err(|e| to_js(&e))?;
        session.set_state(LoginState::Completed);
        session.end();
        Ok(Fields::new()
            .with("loginId", done.login_id)
            .with("user", done.user)
            .with("factors", done.factors)
            .with("idToken", done.id_token)
            .into_js())
    }

    /// Follows the current login in the background until it ends, renewing it on expiry while
    /// the bound allows; with `fresh`, a new login replaces the current one first. A loop that
    /// runs already stops.
    fn run(session: &Rc<Session>, fresh: bool) {
        let (stop, stopped) = oneshot::channel::<()>();
        // Replacing the sender drops the previous one, which ends the previous loop.
        *session.stop.borrow_mut() = Some(stop);
        let session = Rc::clone(session);
        wasm_bindgen_futures::spawn_local(async move {
            // One turn of the event loop first: the page draws the new code (its `startLogin`
            // or `renew` continues in this same microtask checkpoint) before the long-poll's
            // request is built and sent.
            gloo_timers::future::TimeoutFuture::new(0).await;
            let following = std::pin::pin!(async {
                if !fresh || session.replace().await {
                    let followed = std::pin::pin!(Session::follow(Rc::clone(&session)));
                    let animated = std::pin::pin!(Session::animate(&session));
                    let _ = select(followed, animated).await;
                }
            });
            let _ = select(following, stopped).await;
        });
    }

    /// Announces each new frame of the QR while the login waits for a phone, until the
    /// following ends. Late timers (a hidden tab's) draw the frame of their time, not a missed one.
    async fn animate(session: &Rc<Session>) {
        loop {
            let next_in = session.frames.borrow().next_in_ms(Clock::Browser.now_ms());
            Clock::Browser.sleep(next_in).await;
            if session.state.get().is_open() {
                let frame = session.frames.borrow().frame_at(Clock::Browser.now_ms());
                session.emit("frame", &frame.into());
            }
        }
    }

    async fn follow(session: Rc<Session>) {
        let visibility = PageVisibility::of_page();
        loop {
            let login = session.login.borrow().clone();
            let requests = session.requests.borrow().signal();
            let followed = LoginApi::new(&session.server)
                .abort_with(&requests)
                .follow(&login, &Clock::Browser, &visibility, |event| match event {
                    PollEvent::Answer(view) => {
                        *session.number.borrow_mut() = view.number;
                        session.denial.set(view.denial);
                        session.set_state(view.state)
                    }
                    PollEvent::Reconnecting {
                        retry_in_ms, error, ..
                    } => session.retrying(&error, retry_in_ms),
                })
                .await;
            match followed {
                Ok(view) if view.state == LoginState::Expired => {
                    session.set_state(LoginState::Expired);
                    if session.renewed.get() >= session.bound {
                        session.emit("expired", &JsValue::UNDEFINED);
                        return;
                    }
                    session.renewed.set(session.renewed.get() + 1);
                    if !session.replace().await {
                        return;
                    }
                }
                // Approved (the page completes it), denied, cancelled elsewhere, completed.
                Ok(_) => return,
                Err(e) => {
                    session.emit("error", &to_js(&e));
                    return;
                }
            }
        }
    }

    /// Makes a new login in place of the current one, trying again with back-off while the
    /// server cannot make it; announces it with `renewed`. False when the server refuses.
    async fn replace(self: &Rc<Self>) -> bool {
        let Ok(requests) = AbortController::new() else {
            return false;
        };
        let signal = requests.signal();
        *self.requests.borrow_mut() = requests;
        let api = LoginApi::new(&self.server).abort_with(&signal);
        let mut failures = 0;
        loop {
            let created = api.create().await.and_then(|login| {
                let arrived = Clock::Browser.now_ms();
                let frames = LoginFrames::new(&login, arrived)?;
                Ok((login, frames, arrived))
            });
            match created {
                Ok((login, frames, arrived)) => {
                    self.deadline_ms.set(arrived + login.expires_in_ms as f64);
                    *self.frames.borrow_mut() = frames;
                    self.state.set(login.state);
                    self.reconnecting.set(false);
                    *self.login.borrow_mut() = login;
                    self.emit(
                        "renewed",
                        &JsValue::from(Login {
                            session: Rc::clone(self),
                        }),
                    );
                    self.emit("state", &LoginState::Pending.as_str().into());
                    return true;
                }
                Err(e) if e.is_transient() => {
                    failures += 1;
                    let retry_in_ms = backoff(failures).max(e.retry_after_ms().unwrap_or(0.0));
                    self.retrying(&e, retry_in_ms);
                    Clock::Browser.sleep(retry_in_ms).await;
                }
                Err(e) => {
                    self.emit("error", &to_js(&e));
                    return false;
                }
            }
        }
    }

    fn set_state(&self, state: LoginState) {
        let recovered = self.reconnecting.replace(false);
        if self.state.replace(state) != state || recovered {
            self.emit("state", &state.as_str().into());
        }
    }

    /// A failure the login goes on after: the error, with when the next attempt comes.
    fn retrying(&self, e: &TokenError, retry_in_ms: f64) {
        self.reconnecting.set(true);
        let value = to_js(e);
        let _ = js_sys::Reflect::set(&value, &"retryInMs".into(), &retry_in_ms.round().into());
        self.emit("error", &value);
    }

    fn emit(&self, event: &str, value: &JsValue) {
        // A copy: a listener may add or remove listeners.
        let listeners: Vec<Function> = self
            .listeners
            .borrow()
            .iter()
            .filter(|(name, _)| *name == event)
            .map(|(_, f)| f.clone())
            .collect();
        for listener in listeners {
            // A listener that throws must not stop the others, nor the login.
            let _ = listener.call1(&JsValue::NULL, value);
        }
    }

    /// Nothing more happens: the loop stops, requests in flight end, the page's signal is let go.
    fn end(&self) {
        self.ended.set(true);
        self.stop.borrow_mut().take();
        self.requests.borrow().abort();
        if let Some((signal, on_abort)) = self.on_abort.borrow_mut().take() {
            let _ = signal
                .remove_event_listener_with_callback("abort", on_abort.as_ref().unchecked_ref());
        }
    }

    async fn cancel(session: Rc<Session>) {
        if session.ended.get() {
            return;
        }
        session.end();
        if session.state.get().is_open() {
            let login = session.login.borrow().clone();
            if LoginApi::new(&session.server).cancel(&login).await.is_ok() {
                session.set_state(LoginState::Canceled);
            }
        }
    }
}

fn event_name(event: &str) -> Result<&'static str, JsValue> {
    EVENTS.into_iter().find(|e| *e == event).ok_or_else(|| {
        error(
            "invalid_options",
            &format!(
                "Unknown login event “{event}”: the events are {}.",
                EVENTS.join(", ")
            ),
        )
    })
}

fn abort_signal(options: &Object) -> Result<Option<AbortSignal>, JsValue> {
    option_value(options, "signal")
        .map(|value| {
            value.dyn_into::<AbortSignal>().map_err(|_| {
                error(
                    "invalid_options",
                    "Invalid startLogin options: `signal` must be an AbortSignal.",
                )
            })
        })
        .transpose()
}

/// The `created` option: the Promise of the page's own `fetch`.
fn started_request(options: &Object) -> Result<Option<js_sys::Promise>, JsValue> {
    option_value(options, "created")
        .map(|v| {
            v.dyn_into::<js_sys::Promise>().map_err(|_| {
                error(
                    "invalid_options",
                    "Invalid startLogin options: `created` must be the Promise that `fetch` returned for POST /api/v1/logins.",
                )
            })
        })
        .transpose()
}

fn aborted() -> JsValue {
    error(
        "aborted",
        "The sign-in was aborted before its login was made.",
    )
}

fn no_abort_controller() -> JsValue {
    error(
        "unsupported",
        "This environment has no AbortController, which startLogin needs.",
    )
}

/// The error as JavaScript sees it; one worth trying again (no answer, 5xx, 429) says so with
/// `transient`, and with `retryAfterMs` when the server said when.
fn to_js(e: &TokenError) -> JsValue {
    let value = error(e.code(), &e.to_string());
    if e.is_transient() {
        let _ = js_sys::Reflect::set(&value, &"transient".into(), &true.into());
    }
    if let Some(ms) = e.retry_after_ms() {
        let _ = js_sys::Reflect::set(&value, &"retryAfterMs".into(), &ms.into());
    }
    value
}

/// How long to wait before the `failures`-th attempt in a row: doubling from 1 s to 30 s,
/// with jitter so that many pages do not come back at once; the same back-off as the login's
/// own polling.
#[wasm_bindgen(js_name = backoffMs)]
pub fn backoff(failures: u32) -> f64 {
    backoff_ms(1_000.0, failures, js_sys::Math::random()).round()
}

#[wasm_bindgen(typescript_custom_section)]
const WORDS: &'static str = r##"
/** What a sign-in page says about a login, as `describeLogin` gives it. */
export interface LoginProgress {
  /** `waiting`, `scanned`, `signing-in`, `denied`, `expired`, `canceled`, `reconnecting` or `failed`. */
  name: "waiting" | "scanned" | "signing-in" | "denied" | "expired" | "canceled" | "reconnecting" | "failed";
  /** The sentence to show, in a `role="status"` element. */
  message: string;
  /** True when the person has to start again (denied, cancelled, failed). */
  ended: boolean;
}

/** A countdown's words at one moment, as `countdown` gives them. */
export interface Countdown {
  /** Whole seconds left, rounded up. */
  seconds: number;
  /** `Expires in 1:05`, then `Expired`: for a `role="timer"` element. */
  text: string;
  /** For a polite live region: changes only at 60, 30 and 10 seconds and at expiry, so a screen reader speaks a few times. */
  announcement: string;
  /** Milliseconds until the shown second changes: when to call `countdown` again. */
  nextInMs: number;
}
"##;

/// What a sign-in page says about a login in `state` (a `LoginState`, or `"RECONNECTING"` while
/// an `error` event with `retryInMs` is the latest news); with `failure`, the message of an
/// error that ended it; with `login` (the `Login`, or any `{ number, denial }`), the number to
/// type on the phone and why it was denied. The words of the qrauth app's sign-in page.
#[wasm_bindgen(js_name = describeLogin, unchecked_return_type = "LoginProgress")]
pub fn describe_login(
    #[wasm_bindgen(unchecked_param_type = "LoginState | \"RECONNECTING\"")] state: &str,
    #[wasm_bindgen(unchecked_optional_param_type = "string | null")] failure: Option<String>,
    #[wasm_bindgen(
        unchecked_optional_param_type = "{ number?: string | null; denial?: string | null }"
    )]
    login: Option<JsValue>,
) -> Result<JsValue, JsValue> {
    let field = |name: &str| {
        login
            .as_ref()
            .and_then(|l| crate::browser::http::string_field(l, name))
    };
    let progress = match (failure, state) {
        (Some(why), _) => LoginProgress::Failed(why),
        (None, "RECONNECTING") => LoginProgress::Reconnecting,
        (None, name) => {
            let state = LoginState::from_name(name).ok_or_else(|| {
                error(
                    "login_state_unknown",
                    &format!("“{name}” is not a login state."),
                )
            })?;
            LoginProgress::of_news(
                state,
                field("number"),
                field("denial").and_then(|d| Denial::from_name(&d)),
            )
        }
    };
    Ok(Fields::new()
        .with("name", progress.name())
        .with("message", progress.message())
        .with("ended", progress.ended())
        .into_js())
}

/// The countdown of a code with `msLeft` milliseconds to live (`login.expiresInMs`): its text,
/// what screen readers hear, and when it next changes.
#[wasm_bindgen(unchecked_return_type = "Countdown")]
pub fn countdown(#[wasm_bindgen(js_name = msLeft)] ms_left: f64) -> JsValue {
    let seconds = countdown::seconds_left(ms_left);
    Fields::new()
        .with("seconds", seconds as f64)
        .with("text", countdown::countdown_text(seconds))
        .with("announcement", countdown::announcement(seconds))
        .with("nextInMs", countdown::ms_to_next_second(ms_left).round())
        .into_js()
}

/// Why there is no code to show, from the error `startLogin` or `startCodeLogin` rejected with.
#[wasm_bindgen(js_name = describeNoCode)]
pub fn describe_no_code(
    #[wasm_bindgen(unchecked_param_type = "{ code?: string; message: string }")] failure: &JsValue,
) -> String {
    let code = crate::browser::http::string_field(failure, "code").unwrap_or_default();
    let message = crate::browser::http::string_field(failure, "message").unwrap_or_default();
    no_code_message(&code, &message)
}

const PASSWORD_OPTION_NAMES: [&str; 3] = ["user", "password", "server"];

/// Signs in with a user name and password, the first factor of a person who has no token yet;
/// the server sets the session cookie. Rejects with `invalid_options` when a field is empty, or
/// the server's code (`invalid_credentials`, `rate_limited`, ...) with the words a page shows.
#[wasm_bindgen(js_name = signInWithPassword, unchecked_return_type = "Promise<PasswordSignedIn>")]
pub fn sign_in_with_password(
    #[wasm_bindgen(unchecked_param_type = "PasswordSignInOptions")] options: JsValue,
) -> js_sys::Promise {
    to_promise(async move {
        let given = option_object(options, &PASSWORD_OPTION_NAMES, "signInWithPassword")?;
        let field = |name| match &given {
            Some(given) => text_option(given, name, "signInWithPassword"),
            None => Ok(None),
        };
        let user = field("user")?
            .map(|u| u.trim().to_owned())
            .unwrap_or_default();
        let password = field("password")?.unwrap_or_default();
        if user.is_empty() || password.is_empty() {
            return Err(error("invalid_options", PASSWORD_FIELDS_EMPTY));
        }
        let server = field("server")?.unwrap_or_default();
        let user = LoginApi::new(&server)
            .sign_in_with_password(&user, &password)
            .await
            .map_err(|e| error(e.code(), &password_problem(&e)))?;
        Ok(Fields::new().with("user", user).into_js())
    })
}

/// The server's health as a page's footer says it (`Server ok · qrauth 0.1.0`, or why it is
/// not), from `GET /api/v1/health` of `server` (the page's own origin by default). Never rejects.
#[wasm_bindgen(js_name = describeServer, unchecked_return_type = "Promise<string>")]
pub fn describe_server(server: Option<String>) -> js_sys::Promise {
    to_promise(async move {
        Ok(
            crate::health::describe(server.as_deref().unwrap_or_default())
                .await
                .into(),
        )
    })
}
