//! Function tickets: a seat at one function (a dinner, a workshop) of an event, held by a contact and usually tied
//! to that contact's registration. Fields as the events platform's function-ticket record defines them.

use serde_json::{Map, Value};

use super::ids::RecordId;
use super::input::{Input, MAX_SAFE_INTEGER};
use super::record::{self, Kind};
use super::sys::Sys;
use crate::error::{Error, FieldError};

/// The statuses of a function ticket.
pub const STATUSES: &[&str] = &["active", "cancelled"];

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

/// A valid function ticket's client fields, canonical: every field of [`FIELDS`], in order.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionTicket {
    fields: Map<String, Value>,
}

/// A function ticket read from a request.
pub struct FunctionTicketInput {
    pub ticket: FunctionTicket,
    pub expected_version: Option<i64>,
    pub id: Option<String>,
}

impl FunctionTicket {
    /// Validates a `functionTicket` object.
    pub fn from_json(path: &str, value: &Value) -> Result<FunctionTicketInput, Vec<FieldError>> {
        let mut input = Input::new(path, value).map_err(|e| vec![e])?;
        let fields = record::read_fields(&mut input, FIELDS);
        let id = input.optional("id", |v| record::strict_id(v.as_str().ok_or("must be a string")?));
        let expected_version = input.optional_int("sysVersion", 1, MAX_SAFE_INTEGER);
        input.finish()?;
        Ok(FunctionTicketInput { ticket: FunctionTicket { fields }, expected_version, id })
    }

    /// A function ticket from its stored fields (validated when written).
    pub fn from_stored(stored: Map<String, Value>) -> FunctionTicket {
        FunctionTicket { fields: record::expand(stored, FIELDS) }
    }

    /// The fields worth storing: the non-default ones.
    pub fn stored_fields(&self) -> Map<String, Value> {
        record::compact(&self.fields, FIELDS)
    }

    /// The client fields as JSON.
    pub fn fields(&self) -> &Map<String, Value> {
        &self.fields
    }

    /// A string field's value, if set.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.fields.get(name).and_then(Value::as_str)
    }

    pub fn event_id(&self) -> &str {
        self.get_str("eventId").unwrap_or_default()
    }

    pub fn registration_id(&self) -> Option<&str> {
        self.get_str("registrationId")
    }

    pub fn locked(&self) -> bool {
        self.fields.get("sysLocked").and_then(Value::as_bool).unwrap_or(false)
    }

    /// Sets a field (already valid).
    pub fn set(&mut self, name: &str, value: Value) {
        if let Some(slot) = self.fields.get_mut(name) {
            *slot = value;
        }
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

impl StoredFunctionTicket {
    /// The function ticket as the API shows it.
    pub fn to_json(&self) -> Map<String, Value> {
        self.sys.record_json(&[("id", self.id.as_str().into())], self.ticket.fields())
    }

    /// [`StoredFunctionTicket::to_json`] as text, only the members `keep` allows.
    pub fn write_json(&self, out: &mut Vec<u8>, keep: &dyn Fn(&str) -> bool) {
        let fields = self.ticket.fields().iter().map(|(k, v)| (k.as_str(), v));
        self.sys.write_record_json(out, &[("id", self.id.as_str().into())], fields, keep);
    }
}

impl StoredFunctionTicket {
    /// The rule of `sysLocked`, as for registrations: a locked function ticket changes only by being unlocked.
    pub fn check_unlocked(&self, next: Option<&FunctionTicket>) -> Result<(), Error> {
        if !self.ticket.locked() {
            return Ok(());
        }
        if let Some(next) = next {
            let mut unlocked = self.ticket.clone();
            unlocked.set("sysLocked", Value::Bool(false));
            if *next == unlocked {
                return Ok(());
            }
        }
        Err(Error::Locked { resource: "functionTicket", id: self.id.to_string() })
    }
}

impl FunctionTicket {
    /// The rule of `registrationId`: the registration it names is of the same event.
    pub fn check_registration_event(&self, registration_id: &str, registration_event: &str) -> Result<(), FieldError> {
        if registration_event == self.event_id() {
            return Ok(());
        }
        Err(FieldError {
            field: "functionTicket.eventId".into(),
            message: format!("must be the eventId of registration {registration_id} ({registration_event})"),
            value: Some(self.event_id().into()),
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
        let t = FunctionTicket::from_json("functionTicket", &ok).unwrap().ticket;
        assert_eq!(t.fields()["customFieldValues"], json!([]));
        assert_eq!(t.registration_id(), None);
        let bad = json!({"name": "", "eventId": "ev.1", "functionId": "g", "contactId": "c1", "status": "pending",
            "registrationId": "a b"});
        let fields: Vec<String> =
            FunctionTicket::from_json("functionTicket", &bad).err().unwrap().into_iter().map(|e| e.field).collect();
        for f in ["name", "eventId", "status", "registrationId"] {
            assert!(fields.contains(&format!("functionTicket.{f}")), "{f} not in {fields:?}");
        }
    }
}
