//! `application`: the one row of the application's keys, sealed under the storage key
//! (`vault.rs`).

use super::StorageError;

/// The sealed keys as stored.
pub(crate) struct SealedApplicationKeys {
    pub(crate) master_private: Vec<u8>,
    pub(crate) master_public: String,
    pub(crate) identity_private: Vec<u8>,
    pub(crate) identity_public: String,
    pub(crate) application_secret: Vec<u8>,
}

/// The application's keys.
pub(crate) trait ApplicationTable {
    /// The keys, once they were made.
    fn application_keys(&mut self) -> Result<Option<SealedApplicationKeys>, StorageError>;

    /// Stores the keys made on the first start.
    fn insert_application_keys(
        &mut self,
        keys: &SealedApplicationKeys,
        created_ms: i64,
    ) -> Result<(), StorageError>;
}
