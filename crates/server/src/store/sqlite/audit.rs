use rusqlite::{OptionalExtension, params};

use super::SqliteTx;
use crate::store::{AuditLog, StorageError, now_ms};

impl AuditLog for SqliteTx<'_> {
    fn append(&mut self, event: &'static str, detail: &str) -> Result<(), StorageError> {
        self.0
            .prepare_cached("INSERT INTO audit_log (at_ms, event, detail) VALUES (?1, ?2, ?3)")?
            .execute(params![now_ms(), event, detail])?;
        Ok(())
    }

    fn prune_audit(&mut self, before_ms: i64, keep: usize) -> Result<usize, StorageError> {
        let old = self
            .0
            .execute("DELETE FROM audit_log WHERE at_ms < ?1", [before_ms])?;
        let beyond = self.0.execute(
            "DELETE FROM audit_log WHERE id <= (SELECT id FROM audit_log ORDER BY id DESC
             LIMIT 1 OFFSET ?1)",
            [i64::try_from(keep).unwrap_or(i64::MAX)],
        )?;
        Ok(old + beyond)
    }

    fn last_event(&mut self) -> Result<Option<(String, String)>, StorageError> {
        Ok(self
            .0
            .query_row(
                "SELECT event, detail FROM audit_log ORDER BY id DESC LIMIT 1",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?)
    }

    fn details_of(&mut self, event: &str) -> Result<Vec<String>, StorageError> {
        let mut statement = self
            .0
            .prepare("SELECT detail FROM audit_log WHERE event = ?1 ORDER BY id")?;
        let rows = statement.query_map([event], |row| row.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
