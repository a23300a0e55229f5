//! The outbox on PostgreSQL. A claim takes due `queued` messages with `FOR UPDATE SKIP LOCKED` and marks them
//! `sending` in the same statement, so servers claiming at once each get other messages and none gets one twice;
//! a settlement changes a message only while it is `sending`; a retry locks its message's row first.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;

use super::list::{self, Arg, Filter, Listed, Plan};
use super::writer::write;
use super::{Failure, Lock, Named, PostgresStore, Tx, insert, snapshot, transaction, update};
use crate::auth::NetworkScope;
use crate::domain::ids::{ActorId, NetworkId};
use crate::domain::mail::{INTERRUPTED, MailStatus, Message, MessageId, StoredMessage};
use crate::domain::time::{self, Timestamp};
use crate::error::{Conflict, Error, Result};
use crate::store::rows::{mail_columns, mail_from, mail_row};
use crate::store::{Delivery, Found, MessageFilter, Outbox, Position, Window};

const KEY: &[&str] = &["network_id", "id"];
const SELECT: &str = concat!("SELECT ", mail_columns!(), " FROM mail_outbox");

fn from_row(row: &tokio_postgres::Row) -> Result<(Position, StoredMessage)> {
    mail_from(&Named(row))
}

const LISTED: Listed<StoredMessage> = Listed { select: SELECT, table: "mail_outbox", total: None, from_row };

/// Writes a new message into the outbox, in the caller's transaction.
pub(super) async fn queue(
    tx: &Tx<'_>,
    network: &NetworkId,
    message: Message,
    held: bool,
    actor: &ActorId,
) -> std::result::Result<StoredMessage, Failure> {
    let stored = StoredMessage::new(message, held, actor);
    if !insert(tx, "mail_outbox", &mail_row(network, &stored)).await? {
        return Err(Error::Internal("a new message id that is taken".into()).into());
    }
    Ok(stored)
}

async fn get(
    db: &impl GenericClient,
    network: &NetworkId,
    id: &str,
    lock: Lock,
) -> std::result::Result<StoredMessage, Failure> {
    let sql = format!("{SELECT} WHERE network_id = $1 AND id = $2{}", lock.clause());
    let statement = db.prepare_cached(&sql).await?;
    match db.query_opt(&statement, &[&network.as_str(), &id]).await? {
        Some(row) => Ok(from_row(&row)?.1),
        None => Err(Error::NotFound { resource: "mail", id: id.to_owned() }.into()),
    }
}

async fn retry(
    tx: &Tx<'_>,
    network: &NetworkId,
    id: &str,
    held: bool,
    actor: &ActorId,
) -> std::result::Result<StoredMessage, Failure> {
    let current = get(tx, network, id, Lock::Update).await?;
    if !current.status.retryable() {
        return Err(Conflict::NotRetryable { id: id.to_owned(), status: current.status.as_str() }.into());
    }
    let Some(next) = current.retried(held, actor) else { return Ok(current) };
    update(tx, "mail_outbox", KEY, &mail_row(network, &current), &mail_row(network, &next)).await?;
    Ok(next)
}

#[async_trait]
impl Outbox for PostgresStore {
    async fn queue_message(&self, scope: &NetworkScope, message: Message, held: bool) -> Result<StoredMessage> {
        let scope = scope.clone();
        write!(self, (scope, message), |tx| queue(tx, scope.network(), message, held, scope.actor()).await)
    }

    async fn message(&self, scope: &NetworkScope, id: &MessageId) -> Result<StoredMessage> {
        let db = self.client().await?;
        Ok(get(&db, scope.network(), id.as_str(), Lock::None).await?)
    }

    async fn list_messages(
        &self,
        scope: &NetworkScope,
        filter: MessageFilter,
        window: Window,
    ) -> Result<Found<StoredMessage>> {
        let mut listing = Filter::new(scope.network());
        if !filter.statuses.is_empty() {
            let hole = listing.arg(Arg::Texts(filter.statuses.iter().map(|s| s.as_str().to_owned()).collect()));
            listing.clauses.push(format!("status = ANY({hole})"));
        }
        if !filter.registration_ids.is_empty() {
            let hole = listing.arg(Arg::Texts(filter.registration_ids.clone()));
            listing.clauses.push(format!("registration_id = ANY({hole})"));
        }
        snapshot!(self, |tx| list::page(&tx, &LISTED, listing.clone(), window, None, Plan::Kept).await)
    }

    async fn retry_message(&self, scope: &NetworkScope, id: &MessageId, held: bool) -> Result<StoredMessage> {
        let (scope, id) = (scope.clone(), id.clone());
        write!(self, (scope, id), |tx| retry(tx, scope.network(), id.as_str(), held, scope.actor()).await)
    }

    async fn outbox_counts(&self) -> Result<Vec<(MailStatus, i64)>> {
        let db = self.client().await?;
        let rows = db
            .query("SELECT status, count(*) AS n FROM mail_outbox GROUP BY status", &[])
            .await
            .map_err(|e| Error::from(Failure::Db(e)))?;
        let counted: Vec<(String, i64)> = rows.iter().map(|r| (r.get("status"), r.get("n"))).collect();
        Ok(MailStatus::every_counted(&counted))
    }

    async fn claim_due(&self, now: Timestamp, limit: usize) -> Result<Vec<(NetworkId, StoredMessage)>> {
        let (now_ms, limit) = (now.timestamp_millis(), limit as i64);
        let sql = format!(
            "UPDATE mail_outbox SET status = 'sending', attempts = attempts + 1, sys_version = sys_version + 1, \
             sys_last_modified_at = $1 WHERE seq IN (SELECT seq FROM mail_outbox WHERE status = 'queued' \
             AND next_attempt_at <= $1 ORDER BY next_attempt_at, seq LIMIT $2 FOR UPDATE SKIP LOCKED) \
             RETURNING network_id, {}",
            mail_columns!()
        );
        transaction!(self, |tx| {
            let rows = tx.query(&sql, &[&now_ms, &limit]).await?;
            let mut claimed = Vec::with_capacity(rows.len());
            for row in &rows {
                let network: String = row.get("network_id");
                let network = NetworkId::parse(&network).map_err(Error::Internal)?;
                claimed.push((network, from_row(row)?.1));
            }
            Ok(claimed)
        })
    }

    async fn settle_message(&self, network: &NetworkId, id: &MessageId, delivery: Delivery) -> Result<bool> {
        let now = time::now().timestamp_millis();
        let (status, error, sent_at, next): (&str, Option<String>, Option<i64>, Option<i64>) = match &delivery {
            Delivery::Sent => ("sent", None, Some(now), None),
            Delivery::Retry { error, at } => ("queued", Some(error.clone()), None, Some(at.timestamp_millis())),
            Delivery::Failed { error } => ("failed", Some(error.clone()), None, None),
            Delivery::Released => ("queued", None, None, None),
        };
        let uncounted = i64::from(delivery == Delivery::Released);
        let (network, id) = (network.as_str().to_owned(), id.as_str().to_owned());
        transaction!(self, |tx| {
            let changed = tx
                .execute(
                    "UPDATE mail_outbox SET status = $3, last_error = coalesce($4, last_error), sent_at = $5, \
                     next_attempt_at = coalesce($6, next_attempt_at), attempts = attempts - $8, \
                     sys_version = sys_version + 1, sys_last_modified_at = $7 \
                     WHERE network_id = $1 AND id = $2 AND status = 'sending'",
                    &[&network, &id, &status, &error, &sent_at, &next, &now, &uncounted],
                )
                .await?;
            Ok(changed > 0)
        })
    }

    async fn interrupt_sending(&self, claimed_before: Timestamp) -> Result<u64> {
        let (now, before) = (time::now().timestamp_millis(), claimed_before.timestamp_millis());
        transaction!(self, |tx| {
            Ok(tx
                .execute(
                    "UPDATE mail_outbox SET status = 'failed', last_error = $1, sys_version = sys_version + 1, \
                     sys_last_modified_at = $2 WHERE status = 'sending' AND sys_last_modified_at < $3",
                    &[&INTERRUPTED, &now, &before],
                )
                .await?)
        })
    }
}
