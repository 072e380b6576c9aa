//! What the server forgets, and when: expired codes and sessions are closed, and finished
//! records are deleted after a while, so the tables stay the size of current use. The audit log
//! keeps the history.

use std::time::Duration;

use rusqlite::params;

use crate::storage::{Storage, StorageError, now_ms, record};

/// How often the sweep runs.
pub(crate) const SWEEP_EVERY: Duration = Duration::from_secs(600);
/// Finished login sessions are kept this long (for support questions), then deleted.
const LOGIN_RETENTION_MS: i64 = 24 * 60 * 60 * 1000;
/// Operations are kept this long after they expire, then deleted.
const OPERATION_RETENTION_MS: i64 = 30 * 24 * 60 * 60 * 1000;

/// Rows each sweep changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Swept {
    pub(crate) codes_expired: usize,
    pub(crate) logins_expired: usize,
    pub(crate) logins_deleted: usize,
    pub(crate) operations_deleted: usize,
    pub(crate) web_sessions_deleted: usize,
}

/// One sweep at `now` (ms since the epoch).
pub(crate) async fn sweep(storage: &Storage, now: i64) -> Result<Swept, StorageError> {
    storage
        .transaction(move |tx| {
            let swept = Swept {
                codes_expired: tx.execute(
                    "UPDATE activations SET status = 'REMOVED', code_hash = NULL
                     WHERE status = 'CREATED' AND code_expires_ms <= ?1",
                    [now],
                )?,
                logins_expired: tx.execute(
                    "UPDATE login_sessions SET state = 'EXPIRED', updated_ms = ?1
                     WHERE state IN ('PENDING', 'SCANNED', 'APPROVED') AND expires_ms <= ?1",
                    [now],
                )?,
                logins_deleted: tx.execute(
                    "DELETE FROM login_sessions
                     WHERE state IN ('COMPLETED', 'DENIED', 'EXPIRED', 'CANCELED')
                       AND updated_ms <= ?1",
                    [now - LOGIN_RETENTION_MS],
                )?,
                operations_deleted: tx.execute(
                    "DELETE FROM operations WHERE expires_ms <= ?1",
                    params![now - OPERATION_RETENTION_MS],
                )?,
                web_sessions_deleted: tx
                    .execute("DELETE FROM web_sessions WHERE expires_ms <= ?1", [now])?,
            };
            if swept != Swept::default() {
                record(tx, "retention.swept", &format!("{swept:?}"))?;
            }
            Ok(swept)
        })
        .await
}

/// Sweeps every [`SWEEP_EVERY`] until the task is dropped; a failed sweep is logged and retried
/// at the next tick.
pub(crate) async fn run(storage: Storage) {
    let mut ticks = tokio::time::interval(SWEEP_EVERY);
    loop {
        ticks.tick().await;
        if let Err(e) = sweep(&storage, now_ms()).await {
            eprintln!("qrauth: retention sweep failed: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn expires_what_is_due_and_deletes_only_old_finished_records() {
        let storage = Storage::in_memory().unwrap();
        let now = 10 * OPERATION_RETENTION_MS;
        storage
            .with(move |c| {
                c.execute_batch(
                    "INSERT INTO users (id, name, password_hash, created_ms) VALUES (1, 'a', 'x', 0);",
                )?;
                for (id, state, expires, updated) in [
                    ("open-due", "PENDING", now - 1, now - 10),
                    ("open-later", "SCANNED", now + 60_000, now),
                    ("done-old", "COMPLETED", now, now - LOGIN_RETENTION_MS - 1),
                    ("done-recent", "DENIED", now, now - 1000),
                ] {
                    c.execute(
                        "INSERT INTO login_sessions (id, poll_secret_hash, scan_code_hash, state,
                            service, requester_address, requester_agent, created_ms, expires_ms,
                            updated_ms) VALUES (?1, x'00', ?1, ?2, 's', 'a', 'b', 0, ?3, ?4)",
                        params![id, state, expires, updated],
                    )?;
                }
                for (id, expires) in [("op-old", now - OPERATION_RETENTION_MS - 1), ("op-new", now - 1)] {
                    c.execute(
                        "INSERT INTO operations (id, kind, user_name, key_type, payload, nonce,
                            operation_data, allow_biometry, state, created_ms, expires_ms)
                         VALUES (?1, 'login', 'a', 0, 'p', 'n', 'A2', 0, 'PENDING', 0, ?2)",
                        params![id, expires],
                    )?;
                }
                c.execute(
                    "INSERT INTO activations (id, user_id, status, code_hash, code_expires_ms,
                        server_private_sealed, server_public, ctr_data, max_failed_attempts,
                        created_ms) VALUES ('act', 1, 'CREATED', x'01', ?1, x'00', 'k', x'00', 5, 0)",
                    [now - 1],
                )?;
                Ok(())
            })
            .await
            .unwrap();
        let swept = sweep(&storage, now).await.unwrap();
        assert_eq!(
            swept,
            Swept {
                codes_expired: 1,
                logins_expired: 1,
                logins_deleted: 1,
                operations_deleted: 1,
                web_sessions_deleted: 0,
            }
        );
        let states: Vec<(String, String)> = storage
            .with(|c| {
                let mut s = c.prepare("SELECT id, state FROM login_sessions ORDER BY id")?;
                let rows = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect()
            })
            .await
            .unwrap();
        assert_eq!(
            states,
            [
                ("done-recent".to_owned(), "DENIED".to_owned()),
                ("open-due".to_owned(), "EXPIRED".to_owned()),
                ("open-later".to_owned(), "SCANNED".to_owned()),
            ]
        );
        assert_eq!(sweep(&storage, now).await.unwrap(), Swept::default());
    }
}
