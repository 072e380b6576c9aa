//! What the server forgets, and when: expired codes and sessions are closed, and finished
//! records are deleted after a while, so the tables stay the size of current use. The audit log
//! keeps the history.

use std::time::Duration;

use crate::store::{Storage, StorageError, now_ms};

/// How often the sweep runs.
pub(crate) const SWEEP_EVERY: Duration = Duration::from_secs(600);
/// Finished login sessions are kept this long (for support questions), then deleted.
const LOGIN_RETENTION_MS: i64 = 24 * 60 * 60 * 1000;
/// Operations are kept this long after they expire, then deleted.
const OPERATION_RETENTION_MS: i64 = 30 * 24 * 60 * 60 * 1000;
/// Audit events are kept this long, then deleted.
pub(crate) const AUDIT_RETENTION_MS: i64 = 90 * 24 * 60 * 60 * 1000;
/// The most audit events kept, whatever their age: a flood of traffic cannot fill the disk
/// through the log (about 200 MB at this count).
pub(crate) const MAX_AUDIT_EVENTS: usize = 1_000_000;
/// Shared rate-limit buckets untouched this long are deleted: full again for any limit whose
/// period is shorter (every limit's is a minute), so deleting one changes no client's budget.
const RATE_BUCKET_IDLE_MS: i64 = 60 * 60 * 1000;

/// Rows each sweep changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Swept {
    pub(crate) codes_expired: usize,
    pub(crate) logins_expired: usize,
    pub(crate) logins_deleted: usize,
    pub(crate) operations_deleted: usize,
    pub(crate) web_sessions_deleted: usize,
    /// OpenID grants whose code and access token have both ended.
    pub(crate) oidc_grants_deleted: usize,
    pub(crate) audit_events_deleted: usize,
    pub(crate) rate_buckets_deleted: usize,
}

/// One sweep at `now` (ms since the epoch).
pub(crate) async fn sweep(storage: &Storage, now: i64) -> Result<Swept, StorageError> {
    // Apart from the transaction: the buckets are not records, and their table is the backend's.
    let rate_buckets_deleted = storage
        .forget_idle_buckets(now - RATE_BUCKET_IDLE_MS)
        .await?;
    storage
        .transaction(move |tx| {
            let swept = Swept {
                rate_buckets_deleted,
                codes_expired: tx.remove_expired_codes(now)?,
                logins_expired: tx.expire_due_logins(now)?,
                logins_deleted: tx.delete_final_logins(now - LOGIN_RETENTION_MS)?,
                operations_deleted: tx.delete_expired_operations(now - OPERATION_RETENTION_MS)?,
                web_sessions_deleted: tx.delete_ended_web_sessions(now)?,
                oidc_grants_deleted: tx.delete_ended_grants(now)?,
                audit_events_deleted: tx.prune_audit(now - AUDIT_RETENTION_MS, MAX_AUDIT_EVENTS)?,
            };
            if swept != Swept::default() {
                tx.record("retention.swept", &format!("{swept:?}"))?;
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
    use crate::store::{ClientRow, GrantRow, NewActivationRow, NewLoginRow, NewOperationRow};
    use qrauth_core::LoginState;

    #[tokio::test]
    async fn expires_what_is_due_and_deletes_only_old_finished_records() {
        let storage = Storage::in_memory().unwrap();
        let now = 10 * OPERATION_RETENTION_MS;
        storage
            .transaction(move |tx| {
                assert!(tx.insert_user("a", "x", 0, false)?);
                let user_id = tx.user_id("a")?.unwrap();
                for (id, state, expires, updated) in [
                    ("open-due", LoginState::Pending, now - 1, now - 10),
                    ("open-later", LoginState::Scanned, now + 60_000, now),
                    (
                        "done-old",
                        LoginState::Completed,
                        now,
                        now - LOGIN_RETENTION_MS - 1,
                    ),
                    ("done-recent", LoginState::Denied, now, now - 1000),
                ] {
                    tx.insert_login(&NewLoginRow {
                        id,
                        poll_secret_hash: &[0],
                        scan_code_hash: id.as_bytes(),
                        service: "s",
                        requester_address: "a",
                        requester_agent: "b",
                        created_ms: 0,
                        expires_ms: expires,
                    })?;
                    tx.set_login_state(id, state, updated)?;
                }
                for (id, expires) in [
                    ("op-old", now - OPERATION_RETENTION_MS - 1),
                    ("op-new", now - 1),
                ] {
                    tx.insert_operation(&NewOperationRow {
                        id,
                        kind: "login",
                        user: "a",
                        activation_id: None,
                        key_type: 0,
                        payload: "p",
                        nonce: "n",
                        operation_data: "A2",
                        allow_biometry: false,
                        created_ms: 0,
                        expires_ms: expires,
                    })?;
                }
                tx.insert_activation(&NewActivationRow {
                    id: "act",
                    user_id,
                    code_hash: &[1],
                    code_expires_ms: now - 1,
                    server_private_sealed: &[0],
                    server_public: "k",
                    ctr_data: &[0],
                    max_failed_attempts: 5,
                    created_ms: 0,
                })?;
                assert!(tx.insert_client(&ClientRow {
                    id: "rp".into(),
                    name: "RP".into(),
                    secret_hash: None,
                    redirect_uris: vec!["https://rp.example/cb".into()],
                    post_logout_uris: Vec::new(),
                    created_ms: 0,
                })?);
                // An unused code that expired, and one that is still good.
                for (hash, code_expires_ms) in [(&b"old"[..], now - 1), (&b"new"[..], now + 60_000)]
                {
                    tx.insert_grant(&GrantRow {
                        code_hash: hash.to_vec(),
                        client_id: "rp".into(),
                        user_id,
                        redirect_uri: "https://rp.example/cb".into(),
                        code_challenge: "c".into(),
                        nonce: None,
                        scope: "openid".into(),
                        auth_time_ms: 0,
                        amr: "pwd".into(),
                        code_expires_ms,
                        redeemed_ms: None,
                        access_expires_ms: None,
                    })?;
                }
                Ok::<_, StorageError>(())
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
                oidc_grants_deleted: 1,
                audit_events_deleted: 0,
                rate_buckets_deleted: 0,
            }
        );
        let states = storage
            .transaction(|tx| {
                ["done-old", "done-recent", "open-due", "open-later"]
                    .into_iter()
                    .map(|id| Ok((id, tx.login(id)?.map(|row| row.state))))
                    .collect::<Result<Vec<_>, StorageError>>()
            })
            .await
            .unwrap();
        assert_eq!(
            states,
            [
                ("done-old", None),
                ("done-recent", Some(LoginState::Denied)),
                ("open-due", Some(LoginState::Expired)),
                ("open-later", Some(LoginState::Scanned)),
            ]
        );
        assert_eq!(sweep(&storage, now).await.unwrap(), Swept::default());
    }

    #[tokio::test]
    async fn the_audit_log_keeps_neither_old_events_nor_more_than_its_bound() {
        let storage = Storage::in_memory().unwrap();
        for i in 0..5 {
            storage.audit("test.event", format!("{i}")).await.unwrap();
        }
        let pruned = storage
            .transaction(|tx| tx.prune_audit(0, 2))
            .await
            .unwrap();
        assert_eq!(pruned, 3);
        assert_eq!(
            storage.audit_details("test.event").await.unwrap(),
            ["3", "4"]
        );
        let later = now_ms() + AUDIT_RETENTION_MS + 60_000;
        let swept = sweep(&storage, later).await.unwrap();
        assert_eq!(swept.audit_events_deleted, 2);
        assert!(
            storage
                .audit_details("test.event")
                .await
                .unwrap()
                .is_empty()
        );

        let long = "x".repeat(64 * 1024);
        storage
            .audit("test.long", format!("user {long:?}"))
            .await
            .unwrap();
        let kept = storage.audit_details("test.long").await.unwrap().remove(0);
        assert_eq!(kept.chars().count(), crate::store::MAX_DETAIL_CHARS + 1);
        assert!(kept.ends_with('…'));
    }
}
