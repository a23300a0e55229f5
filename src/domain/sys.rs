//! The system fields every stored object carries.

use serde_json::{Map, Value};

use super::time::{self, Timestamp};

/// Who made and last changed an object, when, and how often it changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Sys {
    /// 1 on create, +1 on every change: the optimistic-concurrency check.
    pub version: i64,
    pub created_at: Timestamp,
    pub last_modified_at: Timestamp,
    /// The id of the token that made the object.
    pub created_by: String,
    /// The id of the token that last changed it.
    pub last_modified_by: String,
}

impl Sys {
    /// The fields of a new object made now by `actor`.
    pub fn new(actor: &str) -> Sys {
        let now = time::now();
        Sys {
            version: 1,
            created_at: now,
            last_modified_at: now,
            created_by: actor.to_owned(),
            last_modified_by: actor.to_owned(),
        }
    }

    /// The fields after a change made now by `actor`.
    pub fn changed(&self, actor: &str) -> Sys {
        Sys {
            version: self.version + 1,
            created_at: self.created_at,
            last_modified_at: time::now(),
            created_by: self.created_by.clone(),
            last_modified_by: actor.to_owned(),
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

    /// Adds the fields to a JSON object.
    pub fn write_to(&self, out: &mut Map<String, Value>) {
        out.insert("sysVersion".into(), self.version.into());
        out.insert("sysCreatedAt".into(), time::format(&self.created_at).into());
        out.insert("sysLastModifiedAt".into(), time::format(&self.last_modified_at).into());
        out.insert("sysCreatedById".into(), self.created_by.clone().into());
        out.insert("sysLastModifiedById".into(), self.last_modified_by.clone().into());
    }
}
