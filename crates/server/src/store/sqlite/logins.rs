use qrauth_core::{Denial, FactorType, LoginState};
use rusqlite::{OptionalExtension, params};

use super::{SqliteTx, named};
use crate::store::sql_list;
use crate::store::{LoginRow, LoginTable, NewLoginRow, StorageError};

impl LoginTable for SqliteTx<'_> {
    fn insert_login(&mut self, l: &NewLoginRow<'_>) -> Result<(), StorageError> {
        self.0
            .prepare_cached(
                "INSERT INTO login_sessions (id, poll_secret_hash, scan_code_hash, state, service,
                    requester_address, requester_agent, created_ms, expires_ms, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?8)",
            )?
            .execute(params![
                l.id,
                l.poll_secret_hash,
                l.scan_code_hash,
                LoginState::Pending.as_str(),
                l.service,
                l.requester_address,
                l.requester_agent,
                l.created_ms,
                l.expires_ms
            ])?;
        Ok(())
    }

    fn login(&mut self, id: &str) -> Result<Option<LoginRow>, StorageError> {
        // Cached: every poll runs this, and parsing the statement cost more than running it.
        Ok(self
            .0
            .prepare_cached(
                "SELECT poll_secret_hash, scan_code_hash, state, service, requester_address,
                    requester_agent, created_ms, expires_ms, user_id, activation_id, factors,
                    denial
                 FROM login_sessions WHERE id = ?1",
            )?
            .query_row([id], |r| {
                let approver = match (
                    r.get::<_, Option<i64>>(8)?,
                    r.get::<_, Option<String>>(9)?,
                    r.get::<_, Option<String>>(10)?,
                ) {
                    (Some(user), Some(activation), Some(_)) => {
                        Some((user, activation, named(r, 10, FactorType::from_name)?))
                    }
                    _ => None,
                };
                Ok(LoginRow {
                    poll_secret_hash: r.get(0)?,
                    scan_code_hash: r.get(1)?,
                    state: named(r, 2, LoginState::from_name)?,
                    service: r.get(3)?,
                    address: r.get(4)?,
                    agent: r.get(5)?,
                    created_ms: r.get(6)?,
                    expires_ms: r.get(7)?,
                    approver,
                    denial: match r.get::<_, Option<String>>(11)? {
                        Some(_) => Some(named(r, 11, Denial::from_name)?),
                        None => None,
                    },
                })
            })
            .optional()?)
    }

    fn login_by_scan_code(
        &mut self,
        scan_code_hash: &[u8],
    ) -> Result<Option<String>, StorageError> {
        Ok(self
            .0
            .query_row(
                "SELECT id FROM login_sessions WHERE scan_code_hash = ?1",
                [scan_code_hash],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn set_login_state(
        &mut self,
        id: &str,
        state: LoginState,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        self.0
            .prepare_cached("UPDATE login_sessions SET state = ?2, updated_ms = ?3 WHERE id = ?1")?
            .execute(params![id, state.as_str(), now_ms])?;
        Ok(())
    }

    fn extend_login(&mut self, id: &str, expires_ms: i64, now_ms: i64) -> Result<(), StorageError> {
        self.0
            .prepare_cached(
                "UPDATE login_sessions SET expires_ms = ?2, updated_ms = ?3 WHERE id = ?1",
            )?
            .execute(params![id, expires_ms, now_ms])?;
        Ok(())
    }

    fn deny_login(&mut self, id: &str, denial: Denial, now_ms: i64) -> Result<(), StorageError> {
        self.0
            .prepare_cached(
                "UPDATE login_sessions SET state = ?2, denial = ?3, updated_ms = ?4 WHERE id = ?1",
            )?
            .execute(params![
                id,
                LoginState::Denied.as_str(),
                denial.as_str(),
                now_ms
            ])?;
        Ok(())
    }

    fn approve_login(
        &mut self,
        id: &str,
        (user_id, activation_id, factors): (i64, &str, FactorType),
        expires_ms: i64,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        self.0.execute(
            "UPDATE login_sessions SET state = ?2, user_id = ?3, activation_id = ?4,
                factors = ?5, expires_ms = ?6, updated_ms = ?7 WHERE id = ?1",
            params![
                id,
                LoginState::Approved.as_str(),
                user_id,
                activation_id,
                factors.name(),
                expires_ms,
                now_ms
            ],
        )?;
        Ok(())
    }

    fn expire_due_logins(&mut self, now_ms: i64) -> Result<usize, StorageError> {
        let expiring = sql_list(&LoginState::ALL, LoginState::expires, LoginState::as_str);
        Ok(self.0.execute(
            &format!(
                "UPDATE login_sessions SET state = ?2, updated_ms = ?1
                 WHERE state IN ({expiring}) AND expires_ms <= ?1"
            ),
            params![now_ms, LoginState::Expired.as_str()],
        )?)
    }

    fn delete_final_logins(&mut self, before_ms: i64) -> Result<usize, StorageError> {
        let finals = sql_list(&LoginState::ALL, LoginState::is_final, LoginState::as_str);
        Ok(self.0.execute(
            &format!("DELETE FROM login_sessions WHERE state IN ({finals}) AND updated_ms <= ?1"),
            [before_ms],
        )?)
    }

    fn logins_waiting_at(
        &mut self,
        now_ms: i64,
    ) -> Result<Vec<(String, LoginState)>, StorageError> {
        let expiring = sql_list(&LoginState::ALL, LoginState::expires, LoginState::as_str);
        let mut statement = self.0.prepare(&format!(
            "SELECT id, state FROM login_sessions WHERE state IN ({expiring}) AND expires_ms > ?1"
        ))?;
        let rows = statement.query_map([now_ms], |r| {
            Ok((r.get(0)?, named(r, 1, LoginState::from_name)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
