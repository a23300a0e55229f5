//! Function tickets in SQLite, always within one network, and their ties to registrations.
//!
//! A function ticket's `registrationId`, when set, names a registration of the same network and the same event.
//! A registration that function tickets refer to cannot be deleted, nor moved to another event; when it is
//! transferred, its function tickets follow it to the new contact in the same transaction.

use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use serde_json::{Map, Value};

use crate::domain::Page;
use crate::domain::function_ticket::FunctionTicket;
use crate::domain::ids::{NetworkId, new_id};
use crate::domain::sys::Sys;
use crate::error::{Conflict, Error, FieldError, Result};
use crate::store::as_sql;
use crate::store::list::{self, Found, Listed};
use crate::store::registration;
use crate::store::ticket::check_version;

/// A function ticket as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFunctionTicket {
    pub id: String,
    pub ticket: FunctionTicket,
    pub sys: Sys,
    pub seq: i64,
}

impl StoredFunctionTicket {
    /// The function ticket as the API shows it.
    pub fn to_json(&self) -> Map<String, Value> {
        self.sys.record_json(&[("id", self.id.clone().into())], self.ticket.fields())
    }

    /// [`StoredFunctionTicket::to_json`] as text, only the members `keep` allows.
    pub fn write_json(&self, out: &mut Vec<u8>, keep: &dyn Fn(&str) -> bool) {
        let fields = self.ticket.fields().iter().map(|(k, v)| (k.as_str(), v));
        self.sys.write_record_json(out, &[("id", self.id.clone().into())], fields, keep);
    }
}

const SELECT: &str = "SELECT seq, id, fields, sys_version, sys_created_at, sys_last_modified_at, sys_created_by, \
    sys_last_modified_by FROM function_tickets";

fn from_row(row: &Row<'_>) -> rusqlite::Result<StoredFunctionTicket> {
    Ok(StoredFunctionTicket {
        seq: row.get(0)?,
        id: row.get(1)?,
        ticket: FunctionTicket::from_stored(super::fields_from_row(row, 2)?),
        sys: super::sys_from_row(row, 3)?,
    })
}

const LISTED: Listed<StoredFunctionTicket> =
    Listed { select: SELECT, count: "SELECT count(*) FROM function_tickets", total: None, from_row, seq: |t| t.seq };

/// One function ticket of a network, or `-32004`.
pub fn get(conn: &Connection, network: &NetworkId, id: &str) -> Result<StoredFunctionTicket> {
    conn.prepare_cached(&format!("{SELECT} WHERE network_id = ?1 AND id = ?2"))?
        .query_row(params![network.as_str(), id], from_row)
        .optional()?
        .ok_or_else(|| Error::NotFound { resource: "functionTicket", id: id.to_owned() })
}

/// The function tickets of a network whose columns equal the given values.
pub fn list_by(
    conn: &Connection,
    network: &NetworkId,
    equal: &[(&str, String)],
    page: &Page,
) -> Result<Found<StoredFunctionTicket>> {
    list::page_equal(conn, &LISTED, network, equal, page)
}

/// `registrationId`, when set, must name a registration of this network for the same event.
fn check_registration(conn: &Connection, network: &NetworkId, ticket: &FunctionTicket) -> Result<()> {
    let Some(id) = ticket.registration_id() else { return Ok(()) };
    let held = registration::find_for_reference(conn, network, id, "registrationId")?;
    if held.registration.event_id() != ticket.event_id() {
        return Err(Error::InvalidParams(vec![FieldError {
            field: "functionTicket.eventId".into(),
            message: format!("must be the eventId of registration {id} ({})", held.registration.event_id()),
            value: Some(ticket.event_id().into()),
        }]));
    }
    Ok(())
}

fn locked(id: &str) -> Error {
    Error::Locked { resource: "functionTicket", id: id.to_owned() }
}

fn write_row(conn: &Connection, network: &NetworkId, t: &StoredFunctionTicket, insert: bool) -> Result<i64> {
    let k = &t.ticket;
    let fields = serde_json::to_string(&k.stored_fields()).map_err(|e| Error::Internal(e.to_string()))?;
    let sql = if insert {
        "INSERT INTO function_tickets (network_id, id, event_id, function_id, contact_id, registration_id, status, \
         fields, sys_version, sys_created_at, sys_last_modified_at, sys_created_by, sys_last_modified_by) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
    } else {
        "UPDATE function_tickets SET event_id = ?3, function_id = ?4, contact_id = ?5, registration_id = ?6, \
         status = ?7, fields = ?8, sys_version = ?9, sys_created_at = ?10, sys_last_modified_at = ?11, \
         sys_created_by = ?12, sys_last_modified_by = ?13 WHERE network_id = ?1 AND id = ?2"
    };
    let row = params![
        network.as_str(),
        t.id,
        k.event_id(),
        k.get_str("functionId"),
        k.get_str("contactId"),
        k.registration_id(),
        k.get_str("status"),
        fields,
    ];
    let sys = super::sys_values(&t.sys);
    conn.prepare_cached(sql)?.execute(params_from_iter(row.iter().copied().chain(sys.iter().map(as_sql))))?;
    Ok(if insert { conn.last_insert_rowid() } else { t.seq })
}

/// Creates a function ticket; the server makes its id.
pub fn create(
    conn: &Connection,
    network: &NetworkId,
    ticket: FunctionTicket,
    actor: &str,
) -> Result<StoredFunctionTicket> {
    check_registration(conn, network, &ticket)?;
    super::limits::check_room(conn, network, crate::domain::limits::Held::FunctionTickets)?;
    let mut stored = StoredFunctionTicket { id: new_id(), ticket, sys: Sys::new(actor), seq: 0 };
    stored.seq = write_row(conn, network, &stored, true)?;
    Ok(stored)
}

/// Replaces a function ticket's fields as a whole; a replacement equal to the stored fields changes nothing, not
/// even `sysVersion`.
pub fn replace(
    conn: &Connection,
    network: &NetworkId,
    id: &str,
    next: FunctionTicket,
    expected_version: Option<i64>,
    actor: &str,
) -> Result<StoredFunctionTicket> {
    let current = get(conn, network, id)?;
    check_version(expected_version, current.sys.version)?;
    // A change that changes nothing is no change: the stored ticket, its version and times as they were.
    if next == current.ticket {
        return Ok(current);
    }
    if current.ticket.locked() {
        let mut unlocked = current.ticket.clone();
        unlocked.set("sysLocked", Value::Bool(false));
        if next != unlocked {
            return Err(locked(id));
        }
    }
    check_registration(conn, network, &next)?;
    let stored = StoredFunctionTicket { ticket: next, sys: current.sys.changed(actor), ..current };
    write_row(conn, network, &stored, false)?;
    Ok(stored)
}

/// Deletes a function ticket.
pub fn delete(conn: &Connection, network: &NetworkId, id: &str) -> Result<()> {
    let current = get(conn, network, id)?;
    if current.ticket.locked() {
        return Err(locked(id));
    }
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

/// `-32009 referenced` while function tickets refer to the registration.
pub fn check_unreferenced(
    conn: &Connection,
    network: &NetworkId,
    registration_id: &str,
    change: &'static str,
) -> Result<()> {
    let count = count_for_registration(conn, network, registration_id)?;
    if count > 0 {
        return Err(Conflict::FunctionTicketsHeld { registration_id: registration_id.to_owned(), count, change }.into());
    }
    Ok(())
}

/// Moves every function ticket of a registration to a new contact (inside the transfer's transaction).
pub fn follow_transfer(
    conn: &Connection,
    network: &NetworkId,
    registration_id: &str,
    contact_id: &str,
    actor: &str,
) -> Result<usize> {
    let tied = conn
        .prepare_cached(&format!("{SELECT} WHERE network_id = ?1 AND registration_id = ?2 ORDER BY seq"))?
        .query_map(params![network.as_str(), registration_id], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for current in &tied {
        if current.ticket.locked() {
            return Err(locked(&current.id));
        }
        let mut ticket = current.ticket.clone();
        ticket.set("contactId", Value::String(contact_id.to_owned()));
        let moved = StoredFunctionTicket { ticket, sys: current.sys.changed(actor), ..current.clone() };
        write_row(conn, network, &moved, false)?;
    }
    Ok(tied.len())
}
