use super::{PgTx, get};
use crate::store::{StorageError, UserTable, WebSessionRow};

const TABLE: &str = "users";

impl UserTable for PgTx<'_> {
    fn insert_user(
        &mut self,
        name: &str,
        password_hash: &str,
        created_ms: i64,
        replace: bool,
    ) -> Result<bool, StorageError> {
        let sql = if replace {
            "INSERT INTO users (name, password_hash, created_ms) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash"
        } else {
            "INSERT INTO users (name, password_hash, created_ms) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO NOTHING"
        };
        Ok(self.execute(sql, &[&name, &password_hash, &created_ms])? > 0)
    }

    fn password_hash(&mut self, name: &str) -> Result<Option<(i64, String)>, StorageError> {
        self.query_opt(
            "SELECT id, password_hash FROM users WHERE name = $1",
            &[&name],
        )?
        .map(|r| Ok((get(&r, 0, TABLE)?, get(&r, 1, TABLE)?)))
        .transpose()
    }

    fn user_id(&mut self, name: &str) -> Result<Option<i64>, StorageError> {
        self.query_opt("SELECT id FROM users WHERE name = $1", &[&name])?
            .map(|r| get(&r, 0, TABLE))
            .transpose()
    }

    fn user_name(&mut self, id: i64) -> Result<Option<String>, StorageError> {
        self.query_opt("SELECT name FROM users WHERE id = $1", &[&id])?
            .map(|r| get(&r, 0, TABLE))
            .transpose()
    }

    fn insert_web_session(
        &mut self,
        token_hash: &[u8],
        user_id: i64,
        amr: &str,
        created_ms: i64,
        expires_ms: i64,
    ) -> Result<(), StorageError> {
        self.execute(
            "INSERT INTO web_sessions (token_hash, user_id, amr, created_ms, expires_ms)
             VALUES ($1, $2, $3, $4, $5)",
            &[&token_hash, &user_id, &amr, &created_ms, &expires_ms],
        )?;
        Ok(())
    }

    fn web_session(
        &mut self,
        token_hash: &[u8],
        now_ms: i64,
    ) -> Result<Option<WebSessionRow>, StorageError> {
        self.query_opt(
            "SELECT users.id, users.name, web_sessions.amr, web_sessions.created_ms
             FROM web_sessions JOIN users ON users.id = web_sessions.user_id
             WHERE token_hash = $1 AND expires_ms > $2",
            &[&token_hash, &now_ms],
        )?
        .map(|r| {
            Ok(WebSessionRow {
                user_id: get(&r, 0, TABLE)?,
                user: get(&r, 1, TABLE)?,
                amr: get(&r, 2, TABLE)?,
                created_ms: get(&r, 3, TABLE)?,
            })
        })
        .transpose()
    }

    fn delete_web_session(&mut self, token_hash: &[u8]) -> Result<(), StorageError> {
        self.execute(
            "DELETE FROM web_sessions WHERE token_hash = $1",
            &[&token_hash],
        )?;
        Ok(())
    }

    fn delete_user_web_sessions(&mut self, name: &str) -> Result<usize, StorageError> {
        Ok(self.execute(
            "DELETE FROM web_sessions WHERE user_id = (SELECT id FROM users WHERE name = $1)",
            &[&name],
        )? as usize)
    }

    fn delete_ended_web_sessions(&mut self, now_ms: i64) -> Result<usize, StorageError> {
        Ok(self.execute(
            "DELETE FROM web_sessions WHERE expires_ms <= $1",
            &[&now_ms],
        )? as usize)
    }
}
