//! Time and page visibility, the two things a countdown and a poller wait on. Both are read
//! through [`Clock`] and [`PageVisibility`] so that tests can drive them.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// A monotonic clock in milliseconds: `performance.now()` and timers in the browser (and in
/// Node.js), or a [`ManualClock`] that a test moves forward.
#[derive(Clone, Default)]
pub enum Clock {
    /// `performance.now()` and `setTimeout` (through gloo-timers).
    #[default]
    Browser,
    /// Time that moves only when a test says so.
    Manual(ManualClock),
}

#[wasm_bindgen]
extern "C" {
    /// The global `performance.now()`, in windows, workers and Node.js alike.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

impl Clock {
    /// Milliseconds on a clock that never jumps: expiries count down on it, not on the wall clock.
    pub fn now_ms(&self) -> f64 {
        match self {
            Clock::Browser => performance_now(),
            Clock::Manual(clock) => clock.now_ms(),
        }
    }

    /// Waits `ms` milliseconds.
    pub async fn sleep(&self, ms: f64) {
        match self {
            Clock::Browser => {
                gloo_timers::future::TimeoutFuture::new(ms.clamp(0.0, f64::from(i32::MAX)) as u32)
                    .await
            }
            Clock::Manual(clock) => {
                ManualSleep {
                    clock: clock.clone(),
                    until: clock.now_ms() + ms,
                }
                .await
            }
        }
    }
}

/// A clock for tests: it stands still until [`ManualClock::advance`].
#[derive(Clone, Default)]
pub struct ManualClock(Arc<Mutex<ManualTime>>);

#[derive(Default)]
struct ManualTime {
    now: f64,
    sleepers: Vec<(f64, Waker)>,
}

impl ManualClock {
    /// A clock at 0 ms.
    pub fn new() -> Self {
        Self::default()
    }

    /// The time now.
    pub fn now_ms(&self) -> f64 {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).now
    }

    /// Moves time forward by `ms` and wakes every sleep that is due.
    pub fn advance(&self, ms: f64) {
        let due: Vec<Waker> = {
            let mut time = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            time.now += ms;
            let now = time.now;
            let (due, waiting) = std::mem::take(&mut time.sleepers)
                .into_iter()
                .partition(|(until, _)| *until <= now);
            time.sleepers = waiting;
            due.into_iter().map(|(_, waker)| waker).collect()
        };
        due.into_iter().for_each(Waker::wake);
    }
}

struct ManualSleep {
    clock: ManualClock,
    until: f64,
}

impl Future for ManualSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut time = self.clock.0.lock().unwrap_or_else(PoisonError::into_inner);
        if time.now >= self.until {
            return Poll::Ready(());
        }
        time.sleepers.push((self.until, cx.waker().clone()));
        Poll::Pending
    }
}

/// Whether the page is on screen (`document.visibilityState`), with futures that wait for it.
/// One per page, fed by the document's `visibilitychange` event.
#[derive(Clone)]
pub struct PageVisibility(Rc<RefCell<VisibilityState>>);

struct VisibilityState {
    visible: bool,
    /// How many times the page came back on screen.
    returns: u64,
    waiting: Vec<Waker>,
}

thread_local! {
    static PAGE: PageVisibility = PageVisibility::watch_document();
}

impl PageVisibility {
    /// The page's visibility.
    pub fn of_page() -> Self {
        PAGE.with(Clone::clone)
    }

    fn watch_document() -> Self {
        let visibility = PageVisibility(Rc::new(RefCell::new(VisibilityState {
            visible: document_visible(),
            returns: 0,
            waiting: Vec::new(),
        })));
        let state = Rc::clone(&visibility.0);
        let on_change = Closure::<dyn Fn()>::new(move || {
            let visible = document_visible();
            let waiting = {
                let mut state = state.borrow_mut();
                let returned = visible && !state.visible;
                state.visible = visible;
                if returned {
                    state.returns += 1;
                    std::mem::take(&mut state.waiting)
                } else {
                    Vec::new()
                }
            };
            waiting.into_iter().for_each(Waker::wake);
        });
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            let _ = document.add_event_listener_with_callback(
                "visibilitychange",
                on_change.as_ref().unchecked_ref(),
            );
        }
        // The listener lives as long as the page.
        on_change.forget();
        visibility
    }

    /// True while the page is on screen.
    pub fn is_visible(&self) -> bool {
        self.0.borrow().visible
    }

    /// Resolves at once when the page is visible, otherwise when it is shown again.
    pub fn until_visible(&self) -> impl Future<Output = ()> + use<> {
        UntilVisible {
            state: Rc::clone(&self.0),
            returns: None,
        }
    }

    /// Resolves the next time the page comes back on screen after being hidden.
    pub fn until_returned(&self) -> impl Future<Output = ()> + use<> {
        UntilVisible {
            state: Rc::clone(&self.0),
            returns: Some(self.0.borrow().returns),
        }
    }
}

fn document_visible() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_none_or(|d| d.visibility_state() != web_sys::VisibilityState::Hidden)
}

struct UntilVisible {
    state: Rc<RefCell<VisibilityState>>,
    /// `None`: any time the page is visible; `Some(n)`: once it returned more than `n` times.
    returns: Option<u64>,
}

impl Future for UntilVisible {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.state.borrow_mut();
        let done = match self.returns {
            None => state.visible,
            Some(returns) => state.returns > returns,
        };
        if done {
            return Poll::Ready(());
        }
        state.waiting.push(cx.waker().clone());
        Poll::Pending
    }
}
