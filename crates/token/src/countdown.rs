//! What a page says about a code that expires: the countdown on screen and the few moments a
//! screen reader hears it. The qrauth app and the npm package's `<qrauth-sign-in>` say the same.

/// The seconds left at which screen readers hear how long the code still lives.
pub const ANNOUNCED_AT: [u64; 3] = [60, 30, 10];

/// Whole seconds left of `ms_left` milliseconds, rounded up: a code with 0.2 s left still shows
/// `0:01`.
pub fn seconds_left(ms_left: f64) -> u64 {
    let left = (ms_left / 1000.0).ceil();
    if left > 0.0 { left as u64 } else { 0 }
}

/// `1:05`.
pub fn clock_face(seconds: u64) -> String {
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

/// The countdown's words: `Expires in 1:05`, then `Expired`.
pub fn countdown_text(seconds: u64) -> String {
    if seconds == 0 {
        "Expired".into()
    } else {
        format!("Expires in {}", clock_face(seconds))
    }
}

/// What the live region says with `seconds` left: it changes only when a threshold of
/// [`ANNOUNCED_AT`] is crossed (and at expiry), so a screen reader speaks a few times, not every
/// second.
pub fn announcement(seconds: u64) -> String {
    if seconds == 0 {
        return "The code has expired.".into();
    }
    match ANNOUNCED_AT.iter().rev().find(|&&at| seconds <= at) {
        Some(60) => "The code expires in 1 minute.".into(),
        Some(at) => format!("The code expires in {at} seconds."),
        None => String::new(),
    }
}

/// Milliseconds from `ms_left` until the shown second changes, so that a countdown wakes when
/// a whole second is crossed rather than a fixed second after its last tick.
pub fn ms_to_next_second(ms_left: f64) -> f64 {
    let to_next = ms_left % 1000.0;
    if to_next > 0.0 { to_next } else { 1000.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_countdown_rounds_up_and_is_announced_at_60_30_and_10_seconds() {
        assert_eq!(seconds_left(65_000.0), 65);
        assert_eq!(seconds_left(200.0), 1);
        assert_eq!(seconds_left(-5.0), 0);
        assert_eq!(countdown_text(65), "Expires in 1:05");
        assert_eq!(countdown_text(0), "Expired");
        let spoken: Vec<String> = [120, 61, 60, 31, 30, 11, 10, 1, 0]
            .into_iter()
            .map(announcement)
            .collect();
        assert_eq!(
            spoken,
            [
                "",
                "",
                "The code expires in 1 minute.",
                "The code expires in 1 minute.",
                "The code expires in 30 seconds.",
                "The code expires in 30 seconds.",
                "The code expires in 10 seconds.",
                "The code expires in 10 seconds.",
                "The code has expired.",
            ]
        );
        assert_eq!(ms_to_next_second(65_300.0), 300.0);
        assert_eq!(ms_to_next_second(65_000.0), 1000.0);
    }
}
