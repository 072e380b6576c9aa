use postgres::Row;
use qrauth_core::{ActivationStatus, FailedAttempts};

use super::{PgTx, count, get, named};
use crate::store::{ActivationRow, ActivationTable, NewActivationRow, StorageError};

const TABLE: &str = "activations";

/// The query of [`row`]'s columns with `$filter`, as one literal: prepared statements are
/// cached by their text.
macro_rules! select_rows {
    ($filter:literal) => {
        concat!(
            "SELECT a.id, u.name, a.status, a.device_name, a.device_public, a.server_public,
                a.failed_attempts, a.max_failed_attempts, a.blocked_reason, a.created_ms,
                a.code_expires_ms, a.committed_ms, a.last_used_ms, a.ctr_data, a.counter,
                a.user_id, a.server_private_sealed
             FROM activations a JOIN users u ON u.id = a.user_id ",
            $filter
        )
    };
}

fn row(r: &Row, now_ms: i64) -> Result<ActivationRow, StorageError> {
    let code_expires_ms: i64 = get(r, 10, TABLE)?;
    Ok(ActivationRow {
        id: get(r, 0, TABLE)?,
        user: get(r, 1, TABLE)?,
        status: named(r, 2, TABLE, ActivationStatus::from_name)?.at(code_expires_ms, now_ms),
        device_name: get(r, 3, TABLE)?,
        device_public: get(r, 4, TABLE)?,
        server_public: get(r, 5, TABLE)?,
        attempts: FailedAttempts {
            failed: count(r, 6, TABLE)?,
            max: count(r, 7, TABLE)?,
        },
        blocked_reason: get(r, 8, TABLE)?,
        created_ms: get(r, 9, TABLE)?,
        code_expires_ms,
        committed_ms: get(r, 11, TABLE)?,
        last_used_ms: get(r, 12, TABLE)?,
        ctr_data: get(r, 13, TABLE)?,
        counter: get(r, 14, TABLE)?,
        user_id: get(r, 15, TABLE)?,
        server_private_sealed: get(r, 16, TABLE)?,
    })
}

fn rows(found: Vec<Row>, now_ms: i64) -> Result<Vec<ActivationRow>, StorageError> {
    found.iter().map(|r| row(r, now_ms)).collect()
}

impl ActivationTable for PgTx<'_> {
    fn insert_activation(&mut self, a: &NewActivationRow<'_>) -> Result<(), StorageError> {
        self.execute(
            "INSERT INTO activations (id, user_id, status, code_hash, code_expires_ms,
                server_private_sealed, server_public, ctr_data, max_failed_attempts,
                created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                &a.id,
                &a.user_id,
                &ActivationStatus::Created.as_str(),
                &a.code_hash,
                &a.code_expires_ms,
                &a.server_private_sealed,
                &a.server_public,
                &a.ctr_data,
                &i64::from(a.max_failed_attempts),
                &a.created_ms,
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
        let found = self.query(
            select_rows!(
                "WHERE u.name = $1 AND ($2::TEXT IS NULL OR a.id = $2)
                 ORDER BY a.created_ms DESC, a.id"
            ),
            &[&user, &only],
        )?;
        rows(found, now_ms)
    }

    fn activation(&mut self, id: &str, now_ms: i64) -> Result<Option<ActivationRow>, StorageError> {
        self.query_opt(select_rows!("WHERE a.id = $1"), &[&id])?
            .map(|r| row(&r, now_ms))
            .transpose()
    }

    fn activation_by_code(
        &mut self,
        code_hash: &[u8],
        now_ms: i64,
    ) -> Result<Option<ActivationRow>, StorageError> {
        self.query_opt(
            select_rows!("WHERE a.code_hash = $1 AND a.status = $2"),
            &[&code_hash, &ActivationStatus::Created.as_str()],
        )?
        .map(|r| row(&r, now_ms))
        .transpose()
    }

    fn active_activations(&mut self, user: &str) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        self.query(
            "SELECT a.id, a.server_private_sealed FROM activations a
             JOIN users u ON u.id = a.user_id WHERE u.name = $1 AND a.status = $2
             ORDER BY a.committed_ms DESC, a.id",
            &[&user, &ActivationStatus::Active.as_str()],
        )?
        .iter()
        .map(|r| Ok((get(r, 0, TABLE)?, get(r, 1, TABLE)?)))
        .collect()
    }

    fn commit_activation(
        &mut self,
        id: &str,
        device_public: &str,
        device_name: Option<&str>,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        self.execute(
            "UPDATE activations SET status = $2, code_hash = NULL, device_public = $3,
                device_name = $4, committed_ms = $5 WHERE id = $1",
            &[
                &id,
                &ActivationStatus::Active.as_str(),
                &device_public,
                &device_name,
                &now_ms,
            ],
        )?;
        Ok(())
    }

    fn remove_activation(&mut self, id: &str) -> Result<(), StorageError> {
        self.execute(
            "UPDATE activations SET status = $2, code_hash = NULL WHERE id = $1",
            &[&id, &ActivationStatus::Removed.as_str()],
        )?;
        Ok(())
    }

    fn remove_user_activation(&mut self, id: &str, user: &str) -> Result<bool, StorageError> {
        Ok(self.execute(
            "UPDATE activations SET status = $3, code_hash = NULL
             WHERE id = $1 AND user_id = (SELECT id FROM users WHERE name = $2)",
            &[&id, &user, &ActivationStatus::Removed.as_str()],
        )? > 0)
    }

    fn unblock_activation(&mut self, id: &str) -> Result<bool, StorageError> {
        Ok(self.execute(
            "UPDATE activations SET status = $2, failed_attempts = 0, blocked_reason = NULL
             WHERE id = $1 AND status = $3",
            &[
                &id,
                &ActivationStatus::Active.as_str(),
                &ActivationStatus::Blocked.as_str(),
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
        self.execute(
            "UPDATE activations SET ctr_data = $2, counter = counter + $3,
                failed_attempts = 0, last_used_ms = $4 WHERE id = $1",
            &[&id, &next_ctr, &i64::from(steps), &now_ms],
        )?;
        Ok(())
    }

    fn record_failed_signature(
        &mut self,
        id: &str,
        attempts: FailedAttempts,
        status: ActivationStatus,
        reason: Option<&str>,
    ) -> Result<(), StorageError> {
        self.execute(
            "UPDATE activations SET failed_attempts = $2, status = $3, blocked_reason = $4
             WHERE id = $1",
            &[&id, &i64::from(attempts.failed), &status.as_str(), &reason],
        )?;
        Ok(())
    }

    fn remove_expired_codes(&mut self, now_ms: i64) -> Result<usize, StorageError> {
        Ok(self.execute(
            "UPDATE activations SET status = $2, code_hash = NULL
             WHERE status = $3 AND code_expires_ms <= $1",
            &[
                &now_ms,
                &ActivationStatus::Removed.as_str(),
                &ActivationStatus::Created.as_str(),
            ],
        )? as usize)
    }

    fn active_counters(&mut self) -> Result<Vec<(String, i64, u32)>, StorageError> {
        self.query(
            "SELECT id, counter, failed_attempts FROM activations WHERE status = $1",
            &[&ActivationStatus::Active.as_str()],
        )?
        .iter()
        .map(|r| Ok((get(r, 0, TABLE)?, get(r, 1, TABLE)?, count(r, 2, TABLE)?)))
        .collect()
    }
}
