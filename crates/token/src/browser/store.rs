//! Activations in IndexedDB, where they survive reloads and are shared by the tabs of one
//! origin.
//!
//! The counter is moved in one read-write transaction (read, then write in the same
//! transaction), and IndexedDB runs read-write transactions on one store one after another,
//! across tabs too: two tokens can never be handed the same counter.

use js_sys::{Function, Promise};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    IdbDatabase, IdbFactory, IdbObjectStore, IdbObjectStoreParameters, IdbOpenDbRequest,
    IdbRequest, IdbTransaction, IdbTransactionMode,
};

use crate::TokenError;
use crate::activation::StoredActivation;

const STORE: &str = "activations";
const VERSION: u32 = 1;

/// The token's IndexedDB database.
pub struct Store {
    db: IdbDatabase,
}

impl Store {
    /// Opens (and on first use creates) the database `name`.
    pub async fn open(name: &str) -> Result<Self, TokenError> {
        let factory: IdbFactory = js_sys::Reflect::get(&js_sys::global(), &"indexedDB".into())
            .ok()
            .filter(|f| !f.is_undefined() && !f.is_null())
            .ok_or(TokenError::StorageUnavailable)?
            .unchecked_into();
        // A browser that refuses to open (site data blocked, some private windows) leaves the
        // token as unable to keep anything as one without IndexedDB.
        let unavailable = |e: JsValue| match storage_error("open", &e) {
            TokenError::StorageFull => TokenError::StorageFull,
            _ => TokenError::StorageUnavailable,
        };
        let request: IdbOpenDbRequest =
            factory.open_with_u32(name, VERSION).map_err(unavailable)?;
        let upgrade = Closure::once(move |event: web_sys::Event| {
            let db = event
                .target()
                .and_then(|t| t.dyn_into::<IdbRequest>().ok())
                .and_then(|r| r.result().ok())
                .and_then(|r| r.dyn_into::<IdbDatabase>().ok());
            if let Some(db) = db {
                let parameters = IdbObjectStoreParameters::new();
                parameters.set_key_path(&"activationId".into());
                // A failure here aborts the upgrade, which fails the open below with its reason.
                let _ = db.create_object_store_with_optional_parameters(STORE, &parameters);
            }
        });
        request.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
        let opened = settle(&request).await;
        request.set_onupgradeneeded(None);
        drop(upgrade);
        let db = opened
            .map_err(unavailable)?
            .dyn_into::<IdbDatabase>()
            .map_err(unavailable)?;
        Ok(Store { db })
    }

    /// Every activation on this device.
    pub async fn all(&self) -> Result<Vec<StoredActivation>, TokenError> {
        let (tx, store) = self.transaction(IdbTransactionMode::Readonly)?;
        let request = store.get_all().map_err(|e| storage_error("read", &e))?;
        let values = settle(&request)
            .await
            .map_err(|e| storage_error("read", &e))?;
        drop(tx);
        js_sys::Array::from(&values).iter().map(decode).collect()
    }

    /// One activation, if it is on this device.
    pub async fn get(&self, id: &str) -> Result<Option<StoredActivation>, TokenError> {
        let (_tx, store) = self.transaction(IdbTransactionMode::Readonly)?;
        read(&store, id).await
    }

    /// Writes an activation and returns once the write is durable.
    pub async fn put(&self, activation: &StoredActivation) -> Result<(), TokenError> {
        let (tx, store) = self.transaction(IdbTransactionMode::Readwrite)?;
        let done = completion(&tx);
        store
            .put(&encode(activation)?)
            .map_err(|e| storage_error("write", &e))?;
        done.await
    }

    /// Deletes an activation.
    pub async fn delete(&self, id: &str) -> Result<(), TokenError> {
        let (tx, store) = self.transaction(IdbTransactionMode::Readwrite)?;
        let done = completion(&tx);
        store
            .delete(&id.into())
            .map_err(|e| storage_error("delete", &e))?;
        done.await
    }

    /// Reads activation `id` and writes `change(it)` in one transaction, and returns (before,
    /// after) once the write is committed.
    pub async fn update(
        &self,
        id: &str,
        change: impl FnOnce(&StoredActivation) -> Result<StoredActivation, TokenError>,
    ) -> Result<(StoredActivation, StoredActivation), TokenError> {
        let (tx, store) = self.transaction(IdbTransactionMode::Readwrite)?;
        let done = completion(&tx);
        // The put must be issued while the transaction is still active: straight after the
        // read, with no other await in between. Browsers keep it active through the microtasks
        // that follow the success event; if one did not, the put fails and no code is made.
        let outcome = match read(&store, id).await {
            Ok(Some(before)) => change(&before).and_then(|after| {
                store
                    .put(&encode(&after)?)
                    .map_err(|e| storage_error("write", &e))?;
                Ok((before, after))
            }),
            Ok(None) => Err(TokenError::UnknownActivation(id.to_owned())),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(pair) => {
                done.await?;
                Ok(pair)
            }
            Err(e) => {
                let _ = tx.abort();
                Err(e)
            }
        }
    }

    fn transaction(
        &self,
        mode: IdbTransactionMode,
    ) -> Result<(IdbTransaction, IdbObjectStore), TokenError> {
        let tx = self
            .db
            .transaction_with_str_and_mode(STORE, mode)
            .map_err(|e| storage_error("transaction", &e))?;
        let store = tx
            .object_store(STORE)
            .map_err(|e| storage_error("transaction", &e))?;
        Ok((tx, store))
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.db.close();
    }
}

/// Activation `id` in `store`, if it is there.
async fn read(store: &IdbObjectStore, id: &str) -> Result<Option<StoredActivation>, TokenError> {
    let request = store
        .get(&id.into())
        .map_err(|e| storage_error("read", &e))?;
    let value = settle(&request)
        .await
        .map_err(|e| storage_error("read", &e))?;
    if value.is_undefined() {
        return Ok(None);
    }
    decode(value).map(Some)
}

/// The result of `request` once it succeeds, or its error.
async fn settle(request: &IdbRequest) -> Result<JsValue, JsValue> {
    let promise = Promise::new(&mut |resolve: Function, reject: Function| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    let settled = JsFuture::from(promise).await;
    request.set_onsuccess(None);
    request.set_onerror(None);
    match settled {
        Ok(_) => request.result(),
        Err(_) => Err(request
            .error()
            .ok()
            .flatten()
            .map(JsValue::from)
            .unwrap_or_else(|| "unknown IndexedDB error".into())),
    }
}

/// Resolves when `tx` commits; fails when it aborts (quota exceeded, closed database).
fn completion(tx: &IdbTransaction) -> impl Future<Output = Result<(), TokenError>> + use<> {
    let promise = Promise::new(&mut |resolve: Function, reject: Function| {
        tx.set_oncomplete(Some(&resolve));
        tx.set_onerror(Some(&reject));
        tx.set_onabort(Some(&reject));
    });
    // Listening now, not when first polled, so that an abort is never an unhandled rejection.
    let settled = JsFuture::from(promise);
    let tx = tx.clone();
    async move {
        let settled = settled.await;
        match settled {
            Ok(_) => Ok(()),
            Err(_) => {
                let reason = tx
                    .error()
                    .map(JsValue::from)
                    .unwrap_or_else(|| "the transaction was aborted".into());
                Err(storage_error("commit", &reason))
            }
        }
    }
}

fn encode(activation: &StoredActivation) -> Result<JsValue, TokenError> {
    serde_wasm_bindgen::to_value(activation)
        .map_err(|e| TokenError::Storage(format!("cannot store the activation: {e}")))
}

fn decode(value: JsValue) -> Result<StoredActivation, TokenError> {
    serde_wasm_bindgen::from_value(value)
        .map_err(|e| TokenError::Storage(format!("a stored activation is damaged: {e}")))
}

fn storage_error(doing: &str, error: &JsValue) -> TokenError {
    if error
        .dyn_ref::<web_sys::DomException>()
        .is_some_and(|e| e.name() == "QuotaExceededError")
    {
        return TokenError::StorageFull;
    }
    let detail = error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| {
            error
                .dyn_ref::<web_sys::DomException>()
                .map(|e| format!("{}: {}", e.name(), e.message()))
        })
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "unknown error".into());
    TokenError::Storage(format!("{doing}: {detail}"))
}
