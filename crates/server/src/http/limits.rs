//! Per-address rate limits for the endpoints that create things or check secrets.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A token bucket per client address: `capacity` requests at once, refilled evenly over `period`.
pub(crate) struct RateLimit {
    capacity: f64,
    per_second: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

struct Bucket {
    tokens: f64,
    last: Instant,
    /// Whether the last request was refused: a run of refusals is one event for the audit log.
    refusing: bool,
}

/// Why a request was refused.
#[derive(Debug)]
pub(crate) struct Refused {
    /// How long until the next request is allowed.
    pub(crate) wait: Duration,
    /// The first refusal after an allowed request: the one worth recording.
    pub(crate) first: bool,
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

    /// Takes one request from `client`'s bucket.
    pub(crate) fn check(&self, client: IpAddr) -> Result<(), Refused> {
        self.check_at(client, Instant::now())
    }

    fn check_at(&self, client: IpAddr, now: Instant) -> Result<(), Refused> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_TRACKED {
            let (capacity, per_second) = (self.capacity, self.per_second);
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.last).as_secs_f64() * per_second < capacity
            });
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: self.capacity,
            last: now,
            refusing: false,
        });
        bucket.tokens = (bucket.tokens
            + now.duration_since(bucket.last).as_secs_f64() * self.per_second)
            .min(self.capacity);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            bucket.refusing = false;
            Ok(())
        } else {
            let first = !bucket.refusing;
            bucket.refusing = true;
            Err(Refused {
                wait: Duration::from_secs_f64((1.0 - bucket.tokens) / self.per_second),
                first,
            })
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
        let refused = limit.check_at(client, start).unwrap_err();
        assert!(
            (19.0..=20.5).contains(&refused.wait.as_secs_f64()),
            "{refused:?}"
        );
        assert!(refused.first);
        assert!(
            !limit.check_at(client, start).unwrap_err().first,
            "one event a run"
        );
        limit.check_at(other, start).unwrap();
        limit
            .check_at(client, start + Duration::from_secs(21))
            .unwrap();
        assert!(
            limit
                .check_at(client, start + Duration::from_secs(21))
                .unwrap_err()
                .first,
            "a refusal after an allowed request is a new event"
        );
    }
}
