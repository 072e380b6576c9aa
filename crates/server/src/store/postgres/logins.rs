use postgres::Row;
use qrauth_core::{Denial, FactorType, LoginState};

use super::{LOGIN_CHANNEL, PgTx, get, named};
use crate::store::{LoginRow, LoginTable, NewLoginRow, StorageError, sql_list};

const TABLE: &str = "login_sessions";

fn login_row(r: &Row) -> Result<LoginRow, StorageError> {
    let approver = match (
        get::<Option<i64>>(r, 8, TABLE)?,
        get::<Option<String>>(r, 9, TABLE)?,
        get::<Option<&str>>(r, 10, TABLE)?,
    ) {
        (Some(user), Some(activation), Some(_)) => Some((
            user,
            activation,
            named(r, 10, TABLE, FactorType::from_name)?,
        )),
        _ => None,
    };
    Ok(LoginRow {
        poll_secret_hash: get(r, 0, TABLE)?,
        scan_code_hash: get(r, 1, TABLE)?,
        state: named(r, 2, TABLE, LoginState::from_name)?,
        service: get(r, 3, TABLE)?,
        address: get(r, 4, TABLE)?,
        agent: get(r, 5, TABLE)?,
        created_ms: get(r, 6, TABLE)?,
        expires_ms: get(r, 7, TABLE)?,
        approver,
        denial: match get::<Option<&str>>(r, 11, TABLE)? {
            Some(_) => Some(named(r, 11, TABLE, Denial::from_name)?),
            None => None,
        },
    })
}

impl PgTx<'_> {
    /// Tells every server's long-polls on login `id` to look again, when this commits.
    fn announce(&mut self, id: &str) -> Result<(), StorageError> {
        self.execute("SELECT pg_notify($1, $2)", &[&LOGIN_CHANNEL, &id])?;
        Ok(())
    }
}

impl LoginTable for PgTx<'_> {
    fn insert_login(&mut self, l: &NewLoginRow<'_>) -> Result<(), StorageError> {
        self.execute(
            "INSERT INTO login_sessions (id, poll_secret_hash, scan_code_hash, state, service,
                requester_address, requester_agent, created_ms, expires_ms, updated_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8)",
            &[
                &l.id,
                &l.poll_secret_hash,
                &l.scan_code_hash,
                &LoginState::Pending.as_str(),
                &l.service,
                &l.requester_address,
                &l.requester_agent,
                &l.created_ms,
                &l.expires_ms,
            ],
        )?;
        Ok(())
    }

    fn login(&mut self, id: &str) -> Result<Option<LoginRow>, StorageError> {
        self.query_opt(
            "SELECT poll_secret_hash, scan_code_hash, state, service, requester_address,
                requester_agent, created_ms, expires_ms, user_id, activation_id, factors, denial
             FROM login_sessions WHERE id = $1",
            &[&id],
        )?
        .map(|r| login_row(&r))
        .transpose()
    }

    fn login_by_scan_code(
        &mut self,
        scan_code_hash: &[u8],
    ) -> Result<Option<String>, StorageError> {
        self.query_opt(
            "SELECT id FROM login_sessions WHERE scan_code_hash = $1",
            &[&scan_code_hash],
        )?
        .map(|r| get(&r, 0, TABLE))
        .transpose()
    }

    fn set_login_state(
        &mut self,
        id: &str,
        state: LoginState,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        self.execute(
            "UPDATE login_sessions SET state = $2, updated_ms = $3 WHERE id = $1",
            &[&id, &state.as_str(), &now_ms],
        )?;
        self.announce(id)
    }

    fn extend_login(&mut self, id: &str, expires_ms: i64, now_ms: i64) -> Result<(), StorageError> {
        self.execute(
            "UPDATE login_sessions SET expires_ms = $2, updated_ms = $3 WHERE id = $1",
            &[&id, &expires_ms, &now_ms],
        )?;
        self.announce(id)
    }

    fn deny_login(&mut self, id: &str, denial: Denial, now_ms: i64) -> Result<(), StorageError> {
        self.execute(
            "UPDATE login_sessions SET state = $2, denial = $3, updated_ms = $4 WHERE id = $1",
            &[&id, &LoginState::Denied.as_str(), &denial.as_str(), &now_ms],
        )?;
        self.announce(id)
    }

    fn approve_login(
        &mut self,
        id: &str,
        (user_id, activation_id, factors): (i64, &str, FactorType),
        expires_ms: i64,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        self.execute(
            "UPDATE login_sessions SET state = $2, user_id = $3, activation_id = $4,
                factors = $5, expires_ms = $6, updated_ms = $7 WHERE id = $1",
            &[
                &id,
                &LoginState::Approved.as_str(),
                &user_id,
                &activation_id,
                &factors.name(),
                &expires_ms,
                &now_ms,
            ],
        )?;
        self.announce(id)
    }

    fn expire_due_logins(&mut self, now_ms: i64) -> Result<usize, StorageError> {
        // A waiter's own timer ends its wait at the expiry, so no announcement is needed.
        let expiring = sql_list(&LoginState::ALL, LoginState::expires, LoginState::as_str);
        Ok(self.execute_text(
            &format!(
                "UPDATE login_sessions SET state = $2, updated_ms = $1
                 WHERE state IN ({expiring}) AND expires_ms <= $1"
            ),
            &[&now_ms, &LoginState::Expired.as_str()],
        )? as usize)
    }

    fn delete_final_logins(&mut self, before_ms: i64) -> Result<usize, StorageError> {
        let finals = sql_list(&LoginState::ALL, LoginState::is_final, LoginState::as_str);
        Ok(self.execute_text(
            &format!("DELETE FROM login_sessions WHERE state IN ({finals}) AND updated_ms <= $1"),
            &[&before_ms],
        )? as usize)
    }

    fn logins_waiting_at(
        &mut self,
        now_ms: i64,
    ) -> Result<Vec<(String, LoginState)>, StorageError> {
        let expiring = sql_list(&LoginState::ALL, LoginState::expires, LoginState::as_str);
        self.query_text(
            &format!(
                "SELECT id, state FROM login_sessions
                 WHERE state IN ({expiring}) AND expires_ms > $1"
            ),
            &[&now_ms],
        )?
        .iter()
        .map(|r| {
            Ok((
                get(r, 0, TABLE)?,
                named(r, 1, TABLE, LoginState::from_name)?,
            ))
        })
        .collect()
    }
}
