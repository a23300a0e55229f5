//! Registrations in SQLite, always within one network, and the capacity of the tickets they hold.
//!
//! **Capacity.** Every change that may alter what a registration holds (create, replace, change, transfer, delete)
//! goes through [`change_holding`] inside the writer's transaction: it releases what the registration held before,
//! reads the ticket and the contact's active holdings, asks the domain's rule ([`StoredTicket::check_room_for`])
//! and takes the new holding. The writer runs one call at a time, so two calls can never both see the last seat
//! free: overselling is impossible without any lock in the handlers.

use async_trait::async_trait;
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use serde_json::Value;

use super::list::{self, Listed};
use super::{SqliteStore, function_ticket, ticket};
use crate::auth::NetworkScope;
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
use crate::store::rows::{registration_column as column, registration_columns, registration_from, registration_row};
use crate::store::{Found, Position, RegistrationKind, RegistrationsExtra, Window};

/// The columns a registration is read from.
macro_rules! select {
    () => {
        concat!("SELECT ", registration_columns!(), " FROM registrations")
    };
}
pub(super) const SELECT: &str = select!();

pub(super) fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(Position, StoredRegistration)> {
    super::read(row, registration_from)
}

fn not_found(id: &str) -> Error {
    Error::NotFound { resource: "registration", id: id.to_owned() }
}

/// One registration of a network, or `-32004`.
pub fn get(conn: &Connection, network: &NetworkId, id: &str) -> Result<StoredRegistration> {
    let sql = format!("{SELECT} WHERE network_id = ?1 AND id = ?2");
    conn.prepare_cached(&sql)?
        .query_row(params![network.as_str(), id], from_row)
        .optional()?
        .map(|(_, r)| r)
        .ok_or_else(|| not_found(id))
}

/// Releases what a registration held and takes what it will hold, by the ticket's capacity rules.
fn change_holding(
    conn: &Connection,
    network: &NetworkId,
    registration_id: &str,
    before: Option<&Holding>,
    after: Option<&Holding>,
) -> Result<()> {
    if before == after {
        return Ok(());
    }
    let mut adjust =
        conn.prepare_cached("UPDATE tickets SET sold = sold + ?3 WHERE network_id = ?1 AND product_id = ?2")?;
    if let Some(before) = before {
        adjust.execute(params![network.as_str(), before.product_id.as_str(), -1])?;
        super::touch(network, before.product_id.as_str());
    }
    let Some(after) = after else { return Ok(()) };
    let held = held_ticket(conn, network, &after.product_id)?;
    let holding: i64 = match held.ticket.max_per_attendee {
        None => 0,
        Some(_) => conn
            .prepare_cached(
                "SELECT count(*) FROM registrations WHERE network_id = ?1 AND product_id = ?2 AND contact_id = ?3 \
                 AND status = 'active' AND id != ?4",
            )?
            .query_row(
                params![network.as_str(), after.product_id.as_str(), after.contact_id.as_str(), registration_id],
                |r| r.get(0),
            )?,
    };
    held.check_room_for(after.contact_id.as_str(), holding)?;
    adjust.execute(params![network.as_str(), after.product_id.as_str(), 1])?;
    super::touch(network, after.product_id.as_str());
    Ok(())
}

/// The ticket a `productId` names, which must exist in the network (whatever its status).
fn held_ticket(conn: &Connection, network: &NetworkId, product_id: &ProductId) -> Result<StoredTicket> {
    ticket::find(conn, network, product_id)?.ok_or_else(|| {
        Conflict::MissingReference { resource: "ticket", id: product_id.to_string(), field: "productId" }.into()
    })
}

/// `productId`, when set, must name a ticket of the network.
fn check_product(conn: &Connection, network: &NetworkId, registration: &Registration) -> Result<()> {
    match &registration.product_id {
        Some(product) => held_ticket(conn, network, product).map(|_| ()),
        None => Ok(()),
    }
}

/// The number for a registration in an event: the client's (free, raising the counter) or the next one, by the
/// domain's numbering rules ([`registration::next_number`], [`registration::check_number_free`]).
fn take_number(conn: &Connection, network: &NetworkId, event_id: &str, wanted: Option<i64>) -> Result<i64> {
    let last: i64 = conn
        .prepare_cached("SELECT last_number FROM event_numbers WHERE network_id = ?1 AND event_id = ?2")?
        .query_row(params![network.as_str(), event_id], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    let number = match wanted {
        Some(n) => {
            let taken: bool = conn
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM registrations WHERE network_id = ?1 AND event_id = ?2 AND number = ?3)",
                )?
                .query_row(params![network.as_str(), event_id, n], |r| r.get(0))?;
            registration::check_number_free(event_id, n, taken)?;
            n
        }
        None => registration::next_number(event_id, last).map_err(|e| Error::InvalidParams(vec![e]))?,
    };
    conn.prepare_cached(
        "INSERT INTO event_numbers (network_id, event_id, last_number) VALUES (?1, ?2, ?3) \
         ON CONFLICT (network_id, event_id) DO UPDATE SET last_number = max(last_number, excluded.last_number)",
    )?
    .execute(params![network.as_str(), event_id, number])?;
    Ok(number)
}

const KEY: &[&str] = &["network_id", "id"];

pub(super) fn update_row(
    conn: &Connection,
    network: &NetworkId,
    before: &StoredRegistration,
    after: &StoredRegistration,
) -> Result<()> {
    super::update(conn, "registrations", KEY, &registration_row(network, before)?, &registration_row(network, after)?)
}

/// Creates a registration: the server makes its id, its number (when absent) and its date (when absent).
fn create(
    conn: &Connection,
    network: &NetworkId,
    mut registration: Registration,
    actor: &ActorId,
) -> Result<StoredRegistration> {
    check_product(conn, network, &registration)?;
    super::limits::check_room(conn, network, Held::Registrations)?;
    if registration.date.is_none() {
        registration.date = Some(time::now());
    }
    let id = RegistrationId::new();
    change_holding(conn, network, id.as_str(), None, registration.holding().as_ref())?;
    let number = take_number(conn, network, registration.event_id.as_str(), registration.number)?;
    let stored = StoredRegistration { id, number, registration, sys: Sys::new(actor) };
    super::insert(conn, "registrations", &registration_row(network, &stored)?)?;
    count_total(conn, network, 1)?;
    Ok(stored)
}

/// Replaces a registration's fields as a whole, keeping its id and (in the same event) its number, and its order
/// fields once the server has made its order (they are the order's). A replacement equal to the stored fields
/// changes nothing, not even `sysVersion`.
fn replace(
    conn: &Connection,
    network: &NetworkId,
    id: &str,
    next: Registration,
    expected_version: Option<i64>,
    actor: &ActorId,
) -> Result<StoredRegistration> {
    let current = get(conn, network, id)?;
    check_version(expected_version, current.sys.version)?;
    let next = match super::order::ordered(conn, network, id)? {
        true => order::keep_order_fields(next, &current.registration),
        false => next,
    };
    let Some(next) = current.replacement(next)? else { return Ok(current) };
    check_product(conn, network, &next)?;
    change_holding(conn, network, id, current.registration.holding().as_ref(), next.holding().as_ref())?;
    let number = if next.event_id == current.registration.event_id {
        current.number
    } else {
        let tied = function_ticket::count_for_registration(conn, network, id)?;
        registration::check_unreferenced(id, 0, tied, "moved to another event")?;
        take_number(conn, network, next.event_id.as_str(), None)?
    };
    let stored =
        StoredRegistration { id: current.id.clone(), number, registration: next, sys: current.sys.changed(actor) };
    update_row(conn, network, &current, &stored)?;
    Ok(stored)
}

/// Deletes a registration: refused while guests or function tickets refer to it.
fn delete(conn: &Connection, network: &NetworkId, id: &str) -> Result<()> {
    let current = get(conn, network, id)?;
    current.check_unlocked(None)?;
    let guests: i64 = conn
        .prepare_cached("SELECT count(*) FROM registrations WHERE network_id = ?1 AND parent_registration_id = ?2")?
        .query_row(params![network.as_str(), id], |r| r.get(0))?;
    let tied = function_ticket::count_for_registration(conn, network, id)?;
    registration::check_unreferenced(id, guests, tied, "deleted")?;
    change_holding(conn, network, id, current.registration.holding().as_ref(), None)?;
    conn.prepare_cached("DELETE FROM registrations WHERE network_id = ?1 AND id = ?2")?
        .execute(params![network.as_str(), id])?;
    count_total(conn, network, -1)
}

fn count_total(conn: &Connection, network: &NetworkId, change: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO registration_totals (network_id, total) VALUES (?1, ?2) \
         ON CONFLICT (network_id) DO UPDATE SET total = total + excluded.total",
    )?
    .execute(params![network.as_str(), change])?;
    Ok(())
}

/// Moves a registration to another contact, re-checking the new contact's `maxPerAttendee`; a transfer to the
/// contact that holds it changes nothing.
fn transfer(
    conn: &Connection,
    network: &NetworkId,
    id: &str,
    contact_id: &ContactId,
    actor: &ActorId,
) -> Result<StoredRegistration> {
    let current = get(conn, network, id)?;
    if current.registration.contact_id == *contact_id {
        // Already the contact's: nothing moves, and nothing changes.
        return Ok(current);
    }
    current.check_unlocked(None)?;
    let next = Registration { contact_id: contact_id.clone(), ..current.registration.clone() };
    change_holding(conn, network, id, current.registration.holding().as_ref(), next.holding().as_ref())?;
    let stored = StoredRegistration {
        id: current.id.clone(),
        number: current.number,
        registration: next,
        sys: current.sys.changed(actor),
    };
    update_row(conn, network, &current, &stored)?;
    function_ticket::follow_transfer(conn, network, id, contact_id, actor)?;
    Ok(stored)
}

/// A phrase for the trigram index: the text in double quotes, inner quotes doubled.
fn phrase(column: &str, text: &str) -> String {
    format!("{column} : \"{}\"", text.replace('"', "\"\""))
}

/// What the list functions read of a registration.
const LISTED: Listed<StoredRegistration> = Listed {
    select: SELECT,
    count: "SELECT count(*) FROM registrations",
    total: Some("SELECT total FROM registration_totals WHERE network_id = ?1"),
    from_row,
};

/// Finds the registrations matching `query`, one page at a time, in creation order.
fn search(
    conn: &Connection,
    network: &NetworkId,
    query: &RegistrationQuery,
    window: Window,
) -> Result<Found<StoredRegistration>> {
    let (clauses, args) = filter(network, query);
    let counted = event_count(conn, network, query)?;
    let listed = if by_event_status(query) { &LISTED_BY_EVENT_STATUS } else { &LISTED };
    list::page_counted(conn, listed, &clauses, args, window, counted)
}

/// Whether a search is led by an event and statuses within it. Its index is named: without statistics SQLite
/// prefers the index of the status alone (few distinct values), which walks the whole network when the event holds
/// few registrations of that status.
fn by_event_status(query: &RegistrationQuery) -> bool {
    query.ids.is_none()
        && query.event_id.is_some()
        && query.any_of.iter().any(|(key, _)| *key == RegistrationKey::Status)
}

/// [`LISTED`] through the index of an event's statuses.
const LISTED_BY_EVENT_STATUS: Listed<StoredRegistration> = Listed {
    select: concat!(select!(), " INDEXED BY registrations_event_status"),
    count: "SELECT count(*) FROM registrations INDEXED BY registrations_event_status",
    ..LISTED
};

/// The count of a search by event, and by status within it, from the kept counts; `None` for any other search.
fn event_count(conn: &Connection, network: &NetworkId, query: &RegistrationQuery) -> Result<Option<i64>> {
    let Some(event) = &query.event_id else { return Ok(None) };
    let statuses = match query.any_of.as_slice() {
        [] => None,
        [(RegistrationKey::Status, values)] => Some(values),
        _ => return Ok(None),
    };
    if query.ids.is_some() || !query.contains.is_empty() || !query.ranges.is_empty() {
        return Ok(None);
    }
    let mut sql =
        "SELECT coalesce(sum(n), 0) FROM registration_event_counts WHERE network_id = ? AND event_id = ?".to_owned();
    let mut args: Vec<Sql> = vec![network.as_str().to_owned().into(), event.clone().into()];
    if let Some(values) = statuses {
        sql.push_str(&format!(" AND status IN ({})", vec!["?"; values.len()].join(", ")));
        args.extend(values.iter().map(json_to_sql));
    }
    Ok(Some(conn.prepare_cached(&sql)?.query_row(params_from_iter(args.iter()), |r| r.get(0))?))
}

/// The WHERE clauses and their arguments for a query.
fn filter(network: &NetworkId, query: &RegistrationQuery) -> (Vec<String>, Vec<Sql>) {
    let mut clauses = vec!["network_id = ?".to_owned()];
    let mut args: Vec<Sql> = vec![network.as_str().to_owned().into()];
    if let Some(ids) = &query.ids {
        clauses.push(format!("id IN ({})", vec!["?"; ids.len()].join(", ")));
        args.extend(ids.iter().map(|i| Sql::from(i.clone())));
    }
    if let Some(event) = &query.event_id {
        clauses.push("event_id = ?".into());
        args.push(event.clone().into());
    }
    // The texts come folded as the trigram index folds; the index folds a phrase again to the same text.
    for (key, text) in &query.contains {
        let column = column(*key);
        if text.chars().count() >= 3 {
            clauses.push("seq IN (SELECT rowid FROM registration_text WHERE registration_text MATCH ?)".into());
            args.push(phrase(column, text).into());
        } else {
            // Shorter than a trigram: the index cannot serve it; the other filters narrow the scan, and the column
            // is folded alike, so the text means what it would mean to the index.
            clauses.push(format!("instr(casefold({column}), ?) > 0"));
            args.push(text.clone().into());
        }
    }
    // A column with few distinct values (a status, a type) makes a poor index to start from when a sharper filter
    // is present; `+column` keeps SQLite from choosing its index then, and the column is checked row by row.
    let sharper = query.ids.is_some()
        || query.event_id.is_some()
        || !query.contains.is_empty()
        || !query.ranges.is_empty()
        || query.any_of.iter().any(|(key, _)| !key.coarse());
    for (key, values) in &query.any_of {
        // ...except a status within an event, which has an index of its own (see `by_event_status`).
        let led = *key == RegistrationKey::Status && by_event_status(query);
        let column =
            if sharper && !led && key.coarse() { format!("+{}", column(*key)) } else { column(*key).to_owned() };
        clauses.push(format!("{column} IN ({})", vec!["?"; values.len()].join(", ")));
        args.extend(values.iter().map(json_to_sql));
    }
    for (key, from, to) in &query.ranges {
        let column = column(*key);
        if let Some(from) = from {
            clauses.push(format!("{column} >= ?"));
            args.push((*from).into());
        }
        if let Some(to) = to {
            clauses.push(format!("{column} <= ?"));
            args.push((*to).into());
        }
    }
    (clauses, args)
}

fn json_to_sql(v: &Value) -> Sql {
    match v {
        Value::Bool(b) => Sql::Integer(i64::from(*b)),
        Value::Number(n) => n.as_f64().map(Sql::Real).unwrap_or(Sql::Null),
        Value::String(s) => Sql::Text(s.clone()),
        _ => Sql::Null,
    }
}

record_store!(RegistrationKind);

#[async_trait]
impl RegistrationsExtra for SqliteStore {
    async fn search_registrations(
        &self,
        scope: &NetworkScope,
        query: RegistrationQuery,
        window: Window,
    ) -> Result<Found<StoredRegistration>> {
        let network = scope.network().clone();
        self.read(move |c| search(c, &network, &query, window)).await
    }

    async fn transfer_registration(
        &self,
        scope: &NetworkScope,
        id: &RegistrationId,
        contact_id: ContactId,
        confirmation: Option<crate::store::Confirmation>,
    ) -> Result<StoredRegistration> {
        let (network, actor, id) = (scope.network().clone(), scope.actor().clone(), id.clone());
        self.write(move |c| {
            let moved = transfer(c, &network, id.as_str(), &contact_id, &actor)?;
            if let Some(confirmation) = confirmation {
                super::mail::queue(c, &network, (confirmation.compose)(&moved)?, confirmation.held, &actor)?;
            }
            Ok(moved)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::input::Input;
    use crate::store::Synchronous;
    use serde_json::json;

    async fn plan(store: &SqliteStore, sql: String, args: Vec<Sql>) -> String {
        store
            .read(move |c| {
                let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
                let rows = stmt.query_map(params_from_iter(args.iter()), |r| r.get::<_, String>(3))?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?.join("; "))
            })
            .await
            .unwrap()
    }

    /// Texts shorter than a trigram are folded as the trigram index folds: `fold` is FTS5's own folding, for every
    /// character of the Basic Multilingual Plane and the scripts beyond it that have case.
    #[test]
    fn short_text_filters_fold_as_the_trigram_index_does() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE VIRTUAL TABLE t USING fts5(x, tokenize = 'trigram');
             CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance');",
        )
        .unwrap();
        let chars: Vec<char> = (1..=0xFFFF)
            .chain(0x10400..0x10500)
            .chain(0x10C80..0x10D00)
            .chain(0x118A0..0x11900)
            .chain(0x1E900..0x1E960)
            .chain(0x1F600..0x1F650)
            .filter_map(char::from_u32)
            .collect();
        // Each character three times over: the trigram at position 3k is the k-th character, folded, thrice.
        let text: String = chars.iter().flat_map(|&c| [c, c, c]).collect();
        conn.execute("INSERT INTO t (x) VALUES (?1)", [&text]).unwrap();
        let mut stmt = conn.prepare("SELECT term, offset FROM v WHERE offset % 3 = 0").unwrap();
        let terms = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))).unwrap();
        let mut checked = 0;
        for term in terms {
            let (term, offset) = term.unwrap();
            let c = chars[usize::try_from(offset / 3).unwrap()];
            let folded = crate::domain::fold::fold_char(c);
            assert_eq!(term, [folded; 3].iter().collect::<String>(), "U+{:04X}", u32::from(c));
            checked += 1;
        }
        assert_eq!(checked, chars.len());
        super::super::add_functions(&conn).unwrap();
        let folded: String = conn.query_row("SELECT casefold(?1)", ["ÉLODIE\u{0}ẞ"], |r| r.get(0)).unwrap();
        assert_eq!(folded, "élodieß");
    }

    /// Every filter of `registration.search` and every look-up is answered from an index on its own column (or
    /// the trigram text index), never by a scan of the table or of a whole network.
    #[tokio::test]
    async fn every_filter_is_served_by_an_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db"), Synchronous::Normal, 1).unwrap();
        let network = NetworkId::parse("net").unwrap();
        let text = "registration_text VIRTUAL TABLE INDEX";
        let queries = [
            (json!({}), "(network_id=?)"),
            (json!({"ids": ["a", "b"]}), "id=?"),
            (json!({"eventId": "e"}), "event_id=?"),
            (json!({"firstName": "ada"}), text),
            (json!({"lastName": "love"}), text),
            (json!({"name": "ada love"}), text),
            (json!({"emailAddress": "example"}), text),
            (json!({"city": "lon"}), text),
            (json!({"state": "cal"}), text),
            (json!({"country": "fra"}), text),
            (json!({"jobTitle": "eng"}), text),
            (json!({"organizationId": ["o"]}), "organization_id=?"),
            (json!({"orderId": ["o"]}), "order_id=?"),
            (json!({"orderNumber": [12]}), "order_number=?"),
            (json!({"orderStatus": ["open"]}), "order_status=?"),
            (json!({"contactId": ["c"]}), "contact_id=?"),
            (json!({"status": ["active"]}), "status=?"),
            (json!({"isGuestRegistration": [true]}), "is_guest_registration=?"),
            (json!({"typeId": ["t"]}), "type_id=?"),
            (json!({"packageId": ["p"]}), "package_id=?"),
            (json!({"groupId": ["g"]}), "group_id=?"),
            (json!({"deadlineId": ["d"]}), "deadline_id=?"),
            (json!({"parentRegistrationId": ["p"]}), "parent_registration_id=?"),
            (json!({"date": {"from": "2026-01-01T00:00:00Z"}}), "date>?"),
            (json!({"orderBalanceDue": {"from": 1}}), "order_balance_due>?"),
            (json!({"orderAmountPaid": {"to": 1}}), "order_amount_paid<?"),
            (json!({"orderTotal": {"from": 1, "to": 5}}), "order_total>? AND order_total<?"),
            (json!({"eventId": "e", "status": ["active"], "orderStatus": ["open"]}), "event_id=?"),
        ];
        for (q, expected) in queries {
            let mut input = Input::new("", &q).unwrap();
            let query = RegistrationQuery::from_json(&mut input);
            input.finish().unwrap();
            let (clauses, args) = filter(&network, &query);
            let sql = format!("SELECT seq FROM registrations WHERE {} ORDER BY seq", clauses.join(" AND "));
            let plan = plan(&store, sql, args).await;
            assert!(!plan.contains("SCAN registrations"), "{q}: {plan}");
            assert!(plan.contains(expected), "{q}: expected {expected} in {plan}");
        }
        for (columns, expected) in [
            (vec!["contact_id"], "contact_id=?"),
            (vec!["event_id", "contact_id"], "event_id=? AND contact_id=?"),
            (vec!["parent_registration_id"], "parent_registration_id=?"),
            (vec!["order_id"], "order_id=?"),
            (vec!["group_id"], "group_id=?"),
            (vec!["event_id", "organization_id"], "event_id=? AND organization_id=?"),
        ] {
            let filter: Vec<String> = columns.iter().map(|c| format!("{c} = 'x'")).collect();
            let sql = format!(
                "SELECT seq FROM registrations WHERE network_id = 'n' AND {} ORDER BY seq",
                filter.join(" AND ")
            );
            let plan = plan(&store, sql, Vec::new()).await;
            assert!(plan.contains(expected), "{columns:?}: expected {expected} in {plan}");
        }
        crate::store::Store::close(&store);
    }
}
