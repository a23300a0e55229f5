//! Function tickets: a seat at one function (a dinner, a workshop) of an event, held by a contact and usually tied
//! to that contact's registration. Fields as the events platform's function-ticket record defines them, described
//! once in [`FIELDS`] and read, once valid, into [`FunctionTicket`], a struct with a member for each.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::ids::{ContactId, EventId, RecordId};
use super::input::{Input, MAX_SAFE_INTEGER};
use super::record::{self, Kind, RecordInput};
use super::sys::{Shown, Sys};
use crate::error::{Error, FieldError};

/// The statuses of a function ticket.
pub const STATUSES: &[&str] = &["active", "cancelled"];

/// A function ticket's status, one of [`STATUSES`] (in their order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FunctionTicketStatus {
    Active,
    Cancelled,
}

impl FunctionTicketStatus {
    /// The status as the API writes it.
    pub fn as_str(self) -> &'static str {
        STATUSES[self as usize]
    }
}

/// Every field a client may set, in the order answers show them.
pub const FIELDS: &[(&str, Kind)] = &[
    ("name", Kind::RequiredText),
    ("eventId", Kind::RequiredId),
    ("functionId", Kind::RequiredId),
    ("contactId", Kind::RequiredId),
    ("status", Kind::RequiredEnum(STATUSES)),
    ("registrationId", Kind::Id),
    ("orderId", Kind::Id),
    ("orderLineItemId", Kind::Id),
    ("feeId", Kind::Id),
    ("mealOptionId", Kind::Id),
    ("organizationId", Kind::Id),
    ("notes", Kind::Text),
    ("customFieldValues", Kind::Objects),
    ("sysExternalId", Kind::Text),
    ("sysLocked", Kind::Bool),
];

/// A valid function ticket's client fields: a member for each field of [`FIELDS`], in order, so that it serializes
/// to the canonical object answers show. A member absent from what is read takes its field's default, which is how
/// the stored form ([`FunctionTicket::stored_fields`]) leaves defaults out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionTicket {
    pub name: String,
    pub event_id: EventId,
    pub function_id: String,
    pub contact_id: ContactId,
    pub status: FunctionTicketStatus,
    /// The registration the ticket is tied to: of the same network and event, and followed on transfers.
    pub registration_id: Option<String>,
    pub order_id: Option<String>,
    pub order_line_item_id: Option<String>,
    pub fee_id: Option<String>,
    pub meal_option_id: Option<String>,
    pub organization_id: Option<String>,
    pub notes: Option<String>,
    #[serde(default)]
    pub custom_field_values: Vec<Value>,
    pub sys_external_id: Option<String>,
    /// A locked function ticket changes only by being unlocked ([`StoredFunctionTicket::check_unlocked`]).
    #[serde(default)]
    pub sys_locked: bool,
}

impl FunctionTicket {
    /// Validates a `functionTicket` object.
    pub fn from_json(path: &str, value: &Value) -> Result<RecordInput<FunctionTicket>, Vec<FieldError>> {
        let mut input = Input::new(path, value).map_err(|e| vec![e])?;
        let fields = record::read_fields(&mut input, FIELDS);
        let id = input.optional("id", |v| {
            let strict = record::strict_id(v.as_str().ok_or("must be a string")?)?;
            RecordId::parse(&strict)
        });
        let expected_version = input.optional_int("sysVersion", 1, MAX_SAFE_INTEGER);
        input.finish()?;
        Ok(RecordInput { record: record::typed(path, fields)?, id, expected_version })
    }

    /// The fields worth storing: the non-default ones, in table order (read back, the others take their defaults).
    pub fn stored_fields(&self) -> Map<String, Value> {
        record::compact(record::to_object(self), FIELDS)
    }
}

/// The id of a function ticket.
pub type FunctionTicketId = RecordId<FunctionTicket>;

/// A function ticket as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFunctionTicket {
    pub id: FunctionTicketId,
    pub ticket: FunctionTicket,
    pub sys: Sys,
}

/// The member the server makes, shown before a function ticket's fields.
#[derive(Serialize)]
struct Made<'a> {
    id: &'a FunctionTicketId,
}

impl StoredFunctionTicket {
    fn shown(&self) -> Shown<'_, Made<'_>, FunctionTicket> {
        Shown { made: Made { id: &self.id }, fields: &self.ticket, sys: &self.sys }
    }

    /// The function ticket as the API shows it.
    pub fn to_json(&self) -> Map<String, Value> {
        self.shown().to_json()
    }

    /// [`StoredFunctionTicket::to_json`] as text; only the members `keep` allows, when it is given.
    pub fn write_json(&self, out: &mut Vec<u8>, keep: Option<&dyn Fn(&str) -> bool>) {
        self.shown().write_json(out, keep);
    }

    /// The rule of `sysLocked`, as for registrations: a locked function ticket changes only by being unlocked.
    pub fn check_unlocked(&self, next: Option<&FunctionTicket>) -> Result<(), Error> {
        if !self.ticket.sys_locked {
            return Ok(());
        }
        if let Some(next) = next
            && *next == (FunctionTicket { sys_locked: false, ..self.ticket.clone() })
        {
            return Ok(());
        }
        Err(Error::Locked { resource: "functionTicket", id: self.id.to_string() })
    }
}

impl FunctionTicket {
    /// The rule of `registrationId`: the registration it names is of the same event.
    pub fn check_registration_event(&self, registration_id: &str, registration_event: &str) -> Result<(), FieldError> {
        if registration_event == self.event_id.as_str() {
            return Ok(());
        }
        Err(FieldError {
            field: "functionTicket.eventId".into(),
            message: format!("must be the eventId of registration {registration_id} ({registration_event})"),
            value: Some(self.event_id.as_str().into()),
        })
    }
}

/// The members a function-ticket look-up matches on; the store keeps an index for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FunctionTicketKey {
    FunctionId,
    EventId,
    ContactId,
}

/// The top-level names a `fields` list may use.
pub fn field_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = vec!["id"];
    names.extend(FIELDS.iter().map(|(n, _)| *n));
    names.extend(super::input::READ_ONLY.iter().filter(|n| n.starts_with("sys")));
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requires_its_fields_and_the_strict_id_pattern() {
        let ok =
            json!({"name": "Gala seat", "eventId": "ev1", "functionId": "gala", "contactId": "c1", "status": "active"});
        let t = FunctionTicket::from_json("functionTicket", &ok).unwrap().record;
        assert_eq!((t.custom_field_values.len(), t.registration_id.as_deref()), (0, None));
        assert_eq!(Value::Object(t.stored_fields()), ok, "only the required fields are stored");
        let bad = json!({"name": "", "eventId": "ev.1", "functionId": "g", "contactId": "c1", "status": "pending",
            "registrationId": "a b"});
        let fields: Vec<String> =
            FunctionTicket::from_json("functionTicket", &bad).err().unwrap().into_iter().map(|e| e.field).collect();
        for f in ["name", "eventId", "status", "registrationId"] {
            assert!(fields.contains(&format!("functionTicket.{f}")), "{f} not in {fields:?}");
        }
    }

    #[test]
    fn the_struct_has_the_fields_of_the_table_in_order_and_reads_back_unchanged() {
        let full = json!({"name": "Gala seat", "eventId": "ev1", "functionId": "gala", "contactId": "c1",
            "status": "cancelled", "registrationId": "r1", "orderId": "o1", "orderLineItemId": "li1", "feeId": "f1",
            "mealOptionId": "vegan", "organizationId": "org1", "notes": "", "customFieldValues": [{"k": "v"}],
            "sysExternalId": "ext-1", "sysLocked": true});
        let mut input = Input::new("functionTicket", &full).unwrap();
        let canonical = record::read_fields(&mut input, FIELDS);
        input.finish().unwrap();
        let t = FunctionTicket::from_json("functionTicket", &full).unwrap().record;
        let members = record::to_object(&t);
        assert!(members.keys().map(String::as_str).eq(FIELDS.iter().map(|(name, _)| *name)), "{:?}", members.keys());
        assert_eq!(members, canonical);
        assert_eq!(serde_json::to_string(&t).unwrap(), serde_json::to_string(&canonical).unwrap());
        assert_eq!(t.stored_fields(), members, "fully populated: every member differs from its default");
        assert_eq!(FunctionTicket::from_json("functionTicket", &Value::Object(members)).unwrap().record, t);
        let stored = serde_json::to_string(&t.stored_fields()).unwrap();
        assert_eq!(serde_json::from_str::<FunctionTicket>(&stored).unwrap(), t);
        for (i, &name) in STATUSES.iter().enumerate() {
            let status: FunctionTicketStatus = serde_json::from_value(json!(name)).unwrap();
            assert_eq!((status as usize, status.as_str()), (i, name));
        }
    }
}
