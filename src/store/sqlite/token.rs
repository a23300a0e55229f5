//! Tokens and their grants in SQLite.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use crate::store::Tokens;

use crate::auth::{Grant, TokenInfo};
use crate::domain::time;
use crate::error::{Error, Result};

/// Stores a new token with the hash of its secret.
fn insert(conn: &Connection, info: &TokenInfo, secret_hash: &[u8; 32]) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO tokens (id, name, secret_hash, created_at, expires_at, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        info.id,
        info.name,
        &secret_hash[..],
        info.created_at.timestamp_millis(),
        info.expires_at.map(|t| t.timestamp_millis()),
        info.revoked_at.map(|t| t.timestamp_millis()),
    ])?;
    let mut grant =
        conn.prepare_cached("INSERT INTO token_grants (token_id, permission, scope) VALUES (?1, ?2, ?3)")?;
    for g in &info.grants {
        let text = g.to_string();
        let (permission, scope) = text.split_once('@').unwrap_or((&text, "*"));
        grant.execute(params![info.id, permission, scope])?;
    }
    Ok(())
}

/// Every token with the hash of its secret, oldest first.
fn all(conn: &Connection) -> Result<Vec<([u8; 32], TokenInfo)>> {
    let mut grants = conn.prepare_cached("SELECT permission, scope FROM token_grants WHERE token_id = ?1")?;
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, secret_hash, created_at, expires_at, revoked_at FROM tokens ORDER BY created_at, id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Vec<u8>>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, Option<i64>>(4)?,
            r.get::<_, Option<i64>>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, name, hash, created, expires, revoked) = row?;
        let hash: [u8; 32] = hash.try_into().map_err(|_| Error::Internal(format!("token {id} has a bad hash")))?;
        let grants = grants
            .query_map([&id], |r| Ok(format!("{}@{}", r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .map(|g| {
                let g = g?;
                Grant::parse(&g).map_err(|e| Error::Internal(format!("token {id} has grant {g} that {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        out.push((
            hash,
            TokenInfo {
                id,
                name,
                grants,
                created_at: time::from_millis(created),
                expires_at: expires.map(time::from_millis),
                revoked_at: revoked.map(time::from_millis),
            },
        ));
    }
    Ok(out)
}

/// Whether any token exists (the first start makes one).
fn any(conn: &Connection) -> Result<bool> {
    Ok(conn.query_row("SELECT EXISTS (SELECT 1 FROM tokens)", [], |r| r.get(0))?)
}

/// Revokes a token now; `-32004` when unknown. Revoking twice keeps the first time.
fn revoke(conn: &Connection, token_id: &str) -> Result<time::Timestamp> {
    let current: Option<Option<i64>> = conn
        .prepare_cached("SELECT revoked_at FROM tokens WHERE id = ?1")?
        .query_row([token_id], |r| r.get(0))
        .optional()?;
    match current {
        None => Err(Error::NotFound { resource: "token", id: token_id.to_owned() }),
        Some(Some(at)) => Ok(time::from_millis(at)),
        Some(None) => {
            let now = time::now();
            conn.prepare_cached("UPDATE tokens SET revoked_at = ?2 WHERE id = ?1")?
                .execute(params![token_id, now.timestamp_millis()])?;
            Ok(now)
        }
    }
}

#[async_trait]
impl Tokens for super::SqliteStore {
    async fn insert_token(&self, info: TokenInfo, secret_hash: [u8; 32]) -> Result<()> {
        self.write(move |c| insert(c, &info, &secret_hash)).await
    }

    async fn tokens(&self) -> Result<Vec<([u8; 32], TokenInfo)>> {
        self.read(all).await
    }

    async fn insert_first_token(&self, info: TokenInfo, secret_hash: [u8; 32]) -> Result<bool> {
        self.write(move |c| {
            if any(c)? {
                return Ok(false);
            }
            insert(c, &info, &secret_hash)?;
            Ok(true)
        })
        .await
    }

    async fn revoke_token(&self, token_id: String) -> Result<time::Timestamp> {
        self.write(move |c| revoke(c, &token_id)).await
    }
}
