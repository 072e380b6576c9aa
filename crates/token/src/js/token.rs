//! The software token of the full entry, `qrauth-token`.

use std::rc::Rc;

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::{error, read_options};
use crate::browser::{DEFAULT_DATABASE, LoginRequest, SoftwareToken};
use crate::review::OfflineOperation;
use crate::{CounterStanding, StoredActivation, TokenError};
use qrauth_core::OfflinePayload;

// The TypeScript declarations of what these functions take and give are generated from the Rust
// types by tsify (`derive(Tsify)` here, in `review.rs`, `activation.rs`, `browser/mod.rs`, and
// on the wire types of `qrauth_core::wire`), so they cannot drift from what serde writes.

/// Reads an offline QR payload and returns the operation as a person reads it (title and
/// message unescaped, amount with currency, IBAN grouped, date, flags). This does not check the
/// signature: a token does that with `SoftwareToken.reviewOffline`.
///
/// Throws an `Error` whose `code` says what is wrong (`payload_too_few_lines`, ...).
#[wasm_bindgen(js_name = parseOfflinePayload, unchecked_return_type = "OfflineOperation")]
pub fn parse_offline_payload(text: &str) -> Result<JsValue, JsValue> {
    let payload = OfflinePayload::parse(text).map_err(|e| token_error(TokenError::Payload(e)))?;
    to_js(&OfflineOperation::of(&payload))
}

/// An activation on this device, as pages see it. No keys ever leave the token.
#[derive(Serialize, tsify::Tsify)]
#[tsify(missing_as_null)]
#[serde(rename_all = "camelCase")]
struct Activation {
    activation_id: String,
    /// The API origin it belongs to.
    server: String,
    user: String,
    device_name: String,
    service_name: String,
    /// Eight digits to compare with the account page's.
    fingerprint: String,
    /// Milliseconds since the epoch.
    created_at: f64,
    #[serde(flatten)]
    counter: CounterStanding,
}

impl From<StoredActivation> for Activation {
    fn from(a: StoredActivation) -> Self {
        Activation {
            counter: a.standing(),
            activation_id: a.activation_id,
            server: a.server,
            user: a.user,
            device_name: a.device_name,
            service_name: a.service_name,
            fingerprint: a.fingerprint,
            created_at: a.created_at,
        }
    }
}

/// Options of `SoftwareToken.open`.
#[derive(Deserialize, Default, tsify::Tsify)]
#[serde(rename_all = "camelCase")]
struct TokenOptions {
    /// The API's origin, `https://login.example.com`; this page's origin by default.
    #[tsify(optional)]
    server: Option<String>,
    /// The IndexedDB database, `qrauth-token` by default.
    #[tsify(optional)]
    database: Option<String>,
}

/// Options of `SoftwareToken.activate`.
#[derive(Deserialize, Default, tsify::Tsify)]
#[serde(rename_all = "camelCase")]
struct ActivateOptions {
    /// The activation code as typed (`WQ3TE-BRPZM-CUU4F-CCL3Q`) or the activation QR's text.
    code: String,
    /// The new PIN, 4 to 64 characters.
    pin: String,
    /// The same PIN again.
    pin_again: String,
    /// How the account page will name this token; "Browser token" by default.
    #[tsify(optional)]
    device_name: Option<String>,
}

/// An offline code, with where the counter stands after it.
#[derive(Serialize, tsify::Tsify)]
#[tsify(missing_as_null)]
#[serde(rename_all = "camelCase")]
struct OfflineCode {
    /// To show: `1234-5678-9012-3456`.
    code: String,
    /// As the server takes it: `12345678-90123456`.
    canonical: String,
    #[serde(flatten)]
    counter: CounterStanding,
}

/// The software token: activations kept in this browser's IndexedDB, offline codes, and
/// approval of online logins. Make one with `SoftwareToken.open()`.
#[wasm_bindgen(js_name = SoftwareToken)]
pub struct JsSoftwareToken {
    token: Rc<SoftwareToken>,
}

#[wasm_bindgen(js_class = SoftwareToken)]
impl JsSoftwareToken {
    /// Opens the token. `server` is the API's origin (this page's origin by default);
    /// `database` the IndexedDB database name (`qrauth-token` by default).
    pub async fn open(
        #[wasm_bindgen(unchecked_optional_param_type = "TokenOptions")] options: Option<JsValue>,
    ) -> Result<JsSoftwareToken, JsValue> {
        let options = options.unwrap_or(JsValue::UNDEFINED);
        let options: TokenOptions =
            read_options(options, &["server", "database"], "SoftwareToken")?;
        let server = match options.server {
            Some(server) => server,
            None => js_sys::Reflect::get(&js_sys::global(), &"location".into())
                .and_then(|l| js_sys::Reflect::get(&l, &"origin".into()))
                .ok()
                .and_then(|o| o.as_string())
                .ok_or_else(|| {
                    error(
                        "invalid_options",
                        "There is no page origin here: give the server's origin as `server`.",
                    )
                })?,
        };
        let database = options.database.as_deref().unwrap_or(DEFAULT_DATABASE);
        let token = SoftwareToken::open(&server, database)
            .await
            .map_err(token_error)?;
        Ok(JsSoftwareToken {
            token: Rc::new(token),
        })
    }

    /// The activations on this device, oldest first.
    #[wasm_bindgen(unchecked_return_type = "Promise<Activation[]>")]
    pub fn activations(&self) -> js_sys::Promise {
        let token = self.token.clone();
        promise(async move {
            let all = token.activations().await?;
            Ok(all.into_iter().map(Activation::from).collect::<Vec<_>>())
        })
    }

    /// Activates with a typed activation code or the text of an activation QR, and the PIN
    /// typed twice. Resolves to the new activation, whose `fingerprint` the person compares
    /// with the one the account page shows.
    #[wasm_bindgen(unchecked_return_type = "Promise<Activation>")]
    pub fn activate(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ActivateOptions")] options: JsValue,
    ) -> Result<js_sys::Promise, JsValue> {
        let options: ActivateOptions = read_options(
            options,
            &["code", "pin", "pinAgain", "deviceName"],
            "activation",
        )?;
        let token = self.token.clone();
        Ok(promise(async move {
            let name = options.device_name.as_deref().unwrap_or("Browser token");
            let activation = token
                .activate(&options.code, &options.pin, &options.pin_again, name)
                .await?;
            Ok(Activation::from(activation))
        }))
    }

    /// Asks the server where an activation stands (`ACTIVE`, `BLOCKED`, `REMOVED`, attempts
    /// left) and learns how many of this token's codes it has seen.
    #[wasm_bindgen(unchecked_return_type = "Promise<TokenStanding>")]
    pub fn refresh(
        &self,
        #[wasm_bindgen(js_name = "activationId")] activation_id: String,
    ) -> js_sys::Promise {
        let token = self.token.clone();
        promise(async move { token.refresh(&activation_id).await })
    }

    /// Removes an activation from the server (signed) and from this device.
    #[wasm_bindgen(unchecked_return_type = "Promise<{ removedOnServer: boolean }>")]
    pub fn remove(
        &self,
        #[wasm_bindgen(js_name = "activationId")] activation_id: String,
    ) -> js_sys::Promise {
        let token = self.token.clone();
        promise(async move {
            #[derive(Serialize)]
            #[serde(rename_all = "camelCase")]
            struct Removed {
                removed_on_server: bool,
            }
            let removed_on_server = token.remove(&activation_id).await?;
            Ok(Removed { removed_on_server })
        })
    }

    /// Checks a scanned offline payload's signature with the activation's keys and resolves to
    /// the operation to show; rejects with `payload_signature_invalid` when it was not made by
    /// the server.
    #[wasm_bindgen(js_name = reviewOffline, unchecked_return_type = "Promise<OfflineOperation>")]
    pub fn review_offline(
        &self,
        #[wasm_bindgen(js_name = "activationId")] activation_id: String,
        payload: String,
    ) -> js_sys::Promise {
        let token = self.token.clone();
        promise(async move { token.review_offline(&activation_id, &payload).await })
    }

    /// Computes the offline code for a scanned payload with the PIN. The counter is saved
    /// before the code is returned; a wrong PIN gives a code the server refuses.
    #[wasm_bindgen(
        js_name = computeOfflineCode,
        unchecked_return_type = "Promise<OfflineCode>"
    )]
    pub fn compute_offline_code(
        &self,
        #[wasm_bindgen(js_name = "activationId")] activation_id: String,
        payload: String,
        pin: String,
    ) -> js_sys::Promise {
        let token = self.token.clone();
        promise(async move {
            let made = token.offline_code(&activation_id, &payload, &pin).await?;
            Ok(OfflineCode {
                code: made.code.display(),
                canonical: made.code.canonical(),
                counter: made.standing,
            })
        })
    }

    /// Attaches to the login in a `…/token#scan=…` link and resolves to who is asking.
    #[wasm_bindgen(js_name = attachLogin, unchecked_return_type = "Promise<LoginRequest>")]
    pub fn attach_login(&self, link: String) -> js_sys::Promise {
        let token = self.token.clone();
        promise(async move { token.attach_login(&link).await })
    }

    /// Approves a login with an activation and its PIN, and the two digits the sign-in page
    /// shows when the login asks for them (`request.numberMatching`): a wrong number denies the
    /// login (`number_mismatch`); one that is not two digits is refused here (`number_invalid`).
    #[wasm_bindgen(js_name = approveLogin, unchecked_return_type = "Promise<LoginDecision>")]
    pub fn approve_login(
        &self,
        #[wasm_bindgen(js_name = "activationId")] activation_id: String,
        #[wasm_bindgen(unchecked_param_type = "LoginRequest")] login: JsValue,
        pin: String,
        number: Option<String>,
    ) -> Result<js_sys::Promise, JsValue> {
        let login = login_request(login)?;
        let token = self.token.clone();
        Ok(promise(async move {
            token
                .approve_login(&activation_id, &login, &pin, number.as_deref())
                .await
        }))
    }

    /// Denies a login.
    #[wasm_bindgen(js_name = denyLogin, unchecked_return_type = "Promise<LoginDecision>")]
    pub fn deny_login(
        &self,
        #[wasm_bindgen(unchecked_param_type = "LoginRequest")] login: JsValue,
    ) -> Result<js_sys::Promise, JsValue> {
        let login = login_request(login)?;
        let token = self.token.clone();
        Ok(promise(async move { token.deny_login(&login).await }))
    }
}

/// Hands the token page its sign-in links: the `…/token#scan=…` link the page was opened with
/// (a phone's camera opens one from a sign-in QR), at once, and each one opened later while the
/// page is open (`hashchange`). Each link is taken out of the address before `callback` gets
/// it, so that a reload or the back button does not attach again. Returns the function that
/// stops listening.
#[wasm_bindgen(js_name = onScanLink, unchecked_return_type = "() => void")]
pub fn on_scan_link(
    #[wasm_bindgen(unchecked_param_type = "(link: string) => void")] callback: js_sys::Function,
) -> Result<JsValue, JsValue> {
    let window = web_sys::window().ok_or_else(|| {
        error(
            "unsupported",
            "onScanLink needs a page: there is no window here.",
        )
    })?;
    let hand_over = move || {
        if let Some(link) = crate::browser::take_scan_link() {
            // A callback that throws must not stop the links that come later.
            let _ = callback.call1(&JsValue::NULL, &link.into());
        }
    };
    hand_over();
    let listener = Closure::<dyn FnMut()>::new(hand_over);
    window.add_event_listener_with_callback("hashchange", listener.as_ref().unchecked_ref())?;
    Ok(Closure::once_into_js(move || {
        let _ = window
            .remove_event_listener_with_callback("hashchange", listener.as_ref().unchecked_ref());
    }))
}

fn login_request(value: JsValue) -> Result<LoginRequest, JsValue> {
    serde_wasm_bindgen::from_value(value).map_err(|e| {
        error(
            "invalid_options",
            &format!("Give the login that attachLogin resolved to: {e}."),
        )
    })
}

/// Runs `work` as a Promise that resolves to its value or rejects with an `Error` with a code.
fn promise<T: Serialize>(
    work: impl Future<Output = Result<T, TokenError>> + 'static,
) -> js_sys::Promise {
    future_to_promise(async move {
        match work.await {
            Ok(value) => to_js(&value),
            Err(e) => Err(token_error(e)),
        }
    })
}

fn token_error(e: TokenError) -> JsValue {
    error(e.code(), &e.to_string())
}

/// Plain objects, as the types in the README: serde writes a struct with a flattened part
/// (`Activation`, `OfflineCode`) as a map, which would otherwise become a JavaScript `Map`
/// whose fields `activation.activationId` cannot read.
fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(
            &serde_wasm_bindgen::Serializer::new()
                .serialize_missing_as_null(true)
                .serialize_maps_as_objects(true),
        )
        .map_err(|e| error("internal", &e.to_string()))
}
