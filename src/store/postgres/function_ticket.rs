//! Function tickets on PostgreSQL, always within one network, and their ties to registrations.
//!
//! A function ticket that names a registration holds that registration's row with `FOR KEY SHARE` while it is
//! written: a delete or a move of the registration to another event (which lock its row `FOR UPDATE`) waits for it
//! and then counts it, so a registration never loses a function ticket that refers to it, on any server.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row as PgRow;

use super::list::Listed;
use super::{Failure, Lock, Named, Tx, insert, update};
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

fn from_row(row: &PgRow) -> Result<(Position, StoredFunctionTicket)> {
    function_ticket_from(&Named(row))
}

pub(super) const LISTED: Listed<StoredFunctionTicket> =
    Listed { select: SELECT, table: "function_tickets", total: None, from_row };

/// One function ticket of a network, or `-32004`, its row locked as `lock` says.
pub(super) async fn get(
    db: &impl GenericClient,
    network: &NetworkId,
    id: &str,
    lock: Lock,
) -> std::result::Result<StoredFunctionTicket, Failure> {
    let sql = format!("{SELECT} WHERE network_id = $1 AND id = $2{}", lock.clause());
    let statement = db.prepare_cached(&sql).await?;
    match db.query_opt(&statement, &[&network.as_str(), &id]).await? {
        Some(row) => Ok(from_row(&row)?.1),
        None => Err(Error::NotFound { resource: "functionTicket", id: id.to_owned() }.into()),
    }
}

/// `registrationId`, when set, must name a registration of this network for the same event; its row is held
/// (`FOR KEY SHARE`) until the transaction ends.
async fn check_registration(
    tx: &Tx<'_>,
    network: &NetworkId,
    ticket: &FunctionTicket,
) -> std::result::Result<(), Failure> {
    let Some(id) = &ticket.registration_id else { return Ok(()) };
    let statement =
        tx.prepare_cached("SELECT event_id FROM registrations WHERE network_id = $1 AND id = $2 FOR KEY SHARE").await?;
    let missing =
        || Conflict::MissingReference { resource: "registration", id: id.to_owned(), field: "registrationId" };
    let event: String = tx.query_opt(&statement, &[&network.as_str(), id]).await?.ok_or_else(missing)?.get(0);
    Ok(ticket.check_registration_event(id, &event).map_err(|e| Error::InvalidParams(vec![e]))?)
}

const KEY: &[&str] = &["network_id", "id"];

/// Creates a function ticket; the server makes its id.
async fn create(
    tx: &Tx<'_>,
    network: &NetworkId,
    ticket: FunctionTicket,
    actor: &ActorId,
) -> std::result::Result<StoredFunctionTicket, Failure> {
    let limits = super::limits::lock(tx, network).await?;
    check_registration(tx, network, &ticket).await?;
    super::limits::check_room(tx, network, &limits, Held::FunctionTickets).await?;
    let stored = StoredFunctionTicket { id: FunctionTicketId::new(), ticket, sys: Sys::new(actor) };
    if !insert(tx, "function_tickets", &function_ticket_row(network, &stored)?).await? {
        return Err(Error::Internal(format!("function ticket id {} made twice", stored.id.as_str())).into());
    }
    Ok(stored)
}

/// Replaces a function ticket's fields as a whole; a replacement equal to the stored fields changes nothing, not
/// even `sysVersion`.
async fn replace(
    tx: &Tx<'_>,
    network: &NetworkId,
    current: StoredFunctionTicket,
    next: FunctionTicket,
    expected_version: Option<i64>,
    actor: &ActorId,
) -> std::result::Result<StoredFunctionTicket, Failure> {
    check_version(expected_version, current.sys.version)?;
    if next == current.ticket {
        return Ok(current);
    }
    current.check_unlocked(Some(&next))?;
    check_registration(tx, network, &next).await?;
    let stored = StoredFunctionTicket { id: current.id.clone(), ticket: next, sys: current.sys.changed(actor) };
    let (before, after) = (function_ticket_row(network, &current)?, function_ticket_row(network, &stored)?);
    update(tx, "function_tickets", KEY, &before, &after).await?;
    Ok(stored)
}

/// Deletes a function ticket.
async fn delete(tx: &Tx<'_>, network: &NetworkId, id: &str) -> std::result::Result<(), Failure> {
    get(tx, network, id, Lock::Update).await?.check_unlocked(None)?;
    tx.execute("DELETE FROM function_tickets WHERE network_id = $1 AND id = $2", &[&network.as_str(), &id]).await?;
    Ok(())
}

/// How many function tickets refer to a registration.
pub(super) async fn count_for_registration(
    tx: &Tx<'_>,
    network: &NetworkId,
    registration_id: &str,
) -> std::result::Result<i64, Failure> {
    let statement = tx
        .prepare_cached("SELECT count(*) FROM function_tickets WHERE network_id = $1 AND registration_id = $2")
        .await?;
    Ok(tx.query_one(&statement, &[&network.as_str(), &registration_id]).await?.get(0))
}

/// Moves every function ticket of a registration to a new contact (inside the transfer's transaction).
pub(super) async fn follow_transfer(
    tx: &Tx<'_>,
    network: &NetworkId,
    registration_id: &str,
    contact_id: &ContactId,
    actor: &ActorId,
) -> std::result::Result<usize, Failure> {
    let statement = tx
        .prepare_cached(&format!("{SELECT} WHERE network_id = $1 AND registration_id = $2 ORDER BY seq FOR UPDATE"))
        .await?;
    let tied = tx.query(&statement, &[&network.as_str(), &registration_id]).await?;
    for row in &tied {
        let (_, current) = from_row(row)?;
        current.check_unlocked(None)?;
        let ticket = FunctionTicket { contact_id: contact_id.clone(), ..current.ticket.clone() };
        let moved = StoredFunctionTicket { id: current.id.clone(), ticket, sys: current.sys.changed(actor) };
        let (before, after) = (function_ticket_row(network, &current)?, function_ticket_row(network, &moved)?);
        update(tx, "function_tickets", KEY, &before, &after).await?;
    }
    Ok(tied.len())
}

records!(FunctionTicketKind);
