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

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r##"
/** One field of an operation, as a person reads it. */
export type DisplayField =
  | { kind: "amount"; amount: string; currency: string; /** `1250.00 EUR` */ value: string }
  | { kind: "iban"; iban: string; bic: string | null; /** in groups of four */ value: string }
  | { kind: "account" | "date" | "reference" | "note" | "text"; value: string };

/** The operation in an offline QR code. */
export interface OfflineOperation {
  operationId: string;
  /** Unescaped. */
  title: string;
  /** Unescaped. */
  message: string;
  /** Operation data template, `A1` for a payment, `A2` for a login. */
  template: string;
  fields: DisplayField[];
  flags: {
    /** `B`: biometry may replace the PIN. */
    biometryAllowed: boolean;
    /** `X`: put Reject where Approve usually is. */
    swapButtons: boolean;
    /** `F`: show a fraud warning before approval. */
    fraudWarning: boolean;
    /** `C`: warn against approving during a phone call. */
    callWarning: boolean;
  };
  /** 0: signed with the application's master key; 1: with the activation's server key. */
  keyType: 0 | 1;
}

/** Where an activation's counter stands: codes the server has not seen yet. */
export interface CounterStanding {
  /** Codes and signatures made since the server last confirmed the counter. */
  unconfirmed: number;
  /** How many counter values past its own the server tries (20). */
  lookahead: number;
  /** A message for the person when few codes are left before the server refuses them. */
  warning: string | null;
}

/** An activation on this device. No keys ever leave the token. */
export interface Activation extends CounterStanding {
  activationId: string;
  /** The API origin it belongs to. */
  server: string;
  user: string;
  deviceName: string;
  serviceName: string;
  /** Eight digits to compare with the account page's. */
  fingerprint: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
}

/** Where an activation stands on the server. */
export interface ActivationStatus {
  status: "CREATED" | "ACTIVE" | "BLOCKED" | "REMOVED";
  remainingAttempts: number;
  blockedReason: string | null;
  /** Counter steps the server has accepted. */
  counter: number;
}

/** An offline code. */
export interface OfflineCode extends CounterStanding {
  /** To show: `1234-5678-9012-3456`. */
  code: string;
  /** As the server takes it: `12345678-90123456`. */
  canonical: string;
}

/** A login the token attached to: who is asking. */
export interface LoginRequest {
  loginId: string;
  scanCode: string;
  state: string;
  service: string;
  /** Such as `Chrome 131 on Linux`. */
  browser: string;
  address: string;
  /** Milliseconds since the epoch. */
  requestedAt: number;
  expiresAt: number;
}

/** A login after the token decided. */
export interface LoginDecision {
  loginId: string;
  state: "APPROVED" | "DENIED";
}

/** Options of `SoftwareToken.open`. */
export interface TokenOptions {
  /** The API's origin, `https://login.example.com`; this page's origin by default. */
  server?: string;
  /** The IndexedDB database, `qrauth-token` by default. */
  database?: string;
}

/** Options of `SoftwareToken.activate`. */
export interface ActivateOptions {
  /** The activation code as typed (`WQ3TE-BRPZM-CUU4F-CCL3Q`) or the activation QR's text. */
  code: string;
  /** The new PIN, 4 to 64 characters. */
  pin: string;
  /** The same PIN again. */
  pinAgain: string;
  /** How the account page will name this token; "Browser token" by default. */
  deviceName?: string;
}
"##;

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

/// An activation on this device, as pages see it: no keys.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ActivationView {
    activation_id: String,
    server: String,
    user: String,
    device_name: String,
    service_name: String,
    fingerprint: String,
    created_at: f64,
    #[serde(flatten)]
    counter: CounterStanding,
}

impl From<StoredActivation> for ActivationView {
    fn from(a: StoredActivation) -> Self {
        ActivationView {
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

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct OpenOptions {
    server: Option<String>,
    database: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ActivateOptions {
    code: String,
    pin: String,
    pin_again: String,
    device_name: Option<String>,
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
        let options: OpenOptions = read_options(options, &["server", "database"], "SoftwareToken")?;
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
            Ok(all
                .into_iter()
                .map(ActivationView::from)
                .collect::<Vec<_>>())
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
            Ok(ActivationView::from(activation))
        }))
    }

    /// Asks the server where an activation stands (`ACTIVE`, `BLOCKED`, `REMOVED`, attempts
    /// left) and learns how many of this token's codes it has seen.
    #[wasm_bindgen(unchecked_return_type = "Promise<ActivationStatus>")]
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
            #[derive(Serialize)]
            #[serde(rename_all = "camelCase")]
            struct Code {
                code: String,
                canonical: String,
                #[serde(flatten)]
                counter: CounterStanding,
            }
            let made = token.offline_code(&activation_id, &payload, &pin).await?;
            Ok(Code {
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

    /// Approves a login with an activation and its PIN.
    #[wasm_bindgen(js_name = approveLogin, unchecked_return_type = "Promise<LoginDecision>")]
    pub fn approve_login(
        &self,
        #[wasm_bindgen(js_name = "activationId")] activation_id: String,
        #[wasm_bindgen(unchecked_param_type = "LoginRequest")] login: JsValue,
        pin: String,
    ) -> Result<js_sys::Promise, JsValue> {
        let login = login_request(login)?;
        let token = self.token.clone();
        Ok(promise(async move {
            token.approve_login(&activation_id, &login, &pin).await
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
