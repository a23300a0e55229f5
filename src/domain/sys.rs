//! The system fields every stored object carries, and how a stored record is shown with them.

use serde::Serialize;
use serde_json::{Map, Value};

use super::ids::ActorId;
use super::record;
use super::time::{self, Timestamp};
use crate::error::Conflict;

/// Who made and last changed an object, when, and how often it changed; serialized as the five `sys*` members
/// answers show.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Sys {
    /// 1 on create, +1 on every change: the optimistic-concurrency check.
    #[serde(rename = "sysVersion")]
    pub version: i64,
    #[serde(rename = "sysCreatedAt", serialize_with = "time::serialize")]
    #[schemars(with = "super::schema::Time")]
    pub created_at: Timestamp,
    #[serde(rename = "sysLastModifiedAt", serialize_with = "time::serialize")]
    #[schemars(with = "super::schema::Time")]
    pub last_modified_at: Timestamp,
    /// The token that made the object.
    #[serde(rename = "sysCreatedById")]
    pub created_by: ActorId,
    /// The token that last changed it.
    #[serde(rename = "sysLastModifiedById")]
    pub last_modified_by: ActorId,
}

impl Sys {
    /// The fields of a new object made now by `actor`.
    pub fn new(actor: &ActorId) -> Sys {
        let now = time::now();
        Sys {
            version: 1,
            created_at: now,
            last_modified_at: now,
            created_by: actor.clone(),
            last_modified_by: actor.clone(),
        }
    }

    /// The fields after a change made now by `actor`.
    pub fn changed(&self, actor: &ActorId) -> Sys {
        Sys {
            version: self.version + 1,
            created_at: self.created_at,
            last_modified_at: time::now(),
            created_by: self.created_by.clone(),
            last_modified_by: actor.clone(),
        }
    }

    /// Adds the fields to a JSON object.
    pub fn write_to(&self, out: &mut Map<String, Value>) {
        out.extend(record::to_object(self));
    }
}

/// The rule of optimistic concurrency: a change that names the version it was made from (`sysVersion`) applies
/// only to that version.
pub fn check_version(expected: Option<i64>, current: i64) -> Result<(), Conflict> {
    match expected {
        Some(expected) if expected != current => Err(Conflict::StaleVersion { expected, current }),
        _ => Ok(()),
    }
}

/// A stored record as the API shows it: its server-made members first (`id`, and a registration's `number`), then
/// its fields in the order of their table, then the sys fields.
#[derive(Serialize)]
pub struct Shown<'a, M, F> {
    /// The server-made members, as a struct of their own.
    #[serde(flatten)]
    pub made: M,
    #[serde(flatten)]
    pub fields: &'a F,
    #[serde(flatten)]
    pub sys: &'a Sys,
}

impl<M: Serialize, F: Serialize> Shown<'_, M, F> {
    /// The record as a JSON object.
    pub fn to_json(&self) -> Map<String, Value> {
        record::to_object(self)
    }

    /// [`Shown::to_json`] as text; only the members `keep` allows, when it is given.
    ///
    /// Without `keep` (no `fields` asked for, as in most list calls) the text is written straight from the typed
    /// record, without building a JSON object for it.
    pub fn write_json(&self, out: &mut Vec<u8>, keep: Option<&dyn Fn(&str) -> bool>) {
        // Writing into a Vec cannot fail, and a record always serializes.
        let _ = match keep {
            None => serde_json::to_writer(out, self),
            Some(keep) => {
                let kept: Map<String, Value> = self.to_json().into_iter().filter(|(name, _)| keep(name)).collect();
                serde_json::to_writer(out, &kept)
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Serialize)]
    struct Made<'a> {
        id: &'a str,
        number: i64,
    }

    #[derive(Serialize)]
    struct Fields {
        name: &'static str,
        tags: Vec<&'static str>,
        n: f64,
        none: Option<i64>,
    }

    #[test]
    fn a_record_is_shown_made_members_fields_then_sys() {
        let sys = Sys::new(&ActorId::new("token-1"));
        let fields = Fields { name: "Ada \"A\"", tags: vec!["x"], n: 1.5, none: None };
        let shown = Shown { made: Made { id: "r-1", number: 7 }, fields: &fields, sys: &sys };
        let at = time::format(&sys.created_at);
        let expected = json!({"id": "r-1", "number": 7, "name": "Ada \"A\"", "tags": ["x"], "n": 1.5, "none": null,
            "sysVersion": 1, "sysCreatedAt": at, "sysLastModifiedAt": at, "sysCreatedById": "token-1",
            "sysLastModifiedById": "token-1"});
        assert_eq!(Value::Object(shown.to_json()), expected);
        let mut text = Vec::new();
        shown.write_json(&mut text, None);
        assert_eq!(String::from_utf8(text).unwrap(), expected.to_string(), "the same text, in the same order");
        let mut trimmed = Vec::new();
        shown.write_json(&mut trimmed, Some(&|k| k == "id" || k == "tags"));
        assert_eq!(String::from_utf8(trimmed).unwrap(), r#"{"id":"r-1","tags":["x"]}"#);
        let mut members = Map::new();
        sys.write_to(&mut members);
        assert!(members.keys().eq(expected.as_object().unwrap().keys().skip(6)), "a ticket's sys members alike");
    }
}
