//! Tenant limits in SQLite: what each network may hold, what it holds, and the check a create makes inside the
//! writer's transaction. The writer is the only one that inserts, so a count read in its transaction is exact: 200
//! concurrent creates against a limit of 10 make exactly 10.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use crate::auth::NetworkScope;
use crate::store::Limits;

use crate::domain::ids::NetworkId;
use crate::domain::limits::{self, Held, NetworkLimits, Usage};
use crate::error::Result;

/// A network's limits (none set: no limit).
fn get(conn: &Connection, network: &NetworkId) -> Result<NetworkLimits> {
    let found = conn
        .prepare_cached(
            "SELECT max_tickets, max_registrations, max_function_tickets FROM network_limits WHERE network_id = ?1",
        )?
        .query_row([network.as_str()], |r| {
            Ok(NetworkLimits { max_tickets: r.get(0)?, max_registrations: r.get(1)?, max_function_tickets: r.get(2)? })
        })
        .optional()?;
    Ok(found.unwrap_or_default())
}

/// Sets a network's limits; limits that are all none leave no row behind.
fn set(conn: &Connection, network: &NetworkId, limits: &NetworkLimits) -> Result<()> {
    if *limits == NetworkLimits::default() {
        conn.prepare_cached("DELETE FROM network_limits WHERE network_id = ?1")?.execute([network.as_str()])?;
        return Ok(());
    }
    conn.prepare_cached(
        "INSERT INTO network_limits (network_id, max_tickets, max_registrations, max_function_tickets) \
         VALUES (?1, ?2, ?3, ?4) ON CONFLICT (network_id) DO UPDATE SET max_tickets = excluded.max_tickets, \
         max_registrations = excluded.max_registrations, max_function_tickets = excluded.max_function_tickets",
    )?
    .execute(params![
        network.as_str(),
        limits.max_tickets,
        limits.max_registrations,
        limits.max_function_tickets
    ])?;
    Ok(())
}

/// How many records of one kind a network holds.
fn count(conn: &Connection, network: &NetworkId, held: Held) -> Result<i64> {
    let sql = match held {
        Held::Tickets => "SELECT count(*) FROM tickets WHERE network_id = ?1",
        // Kept by the writer beside every insert and delete: no rows counted however many the network holds.
        Held::Registrations => "SELECT coalesce(sum(total), 0) FROM registration_totals WHERE network_id = ?1",
        Held::FunctionTickets => "SELECT count(*) FROM function_tickets WHERE network_id = ?1",
    };
    Ok(conn.prepare_cached(sql)?.query_row([network.as_str()], |r| r.get(0))?)
}

/// How many records of each kind a network holds.
fn usage(conn: &Connection, network: &NetworkId) -> Result<Usage> {
    Ok(Usage {
        tickets: count(conn, network, Held::Tickets)?,
        registrations: count(conn, network, Held::Registrations)?,
        function_tickets: count(conn, network, Held::FunctionTickets)?,
    })
}

/// Refuses one more record of `held` past the network's limit (`-32029` naming it); counts only when one is set.
pub fn check_room(conn: &Connection, network: &NetworkId, held: Held) -> Result<()> {
    let set = get(conn, network)?;
    if set.of(held).is_none() {
        return Ok(());
    }
    limits::check_room(&set, held, count(conn, network, held)?)
}

#[async_trait]
impl Limits for super::SqliteStore {
    async fn network_limits(&self, scope: &NetworkScope) -> Result<(NetworkLimits, Usage)> {
        let network = scope.network().clone();
        self.read(move |c| Ok((get(c, &network)?, usage(c, &network)?))).await
    }

    async fn change_network_limits(
        &self,
        scope: &NetworkScope,
        changes: Vec<(Held, Option<i64>)>,
    ) -> Result<(NetworkLimits, Usage)> {
        let network = scope.network().clone();
        self.write(move |c| {
            let mut limits = get(c, &network)?;
            for (held, max) in changes {
                limits.set(held, max);
            }
            set(c, &network, &limits)?;
            Ok((limits, usage(c, &network)?))
        })
        .await
    }
}
