//! `startCodeLogin`: signing in with a typed code when the phone cannot scan online. The page
//! asks for an offline login operation for a user, shows its QR to the user's token, and checks
//! the 16 digits the token gives, through the same calls and with the same words as the qrauth
//! app's "Use a code instead" ([`crate::operations`], [`crate::CodeVerdict`]).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use qrauth_core::CodeEntry;
use qrauth_core::wire::NewOperation;
use wasm_bindgen::prelude::*;

use super::{Fields, error, option_object, text_option, to_promise};
use crate::CodeVerdict;
use crate::clock::Clock;
use crate::code_input::entry_status;
use crate::operations::OperationApi;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r##"
/** How `startCodeLogin` runs. */
export interface StartCodeLoginOptions {
  /** Who signs in: the user name typed on the page. */
  user: string;
  /** The qrauth server's origin; the page's own by default. */
  server?: string;
}

/** What `CodeLogin.verify` resolves to: who is now signed in (the server set its session cookie). */
export interface CodeSignedIn {
  user: string;
  factors: string;
}
"##;

const OPTION_NAMES: [&str; 2] = ["user", "server"];

/// An offline sign-in in progress: the QR for the user's token, and the check of its code.
#[wasm_bindgen]
pub struct CodeLogin {
    server: String,
    operation: NewOperation,
    /// The payload shown now: with the proximity check, the latest step's.
    payload: Rc<RefCell<String>>,
    deadline_ms: f64,
}

/// Starts a sign-in with a typed code for `user`: resolves once the server made the login
/// operation whose QR the page shows (`qrText`).
///
/// Rejects with an `Error` whose `code` is `invalid_options` (no `user`), `network`, or the
/// server's own (`rate_limited`, ...).
#[wasm_bindgen(js_name = startCodeLogin, unchecked_return_type = "Promise<CodeLogin>")]
pub fn start_code_login(
    #[wasm_bindgen(unchecked_param_type = "StartCodeLoginOptions")] options: JsValue,
) -> js_sys::Promise {
    to_promise(async move { start(options).await.map(JsValue::from) })
}

async fn start(options: JsValue) -> Result<CodeLogin, JsValue> {
    let given = option_object(options, &OPTION_NAMES, "startCodeLogin")?;
    let (user, server) = match &given {
        Some(given) => (
            text_option(given, "user", "startCodeLogin")?,
            text_option(given, "server", "startCodeLogin")?.unwrap_or_default(),
        ),
        None => (None, String::new()),
    };
    let user = user
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty())
        .ok_or_else(|| error("invalid_options", "Type your user name."))?;
    let operation = OperationApi::new(&server)
        .create_login(&user)
        .await
        .map_err(|e| error(e.code(), &e.to_string()))?;
    Ok(CodeLogin {
        server,
        deadline_ms: Clock::Browser.now_ms() + operation.expires_in_ms as f64,
        payload: Rc::new(RefCell::new(operation.payload.clone())),
        operation,
    })
}

#[wasm_bindgen]
impl CodeLogin {
    /// The login operation's id.
    #[wasm_bindgen(getter, js_name = operationId)]
    pub fn operation_id(&self) -> String {
        self.operation.operation_id.clone()
    }

    /// What the QR shows: the offline payload the token scans (with the proximity check, the
    /// current step's; see `followPayload`).
    #[wasm_bindgen(getter, js_name = qrText)]
    pub fn qr_text(&self) -> String {
        self.payload.borrow().clone()
    }

    /// With the server's proximity check (spec §4.6) the payload changes every step, and a
    /// code is accepted only for the current or the previous one: calls `listener` with each
    /// new payload, to draw in place of the last, until the returned function is called or the
    /// operation no longer waits. Without it, nothing is ever called.
    #[wasm_bindgen(js_name = followPayload, unchecked_return_type = "() => void")]
    pub fn follow_payload(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(qrText: string) => void")]
        listener: js_sys::Function,
    ) -> JsValue {
        let following = Rc::new(Cell::new(true));
        if let Some(changes_in_ms) = self.operation.payload_changes_in_ms {
            let (server, id) = (self.server.clone(), self.operation.operation_id.clone());
            let (payload, still) = (Rc::clone(&self.payload), Rc::clone(&following));
            wasm_bindgen_futures::spawn_local(async move {
                OperationApi::new(&server)
                    .follow_payload(&id, changes_in_ms, |next| {
                        if !still.get() {
                            return false;
                        }
                        *payload.borrow_mut() = next.clone();
                        // A listener that throws must not stop the QR.
                        let _ = listener.call1(&JsValue::NULL, &next.into());
                        true
                    })
                    .await;
            });
        }
        Closure::once_into_js(move || following.set(false))
    }

    /// Milliseconds until the code expires, on the monotonic clock; 0 once past.
    #[wasm_bindgen(getter, js_name = expiresInMs)]
    pub fn expires_in_ms(&self) -> f64 {
        (self.deadline_ms - Clock::Browser.now_ms())
            .max(0.0)
            .round()
    }

    /// Checks the code the person typed (in any shape: spaces, dashes, 8-8). A right code signs
    /// this browser in: the server sets its session cookie. A code that is not complete is not
    /// sent.
    ///
    /// Rejects like [`verify_code`], but a wrong code is only `code_not_right`: nothing more is
    /// said to someone who signs in by a name.
    #[wasm_bindgen(unchecked_return_type = "Promise<CodeSignedIn>")]
    pub fn verify(&self, code: String) -> js_sys::Promise {
        checked(
            self.server.clone(),
            self.operation.operation_id.clone(),
            code,
            true,
        )
    }
}

/// Checks a code typed for any offline operation (a payment the signed-in person approves),
/// with the page's cookies, and says what the server said in words for the person.
///
/// Resolves when the code was right; rejects with an `Error` whose `message` is what to show
/// and whose `code` is `code_incomplete`, `code_wrong` (with `remainingAttempts`, the attempts
/// left before the token is blocked), `token_blocked`, `no_token`, or the server's
/// (`operation_expired`, `operation_already_approved`, `network`...).
#[wasm_bindgen(js_name = verifyCode, unchecked_return_type = "Promise<CodeSignedIn>")]
pub fn verify_code(
    #[wasm_bindgen(js_name = operationId)] operation_id: String,
    code: String,
    server: Option<String>,
) -> js_sys::Promise {
    checked(server.unwrap_or_default(), operation_id, code, false)
}

/// [`check`] as a Promise, for both exports.
fn checked(server: String, operation_id: String, code: String, login: bool) -> js_sys::Promise {
    to_promise(async move { check(&server, &operation_id, &code, login).await })
}

/// One check of a typed code, as the qrauth app's code field does it: a code that is not
/// complete is not sent.
async fn check(
    server: &str,
    operation_id: &str,
    code: &str,
    login: bool,
) -> Result<JsValue, JsValue> {
    let typed = match CodeEntry::read(code).code() {
        Ok(typed) => typed.canonical(),
        Err(_) => return Err(error("code_incomplete", &entry_status(code))),
    };
    let answer = OperationApi::new(server).verify(operation_id, &typed).await;
    let failure_code = match &answer {
        Err(e) => Some(e.code().to_owned()),
        Ok(_) => None,
    };
    match CodeVerdict::of(answer, login) {
        Ok(verdict) => Ok(Fields::new()
            .with("user", verdict.user.unwrap_or_default())
            .with("factors", verdict.factors.unwrap_or_default())
            .into_js()),
        Err(verdict) => {
            let code = failure_code.unwrap_or_else(|| verdict.code().into());
            let refused = error(&code, &verdict.message());
            if let CodeVerdict::Wrong { remaining } = verdict {
                let _ =
                    js_sys::Reflect::set(&refused, &"remainingAttempts".into(), &remaining.into());
            }
            Err(refused)
        }
    }
}
