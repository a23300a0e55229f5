//! Rows as every store writes and reads them: one named column list per table, written once for SQLite and
//! PostgreSQL alike, and read back by column name, never by position.
//!
//! Both schemas give each column the same kind: integers (flags as 0 and 1, times as epoch milliseconds), reals,
//! text, and the client's fields of a record as one JSON text (its non-default members).

use serde::de::DeserializeOwned;

use crate::domain::function_ticket::{FunctionTicketId, FunctionTicketKey, StoredFunctionTicket};
use crate::domain::ids::{ActorId, NetworkId, ProductId};
use crate::domain::mail::{MailStatus, Message, MessageId, StoredMessage};
use crate::domain::money::Cents;
use crate::domain::order::{Order, OrderId, OrderLine, StoredOrder};
use crate::domain::registration::{OrderStatus, Registration, RegistrationId, RegistrationKey, StoredRegistration};
use crate::domain::sys::Sys;
use crate::domain::template::{StoredTemplate, Template, TemplateKind};
use crate::domain::ticket::{StoredTicket, Ticket, TicketType};
use crate::domain::time;
use crate::error::{Error, Result};
use crate::store::Position;

/// One column's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl From<i64> for Cell {
    fn from(v: i64) -> Cell {
        Cell::Int(v)
    }
}

impl From<bool> for Cell {
    fn from(v: bool) -> Cell {
        Cell::Int(i64::from(v))
    }
}

impl From<f64> for Cell {
    fn from(v: f64) -> Cell {
        Cell::Real(v)
    }
}

impl From<String> for Cell {
    fn from(v: String) -> Cell {
        Cell::Text(v)
    }
}

impl From<&str> for Cell {
    fn from(v: &str) -> Cell {
        Cell::Text(v.to_owned())
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Cell {
        v.map_or(Cell::Null, Into::into)
    }
}

/// A row to write: each column by name with its value.
pub type Row = Vec<(&'static str, Cell)>;

/// The statement that writes the columns of `after` that differ from `before` into the row `key` names, with
/// placeholders written by `hole` (numbered from 1), and its arguments in order; `None` when nothing differs. A
/// store that rewrites only the indexes of the columns an UPDATE sets then touches one or two indexes, not all.
pub fn update_statement<'a>(
    table: &str,
    key: &[&str],
    before: &Row,
    after: &'a Row,
    hole: fn(usize) -> String,
) -> Result<Option<(String, Vec<&'a Cell>)>> {
    let mut args: Vec<&Cell> = Vec::new();
    let mut sets = Vec::new();
    for ((name, old), (_, new)) in before.iter().zip(after) {
        if old != new && !key.contains(name) {
            args.push(new);
            sets.push(format!("{name} = {}", hole(args.len())));
        }
    }
    if sets.is_empty() {
        return Ok(None);
    }
    let mut wheres = Vec::new();
    for k in key {
        let (_, value) = after.iter().find(|(name, _)| name == k).ok_or_else(|| Error::Internal(format!("no {k}")))?;
        args.push(value);
        wheres.push(format!("{k} = {}", hole(args.len())));
    }
    Ok(Some((format!("UPDATE {table} SET {} WHERE {}", sets.join(", "), wheres.join(" AND ")), args)))
}

/// A schema's numbered migrations, as (number, SQL): the sections of its text that start with `-- migration: N`.
pub fn migrations(schema: &'static str) -> Vec<(i64, &'static str)> {
    schema
        .split("-- migration: ")
        .skip(1)
        .filter_map(|section| {
            let (number, sql) = section.split_once('\n')?;
            Some((number.trim().parse().ok()?, sql))
        })
        .collect()
}

/// A row as read, by column name.
pub trait Columns {
    fn int(&self, name: &str) -> Result<Option<i64>>;
    fn text(&self, name: &str) -> Result<Option<String>>;
    /// A JSON text column, parsed (without copying the text where the store can).
    fn json<T: DeserializeOwned>(&self, name: &str) -> Result<T>;
}

fn missing(name: &str) -> Error {
    Error::Internal(format!("column {name} is NULL"))
}

fn int(row: &impl Columns, name: &str) -> Result<i64> {
    row.int(name)?.ok_or_else(|| missing(name))
}

fn text(row: &impl Columns, name: &str) -> Result<String> {
    row.text(name)?.ok_or_else(|| missing(name))
}

/// The sys columns of a row.
fn sys_columns(sys: &Sys) -> [(&'static str, Cell); 5] {
    [
        ("sys_version", sys.version.into()),
        ("sys_created_at", sys.created_at.timestamp_millis().into()),
        ("sys_last_modified_at", sys.last_modified_at.timestamp_millis().into()),
        ("sys_created_by", sys.created_by.as_str().into()),
        ("sys_last_modified_by", sys.last_modified_by.as_str().into()),
    ]
}

pub fn sys_from(row: &impl Columns) -> Result<Sys> {
    Ok(Sys {
        version: int(row, "sys_version")?,
        created_at: time::from_millis(int(row, "sys_created_at")?),
        last_modified_at: time::from_millis(int(row, "sys_last_modified_at")?),
        created_by: ActorId::new(&text(row, "sys_created_by")?),
        last_modified_by: ActorId::new(&text(row, "sys_last_modified_by")?),
    })
}

fn to_json(value: &impl serde::Serialize) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Internal(e.to_string()))
}

/// The columns a ticket is read from.
macro_rules! ticket_columns {
    () => {
        "product_id, event_name, event_start_date, event_end_date, ticket_type, \
    ticket_name, ticket_description, price_cents, thumbnail_id, discount, grants, allocation, max_per_attendee, \
    visible, display_order, sold, sys_version, sys_created_at, sys_last_modified_at, sys_created_by, \
    sys_last_modified_by"
    };
}
pub(crate) use ticket_columns;

/// A ticket's row.
pub fn ticket_row(network: &NetworkId, t: &StoredTicket) -> Result<Row> {
    let k = &t.ticket;
    let mut row: Row = vec![
        ("network_id", network.as_str().into()),
        ("product_id", k.product_id.as_str().into()),
        ("event_name", k.event_name.clone().into()),
        ("event_start_date", k.event_start_date.timestamp_millis().into()),
        ("event_end_date", k.event_end_date.timestamp_millis().into()),
        ("ticket_type", k.ticket_type.to_string().into()),
        ("ticket_name", k.ticket_name.clone().into()),
        ("ticket_description", k.ticket_description.clone().into()),
        ("price_cents", k.price.0.into()),
        ("thumbnail_id", k.thumbnail_id.clone().into()),
        ("discount", k.discount.clone().into()),
        ("grants", to_json(&k.grants)?.into()),
        ("allocation", k.allocation.into()),
        ("max_per_attendee", k.max_per_attendee.into()),
        ("visible", k.visible.into()),
        ("display_order", k.display_order.into()),
        ("sold", t.sold.into()),
    ];
    row.extend(sys_columns(&t.sys));
    Ok(row)
}

pub fn ticket_from(row: &impl Columns) -> Result<StoredTicket> {
    let stored = |e: String| Error::Internal(format!("a stored ticket: {e}"));
    Ok(StoredTicket {
        ticket: Ticket {
            product_id: ProductId::parse(&text(row, "product_id")?).map_err(stored)?,
            event_name: text(row, "event_name")?,
            event_start_date: time::from_millis(int(row, "event_start_date")?),
            event_end_date: time::from_millis(int(row, "event_end_date")?),
            ticket_type: TicketType::parse(&text(row, "ticket_type")?).map_err(stored)?,
            ticket_name: text(row, "ticket_name")?,
            ticket_description: text(row, "ticket_description")?,
            price: Cents(int(row, "price_cents")?),
            thumbnail_id: text(row, "thumbnail_id")?,
            discount: text(row, "discount")?,
            grants: row.json("grants")?,
            allocation: row.int("allocation")?,
            max_per_attendee: row.int("max_per_attendee")?,
            visible: int(row, "visible")? != 0,
            display_order: int(row, "display_order")?,
        },
        sold: int(row, "sold")?,
        sys: sys_from(row)?,
    })
}

/// The column of a registration's indexed member (the same in both schemas).
pub fn registration_column(key: RegistrationKey) -> &'static str {
    use RegistrationKey as K;
    match key {
        K::EventId => "event_id",
        K::ContactId => "contact_id",
        K::TypeId => "type_id",
        K::PackageId => "package_id",
        K::Status => "status",
        K::FirstName => "first_name",
        K::LastName => "last_name",
        K::Name => "name",
        K::EmailAddress => "email_address",
        K::City => "city",
        K::State => "state",
        K::Country => "country",
        K::JobTitle => "job_title",
        K::OrganizationId => "organization_id",
        K::OrderId => "order_id",
        K::OrderNumber => "order_number",
        K::OrderStatus => "order_status",
        K::IsGuestRegistration => "is_guest_registration",
        K::GroupId => "group_id",
        K::DeadlineId => "deadline_id",
        K::ParentRegistrationId => "parent_registration_id",
        K::Date => "date",
        K::OrderBalanceDue => "order_balance_due",
        K::OrderAmountPaid => "order_amount_paid",
        K::OrderTotal => "order_total",
    }
}

/// The columns a registration is read from.
macro_rules! registration_columns {
    () => {
        "seq, id, number, fields, sys_version, sys_created_at, sys_last_modified_at, \
    sys_created_by, sys_last_modified_by"
    };
}
pub(crate) use registration_columns;

/// A registration's row: the searched members have columns of their own beside `fields`.
pub fn registration_row(network: &NetworkId, r: &StoredRegistration) -> Result<Row> {
    let reg = &r.registration;
    let text = |value: &Option<String>| Cell::from(value.clone());
    let money = |value: Option<Cents>| Cell::from(value.map(Cents::dollars));
    let mut row: Row = vec![
        ("network_id", network.as_str().into()),
        ("id", r.id.as_str().into()),
        ("event_id", reg.event_id.as_str().into()),
        ("number", r.number.into()),
        ("contact_id", reg.contact_id.as_str().into()),
        ("type_id", reg.type_id.clone().into()),
        ("package_id", reg.package_id.clone().into()),
        ("product_id", reg.product_id.as_ref().map(|p| p.as_str().to_owned()).into()),
        ("status", reg.status.as_str().into()),
        ("name", reg.name.clone().into()),
        ("first_name", text(&reg.first_name)),
        ("last_name", text(&reg.last_name)),
        ("email_address", text(&reg.email_address)),
        ("city", text(&reg.city)),
        ("state", text(&reg.state)),
        ("country", text(&reg.country)),
        ("job_title", text(&reg.job_title)),
        ("organization_id", text(&reg.organization_id)),
        ("order_id", text(&reg.order_id)),
        ("order_number", reg.order_number.into()),
        ("order_status", reg.order_status.map(|s| s.as_str().to_owned()).into()),
        ("is_guest_registration", reg.is_guest_registration.into()),
        ("group_id", text(&reg.group_id)),
        ("deadline_id", text(&reg.deadline_id)),
        ("parent_registration_id", text(&reg.parent_registration_id)),
        ("date", reg.date.map(|t| t.timestamp_millis()).into()),
        ("order_balance_due", money(reg.order_balance_due)),
        ("order_amount_paid", money(reg.order_amount_paid)),
        ("order_total", money(reg.order_total)),
        ("sys_locked", reg.sys_locked.into()),
        ("fields", to_json(&reg.stored_fields())?.into()),
    ];
    row.extend(sys_columns(&r.sys));
    Ok(row)
}

pub fn registration_from(row: &impl Columns) -> Result<(Position, StoredRegistration)> {
    let number = int(row, "number")?;
    Ok((
        Position(int(row, "seq")?),
        StoredRegistration {
            id: RegistrationId::stored(text(row, "id")?),
            number,
            registration: Registration { number: Some(number), ..row.json("fields")? },
            sys: sys_from(row)?,
        },
    ))
}

/// The column of a function ticket's look-up member (the same in both schemas).
pub fn function_ticket_column(key: FunctionTicketKey) -> &'static str {
    match key {
        FunctionTicketKey::FunctionId => "function_id",
        FunctionTicketKey::EventId => "event_id",
        FunctionTicketKey::ContactId => "contact_id",
    }
}

/// The columns a function ticket is read from.
macro_rules! function_ticket_columns {
    () => {
        "seq, id, fields, sys_version, sys_created_at, sys_last_modified_at, sys_created_by, sys_last_modified_by"
    };
}
pub(crate) use function_ticket_columns;

/// A function ticket's row.
pub fn function_ticket_row(network: &NetworkId, t: &StoredFunctionTicket) -> Result<Row> {
    let k = &t.ticket;
    let mut row: Row = vec![
        ("network_id", network.as_str().into()),
        ("id", t.id.as_str().into()),
        ("event_id", k.event_id.as_str().into()),
        ("function_id", k.function_id.clone().into()),
        ("contact_id", k.contact_id.as_str().into()),
        ("registration_id", k.registration_id.clone().into()),
        ("status", k.status.as_str().into()),
        ("fields", to_json(&k.stored_fields())?.into()),
    ];
    row.extend(sys_columns(&t.sys));
    Ok(row)
}

pub fn function_ticket_from(row: &impl Columns) -> Result<(Position, StoredFunctionTicket)> {
    Ok((
        Position(int(row, "seq")?),
        StoredFunctionTicket {
            id: FunctionTicketId::stored(text(row, "id")?),
            ticket: row.json("fields")?,
            sys: sys_from(row)?,
        },
    ))
}

/// The columns a template is read from.
macro_rules! template_columns {
    () => {
        "kind, subject, body, sys_version, sys_created_at, sys_last_modified_at, sys_created_by, sys_last_modified_by"
    };
}
pub(crate) use template_columns;

/// A network's template's row.
pub fn template_row(network: &NetworkId, t: &StoredTemplate) -> Row {
    let mut row: Row = vec![
        ("network_id", network.as_str().into()),
        ("kind", t.template.kind.as_str().into()),
        ("subject", t.template.subject.clone().into()),
        ("body", t.template.body.clone().into()),
    ];
    row.extend(sys_columns(&t.sys));
    row
}

pub fn template_from(row: &impl Columns) -> Result<StoredTemplate> {
    let kind =
        TemplateKind::parse(&text(row, "kind")?).map_err(|e| Error::Internal(format!("a stored template: {e}")))?;
    Ok(StoredTemplate {
        template: Template { kind, subject: row.text("subject")?, body: text(row, "body")? },
        sys: sys_from(row)?,
    })
}

/// The columns an order is read from.
macro_rules! order_columns {
    () => {
        "seq, id, number, status, amount_paid_cents, lines, registration_ids, sys_version, sys_created_at, \
    sys_last_modified_at, sys_created_by, sys_last_modified_by"
    };
}
pub(crate) use order_columns;

/// An order's row (its `seq` is the store's): its lines and registrations as JSON, written once when it is made.
pub fn order_row(network: &NetworkId, stored: &StoredOrder) -> Result<Row> {
    let o = &stored.order;
    let registrations: Vec<&str> = o.registration_ids.iter().map(RegistrationId::as_str).collect();
    let mut row: Row = vec![
        ("network_id", network.as_str().into()),
        ("id", o.id.as_str().into()),
        ("number", o.number.into()),
        ("status", o.status.as_str().into()),
        ("amount_paid_cents", o.amount_paid.0.into()),
        ("lines", to_json(&o.lines)?.into()),
        ("registration_ids", to_json(&registrations)?.into()),
    ];
    row.extend(sys_columns(&stored.sys));
    Ok(row)
}

pub fn order_from(row: &impl Columns) -> Result<(Position, StoredOrder)> {
    let status: OrderStatus = serde_json::from_value(text(row, "status")?.into())
        .map_err(|e| Error::Internal(format!("a stored order status: {e}")))?;
    let registrations: Vec<String> = row.json("registration_ids")?;
    Ok((
        Position(int(row, "seq")?),
        StoredOrder {
            order: Order {
                id: OrderId::stored(text(row, "id")?),
                number: int(row, "number")?,
                status,
                lines: row.json::<Vec<OrderLine>>("lines")?,
                amount_paid: Cents(int(row, "amount_paid_cents")?),
                registration_ids: registrations.into_iter().map(RegistrationId::stored).collect(),
            },
            sys: sys_from(row)?,
        },
    ))
}

/// The columns a message of the outbox is read from (its `seq` too, its place in the network's list).
macro_rules! mail_columns {
    () => {
        "seq, id, registration_id, recipient, subject, html, text, status, attempts, last_error, sent_at, queued_at, \
         next_attempt_at, sys_version, sys_created_at, sys_last_modified_at, sys_created_by, sys_last_modified_by"
    };
}
pub(crate) use mail_columns;

/// A message's row (without `seq`, which the database makes).
pub fn mail_row(network: &NetworkId, m: &StoredMessage) -> Row {
    let mut row: Row = vec![
        ("network_id", network.as_str().into()),
        ("id", m.id.as_str().into()),
        ("registration_id", m.message.registration_id.clone().into()),
        ("recipient", m.message.to.clone().into()),
        ("subject", m.message.subject.clone().into()),
        ("html", m.message.html.clone().into()),
        ("text", m.message.text.clone().into()),
        ("status", m.status.as_str().into()),
        ("attempts", m.attempts.into()),
        ("last_error", m.last_error.clone().into()),
        ("sent_at", m.sent_at.map(|t| t.timestamp_millis()).into()),
        ("queued_at", m.queued_at.timestamp_millis().into()),
        ("next_attempt_at", m.next_attempt_at.timestamp_millis().into()),
    ];
    row.extend(sys_columns(&m.sys));
    row
}

/// A message read with [`mail_columns`], and its place in its network's list.
pub fn mail_from(row: &impl Columns) -> Result<(Position, StoredMessage)> {
    let status =
        MailStatus::parse(&text(row, "status")?).map_err(|e| Error::Internal(format!("a stored message: {e}")))?;
    Ok((
        Position(int(row, "seq")?),
        StoredMessage {
            id: MessageId::stored(text(row, "id")?),
            message: Message {
                to: text(row, "recipient")?,
                subject: text(row, "subject")?,
                html: text(row, "html")?,
                text: text(row, "text")?,
                registration_id: row.text("registration_id")?,
            },
            status,
            attempts: int(row, "attempts")?,
            last_error: row.text("last_error")?,
            sent_at: row.int("sent_at")?.map(time::from_millis),
            queued_at: time::from_millis(int(row, "queued_at")?),
            next_attempt_at: time::from_millis(int(row, "next_attempt_at")?),
            sys: sys_from(row)?,
        },
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_schemas_number_their_migrations_from_one_without_gaps() {
        for schema in [crate::store::sqlite::SCHEMA, crate::store::postgres::SCHEMA] {
            let numbers: Vec<i64> = super::migrations(schema).iter().map(|(n, _)| *n).collect();
            assert!(!numbers.is_empty());
            assert_eq!(numbers, (1..=numbers.len() as i64).collect::<Vec<_>>());
        }
    }
}
