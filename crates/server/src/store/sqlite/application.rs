use rusqlite::{OptionalExtension, params};

use super::SqliteTx;
use crate::store::{ApplicationTable, SealedApplicationKeys, StorageError};

impl ApplicationTable for SqliteTx<'_> {
    fn application_keys(&mut self) -> Result<Option<SealedApplicationKeys>, StorageError> {
        Ok(self
            .0
            .query_row(
                "SELECT master_private_sealed, master_public, identity_private_sealed,
                        identity_public, application_secret_sealed FROM application WHERE id = 1",
                [],
                |r| {
                    Ok(SealedApplicationKeys {
                        master_private: r.get(0)?,
                        master_public: r.get(1)?,
                        identity_private: r.get(2)?,
                        identity_public: r.get(3)?,
                        application_secret: r.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    fn insert_application_keys(
        &mut self,
        keys: &SealedApplicationKeys,
        created_ms: i64,
    ) -> Result<(), StorageError> {
        self.0.execute(
            "INSERT INTO application (id, master_private_sealed, master_public,
                identity_private_sealed, identity_public, application_secret_sealed,
                created_ms) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                keys.master_private,
                keys.master_public,
                keys.identity_private,
                keys.identity_public,
                keys.application_secret,
                created_ms
            ],
        )?;
        Ok(())
    }
}
