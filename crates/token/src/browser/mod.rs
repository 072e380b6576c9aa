//! The software token in the browser: activations in IndexedDB, calls to the server with
//! `fetch`, randomness from `crypto.getRandomValues`.

pub mod http;
mod store;

use qrauth_core::activation::verify_activation_qr;
use qrauth_core::keys::PrivateKey;
use qrauth_core::signature::{ACTIVATION_REMOVE_URI_ID, LOGIN_APPROVE_URI_ID};
use qrauth_core::wire::{
    ApplicationInfo, CommitRequest, Committed, LoginApproval, LoginDecision, Requester, ScanCode,
    TokenStanding,
};
use qrauth_core::{ActivationCode, AuthCode, OfflinePayload, PublicKey};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use crate::TokenError;
use crate::activation::{CounterStanding, NewActivation, StoredActivation, find_signer};
use crate::error::check_new_pin;
use crate::review::OfflineOperation;
use http::{Call, json_text};
use store::Store;

#[wasm_bindgen]
extern "C" {
    /// The global `crypto.getRandomValues`, in windows, workers and Node.js alike.
    #[wasm_bindgen(catch, js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buffer: &mut [u8]) -> Result<JsValue, JsValue>;
}

/// `N` bytes from the browser's cryptographic random source.
fn random<const N: usize>() -> Result<[u8; N], TokenError> {
    let mut bytes = [0u8; N];
    get_random_values(&mut bytes).map_err(|_| {
        TokenError::Storage("this environment has no crypto.getRandomValues".into())
    })?;
    Ok(bytes)
}

/// Milliseconds since the epoch.
fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// The IndexedDB database a token uses unless told otherwise.
pub const DEFAULT_DATABASE: &str = "qrauth-token";

/// A software token: the activations on this device and what they can do.
pub struct SoftwareToken {
    server: String,
    store: Store,
}

/// An offline code, with where the counter stands after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfflineCode {
    /// The code; show [`AuthCode::display`], `1234-5678-9012-3456`.
    pub code: AuthCode,
    /// Codes the server has not seen, and the warning when few are left.
    pub standing: CounterStanding,
}

/// A login the token attached to: who is asking (as the server answered), and the scan code
/// from the QR, which approving and denying repeat.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify), tsify(missing_as_null))]
#[serde(rename_all = "camelCase")]
pub struct LoginRequest {
    /// Who is asking.
    #[serde(flatten)]
    pub requester: Requester,
    /// The scan code from the QR.
    pub scan_code: String,
}

impl SoftwareToken {
    /// Opens the token whose activations live in the IndexedDB database `database`, talking to
    /// the API at `server` (an origin such as `https://login.example.com`).
    pub async fn open(server: &str, database: &str) -> Result<Self, TokenError> {
        Ok(SoftwareToken {
            server: server.trim_end_matches('/').to_owned(),
            store: Store::open(database).await?,
        })
    }

    /// The activations on this device, oldest first.
    pub async fn activations(&self) -> Result<Vec<StoredActivation>, TokenError> {
        let mut all = self.store.all().await?;
        all.sort_by(|a, b| a.created_at.total_cmp(&b.created_at));
        Ok(all)
    }

    /// One activation on this device.
    pub async fn activation(&self, id: &str) -> Result<StoredActivation, TokenError> {
        self.store
            .get(id)
            .await?
            .ok_or_else(|| TokenError::UnknownActivation(id.to_owned()))
    }

    /// Activates with a typed activation code or the text of an activation QR (whose signature
    /// is checked first): makes a P-256 key pair, commits it, derives the keys, and stores the
    /// activation with the knowledge key under `pin`, which must equal `pin_again`.
    pub async fn activate(
        &self,
        code_or_qr: &str,
        pin: &str,
        pin_again: &str,
        device_name: &str,
    ) -> Result<StoredActivation, TokenError> {
        check_new_pin(pin, pin_again)?;
        let text = code_or_qr.trim();
        // A typed code is checked before anything is sent: a typo gets its reason at once.
        let typed = if text.contains('#') {
            None
        } else {
            Some(ActivationCode::parse(text).map_err(TokenError::ActivationCode)?)
        };
        let application: ApplicationInfo = Call::new(&self.server, "GET", "/application")
            .json()
            .await?;
        let code = match typed {
            Some(code) => code,
            None => {
                let master =
                    PublicKey::from_base64(&application.master_public_key).map_err(|_| {
                        TokenError::BadAnswer("masterPublicKey is not a valid key".into())
                    })?;
                verify_activation_qr(text, &master).map_err(TokenError::ActivationQr)?
            }
        };
        let device = loop {
            // Almost every 32 random bytes are a valid scalar; the loop is for the others.
            if let Ok(key) = PrivateKey::from_random(&random::<32>()?) {
                break key;
            }
        };
        let body = json_text(&CommitRequest {
            activation_code: code.as_str().to_owned(),
            device_public_key: device.public_key().to_base64(),
            device_name: Some(device_name.to_owned()),
        })?;
        let answer: Committed = Call::new(&self.server, "POST", "/token/activations")
            .body(&body)
            .json()
            .await?;
        let activation = StoredActivation::derive(NewActivation {
            server: &self.server,
            device: &device,
            answer,
            device_name,
            service_name: &application.service_name,
            pin,
            salt: random::<16>()?,
            now: now_ms(),
        })?;
        self.store.put(&activation).await?;
        Ok(activation)
    }

    /// Asks the server where activation `id` stands, and learns from its counter how many
    /// codes the server has seen.
    pub async fn refresh(&self, id: &str) -> Result<TokenStanding, TokenError> {
        let activation = self.activation(id).await?;
        let status: TokenStanding = Call::new(
            &activation.server,
            "GET",
            &format!("/token/activations/{id}"),
        )
        .json()
        .await?;
        self.confirm(id, status.counter).await?;
        Ok(status)
    }

    /// Removes activation `id` from the server (signed with possession) and from this device.
    /// The device forgets it whatever the server answers, as long as the server answered;
    /// returns whether the server removed it too.
    pub async fn remove(&self, id: &str) -> Result<bool, TokenError> {
        let nonce = random::<16>()?;
        let (used, _) = self.store.update(id, StoredActivation::advanced).await?;
        let header = used.sign_possession(ACTIVATION_REMOVE_URI_ID, b"{}", &nonce)?;
        let removed = Call::new(
            &used.server,
            "POST",
            &format!("/token/activations/{id}/remove"),
        )
        .body("{}")
        .signed(&header)
        .empty()
        .await;
        let on_server = match removed {
            Ok(()) => true,
            Err(TokenError::Server { .. }) => false,
            Err(e) => return Err(e),
        };
        self.store.delete(id).await?;
        Ok(on_server)
    }

    /// Checks a scanned offline payload against activation `id`'s keys and returns the
    /// operation to show. A payload whose signature fails is refused with the reason.
    pub async fn review_offline(
        &self,
        id: &str,
        payload: &str,
    ) -> Result<OfflineOperation, TokenError> {
        let payload = OfflinePayload::parse(payload)?;
        self.activation(id).await?.check_payload(&payload)?;
        Ok(OfflineOperation::of(&payload))
    }

    /// Finds the activation on this device whose server signed a scanned payload, and returns
    /// it with the operation to show. With no activation, [`TokenError::NoActivation`]; when
    /// no activation's keys verify the signature, [`TokenError::PayloadSignature`].
    pub async fn review_scanned(
        &self,
        payload: &str,
    ) -> Result<(StoredActivation, OfflineOperation), TokenError> {
        let payload = OfflinePayload::parse(payload)?;
        let activations = self.activations().await?;
        let signer = find_signer(&activations, &payload)?;
        Ok((signer.clone(), OfflineOperation::of(&payload)))
    }

    /// The offline code for a scanned payload, with `pin`. In one transaction the payload's
    /// signature is checked and the counter advanced in storage; only then is the code made. A
    /// refused payload spends no counter.
    pub async fn offline_code(
        &self,
        id: &str,
        payload: &str,
        pin: &str,
    ) -> Result<OfflineCode, TokenError> {
        let payload = OfflinePayload::parse(payload)?;
        let (used, now) = self
            .store
            .update(id, |a| {
                a.check_payload(&payload)?;
                a.advanced()
            })
            .await?;
        Ok(OfflineCode {
            code: used.offline_code(&payload, pin)?,
            standing: now.standing(),
        })
    }

    /// Attaches to the login named by a `…/token#scan=<code>` link (or the bare scan code) and
    /// returns who is asking. The page that showed the QR sees `SCANNED`.
    pub async fn attach_login(&self, link: &str) -> Result<LoginRequest, TokenError> {
        let scan_code = scan_code(link)?;
        let body = json_text(&ScanCode {
            scan_code: scan_code.clone(),
        })?;
        let requester: Requester = Call::new(&self.server, "POST", "/token/logins/attach")
            .body(&body)
            .json()
            .await?;
        Ok(LoginRequest {
            requester,
            scan_code,
        })
    }

    /// Approves `login` with activation `id` and `pin`, signed (possession and knowledge), and,
    /// when the login asks for it (`number_matching`), the two digits its page shows. A wrong
    /// PIN is refused by the server and counts as a failed attempt there; a wrong number denies
    /// the login (`number_mismatch`).
    pub async fn approve_login(
        &self,
        id: &str,
        login: &LoginRequest,
        pin: &str,
        number: Option<&str>,
    ) -> Result<LoginDecision, TokenError> {
        let number = if login.requester.number_matching {
            let typed = number.map(str::trim).unwrap_or_default();
            if typed.len() != 2 || !typed.bytes().all(|b| b.is_ascii_digit()) {
                return Err(TokenError::MatchingNumber);
            }
            Some(typed.to_owned())
        } else {
            None
        };
        let body = json_text(&LoginApproval {
            scan_code: login.scan_code.clone(),
            number,
        })?;
        let nonce = random::<16>()?;
        let (used, _) = self.store.update(id, StoredActivation::advanced).await?;
        let header = used.sign_with_pin(LOGIN_APPROVE_URI_ID, body.as_bytes(), pin, &nonce)?;
        let decision: LoginDecision = Call::new(
            &used.server,
            "POST",
            &format!("/token/logins/{}/approve", login.requester.login_id),
        )
        .body(&body)
        .signed(&header)
        .json()
        .await?;
        // The server accepted the signature made at `used.counter`, so it has seen every code
        // up to it.
        self.confirm(id, used.counter + 1).await?;
        Ok(decision)
    }

    /// Denies `login`: the page that showed the QR sees `DENIED`.
    pub async fn deny_login(&self, login: &LoginRequest) -> Result<LoginDecision, TokenError> {
        let body = json_text(&ScanCode {
            scan_code: login.scan_code.clone(),
        })?;
        Call::new(
            &self.server,
            "POST",
            &format!("/token/logins/{}/deny", login.requester.login_id),
        )
        .body(&body)
        .json()
        .await
    }

    /// Records that the server has accepted `counter` steps.
    async fn confirm(&self, id: &str, counter: u64) -> Result<(), TokenError> {
        self.store
            .update(id, |a| Ok(a.with_server_counter(counter)))
            .await
            .map(|_| ())
    }
}

/// The scan code in a login link (`https://…/token#scan=<code>.<step>.<mac>`), or the code
/// itself: the login's code with the frame of the animated QR that was scanned. Whether the
/// frame is the login's and fresh is the server's to say (`qrauth_core::frame`).
pub fn scan_code(link: &str) -> Result<String, TokenError> {
    let link = link.trim();
    let code = match link.split_once("#scan=") {
        Some((_, code)) => code,
        None if !link.contains(['/', '#', ':']) => link,
        None => return Err(TokenError::ScanCode),
    };
    let code = code.split('&').next().unwrap_or_default();
    if code.is_empty()
        || code.len() > 96
        || !code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(TokenError::ScanCode);
    }
    Ok(code.to_owned())
}

/// The `#scan=` link this page was opened with (a phone's camera opens one from a sign-in QR),
/// taken out of the address so that a reload or the back button does not attach again.
pub fn take_scan_link() -> Option<String> {
    let window = web_sys::window()?;
    let location = window.location();
    if !location.hash().ok()?.starts_with("#scan=") {
        return None;
    }
    let href = location.href().ok()?;
    let path = location.pathname().unwrap_or_else(|_| "/token".into());
    let query = location.search().unwrap_or_default();
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&format!("{path}{query}")));
    }
    Some(href)
}
