//! Orders in SQLite, always within one network, and the order fields of the registrations they hold.
//!
//! Every write runs on the one writer thread, in the savepoint of its call: an order, its number, its index rows
//! and its registrations' order fields are written together or not at all, and no other write comes between the
//! read of a registration's order and the making of a new one, so a registration is never ordered twice.

use std::collections::HashMap;

use async_trait::async_trait;
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, params};

use super::list::{self, Listed};
use super::{SqliteStore, registration, ticket};
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

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(Position, StoredOrder)> {
    super::read(row, order_from)
}

/// One order of a network, or `-32004`.
fn get(conn: &Connection, network: &NetworkId, id: &str) -> Result<StoredOrder> {
    conn.prepare_cached(&format!("{SELECT} WHERE network_id = ?1 AND id = ?2"))?
        .query_row(params![network.as_str(), id], from_row)
        .optional()?
        .map(|(_, o)| o)
        .ok_or_else(|| Error::NotFound { resource: "order", id: id.to_owned() })
}

/// A registration's order: the latest that holds it.
fn current(conn: &Connection, network: &NetworkId, registration_id: &str) -> Result<Option<StoredOrder>> {
    let sql = format!(
        "{SELECT} WHERE network_id = ?1 AND number = (SELECT max(order_number) FROM order_registrations \
         WHERE network_id = ?1 AND registration_id = ?2)"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![network.as_str(), registration_id], from_row)
        .optional()?
        .map(|(_, o)| o))
}

/// Whether the server has made an order of this registration: its order fields are then the order's.
pub(super) fn ordered(conn: &Connection, network: &NetworkId, registration_id: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM order_registrations WHERE network_id = ?1 AND registration_id = ?2)",
        )?
        .query_row(params![network.as_str(), registration_id], |r| r.get(0))?)
}

/// The number of the network's next order, raising its counter.
fn take_number(conn: &Connection, network: &NetworkId) -> Result<i64> {
    let last: i64 = conn
        .prepare_cached("SELECT last_number FROM order_numbers WHERE network_id = ?1")?
        .query_row(params![network.as_str()], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    let number = order::next_number(last)?;
    conn.prepare_cached(
        "INSERT INTO order_numbers (network_id, last_number) VALUES (?1, ?2) \
         ON CONFLICT (network_id) DO UPDATE SET last_number = excluded.last_number",
    )?
    .execute(params![network.as_str(), number])?;
    Ok(number)
}

/// The tickets the registrations' orders are priced from, by productId (those that exist).
fn tickets_for(
    conn: &Connection,
    network: &NetworkId,
    registrations: &[StoredRegistration],
) -> Result<HashMap<ProductId, Ticket>> {
    let mut tickets = HashMap::new();
    for r in registrations {
        // A registration whose add-ons are malformed is refused by the pricing, which names every problem.
        for wanted in order::wanted("registration", &r.registration).unwrap_or_default() {
            if tickets.contains_key(&wanted.product_id) {
                continue;
            }
            if let Some(found) = ticket::find(conn, network, &wanted.product_id)? {
                tickets.insert(wanted.product_id, found.ticket);
            }
        }
    }
    Ok(tickets)
}

/// Writes a registration's order fields as `order` has them.
fn mirror(
    conn: &Connection,
    network: &NetworkId,
    current: &StoredRegistration,
    order: &order::Order,
    actor: &ActorId,
) -> Result<StoredRegistration> {
    let next = StoredRegistration {
        registration: order::mirrored(&current.registration, &current.id, order),
        sys: current.sys.changed(actor),
        ..current.clone()
    };
    registration::update_row(conn, network, current, &next)?;
    Ok(next)
}

/// The registrations `of` names that have no order (or `MadeOrder` when the one registration has one already).
fn to_order(
    conn: &Connection,
    network: &NetworkId,
    of: &OrderFor,
) -> Result<std::result::Result<Vec<StoredRegistration>, MadeOrder>> {
    let chosen = match of {
        OrderFor::Registration(id) => {
            let found = registration::get(conn, network, id.as_str())?;
            match current(conn, network, id.as_str())? {
                Some(order) if !order::needs_order(Some(&order)) => {
                    return Ok(Err(MadeOrder { order, registrations: vec![found] }));
                }
                _ => vec![found],
            }
        }
        OrderFor::Group(group) => {
            let sql = format!(
                "{} WHERE network_id = ?1 AND group_id = ?2 AND status = 'active' ORDER BY seq",
                registration::SELECT
            );
            let members = conn
                .prepare_cached(&sql)?
                .query_map(params![network.as_str(), group], registration::from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut with_orders = Vec::with_capacity(members.len());
            for (_, member) in members {
                let held = current(conn, network, member.id.as_str())?;
                with_orders.push((member, held));
            }
            order::group_members_to_order(group, with_orders)?
        }
    };
    Ok(Ok(chosen))
}

/// Makes the order of the registrations `of` names that have none, as [`Orders::make_order`] says.
fn make(conn: &Connection, network: &NetworkId, of: &OrderFor, actor: &ActorId) -> Result<MadeOrder> {
    let chosen = match to_order(conn, network, of)? {
        Ok(chosen) => chosen,
        Err(existing) => return Ok(existing),
    };
    for r in &chosen {
        order::check_orderable(r)?;
    }
    let tickets = tickets_for(conn, network, &chosen)?;
    let number = take_number(conn, network)?;
    let members: Vec<_> = chosen.iter().map(|r| (&r.id, &r.registration)).collect();
    let stored = StoredOrder { order: order::make(number, &members, &tickets)?, sys: Sys::new(actor) };
    super::insert(conn, "orders", &order_row(network, &stored)?)?;
    let mut held = conn.prepare_cached(
        "INSERT INTO order_registrations (network_id, registration_id, order_number) VALUES (?1, ?2, ?3)",
    )?;
    let mut registrations = Vec::with_capacity(chosen.len());
    for r in &chosen {
        held.execute(params![network.as_str(), r.id.as_str(), number])?;
        registrations.push(mirror(conn, network, r, &stored.order, actor)?);
    }
    Ok(MadeOrder { order: stored, registrations })
}

/// Applies a payment or a cancellation, and writes the registrations' order fields with it.
fn change(
    conn: &Connection,
    network: &NetworkId,
    id: &str,
    expected: Option<i64>,
    action: OrderAction,
    actor: &ActorId,
) -> Result<StoredOrder> {
    let current = get(conn, network, id)?;
    check_version(expected, current.sys.version)?;
    let Some(next) = current.order.apply(action)? else { return Ok(current) };
    let stored = StoredOrder { order: next, sys: current.sys.changed(actor) };
    super::update(conn, "orders", KEY, &order_row(network, &current)?, &order_row(network, &stored)?)?;
    // Only an order awaiting payment changes, and it is the latest order of each registration it holds (a
    // registration is ordered again only once its order is cancelled); a deleted registration is left out.
    for held in &stored.order.registration_ids {
        match registration::get(conn, network, held.as_str()) {
            Ok(r) => {
                r.check_unlocked(None)?;
                mirror(conn, network, &r, &stored.order, actor)?;
            }
            Err(Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(stored)
}

const KEY: &[&str] = &["network_id", "id"];

/// What the list reads of an order.
const LISTED: Listed<StoredOrder> =
    Listed { select: SELECT, count: "SELECT count(*) FROM orders", total: None, from_row };

/// The orders matching `query`, one page at a time, in creation order.
fn search(conn: &Connection, network: &NetworkId, query: &OrderQuery, window: Window) -> Result<Found<StoredOrder>> {
    let mut clauses = vec!["network_id = ?".to_owned()];
    let mut args: Vec<Sql> = vec![network.as_str().to_owned().into()];
    if let Some(statuses) = &query.statuses {
        clauses.push(format!("status IN ({})", vec!["?"; statuses.len()].join(", ")));
        args.extend(statuses.iter().map(|s| Sql::from(s.as_str().to_owned())));
    }
    if let Some(ids) = &query.registration_ids {
        clauses.push(format!(
            "number IN (SELECT order_number FROM order_registrations WHERE network_id = ? AND registration_id IN ({}))",
            vec!["?"; ids.len()].join(", ")
        ));
        args.push(network.as_str().to_owned().into());
        args.extend(ids.iter().map(|i| Sql::from(i.clone())));
    }
    list::page_counted(conn, &LISTED, &clauses, args, window, None)
}

#[async_trait]
impl Orders for SqliteStore {
    async fn make_order(&self, scope: &NetworkScope, of: OrderFor) -> Result<MadeOrder> {
        let (network, actor) = (scope.network().clone(), scope.actor().clone());
        self.write(move |c| make(c, &network, &of, &actor)).await
    }

    async fn order(&self, scope: &NetworkScope, id: &OrderId) -> Result<StoredOrder> {
        let (network, id) = (scope.network().clone(), id.clone());
        self.read(move |c| get(c, &network, id.as_str())).await
    }

    async fn list_orders(&self, scope: &NetworkScope, query: OrderQuery, window: Window) -> Result<Found<StoredOrder>> {
        let network = scope.network().clone();
        self.read(move |c| search(c, &network, &query, window)).await
    }

    async fn change_order(
        &self,
        scope: &NetworkScope,
        id: &OrderId,
        expected: Option<i64>,
        action: OrderAction,
    ) -> Result<StoredOrder> {
        let (network, actor, id) = (scope.network().clone(), scope.actor().clone(), id.clone());
        self.write(move |c| change(c, &network, id.as_str(), expected, action, &actor)).await
    }

    async fn registration_order(
        &self,
        scope: &NetworkScope,
        id: &RegistrationId,
    ) -> Result<(StoredRegistration, Option<StoredOrder>)> {
        let (network, id) = (scope.network().clone(), id.clone());
        self.read(move |c| Ok((registration::get(c, &network, id.as_str())?, current(c, &network, id.as_str())?))).await
    }
}
