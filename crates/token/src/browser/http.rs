//! Calls to the qrauth API (`docs/api.md`) with `fetch`: the token's, and the app's pages'.

use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestCredentials, RequestInit, Response};

use crate::TokenError;

#[wasm_bindgen]
extern "C" {
    /// The global `fetch`, in windows, workers and Node.js alike.
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(request: &Request) -> js_sys::Promise;
}

/// A JSON body as the exact text sent, so that a signature can cover its bytes.
pub fn json_text<T: Serialize>(value: &T) -> Result<String, TokenError> {
    let value = serde_wasm_bindgen::to_value(value)
        .map_err(|e| TokenError::BadAnswer(format!("cannot write the request: {e}")))?;
    js_sys::JSON::stringify(&value)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| TokenError::BadAnswer("cannot write the request".into()))
}

/// A JSON object of string fields, written by the browser's `JSON.stringify` rather than serde
/// (a page that sends only such bodies carries no serializer).
pub fn text_object(fields: &[(&str, &str)]) -> String {
    let object = js_sys::Object::new();
    for (name, value) in fields {
        // Setting a property on a fresh plain object cannot fail.
        let _ = js_sys::Reflect::set(&object, &(*name).into(), &(*value).into());
    }
    js_sys::JSON::stringify(&object)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}

/// One API endpoint on one server.
pub struct Call<'a> {
    method: &'a str,
    url: String,
    body: Option<&'a str>,
    signature: Option<&'a str>,
    bearer: Option<&'a str>,
    credentials: RequestCredentials,
    abort: Option<&'a web_sys::AbortSignal>,
}

impl<'a> Call<'a> {
    /// `method` on `path` under `server`'s `/api/v1`.
    pub fn new(server: &str, method: &'a str, path: &str) -> Self {
        Call {
            method,
            url: format!("{}/api/v1{path}", server.trim_end_matches('/')),
            body: None,
            signature: None,
            bearer: None,
            // A token proves itself with its keys, never with the page's cookies.
            credentials: RequestCredentials::Omit,
            abort: None,
        }
    }

    /// Ends the request, answered or not, when `signal` is aborted.
    pub fn abort_with(mut self, signal: &'a web_sys::AbortSignal) -> Self {
        self.abort = Some(signal);
        self
    }

    /// Sends the page's cookies with a same-origin request: what a signed-in page does.
    pub fn with_cookies(mut self) -> Self {
        self.credentials = RequestCredentials::SameOrigin;
        self
    }

    /// Adds `Authorization: Bearer <secret>`, such as a login session's poll secret.
    pub fn bearer(mut self, secret: &'a str) -> Self {
        self.bearer = Some(secret);
        self
    }

    /// Sends `body` as JSON.
    pub fn body(mut self, body: &'a str) -> Self {
        self.body = Some(body);
        self
    }

    /// Adds the `X-PowerAuth-Authorization` header.
    pub fn signed(mut self, header: &'a str) -> Self {
        self.signature = Some(header);
        self
    }

    /// Sends the request and reads a JSON answer; an answer outside 2xx becomes
    /// [`TokenError::Server`] with the server's code and message.
    pub async fn json<T: DeserializeOwned>(self) -> Result<T, TokenError> {
        from_json(self.json_value().await?)
    }

    /// [`Call::json`] without serde: the parsed JSON, for readers written by hand, which keep a
    /// page's wasm small.
    pub async fn json_value(self) -> Result<JsValue, TokenError> {
        let (status, text) = self.send().await?;
        parse_json(status, &text)
    }

    /// Sends the request when no answer body is expected.
    pub async fn empty(self) -> Result<(), TokenError> {
        self.send().await.map(|_| ())
    }

    async fn send(self) -> Result<(u16, String), TokenError> {
        let headers = Headers::new().map_err(network)?;
        if self.body.is_some() {
            headers
                .set("Content-Type", "application/json")
                .map_err(network)?;
        }
        if let Some(signature) = self.signature {
            headers
                .set(qrauth_core::signature::AUTHORIZATION_HEADER, signature)
                .map_err(network)?;
        }
        if let Some(secret) = self.bearer {
            headers
                .set("Authorization", &format!("Bearer {secret}"))
                .map_err(network)?;
        }
        let init = RequestInit::new();
        init.set_method(self.method);
        init.set_headers(&headers);
        init.set_credentials(self.credentials);
        if let Some(body) = self.body {
            init.set_body(&body.into());
        }
        if let Some(signal) = self.abort {
            init.set_signal(Some(signal));
        }
        let request = Request::new_with_str_and_init(&self.url, &init).map_err(network)?;
        read(global_fetch(&request)).await
    }
}

/// The JSON answer of a request that the page sent itself before its wasm ran (the `fetch`
/// Promise of the `Response`, such as the sign-in page's first login from its start-up script),
/// read as [`Call::json_value`] reads its own: a `fetch` that a page's `created` option hands
/// over is no different from one made here.
pub async fn answered(request: js_sys::Promise) -> Result<JsValue, TokenError> {
    let (status, text) = read(request).await?;
    parse_json(status, &text)
}

/// The status and body of a `fetch`'s answer; outside 2xx, the server's error.
async fn read(response: js_sys::Promise) -> Result<(u16, String), TokenError> {
    let response: Response = JsFuture::from(response)
        .await
        .map_err(network)?
        .dyn_into()
        .map_err(network)?;
    let text = JsFuture::from(response.text().map_err(network)?)
        .await
        .map_err(network)?
        .as_string()
        .unwrap_or_default();
    let retry_after = response
        .headers()
        .get("Retry-After")
        .ok()
        .flatten()
        .and_then(|seconds| seconds.trim().parse().ok());
    let status = response.status();
    if (200..300).contains(&status) {
        Ok((status, text))
    } else {
        Err(server_error(status, &text, retry_after))
    }
}

fn parse_json(status: u16, text: &str) -> Result<JsValue, TokenError> {
    js_sys::JSON::parse(text)
        .map_err(|_| TokenError::BadAnswer(format!("HTTP {status} with a body that is not JSON")))
}

fn from_json<T: DeserializeOwned>(value: JsValue) -> Result<T, TokenError> {
    serde_wasm_bindgen::from_value(value).map_err(|e| TokenError::BadAnswer(e.to_string()))
}

/// A string field of a JSON object, `None` when it is missing or not a string.
pub fn string_field(object: &JsValue, name: &str) -> Option<String> {
    js_sys::Reflect::get(object, &name.into())
        .ok()
        .and_then(|value| value.as_string())
}

/// The fields of an answer read by hand rather than with serde, so that a page's wasm carries
/// no deserializer; a field that is missing or of another type is an error that names it.
pub mod field {
    use wasm_bindgen::JsValue;

    use super::string_field;
    use crate::TokenError;

    /// A string.
    pub fn text(answer: &JsValue, name: &str) -> Result<String, TokenError> {
        string_field(answer, name).ok_or_else(|| not(name, "a string"))
    }

    /// A string, or `None` when the field is `null` or absent.
    pub fn optional_text(answer: &JsValue, name: &str) -> Result<Option<String>, TokenError> {
        match value(answer, name) {
            None => Ok(None),
            Some(v) => v.as_string().map(Some).ok_or_else(|| not(name, "a string")),
        }
    }

    /// A whole number of at least 0 that a double holds exactly.
    pub fn whole_number(answer: &JsValue, name: &str) -> Result<f64, TokenError> {
        value(answer, name)
            .and_then(|v| v.as_f64())
            .filter(|n| n.fract() == 0.0 && (0.0..=9_007_199_254_740_991.0).contains(n))
            .ok_or_else(|| not(name, "a whole number"))
    }

    /// A whole number, or `None` when the field is `null` or absent.
    pub fn optional_whole_number(answer: &JsValue, name: &str) -> Result<Option<f64>, TokenError> {
        match value(answer, name) {
            None => Ok(None),
            Some(_) => whole_number(answer, name).map(Some),
        }
    }

    /// `true` or `false`.
    pub fn boolean(answer: &JsValue, name: &str) -> Result<bool, TokenError> {
        value(answer, name)
            .and_then(|v| v.as_bool())
            .ok_or_else(|| not(name, "true or false"))
    }

    /// A name from a fixed set (a state, a status), read by `from_name`; a name this code does
    /// not know is an error, never taken for another.
    pub fn named<T>(
        answer: &JsValue,
        name: &str,
        from_name: impl Fn(&str) -> Option<T>,
    ) -> Result<T, TokenError> {
        let given = text(answer, name)?;
        from_name(&given).ok_or_else(|| {
            TokenError::BadAnswer(format!("the answer's “{name}” “{given}” is unknown"))
        })
    }

    fn value(answer: &JsValue, name: &str) -> Option<JsValue> {
        js_sys::Reflect::get(answer, &name.into())
            .ok()
            .filter(|v| !v.is_undefined() && !v.is_null())
    }

    fn not(name: &str, what: &str) -> TokenError {
        TokenError::BadAnswer(format!("the answer's “{name}” is not {what}"))
    }
}

/// The server's `{"error": {"code", "message"}}`, or a description of what came instead. Read
/// by hand, so that a page that reads its answers without serde carries none for its errors.
fn server_error(status: u16, text: &str, retry_after_seconds: Option<u32>) -> TokenError {
    let error = js_sys::JSON::parse(text)
        .ok()
        .filter(JsValue::is_object)
        .and_then(|body| js_sys::Reflect::get(&body, &"error".into()).ok())
        .filter(JsValue::is_object);
    let fields =
        error.and_then(|e| Some((string_field(&e, "code")?, string_field(&e, "message")?)));
    match fields {
        Some((code, message)) => TokenError::Server {
            status,
            code,
            message,
            retry_after_seconds,
        },
        None => TokenError::BadAnswer(format!("HTTP {status} without an error body")),
    }
}

fn network(error: JsValue) -> TokenError {
    let detail = error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "the request failed".into());
    TokenError::Network(detail)
}
