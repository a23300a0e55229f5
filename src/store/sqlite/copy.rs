//! A whole SQLite store read for `migrate` ([`store::copy`](crate::store::copy)): each table a page at a time in the
//! order of its key, through the shared row codec, and the counts the copy is checked by. The store is held under
//! its lock meanwhile, so the pages read one after the other see one unchanging store.

use rusqlite::{Connection, params};

use super::{SqliteStore, read};
use crate::domain::ids::{NetworkId, ProductId};
use crate::domain::limits::NetworkLimits;
use crate::error::{Error, Result};
use crate::store::Position;
use crate::store::copy::{Counts, EventNumber, PAGE, RecordRow, TABLES, TemplateRow, TicketRow};
use crate::store::rows::{
    Columns, function_ticket_columns, function_ticket_from, mail_columns, mail_from, order_columns, order_from,
    registration_columns, registration_from, template_columns, template_from, ticket_columns, ticket_from,
};

/// The network a row belongs to.
fn network_of(row: &impl Columns) -> Result<NetworkId> {
    let text = row.text("network_id")?.unwrap_or_default();
    NetworkId::parse(&text).map_err(|e| Error::Internal(format!("a stored network id {text:?} {e}")))
}

/// The rows of a statement, each read by `f`.
fn all<T>(
    conn: &Connection,
    sql: &str,
    args: impl rusqlite::Params,
    f: impl Fn(&super::Named<'_, '_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut statement = conn.prepare_cached(sql)?;
    let rows = statement.query_map(args, |row| read(row, &f))?;
    Ok(rows.collect::<rusqlite::Result<Vec<T>>>()?)
}

/// The next page of tickets, by network and productId, after `after` (from the first when `None`).
pub(crate) async fn tickets(store: &SqliteStore, after: Option<(NetworkId, ProductId)>) -> Result<Vec<TicketRow>> {
    let from_row = |row: &super::Named<'_, '_>| Ok((network_of(row)?, ticket_from(row)?));
    store
        .read(move |conn| match after {
            None => all(
                conn,
                concat!(
                    "SELECT network_id, ",
                    ticket_columns!(),
                    " FROM tickets ORDER BY network_id, product_id LIMIT ?1"
                ),
                params![PAGE as i64],
                from_row,
            ),
            Some((network, product)) => all(
                conn,
                concat!(
                    "SELECT network_id, ",
                    ticket_columns!(),
                    " FROM tickets WHERE (network_id, product_id) > (?1, ?2) ORDER BY network_id, product_id LIMIT ?3"
                ),
                params![network.as_str(), product.as_str(), PAGE as i64],
                from_row,
            ),
        })
        .await
}

/// The next page of a record table in creation order, after `after`: `select` names the network and the columns
/// `from` reads.
async fn records<T: Send + 'static>(
    store: &SqliteStore,
    select: &'static str,
    after: Position,
    from: fn(&super::Named<'_, '_>) -> Result<(Position, T)>,
) -> Result<Vec<RecordRow<T>>> {
    store
        .read(move |conn| {
            let sql = format!("{select} WHERE seq > ?1 ORDER BY seq LIMIT ?2");
            all(conn, &sql, params![after.0, PAGE as i64], |row| {
                let (position, record) = from(row)?;
                Ok((network_of(row)?, position, record))
            })
        })
        .await
}

/// The next page of registrations in creation order, after `after`.
pub(crate) async fn registrations(
    store: &SqliteStore,
    after: Position,
) -> Result<Vec<RecordRow<crate::domain::registration::StoredRegistration>>> {
    let select = concat!("SELECT network_id, ", registration_columns!(), " FROM registrations");
    records(store, select, after, |row| registration_from(row)).await
}

/// The next page of function tickets in creation order, after `after`.
pub(crate) async fn function_tickets(
    store: &SqliteStore,
    after: Position,
) -> Result<Vec<RecordRow<crate::domain::function_ticket::StoredFunctionTicket>>> {
    let select = concat!("SELECT network_id, ", function_ticket_columns!(), " FROM function_tickets");
    records(store, select, after, |row| function_ticket_from(row)).await
}

/// The next page of orders in creation order, after `after`.
pub(crate) async fn orders(
    store: &SqliteStore,
    after: Position,
) -> Result<Vec<RecordRow<crate::domain::order::StoredOrder>>> {
    let select = concat!("SELECT network_id, ", order_columns!(), " FROM orders");
    records(store, select, after, |row| order_from(row)).await
}

/// The next page of the outbox in the order queued, after `after`.
pub(crate) async fn messages(
    store: &SqliteStore,
    after: Position,
) -> Result<Vec<RecordRow<crate::domain::mail::StoredMessage>>> {
    let select = concat!("SELECT network_id, ", mail_columns!(), " FROM mail_outbox");
    records(store, select, after, |row| mail_from(row)).await
}

/// Every network's order counter: its last order number.
pub(crate) async fn order_numbers(store: &SqliteStore) -> Result<Vec<(NetworkId, i64)>> {
    store
        .read(|conn| {
            all(conn, "SELECT network_id, last_number FROM order_numbers ORDER BY network_id", [], |row| {
                Ok((network_of(row)?, row.int("last_number")?.unwrap_or_default()))
            })
        })
        .await
}

/// Every network's limits row.
pub(crate) async fn network_limits(store: &SqliteStore) -> Result<Vec<(NetworkId, NetworkLimits)>> {
    store
        .read(|conn| {
            all(
                conn,
                "SELECT network_id, max_tickets, max_registrations, max_function_tickets FROM network_limits \
                 ORDER BY network_id",
                [],
                |row| {
                    let limits = NetworkLimits {
                        max_tickets: row.int("max_tickets")?,
                        max_registrations: row.int("max_registrations")?,
                        max_function_tickets: row.int("max_function_tickets")?,
                    };
                    Ok((network_of(row)?, limits))
                },
            )
        })
        .await
}

/// Every network's templates (a few per network: read at once).
pub(crate) async fn templates(store: &SqliteStore) -> Result<Vec<TemplateRow>> {
    store
        .read(|conn| {
            all(
                conn,
                concat!("SELECT network_id, ", template_columns!(), " FROM templates ORDER BY network_id, kind"),
                [],
                |row| Ok((network_of(row)?, template_from(row)?)),
            )
        })
        .await
}

/// Every event's registration counter.
pub(crate) async fn event_numbers(store: &SqliteStore) -> Result<Vec<EventNumber>> {
    store
        .read(|conn| {
            all(
                conn,
                "SELECT network_id, event_id, last_number FROM event_numbers ORDER BY network_id, event_id",
                [],
                |row| {
                    Ok(EventNumber {
                        network: network_of(row)?,
                        event_id: row.text("event_id")?.unwrap_or_default(),
                        last_number: row.int("last_number")?.unwrap_or_default(),
                    })
                },
            )
        })
        .await
}

/// The rows of every table copied, and the registrations of each network and of each event and status, counted
/// from the registrations themselves.
pub(crate) async fn counts(store: &SqliteStore) -> Result<Counts> {
    store
        .read(|conn| {
            let mut counts = Counts::default();
            for table in TABLES {
                let rows: i64 = conn.query_row(&format!("SELECT count(*) AS n FROM {table}"), [], |r| r.get("n"))?;
                counts.tables.push((table, rows));
            }
            let by_network =
                all(conn, "SELECT network_id, count(*) AS n FROM registrations GROUP BY network_id", [], |row| {
                    Ok((row.text("network_id")?.unwrap_or_default(), row.int("n")?.unwrap_or_default()))
                })?;
            counts.registrations_by_network = by_network.into_iter().collect();
            let by_event = all(
                conn,
                "SELECT network_id, event_id, status, count(*) AS n FROM registrations \
                 GROUP BY network_id, event_id, status",
                [],
                |row| {
                    let text = |name| Ok::<_, Error>(row.text(name)?.unwrap_or_default());
                    let key = (text("network_id")?, text("event_id")?, text("status")?);
                    Ok((key, row.int("n")?.unwrap_or_default()))
                },
            )?;
            counts.registrations_by_event = by_event.into_iter().collect();
            Ok(counts)
        })
        .await
}
