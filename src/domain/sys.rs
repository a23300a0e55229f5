//! The system fields every stored object carries.

use serde_json::{Map, Value};

use super::ids::ActorId;
use super::time::{self, Timestamp};
use crate::error::Conflict;

/// Who made and last changed an object, when, and how often it changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Sys {
    /// 1 on create, +1 on every change: the optimistic-concurrency check.
    pub version: i64,
    pub created_at: Timestamp,
    pub last_modified_at: Timestamp,
    /// The token that made the object.
    pub created_by: ActorId,
    /// The token that last changed it.
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

    /// A stored record as the API shows it: its server-made members first, then its fields, then the sys fields.
    pub fn record_json(&self, made: &[(&str, Value)], fields: &Map<String, Value>) -> Map<String, Value> {
        let mut out = Map::with_capacity(made.len() + fields.len() + 5);
        for (k, v) in made {
            out.insert((*k).to_owned(), v.clone());
        }
        out.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
        self.write_to(&mut out);
        out
    }

    /// Writes what [`Sys::record_json`] makes as JSON text, without building a map; only the members `keep` allows.
    pub fn write_record_json<'a>(
        &self,
        out: &mut Vec<u8>,
        made: &[(&str, Value)],
        fields: impl IntoIterator<Item = (&'a str, &'a Value)>,
        keep: &dyn Fn(&str) -> bool,
    ) {
        let mut object = ObjectWriter::open(out, keep);
        for (k, v) in made {
            object.member(k, v);
        }
        for (k, v) in fields {
            object.member(k, v);
        }
        object.member("sysVersion", &self.version);
        object.member("sysCreatedAt", &time::format(&self.created_at));
        object.member("sysLastModifiedAt", &time::format(&self.last_modified_at));
        object.member("sysCreatedById", &self.created_by);
        object.member("sysLastModifiedById", &self.last_modified_by);
        object.close();
    }

    /// Adds the fields to a JSON object.
    pub fn write_to(&self, out: &mut Map<String, Value>) {
        out.insert("sysVersion".into(), self.version.into());
        out.insert("sysCreatedAt".into(), time::format(&self.created_at).into());
        out.insert("sysLastModifiedAt".into(), time::format(&self.last_modified_at).into());
        out.insert("sysCreatedById".into(), self.created_by.as_str().into());
        out.insert("sysLastModifiedById".into(), self.last_modified_by.as_str().into());
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

/// Writes a JSON object member by member into a buffer, leaving out the members `keep` refuses.
struct ObjectWriter<'a> {
    out: &'a mut Vec<u8>,
    keep: &'a dyn Fn(&str) -> bool,
    empty: bool,
}

impl<'a> ObjectWriter<'a> {
    fn open(out: &'a mut Vec<u8>, keep: &'a dyn Fn(&str) -> bool) -> Self {
        out.push(b'{');
        ObjectWriter { out, keep, empty: true }
    }

    fn member(&mut self, name: &str, value: &impl serde::Serialize) {
        if !(self.keep)(name) {
            return;
        }
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        // Writing into a Vec cannot fail, and a name or a JSON value always serializes.
        let _ = serde_json::to_writer(&mut *self.out, name);
        self.out.push(b':');
        let _ = serde_json::to_writer(&mut *self.out, value);
    }

    fn close(self) {
        self.out.push(b'}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_text_writer_writes_what_the_map_holds() {
        let sys = Sys::new(&crate::domain::ids::ActorId::new("token-1"));
        let fields: Map<String, Value> =
            serde_json::from_value(json!({"name": "Ada \"A\"", "tags": ["x"], "n": 1.5, "none": null})).unwrap();
        let made = [("id", json!("r-1")), ("number", json!(7))];
        let mut out = Vec::new();
        sys.write_record_json(&mut out, &made, fields.iter().map(|(k, v)| (k.as_str(), v)), &|_| true);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, serde_json::to_string(&sys.record_json(&made, &fields)).unwrap());
        let mut trimmed = Vec::new();
        let members = fields.iter().map(|(k, v)| (k.as_str(), v));
        sys.write_record_json(&mut trimmed, &made, members, &|k| k == "id" || k == "tags");
        assert_eq!(String::from_utf8(trimmed).unwrap(), r#"{"id":"r-1","tags":["x"]}"#);
    }
}
