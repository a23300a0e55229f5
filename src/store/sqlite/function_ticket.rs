//! Function tickets in SQLite, always within one network, and their ties to registrations.
//!
//! A function ticket's `registrationId`, when set, names a registration of the same network and the same event.
//! A registration that function tickets refer to cannot be deleted, nor moved to another event; when it is
//! transferred, its function tickets follow it to the new contact in the same transaction.

use rusqlite::{Connection, OptionalExtension, params};

use super::list::{self, Listed};
use crate::domain::function_ticket::{FunctionTicket, FunctionTicketId, StoredFunctionTicket};
use crate::domain::ids::{ActorId, ContactId, NetworkId};
use crate::domain::limits::Held;
use crate::domain::sys::{Sys, check_version};
use crate::error::{Conflict, Error, Result};
use crate::store::rows::{
    function_ticket_column as column, function_ticket_columns, function_ticket_from, function_ticket_row,
};
use crate::store::{FunctionTicketKind, Position};

const SELECT: &str = concat!("SELECT ", function_ticket_columns!(), " FROM function_tickets");

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(Position, StoredFunctionTicket)> {
    super::read(row, function_ticket_from)
}

const LISTED: Listed<StoredFunctionTicket> =
    Listed { select: SELECT, count: "SELECT count(*) FROM function_tickets", total: None, from_row };

/// One function ticket of a network, or `-32004`.
fn get(conn: &Connection, network: &NetworkId, id: &str) -> Result<StoredFunctionTicket> {
    conn.prepare_cached(&format!("{SELECT} WHERE network_id = ?1 AND id = ?2"))?
        .query_row(params![network.as_str(), id], from_row)
        .optional()?
        .map(|(_, t)| t)
        .ok_or_else(|| Error::NotFound { resource: "functionTicket", id: id.to_owned() })
}

/// `registrationId`, when set, must name a registration of this network for the same event.
fn check_registration(conn: &Connection, network: &NetworkId, ticket: &FunctionTicket) -> Result<()> {
    let Some(id) = &ticket.registration_id else { return Ok(()) };
    let event: Option<String> = conn
        .prepare_cached("SELECT event_id FROM registrations WHERE network_id = ?1 AND id = ?2")?
        .query_row(params![network.as_str(), id], |r| r.get(0))
        .optional()?;
    let missing =
        || Conflict::MissingReference { resource: "registration", id: id.to_owned(), field: "registrationId" };
    let event = event.ok_or_else(missing)?;
    ticket.check_registration_event(id, &event).map_err(|e| Error::InvalidParams(vec![e]))
}

const KEY: &[&str] = &["network_id", "id"];

/// Creates a function ticket; the server makes its id.
fn create(
    conn: &Connection,
    network: &NetworkId,
    ticket: FunctionTicket,
    actor: &ActorId,
) -> Result<StoredFunctionTicket> {
    check_registration(conn, network, &ticket)?;
    super::limits::check_room(conn, network, Held::FunctionTickets)?;
    let stored = StoredFunctionTicket { id: FunctionTicketId::new(), ticket, sys: Sys::new(actor) };
    super::insert(conn, "function_tickets", &function_ticket_row(network, &stored)?)?;
    Ok(stored)
}

/// Replaces a function ticket's fields as a whole; a replacement equal to the stored fields changes nothing, not
/// even `sysVersion`.
fn replace(
    conn: &Connection,
    network: &NetworkId,
    id: &str,
    next: FunctionTicket,
    expected_version: Option<i64>,
    actor: &ActorId,
) -> Result<StoredFunctionTicket> {
    let current = get(conn, network, id)?;
    check_version(expected_version, current.sys.version)?;
    // A change that changes nothing is no change: the stored ticket, its version and times as they were.
    if next == current.ticket {
        return Ok(current);
    }
    current.check_unlocked(Some(&next))?;
    check_registration(conn, network, &next)?;
    let stored = StoredFunctionTicket { id: current.id.clone(), ticket: next, sys: current.sys.changed(actor) };
    super::update(
        conn,
        "function_tickets",
        KEY,
        &function_ticket_row(network, &current)?,
        &function_ticket_row(network, &stored)?,
    )?;
    Ok(stored)
}

/// Deletes a function ticket.
fn delete(conn: &Connection, network: &NetworkId, id: &str) -> Result<()> {
    get(conn, network, id)?.check_unlocked(None)?;
    conn.prepare_cached("DELETE FROM function_tickets WHERE network_id = ?1 AND id = ?2")?
        .execute(params![network.as_str(), id])?;
    Ok(())
}

/// How many function tickets refer to a registration.
pub fn count_for_registration(conn: &Connection, network: &NetworkId, registration_id: &str) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM function_tickets WHERE network_id = ?1 AND registration_id = ?2")?
        .query_row(params![network.as_str(), registration_id], |r| r.get(0))?)
}

/// Moves every function ticket of a registration to a new contact (inside the transfer's transaction).
pub fn follow_transfer(
    conn: &Connection,
    network: &NetworkId,
    registration_id: &str,
    contact_id: &ContactId,
    actor: &ActorId,
) -> Result<usize> {
    let tied = conn
        .prepare_cached(&format!("{SELECT} WHERE network_id = ?1 AND registration_id = ?2 ORDER BY seq"))?
        .query_map(params![network.as_str(), registration_id], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (_, current) in &tied {
        current.check_unlocked(None)?;
        let ticket = FunctionTicket { contact_id: contact_id.clone(), ..current.ticket.clone() };
        let moved = StoredFunctionTicket { id: current.id.clone(), ticket, sys: current.sys.changed(actor) };
        super::update(
            conn,
            "function_tickets",
            KEY,
            &function_ticket_row(network, current)?,
            &function_ticket_row(network, &moved)?,
        )?;
    }
    Ok(tied.len())
}

record_store!(FunctionTicketKind);
