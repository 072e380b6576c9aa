use qrauth_core::FactorType;
use qrauth_core::wire::OperationState;

use super::{PgTx, get, named};
use crate::store::{NewOperationRow, OperationRow, OperationTable, StorageError};

const TABLE: &str = "operations";

impl OperationTable for PgTx<'_> {
    fn insert_operation(&mut self, o: &NewOperationRow<'_>) -> Result<(), StorageError> {
        self.execute(
            "INSERT INTO operations (id, kind, user_name, activation_id, key_type, payload,
                nonce, operation_data, allow_biometry, state, created_ms, expires_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            &[
                &o.id,
                &o.kind,
                &o.user,
                &o.activation_id,
                &i32::from(o.key_type),
                &o.payload,
                &o.nonce,
                &o.operation_data,
                &o.allow_biometry,
                &OperationState::Pending.as_str(),
                &o.created_ms,
                &o.expires_ms,
            ],
        )?;
        Ok(())
    }

    fn operation(&mut self, id: &str, now_ms: i64) -> Result<Option<OperationRow>, StorageError> {
        let Some(r) = self.query_opt(
            "SELECT kind, user_name, activation_id, key_type, payload, nonce, operation_data,
                allow_biometry, state, expires_ms FROM operations WHERE id = $1",
            &[&id],
        )?
        else {
            return Ok(None);
        };
        let expires_ms: i64 = get(&r, 9, TABLE)?;
        let key_type: i32 = get(&r, 3, TABLE)?;
        Ok(Some(OperationRow {
            kind: get(&r, 0, TABLE)?,
            user: get(&r, 1, TABLE)?,
            activation_id: get(&r, 2, TABLE)?,
            key_type: u8::try_from(key_type)
                .map_err(|_| StorageError::bad_row(TABLE, id, "a key type out of range"))?,
            payload: get(&r, 4, TABLE)?,
            nonce: get(&r, 5, TABLE)?,
            operation_data: get(&r, 6, TABLE)?,
            allow_biometry: get(&r, 7, TABLE)?,
            state: named(&r, 8, TABLE, OperationState::from_name)?.at(expires_ms, now_ms),
            expires_ms,
        }))
    }

    fn approve_operation(
        &mut self,
        id: &str,
        factors: FactorType,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        self.execute(
            "UPDATE operations SET state = $2, approved_ms = $3, factors = $4 WHERE id = $1",
            &[
                &id,
                &OperationState::Approved.as_str(),
                &now_ms,
                &factors.name(),
            ],
        )?;
        Ok(())
    }

    fn delete_expired_operations(&mut self, before_ms: i64) -> Result<usize, StorageError> {
        Ok(self.execute(
            "DELETE FROM operations WHERE expires_ms <= $1",
            &[&before_ms],
        )? as usize)
    }

    fn operations_waiting_at(&mut self, now_ms: i64) -> Result<Vec<String>, StorageError> {
        self.query(
            "SELECT id FROM operations WHERE state = $1 AND expires_ms > $2",
            &[&OperationState::Pending.as_str(), &now_ms],
        )?
        .iter()
        .map(|r| get(r, 0, TABLE))
        .collect()
    }
}
