//! Purchasable tickets in SQLite, always within one network.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use super::feed::Since;
use super::{Row, SqliteStore, sys_columns, sys_from_row};
use crate::auth::NetworkScope;
use crate::domain::ids::{ActorId, NetworkId, ProductId};
use crate::domain::limits::Held;
use crate::domain::money::Cents;
use crate::domain::sys::{Sys, check_version};
use crate::domain::ticket::{StoredTicket, Ticket, TicketType};
use crate::domain::time;
use crate::error::{Conflict, Error, Result};
use crate::store::{TicketChange, TicketChanges, Tickets};

/// The columns a ticket is read from.
const SELECT: &str = "SELECT product_id, event_name, event_start_date, event_end_date, ticket_type, ticket_name, \
    ticket_description, price_cents, thumbnail_id, discount, grants, allocation, max_per_attendee, visible, \
    display_order, sold, sys_version, sys_created_at, sys_last_modified_at, sys_created_by, sys_last_modified_by \
    FROM tickets";

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredTicket> {
    let bad = |e: String| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into());
    let product_id: String = row.get("product_id")?;
    let ticket_type: String = row.get("ticket_type")?;
    let grants: String = row.get("grants")?;
    Ok(StoredTicket {
        ticket: Ticket {
            product_id: ProductId::parse(&product_id).map_err(bad)?,
            event_name: row.get("event_name")?,
            event_start_date: time::from_millis(row.get("event_start_date")?),
            event_end_date: time::from_millis(row.get("event_end_date")?),
            ticket_type: TicketType::parse(&ticket_type).map_err(bad)?,
            ticket_name: row.get("ticket_name")?,
            ticket_description: row.get("ticket_description")?,
            price: Cents(row.get("price_cents")?),
            thumbnail_id: row.get("thumbnail_id")?,
            discount: row.get("discount")?,
            grants: serde_json::from_str(&grants).map_err(|e| bad(e.to_string()))?,
            allocation: row.get("allocation")?,
            max_per_attendee: row.get("max_per_attendee")?,
            visible: row.get("visible")?,
            display_order: row.get("display_order")?,
        },
        sold: row.get("sold")?,
        sys: sys_from_row(row)?,
    })
}

/// A ticket's row: every column by name.
fn row(network: &NetworkId, t: &StoredTicket) -> Result<Row> {
    let k = &t.ticket;
    let grants = serde_json::to_string(&k.grants).map_err(|e| Error::Internal(e.to_string()))?;
    let mut row: Row = vec![
        ("network_id", network.as_str().to_owned().into()),
        ("product_id", k.product_id.as_str().to_owned().into()),
        ("event_name", k.event_name.clone().into()),
        ("event_start_date", k.event_start_date.timestamp_millis().into()),
        ("event_end_date", k.event_end_date.timestamp_millis().into()),
        ("ticket_type", k.ticket_type.to_string().into()),
        ("ticket_name", k.ticket_name.clone().into()),
        ("ticket_description", k.ticket_description.clone().into()),
        ("price_cents", k.price.0.into()),
        ("thumbnail_id", k.thumbnail_id.clone().into()),
        ("discount", k.discount.clone().into()),
        ("grants", grants.into()),
        ("allocation", k.allocation.into()),
        ("max_per_attendee", k.max_per_attendee.into()),
        ("visible", k.visible.into()),
        ("display_order", k.display_order.into()),
        ("sold", t.sold.into()),
    ];
    row.extend(sys_columns(&t.sys));
    Ok(row)
}

const KEY: &[&str] = &["network_id", "product_id"];

fn not_found(id: &ProductId) -> Error {
    Error::NotFound { resource: "ticket", id: id.to_string() }
}

/// One ticket of a network, if it exists.
pub fn find(conn: &Connection, network: &NetworkId, id: &ProductId) -> Result<Option<StoredTicket>> {
    let sql = format!("{SELECT} WHERE network_id = ?1 AND product_id = ?2");
    Ok(conn.prepare_cached(&sql)?.query_row(params![network.as_str(), id.as_str()], from_row).optional()?)
}

/// One ticket of a network, or `-32004`.
pub fn get(conn: &Connection, network: &NetworkId, id: &ProductId) -> Result<StoredTicket> {
    find(conn, network, id)?.ok_or_else(|| not_found(id))
}

/// Every ticket of a network, by productId.
pub fn all(conn: &Connection, network: &NetworkId) -> Result<Vec<StoredTicket>> {
    let sql = format!("{SELECT} WHERE network_id = ?1 ORDER BY product_id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([network.as_str()], from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Each of the given tickets as it is now, or gone.
fn changed(conn: &Connection, network: &NetworkId, products: Vec<String>) -> Result<Vec<TicketChange>> {
    products
        .into_iter()
        .map(|product| {
            let id = ProductId::parse(&product).map_err(Error::Internal)?;
            Ok(match find(conn, network, &id)? {
                Some(t) => TicketChange::Upserted(Box::new(t)),
                None => TicketChange::Removed(id),
            })
        })
        .collect()
}

/// Creates a ticket; a taken productId is `Conflict::Duplicate`.
fn create(conn: &Connection, network: &NetworkId, ticket: Ticket, actor: &ActorId) -> Result<StoredTicket> {
    if find(conn, network, &ticket.product_id)?.is_some() {
        return Err(Conflict::Duplicate { resource: "ticket", id: ticket.product_id.to_string() }.into());
    }
    super::limits::check_room(conn, network, Held::Tickets)?;
    let stored = StoredTicket { ticket, sold: 0, sys: Sys::new(actor) };
    super::insert(conn, "tickets", &row(network, &stored)?)?;
    super::touch(network, stored.ticket.product_id.as_str());
    Ok(stored)
}

/// Replaces a ticket as a whole, by the domain's rule ([`StoredTicket::replaced`]).
fn update(
    conn: &Connection,
    network: &NetworkId,
    ticket: Ticket,
    expected_version: Option<i64>,
    actor: &ActorId,
) -> Result<StoredTicket> {
    let current = get(conn, network, &ticket.product_id)?;
    check_version(expected_version, current.sys.version)?;
    // A change that changes nothing writes nothing, so the kept ticket lists stay too.
    let Some(stored) = current.replaced(ticket, actor)? else { return Ok(current) };
    super::update(conn, "tickets", KEY, &row(network, &current)?, &row(network, &stored)?)?;
    super::touch(network, stored.ticket.product_id.as_str());
    Ok(stored)
}

/// Deletes a ticket that no active registration holds.
fn delete(conn: &Connection, network: &NetworkId, id: &ProductId) -> Result<()> {
    get(conn, network, id)?.check_deletable()?;
    conn.prepare_cached("DELETE FROM tickets WHERE network_id = ?1 AND product_id = ?2")?
        .execute(params![network.as_str(), id.as_str()])?;
    super::touch(network, id.as_str());
    Ok(())
}

#[async_trait]
impl Tickets for SqliteStore {
    async fn create_ticket(&self, scope: &NetworkScope, ticket: Ticket) -> Result<StoredTicket> {
        let (network, actor) = (scope.network().clone(), scope.actor().clone());
        self.write(move |c| create(c, &network, ticket, &actor)).await
    }

    async fn update_ticket(&self, scope: &NetworkScope, ticket: Ticket, expected: Option<i64>) -> Result<StoredTicket> {
        let (network, actor) = (scope.network().clone(), scope.actor().clone());
        self.write(move |c| update(c, &network, ticket, expected, &actor)).await
    }

    async fn delete_ticket(&self, scope: &NetworkScope, id: &ProductId) -> Result<()> {
        let (network, id) = (scope.network().clone(), id.clone());
        self.write(move |c| delete(c, &network, &id)).await
    }

    async fn ticket(&self, scope: &NetworkScope, id: &ProductId) -> Result<StoredTicket> {
        let (network, id) = (scope.network().clone(), id.clone());
        self.read(move |c| get(c, &network, &id)).await
    }

    async fn ticket_generation(&self, scope: &NetworkScope) -> Result<u64> {
        Ok(self.inner.tickets.generation(scope.network().as_str()))
    }

    async fn ticket_changes(&self, scope: &NetworkScope, since: Option<u64>) -> Result<TicketChanges> {
        let feed = &self.inner.tickets;
        let network = scope.network().clone();
        match since.map_or(Since::Forgotten, |since| feed.since(network.as_str(), since)) {
            Since::Unchanged => Ok(TicketChanges::Unchanged),
            Since::Changed { generation, products } => {
                let changes = self.read(move |c| changed(c, &network, products)).await?;
                Ok(TicketChanges::Changed { generation, changes })
            }
            Since::Forgotten => {
                // Read before the tickets are: they hold at least this generation's changes (see `feed`).
                let generation = feed.generation(network.as_str());
                let tickets = self.read(move |c| all(c, &network)).await?;
                Ok(TicketChanges::Whole { generation, tickets })
            }
        }
    }
}
