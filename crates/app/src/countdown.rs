//! Codes that expire: a countdown from the server's expiry on the monotonic clock, announced to
//! screen readers at 60, 30 and 10 seconds (the words are [`qrauth_token::countdown`]'s), and
//! renewed a few times by itself before it waits for a click.

use leptos::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use leptos::task::{spawn_local, spawn_local_scoped_with_cancellation};

use crate::api::ApiError;
use crate::clock::use_clock;
use crate::qr::QrCode;

use qrauth_token::countdown::{announcement, countdown_text, ms_to_next_second, seconds_left};
/// How many times an expired code is replaced without asking.
pub use qrauth_token::sign_in::AUTOMATIC_RENEWALS;
use qrauth_token::sign_in::no_code_message;

/// Counts down to a deadline: a signal of the seconds left that changes once a second.
pub fn use_seconds_left(deadline_ms: f64) -> ReadSignal<u64> {
    let clock = use_clock();
    let (left, set_left) = signal(seconds_left(deadline_ms - clock.now_ms()));
    spawn_local_scoped_with_cancellation(async move {
        loop {
            let ms_left = deadline_ms - clock.now_ms();
            let seconds = seconds_left(ms_left);
            set_left.set(seconds);
            if seconds == 0 {
                break;
            }
            clock.sleep(ms_to_next_second(ms_left)).await;
        }
    });
    left
}

/// A code that lives until `expires_in_ms` from now: the countdown, the announcements, and on
/// expiry the code dimmed with "Get a new code". `renew` is called by itself at most
/// [`AUTOMATIC_RENEWALS`] times in a row (`renewals` counts them; a click starts the count
/// again), then only on a click. Renewing makes a new code, and the parent a new `ExpiringCode`.
#[component]
pub fn ExpiringCode(
    /// Milliseconds until the code expires, as the server said.
    expires_in_ms: u64,
    /// Automatic renewals made so far in a row.
    renewals: RwSignal<u32>,
    /// Makes a new code.
    renew: Callback<()>,
    /// The code itself (the QR).
    children: Children,
) -> impl IntoView {
    let deadline = use_clock().now_ms() + expires_in_ms as f64;
    let left = use_seconds_left(deadline);
    let expired = move || left.get() == 0;
    Effect::new(move |_| {
        if expired() && renewals.get_untracked() < AUTOMATIC_RENEWALS {
            renewals.update(|n| *n += 1);
            renew.run(());
        }
    });
    let waits_for_click = move || expired() && renewals.get() >= AUTOMATIC_RENEWALS;
    // A memo notifies only when the words change, so the live region is not rewritten (and
    // re-read by some screen readers) every second.
    let announced = Memo::new(move |_| announcement(left.get()));
    view! {
        <div class="expiring" class:expired=expired data-testid="expiring-code">
            {children()}
            <Show when=waits_for_click>
                <div class="expired-overlay">
                    // A click starts the count of automatic renewals again: a person is there.
                    <button
                        type="button"
                        class="primary"
                        data-testid="renew"
                        on:click=move |_| {
                            renewals.set(0);
                            renew.run(());
                        }
                    >
                        "Get a new code"
                    </button>
                </div>
            </Show>
        </div>
        <p class="countdown" role="timer" aria-live="off" data-testid="countdown">
            {move || countdown_text(left.get())}
        </p>
        <p class="visually-hidden" aria-live="polite" data-testid="countdown-announcement">
            {announced}
        </p>
    }
}

/// A QR code that expires: [`ExpiringCode`] around a [`QrCode`], as the activation and approval
/// pages show it.
#[component]
pub fn ExpiringQr(
    /// What the QR holds.
    #[prop(into)]
    text: Signal<String>,
    /// Its accessible name.
    #[prop(into)]
    label: String,
    /// Milliseconds until it expires, as the server said.
    expires_in_ms: u64,
    /// Automatic renewals in a row.
    renewals: RwSignal<u32>,
    /// Makes a new code.
    renew: Callback<()>,
) -> impl IntoView {
    view! {
        <div class="qr-column">
            <ExpiringCode expires_in_ms renewals renew>
                <QrCode text label/>
            </ExpiringCode>
        </div>
    }
}

/// Runs `make` now and again on every renewal, and keeps the answer of the latest run.
pub fn renewable<T, Fut>(
    make: impl Fn() -> Fut + Send + Sync + 'static,
) -> (ReadSignal<Option<Result<T, ApiError>>>, Callback<()>)
where
    T: Send + Sync + 'static,
    Fut: Future<Output = Result<T, ApiError>> + 'static,
{
    let (answer, set_answer) = signal(None);
    let latest = Arc::new(AtomicU64::new(0));
    let renew = Callback::new(move |()| {
        let run = latest.fetch_add(1, Ordering::Relaxed) + 1;
        let latest = Arc::clone(&latest);
        set_answer.set(None);
        let made = make();
        // Not scoped to the caller: an automatic renewal is called from the expiring code
        // that the answer replaces.
        spawn_local(async move {
            let made = made.await;
            if latest.load(Ordering::Relaxed) == run {
                set_answer.set(Some(made));
            }
        });
    });
    renew.run(());
    (answer, renew)
}

/// Why there is no code, and a way to try again.
#[component]
pub fn Unavailable(
    /// What went wrong.
    error: ApiError,
    /// Asks again.
    retry: Callback<()>,
) -> impl IntoView {
    view! {
        <p class="error" role="alert" data-testid="unavailable">{no_code_message(error.code(), &error.to_string())}</p>
        <button type="button" on:click=move |_| retry.run(())>"Try again"</button>
    }
}
