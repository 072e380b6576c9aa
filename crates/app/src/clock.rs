//! The clock the pages count down on, provided as context so that tests drive it.

use leptos::prelude::*;

pub use qrauth_token::clock::{Clock, ManualClock, PageVisibility};

/// The clock provided as context, or the browser's.
pub fn use_clock() -> Clock {
    use_context::<Clock>().unwrap_or_default()
}
