//! Registrations on PostgreSQL, always within one network, and the capacity of the tickets they hold.
//!
//! **Capacity across servers.** A change of what a registration holds locks the ticket's row (`FOR UPDATE`) before
//! it reads `sold` and the contact's holdings and asks the domain's rule ([`StoredTicket::check_room_for`]): every
//! server's takers of one ticket come one after the other, so the last seat goes once. **Numbers** come from the
//! event's counter row, locked by the upsert that reads it, so no two registrations of an event get one number.
//! **Changes** lock the registration's row, so a version is checked and raised by one writer at a time.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use tokio_postgres::Row as PgRow;

use super::list::{self, Arg, Filter, Listed, Plan};
use super::writer::write;
use super::{Failure, Lock, Named, PostgresStore, Tx, function_ticket, insert, record_changes, snapshot, update};
use crate::auth::NetworkScope;
use crate::domain::fold::fold;
use crate::domain::ids::{ActorId, ContactId, NetworkId, ProductId};
use crate::domain::limits::Held;
use crate::domain::order;
use crate::domain::registration::{
    self, Holding, Registration, RegistrationId, RegistrationKey, RegistrationQuery, StoredRegistration,
};
use crate::domain::sys::{Sys, check_version};
use crate::domain::ticket::StoredTicket;
use crate::domain::time;
use crate::error::{Conflict, Error, Result};
use crate::store::rows::{
    Cell, Row, registration_column as column, registration_columns, registration_from, registration_row,
};
use crate::store::{Found, Position, RegistrationKind, RegistrationsExtra, Window};

pub(super) const SELECT: &str = concat!("SELECT ", registration_columns!(), " FROM registrations");

pub(super) fn from_row(row: &PgRow) -> Result<(Position, StoredRegistration)> {
    registration_from(&Named(row))
}

fn not_found(id: &str) -> Error {
    Error::NotFound { resource: "registration", id: id.to_owned() }
}

/// The searched text columns and their folded copies.
const FOLDED: &[(&str, &str)] = &[
    ("first_name", "first_name_folded"),
    ("last_name", "last_name_folded"),
    ("name", "name_folded"),
    ("email_address", "email_address_folded"),
    ("city", "city_folded"),
    ("state", "state_folded"),
    ("country", "country_folded"),
    ("job_title", "job_title_folded"),
];

/// A registration's row: the shared codec's columns, and the folded copies of the searched ones.
pub(super) fn row(network: &NetworkId, stored: &StoredRegistration) -> Result<Row> {
    let mut row = registration_row(network, stored)?;
    for (source, folded) in FOLDED {
        let value = match row.iter().find(|(name, _)| name == source) {
            Some((_, Cell::Text(text))) => Cell::Text(fold(text)),
            _ => Cell::Null,
        };
        row.push((folded, value));
    }
    Ok(row)
}

/// One registration of a network, or `-32004`, its row locked as `lock` says.
pub(super) async fn get(
    db: &impl GenericClient,
    network: &NetworkId,
    id: &str,
    lock: Lock,
) -> std::result::Result<StoredRegistration, Failure> {
    let sql = format!("{SELECT} WHERE network_id = $1 AND id = $2{}", lock.clause());
    let statement = db.prepare_cached(&sql).await?;
    match db.query_opt(&statement, &[&network.as_str(), &id]).await? {
        Some(row) => Ok(from_row(&row)?.1),
        None => Err(not_found(id).into()),
    }
}

/// Releases what a registration held and takes what it will hold, by the ticket's capacity rules, under the lock
/// of the ticket taken. The tickets whose `sold` moved.
async fn change_holding(
    tx: &Tx<'_>,
    network: &NetworkId,
    registration_id: &str,
    before: Option<&Holding>,
    after: Option<&Holding>,
) -> std::result::Result<Vec<String>, Failure> {
    let mut moved = Vec::new();
    if before == after {
        return Ok(moved);
    }
    let adjust =
        tx.prepare_cached("UPDATE tickets SET sold = sold + $3 WHERE network_id = $1 AND product_id = $2").await?;
    if let Some(before) = before {
        tx.execute(&adjust, &[&network.as_str(), &before.product_id.as_str(), &-1i64]).await?;
        moved.push(before.product_id.to_string());
    }
    let Some(after) = after else { return Ok(moved) };
    let held = held_ticket(tx, network, &after.product_id, Lock::Update).await?;
    let holding: i64 = match held.ticket.max_per_attendee {
        None => 0,
        Some(_) => {
            let count = tx
                .prepare_cached(
                    "SELECT count(*) FROM registrations WHERE network_id = $1 AND product_id = $2 \
                     AND contact_id = $3 AND status = 'active' AND id != $4",
                )
                .await?;
            let args: [&(dyn tokio_postgres::types::ToSql + Sync); 4] =
                [&network.as_str(), &after.product_id.as_str(), &after.contact_id.as_str(), &registration_id];
            tx.query_one(&count, &args).await?.get(0)
        }
    };
    held.check_room_for(after.contact_id.as_str(), holding)?;
    tx.execute(&adjust, &[&network.as_str(), &after.product_id.as_str(), &1i64]).await?;
    moved.push(after.product_id.to_string());
    Ok(moved)
}

/// The ticket a `productId` names, which must exist in the network (whatever its status), locked as `lock` says.
async fn held_ticket(
    tx: &Tx<'_>,
    network: &NetworkId,
    product_id: &ProductId,
    lock: Lock,
) -> std::result::Result<StoredTicket, Failure> {
    super::ticket::find(tx, network, product_id.as_str(), lock).await?.ok_or_else(|| {
        Conflict::MissingReference { resource: "ticket", id: product_id.to_string(), field: "productId" }.into()
    })
}

/// `productId`, when set, must name a ticket of the network.
async fn check_product(
    tx: &Tx<'_>,
    network: &NetworkId,
    registration: &Registration,
) -> std::result::Result<(), Failure> {
    match &registration.product_id {
        Some(product) => held_ticket(tx, network, product, Lock::None).await.map(|_| ()),
        None => Ok(()),
    }
}

/// The number for a registration in an event: the client's (free, raising the counter) or the next one, under the
/// lock of the event's counter row (taken by the upsert that reads it), by the domain's numbering rules.
async fn take_number(
    tx: &Tx<'_>,
    network: &NetworkId,
    event_id: &str,
    wanted: Option<i64>,
) -> std::result::Result<i64, Failure> {
    let counter = tx
        .prepare_cached(
            "INSERT INTO event_numbers (network_id, event_id, last_number) VALUES ($1, $2, 0) \
             ON CONFLICT (network_id, event_id) DO UPDATE SET last_number = event_numbers.last_number \
             RETURNING last_number",
        )
        .await?;
    let last: i64 = tx.query_one(&counter, &[&network.as_str(), &event_id]).await?.get(0);
    let number = match wanted {
        Some(n) => {
            let exists = tx
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM registrations WHERE network_id = $1 AND event_id = $2 AND number = $3)",
                )
                .await?;
            let taken: bool = tx.query_one(&exists, &[&network.as_str(), &event_id, &n]).await?.get(0);
            registration::check_number_free(event_id, n, taken)?;
            n
        }
        None => registration::next_number(event_id, last).map_err(|e| Error::InvalidParams(vec![e]))?,
    };
    if number > last {
        let raise = tx
            .prepare_cached("UPDATE event_numbers SET last_number = $3 WHERE network_id = $1 AND event_id = $2")
            .await?;
        tx.execute(&raise, &[&network.as_str(), &event_id, &number]).await?;
    }
    Ok(number)
}

const KEY: &[&str] = &["network_id", "id"];

pub(super) async fn update_row(
    tx: &Tx<'_>,
    network: &NetworkId,
    before: &StoredRegistration,
    after: &StoredRegistration,
) -> std::result::Result<(), Failure> {
    update(tx, "registrations", KEY, &row(network, before)?, &row(network, after)?).await
}

/// Creates a registration: the server makes its id, its number (when absent) and its date (when absent).
async fn create(
    tx: &Tx<'_>,
    network: &NetworkId,
    mut registration: Registration,
    actor: &ActorId,
) -> std::result::Result<StoredRegistration, Failure> {
    let limits = super::limits::lock(tx, network).await?;
    check_product(tx, network, &registration).await?;
    super::limits::check_room(tx, network, &limits, Held::Registrations).await?;
    if registration.date.is_none() {
        registration.date = Some(time::now());
    }
    let id = RegistrationId::new();
    let moved = change_holding(tx, network, id.as_str(), None, registration.holding().as_ref()).await?;
    let number = take_number(tx, network, registration.event_id.as_str(), registration.number).await?;
    let stored = StoredRegistration { id, number, registration, sys: Sys::new(actor) };
    if !insert(tx, "registrations", &row(network, &stored)?).await? {
        // The event's counter is locked, so only a number taken outside it (never, by this server) lands here.
        registration::check_number_free(stored.registration.event_id.as_str(), number, true)?;
    }
    record_changes(network, &moved)?;
    Ok(stored)
}

/// Replaces a registration's fields as a whole, keeping its id and (in the same event) its number, and its order
/// fields once the server has made its order (they are the order's). A replacement equal to the stored fields
/// changes nothing, not even `sysVersion`.
async fn replace(
    tx: &Tx<'_>,
    network: &NetworkId,
    current: StoredRegistration,
    next: Registration,
    expected_version: Option<i64>,
    actor: &ActorId,
) -> std::result::Result<StoredRegistration, Failure> {
    check_version(expected_version, current.sys.version)?;
    let next = match super::order::ordered(tx, network, current.id.as_str()).await? {
        true => order::keep_order_fields(next, &current.registration),
        false => next,
    };
    let Some(next) = current.replacement(next)? else { return Ok(current) };
    check_product(tx, network, &next).await?;
    let id = current.id.as_str();
    let moved =
        change_holding(tx, network, id, current.registration.holding().as_ref(), next.holding().as_ref()).await?;
    let number = if next.event_id == current.registration.event_id {
        current.number
    } else {
        let tied = function_ticket::count_for_registration(tx, network, id).await?;
        registration::check_unreferenced(id, 0, tied, "moved to another event")?;
        take_number(tx, network, next.event_id.as_str(), None).await?
    };
    let stored =
        StoredRegistration { id: current.id.clone(), number, registration: next, sys: current.sys.changed(actor) };
    update_row(tx, network, &current, &stored).await?;
    record_changes(network, &moved)?;
    Ok(stored)
}

/// Deletes a registration: refused while guests or function tickets refer to it.
async fn delete(tx: &Tx<'_>, network: &NetworkId, id: &str) -> std::result::Result<(), Failure> {
    let current = get(tx, network, id, Lock::Update).await?;
    current.check_unlocked(None)?;
    let guests = tx
        .prepare_cached("SELECT count(*) FROM registrations WHERE network_id = $1 AND parent_registration_id = $2")
        .await?;
    let guests: i64 = tx.query_one(&guests, &[&network.as_str(), &id]).await?.get(0);
    let tied = function_ticket::count_for_registration(tx, network, id).await?;
    registration::check_unreferenced(id, guests, tied, "deleted")?;
    let moved = change_holding(tx, network, id, current.registration.holding().as_ref(), None).await?;
    tx.execute("DELETE FROM registrations WHERE network_id = $1 AND id = $2", &[&network.as_str(), &id]).await?;
    record_changes(network, &moved)
}

/// Moves a registration to another contact, re-checking the new contact's `maxPerAttendee`; a transfer to the
/// contact that holds it changes nothing.
async fn transfer(
    tx: &Tx<'_>,
    network: &NetworkId,
    id: &str,
    contact_id: &ContactId,
    actor: &ActorId,
) -> std::result::Result<StoredRegistration, Failure> {
    let current = get(tx, network, id, Lock::Update).await?;
    if current.registration.contact_id == *contact_id {
        return Ok(current);
    }
    current.check_unlocked(None)?;
    let next = Registration { contact_id: contact_id.clone(), ..current.registration.clone() };
    let moved =
        change_holding(tx, network, id, current.registration.holding().as_ref(), next.holding().as_ref()).await?;
    let stored = StoredRegistration {
        id: current.id.clone(),
        number: current.number,
        registration: next,
        sys: current.sys.changed(actor),
    };
    update_row(tx, network, &current, &stored).await?;
    function_ticket::follow_transfer(tx, network, id, contact_id, actor).await?;
    record_changes(network, &moved)?;
    Ok(stored)
}

pub(super) const LISTED: Listed<StoredRegistration> = Listed {
    select: SELECT,
    table: "registrations",
    total: Some("SELECT total FROM registration_totals WHERE network_id = $1"),
    from_row,
};

/// The count of a search by event, and by status within it, from the kept counts; `None` for any other search.
async fn event_count(
    db: &impl GenericClient,
    network: &NetworkId,
    query: &RegistrationQuery,
) -> std::result::Result<Option<i64>, Failure> {
    let Some(event) = &query.event_id else { return Ok(None) };
    if query.ids.is_some() || !query.contains.is_empty() || !query.ranges.is_empty() {
        return Ok(None);
    }
    let (sql, statuses) = match query.any_of.as_slice() {
        [] => (
            "SELECT coalesce(sum(n), 0)::bigint FROM registration_event_counts WHERE network_id = $1 AND event_id = $2",
            None,
        ),
        [(RegistrationKey::Status, values)] => (
            "SELECT coalesce(sum(n), 0)::bigint FROM registration_event_counts \
             WHERE network_id = $1 AND event_id = $2 AND status = ANY($3)",
            Some(texts(values)),
        ),
        _ => return Ok(None),
    };
    let statement = db.prepare_cached(sql).await?;
    let row = match &statuses {
        Some(statuses) => db.query_one(&statement, &[&network.as_str(), event, statuses]).await?,
        None => db.query_one(&statement, &[&network.as_str(), event]).await?,
    };
    Ok(Some(row.get(0)))
}

fn texts(values: &[serde_json::Value]) -> Vec<String> {
    values.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()
}

/// A LIKE pattern matching any text that contains `text` (its `%`, `_` and `\` taken literally).
fn containing(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The filter of a query.
fn filter(network: &NetworkId, query: &RegistrationQuery) -> Filter {
    let mut filter = Filter::new(network);
    if let Some(ids) = &query.ids {
        let hole = filter.arg(Arg::Texts(ids.clone()));
        filter.clauses.push(format!("id = ANY({hole})"));
    }
    if let Some(event) = &query.event_id {
        filter.equal("event_id", event.clone().into());
    }
    // The texts come folded as the folded columns are.
    for (key, text) in &query.contains {
        // Three characters or more make a trigram the index can look up.
        filter.selective |= text.chars().count() >= 3;
        let hole = filter.arg(Arg::One(containing(text).into()));
        filter.clauses.push(format!("{}_folded LIKE {hole}", column(*key)));
    }
    for (key, values) in &query.any_of {
        let arg = match key {
            RegistrationKey::IsGuestRegistration => {
                Arg::Ints(values.iter().filter_map(|v| v.as_bool()).map(i64::from).collect())
            }
            RegistrationKey::OrderNumber => {
                Arg::Ints(values.iter().filter_map(|v| v.as_f64()).map(|f| f as i64).collect())
            }
            _ => Arg::Texts(texts(values)),
        };
        let hole = filter.arg(arg);
        filter.clauses.push(format!("{} = ANY({hole})", column(*key)));
    }
    for (key, from, to) in &query.ranges {
        let column = column(*key);
        // Times are whole milliseconds in a bigint column; amounts are doubles.
        let bound = |v: f64, up: bool| -> Cell {
            if *key == RegistrationKey::Date {
                Cell::Int(if up { v.floor() } else { v.ceil() } as i64)
            } else {
                Cell::Real(v)
            }
        };
        if let Some(from) = from {
            let hole = filter.arg(Arg::One(bound(*from, false)));
            filter.clauses.push(format!("{column} >= {hole}"));
        }
        if let Some(to) = to {
            let hole = filter.arg(Arg::One(bound(*to, true)));
            filter.clauses.push(format!("{column} <= {hole}"));
        }
    }
    filter
}

/// Finds the registrations matching `query`, one page at a time, in creation order.
async fn search(
    db: &impl GenericClient,
    network: &NetworkId,
    query: &RegistrationQuery,
    window: Window,
) -> std::result::Result<Found<StoredRegistration>, Failure> {
    let counted = event_count(db, network, query).await?;
    list::page(db, &LISTED, filter(network, query), window, counted, Plan::EachCall).await
}

records!(RegistrationKind);

#[async_trait]
impl RegistrationsExtra for PostgresStore {
    async fn search_registrations(
        &self,
        scope: &NetworkScope,
        query: RegistrationQuery,
        window: Window,
    ) -> Result<Found<StoredRegistration>> {
        snapshot!(self, |tx| search(&tx, scope.network(), &query, window).await)
    }

    async fn transfer_registration(
        &self,
        scope: &NetworkScope,
        id: &RegistrationId,
        contact_id: ContactId,
        confirmation: Option<crate::store::Confirmation>,
    ) -> Result<StoredRegistration> {
        let (scope, id) = (scope.clone(), id.clone());
        write!(self, (scope, id, contact_id, confirmation), |tx| {
            let moved = transfer(tx, scope.network(), id.as_str(), &contact_id, scope.actor()).await?;
            if let Some(confirmation) = confirmation {
                let message = (confirmation.compose)(&moved)?;
                super::mail::queue(tx, scope.network(), message, confirmation.held, scope.actor()).await?;
            }
            Ok(moved)
        })
    }
}
