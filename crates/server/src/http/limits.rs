//! Per-address rate limits for the endpoints that create things or check secrets.
//!
//! Each limit is a token bucket per client address. One server keeps the buckets in memory;
//! servers that share a database keep them in it too ([`Storage::take_from_bucket`]), so a
//! client's budget is the same whichever server the balancer picks. The memory copy then
//! answers refusals alone: the shared bucket has had at least as much taken from it as this
//! server's copy, so when the copy is empty the shared one is too, and a flood of refused
//! requests costs the database nothing.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use crate::store::{BucketRow, Storage, StorageError, now_ms};

/// A token bucket per client address: `capacity` requests at once, refilled evenly over `period`.
pub(crate) struct RateLimit {
    /// The limit's name in the shared table.
    name: &'static str,
    capacity: f64,
    per_second: f64,
    buckets: Mutex<HashMap<IpAddr, BucketRow>>,
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
    pub(crate) fn new(name: &'static str, capacity: u32, period: Duration) -> Self {
        RateLimit {
            name,
            capacity: f64::from(capacity),
            per_second: f64::from(capacity) / period.as_secs_f64(),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `client`'s bucket: in memory, and in `storage` when other
    /// servers share it.
    pub(crate) async fn check(
        &self,
        storage: &Storage,
        client: IpAddr,
    ) -> Result<Result<(), Refused>, StorageError> {
        let now = now_ms();
        let local = self.check_at(client, now);
        if local.is_err() || !storage.is_shared() {
            return Ok(local);
        }
        let (capacity, per_second) = (self.capacity, self.per_second);
        let shared = storage
            .take_from_bucket(
                self.name,
                client.to_string(),
                self.fresh(now),
                Box::new(move |bucket| take(bucket, now, capacity, per_second)),
            )
            .await?;
        let Some((before, after)) = shared else {
            return Ok(local);
        };
        self.lock().insert(client, after);
        Ok(self.outcome(&before, &after))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, BucketRow>> {
        self.buckets.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn fresh(&self, now: i64) -> BucketRow {
        BucketRow {
            tokens: self.capacity,
            last_ms: now,
            refusing: false,
        }
    }

    /// Takes one request from the memory copy of `client`'s bucket at `now` (ms).
    fn check_at(&self, client: IpAddr, now: i64) -> Result<(), Refused> {
        let mut buckets = self.lock();
        if buckets.len() >= MAX_TRACKED {
            let (capacity, per_second) = (self.capacity, self.per_second);
            buckets.retain(|_, b| refilled(b, now, capacity, per_second) < capacity);
        }
        let before = *buckets.entry(client).or_insert(self.fresh(now));
        let after = take(before, now, self.capacity, self.per_second);
        buckets.insert(client, after);
        self.outcome(&before, &after)
    }

    fn outcome(&self, before: &BucketRow, after: &BucketRow) -> Result<(), Refused> {
        if after.refusing {
            Err(Refused {
                wait: Duration::from_secs_f64((1.0 - after.tokens).max(0.0) / self.per_second),
                first: !before.refusing,
            })
        } else {
            Ok(())
        }
    }
}

/// The tokens of `bucket` at `now`: refilled for the time since, up to `capacity`. A clock
/// behind the one that last wrote the bucket (another server's) refills nothing.
fn refilled(bucket: &BucketRow, now: i64, capacity: f64, per_second: f64) -> f64 {
    let elapsed = (now - bucket.last_ms).max(0) as f64 / 1000.0;
    (bucket.tokens + elapsed * per_second).min(capacity)
}

/// One request against `bucket` at `now`: a token taken, or the request refused.
fn take(bucket: BucketRow, now: i64, capacity: f64, per_second: f64) -> BucketRow {
    let tokens = refilled(&bucket, now, capacity, per_second);
    let allowed = tokens >= 1.0;
    BucketRow {
        tokens: if allowed { tokens - 1.0 } else { tokens },
        last_ms: now.max(bucket.last_ms),
        refusing: !allowed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_a_burst_then_refills_evenly() {
        let limit = RateLimit::new("test", 3, Duration::from_secs(60));
        let client: IpAddr = "127.0.0.1".parse().unwrap();
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        let start = 1_000_000;
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
        limit.check_at(client, start + 21_000).unwrap();
        assert!(
            limit.check_at(client, start + 21_000).unwrap_err().first,
            "a refusal after an allowed request is a new event"
        );
    }
}
