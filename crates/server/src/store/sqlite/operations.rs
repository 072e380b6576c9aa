use qrauth_core::FactorType;
use qrauth_core::wire::OperationState;
use rusqlite::{OptionalExtension, params};

use super::{SqliteTx, named};
use crate::store::{NewOperationRow, OperationRow, OperationTable, StorageError};

impl OperationTable for SqliteTx<'_> {
    fn insert_operation(&mut self, o: &NewOperationRow<'_>) -> Result<(), StorageError> {
        self.0.execute(
            "INSERT INTO operations (id, kind, user_name, activation_id, key_type, payload,
                nonce, operation_data, allow_biometry, state, created_ms, expires_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                o.id,
                o.kind,
                o.user,
                o.activation_id,
                o.key_type,
                o.payload,
                o.nonce,
                o.operation_data,
                o.allow_biometry,
                OperationState::Pending.as_str(),
                o.created_ms,
                o.expires_ms
            ],
        )?;
        Ok(())
    }

    fn operation(&mut self, id: &str, now_ms: i64) -> Result<Option<OperationRow>, StorageError> {
        Ok(self
            .0
            .query_row(
                "SELECT kind, user_name, activation_id, key_type, payload, nonce, operation_data,
                    allow_biometry, state, expires_ms FROM operations WHERE id = ?1",
                [id],
                |r| {
                    let expires_ms: i64 = r.get(9)?;
                    let state = named(r, 8, OperationState::from_name)?;
                    Ok(OperationRow {
                        kind: r.get(0)?,
                        user: r.get(1)?,
                        activation_id: r.get(2)?,
                        key_type: r.get(3)?,
                        payload: r.get(4)?,
                        nonce: r.get(5)?,
                        operation_data: r.get(6)?,
                        allow_biometry: r.get(7)?,
                        state: state.at(expires_ms, now_ms),
                        expires_ms,
                    })
                },
            )
            .optional()?)
    }

    fn approve_operation(
        &mut self,
        id: &str,
        factors: FactorType,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        self.0.execute(
            "UPDATE operations SET state = ?2, approved_ms = ?3, factors = ?4 WHERE id = ?1",
            params![
                id,
                OperationState::Approved.as_str(),
                now_ms,
                factors.name()
            ],
        )?;
        Ok(())
    }

    fn delete_expired_operations(&mut self, before_ms: i64) -> Result<usize, StorageError> {
        Ok(self
            .0
            .execute("DELETE FROM operations WHERE expires_ms <= ?1", [before_ms])?)
    }

    fn operations_waiting_at(&mut self, now_ms: i64) -> Result<Vec<String>, StorageError> {
        let mut statement = self
            .0
            .prepare("SELECT id FROM operations WHERE state = ?1 AND expires_ms > ?2")?;
        let rows = statement.query_map(params![OperationState::Pending.as_str(), now_ms], |r| {
            r.get(0)
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
