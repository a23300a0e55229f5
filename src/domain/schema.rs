//! The JSON Schemas of the domain's values, for the OpenRPC document (`rpc.discover`).
//!
//! Each schema is made from what the value is read by, so the two cannot drift: a record's from its table of
//! fields ([`Kind`] by kind), the registration search from its tables of filters, ids and timestamps from the
//! patterns their parsers check. Strings hold no NUL character and are at most 10,000 characters; the schemas
//! give patterns and sizes, and the server's `-32602` says the rest.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Map, Value, json};

use super::function_ticket::{self, FunctionTicket};
use super::ids::{ActorId, ContactId, EventId, NetworkId, ProductId, RecordId};
use super::money::Cents;
use super::record::Kind;
use super::registration::{self, Bound, OrderStatus, Registration};
use super::ticket::TicketType;
use super::{DEFAULT_LIMIT, MAX_LIMIT, MAX_LIST_VALUES};

/// A reference: what `eventId`, `contactId` and a record's `id` are.
const REFERENCE: &str = "^[A-Za-z0-9_|:.-]{1,128}$";
/// An id as the function-ticket source requires it.
const STRICT_ID: &str = "^[A-Za-z0-9_-]{1,128}$";
/// A purchasable ticket's id.
const PRODUCT_ID: &str = "^[A-Za-z0-9._:-]{1,128}$";

/// A point in time as the API reads it (RFC 3339, or epoch milliseconds) and writes it (RFC 3339 UTC with
/// milliseconds): the schema of [`super::time::Timestamp`] members.
pub enum Time {}

impl JsonSchema for Time {
    fn schema_name() -> Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "RFC 3339 (answers: UTC with milliseconds, 2026-05-01T18:00:00.000Z), or an integer of \
                            Unix epoch milliseconds; years 0001 to 9999",
            "anyOf": [
                {"type": "string", "format": "date-time"},
                {"type": "integer", "minimum": super::time::MIN_MILLIS, "maximum": super::time::MAX_MILLIS}
            ]
        })
    }
}

impl JsonSchema for Cents {
    fn schema_name() -> Cow<'static, str> {
        "Money".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An amount in US dollars with at most two decimals (kept as integer cents)",
            "type": "number",
            "minimum": 0,
            "maximum": 999_999_999.99
        })
    }
}

impl JsonSchema for OrderStatus {
    fn schema_name() -> Cow<'static, str> {
        "OrderStatus".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"description": "The state of an order", "type": "string", "enum": registration::ORDER_STATUSES})
    }
}

/// A string id's schema: a named, non-inlined pattern.
macro_rules! pattern_schema {
    ($ty:ty, $name:literal, $pattern:expr, $description:literal) => {
        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                $name.into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({"description": $description, "type": "string", "pattern": $pattern})
            }
        }
    };
}

pattern_schema!(ProductId, "ProductId", PRODUCT_ID, "A purchasable ticket's id, unique in its network");
pattern_schema!(EventId, "EventId", REFERENCE, "An event of the platform");
pattern_schema!(ContactId, "ContactId", REFERENCE, "A contact of the platform");
pattern_schema!(NetworkId, "NetworkId", "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", "A network: a tenant of the server");
pattern_schema!(ActorId, "ActorId", "^.{1,128}$", "The token that made a change");
pattern_schema!(
    TicketType,
    "TicketType",
    "^(single|days:[0-9]{1,3}of[0-9]{1,3})$",
    "single, or days:NofM (N of the event's M days, 1 <= N <= M <= 366)"
);

impl<T> JsonSchema for RecordId<T> {
    fn schema_name() -> Cow<'static, str> {
        "RecordId".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"description": "A record's id, made by the server", "type": "string", "pattern": REFERENCE})
    }
}

/// What the server takes as an e-mail address: text without spaces, an `@`, and a domain with a dot inside it.
const EMAIL: &str = r"^\S+@[^\s@.][^\s@]*\.[^\s@]*[^\s@.]$";

/// The schema of one field's values, by its kind (null aside).
pub fn kind(generator: &mut SchemaGenerator, kind: Kind) -> Value {
    let text = |min: u32| json!({"type": "string", "minLength": min, "maxLength": 10_000});
    match kind {
        Kind::RequiredRef | Kind::Ref => json!({"type": "string", "pattern": REFERENCE}),
        Kind::RequiredId | Kind::Id => json!({"type": "string", "pattern": STRICT_ID}),
        Kind::RequiredText => text(1),
        Kind::Text => text(0),
        // The server's own check (`record::email`), not the stricter `format: email` a validator would apply.
        Kind::Email => json!({"type": "string", "pattern": EMAIL, "maxLength": 254}),
        Kind::Product => generator.subschema_for::<ProductId>().to_value(),
        Kind::Time => generator.subschema_for::<Time>().to_value(),
        Kind::Money => generator.subschema_for::<Cents>().to_value(),
        Kind::Integer => json!({"type": "integer", "minimum": -super::input::MAX_SAFE_INTEGER,
                                "maximum": super::input::MAX_SAFE_INTEGER}),
        Kind::Bool => json!({"type": "boolean"}),
        Kind::Object => json!({"type": "object"}),
        Kind::Objects => json!({"type": "array", "items": {"type": "object"}, "maxItems": super::record::MAX_ENTRIES}),
        Kind::Strings => json!({"type": "array", "items": text(1), "maxItems": super::record::MAX_ENTRIES}),
        Kind::Enum(values) | Kind::RequiredEnum(values) => json!({"type": "string", "enum": values}),
    }
}

/// Whether a field must be given.
fn required(kind: Kind) -> bool {
    matches!(kind, Kind::RequiredRef | Kind::RequiredText | Kind::RequiredId | Kind::RequiredEnum(_))
}

/// The object of a record's fields: each by its kind, the optional ones also null (absent: their default).
pub fn fields(generator: &mut SchemaGenerator, table: &[(&'static str, Kind)], description: &str) -> Schema {
    let mut properties = Map::new();
    let mut needed = Vec::new();
    for &(name, k) in table {
        let values = kind(generator, k);
        if required(k) {
            needed.push(name);
            properties.insert(name.to_owned(), values);
        } else {
            properties.insert(name.to_owned(), json!({"anyOf": [values, {"type": "null"}]}));
        }
    }
    json_schema!({"description": description, "type": "object", "properties": properties, "required": needed})
}

impl JsonSchema for Registration {
    fn schema_name() -> Cow<'static, str> {
        "Registration".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        fields(generator, registration::FIELDS, "A registration's fields, as a client sets them")
    }
}

impl JsonSchema for FunctionTicket {
    fn schema_name() -> Cow<'static, str> {
        "FunctionTicket".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        fields(generator, function_ticket::FIELDS, "A function ticket's fields, as a client sets them")
    }
}

/// `limit`, `cursor` and `fields` of a list whose items have the members `names`.
pub fn page(names: &[&str], default_limit: Option<usize>) -> Map<String, Value> {
    let limit = match default_limit {
        Some(n) => format!("Most items in the page ({n} when absent)"),
        None => "Most items in the page (every item when absent)".to_owned(),
    };
    let Value::Object(members) = json!({
        "limit": {"description": limit, "type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
        "cursor": {"description": "The previous page's nextCursor", "type": "string", "minLength": 1,
                   "maxLength": 1024},
        "fields": {"description": "The members each item keeps (and its id)", "type": "array",
                   "items": {"type": "string", "enum": names}, "maxItems": MAX_LIST_VALUES},
    }) else {
        unreachable!("an object literal")
    };
    members
}

/// The params of `registration.search`, made from its tables of filters.
pub enum RegistrationSearch {}

impl JsonSchema for RegistrationSearch {
    fn schema_name() -> Cow<'static, str> {
        "RegistrationSearch".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut properties = Map::new();
        let list = |items: Value| json!({"type": "array", "items": items, "minItems": 1, "maxItems": MAX_LIST_VALUES});
        properties.insert("ids".into(), list(json!({"type": "string", "pattern": REFERENCE})));
        properties.insert("eventId".into(), json!({"type": "string", "pattern": REFERENCE}));
        for key in registration::CONTAINS {
            let text = json!({"description": "Contained in the member, in any case", "type": "string",
                              "minLength": 1, "maxLength": 200});
            properties.insert(key.member().into(), text);
        }
        for &(key, k) in registration::ANY_OF {
            let one = kind(generator, k);
            let any = json!({"description": "Any of these values (or this one)", "anyOf": [one.clone(), list(one)]});
            properties.insert(key.member().into(), any);
        }
        for &(key, bound) in registration::RANGES {
            let b = match bound {
                Bound::Time => generator.subschema_for::<Time>().to_value(),
                Bound::Money => generator.subschema_for::<Cents>().to_value(),
            };
            let range = json!({"description": "From and to, both included; either may be absent", "type": "object",
                               "properties": {"from": b, "to": b}, "additionalProperties": false});
            properties.insert(key.member().into(), range);
        }
        properties.extend(page(&registration::field_names(), Some(DEFAULT_LIMIT)));
        json_schema!({"type": "object", "properties": properties})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use schemars::generate::SchemaSettings;

    #[test]
    fn a_record_schema_names_every_field_and_requires_the_required_ones() {
        let mut generator = SchemaSettings::draft07().into_generator();
        let schema = Registration::json_schema(&mut generator).to_value();
        let properties = schema["properties"].as_object().expect("properties");
        assert_eq!(properties.len(), registration::FIELDS.len());
        assert_eq!(schema["required"], json!(["eventId", "name", "contactId", "typeId", "packageId"]));
        assert_eq!(properties["status"]["anyOf"][0]["enum"], json!(registration::STATUSES));
        let schema = FunctionTicket::json_schema(&mut generator).to_value();
        assert_eq!(schema["required"], json!(["name", "eventId", "functionId", "contactId", "status"]));
    }

    #[test]
    fn the_search_schema_has_every_filter() {
        let mut generator = SchemaSettings::draft07().into_generator();
        let schema = RegistrationSearch::json_schema(&mut generator).to_value();
        let properties = schema["properties"].as_object().expect("properties");
        for key in registration::CONTAINS
            .iter()
            .chain(registration::ANY_OF.iter().map(|(k, _)| k))
            .chain(registration::RANGES.iter().map(|(k, _)| k))
        {
            assert!(properties.contains_key(key.member()), "{}", key.member());
        }
        assert!(properties.contains_key("limit") && properties.contains_key("cursor"));
    }
}
