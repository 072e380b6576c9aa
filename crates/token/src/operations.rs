//! A page's calls for offline operations (`docs/api.md`, "Offline operations"): an offline
//! sign-in's login operation, and the typed code checked against any operation. Used by the
//! qrauth app's pages and the npm package's `<qrauth-sign-in>` alike; answers are read by hand,
//! as in [`crate::sign_in`], so that a sign-in page's wasm carries no deserializer.

use qrauth_core::ActivationStatus;
use qrauth_core::wire::{NewOperation, OperationState, Verdict};
use wasm_bindgen::JsValue;

use crate::TokenError;
use crate::browser::http::field::{
    boolean, named, optional_text, optional_whole_number, text, whole_number,
};
use crate::browser::http::{Call, text_object};

/// The operations API at `server` (an origin, or `""` for the page's own).
#[derive(Clone, Copy)]
pub struct OperationApi<'a> {
    server: &'a str,
}

impl<'a> OperationApi<'a> {
    /// The API at `server`.
    pub fn new(server: &'a str) -> Self {
        OperationApi { server }
    }

    /// An offline login operation for `user`: its QR goes to the user's token, whose code signs
    /// this browser in.
    pub async fn create_login(&self, user: &str) -> Result<NewOperation, TokenError> {
        let body = text_object(&[("type", "login"), ("user", user)]);
        let answer = Call::new(self.server, "POST", "/operations")
            .body(&body)
            .json_value()
            .await?;
        read_new_operation(&answer)
    }

    /// The payload operation `operation_id`'s QR shows now, and, with the proximity check, the
    /// milliseconds until it changes (`None`: it will not, the operation no longer waits).
    pub async fn current_payload(
        &self,
        operation_id: &str,
    ) -> Result<(String, Option<u64>), TokenError> {
        let answer = Call::new(self.server, "GET", &format!("/operations/{operation_id}"))
            .json_value()
            .await?;
        let changes_in = optional_whole_number(&answer, "payloadChangesInMs")?.map(|ms| ms as u64);
        Ok((text(&answer, "payload")?, changes_in))
    }

    /// Follows a proximity payload (spec §4.6) that changes every step: from `changes_in_ms`
    /// on, gets the next one at the end of each step and hands it to `show`, until the
    /// operation no longer waits or `show` says the page no longer shows it. A failed request
    /// is tried again a second later. The one loop behind the qrauth app's pages and the npm
    /// package's `CodeLogin`.
    pub async fn follow_payload(
        &self,
        operation_id: &str,
        changes_in_ms: u64,
        show: impl Fn(String) -> bool,
    ) {
        let mut wait = changes_in_ms;
        loop {
            crate::clock::Clock::Browser.sleep(wait as f64).await;
            match self.current_payload(operation_id).await {
                Ok((payload, Some(next))) => {
                    if !show(payload) {
                        return;
                    }
                    wait = next;
                }
                // Approved or expired: what the page shows now stays.
                Ok((_, None)) => return,
                Err(_) => wait = 1_000,
            }
        }
    }

    /// Checks a typed code against an operation; `code` as typed, or normalized. The page's
    /// cookies go with it: a right code for a login operation signs this browser in.
    pub async fn verify(&self, operation_id: &str, code: &str) -> Result<Verdict, TokenError> {
        let body = text_object(&[("code", code)]);
        let answer = Call::new(
            self.server,
            "POST",
            &format!("/operations/{operation_id}/verify"),
        )
        .with_cookies()
        .body(&body)
        .json_value()
        .await?;
        read_verdict(&answer)
    }
}

/// `POST /operations`' answer.
pub fn read_new_operation(answer: &JsValue) -> Result<NewOperation, TokenError> {
    Ok(NewOperation {
        operation_id: text(answer, "operationId")?,
        kind: text(answer, "kind")?,
        payload: text(answer, "payload")?,
        nonce: text(answer, "nonce")?,
        key_type: u8::try_from(whole_number(answer, "keyType")? as u64)
            .map_err(|_| TokenError::BadAnswer("the answer's “keyType” is not 0 or 1".into()))?,
        expires_at: whole_number(answer, "expiresAt")? as i64,
        expires_in_ms: whole_number(answer, "expiresInMs")? as u64,
        payload_changes_in_ms: optional_whole_number(answer, "payloadChangesInMs")?
            .map(|ms| ms as u64),
    })
}

/// `POST /operations/{id}/verify`'s answer.
pub fn read_verdict(answer: &JsValue) -> Result<Verdict, TokenError> {
    let activation_status = match optional_text(answer, "activationStatus")? {
        None => None,
        Some(_) => Some(named(
            answer,
            "activationStatus",
            ActivationStatus::from_name,
        )?),
    };
    Ok(Verdict {
        valid: boolean(answer, "valid")?,
        operation_state: named(answer, "operationState", OperationState::from_name)?,
        remaining_attempts: u32::try_from(whole_number(answer, "remainingAttempts")? as u64)
            .unwrap_or(u32::MAX),
        activation_status,
        blocked_reason: optional_text(answer, "blockedReason")?,
        factors: optional_text(answer, "factors")?,
        user: optional_text(answer, "user")?,
    })
}
