//! The outbox in SQLite. Every write runs on the one writer thread, so a claim (`queued` → `sending`) and a
//! settlement each read and change a message with nothing in between; a message queued with a change is inserted
//! in that change's savepoint ([`queue`]), so it commits with the change or not at all.

use async_trait::async_trait;
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension};

use super::list::{self, Listed};
use super::{SqliteStore, insert, read, update};
use crate::auth::NetworkScope;
use crate::domain::ids::{ActorId, NetworkId};
use crate::domain::mail::{INTERRUPTED, MailStatus, Message, MessageId, StoredMessage};
use crate::domain::time::{self, Timestamp};
use crate::error::{Conflict, Error, Result};
use crate::store::rows::{mail_columns, mail_from, mail_row};
use crate::store::{Delivery, Found, MessageFilter, Outbox, Position, Window};

const KEY: &[&str] = &["network_id", "id"];
const SELECT: &str = concat!("SELECT ", mail_columns!(), " FROM mail_outbox");

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(Position, StoredMessage)> {
    read(row, mail_from)
}

const LISTED: Listed<StoredMessage> =
    Listed { select: SELECT, count: "SELECT count(*) FROM mail_outbox", total: None, from_row };

/// Writes a new message into the outbox, in the caller's transaction.
pub(super) fn queue(
    conn: &Connection,
    network: &NetworkId,
    message: Message,
    held: bool,
    actor: &ActorId,
) -> Result<StoredMessage> {
    let stored = StoredMessage::new(message, held, actor);
    insert(conn, "mail_outbox", &mail_row(network, &stored))?;
    Ok(stored)
}

fn get(conn: &Connection, network: &NetworkId, id: &str) -> Result<StoredMessage> {
    let sql = format!("{SELECT} WHERE network_id = ?1 AND id = ?2");
    conn.prepare_cached(&sql)?
        .query_row([network.as_str(), id], from_row)
        .optional()?
        .map(|(_, m)| m)
        .ok_or_else(|| Error::NotFound { resource: "mail", id: id.to_owned() })
}

fn retry(conn: &Connection, network: &NetworkId, id: &str, held: bool, actor: &ActorId) -> Result<StoredMessage> {
    let current = get(conn, network, id)?;
    if !current.status.retryable() {
        return Err(Conflict::NotRetryable { id: id.to_owned(), status: current.status.as_str() }.into());
    }
    let Some(next) = current.retried(held, actor) else { return Ok(current) };
    update(conn, "mail_outbox", KEY, &mail_row(network, &current), &mail_row(network, &next))?;
    Ok(next)
}

fn claim(conn: &Connection, now: Timestamp, limit: usize) -> Result<Vec<(NetworkId, StoredMessage)>> {
    let now_ms = now.timestamp_millis();
    let due: Vec<(String, String)> = conn
        .prepare_cached(
            "SELECT network_id, id FROM mail_outbox WHERE status = 'queued' AND next_attempt_at <= ?1 \
             ORDER BY next_attempt_at, seq LIMIT ?2",
        )?
        .query_map(rusqlite::params![now_ms, limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut claimed = Vec::with_capacity(due.len());
    for (network, id) in due {
        conn.prepare_cached(
            "UPDATE mail_outbox SET status = 'sending', attempts = attempts + 1, sys_version = sys_version + 1, \
             sys_last_modified_at = ?3 WHERE network_id = ?1 AND id = ?2",
        )?
        .execute(rusqlite::params![network, id, now_ms])?;
        let network = NetworkId::parse(&network).map_err(Error::Internal)?;
        let message = get(conn, &network, &id)?;
        claimed.push((network, message));
    }
    Ok(claimed)
}

fn settle(conn: &Connection, network: &NetworkId, id: &str, delivery: &Delivery) -> Result<bool> {
    let now = time::now().timestamp_millis();
    let (status, error, sent_at, next): (&str, Option<&str>, Option<i64>, Option<i64>) = match delivery {
        Delivery::Sent => ("sent", None, Some(now), None),
        Delivery::Retry { error, at } => ("queued", Some(error), None, Some(at.timestamp_millis())),
        Delivery::Failed { error } => ("failed", Some(error), None, None),
        Delivery::Released => ("queued", None, None, None),
    };
    let uncounted = i64::from(*delivery == Delivery::Released);
    let changed = conn
        .prepare_cached(
            "UPDATE mail_outbox SET status = ?3, last_error = coalesce(?4, last_error), sent_at = ?5, \
             next_attempt_at = coalesce(?6, next_attempt_at), attempts = attempts - ?8, \
             sys_version = sys_version + 1, sys_last_modified_at = ?7 \
             WHERE network_id = ?1 AND id = ?2 AND status = 'sending'",
        )?
        .execute(rusqlite::params![network.as_str(), id, status, error, sent_at, next, now, uncounted])?;
    Ok(changed > 0)
}

#[async_trait]
impl Outbox for SqliteStore {
    async fn queue_message(&self, scope: &NetworkScope, message: Message, held: bool) -> Result<StoredMessage> {
        let (network, actor) = (scope.network().clone(), scope.actor().clone());
        self.write(move |c| queue(c, &network, message, held, &actor)).await
    }

    async fn message(&self, scope: &NetworkScope, id: &MessageId) -> Result<StoredMessage> {
        let (network, id) = (scope.network().clone(), id.clone());
        self.read(move |c| get(c, &network, id.as_str())).await
    }

    async fn list_messages(
        &self,
        scope: &NetworkScope,
        filter: MessageFilter,
        window: Window,
    ) -> Result<Found<StoredMessage>> {
        let network = scope.network().clone();
        self.read(move |c| {
            let mut clauses = vec!["network_id = ?".to_owned()];
            let mut args: Vec<Sql> = vec![network.as_str().to_owned().into()];
            let mut any_of = |column: &str, values: Vec<String>| {
                if !values.is_empty() {
                    clauses.push(format!("{column} IN ({})", vec!["?"; values.len()].join(", ")));
                    args.extend(values.into_iter().map(Sql::from));
                }
            };
            any_of("status", filter.statuses.iter().map(|s| s.as_str().to_owned()).collect());
            any_of("registration_id", filter.registration_ids);
            list::page_counted(c, &LISTED, &clauses, args, window, None)
        })
        .await
    }

    async fn retry_message(&self, scope: &NetworkScope, id: &MessageId, held: bool) -> Result<StoredMessage> {
        let (network, actor, id) = (scope.network().clone(), scope.actor().clone(), id.clone());
        self.write(move |c| retry(c, &network, id.as_str(), held, &actor)).await
    }

    async fn outbox_counts(&self) -> Result<Vec<(MailStatus, i64)>> {
        self.read(|c| {
            let counted: Vec<(String, i64)> = c
                .prepare_cached("SELECT status, count(*) FROM mail_outbox GROUP BY status")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(MailStatus::every_counted(&counted))
        })
        .await
    }

    async fn claim_due(&self, now: Timestamp, limit: usize) -> Result<Vec<(NetworkId, StoredMessage)>> {
        self.write(move |c| claim(c, now, limit)).await
    }

    async fn settle_message(&self, network: &NetworkId, id: &MessageId, delivery: Delivery) -> Result<bool> {
        let (network, id) = (network.clone(), id.clone());
        self.write(move |c| settle(c, &network, id.as_str(), &delivery)).await
    }

    async fn interrupt_sending(&self, claimed_before: Timestamp) -> Result<u64> {
        self.write(move |c| {
            let changed = c
                .prepare_cached(
                    "UPDATE mail_outbox SET status = 'failed', last_error = ?1, sys_version = sys_version + 1, \
                     sys_last_modified_at = ?2 WHERE status = 'sending' AND sys_last_modified_at < ?3",
                )?
                .execute(rusqlite::params![
                    INTERRUPTED,
                    time::now().timestamp_millis(),
                    claimed_before.timestamp_millis()
                ])?;
            Ok(changed as u64)
        })
        .await
    }
}
