//! Registrations: a contact's place at an event, with its order and status, as the events platform's registration
//! record defines it (camelCase), plus `productId`, the purchasable ticket it holds.
//!
//! The record has some sixty fields, most of them plain values a client keeps as it likes. They are described once,
//! in [`FIELDS`]: each field's name and kind drive validation, defaults and what is stored. Validation reads a record
//! into its canonical JSON object (every field present, in the order of [`FIELDS`], timestamps normalised) and that
//! object into [`Registration`], a struct with a member of the field's type for each field, in the same order: what
//! the server acts on is read by name checked at compile time, and answers are written from the struct.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::ids::{ContactId, EventId, ProductId, RecordId};
use super::input::{self, Input, MAX_SAFE_INTEGER};
use super::money::Cents;
use super::record::{self, RecordInput};
pub use super::record::{Kind, check, reference};
use super::sys::{Shown, Sys};
use super::time::{self, Timestamp};
use crate::error::{Conflict, Error, FieldError};

/// The statuses of a registration; only `active` ones count as sold.
pub const STATUSES: &[&str] = &["draft", "pending approval", "active", "cancelled"];

/// A registration's status, one of [`STATUSES`] (in their order); `active` when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum RegistrationStatus {
    #[serde(rename = "draft")]
    Draft,
    #[serde(rename = "pending approval")]
    PendingApproval,
    #[default]
    #[serde(rename = "active")]
    Active,
    #[serde(rename = "cancelled")]
    Cancelled,
}

impl RegistrationStatus {
    /// The status as the API writes it.
    pub fn as_str(self) -> &'static str {
        STATUSES[self as usize]
    }
}

/// The order states of the source document.
pub const ORDER_STATUSES: &[&str] = &[
    "awaiting payment",
    "awaiting shipping",
    "awaiting pickup",
    "partially shipped",
    "shipped",
    "completed",
    "cancelled",
    "disputed",
    "open",
    "returned",
    "void",
];

/// The state of a registration's order, one of [`ORDER_STATUSES`] (in their order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderStatus {
    #[serde(rename = "awaiting payment")]
    AwaitingPayment,
    #[serde(rename = "awaiting shipping")]
    AwaitingShipping,
    #[serde(rename = "awaiting pickup")]
    AwaitingPickup,
    #[serde(rename = "partially shipped")]
    PartiallyShipped,
    #[serde(rename = "shipped")]
    Shipped,
    #[serde(rename = "completed")]
    Completed,
    #[serde(rename = "cancelled")]
    Cancelled,
    #[serde(rename = "disputed")]
    Disputed,
    #[serde(rename = "open")]
    Open,
    #[serde(rename = "returned")]
    Returned,
    #[serde(rename = "void")]
    Void,
}

impl OrderStatus {
    /// The state as the API writes it.
    pub fn as_str(self) -> &'static str {
        ORDER_STATUSES[self as usize]
    }
}

/// Every field a client may set, in the order answers show them (`id`, `number` and the sys fields aside).
pub const FIELDS: &[(&str, Kind)] = &[
    ("eventId", Kind::RequiredRef),
    ("name", Kind::RequiredText),
    ("contactId", Kind::RequiredRef),
    ("typeId", Kind::RequiredRef),
    ("packageId", Kind::RequiredRef),
    ("productId", Kind::Product),
    ("firstName", Kind::Text),
    ("lastName", Kind::Text),
    ("emailAddress", Kind::Email),
    ("city", Kind::Text),
    ("state", Kind::Text),
    ("country", Kind::Text),
    ("jobTitle", Kind::Text),
    ("date", Kind::Time),
    ("eventStartDate", Kind::Time),
    ("eventEndDate", Kind::Time),
    ("couponCodeId", Kind::Ref),
    ("modifiedRegistrationId", Kind::Ref),
    ("processId", Kind::Ref),
    ("organizationId", Kind::Ref),
    ("status", Kind::Enum(STATUSES)),
    ("isGuestRegistration", Kind::Bool),
    ("isTransientGuest", Kind::Bool),
    ("webinarParticipantId", Kind::Ref),
    ("webinarJoinUrl", Kind::Text),
    ("lastModificationDate", Kind::Time),
    ("orderId", Kind::Ref),
    ("orderLineItemId", Kind::Ref),
    ("orderNumber", Kind::Integer),
    ("orderBalanceDue", Kind::Money),
    ("orderAmountPaid", Kind::Money),
    ("orderCurrencyCode", Kind::Text),
    ("orderCurrencySymbol", Kind::Text),
    ("orderStatus", Kind::Enum(ORDER_STATUSES)),
    ("orderTotal", Kind::Money),
    ("groupId", Kind::Ref),
    ("groupOrder", Kind::Integer),
    ("deadlineId", Kind::Ref),
    ("addMembershipPackage", Kind::Bool),
    ("membershipInformation", Kind::Object),
    ("badge", Kind::Object),
    ("sessions", Kind::Objects),
    ("courses", Kind::Objects),
    ("functions", Kind::Objects),
    ("addOns", Kind::Objects),
    ("guests", Kind::Objects),
    ("customFieldValues", Kind::Objects),
    ("registrantAcknowledgesSchedulingConflicts", Kind::Bool),
    ("checkinDate", Kind::Time),
    ("departureDate", Kind::Time),
    ("cancellationDate", Kind::Time),
    ("parentRegistrationId", Kind::Ref),
    ("ribbonIds", Kind::Strings),
    ("internalNotes", Kind::Text),
    ("notes", Kind::Text),
    ("sysExternalId", Kind::Text),
    ("sysLocked", Kind::Bool),
];

/// A valid registration's client fields: a member for each field of [`FIELDS`], in order, so that it serializes to
/// the canonical object answers show. A member absent from what is read takes its field's default, which is how the
/// stored form ([`Registration::stored_fields`]) leaves defaults out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    pub event_id: EventId,
    pub name: String,
    pub contact_id: ContactId,
    pub type_id: String,
    pub package_id: String,
    /// The purchasable ticket held, counted against its capacity while the registration is active.
    pub product_id: Option<ProductId>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email_address: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub job_title: Option<String>,
    /// When the contact registered: made by the server on create when absent, kept on replace when absent.
    #[serde(default, with = "time::optional")]
    pub date: Option<Timestamp>,
    #[serde(default, with = "time::optional")]
    pub event_start_date: Option<Timestamp>,
    #[serde(default, with = "time::optional")]
    pub event_end_date: Option<Timestamp>,
    pub coupon_code_id: Option<String>,
    pub modified_registration_id: Option<String>,
    pub process_id: Option<String>,
    pub organization_id: Option<String>,
    #[serde(default)]
    pub status: RegistrationStatus,
    #[serde(default)]
    pub is_guest_registration: bool,
    #[serde(default)]
    pub is_transient_guest: bool,
    pub webinar_participant_id: Option<String>,
    pub webinar_join_url: Option<String>,
    #[serde(default, with = "time::optional")]
    pub last_modification_date: Option<Timestamp>,
    pub order_id: Option<String>,
    pub order_line_item_id: Option<String>,
    pub order_number: Option<i64>,
    pub order_balance_due: Option<Cents>,
    pub order_amount_paid: Option<Cents>,
    pub order_currency_code: Option<String>,
    pub order_currency_symbol: Option<String>,
    pub order_status: Option<OrderStatus>,
    pub order_total: Option<Cents>,
    pub group_id: Option<String>,
    pub group_order: Option<i64>,
    pub deadline_id: Option<String>,
    #[serde(default)]
    pub add_membership_package: bool,
    pub membership_information: Option<Map<String, Value>>,
    pub badge: Option<Map<String, Value>>,
    #[serde(default)]
    pub sessions: Vec<Value>,
    #[serde(default)]
    pub courses: Vec<Value>,
    #[serde(default)]
    pub functions: Vec<Value>,
    #[serde(default)]
    pub add_ons: Vec<Value>,
    #[serde(default)]
    pub guests: Vec<Value>,
    #[serde(default)]
    pub custom_field_values: Vec<Value>,
    #[serde(default)]
    pub registrant_acknowledges_scheduling_conflicts: bool,
    #[serde(default, with = "time::optional")]
    pub checkin_date: Option<Timestamp>,
    #[serde(default, with = "time::optional")]
    pub departure_date: Option<Timestamp>,
    #[serde(default, with = "time::optional")]
    pub cancellation_date: Option<Timestamp>,
    pub parent_registration_id: Option<String>,
    #[serde(default)]
    pub ribbon_ids: Vec<String>,
    pub internal_notes: Option<String>,
    pub notes: Option<String>,
    pub sys_external_id: Option<String>,
    /// A locked registration changes only by being unlocked ([`StoredRegistration::check_unlocked`]).
    #[serde(default)]
    pub sys_locked: bool,
    /// The registration number: made per event by the server when absent. Not a field: shown beside `id`.
    #[serde(skip)]
    pub number: Option<i64>,
}

/// The largest registration number, made or given: numbers fit the 32-bit integers clients keep them in.
pub const MAX_NUMBER: i64 = i32::MAX as i64;

/// The number the server makes for the next registration of an event whose last number is `last`.
///
/// Numbers are never reused, so an event whose counter reached [`MAX_NUMBER`] (a client gave that number) has no
/// next one: its later registrations take the free numbers their clients give. Making a larger one would make a
/// record that fails every later check of its own number, and so could never be changed again.
pub fn next_number(event_id: &str, last: i64) -> Result<i64, FieldError> {
    if last < MAX_NUMBER {
        return Ok(last + 1);
    }
    Err(FieldError::new(
        "registration.number",
        format!(
            "is needed: the numbers of event {event_id} are used up (the last is {last}); give a free number from 1 \
             to {MAX_NUMBER}"
        ),
    ))
}

/// The rule of a number the client gives: free in its event (numbers never repeat within an event).
pub fn check_number_free(event_id: &str, number: i64, taken: bool) -> Result<(), Conflict> {
    if taken {
        return Err(Conflict::NumberTaken { event_id: event_id.to_owned(), number });
    }
    Ok(())
}

/// The rule of a registration that others refer to: it cannot be deleted while it is the parent of `guests`
/// registrations, nor deleted or moved to another event (`change`) while `function_tickets` refer to it.
pub fn check_unreferenced(id: &str, guests: i64, function_tickets: i64, change: &'static str) -> Result<(), Conflict> {
    if guests > 0 {
        return Err(Conflict::GuestsHeld { registration_id: id.to_owned(), guests });
    }
    if function_tickets > 0 {
        return Err(Conflict::FunctionTicketsHeld { registration_id: id.to_owned(), count: function_tickets, change });
    }
    Ok(())
}

/// Members a client may send back that the server makes; accepted and ignored except `sysVersion` and `id`.
const SERVER_MADE: &[&str] = &["id", "number"];

impl Registration {
    /// Validates a `registration` object; `path` names it in errors.
    pub fn from_json(path: &str, value: &Value) -> Result<RecordInput<Registration>, Vec<FieldError>> {
        let mut input = Input::new(path, value).map_err(|e| vec![e])?;
        let fields = record::read_fields(&mut input, FIELDS);
        let id = input.optional("id", |v| RecordId::parse(v.as_str().ok_or("must be a string")?));
        let number = input.optional_int("number", 1, MAX_NUMBER);
        let expected_version = input.optional_int("sysVersion", 1, MAX_SAFE_INTEGER);
        input.accept(SERVER_MADE);
        input.finish()?;
        let record = Registration { number, ..record::typed(path, fields)? };
        Ok(RecordInput { record, id, expected_version })
    }

    /// The fields worth storing: the non-default ones, in table order (read back, the others take their defaults).
    pub fn stored_fields(&self) -> Map<String, Value> {
        record::compact(record::to_object(self), FIELDS)
    }

    /// The ticket this registration counts against, with its contact: only an `active` one that holds a ticket.
    pub fn holding(&self) -> Option<Holding> {
        match (self.status, &self.product_id) {
            (RegistrationStatus::Active, Some(product)) => {
                Some(Holding { product_id: product.clone(), contact_id: self.contact_id.clone() })
            }
            _ => None,
        }
    }
}

/// The id of a registration.
pub type RegistrationId = RecordId<Registration>;

/// A registration as stored: the server's id and number, the client's fields, and the sys fields.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRegistration {
    pub id: RegistrationId,
    pub number: i64,
    pub registration: Registration,
    pub sys: Sys,
}

/// The members the server makes, shown before a registration's fields.
#[derive(Serialize)]
struct Made<'a> {
    id: &'a RegistrationId,
    number: i64,
}

impl StoredRegistration {
    fn shown(&self) -> Shown<'_, Made<'_>, Registration> {
        Shown { made: Made { id: &self.id, number: self.number }, fields: &self.registration, sys: &self.sys }
    }

    /// The registration as the API shows it.
    pub fn to_json(&self) -> Map<String, Value> {
        self.shown().to_json()
    }

    /// [`StoredRegistration::to_json`] as text; only the members `keep` allows, when it is given.
    pub fn write_json(&self, out: &mut Vec<u8>, keep: Option<&dyn Fn(&str) -> bool>) {
        self.shown().write_json(out, keep);
    }

    /// What replacing this registration's fields by `next` writes (its date kept when `next` has none), checked by
    /// the rule of `sysLocked`; `None` when it changes nothing, so that the stored registration is answered with
    /// its version and times as they were (an unchanged update, a patch that only tests). The number is the
    /// server's: it is left out of the comparison.
    pub fn replacement(&self, mut next: Registration) -> Result<Option<Registration>, Error> {
        if next.date.is_none() {
            next.date = self.registration.date;
        }
        let sent_number = std::mem::replace(&mut next.number, self.registration.number);
        if next == self.registration {
            return Ok(None);
        }
        next.number = sent_number;
        self.check_unlocked(Some(&next))?;
        Ok(Some(next))
    }

    /// The rule of `sysLocked`: an unlocked registration may change at will; a locked one only by the change that
    /// sets `sysLocked` back to false and changes nothing else (`next`; `None` for a delete or a transfer).
    pub fn check_unlocked(&self, next: Option<&Registration>) -> Result<(), Error> {
        if !self.registration.sys_locked {
            return Ok(());
        }
        // The number is the server's: a replacement never changes it, so sending it or not is no change.
        if let Some(next) = next
            && *next == (Registration { sys_locked: false, number: next.number, ..self.registration.clone() })
        {
            return Ok(());
        }
        Err(Error::Locked { resource: "registration", id: self.id.to_string() })
    }
}

/// What an active registration holding a ticket counts against: the ticket's sales and its contact's limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    pub product_id: ProductId,
    pub contact_id: ContactId,
}

/// The members of `registration.search`: filters, paging and trimming.
#[derive(Debug, Clone, Default)]
pub struct RegistrationQuery {
    pub ids: Option<Vec<String>>,
    pub event_id: Option<String>,
    /// Case-insensitive "contains" filters: (member, text), the text [folded](super::fold::fold) as the trigram
    /// index folds what it holds.
    pub contains: Vec<(RegistrationKey, String)>,
    /// "Any of" filters: (member, values).
    pub any_of: Vec<(RegistrationKey, Vec<Value>)>,
    /// Range filters: (member, from, to), inclusive; timestamps as epoch milliseconds.
    pub ranges: Vec<(RegistrationKey, Option<f64>, Option<f64>)>,
    pub page: super::Page,
}

/// The members of a registration that searches and look-ups match on; the store keeps an index for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegistrationKey {
    EventId,
    ContactId,
    TypeId,
    PackageId,
    Status,
    FirstName,
    LastName,
    Name,
    EmailAddress,
    City,
    State,
    Country,
    JobTitle,
    OrganizationId,
    OrderId,
    OrderNumber,
    OrderStatus,
    IsGuestRegistration,
    GroupId,
    DeadlineId,
    ParentRegistrationId,
    Date,
    OrderBalanceDue,
    OrderAmountPaid,
    OrderTotal,
}

impl RegistrationKey {
    /// The member's name in the API.
    pub fn member(self) -> &'static str {
        use RegistrationKey as K;
        match self {
            K::EventId => "eventId",
            K::ContactId => "contactId",
            K::TypeId => "typeId",
            K::PackageId => "packageId",
            K::Status => "status",
            K::FirstName => "firstName",
            K::LastName => "lastName",
            K::Name => "name",
            K::EmailAddress => "emailAddress",
            K::City => "city",
            K::State => "state",
            K::Country => "country",
            K::JobTitle => "jobTitle",
            K::OrganizationId => "organizationId",
            K::OrderId => "orderId",
            K::OrderNumber => "orderNumber",
            K::OrderStatus => "orderStatus",
            K::IsGuestRegistration => "isGuestRegistration",
            K::GroupId => "groupId",
            K::DeadlineId => "deadlineId",
            K::ParentRegistrationId => "parentRegistrationId",
            K::Date => "date",
            K::OrderBalanceDue => "orderBalanceDue",
            K::OrderAmountPaid => "orderAmountPaid",
            K::OrderTotal => "orderTotal",
        }
    }

    /// Members with few distinct values (a status, a type): a poor place for a search to start from.
    pub fn coarse(self) -> bool {
        use RegistrationKey as K;
        matches!(self, K::Status | K::OrderStatus | K::IsGuestRegistration | K::TypeId | K::PackageId)
    }
}

/// "Contains" filters: case-insensitive text within the member.
pub const CONTAINS: &[RegistrationKey] = &[
    RegistrationKey::FirstName,
    RegistrationKey::LastName,
    RegistrationKey::Name,
    RegistrationKey::EmailAddress,
    RegistrationKey::City,
    RegistrationKey::State,
    RegistrationKey::Country,
    RegistrationKey::JobTitle,
];

/// "Any of" filters, and the kind of their values.
pub const ANY_OF: &[(RegistrationKey, Kind)] = &[
    (RegistrationKey::OrganizationId, Kind::Ref),
    (RegistrationKey::OrderId, Kind::Ref),
    (RegistrationKey::OrderNumber, Kind::Integer),
    (RegistrationKey::OrderStatus, Kind::Enum(ORDER_STATUSES)),
    (RegistrationKey::ContactId, Kind::Ref),
    (RegistrationKey::Status, Kind::Enum(STATUSES)),
    (RegistrationKey::IsGuestRegistration, Kind::Bool),
    (RegistrationKey::TypeId, Kind::Ref),
    (RegistrationKey::PackageId, Kind::Ref),
    (RegistrationKey::GroupId, Kind::Ref),
    (RegistrationKey::DeadlineId, Kind::Ref),
    (RegistrationKey::ParentRegistrationId, Kind::Ref),
];

/// What the bounds of a range filter are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// Timestamps, compared as epoch milliseconds.
    Time,
    /// Amounts of money, read as the amounts themselves are.
    Money,
}

/// Range filters, and what their bounds are.
pub const RANGES: &[(RegistrationKey, Bound)] = &[
    (RegistrationKey::Date, Bound::Time),
    (RegistrationKey::OrderBalanceDue, Bound::Money),
    (RegistrationKey::OrderAmountPaid, Bound::Money),
    (RegistrationKey::OrderTotal, Bound::Money),
];

/// The top-level names a `fields` list may use.
pub fn field_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = vec!["id", "number"];
    names.extend(FIELDS.iter().map(|(n, _)| *n));
    names.extend(super::input::READ_ONLY.iter().filter(|n| n.starts_with("sys")));
    names
}

fn range(v: &Value, kind: Bound) -> Result<(Option<f64>, Option<f64>), String> {
    let obj = v.as_object().ok_or("must be an object {from, to}")?;
    if let Some(extra) = obj.keys().find(|k| *k != "from" && *k != "to") {
        return Err(format!("has an unknown member '{extra}' (from, to)"));
    }
    let bound = |name: &str| -> Result<Option<f64>, String> {
        let read = |b: &Value| match kind {
            Bound::Time => time::parse(b).map(|t| t.timestamp_millis() as f64),
            // The number an amount is written back as (`Cents::to_json`), which is what the column holds.
            Bound::Money => Cents::parse(b).map(Cents::dollars),
        };
        match obj.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(b) => read(b).map(Some).map_err(|m| format!("{name} {m}")),
        }
    };
    Ok((bound("from")?, bound("to")?))
}

impl RegistrationQuery {
    /// Reads the params of `registration.search`.
    pub fn from_json(input: &mut Input<'_>) -> RegistrationQuery {
        let mut query = RegistrationQuery {
            ids: input.strings("ids", false, reference),
            event_id: input.optional("eventId", |v| reference(v.as_str().ok_or("must be a string")?)),
            ..RegistrationQuery::default()
        };
        for &key in CONTAINS {
            if let Some(text) = input.optional(key.member(), |v| input::filter_text(v, 200, false)) {
                query.contains.push((key, super::fold::fold(&text)));
            }
        }
        for &(key, kind) in ANY_OF {
            let values = input.optional(key.member(), |v| {
                let list = match v {
                    Value::Array(items) if items.len() > super::MAX_LIST_VALUES => return Err(input::too_many_values()),
                    Value::Array(items) if !items.is_empty() => items.clone(),
                    Value::Array(_) => return Err("must not be an empty list".to_owned()),
                    single => vec![single.clone()],
                };
                list.iter().map(|item| check(kind, item)).collect::<Result<Vec<_>, _>>()
            });
            if let Some(values) = values {
                query.any_of.push((key, values));
            }
        }
        for &(key, kind) in RANGES {
            if let Some((from, to)) = input.optional(key.member(), |v| range(v, kind)) {
                query.ranges.push((key, from, to));
            }
        }
        query.page = super::Page::read(input, &field_names(), Some(super::DEFAULT_LIMIT));
        query
    }
}

/// One side of a scheduling conflict.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Slot {
    /// `session` or `function`.
    pub kind: &'static str,
    pub id: Value,
    #[serde(rename = "startDate", serialize_with = "time::serialize")]
    pub start: Timestamp,
    #[serde(rename = "endDate", serialize_with = "time::serialize")]
    pub end: Timestamp,
}

/// The sessions and functions of a registration that carry both `startDate` and `endDate`.
pub fn slots(registration: &Value) -> Result<Vec<Slot>, Vec<FieldError>> {
    let mut slots = Vec::new();
    let mut errors = Vec::new();
    for (member, kind, id_key) in [("sessions", "session", "sessionId"), ("functions", "function", "functionId")] {
        let Some(entries) = registration.get(member).filter(|v| !v.is_null()) else { continue };
        let Some(entries) = entries.as_array() else {
            errors.push(FieldError::new(format!("registration.{member}"), "must be an array of objects"));
            continue;
        };
        if entries.len() > record::MAX_ENTRIES {
            errors.push(FieldError::new(format!("registration.{member}"), record::too_many_entries()));
            continue;
        }
        for (i, entry) in entries.iter().enumerate() {
            let field = |name: &str| format!("registration.{member}[{i}].{name}");
            let (Some(start), Some(end)) = (entry.get("startDate"), entry.get("endDate")) else { continue };
            match (time::parse(start), time::parse(end)) {
                (Ok(start), Ok(end)) if end >= start => {
                    let id = entry.get("id").or_else(|| entry.get(id_key)).cloned().unwrap_or(Value::Null);
                    slots.push(Slot { kind, id, start, end });
                }
                (Ok(_), Ok(_)) => errors.push(FieldError::new(field("endDate"), "must not be before startDate")),
                (s, e) => {
                    if let Err(m) = s {
                        errors.push(FieldError::with_value(field("startDate"), m, start));
                    }
                    if let Err(m) = e {
                        errors.push(FieldError::with_value(field("endDate"), m, end));
                    }
                }
            }
        }
    }
    if errors.is_empty() { Ok(slots) } else { Err(errors) }
}

/// Most overlapping pairs one answer lists: a schedule whose every session overlaps every other would make half a
/// million pairs of 1,000 sessions, an answer of some 100 MB.
pub const MAX_CONFLICTS: usize = 10_000;

/// Every overlapping pair of slots (touching ends do not overlap), in input order; more than `at_most` pairs is a
/// problem of the registration, found before they are all made.
///
/// Sorting by start and sweeping keeps only the slots still open, so the cost is the output plus `n log n`.
pub fn conflicts(slots: &[Slot], at_most: usize) -> Result<Vec<(usize, usize)>, FieldError> {
    let mut order: Vec<usize> = (0..slots.len()).collect();
    order.sort_by_key(|&i| (slots[i].start, slots[i].end));
    let mut open: Vec<usize> = Vec::new();
    let mut pairs = Vec::new();
    for &i in &order {
        open.retain(|&j| slots[j].end > slots[i].start);
        pairs.extend(open.iter().map(|&j| (j.min(i), j.max(i))));
        if pairs.len() > at_most {
            return Err(FieldError::new(
                "registration",
                format!("has more than {at_most} scheduling conflicts; check its sessions and functions in parts"),
            ));
        }
        open.push(i);
    }
    pairs.sort_unstable();
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn valid() -> Value {
        json!({"eventId": "ev1", "name": "Ada Lovelace", "contactId": "c1", "typeId": "t1", "packageId": "p1"})
    }

    /// Every field set to a value other than its default, some in forms validation normalises (epoch milliseconds,
    /// an offset, a whole amount written as a float).
    fn full() -> Value {
        serde_json::from_str(
            r#"{
            "eventId": "ev1", "name": "Ada Lovelace", "contactId": "c1", "typeId": "t1", "packageId": "p1",
            "productId": "vip", "firstName": "Ada", "lastName": "Lovelace", "emailAddress": "ada@example.com",
            "city": "London", "state": "", "country": "UK", "jobTitle": "Analyst", "date": 1777658400000,
            "eventStartDate": "2026-05-01T20:00:00+02:00", "eventEndDate": "2026-05-02T18:00:00.5Z",
            "couponCodeId": "cc1", "modifiedRegistrationId": "r0", "processId": "p:1", "organizationId": "o|1",
            "status": "pending approval", "isGuestRegistration": true, "isTransientGuest": true,
            "webinarParticipantId": "w1", "webinarJoinUrl": "https://example.com/w",
            "lastModificationDate": "2026-04-01T00:00:00Z", "orderId": "ord1", "orderLineItemId": "li1",
            "orderNumber": -12, "orderBalanceDue": 10.5, "orderAmountPaid": 0, "orderCurrencyCode": "USD",
            "orderCurrencySymbol": "$", "orderStatus": "partially shipped", "orderTotal": 25.0, "groupId": "g1",
            "groupOrder": 2, "deadlineId": "d1", "addMembershipPackage": true,
            "membershipInformation": {"level": "gold", "since": null}, "badge": {},
            "sessions": [{"id": "s1", "startDate": "2026-05-01T09:00:00Z"}], "courses": [{}],
            "functions": [{"functionId": "gala"}], "addOns": [{"n": 1.5}], "guests": [{"name": "Bo"}],
            "customFieldValues": [{"k": "v"}], "registrantAcknowledgesSchedulingConflicts": true,
            "checkinDate": "2026-05-01T08:00:00Z", "departureDate": "2026-05-03T08:00:00Z",
            "cancellationDate": "2026-05-04T08:00:00Z", "parentRegistrationId": "r9", "ribbonIds": ["speaker", "vip"],
            "internalNotes": "n", "notes": "m", "sysExternalId": "ext-1", "sysLocked": true
        }"#,
        )
        .unwrap()
    }

    #[test]
    fn the_struct_has_the_fields_of_the_table_in_order() {
        let r = Registration::from_json("registration", &full()).unwrap().record;
        let members = record::to_object(&r);
        assert!(members.keys().map(String::as_str).eq(FIELDS.iter().map(|(name, _)| *name)), "{:?}", members.keys());
        assert_eq!(r.stored_fields(), members, "fully populated: every member differs from its default");
    }

    /// The struct serializes to the canonical object validation makes (what answers and stored rows held before it
    /// was a struct), and reads back from it and from its stored form unchanged.
    #[test]
    fn shown_validated_and_stored_it_stays_the_same() {
        for sent in [valid(), full()] {
            let mut input = Input::new("registration", &sent).unwrap();
            let canonical = record::read_fields(&mut input, FIELDS);
            input.finish().unwrap();
            let r = Registration::from_json("registration", &sent).unwrap().record;
            assert_eq!(serde_json::to_string(&r).unwrap(), serde_json::to_string(&canonical).unwrap());
            let stored = serde_json::to_string(&r.stored_fields()).unwrap();
            assert_eq!(stored, serde_json::to_string(&record::compact(canonical, FIELDS)).unwrap());
            let shown = serde_json::to_value(&r).unwrap();
            assert_eq!(Registration::from_json("registration", &shown).unwrap().record, r, "{shown}");
            assert_eq!(serde_json::from_str::<Registration>(&stored).unwrap(), r, "{stored}");
        }
    }

    #[test]
    fn a_minimal_registration_gets_defaults() {
        let r = Registration::from_json("registration", &valid()).unwrap().record;
        assert_eq!(r.status, RegistrationStatus::Active);
        assert_eq!((r.sessions.len(), r.is_guest_registration, r.city.as_deref()), (0, false, None));
        assert_eq!(Value::Object(r.stored_fields()), valid(), "only the required fields are stored");
    }

    #[test]
    fn stored_members_in_another_order_or_unknown_read_back() {
        let stored = r#"{"city":"Oslo","name":"Ada Lovelace","eventId":"ev1","colour":"red","contactId":"c1",
            "packageId":"p1","typeId":"t1","orderTotal":19.99,"date":"2026-05-01T18:00:00.000Z"}"#;
        let mut sent = valid();
        sent["city"] = json!("Oslo");
        sent["orderTotal"] = json!(19.99);
        sent["date"] = json!(1777658400000i64);
        let read: Registration = serde_json::from_str(stored).unwrap();
        assert_eq!(read, Registration::from_json("r", &sent).unwrap().record);
    }

    #[test]
    fn statuses_are_the_values_of_the_table_in_order() {
        for (i, &name) in STATUSES.iter().enumerate() {
            let status: RegistrationStatus = serde_json::from_value(json!(name)).unwrap();
            assert_eq!(
                (status as usize, status.as_str(), serde_json::to_value(status).unwrap()),
                (i, name, json!(name))
            );
        }
        for (i, &name) in ORDER_STATUSES.iter().enumerate() {
            let status: OrderStatus = serde_json::from_value(json!(name)).unwrap();
            assert_eq!(
                (status as usize, status.as_str(), serde_json::to_value(status).unwrap()),
                (i, name, json!(name))
            );
        }
    }

    #[test]
    fn every_problem_is_reported() {
        let mut v = valid();
        v["emailAddress"] = json!("not-an-email");
        v["status"] = json!("gone");
        v["orderTotal"] = json!(-5);
        v["sessions"] = json!([1]);
        v["date"] = json!("yesterday");
        v["colour"] = json!("red");
        v.as_object_mut().unwrap().remove("contactId");
        let errors = Registration::from_json("registration", &v).err().unwrap();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        for f in ["contactId", "emailAddress", "status", "orderTotal", "sessions", "date", "colour"] {
            assert!(fields.contains(&format!("registration.{f}").as_str()), "{f} missing from {fields:?}");
        }
    }

    #[test]
    fn a_given_number_stops_at_the_maximum() {
        let mut v = valid();
        v["number"] = json!(MAX_NUMBER);
        assert_eq!(Registration::from_json("r", &v).unwrap().record.number, Some(MAX_NUMBER));
        v["number"] = json!(MAX_NUMBER + 1);
        assert!(Registration::from_json("r", &v).is_err());
    }

    #[test]
    fn only_active_registrations_with_a_ticket_hold_one() {
        let mut v = valid();
        assert_eq!(Registration::from_json("r", &v).unwrap().record.holding(), None);
        v["productId"] = json!("vip");
        let held = Registration::from_json("r", &v).unwrap().record.holding().unwrap();
        assert_eq!((held.product_id.as_str(), held.contact_id.as_str()), ("vip", "c1"));
        v["status"] = json!("cancelled");
        assert_eq!(Registration::from_json("r", &v).unwrap().record.holding(), None);
    }

    fn slot(start: i64, end: i64) -> Slot {
        Slot { kind: "session", id: Value::Null, start: time::from_millis(start), end: time::from_millis(end) }
    }

    #[test]
    fn overlapping_nested_touching_and_disjoint() {
        let s = [slot(0, 10), slot(5, 15), slot(2, 3), slot(15, 20), slot(30, 40)];
        assert_eq!(conflicts(&s, MAX_CONFLICTS), Ok(vec![(0, 1), (0, 2)]));
        assert_eq!(conflicts(&s, 1).unwrap_err().field, "registration");
    }

    proptest! {
        #[test]
        fn conflicts_equal_a_brute_force_check(intervals in prop::collection::vec((0i64..100, 0i64..30), 0..25)) {
            let s: Vec<Slot> = intervals.iter().map(|&(a, len)| slot(a, a + len)).collect();
            let mut expected = Vec::new();
            for i in 0..s.len() {
                for j in i + 1..s.len() {
                    if s[i].start < s[j].end && s[j].start < s[i].end {
                        expected.push((i, j));
                    }
                }
            }
            prop_assert_eq!(conflicts(&s, MAX_CONFLICTS), Ok(expected));
        }
    }
}
