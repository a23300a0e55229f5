//! Purchasable tickets in SQLite, always within one network.

use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

use super::as_sql;

use crate::domain::ids::{NetworkId, ProductId};
use crate::domain::money::Cents;
use crate::domain::sys::Sys;
use crate::domain::ticket::{StoredTicket, Ticket, TicketType};
use crate::domain::time;
use crate::error::{Conflict, Error, Result};

const COLUMNS: &str = "product_id, event_name, event_start_date, event_end_date, ticket_type, ticket_name, \
    ticket_description, price_cents, thumbnail_id, discount, grants, allocation, max_per_attendee, visible, \
    display_order, sold, sys_version, sys_created_at, sys_last_modified_at, sys_created_by, sys_last_modified_by";

fn from_row(row: &Row<'_>) -> rusqlite::Result<StoredTicket> {
    let bad = |i: usize, e: String| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into());
    let product_id: String = row.get(0)?;
    let ticket_type: String = row.get(4)?;
    let grants: String = row.get(10)?;
    Ok(StoredTicket {
        ticket: Ticket {
            product_id: ProductId::parse(&product_id).map_err(|e| bad(0, e))?,
            event_name: row.get(1)?,
            event_start_date: time::from_millis(row.get(2)?),
            event_end_date: time::from_millis(row.get(3)?),
            ticket_type: TicketType::parse(&ticket_type).map_err(|e| bad(4, e))?,
            ticket_name: row.get(5)?,
            ticket_description: row.get(6)?,
            price: Cents(row.get(7)?),
            thumbnail_id: row.get(8)?,
            discount: row.get(9)?,
            grants: serde_json::from_str(&grants).map_err(|e| bad(10, e.to_string()))?,
            allocation: row.get(11)?,
            max_per_attendee: row.get(12)?,
            visible: row.get(13)?,
            display_order: row.get(14)?,
        },
        sold: row.get(15)?,
        sys: super::sys_from_row(row, 16)?,
    })
}

fn not_found(id: &ProductId) -> Error {
    Error::NotFound { resource: "ticket", id: id.to_string() }
}

/// One ticket of a network, if it exists.
pub fn find(conn: &Connection, network: &NetworkId, id: &ProductId) -> Result<Option<StoredTicket>> {
    let sql = format!("SELECT {COLUMNS} FROM tickets WHERE network_id = ?1 AND product_id = ?2");
    Ok(conn.prepare_cached(&sql)?.query_row(params![network.as_str(), id.as_str()], from_row).optional()?)
}

/// One ticket of a network, or `-32004`.
pub fn get(conn: &Connection, network: &NetworkId, id: &ProductId) -> Result<StoredTicket> {
    find(conn, network, id)?.ok_or_else(|| not_found(id))
}

/// Every ticket of a network, by productId.
pub fn all(conn: &Connection, network: &NetworkId) -> Result<Vec<StoredTicket>> {
    let sql = format!("SELECT {COLUMNS} FROM tickets WHERE network_id = ?1 ORDER BY product_id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([network.as_str()], from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

fn write_row(conn: &Connection, network: &NetworkId, t: &StoredTicket, insert: bool) -> Result<()> {
    let k = &t.ticket;
    let grants = serde_json::to_string(&k.grants).map_err(|e| Error::Internal(e.to_string()))?;
    let sql = if insert {
        format!(
            "INSERT INTO tickets (network_id, {COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, \
                 ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)"
        )
    } else {
        "UPDATE tickets SET event_name = ?3, event_start_date = ?4, event_end_date = ?5, ticket_type = ?6, \
         ticket_name = ?7, ticket_description = ?8, price_cents = ?9, thumbnail_id = ?10, discount = ?11, \
         grants = ?12, allocation = ?13, max_per_attendee = ?14, visible = ?15, display_order = ?16, sold = ?17, \
         sys_version = ?18, sys_created_at = ?19, sys_last_modified_at = ?20, sys_created_by = ?21, \
         sys_last_modified_by = ?22 WHERE network_id = ?1 AND product_id = ?2"
            .to_owned()
    };
    let row = params![
        network.as_str(),
        k.product_id.as_str(),
        k.event_name,
        k.event_start_date.timestamp_millis(),
        k.event_end_date.timestamp_millis(),
        k.ticket_type.to_string(),
        k.ticket_name,
        k.ticket_description,
        k.price.0,
        k.thumbnail_id,
        k.discount,
        grants,
        k.allocation,
        k.max_per_attendee,
        k.visible,
        k.display_order,
        t.sold,
    ];
    let sys = super::sys_values(&t.sys);
    conn.prepare_cached(&sql)?.execute(params_from_iter(row.iter().copied().chain(sys.iter().map(as_sql))))?;
    Ok(())
}

/// Creates a ticket; a taken productId is `-32009 duplicate`.
pub fn create(conn: &Connection, network: &NetworkId, ticket: Ticket, actor: &str) -> Result<StoredTicket> {
    if find(conn, network, &ticket.product_id)?.is_some() {
        return Err(Conflict::Duplicate { resource: "ticket", id: ticket.product_id.to_string() }.into());
    }
    super::limits::check_room(conn, network, crate::domain::limits::Held::Tickets)?;
    let stored = StoredTicket { ticket, sold: 0, sys: Sys::new(actor) };
    write_row(conn, network, &stored, true)?;
    Ok(stored)
}

/// Replaces a ticket as a whole; checks `sysVersion` when given, and that `allocation` stays at or above `sold`.
/// A replacement equal to the stored ticket changes nothing, not even `sysVersion`.
pub fn update(
    conn: &Connection,
    network: &NetworkId,
    ticket: Ticket,
    expected_version: Option<i64>,
    actor: &str,
) -> Result<StoredTicket> {
    let current = get(conn, network, &ticket.product_id)?;
    check_version(expected_version, current.sys.version)?;
    // A change that changes nothing is no change: the stored ticket is answered, its version and times untouched,
    // and nothing is written (so the kept ticket list stays too).
    if ticket == current.ticket {
        return Ok(current);
    }
    if let Some(allocation) = ticket.allocation
        && allocation < current.sold
    {
        return Err(Conflict::AllocationBelowSold { allocation, sold: current.sold }.into());
    }
    let stored = StoredTicket { ticket, sold: current.sold, sys: current.sys.changed(actor) };
    write_row(conn, network, &stored, false)?;
    Ok(stored)
}

/// Deletes a ticket; one that active registrations hold is `-32009 referenced`.
pub fn delete(conn: &Connection, network: &NetworkId, id: &ProductId) -> Result<()> {
    let current = get(conn, network, id)?;
    if current.sold > 0 {
        return Err(Conflict::TicketHeld { product_id: id.to_string(), sold: current.sold }.into());
    }
    conn.prepare_cached("DELETE FROM tickets WHERE network_id = ?1 AND product_id = ?2")?
        .execute(params![network.as_str(), id.as_str()])?;
    Ok(())
}

/// `-32009 staleVersion` unless the client's expected version (if any) is the stored one.
pub fn check_version(expected: Option<i64>, actual: i64) -> Result<()> {
    match expected {
        Some(expected) if expected != actual => Err(Conflict::StaleVersion { expected, current: actual }.into()),
        _ => Ok(()),
    }
}
