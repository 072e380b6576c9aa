//! Polling the server until something reaches a final state: long-poll when the server offers
//! it, otherwise every interval; back-off with jitter while the network fails, never sooner than
//! the server's `Retry-After`; paused while the page is hidden and resumed at once when it
//! returns. What the server refuses for good (a 4xx other than 408 and 429) ends the polling.

use std::future::Future;

use futures::future::select;

use crate::TokenError;
use crate::clock::{Clock, PageVisibility};

/// The longest wait between two attempts while the server cannot be reached.
pub const MAX_BACKOFF_MS: f64 = 30_000.0;

/// How to poll.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PollPlan {
    /// The pause between two answers without long-polling, and the first back-off step.
    pub interval_ms: f64,
    /// Seconds the server may hold a request (`?wait=`); `None` polls every interval.
    pub long_poll_seconds: Option<u32>,
}

/// What the poller reports as it goes.
#[derive(Clone, Debug, PartialEq)]
pub enum PollEvent<T> {
    /// The server answered.
    Answer(T),
    /// The last attempt failed; the next one comes in `retry_in_ms`.
    Reconnecting {
        /// Failed attempts in a row.
        failures: u32,
        /// The pause before the next attempt.
        retry_in_ms: f64,
        /// Why the last attempt failed.
        error: TokenError,
    },
}

/// The pause after `failures` failed attempts in a row: the interval doubled for each failure,
/// at most [`MAX_BACKOFF_MS`], of which a random half (`jitter` in `0..1`) is left out so that
/// pages that lost the server together do not come back together.
pub fn backoff_ms(interval_ms: f64, failures: u32, jitter: f64) -> f64 {
    let ceiling =
        (interval_ms * 2f64.powi(failures.saturating_sub(1).min(16) as i32)).min(MAX_BACKOFF_MS);
    ceiling / 2.0 + ceiling / 2.0 * jitter.clamp(0.0, 1.0)
}

/// Polls with `fetch` until `is_final` says an answer ends it, and returns that answer, or the
/// error when the server refuses for good ([`TokenError::is_transient`] says which). `fetch`
/// gets the last answer (to long-poll for a change from it) and the seconds to wait; every
/// answer and every failure that is retried goes to `report`. Drop the future to stop polling.
pub async fn poll_until_final<T, F, Fut>(
    clock: &Clock,
    visibility: &PageVisibility,
    plan: PollPlan,
    mut fetch: F,
    is_final: impl Fn(&T) -> bool,
    report: impl Fn(PollEvent<T>),
) -> Result<T, TokenError>
where
    T: Clone,
    F: FnMut(Option<&T>, Option<u32>) -> Fut,
    Fut: Future<Output = Result<T, TokenError>>,
{
    let mut last: Option<T> = None;
    let mut failures = 0u32;
    loop {
        visibility.until_visible().await;
        let started = clock.now_ms();
        // Long-poll only once there is a state to wait for a change from.
        let wait = plan.long_poll_seconds.filter(|_| last.is_some());
        match fetch(last.as_ref(), wait).await {
            Ok(answer) => {
                failures = 0;
                report(PollEvent::Answer(answer.clone()));
                if is_final(&answer) {
                    return Ok(answer);
                }
                last = Some(answer);
                // A long-poll that came back at once (a server that does not hold requests)
                // must not turn into a busy loop: keep at least the interval between requests.
                let elapsed = clock.now_ms() - started;
                let pause = if wait.is_some() {
                    (plan.interval_ms - elapsed).max(0.0)
                } else {
                    plan.interval_ms
                };
                pause_while_visible(clock, visibility, pause).await;
            }
            Err(error) if !error.is_transient() => return Err(error),
            Err(error) => {
                failures += 1;
                let retry_in_ms = backoff_ms(plan.interval_ms, failures, js_sys::Math::random())
                    .max(error.retry_after_ms().unwrap_or(0.0));
                report(PollEvent::Reconnecting {
                    failures,
                    retry_in_ms,
                    error,
                });
                pause_while_visible(clock, visibility, retry_in_ms).await;
            }
        }
    }
}

/// Waits `ms`, but no longer than until the page returns from being hidden: a person who comes
/// back to the tab sees the state now, not after the rest of a back-off.
async fn pause_while_visible(clock: &Clock, visibility: &PageVisibility, ms: f64) {
    if ms <= 0.0 {
        return;
    }
    let sleep = std::pin::pin!(clock.sleep(ms));
    let returned = std::pin::pin!(visibility.until_returned());
    select(sleep, returned).await;
}
