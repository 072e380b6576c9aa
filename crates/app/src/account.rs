//! After sign-in: who is signed in, and "Activate a token".

use leptos::prelude::*;
use leptos::task::{spawn_local, spawn_local_scoped_with_cancellation};
use leptos_router::components::A;

use qrauth_core::ActivationStatus;
use qrauth_core::wire::{ActivationView, NewActivation, SignedIn};

use crate::api::{self, ApiError};
use crate::clock::{PageVisibility, use_clock};
use crate::countdown::{ExpiringQr, Unavailable, renewable};
use crate::token::grouped_fingerprint;
use qrauth_token::poll::{PollPlan, poll_until_final};

/// How often the page asks whether the token has taken the activation code.
const ACTIVATION_POLL_MS: f64 = 2000.0;

/// Shows `signed_in` with the identity, or a way to sign in.
#[component]
pub fn RequireSignIn<V: IntoView + 'static>(
    /// What the page is for, for the sign-in prompt: "to approve a payment".
    #[prop(into)]
    purpose: String,
    /// The page for a signed-in person.
    signed_in: impl Fn(SignedIn) -> V + Send + Sync + 'static,
) -> impl IntoView {
    let identity = LocalResource::new(api::identity);
    move || match identity.get() {
        None => view! { <p class="card" aria-busy="true">"Loading…"</p> }.into_any(),
        Some(Ok(who)) => signed_in(who).into_any(),
        Some(Err(ApiError::Server { status: 401, .. })) => view! {
            <section class="card" data-testid="not-signed-in">
                <h1>"You are not signed in"</h1>
                <p>{format!("Sign in {purpose}.")}</p>
                // `external`: the sign-in page is another bundle, loaded as a document.
                <a href="/" class="button primary" rel="external">"Sign in"</a>
            </section>
        }
        .into_any(),
        Some(Err(e)) => view! {
            <p class="card error" role="alert">{format!("The page cannot load: {e}")}</p>
        }
        .into_any(),
    }
}

/// The account page.
#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <RequireSignIn
            purpose="to see your account"
            signed_in=|who: SignedIn| view! { <Account who/> }
        />
    }
}

#[component]
fn Account(who: SignedIn) -> impl IntoView {
    let (activating, set_activating) = signal(false);
    let sign_out = move |_| {
        spawn_local(async move {
            let _ = api::sign_out().await;
            // The sign-in page is another bundle; it takes this page's place in the history, so
            // that the back button does not come back to an account that is signed out.
            if let Some(window) = web_sys::window() {
                let _ = window.location().replace("/");
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="account-title">
            <h1 id="account-title">"Your account"</h1>
            <p data-testid="identity">"Signed in as " <strong>{who.user}</strong></p>
            <div class="actions">
                <A href="/approve" attr:class="button">"Approve a payment"</A>
                <button type="button" data-testid="sign-out" on:click=sign_out>
                    "Sign out"
                </button>
            </div>
        </section>
        <section class="card" aria-labelledby="activate-title">
            <h2 id="activate-title">"Activate a token"</h2>
            <Show
                when=move || activating.get()
                fallback=move || view! {
                    <p>"A token on your phone or in another browser signs you in without a password."</p>
                    <button
                        type="button"
                        class="primary"
                        data-testid="activate"
                        on:click=move |_| set_activating.set(true)
                    >
                        "Activate a token"
                    </button>
                }
            >
                <ActivationOffers/>
            </Show>
        </section>
    }
}

#[component]
fn ActivationOffers() -> impl IntoView {
    let (offer, renew) = renewable(api::offer_activation);
    let renewals = RwSignal::new(0);
    move || match offer.get() {
        None => view! { <p>"Getting an activation code…"</p> }.into_any(),
        Some(Err(e)) => view! { <Unavailable error=e retry=renew/> }.into_any(),
        Some(Ok(offer)) => view! { <ActivationOfferView offer renewals renew/> }.into_any(),
    }
}

/// An activation code with its QR, until the token takes it; then the fingerprint to compare.
#[component]
fn ActivationOfferView(
    offer: NewActivation,
    renewals: RwSignal<u32>,
    renew: Callback<()>,
) -> impl IntoView {
    let (committed, set_committed) = signal(None::<ActivationView>);
    let clock = use_clock();
    let activation_id = offer.activation_id.clone();
    spawn_local_scoped_with_cancellation(async move {
        let plan = PollPlan {
            interval_ms: ACTIVATION_POLL_MS,
            long_poll_seconds: None,
        };
        let polled = poll_until_final(
            &clock,
            &PageVisibility::of_page(),
            plan,
            |_, _| {
                let id = activation_id.clone();
                async move { api::activation(&id).await }
            },
            // An expired code ends as REMOVED, but the countdown renews it first.
            |activation: &ActivationView| activation.status == ActivationStatus::Active,
            |_| {},
        )
        .await;
        // Refused for good (signed out meanwhile, the activation removed): the code's countdown
        // still shows, and renewing it asks again.
        if let Ok(activation) = polled {
            set_committed.set(Some(activation));
        }
    });
    let code = offer.activation_code.clone();
    view! {
        <Show
            when=move || committed.with(Option::is_some)
            fallback=move || {
                let offer = offer.clone();
                view! {
                    <div class="activation">
                        <ExpiringQr
                            text=offer.activation_qr
                            label="Activation QR code: scan it with the qrauth token"
                            expires_in_ms=offer.expires_in_ms
                            renewals
                            renew
                        />
                        <div>
                            <p>"Scan this code with the qrauth token, or type the activation code:"</p>
                            <p class="activation-code" data-testid="activation-code">{code.clone()}</p>
                            <p role="status" data-testid="activation-status">"Waiting for the token…"</p>
                        </div>
                    </div>
                }
            }
        >
            {move || committed.get().map(|activation| view! { <Committed activation/> })}
        </Show>
    }
}

#[component]
fn Committed(activation: ActivationView) -> impl IntoView {
    let fingerprint = activation
        .fingerprint
        .as_deref()
        .map(grouped_fingerprint)
        .unwrap_or_default();
    let device = activation
        .device_name
        .unwrap_or_else(|| "Your token".to_owned());
    view! {
        <div class="committed" role="status" data-testid="activation-status">
            <p>{format!("{device} is activated. Check that it shows the same fingerprint:")}</p>
            <p class="fingerprint" data-testid="fingerprint">{fingerprint}</p>
            <p class="hint">
                "If the digits differ, remove the token: someone else may have used the code."
            </p>
        </div>
    }
}
