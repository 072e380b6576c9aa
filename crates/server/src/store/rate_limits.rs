//! `rate_limits`: the request budgets of client addresses, where several servers share them.
//! One server alone keeps its budgets in memory, which is exact for it and costs no write; a
//! database that several servers use ([`super::Storage::is_shared`]) keeps them in a table, so a
//! client's budget is one whichever server it reaches.

/// One client's token bucket of one limit, as stored.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct BucketRow {
    /// Requests the client may make now; fractions accumulate as time passes.
    pub(crate) tokens: f64,
    /// When `tokens` was last brought up to date, ms since the epoch.
    pub(crate) last_ms: i64,
    /// Whether the last request was refused: a run of refusals is one event for the audit log.
    pub(crate) refusing: bool,
}

/// How a request changes a bucket, run inside the database's lock on the row.
pub(crate) type Take = Box<dyn FnMut(BucketRow) -> BucketRow + Send>;
