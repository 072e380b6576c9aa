use rusqlite::{OptionalExtension, params};

use super::SqliteTx;
use crate::store::{StorageError, UserTable, WebSessionRow};

impl UserTable for SqliteTx<'_> {
    fn insert_user(
        &mut self,
        name: &str,
        password_hash: &str,
        created_ms: i64,
        replace: bool,
    ) -> Result<bool, StorageError> {
        let sql = if replace {
            "INSERT INTO users (name, password_hash, created_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT(name) DO UPDATE SET password_hash = excluded.password_hash"
        } else {
            "INSERT INTO users (name, password_hash, created_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT(name) DO NOTHING"
        };
        Ok(self
            .0
            .execute(sql, params![name, password_hash, created_ms])?
            > 0)
    }

    fn password_hash(&mut self, name: &str) -> Result<Option<(i64, String)>, StorageError> {
        Ok(self
            .0
            .query_row(
                "SELECT id, password_hash FROM users WHERE name = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    fn user_id(&mut self, name: &str) -> Result<Option<i64>, StorageError> {
        Ok(self
            .0
            .query_row("SELECT id FROM users WHERE name = ?1", [name], |r| r.get(0))
            .optional()?)
    }

    fn user_name(&mut self, id: i64) -> Result<Option<String>, StorageError> {
        Ok(self
            .0
            .query_row("SELECT name FROM users WHERE id = ?1", [id], |r| r.get(0))
            .optional()?)
    }

    fn insert_web_session(
        &mut self,
        token_hash: &[u8],
        user_id: i64,
        amr: &str,
        created_ms: i64,
        expires_ms: i64,
    ) -> Result<(), StorageError> {
        self.0.execute(
            "INSERT INTO web_sessions (token_hash, user_id, amr, created_ms, expires_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![token_hash, user_id, amr, created_ms, expires_ms],
        )?;
        Ok(())
    }

    fn web_session(
        &mut self,
        token_hash: &[u8],
        now_ms: i64,
    ) -> Result<Option<WebSessionRow>, StorageError> {
        Ok(self
            .0
            .prepare_cached(
                "SELECT users.id, users.name, web_sessions.amr, web_sessions.created_ms
                 FROM web_sessions JOIN users ON users.id = web_sessions.user_id
                 WHERE token_hash = ?1 AND expires_ms > ?2",
            )?
            .query_row(params![token_hash, now_ms], |r| {
                Ok(WebSessionRow {
                    user_id: r.get(0)?,
                    user: r.get(1)?,
                    amr: r.get(2)?,
                    created_ms: r.get(3)?,
                })
            })
            .optional()?)
    }

    fn delete_web_session(&mut self, token_hash: &[u8]) -> Result<(), StorageError> {
        self.0.execute(
            "DELETE FROM web_sessions WHERE token_hash = ?1",
            [token_hash],
        )?;
        Ok(())
    }

    fn delete_user_web_sessions(&mut self, name: &str) -> Result<usize, StorageError> {
        Ok(self.0.execute(
            "DELETE FROM web_sessions WHERE user_id = (SELECT id FROM users WHERE name = ?1)",
            [name],
        )?)
    }

    fn delete_ended_web_sessions(&mut self, now_ms: i64) -> Result<usize, StorageError> {
        Ok(self
            .0
            .execute("DELETE FROM web_sessions WHERE expires_ms <= ?1", [now_ms])?)
    }
}
