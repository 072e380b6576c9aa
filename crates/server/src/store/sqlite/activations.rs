use qrauth_core::{ActivationStatus, FailedAttempts};
use rusqlite::{OptionalExtension, params};

use super::{SqliteTx, named};
use crate::store::{ActivationRow, ActivationTable, NewActivationRow, StorageError};

const ROW_COLUMNS: &str = "a.id, u.name, a.status, a.device_name, a.device_public,
    a.server_public, a.failed_attempts, a.max_failed_attempts, a.blocked_reason, a.created_ms,
    a.code_expires_ms, a.committed_ms, a.last_used_ms, a.ctr_data, a.counter, a.user_id,
    a.server_private_sealed";

fn row(r: &rusqlite::Row<'_>, now_ms: i64) -> rusqlite::Result<ActivationRow> {
    let code_expires_ms: i64 = r.get(10)?;
    Ok(ActivationRow {
        id: r.get(0)?,
        user: r.get(1)?,
        status: named(r, 2, ActivationStatus::from_name)?.at(code_expires_ms, now_ms),
        device_name: r.get(3)?,
        device_public: r.get(4)?,
        server_public: r.get(5)?,
        attempts: FailedAttempts {
            failed: r.get(6)?,
            max: r.get(7)?,
        },
        blocked_reason: r.get(8)?,
        created_ms: r.get(9)?,
        code_expires_ms,
        committed_ms: r.get(11)?,
        last_used_ms: r.get(12)?,
        ctr_data: r.get(13)?,
        counter: r.get(14)?,
        user_id: r.get(15)?,
        server_private_sealed: r.get(16)?,
    })
}

impl ActivationTable for SqliteTx<'_> {
    fn insert_activation(&mut self, a: &NewActivationRow<'_>) -> Result<(), StorageError> {
        self.0.execute(
            "INSERT INTO activations (id, user_id, status, code_hash, code_expires_ms,
                server_private_sealed, server_public, ctr_data, max_failed_attempts,
                created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                a.id,
                a.user_id,
                ActivationStatus::Created.as_str(),
                a.code_hash,
                a.code_expires_ms,
                a.server_private_sealed,
                a.server_public,
                a.ctr_data,
                a.max_failed_attempts,
                a.created_ms
            ],
        )?;
        Ok(())
    }

    fn user_activations(
        &mut self,
        user: &str,
        only: Option<&str>,
        now_ms: i64,
    ) -> Result<Vec<ActivationRow>, StorageError> {
        let mut statement = self.0.prepare(&format!(
            "SELECT {ROW_COLUMNS} FROM activations a JOIN users u ON u.id = a.user_id
             WHERE u.name = ?1 AND (?2 IS NULL OR a.id = ?2)
             ORDER BY a.created_ms DESC, a.id"
        ))?;
        let rows = statement.query_map(params![user, only], |r| row(r, now_ms))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn activation(&mut self, id: &str, now_ms: i64) -> Result<Option<ActivationRow>, StorageError> {
        // Cached: every signature check runs this.
        Ok(self
            .0
            .prepare_cached(&format!(
                "SELECT {ROW_COLUMNS} FROM activations a JOIN users u ON u.id = a.user_id
                 WHERE a.id = ?1"
            ))?
            .query_row([id], |r| row(r, now_ms))
            .optional()?)
    }

    fn activation_by_code(
        &mut self,
        code_hash: &[u8],
        now_ms: i64,
    ) -> Result<Option<ActivationRow>, StorageError> {
        Ok(self
            .0
            .query_row(
                &format!(
                    "SELECT {ROW_COLUMNS} FROM activations a JOIN users u ON u.id = a.user_id
                     WHERE a.code_hash = ?1 AND a.status = ?2"
                ),
                params![code_hash, ActivationStatus::Created.as_str()],
                |r| row(r, now_ms),
            )
            .optional()?)
    }

    fn active_activations(&mut self, user: &str) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        let mut statement = self.0.prepare_cached(
            "SELECT a.id, a.server_private_sealed FROM activations a
             JOIN users u ON u.id = a.user_id WHERE u.name = ?1 AND a.status = ?2
             ORDER BY a.committed_ms DESC, a.id",
        )?;
        let rows = statement.query_map(params![user, ActivationStatus::Active.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn commit_activation(
        &mut self,
        id: &str,
        device_public: &str,
        device_name: Option<&str>,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        self.0.execute(
            "UPDATE activations SET status = ?2, code_hash = NULL, device_public = ?3,
                device_name = ?4, committed_ms = ?5 WHERE id = ?1",
            params![
                id,
                ActivationStatus::Active.as_str(),
                device_public,
                device_name,
                now_ms
            ],
        )?;
        Ok(())
    }

    fn remove_activation(&mut self, id: &str) -> Result<(), StorageError> {
        self.0.execute(
            "UPDATE activations SET status = ?2, code_hash = NULL WHERE id = ?1",
            params![id, ActivationStatus::Removed.as_str()],
        )?;
        Ok(())
    }

    fn remove_user_activation(&mut self, id: &str, user: &str) -> Result<bool, StorageError> {
        Ok(self.0.execute(
            "UPDATE activations SET status = ?3, code_hash = NULL
             WHERE id = ?1 AND user_id = (SELECT id FROM users WHERE name = ?2)",
            params![id, user, ActivationStatus::Removed.as_str()],
        )? > 0)
    }

    fn unblock_activation(&mut self, id: &str) -> Result<bool, StorageError> {
        Ok(self.0.execute(
            "UPDATE activations SET status = ?2, failed_attempts = 0, blocked_reason = NULL
             WHERE id = ?1 AND status = ?3",
            params![
                id,
                ActivationStatus::Active.as_str(),
                ActivationStatus::Blocked.as_str()
            ],
        )? > 0)
    }

    fn record_good_signature(
        &mut self,
        id: &str,
        next_ctr: &[u8],
        steps: u32,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        self.0
            .prepare_cached(
                "UPDATE activations SET ctr_data = ?2, counter = counter + ?3,
                    failed_attempts = 0, last_used_ms = ?4 WHERE id = ?1",
            )?
            .execute(params![id, next_ctr, steps, now_ms])?;
        Ok(())
    }

    fn record_failed_signature(
        &mut self,
        id: &str,
        attempts: FailedAttempts,
        status: ActivationStatus,
        reason: Option<&str>,
    ) -> Result<(), StorageError> {
        self.0
            .prepare_cached(
                "UPDATE activations SET failed_attempts = ?2, status = ?3, blocked_reason = ?4
                 WHERE id = ?1",
            )?
            .execute(params![id, attempts.failed, status.as_str(), reason])?;
        Ok(())
    }

    fn remove_expired_codes(&mut self, now_ms: i64) -> Result<usize, StorageError> {
        Ok(self.0.execute(
            "UPDATE activations SET status = ?2, code_hash = NULL
             WHERE status = ?3 AND code_expires_ms <= ?1",
            params![
                now_ms,
                ActivationStatus::Removed.as_str(),
                ActivationStatus::Created.as_str()
            ],
        )?)
    }

    fn active_counters(&mut self) -> Result<Vec<(String, i64, u32)>, StorageError> {
        let mut statement = self
            .0
            .prepare("SELECT id, counter, failed_attempts FROM activations WHERE status = ?1")?;
        let rows = statement.query_map([ActivationStatus::Active.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
