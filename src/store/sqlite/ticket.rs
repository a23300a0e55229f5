//! Purchasable tickets in SQLite, always within one network.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteStore;
use super::feed::Since;
use crate::auth::NetworkScope;
use crate::domain::command::TicketWrite;
use crate::domain::ids::{ActorId, NetworkId, ProductId};
use crate::domain::limits::Held;
use crate::domain::sys::{Sys, check_version};
use crate::domain::ticket::{StoredTicket, Ticket};
use crate::error::{Conflict, Error, Result};
use crate::store::rows::{ticket_columns, ticket_from, ticket_row};
use crate::store::{TicketChange, TicketChanges, TicketEdit, Tickets};

const SELECT: &str = concat!("SELECT ", ticket_columns!(), " FROM tickets");

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredTicket> {
    super::read(row, ticket_from)
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
    super::insert(conn, "tickets", &ticket_row(network, &stored)?)?;
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
    super::update(conn, "tickets", KEY, &ticket_row(network, &current)?, &ticket_row(network, &stored)?)?;
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

/// Reads the tickets `ids` names, and writes what `edit` makes of them.
fn edit(
    conn: &Connection,
    network: &NetworkId,
    ids: &[ProductId],
    edit: &TicketEdit,
    actor: &ActorId,
) -> Result<Vec<StoredTicket>> {
    let current = ids.iter().map(|id| get(conn, network, id)).collect::<Result<Vec<_>>>()?;
    edit(&current)?
        .into_iter()
        .map(|write| match write {
            TicketWrite::Replace(ticket) => update(conn, network, ticket, None, actor),
            TicketWrite::Create(ticket) => create(conn, network, ticket, actor),
        })
        .collect()
}

#[async_trait]
impl Tickets for SqliteStore {
    async fn edit_tickets(
        &self,
        scope: &NetworkScope,
        ids: Vec<ProductId>,
        change: TicketEdit,
    ) -> Result<Vec<StoredTicket>> {
        let (network, actor) = (scope.network().clone(), scope.actor().clone());
        self.write(move |c| edit(c, &network, &ids, &change, &actor)).await
    }

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
