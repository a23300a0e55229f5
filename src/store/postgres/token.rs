//! Tokens and their grants on PostgreSQL.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;

use super::{Failure, PostgresStore, Tx, transaction};
use crate::auth::TokenInfo;
use crate::auth::token::Grant;
use crate::domain::time;
use crate::error::{Error, Result};
use crate::store::Tokens;

/// The advisory lock under which the first token is made.
const FIRST_TOKEN_LOCK: i64 = 7256340013;

/// The channel on which a change of the tokens is announced to every server (at the commit of its transaction).
pub const CHANNEL: &str = "ticket_admin_tokens";

/// Tells every server, once the transaction commits, that the tokens changed.
async fn announce(tx: &Tx<'_>) -> std::result::Result<(), Failure> {
    tx.execute("SELECT pg_notify($1, '')", &[&CHANNEL]).await?;
    Ok(())
}

pub(super) async fn insert(tx: &Tx<'_>, info: &TokenInfo, secret_hash: &[u8; 32]) -> std::result::Result<(), Failure> {
    tx.execute(
        "INSERT INTO tokens (id, name, secret_hash, created_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &info.id,
            &info.name,
            &&secret_hash[..],
            &info.created_at.timestamp_millis(),
            &info.expires_at.map(|t| t.timestamp_millis()),
            &info.revoked_at.map(|t| t.timestamp_millis()),
        ],
    )
    .await?;
    let grant = tx.prepare_cached("INSERT INTO token_grants (token_id, permission, scope) VALUES ($1, $2, $3)").await?;
    for g in &info.grants {
        let text = g.to_string();
        let (permission, scope) = text.split_once('@').unwrap_or((&text, "*"));
        tx.execute(&grant, &[&info.id, &permission, &scope]).await?;
    }
    announce(tx).await
}

/// Every token with the hash of its secret, oldest first.
async fn all(db: &impl GenericClient) -> std::result::Result<Vec<([u8; 32], TokenInfo)>, Failure> {
    let rows = db
        .query(
            "SELECT t.id, t.name, t.secret_hash, t.created_at, t.expires_at, t.revoked_at, \
             coalesce(array_agg(g.permission || '@' || g.scope ORDER BY g.permission, g.scope) \
             FILTER (WHERE g.token_id IS NOT NULL), '{}') \
             FROM tokens t LEFT JOIN token_grants g ON g.token_id = t.id \
             GROUP BY t.id ORDER BY t.created_at, t.id",
            &[],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let id: String = row.get(0);
        let hash: Vec<u8> = row.get(2);
        let hash: [u8; 32] = hash.try_into().map_err(|_| Error::Internal(format!("token {id} has a bad hash")))?;
        let grants = row
            .get::<_, Vec<String>>(6)
            .iter()
            .map(|g| Grant::parse(g).map_err(|e| Error::Internal(format!("token {id} has grant {g} that {e}"))))
            .collect::<Result<Vec<_>>>()?;
        out.push((
            hash,
            TokenInfo {
                name: row.get(1),
                grants,
                created_at: time::from_millis(row.get(3)),
                expires_at: row.get::<_, Option<i64>>(4).map(time::from_millis),
                revoked_at: row.get::<_, Option<i64>>(5).map(time::from_millis),
                id,
            },
        ));
    }
    Ok(out)
}

/// Revokes a token now; `-32004` when unknown. Revoking twice keeps the first time.
async fn revoke(tx: &Tx<'_>, token_id: &str) -> std::result::Result<time::Timestamp, Failure> {
    let current = tx.query_opt("SELECT revoked_at FROM tokens WHERE id = $1 FOR UPDATE", &[&token_id]).await?;
    match current.map(|r| r.get::<_, Option<i64>>(0)) {
        None => Err(Error::NotFound { resource: "token", id: token_id.to_owned() }.into()),
        Some(Some(at)) => Ok(time::from_millis(at)),
        Some(None) => {
            let now = time::now();
            tx.execute("UPDATE tokens SET revoked_at = $2 WHERE id = $1", &[&token_id, &now.timestamp_millis()])
                .await?;
            announce(tx).await?;
            Ok(now)
        }
    }
}

#[async_trait]
impl Tokens for PostgresStore {
    async fn insert_token(&self, info: TokenInfo, secret_hash: [u8; 32]) -> Result<()> {
        transaction!(self, |tx| insert(&tx, &info, &secret_hash).await)
    }

    async fn tokens(&self) -> Result<Vec<([u8; 32], TokenInfo)>> {
        Ok(all(&self.client().await?).await?)
    }

    async fn insert_first_token(&self, info: TokenInfo, secret_hash: [u8; 32]) -> Result<bool> {
        transaction!(self, |tx| {
            // Servers starting at once on an empty database come here one at a time.
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&FIRST_TOKEN_LOCK]).await?;
            if tx.query_one("SELECT EXISTS (SELECT 1 FROM tokens)", &[]).await?.get(0) {
                return Ok(false);
            }
            insert(&tx, &info, &secret_hash).await?;
            Ok(true)
        })
    }

    async fn revoke_token(&self, token_id: String) -> Result<time::Timestamp> {
        transaction!(self, |tx| revoke(&tx, &token_id).await)
    }
}
