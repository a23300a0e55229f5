//! Registrations in SQLite, always within one network; the capacity rules of the tickets they hold.
//!
//! **Capacity.** Every change that may alter what a registration holds (create, update, patch, transfer, delete)
//! goes through [`change_holding`] inside the writer's transaction: it releases what the registration held before,
//! then checks the ticket's `allocation` against `sold` and the contact's active holdings against
//! `maxPerAttendee`, and takes the new holding. The writer runs one call at a time, so two calls can never both
//! see the last seat free: overselling is impossible without any lock in the handlers.

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use serde_json::{Map, Value};

use crate::domain::Page;
use crate::domain::ids::{NetworkId, ProductId, new_id};
use crate::domain::record;
use crate::domain::registration::{self, Holding, Registration, RegistrationQuery};
use crate::domain::sys::Sys;
use crate::domain::time;
use crate::error::{Conflict, Error, Result};
use crate::store::function_ticket;
use crate::store::list::{self, Found, Listed};
use crate::store::ticket;

/// A registration as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRegistration {
    pub id: String,
    pub number: i64,
    pub registration: Registration,
    pub sys: Sys,
    /// Creation order within the database; the paging key.
    pub seq: i64,
}

impl StoredRegistration {
    /// The registration as the API shows it.
    pub fn to_json(&self) -> Map<String, Value> {
        self.sys
            .record_json(&[("id", self.id.clone().into()), ("number", self.number.into())], self.registration.fields())
    }

    /// [`StoredRegistration::to_json`] as text, only the members `keep` allows.
    pub fn write_json(&self, out: &mut Vec<u8>, keep: &dyn Fn(&str) -> bool) {
        let made = [("id", self.id.clone().into()), ("number", self.number.into())];
        let fields = self.registration.fields().iter().map(|(k, v)| (k.as_str(), v));
        self.sys.write_record_json(out, &made, fields, keep);
    }
}

/// A registration as lists read it: its stored fields as they are, defaulted only while its JSON is written.
pub struct ListedRegistration {
    pub id: String,
    pub number: i64,
    /// The non-default fields, as stored.
    pub stored: Map<String, Value>,
    pub sys: Sys,
    pub seq: i64,
}

impl ListedRegistration {
    /// What [`StoredRegistration::write_json`] writes for the same registration.
    pub fn write_json(&self, out: &mut Vec<u8>, keep: &dyn Fn(&str) -> bool) {
        let made = [("id", self.id.clone().into()), ("number", self.number.into())];
        let fields = record::with_defaults(&self.stored, registration::FIELDS);
        self.sys.write_record_json(out, &made, fields.iter().map(|(k, v)| (*k, v.as_ref())), keep);
    }
}

fn listed_from_row(row: &Row<'_>) -> rusqlite::Result<ListedRegistration> {
    Ok(ListedRegistration {
        seq: row.get(0)?,
        id: row.get(1)?,
        number: row.get(2)?,
        stored: super::fields_from_row(row, 3)?,
        sys: super::sys_from_row(row, 4)?,
    })
}

/// The columns `from_row` reads, from the registrations table.
macro_rules! select {
    () => {
        "SELECT seq, id, number, fields, sys_version, sys_created_at, sys_last_modified_at, sys_created_by, \
         sys_last_modified_by FROM registrations"
    };
}
const SELECT: &str = select!();

fn from_row(row: &Row<'_>) -> rusqlite::Result<StoredRegistration> {
    listed_from_row(row).map(|listed| StoredRegistration {
        registration: Registration::from_stored(listed.stored, Some(listed.number)),
        id: listed.id,
        number: listed.number,
        sys: listed.sys,
        seq: listed.seq,
    })
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
        .ok_or_else(|| not_found(id))
}

/// `-32023` unless the change is allowed on this record: any change when unlocked; when locked, only the one that
/// sets `sysLocked` back to false and changes nothing else.
pub fn check_unlocked(current: &StoredRegistration, next: Option<&Registration>) -> Result<()> {
    if !current.registration.locked() {
        return Ok(());
    }
    if let Some(next) = next {
        let mut unlocked = current.registration.clone();
        unlocked.set("sysLocked", Value::Bool(false));
        if *next == unlocked {
            return Ok(());
        }
    }
    Err(Error::Locked { resource: "registration", id: current.id.clone() })
}

/// Releases what a registration held and takes what it will hold, checking the ticket's capacity rules.
pub fn change_holding(
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
        adjust.execute(params![network.as_str(), before.product_id, -1])?;
    }
    let Some(after) = after else { return Ok(()) };
    let product = ProductId::parse(&after.product_id).map_err(|m| Error::invalid("productId", m))?;
    let held = ticket::find(conn, network, &product)?.ok_or_else(|| missing_ticket(&after.product_id))?;
    if let Some(allocation) = held.ticket.allocation
        && held.sold >= allocation
    {
        return Err(Conflict::SoldOut { product_id: after.product_id.clone(), allocation, sold: held.sold }.into());
    }
    if let Some(max) = held.ticket.max_per_attendee {
        let holding: i64 = conn
            .prepare_cached(
                "SELECT count(*) FROM registrations WHERE network_id = ?1 AND product_id = ?2 AND contact_id = ?3 \
                 AND status = 'active' AND id != ?4",
            )?
            .query_row(params![network.as_str(), after.product_id, after.contact_id, registration_id], |r| r.get(0))?;
        if holding >= max {
            return Err(Conflict::MaxPerAttendee {
                product_id: after.product_id.clone(),
                contact_id: after.contact_id.clone(),
                holding,
                max,
            }
            .into());
        }
    }
    adjust.execute(params![network.as_str(), after.product_id, 1])?;
    Ok(())
}

fn missing_ticket(product_id: &str) -> Error {
    Conflict::MissingReference { resource: "ticket", id: product_id.to_owned(), field: "productId" }.into()
}

/// `productId`, when set, must name a ticket of the network (whatever the status).
fn check_product(conn: &Connection, network: &NetworkId, registration: &Registration) -> Result<()> {
    let Some(product) = registration.product_id() else { return Ok(()) };
    let id = ProductId::parse(product).map_err(|m| Error::invalid("registration.productId", m))?;
    match ticket::find(conn, network, &id)? {
        Some(_) => Ok(()),
        None => Err(missing_ticket(product)),
    }
}

/// The number for a registration in an event: the client's (unique, raising the counter) or the next one, which
/// the domain refuses to make past the largest number (`-32602` on `registration.number`).
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
            if taken {
                return Err(Conflict::NumberTaken { event_id: event_id.to_owned(), number: n }.into());
            }
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

/// The registrations table's columns, in the order of [`row_values`].
const COLUMNS: &[&str] = &[
    "network_id",
    "id",
    "event_id",
    "number",
    "contact_id",
    "type_id",
    "package_id",
    "product_id",
    "status",
    "name",
    "first_name",
    "last_name",
    "email_address",
    "city",
    "state",
    "country",
    "job_title",
    "organization_id",
    "order_id",
    "order_number",
    "order_status",
    "is_guest_registration",
    "group_id",
    "deadline_id",
    "parent_registration_id",
    "date",
    "order_balance_due",
    "order_amount_paid",
    "order_total",
    "sys_locked",
    "fields",
    "sys_version",
    "sys_created_at",
    "sys_last_modified_at",
    "sys_created_by",
    "sys_last_modified_by",
];

/// A registration's row: one value per column of [`COLUMNS`].
fn row_values(network: &NetworkId, r: &StoredRegistration) -> Result<Vec<Sql>> {
    let reg = &r.registration;
    let text = |name: &str| reg.get_str(name).map(str::to_owned);
    let fields = serde_json::to_string(&reg.stored_fields()).map_err(|e| Error::Internal(e.to_string()))?;
    let own: [Sql; 31] = [
        network.as_str().to_owned().into(),
        r.id.clone().into(),
        reg.event_id().to_owned().into(),
        r.number.into(),
        reg.contact_id().to_owned().into(),
        text("typeId").into(),
        text("packageId").into(),
        text("productId").into(),
        reg.status().to_owned().into(),
        text("name").into(),
        text("firstName").into(),
        text("lastName").into(),
        text("emailAddress").into(),
        text("city").into(),
        text("state").into(),
        text("country").into(),
        text("jobTitle").into(),
        text("organizationId").into(),
        text("orderId").into(),
        reg.get_f64("orderNumber").into(),
        text("orderStatus").into(),
        reg.get_bool("isGuestRegistration").into(),
        text("groupId").into(),
        text("deadlineId").into(),
        text("parentRegistrationId").into(),
        reg.get_time("date").map(|t| t.timestamp_millis()).into(),
        reg.get_f64("orderBalanceDue").into(),
        reg.get_f64("orderAmountPaid").into(),
        reg.get_f64("orderTotal").into(),
        reg.locked().into(),
        fields.into(),
    ];
    Ok(own.into_iter().chain(super::sys_values(&r.sys)).collect())
}

/// Inserts a new registration's row; its `seq`.
fn insert_row(conn: &Connection, network: &NetworkId, r: &StoredRegistration) -> Result<i64> {
    let holes = (1..=COLUMNS.len()).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
    let sql = format!("INSERT INTO registrations ({}) VALUES ({holes})", COLUMNS.join(", "));
    conn.prepare_cached(&sql)?.execute(params_from_iter(row_values(network, r)?))?;
    Ok(conn.last_insert_rowid())
}

/// Writes the columns that differ between `before` and `after`. SQLite rewrites the entries of only those indexes
/// (and runs only those triggers) that involve a column the UPDATE sets, so a change of one field touches one or
/// two of the table's indexes rather than all of them.
fn update_row(
    conn: &Connection,
    network: &NetworkId,
    before: &StoredRegistration,
    after: &StoredRegistration,
) -> Result<()> {
    let (old, new) = (row_values(network, before)?, row_values(network, after)?);
    let mut sets = Vec::new();
    let mut args: Vec<Sql> = vec![network.as_str().to_owned().into(), after.id.clone().into()];
    for ((column, old), new) in COLUMNS.iter().zip(old).zip(new).skip(2) {
        if old != new {
            args.push(new);
            sets.push(format!("{column} = ?{}", args.len()));
        }
    }
    if sets.is_empty() {
        return Ok(());
    }
    let sql = format!("UPDATE registrations SET {} WHERE network_id = ?1 AND id = ?2", sets.join(", "));
    conn.prepare_cached(&sql)?.execute(params_from_iter(args))?;
    Ok(())
}

/// Creates a registration: the server makes its id, its number (when absent) and its date (when absent).
pub fn create(
    conn: &Connection,
    network: &NetworkId,
    mut registration: Registration,
    actor: &str,
) -> Result<StoredRegistration> {
    check_product(conn, network, &registration)?;
    super::limits::check_room(conn, network, crate::domain::limits::Held::Registrations)?;
    if registration.get_str("date").is_none() {
        registration.set("date", Value::String(time::format(&time::now())));
    }
    let id = new_id();
    change_holding(conn, network, &id, None, registration.holding().as_ref())?;
    let number = take_number(conn, network, registration.event_id(), registration.number)?;
    let mut stored = StoredRegistration { id, number, registration, sys: Sys::new(actor), seq: 0 };
    stored.seq = insert_row(conn, network, &stored)?;
    count_total(conn, network, 1)?;
    Ok(stored)
}

/// Replaces a registration's fields as a whole, keeping its id and (in the same event) its number. A replacement
/// equal to the stored fields changes nothing, not even `sysVersion`.
pub fn replace(
    conn: &Connection,
    network: &NetworkId,
    id: &str,
    mut next: Registration,
    expected_version: Option<i64>,
    actor: &str,
) -> Result<StoredRegistration> {
    let current = get(conn, network, id)?;
    ticket::check_version(expected_version, current.sys.version)?;
    if next.get_str("date").is_none() {
        next.set("date", current.registration.fields().get("date").cloned().unwrap_or(Value::Null));
    }
    // A change that changes nothing (an unchanged update, a patch that only tests) is no change: the stored
    // registration is answered with its version and times as they were. The number is the server's, and stays.
    if next.fields() == current.registration.fields() {
        return Ok(current);
    }
    check_unlocked(&current, Some(&next))?;
    check_product(conn, network, &next)?;
    change_holding(conn, network, id, current.registration.holding().as_ref(), next.holding().as_ref())?;
    let number = if next.event_id() == current.registration.event_id() {
        current.number
    } else {
        function_ticket::check_unreferenced(conn, network, id, "moved to another event")?;
        take_number(conn, network, next.event_id(), None)?
    };
    let stored = StoredRegistration {
        id: current.id.clone(),
        number,
        registration: next,
        sys: current.sys.changed(actor),
        seq: current.seq,
    };
    update_row(conn, network, &current, &stored)?;
    Ok(stored)
}

/// Deletes a registration: refused while guests or function tickets refer to it.
pub fn delete(conn: &Connection, network: &NetworkId, id: &str) -> Result<()> {
    let current = get(conn, network, id)?;
    check_unlocked(&current, None)?;
    let guests: i64 = conn
        .prepare_cached("SELECT count(*) FROM registrations WHERE network_id = ?1 AND parent_registration_id = ?2")?
        .query_row(params![network.as_str(), id], |r| r.get(0))?;
    if guests > 0 {
        return Err(Conflict::GuestsHeld { registration_id: id.to_owned(), guests }.into());
    }
    function_ticket::check_unreferenced(conn, network, id, "deleted")?;
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
pub fn transfer(
    conn: &Connection,
    network: &NetworkId,
    id: &str,
    contact_id: &str,
    actor: &str,
) -> Result<StoredRegistration> {
    let current = get(conn, network, id)?;
    if current.registration.contact_id() == contact_id {
        // Already the contact's: nothing moves, and nothing changes.
        return Ok(current);
    }
    check_unlocked(&current, None)?;
    let mut next = current.registration.clone();
    next.set("contactId", Value::String(contact_id.to_owned()));
    change_holding(conn, network, id, current.registration.holding().as_ref(), next.holding().as_ref())?;
    let stored = StoredRegistration {
        id: current.id.clone(),
        number: current.number,
        registration: next,
        sys: current.sys.changed(actor),
        seq: current.seq,
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
const LISTED: Listed<ListedRegistration> = Listed {
    select: SELECT,
    count: "SELECT count(*) FROM registrations",
    total: Some("SELECT total FROM registration_totals WHERE network_id = ?1"),
    from_row: listed_from_row,
    seq: |r| r.seq,
};

/// Finds the registrations matching `query`, one page at a time, in creation order.
pub fn search(conn: &Connection, network: &NetworkId, query: &RegistrationQuery) -> Result<Found<ListedRegistration>> {
    let (clauses, args) = filter(network, query);
    let counted = event_count(conn, network, query)?;
    let listed = if by_event_status(query) { &LISTED_BY_EVENT_STATUS } else { &LISTED };
    list::page_counted(conn, listed, &clauses, args, &query.page, counted)
}

/// Whether a search is led by an event and statuses within it. Its index is named: without statistics SQLite
/// prefers the index of the status alone (few distinct values), which walks the whole network when the event holds
/// few registrations of that status.
fn by_event_status(query: &RegistrationQuery) -> bool {
    query.ids.is_none() && query.event_id.is_some() && query.any_of.iter().any(|(column, _)| *column == "status")
}

/// [`LISTED`] through the index of an event's statuses.
const LISTED_BY_EVENT_STATUS: Listed<ListedRegistration> = Listed {
    select: concat!(select!(), " INDEXED BY registrations_event_status"),
    count: "SELECT count(*) FROM registrations INDEXED BY registrations_event_status",
    ..LISTED
};

/// The count of a search by event, and by status within it, from the kept counts; `None` for any other search.
fn event_count(conn: &Connection, network: &NetworkId, query: &RegistrationQuery) -> Result<Option<i64>> {
    let Some(event) = &query.event_id else { return Ok(None) };
    let statuses = match query.any_of.as_slice() {
        [] => None,
        [("status", values)] => Some(values),
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
    Ok(Some(conn.prepare_cached(&sql)?.query_row(rusqlite::params_from_iter(args.iter()), |r| r.get(0))?))
}

/// Columns with few distinct values.
const COARSE: &[&str] = &["status", "order_status", "is_guest_registration", "type_id", "package_id"];

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
    for (column, text) in &query.contains {
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
        || query.any_of.iter().any(|(c, _)| !COARSE.contains(c));
    for (column, values) in &query.any_of {
        // ...except a status within an event, which has an index of its own (see `by_event_status`).
        let led = *column == "status" && by_event_status(query);
        let column = if sharper && !led && COARSE.contains(column) { format!("+{column}") } else { column.to_string() };
        clauses.push(format!("{column} IN ({})", vec!["?"; values.len()].join(", ")));
        args.extend(values.iter().map(json_to_sql));
    }
    for (column, from, to) in &query.ranges {
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

/// Registrations of a network whose columns equal the given values (the look-ups).
pub fn list_by(
    conn: &Connection,
    network: &NetworkId,
    equal: &[(&str, String)],
    page: &Page,
) -> Result<Found<ListedRegistration>> {
    list::page_equal(conn, &LISTED, network, equal, page)
}

/// A registration of the network whose id a reference names, for the integrity checks of other resources.
pub fn find_for_reference(
    conn: &Connection,
    network: &NetworkId,
    id: &str,
    field: &'static str,
) -> Result<StoredRegistration> {
    get(conn, network, id).map_err(|e| match e {
        Error::NotFound { .. } => {
            Conflict::MissingReference { resource: "registration", id: id.to_owned(), field }.into()
        }
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::input::Input;
    use crate::store::{Store, Synchronous};
    use serde_json::json;

    async fn plan(store: &Store, sql: String, args: Vec<Sql>) -> String {
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
        let store = Store::open(&dir.path().join("t.db"), Synchronous::Normal, 1).unwrap();
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
        store.close();
    }
}
