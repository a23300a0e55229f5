//! Function tickets: a seat at one function (a dinner, a workshop) of an event, held by a contact and usually tied
//! to that contact's registration. Fields as the events platform's function-ticket record defines them.

use serde_json::{Map, Value};

use super::input::{Input, MAX_SAFE_INTEGER};
use super::record::{self, Kind};
use crate::error::FieldError;

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
