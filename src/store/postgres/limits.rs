//! Tenant limits on PostgreSQL. A create in a network with a limit first locks the network's limits row, so racing
//! creates on any number of servers count one after the other: 200 concurrent creates against a limit of 10 make
//! exactly 10.

use async_trait::async_trait;

use super::{Failure, PostgresStore, Tx, transaction};
use crate::auth::NetworkScope;
use crate::domain::ids::NetworkId;
use crate::domain::limits::{self, Held, NetworkLimits, Usage};
use crate::error::Result;
use crate::store::Limits;

/// A network's limits (none set: no limit), its row locked until the transaction ends when `lock`.
async fn get(tx: &Tx<'_>, network: &NetworkId, lock: bool) -> std::result::Result<NetworkLimits, Failure> {
    let sql = if lock {
        "SELECT max_tickets, max_registrations, max_function_tickets FROM network_limits WHERE network_id = $1 \
         FOR UPDATE"
    } else {
        "SELECT max_tickets, max_registrations, max_function_tickets FROM network_limits WHERE network_id = $1"
    };
    let statement = tx.prepare_cached(sql).await?;
    Ok(tx.query_opt(&statement, &[&network.as_str()]).await?.map_or_else(NetworkLimits::default, |r| NetworkLimits {
        max_tickets: r.get(0),
        max_registrations: r.get(1),
        max_function_tickets: r.get(2),
    }))
}

/// Sets a network's limits; limits that are all none leave no row behind.
async fn set(tx: &Tx<'_>, network: &NetworkId, limits: &NetworkLimits) -> std::result::Result<(), Failure> {
    if *limits == NetworkLimits::default() {
        tx.execute("DELETE FROM network_limits WHERE network_id = $1", &[&network.as_str()]).await?;
        return Ok(());
    }
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
        Held::Registrations => "SELECT count(*) FROM registrations WHERE network_id = $1",
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

/// Refuses one more record of `held` past the network's limit. The limits row is locked first, so the count read
/// after it includes every create that held the lock before.
pub(super) async fn check_room(tx: &Tx<'_>, network: &NetworkId, held: Held) -> std::result::Result<(), Failure> {
    let set = get(tx, network, true).await?;
    if set.of(held).is_none() {
        return Ok(());
    }
    Ok(limits::check_room(&set, held, count(tx, network, held).await?)?)
}

#[async_trait]
impl Limits for PostgresStore {
    async fn network_limits(&self, scope: &NetworkScope) -> Result<(NetworkLimits, Usage)> {
        let network = scope.network();
        transaction!(self, |tx| Ok((get(&tx, network, false).await?, usage(&tx, network).await?)))
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
