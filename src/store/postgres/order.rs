//! Orders on PostgreSQL, always within one network, and the order fields of the registrations they hold.
//!
//! **Across servers.** Making an order locks the rows of the registrations it is for (`FOR UPDATE`, a group's in
//! creation order) before it reads their orders, so two servers never order one registration twice: the second
//! waits, then sees the first's order. **Numbers** come from the network's counter row, locked by the upsert that
//! reads it until the commit, so numbers are handed out one at a time, and a transaction that rolls back gives its
//! number back with it. **Payments and cancellations** lock the order's row, then its registrations', so the second
//! of two payments sees the first.

use std::collections::HashMap;

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use tokio_postgres::Row as PgRow;

use super::list::{self, Arg, Filter, Listed, Plan};
use super::writer::write;
use super::{Failure, Lock, Named, PostgresStore, Tx, insert, registration, snapshot, update};
use crate::auth::NetworkScope;
use crate::domain::ids::{ActorId, NetworkId, ProductId};
use crate::domain::order::{self, OrderAction, OrderId, OrderQuery, StoredOrder};
use crate::domain::registration::{RegistrationId, StoredRegistration};
use crate::domain::sys::{Sys, check_version};
use crate::domain::ticket::Ticket;
use crate::error::{Error, Result};
use crate::store::rows::{order_columns, order_from, order_row};
use crate::store::{Found, MadeOrder, OrderFor, Orders, Position, Window};

const SELECT: &str = concat!("SELECT ", order_columns!(), " FROM orders");

fn from_row(row: &PgRow) -> Result<(Position, StoredOrder)> {
    order_from(&Named(row))
}

/// One order of a network, or `-32004`, its row locked as `lock` says.
async fn get(
    db: &impl GenericClient,
    network: &NetworkId,
    id: &str,
    lock: Lock,
) -> std::result::Result<StoredOrder, Failure> {
    let statement = db.prepare_cached(&format!("{SELECT} WHERE network_id = $1 AND id = $2{}", lock.clause())).await?;
    match db.query_opt(&statement, &[&network.as_str(), &id]).await? {
        Some(row) => Ok(from_row(&row)?.1),
        None => Err(Error::NotFound { resource: "order", id: id.to_owned() }.into()),
    }
}

/// A registration's order: the latest that holds it.
async fn current(
    db: &impl GenericClient,
    network: &NetworkId,
    registration_id: &str,
) -> std::result::Result<Option<StoredOrder>, Failure> {
    let statement = db
        .prepare_cached(&format!(
            "{SELECT} WHERE network_id = $1 AND number = (SELECT max(order_number) FROM order_registrations \
             WHERE network_id = $1 AND registration_id = $2)"
        ))
        .await?;
    match db.query_opt(&statement, &[&network.as_str(), &registration_id]).await? {
        Some(row) => Ok(Some(from_row(&row)?.1)),
        None => Ok(None),
    }
}

/// Whether the server has made an order of this registration: its order fields are then the order's.
pub(super) async fn ordered(
    tx: &Tx<'_>,
    network: &NetworkId,
    registration_id: &str,
) -> std::result::Result<bool, Failure> {
    let statement = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM order_registrations WHERE network_id = $1 AND registration_id = $2)",
        )
        .await?;
    Ok(tx.query_one(&statement, &[&network.as_str(), &registration_id]).await?.get(0))
}

/// The number of the network's next order, under the lock of its counter row (taken by the upsert that reads it).
async fn take_number(tx: &Tx<'_>, network: &NetworkId) -> std::result::Result<i64, Failure> {
    let counter = tx
        .prepare_cached(
            "INSERT INTO order_numbers (network_id, last_number) VALUES ($1, 0) \
             ON CONFLICT (network_id) DO UPDATE SET last_number = order_numbers.last_number RETURNING last_number",
        )
        .await?;
    let last: i64 = tx.query_one(&counter, &[&network.as_str()]).await?.get(0);
    let number = order::next_number(last)?;
    let raise = tx.prepare_cached("UPDATE order_numbers SET last_number = $2 WHERE network_id = $1").await?;
    tx.execute(&raise, &[&network.as_str(), &number]).await?;
    Ok(number)
}

/// The tickets the registrations' orders are priced from, by productId (those that exist).
async fn tickets_for(
    tx: &Tx<'_>,
    network: &NetworkId,
    registrations: &[StoredRegistration],
) -> std::result::Result<HashMap<ProductId, Ticket>, Failure> {
    let mut tickets = HashMap::new();
    for r in registrations {
        // A registration whose add-ons are malformed is refused by the pricing, which names every problem.
        for wanted in order::wanted("registration", &r.registration).unwrap_or_default() {
            if tickets.contains_key(&wanted.product_id) {
                continue;
            }
            if let Some(found) = super::ticket::find(tx, network, wanted.product_id.as_str(), Lock::None).await? {
                tickets.insert(wanted.product_id, found.ticket);
            }
        }
    }
    Ok(tickets)
}

/// Writes a registration's order fields as `order` has them.
async fn mirror(
    tx: &Tx<'_>,
    network: &NetworkId,
    current: &StoredRegistration,
    order: &order::Order,
    actor: &ActorId,
) -> std::result::Result<StoredRegistration, Failure> {
    let next = StoredRegistration {
        registration: order::mirrored(&current.registration, &current.id, order),
        sys: current.sys.changed(actor),
        ..current.clone()
    };
    registration::update_row(tx, network, current, &next).await?;
    Ok(next)
}

/// The registrations `of` names that have no order, locked (or `MadeOrder` when the one registration has one).
async fn to_order(
    tx: &Tx<'_>,
    network: &NetworkId,
    of: &OrderFor,
) -> std::result::Result<std::result::Result<Vec<StoredRegistration>, MadeOrder>, Failure> {
    let chosen = match of {
        OrderFor::Registration(id) => {
            let found = registration::get(tx, network, id.as_str(), Lock::Update).await?;
            match current(tx, network, id.as_str()).await? {
                Some(order) if !order::needs_order(Some(&order)) => {
                    return Ok(Err(MadeOrder { order, registrations: vec![found] }));
                }
                _ => vec![found],
            }
        }
        OrderFor::Group(group) => {
            let statement = tx
                .prepare_cached(&format!(
                    "{} WHERE network_id = $1 AND group_id = $2 AND status = 'active' ORDER BY seq FOR UPDATE",
                    registration::SELECT
                ))
                .await?;
            let mut with_orders = Vec::new();
            for row in tx.query(&statement, &[&network.as_str(), group]).await? {
                let (_, member) = registration::from_row(&row)?;
                let held = current(tx, network, member.id.as_str()).await?;
                with_orders.push((member, held));
            }
            order::group_members_to_order(group, with_orders)?
        }
    };
    Ok(Ok(chosen))
}

/// Makes the order of the registrations `of` names that have none, as [`Orders::make_order`] says.
async fn make(
    tx: &Tx<'_>,
    network: &NetworkId,
    of: &OrderFor,
    actor: &ActorId,
) -> std::result::Result<MadeOrder, Failure> {
    let chosen = match to_order(tx, network, of).await? {
        Ok(chosen) => chosen,
        Err(existing) => return Ok(existing),
    };
    for r in &chosen {
        order::check_orderable(r)?;
    }
    let tickets = tickets_for(tx, network, &chosen).await?;
    let number = take_number(tx, network).await?;
    let members: Vec<_> = chosen.iter().map(|r| (&r.id, &r.registration)).collect();
    let stored = StoredOrder { order: order::make(number, &members, &tickets)?, sys: Sys::new(actor) };
    if !insert(tx, "orders", &order_row(network, &stored)?).await? {
        // The counter is locked, so only a number taken outside it (never, by this server) lands here.
        return Err(Error::Internal(format!("order number {number} is taken")).into());
    }
    let held = tx
        .prepare_cached(
            "INSERT INTO order_registrations (network_id, registration_id, order_number) VALUES ($1, $2, $3)",
        )
        .await?;
    let mut registrations = Vec::with_capacity(chosen.len());
    for r in &chosen {
        tx.execute(&held, &[&network.as_str(), &r.id.as_str(), &number]).await?;
        registrations.push(mirror(tx, network, r, &stored.order, actor).await?);
    }
    Ok(MadeOrder { order: stored, registrations })
}

const KEY: &[&str] = &["network_id", "id"];

/// Applies a payment or a cancellation under the order's row lock, and writes its registrations' order fields.
async fn change(
    tx: &Tx<'_>,
    network: &NetworkId,
    id: &str,
    expected: Option<i64>,
    action: OrderAction,
    actor: &ActorId,
) -> std::result::Result<StoredOrder, Failure> {
    let current = get(tx, network, id, Lock::Update).await?;
    check_version(expected, current.sys.version)?;
    let Some(next) = current.order.apply(action)? else { return Ok(current) };
    let stored = StoredOrder { order: next, sys: current.sys.changed(actor) };
    update(tx, "orders", KEY, &order_row(network, &current)?, &order_row(network, &stored)?).await?;
    // Only an order awaiting payment changes, and it is the latest order of each registration it holds (a
    // registration is ordered again only once its order is cancelled); a deleted registration is left out.
    for held in &stored.order.registration_ids {
        match registration::get(tx, network, held.as_str(), Lock::Update).await {
            Ok(r) => {
                r.check_unlocked(None)?;
                mirror(tx, network, &r, &stored.order, actor).await?;
            }
            Err(Failure::Rule(Error::NotFound { .. })) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(stored)
}

const LISTED: Listed<StoredOrder> = Listed { select: SELECT, table: "orders", total: None, from_row };

/// The filter of a query.
fn filter(network: &NetworkId, query: &OrderQuery) -> Filter {
    let mut filter = Filter::new(network);
    if let Some(statuses) = &query.statuses {
        let hole = filter.arg(Arg::Texts(statuses.iter().map(|s| s.as_str().to_owned()).collect()));
        filter.clauses.push(format!("status = ANY({hole})"));
    }
    if let Some(ids) = &query.registration_ids {
        let hole = filter.arg(Arg::Texts(ids.clone()));
        filter.clauses.push(format!(
            "number IN (SELECT order_number FROM order_registrations WHERE network_id = $1 AND registration_id = \
             ANY({hole}))"
        ));
    }
    filter
}

#[async_trait]
impl Orders for PostgresStore {
    async fn make_order(&self, scope: &NetworkScope, of: OrderFor) -> Result<MadeOrder> {
        let scope = scope.clone();
        write!(self, (scope, of), |tx| make(tx, scope.network(), &of, scope.actor()).await)
    }

    async fn order(&self, scope: &NetworkScope, id: &OrderId) -> Result<StoredOrder> {
        let db = self.client().await?;
        Ok(get(&db, scope.network(), id.as_str(), Lock::None).await?)
    }

    async fn list_orders(&self, scope: &NetworkScope, query: OrderQuery, window: Window) -> Result<Found<StoredOrder>> {
        let filter = filter(scope.network(), &query);
        // The count and the page in one snapshot.
        snapshot!(self, |tx| list::page(&tx, &LISTED, filter.clone(), window, None, Plan::Kept).await)
    }

    async fn change_order(
        &self,
        scope: &NetworkScope,
        id: &OrderId,
        expected: Option<i64>,
        action: OrderAction,
    ) -> Result<StoredOrder> {
        let (scope, id) = (scope.clone(), id.clone());
        write!(self, (scope, id), |tx| change(tx, scope.network(), id.as_str(), expected, action, scope.actor()).await)
    }

    async fn registration_order(
        &self,
        scope: &NetworkScope,
        id: &RegistrationId,
    ) -> Result<(StoredRegistration, Option<StoredOrder>)> {
        // Both in one snapshot: the registration's order fields as its order has them.
        snapshot!(self, |tx| {
            let found = registration::get(&tx, scope.network(), id.as_str(), Lock::None).await?;
            Ok((found, current(&tx, scope.network(), id.as_str()).await?))
        })
    }
}
