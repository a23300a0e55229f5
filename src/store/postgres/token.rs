//! Tokens and their grants on PostgreSQL.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;

use super::{Failure, PostgresStore, Tx, transaction};
use crate::auth::TokenInfo;
use crate::auth::token::Grant;
use crate::domain::time;
use crate::error::{Error, Result};
use crate::store::Tokens;

async fn insert(tx: &Tx<'_>, info: &TokenInfo, secret_hash: &[u8; 32]) -> std::result::Result<(), Failure> {
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
    Ok(())
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

    async fn any_token(&self) -> Result<bool> {
        let db = self.client().await?;
        let row = db.query_one("SELECT EXISTS (SELECT 1 FROM tokens)", &[]).await.map_err(Failure::from)?;
        Ok(row.get(0))
    }

    async fn revoke_token(&self, token_id: String) -> Result<time::Timestamp> {
        transaction!(self, |tx| revoke(&tx, &token_id).await)
    }
}
