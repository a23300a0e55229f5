//! Tenant limits on PostgreSQL. Every create and every change of limits first locks the network's limits row (made,
//! all NULL, when missing, and never deleted, so there is always a row to lock): racing creates on any number of
//! servers count one after the other, and a limit set while creates run is counted by all that follow it.

use async_trait::async_trait;

use super::{Failure, PostgresStore, Tx, snapshot, transaction};
use crate::auth::NetworkScope;
use crate::domain::ids::NetworkId;
use crate::domain::limits::{self, Held, NetworkLimits, Usage};
use crate::error::Result;
use crate::store::Limits;

/// A network's limits (none set: no limit), its row locked until the transaction ends when `lock` (the row is
/// made first if missing, so the lock is taken even where no limit was ever set).
async fn get(tx: &Tx<'_>, network: &NetworkId, lock: bool) -> std::result::Result<NetworkLimits, Failure> {
    const COLUMNS: &str = "SELECT max_tickets, max_registrations, max_function_tickets FROM network_limits \
                           WHERE network_id = $1";
    let read = |r: &tokio_postgres::Row| NetworkLimits {
        max_tickets: r.get(0),
        max_registrations: r.get(1),
        max_function_tickets: r.get(2),
    };
    if !lock {
        let statement = tx.prepare_cached(COLUMNS).await?;
        return Ok(tx
            .query_opt(&statement, &[&network.as_str()])
            .await?
            .map_or_else(NetworkLimits::default, |r| read(&r)));
    }
    let locked = tx.prepare_cached(&format!("{COLUMNS} FOR UPDATE")).await?;
    if let Some(row) = tx.query_opt(&locked, &[&network.as_str()]).await? {
        return Ok(read(&row));
    }
    // The first create of a network makes the row (a racing one waits on its key, then finds it).
    let make = tx.prepare_cached("INSERT INTO network_limits (network_id) VALUES ($1) ON CONFLICT DO NOTHING").await?;
    tx.execute(&make, &[&network.as_str()]).await?;
    Ok(read(&tx.query_one(&locked, &[&network.as_str()]).await?))
}

/// Sets a network's limits (the row stays when they are all none: it is what creates lock).
pub(super) async fn set(tx: &Tx<'_>, network: &NetworkId, limits: &NetworkLimits) -> std::result::Result<(), Failure> {
    tx.execute(
        "INSERT INTO network_limits (network_id, max_tickets, max_registrations, max_function_tickets) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (network_id) DO UPDATE SET max_tickets = excluded.max_tickets, \
         max_registrations = excluded.max_registrations, max_function_tickets = excluded.max_function_tickets",
        &[&network.as_str(), &limits.max_tickets, &limits.max_registrations, &limits.max_function_tickets],
    )
    .await?;
    Ok(())
}

/// How many records of one kind a network holds.
async fn count(tx: &Tx<'_>, network: &NetworkId, held: Held) -> std::result::Result<i64, Failure> {
    let sql = match held {
        Held::Tickets => "SELECT count(*) FROM tickets WHERE network_id = $1",
        // Kept by the registrations' triggers: no rows counted however many the network holds.
        Held::Registrations => "SELECT coalesce(sum(total), 0)::bigint FROM registration_totals WHERE network_id = $1",
        Held::FunctionTickets => "SELECT count(*) FROM function_tickets WHERE network_id = $1",
    };
    let statement = tx.prepare_cached(sql).await?;
    Ok(tx.query_one(&statement, &[&network.as_str()]).await?.get(0))
}

async fn usage(tx: &Tx<'_>, network: &NetworkId) -> std::result::Result<Usage, Failure> {
    Ok(Usage {
        tickets: count(tx, network, Held::Tickets).await?,
        registrations: count(tx, network, Held::Registrations).await?,
        function_tickets: count(tx, network, Held::FunctionTickets).await?,
    })
}

/// Locks the network's limits for a create: until the transaction ends, other creates and changes of limits in
/// the network wait, so what the create reads next (a duplicate, a count) is not raced.
pub(super) async fn lock(tx: &Tx<'_>, network: &NetworkId) -> std::result::Result<NetworkLimits, Failure> {
    // An earlier write of the same group took it already: the lock is this transaction's until the commit.
    if let Some(held) = super::writer::held_limits(network) {
        return Ok(held);
    }
    let limits = get(tx, network, true).await?;
    super::writer::note(|notes| notes.limits.push((network.as_str().to_owned(), limits)))?;
    Ok(limits)
}

/// Refuses one more record of `held` past the network's limit, read under [`lock`]: the count includes every
/// create that held the lock before.
pub(super) async fn check_room(
    tx: &Tx<'_>,
    network: &NetworkId,
    locked: &NetworkLimits,
    held: Held,
) -> std::result::Result<(), Failure> {
    if locked.of(held).is_none() {
        return Ok(());
    }
    Ok(limits::check_room(locked, held, count(tx, network, held).await?)?)
}

#[async_trait]
impl Limits for PostgresStore {
    async fn network_limits(&self, scope: &NetworkScope) -> Result<(NetworkLimits, Usage)> {
        let network = scope.network();
        snapshot!(self, |tx| Ok((get(&tx, network, false).await?, usage(&tx, network).await?)))
    }

    async fn change_network_limits(
        &self,
        scope: &NetworkScope,
        changes: Vec<(Held, Option<i64>)>,
    ) -> Result<(NetworkLimits, Usage)> {
        let network = scope.network();
        transaction!(self, |tx| {
            let mut limits = get(&tx, network, true).await?;
            for (held, max) in &changes {
                limits.set(*held, *max);
            }
            set(&tx, network, &limits).await?;
            Ok((limits, usage(&tx, network).await?))
        })
    }
}
