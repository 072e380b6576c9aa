use super::{PgTx, get};
use crate::store::{ApplicationTable, SealedApplicationKeys, StorageError};

const TABLE: &str = "application";

impl ApplicationTable for PgTx<'_> {
    fn application_keys(&mut self) -> Result<Option<SealedApplicationKeys>, StorageError> {
        self.query_opt(
            "SELECT master_private_sealed, master_public, identity_private_sealed,
                    identity_public, application_secret_sealed FROM application WHERE id = 1",
            &[],
        )?
        .map(|r| {
            Ok(SealedApplicationKeys {
                master_private: get(&r, 0, TABLE)?,
                master_public: get(&r, 1, TABLE)?,
                identity_private: get(&r, 2, TABLE)?,
                identity_public: get(&r, 3, TABLE)?,
                application_secret: get(&r, 4, TABLE)?,
            })
        })
        .transpose()
    }

    fn insert_application_keys(
        &mut self,
        keys: &SealedApplicationKeys,
        created_ms: i64,
    ) -> Result<(), StorageError> {
        self.execute(
            "INSERT INTO application (id, master_private_sealed, master_public,
                identity_private_sealed, identity_public, application_secret_sealed,
                created_ms) VALUES (1, $1, $2, $3, $4, $5, $6)",
            &[
                &keys.master_private,
                &keys.master_public,
                &keys.identity_private,
                &keys.identity_public,
                &keys.application_secret,
                &created_ms,
            ],
        )?;
        Ok(())
    }
}
