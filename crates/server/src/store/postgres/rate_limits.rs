use postgres::IsolationLevel;

use super::{Postgres, get};
use crate::store::{BucketRow, StorageError, Take};

const TABLE: &str = "rate_limits";

impl Postgres {
    /// One short READ COMMITTED transaction: the row lock of `FOR UPDATE` queues the servers
    /// that take from one bucket at once, each reading what the one before it wrote, so a burst
    /// from one address is counted exactly without the retries a serializable conflict costs.
    pub(super) fn take_from_shared_bucket(
        &self,
        limit: &str,
        client: &str,
        fresh: BucketRow,
        take: &mut Take,
    ) -> Result<(BucketRow, BucketRow), StorageError> {
        let mut connection = self.checkout()?;
        let taken = (|| {
            let mut transaction = connection
                .client
                .build_transaction()
                .isolation_level(IsolationLevel::ReadCommitted)
                .start()?;
            transaction.execute(
                "INSERT INTO rate_limits (limit_name, client, tokens, last_ms, refusing)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                &[
                    &limit,
                    &client,
                    &fresh.tokens,
                    &fresh.last_ms,
                    &fresh.refusing,
                ],
            )?;
            let row = transaction.query_one(
                "SELECT tokens, last_ms, refusing FROM rate_limits
                 WHERE limit_name = $1 AND client = $2 FOR UPDATE",
                &[&limit, &client],
            )?;
            let before = BucketRow {
                tokens: get(&row, 0, TABLE)?,
                last_ms: get(&row, 1, TABLE)?,
                refusing: get(&row, 2, TABLE)?,
            };
            let after = take(before);
            transaction.execute(
                "UPDATE rate_limits SET tokens = $3, last_ms = $4, refusing = $5
                 WHERE limit_name = $1 AND client = $2",
                &[
                    &limit,
                    &client,
                    &after.tokens,
                    &after.last_ms,
                    &after.refusing,
                ],
            )?;
            transaction.commit()?;
            Ok::<_, StorageError>((before, after))
        })();
        self.checkin(connection);
        taken
    }

    pub(super) fn forget_shared_buckets(&self, before_ms: i64) -> Result<usize, StorageError> {
        let mut connection = self.checkout()?;
        let deleted = connection
            .client
            .execute("DELETE FROM rate_limits WHERE last_ms < $1", &[&before_ms]);
        self.checkin(connection);
        Ok(deleted? as usize)
    }
}
