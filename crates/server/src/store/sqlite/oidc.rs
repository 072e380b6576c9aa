use rusqlite::{OptionalExtension, params};

use super::SqliteTx;
use crate::store::oidc::{join_uris, split_uris};
use crate::store::{ClientRow, GrantRow, OidcTable, StorageError};

const CLIENT_COLUMNS: &str = "id, name, secret_hash, redirect_uris, post_logout_uris, created_ms";
const GRANT_COLUMNS: &str = "g.code_hash, g.client_id, g.user_id, g.redirect_uri, \
    g.code_challenge, g.nonce, g.scope, g.auth_time_ms, g.amr, g.code_expires_ms, \
    g.redeemed_ms, g.access_expires_ms";

fn client(r: &rusqlite::Row<'_>) -> rusqlite::Result<ClientRow> {
    Ok(ClientRow {
        id: r.get(0)?,
        name: r.get(1)?,
        secret_hash: r.get(2)?,
        redirect_uris: split_uris(&r.get::<_, String>(3)?),
        post_logout_uris: split_uris(&r.get::<_, String>(4)?),
        created_ms: r.get(5)?,
    })
}

fn grant(r: &rusqlite::Row<'_>) -> rusqlite::Result<GrantRow> {
    Ok(GrantRow {
        code_hash: r.get(0)?,
        client_id: r.get(1)?,
        user_id: r.get(2)?,
        redirect_uri: r.get(3)?,
        code_challenge: r.get(4)?,
        nonce: r.get(5)?,
        scope: r.get(6)?,
        auth_time_ms: r.get(7)?,
        amr: r.get(8)?,
        code_expires_ms: r.get(9)?,
        redeemed_ms: r.get(10)?,
        access_expires_ms: r.get(11)?,
    })
}

impl OidcTable for SqliteTx<'_> {
    fn insert_client(&mut self, c: &ClientRow) -> Result<bool, StorageError> {
        Ok(self.0.execute(
            "INSERT INTO oidc_clients (id, name, secret_hash, redirect_uris, post_logout_uris,
                created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (name) DO NOTHING",
            params![
                c.id,
                c.name,
                c.secret_hash,
                join_uris(&c.redirect_uris),
                join_uris(&c.post_logout_uris),
                c.created_ms
            ],
        )? > 0)
    }

    fn client(&mut self, id: &str) -> Result<Option<ClientRow>, StorageError> {
        Ok(self
            .0
            .prepare_cached(&format!(
                "SELECT {CLIENT_COLUMNS} FROM oidc_clients WHERE id = ?1"
            ))?
            .query_row([id], client)
            .optional()?)
    }

    fn clients(&mut self) -> Result<Vec<ClientRow>, StorageError> {
        let mut statement = self.0.prepare(&format!(
            "SELECT {CLIENT_COLUMNS} FROM oidc_clients ORDER BY name"
        ))?;
        let rows = statement.query_map([], client)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn remove_client(&mut self, name: &str) -> Result<bool, StorageError> {
        Ok(self
            .0
            .execute("DELETE FROM oidc_clients WHERE name = ?1", [name])?
            > 0)
    }

    fn insert_grant(&mut self, g: &GrantRow) -> Result<(), StorageError> {
        self.0.execute(
            "INSERT INTO oidc_grants (code_hash, client_id, user_id, redirect_uri, code_challenge,
                nonce, scope, auth_time_ms, amr, code_expires_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                g.code_hash,
                g.client_id,
                g.user_id,
                g.redirect_uri,
                g.code_challenge,
                g.nonce,
                g.scope,
                g.auth_time_ms,
                g.amr,
                g.code_expires_ms
            ],
        )?;
        Ok(())
    }

    fn grant(&mut self, code_hash: &[u8]) -> Result<Option<GrantRow>, StorageError> {
        Ok(self
            .0
            .prepare_cached(&format!(
                "SELECT {GRANT_COLUMNS} FROM oidc_grants g WHERE g.code_hash = ?1"
            ))?
            .query_row([code_hash], grant)
            .optional()?)
    }

    fn redeem_grant(
        &mut self,
        code_hash: &[u8],
        access_hash: &[u8],
        access_expires_ms: i64,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        self.0.execute(
            "UPDATE oidc_grants SET redeemed_ms = ?2, access_hash = ?3, access_expires_ms = ?4
             WHERE code_hash = ?1",
            params![code_hash, now_ms, access_hash, access_expires_ms],
        )?;
        Ok(())
    }

    fn revoke_grant(&mut self, code_hash: &[u8]) -> Result<(), StorageError> {
        self.0.execute(
            "UPDATE oidc_grants SET access_expires_ms = 0 WHERE code_hash = ?1",
            [code_hash],
        )?;
        Ok(())
    }

    fn grant_by_access_token(
        &mut self,
        access_hash: &[u8],
        now_ms: i64,
    ) -> Result<Option<(String, GrantRow)>, StorageError> {
        Ok(self
            .0
            .prepare_cached(&format!(
                "SELECT {GRANT_COLUMNS}, u.name FROM oidc_grants g JOIN users u ON u.id = g.user_id
                 WHERE g.access_hash = ?1 AND g.access_expires_ms > ?2"
            ))?
            .query_row(params![access_hash, now_ms], |r| {
                Ok((r.get(12)?, grant(r)?))
            })
            .optional()?)
    }

    fn delete_ended_grants(&mut self, before_ms: i64) -> Result<usize, StorageError> {
        Ok(self.0.execute(
            "DELETE FROM oidc_grants WHERE code_expires_ms < ?1
             AND (access_expires_ms IS NULL OR access_expires_ms < ?1)",
            [before_ms],
        )?)
    }
}
