//! Per-address rate limits for the endpoints that create things or check secrets.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A token bucket per client address: `capacity` requests at once, refilled evenly over `period`.
pub(crate) struct RateLimit {
    capacity: f64,
    per_second: f64,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

/// Addresses remembered at most; past this, full buckets are forgotten first.
const MAX_TRACKED: usize = 100_000;

impl RateLimit {
    pub(crate) fn new(capacity: u32, period: Duration) -> Self {
        RateLimit {
            capacity: f64::from(capacity),
            per_second: f64::from(capacity) / period.as_secs_f64(),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `client`'s bucket; `Err` holds how long until the next is allowed.
    pub(crate) fn check(&self, client: IpAddr) -> Result<(), Duration> {
        self.check_at(client, Instant::now())
    }

    fn check_at(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_TRACKED {
            let (capacity, per_second) = (self.capacity, self.per_second);
            buckets.retain(|_, (tokens, last)| {
                *tokens + now.duration_since(*last).as_secs_f64() * per_second < capacity
            });
        }
        let (tokens, last) = buckets.entry(client).or_insert((self.capacity, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * self.per_second)
            .min(self.capacity);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / self.per_second))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_a_burst_then_refills_evenly() {
        let limit = RateLimit::new(3, Duration::from_secs(60));
        let client: IpAddr = "127.0.0.1".parse().unwrap();
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        let start = Instant::now();
        for _ in 0..3 {
            limit.check_at(client, start).unwrap();
        }
        let wait = limit.check_at(client, start).unwrap_err();
        assert!((19.0..=20.5).contains(&wait.as_secs_f64()), "{wait:?}");
        limit.check_at(other, start).unwrap();
        limit
            .check_at(client, start + Duration::from_secs(21))
            .unwrap();
        assert!(
            limit
                .check_at(client, start + Duration::from_secs(21))
                .is_err()
        );
    }
}
