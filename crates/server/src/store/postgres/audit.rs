use super::{PgTx, get};
use crate::store::{AuditLog, StorageError, now_ms};

const TABLE: &str = "audit_log";

impl AuditLog for PgTx<'_> {
    fn append(&mut self, event: &'static str, detail: &str) -> Result<(), StorageError> {
        self.execute(
            "INSERT INTO audit_log (at_ms, event, detail) VALUES ($1, $2, $3)",
            &[&now_ms(), &event, &detail],
        )?;
        Ok(())
    }

    fn prune_audit(&mut self, before_ms: i64, keep: usize) -> Result<usize, StorageError> {
        let old = self.execute("DELETE FROM audit_log WHERE at_ms < $1", &[&before_ms])?;
        let beyond = self.execute(
            "DELETE FROM audit_log WHERE id <= (SELECT id FROM audit_log ORDER BY id DESC
             LIMIT 1 OFFSET $1)",
            &[&i64::try_from(keep).unwrap_or(i64::MAX)],
        )?;
        Ok((old + beyond) as usize)
    }

    fn last_event(&mut self) -> Result<Option<(String, String)>, StorageError> {
        self.query_opt(
            "SELECT event, detail FROM audit_log ORDER BY id DESC LIMIT 1",
            &[],
        )?
        .map(|r| Ok((get(&r, 0, TABLE)?, get(&r, 1, TABLE)?)))
        .transpose()
    }

    fn details_of(&mut self, event: &str) -> Result<Vec<String>, StorageError> {
        self.query(
            "SELECT detail FROM audit_log WHERE event = $1 ORDER BY id",
            &[&event],
        )?
        .iter()
        .map(|r| get(r, 0, TABLE))
        .collect()
    }
}
