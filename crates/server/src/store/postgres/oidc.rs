use postgres::Row;

use super::{PgTx, get};
use crate::store::oidc::{join_uris, split_uris};
use crate::store::{ClientRow, GrantRow, OidcTable, StorageError};

const TABLE: &str = "oidc";

macro_rules! select_clients {
    ($tail:literal) => {
        concat!(
            "SELECT id, name, secret_hash, redirect_uris, post_logout_uris, created_ms
             FROM oidc_clients ",
            $tail
        )
    };
}

macro_rules! select_grants {
    ($extra:literal, $tail:literal) => {
        concat!(
            "SELECT g.code_hash, g.client_id, g.user_id, g.redirect_uri, g.code_challenge,
                g.nonce, g.scope, g.auth_time_ms, g.amr, g.code_expires_ms, g.redeemed_ms,
                g.access_expires_ms",
            $extra,
            " FROM oidc_grants g ",
            $tail
        )
    };
}

fn client(r: &Row) -> Result<ClientRow, StorageError> {
    Ok(ClientRow {
        id: get(r, 0, TABLE)?,
        name: get(r, 1, TABLE)?,
        secret_hash: get(r, 2, TABLE)?,
        redirect_uris: split_uris(&get::<String>(r, 3, TABLE)?),
        post_logout_uris: split_uris(&get::<String>(r, 4, TABLE)?),
        created_ms: get(r, 5, TABLE)?,
    })
}

fn grant(r: &Row) -> Result<GrantRow, StorageError> {
    Ok(GrantRow {
        code_hash: get(r, 0, TABLE)?,
        client_id: get(r, 1, TABLE)?,
        user_id: get(r, 2, TABLE)?,
        redirect_uri: get(r, 3, TABLE)?,
        code_challenge: get(r, 4, TABLE)?,
        nonce: get(r, 5, TABLE)?,
        scope: get(r, 6, TABLE)?,
        auth_time_ms: get(r, 7, TABLE)?,
        amr: get(r, 8, TABLE)?,
        code_expires_ms: get(r, 9, TABLE)?,
        redeemed_ms: get(r, 10, TABLE)?,
        access_expires_ms: get(r, 11, TABLE)?,
    })
}

impl OidcTable for PgTx<'_> {
    fn insert_client(&mut self, c: &ClientRow) -> Result<bool, StorageError> {
        Ok(self.execute(
            "INSERT INTO oidc_clients (id, name, secret_hash, redirect_uris, post_logout_uris,
                created_ms) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING",
            &[
                &c.id,
                &c.name,
                &c.secret_hash,
                &join_uris(&c.redirect_uris),
                &join_uris(&c.post_logout_uris),
                &c.created_ms,
            ],
        )? > 0)
    }

    fn client(&mut self, id: &str) -> Result<Option<ClientRow>, StorageError> {
        self.query_opt(select_clients!("WHERE id = $1"), &[&id])?
            .map(|r| client(&r))
            .transpose()
    }

    fn clients(&mut self) -> Result<Vec<ClientRow>, StorageError> {
        self.query(select_clients!("ORDER BY name"), &[])?
            .iter()
            .map(client)
            .collect()
    }

    fn remove_client(&mut self, name: &str) -> Result<bool, StorageError> {
        Ok(self.execute("DELETE FROM oidc_clients WHERE name = $1", &[&name])? > 0)
    }

    fn insert_grant(&mut self, g: &GrantRow) -> Result<(), StorageError> {
        self.execute(
            "INSERT INTO oidc_grants (code_hash, client_id, user_id, redirect_uri, code_challenge,
                nonce, scope, auth_time_ms, amr, code_expires_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                &g.code_hash,
                &g.client_id,
                &g.user_id,
                &g.redirect_uri,
                &g.code_challenge,
                &g.nonce,
                &g.scope,
                &g.auth_time_ms,
                &g.amr,
                &g.code_expires_ms,
            ],
        )?;
        Ok(())
    }

    fn grant(&mut self, code_hash: &[u8]) -> Result<Option<GrantRow>, StorageError> {
        self.query_opt(select_grants!("", "WHERE g.code_hash = $1"), &[&code_hash])?
            .map(|r| grant(&r))
            .transpose()
    }

    fn redeem_grant(
        &mut self,
        code_hash: &[u8],
        access_hash: &[u8],
        access_expires_ms: i64,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        self.execute(
            "UPDATE oidc_grants SET redeemed_ms = $2, access_hash = $3, access_expires_ms = $4
             WHERE code_hash = $1",
            &[&code_hash, &now_ms, &access_hash, &access_expires_ms],
        )?;
        Ok(())
    }

    fn revoke_grant(&mut self, code_hash: &[u8]) -> Result<(), StorageError> {
        self.execute(
            "UPDATE oidc_grants SET access_expires_ms = 0 WHERE code_hash = $1",
            &[&code_hash],
        )?;
        Ok(())
    }

    fn grant_by_access_token(
        &mut self,
        access_hash: &[u8],
        now_ms: i64,
    ) -> Result<Option<(String, GrantRow)>, StorageError> {
        self.query_opt(
            select_grants!(
                ", u.name",
                "JOIN users u ON u.id = g.user_id
                 WHERE g.access_hash = $1 AND g.access_expires_ms > $2"
            ),
            &[&access_hash, &now_ms],
        )?
        .map(|r| Ok((get(&r, 12, TABLE)?, grant(&r)?)))
        .transpose()
    }

    fn delete_ended_grants(&mut self, before_ms: i64) -> Result<usize, StorageError> {
        Ok(self.execute(
            "DELETE FROM oidc_grants WHERE code_expires_ms < $1
             AND (access_expires_ms IS NULL OR access_expires_ms < $1)",
            &[&before_ms],
        )? as usize)
    }
}
