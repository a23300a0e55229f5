//! Records described by a table of fields: each field's name and [`Kind`] drive its validation and its default.
//! Registrations and function tickets are such records; each is a struct with a member per field of its table, in
//! the table's order (a test of each holds the two together), read from the canonical object [`read_fields`] makes.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::ids::{ProductId, RecordId};
use super::input::{self, Input, MAX_SAFE_INTEGER};
use super::money::Cents;
use super::time;
use crate::error::FieldError;

/// What a field holds and how it is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A required reference (`eventId`, `contactId`, …): `^[A-Za-z0-9_|:.-]{1,128}$`.
    RequiredRef,
    /// A required non-empty string.
    RequiredText,
    /// An optional reference.
    Ref,
    /// An optional string.
    Text,
    /// An optional e-mail address.
    Email,
    /// An optional timestamp.
    Time,
    /// An optional amount of money: a number ≥ 0 with at most 2 decimals, as prices are.
    Money,
    /// An optional integer that JSON holds exactly (within ±2^53 - 1).
    Integer,
    /// An optional boolean (false when absent).
    Bool,
    /// An optional object.
    Object,
    /// An array of objects, kept as given (empty when absent).
    Objects,
    /// An array of strings (empty when absent).
    Strings,
    /// One of the listed values.
    Enum(&'static [&'static str]),
    /// One of the listed values, required.
    RequiredEnum(&'static [&'static str]),
    /// A required id of the function-ticket kind: `^[A-Za-z0-9_-]{1,128}$`.
    RequiredId,
    /// An optional id of that kind.
    Id,
    /// The purchasable ticket held: a productId of the same network.
    Product,
}

/// Longest string accepted in a text field.
const MAX_TEXT: usize = 10_000;
/// Longest reference accepted.
const MAX_REF: usize = 128;
/// Most entries one array of a record (`sessions`, `ribbonIds`, ...) may hold.
pub const MAX_ENTRIES: usize = 1000;
/// Largest record: the JSON text of its fields, every field present, at most 256 KiB.
pub const MAX_RECORD_BYTES: usize = 256 * 1024;

/// Checks a reference: letters, digits and `_|:.-`, 1 to 128 characters.
pub fn reference(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= MAX_REF
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'|' | b':' | b'.' | b'-'));
    if ok { Ok(s.to_owned()) } else { Err("must match ^[A-Za-z0-9_|:.-]{1,128}$".into()) }
}

/// Checks an id as the function-ticket source requires: letters, digits, `_` and `-`, 1 to 128 characters.
pub fn strict_id(s: &str) -> Result<String, String> {
    let ok =
        !s.is_empty() && s.len() <= MAX_REF && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'));
    if ok { Ok(s.to_owned()) } else { Err("must match ^[A-Za-z0-9_-]{1,128}$".into()) }
}

pub fn email(s: &str) -> Result<String, String> {
    let (local, domain) = s.rsplit_once('@').ok_or("must be an e-mail address")?;
    let ok = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && s.len() <= 254
        && !s.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok { Ok(s.to_owned()) } else { Err("must be an e-mail address".into()) }
}

/// Checks and normalises one field's value (never null: absent fields are defaulted by the caller).
pub fn check(kind: Kind, v: &Value) -> Result<Value, String> {
    let as_str = || v.as_str().ok_or_else(|| "must be a string".to_owned());
    Ok(match kind {
        Kind::RequiredRef | Kind::Ref => Value::String(reference(as_str()?)?),
        Kind::RequiredText => Value::String(input::text(v, MAX_TEXT, false)?),
        Kind::Text => Value::String(input::text(v, MAX_TEXT, true)?),
        Kind::Email => Value::String(email(as_str()?)?),
        Kind::Product => Value::String(ProductId::parse(as_str()?)?.as_str().to_owned()),
        Kind::Time => Value::String(time::format(&time::parse(v)?)),
        // Written back as the price is, so an amount reads back exactly as it was stored.
        Kind::Money => Cents::parse(v)?.to_json(),
        Kind::Integer => Value::from(input::int_in(v, -MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)?),
        Kind::Bool => Value::Bool(v.as_bool().ok_or("must be true or false")?),
        Kind::Object => match v {
            Value::Object(_) => v.clone(),
            _ => return Err("must be an object".into()),
        },
        Kind::Objects => match v.as_array() {
            Some(items) if items.len() > MAX_ENTRIES => return Err(too_many_entries()),
            Some(items) if items.iter().all(Value::is_object) => v.clone(),
            _ => return Err("must be an array of objects".into()),
        },
        Kind::Strings if v.as_array().is_some_and(|items| items.len() > MAX_ENTRIES) => return Err(too_many_entries()),
        Kind::Strings => Value::Array(
            input::string_list(v, |s| input::text(&Value::String(s.to_owned()), MAX_TEXT, false))?
                .into_iter()
                .map(Value::String)
                .collect(),
        ),
        Kind::RequiredId | Kind::Id => Value::String(strict_id(as_str()?)?),
        Kind::Enum(values) | Kind::RequiredEnum(values) => {
            let s = as_str()?;
            if values.contains(&s) {
                Value::String(s.to_owned())
            } else {
                return Err(format!("must be one of: {}", values.join(", ")));
            }
        }
    })
}

pub fn too_many_entries() -> String {
    format!("must have at most {MAX_ENTRIES} entries")
}

/// The value of an absent field.
pub fn default(name: &str, kind: Kind) -> Value {
    match kind {
        Kind::Bool => Value::Bool(false),
        Kind::Objects | Kind::Strings => Value::Array(Vec::new()),
        Kind::Enum(_) if name == "status" => Value::String("active".into()),
        _ => Value::Null,
    }
}

/// A record read from a request: the record, the `id` it names (if any: refused on create, naming the record on
/// update), and the `sysVersion` it expects (if any).
pub struct RecordInput<T> {
    pub record: T,
    pub id: Option<RecordId<T>>,
    pub expected_version: Option<i64>,
}

/// Reads every field of `fields` from `input` into a canonical object (every field present, in table order), and
/// holds the whole to [`MAX_RECORD_BYTES`].
pub fn read_fields(input: &mut Input<'_>, fields: &[(&'static str, Kind)]) -> Map<String, Value> {
    let mut out = Map::new();
    for &(name, kind) in fields {
        let required =
            matches!(kind, Kind::RequiredRef | Kind::RequiredText | Kind::RequiredId | Kind::RequiredEnum(_));
        let checked =
            if required { input.required(name, |v| check(kind, v)) } else { input.optional(name, |v| check(kind, v)) };
        out.insert(name.to_owned(), checked.unwrap_or_else(|| default(name, kind)));
    }
    let size = input::json_len(&out);
    if size > MAX_RECORD_BYTES {
        input.fail_whole(format!("must be at most 256 KiB ({MAX_RECORD_BYTES} bytes) of JSON; it is {size} bytes"));
    }
    out
}

/// A record read as its struct, from the canonical object [`read_fields`] made of it; `path` names the record if
/// the object does not fit the struct (it always does: the struct has a member of the right type for each field of
/// the table, which a test of each record holds to).
pub fn typed<T: DeserializeOwned>(path: &str, fields: Map<String, Value>) -> Result<T, Vec<FieldError>> {
    serde_json::from_value(Value::Object(fields)).map_err(|e| vec![FieldError::new(path, e.to_string())])
}

/// A serialized struct as a JSON object: a record, or what shows one.
///
/// Records hold strings, numbers, booleans, timestamps and JSON values, which always serialize, and a struct
/// serializes to an object; anything else is a mistake in this crate, not something input can reach.
pub fn to_object(record: &impl Serialize) -> Map<String, Value> {
    match serde_json::to_value(record) {
        Ok(Value::Object(members)) => members,
        _ => unreachable!("a record serializes to a JSON object"),
    }
}

/// The fields worth storing: those of a record's members (`fields`, a record's struct serialized, which lists its
/// members in table order: each record's tests hold the two to the same order) that differ from their default.
/// Absent ones are defaulted when read (the record's struct defaults each as [`default`] does).
pub fn compact(fields: Map<String, Value>, table: &[(&'static str, Kind)]) -> Map<String, Value> {
    fields
        .into_iter()
        .zip(table)
        .filter(|((name, value), (field, kind))| {
            debug_assert_eq!(name, field, "a record's members in table order");
            *value != default(field, *kind)
        })
        .map(|(member, _)| member)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compact_keeps_what_differs_from_its_default() {
        let table = &[
            ("name", Kind::RequiredText),
            ("status", Kind::Enum(&["active", "draft"])),
            ("tags", Kind::Strings),
            ("vip", Kind::Bool),
            ("city", Kind::Text),
        ];
        let object = |v: Value| -> Map<String, Value> { serde_json::from_value(v).unwrap() };
        let full = object(json!({"name": "Ada", "status": "active", "tags": [], "vip": false, "city": null}));
        assert_eq!(Value::Object(compact(full, table)), json!({"name": "Ada"}));
        let changed = object(json!({"name": "Ada", "status": "draft", "tags": ["x"], "vip": true, "city": "Rome"}));
        assert_eq!(compact(changed.clone(), table), changed);
    }
}
