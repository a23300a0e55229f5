//! A reader over a JSON object that validates member by member and collects every problem.
//!
//! Each accessor marks its member as known; [`Input::finish`] then refuses the members nobody asked for, except the
//! read-only ones a client may send back unchanged (the `sys*` fields, `sold`), which are accepted and ignored.

use crate::error::FieldError;
use serde_json::{Map, Value};

use super::MAX_LIST_VALUES;
use super::time::{self, Timestamp};

/// The largest value a problem echoes back, as JSON text: a refused 40,000-value list is not sent back whole.
const MAX_ECHO_BYTES: usize = 4096;

/// A value as a problem echoes it: small values whole, larger ones not at all.
pub fn echo(value: &Value) -> Option<Value> {
    (json_len(value) <= MAX_ECHO_BYTES).then(|| value.clone())
}

/// The length of JSON text, counted as it is written instead of kept.
struct ByteCount(usize);

impl std::io::Write for ByteCount {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The length of a value's JSON text, in bytes.
pub fn json_len(value: &impl serde::Serialize) -> usize {
    let mut size = ByteCount(0);
    // Counting never fails, and a JSON value always serializes.
    let _ = serde_json::to_writer(&mut size, value);
    size.0
}

/// Read-only members a client may echo back; they are ignored on input.
pub const READ_ONLY: &[&str] =
    &["sysVersion", "sysCreatedAt", "sysLastModifiedAt", "sysCreatedById", "sysLastModifiedById", "sold"];

/// A validating reader over one JSON object.
pub struct Input<'a> {
    /// Path of the object itself (`ticket`), prefixed to member names in errors.
    prefix: String,
    map: &'a Map<String, Value>,
    known: Vec<&'static str>,
    /// Every problem found so far.
    pub errors: Vec<FieldError>,
}

impl<'a> Input<'a> {
    /// A reader for `value`, which must be an object; `prefix` names it in errors (empty for the params themselves).
    pub fn new(prefix: &str, value: &'a Value) -> Result<Input<'a>, FieldError> {
        match value {
            Value::Object(map) => Ok(Input { prefix: prefix.to_owned(), map, known: Vec::new(), errors: Vec::new() }),
            other => Err(FieldError::with_value(display_path(prefix), "must be an object", other)),
        }
    }

    /// The dotted path of a member, for error messages.
    pub fn path(&self, name: &str) -> String {
        if self.prefix.is_empty() { name.to_owned() } else { format!("{}.{}", self.prefix, name) }
    }

    /// Records a problem with a member, echoing its value when that is small.
    pub fn fail(&mut self, name: &str, message: impl Into<String>) {
        let value = self.map.get(name).and_then(echo);
        self.errors.push(FieldError { field: self.path(name), message: message.into(), value });
    }

    /// Records a problem with the object as a whole (its size, say), named by its own path.
    pub fn fail_whole(&mut self, message: impl Into<String>) {
        self.errors.push(FieldError::new(display_path(&self.prefix), message));
    }

    /// The raw value of a member (null counts as absent), marking it known.
    pub fn raw(&mut self, name: &'static str) -> Option<&'a Value> {
        self.known.push(name);
        self.map.get(name).filter(|v| !v.is_null())
    }

    /// Whether the member was sent at all (even as null).
    pub fn has(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    /// A required member, converted by `parse`.
    pub fn required<T>(&mut self, name: &'static str, parse: impl FnOnce(&Value) -> Result<T, String>) -> Option<T> {
        match self.raw(name) {
            None => {
                self.fail(name, "is required");
                None
            }
            Some(v) => self.convert(name, v, parse),
        }
    }

    /// An optional member, converted by `parse`; `None` when absent or invalid (the problem is recorded).
    pub fn optional<T>(&mut self, name: &'static str, parse: impl FnOnce(&Value) -> Result<T, String>) -> Option<T> {
        let v = self.raw(name)?;
        self.convert(name, v, parse)
    }

    fn convert<T>(&mut self, name: &str, v: &Value, parse: impl FnOnce(&Value) -> Result<T, String>) -> Option<T> {
        match parse(v) {
            Ok(t) => Some(t),
            Err(message) => {
                self.fail(name, message);
                None
            }
        }
    }

    /// A required string that is not empty, at most `max` characters.
    pub fn required_text(&mut self, name: &'static str, max: usize) -> Option<String> {
        self.required(name, |v| text(v, max, false))
    }

    /// An optional string, `""` when absent, at most `max` characters.
    pub fn optional_text(&mut self, name: &'static str, max: usize) -> String {
        self.optional(name, |v| text(v, max, true)).unwrap_or_default()
    }

    /// A required timestamp.
    pub fn required_time(&mut self, name: &'static str) -> Option<Timestamp> {
        self.required(name, time::parse)
    }

    /// An optional timestamp.
    pub fn optional_time(&mut self, name: &'static str) -> Option<Timestamp> {
        self.optional(name, time::parse)
    }

    /// An optional boolean.
    pub fn optional_bool(&mut self, name: &'static str) -> Option<bool> {
        self.optional(name, |v| v.as_bool().ok_or_else(|| "must be true or false".to_owned()))
    }

    /// An optional integer within `min..=max`.
    pub fn optional_int(&mut self, name: &'static str, min: i64, max: i64) -> Option<i64> {
        self.optional(name, |v| int_in(v, min, max))
    }

    /// A list of at most [`MAX_LIST_VALUES`] strings, each checked by `item`; every bad item is its own problem
    /// (`name[i]`).
    pub fn strings<T>(
        &mut self,
        name: &'static str,
        required: bool,
        item: impl Fn(&str) -> Result<T, String>,
    ) -> Option<Vec<T>> {
        let Some(value) = self.raw(name) else {
            if required {
                self.fail(name, "is required");
            }
            return None;
        };
        let Some(list) = value.as_array() else {
            self.fail(name, "must be an array of strings");
            return None;
        };
        if list.len() > MAX_LIST_VALUES {
            self.fail(name, too_many_values());
            return None;
        }
        let mut out = Vec::with_capacity(list.len());
        let mut valid = true;
        for (i, entry) in list.iter().enumerate() {
            match entry.as_str().ok_or_else(|| "must be a string".to_owned()).and_then(&item) {
                Ok(t) => out.push(t),
                Err(message) => {
                    valid = false;
                    let field = format!("{}[{i}]", self.path(name));
                    self.errors.push(FieldError { field, message, value: echo(entry) });
                }
            }
        }
        valid.then_some(out)
    }

    /// Marks members as known without reading them (read elsewhere, or accepted and ignored).
    pub fn accept(&mut self, names: &[&'static str]) {
        self.known.extend_from_slice(names);
    }

    /// Ends reading: unknown members become problems; all problems are returned, or none.
    pub fn finish(mut self) -> Result<(), Vec<FieldError>> {
        let unknown: Vec<String> = self
            .map
            .keys()
            .filter(|k| !self.known.contains(&k.as_str()) && !READ_ONLY.contains(&k.as_str()))
            .cloned()
            .collect();
        for name in unknown {
            self.fail(&name, "is not a known field");
        }
        if self.errors.is_empty() { Ok(()) } else { Err(self.errors) }
    }
}

/// The problem of a list filter with too many values.
pub fn too_many_values() -> String {
    format!("must have at most {MAX_LIST_VALUES} values")
}

fn display_path(prefix: &str) -> String {
    if prefix.is_empty() { "params".to_owned() } else { prefix.to_owned() }
}

/// A string to be kept, of at most `max` characters; empty allowed only when `allow_empty`. Never with a NUL
/// character: no store keeps one in a text column (PostgreSQL refuses it), and no client means one.
pub fn text(v: &Value, max: usize, allow_empty: bool) -> Result<String, String> {
    let s = filter_text(v, max, allow_empty)?;
    if s.contains('\0') {
        return Err("must not contain the NUL character (\\u0000)".into());
    }
    Ok(s)
}

/// A string to search by, of at most `max` characters, any characters included; empty allowed only when
/// `allow_empty`.
pub fn filter_text(v: &Value, max: usize, allow_empty: bool) -> Result<String, String> {
    let s = v.as_str().ok_or("must be a string")?;
    if !allow_empty && s.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if s.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    Ok(s.to_owned())
}

/// The largest integer a JSON number holds exactly in every client: 2^53 - 1 (`Number.MAX_SAFE_INTEGER`). Beyond
/// it, a parser that reads numbers as doubles (JavaScript, and serde_json past `i64`) rounds what it reads.
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// An integer within `min..=max`, and never beyond ±[`MAX_SAFE_INTEGER`], whatever the bounds asked for.
///
/// A number written with a fraction, or with a decimal point or an exponent, is not an integer; a whole number too
/// large for one is out of range.
pub fn int_in(v: &Value, min: i64, max: i64) -> Result<i64, String> {
    let (min, max) = (min.max(-MAX_SAFE_INTEGER), max.min(MAX_SAFE_INTEGER));
    let Value::Number(n) = v else { return Err("must be an integer".into()) };
    let whole = match n.as_i64() {
        Some(n) => n as f64,
        None => n.as_f64().filter(|f| f.fract() == 0.0).unwrap_or(f64::NAN),
    };
    if whole < min as f64 {
        return Err(format!("must be at least {min}"));
    }
    if whole > max as f64 {
        return Err(format!("must be at most {max}"));
    }
    n.as_i64().ok_or_else(|| "must be an integer".into())
}

/// An array of strings, each checked by `item`.
pub fn string_list<T>(v: &Value, item: impl Fn(&str) -> Result<T, String>) -> Result<Vec<T>, String> {
    let list = v.as_array().ok_or("must be an array of strings")?;
    list.iter()
        .enumerate()
        .map(|(i, e)| {
            let s = e.as_str().ok_or_else(|| format!("item {i} must be a string"))?;
            item(s).map_err(|m| format!("item {i} {m}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn collects_every_problem_and_refuses_unknown_members() {
        let v = json!({"name": "", "count": "x", "extra": 1, "sysVersion": 3});
        let mut input = Input::new("thing", &v).unwrap();
        assert_eq!(input.required_text("name", 10), None);
        assert_eq!(input.optional_int("count", 0, 5), None);
        assert_eq!(input.required_time("when"), None);
        let errors = input.finish().unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["thing.name", "thing.count", "thing.when", "thing.extra"]);
    }

    #[test]
    fn every_bad_item_of_a_list_is_its_own_problem() {
        let v = json!({"ids": ["ok", 3, "", "fine"]});
        let mut input = Input::new("q", &v).unwrap();
        let ids = input
            .strings("ids", true, |s| if s.is_empty() { Err("must not be empty".into()) } else { Ok(s.to_owned()) });
        assert_eq!(ids, None);
        let fields: Vec<_> = input.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["q.ids[1]", "q.ids[2]"]);
    }

    #[test]
    fn integers_are_exact_and_within_their_bounds() {
        let huge: Value = serde_json::from_str("123456789012345678901234567890").unwrap();
        let any = |v: &Value| int_in(v, i64::MIN, i64::MAX);
        assert_eq!(any(&json!(MAX_SAFE_INTEGER)), Ok(MAX_SAFE_INTEGER));
        assert_eq!(any(&json!(-MAX_SAFE_INTEGER)), Ok(-MAX_SAFE_INTEGER));
        for (bad, message) in [
            (json!(MAX_SAFE_INTEGER + 1), "must be at most 9007199254740991"),
            (json!(u64::MAX), "must be at most 9007199254740991"),
            (huge, "must be at most 9007199254740991"),
            (json!(1e300), "must be at most 9007199254740991"),
            (json!(-1e300), "must be at least -9007199254740991"),
            (json!(1.5), "must be an integer"),
            (json!(2.0), "must be an integer"),
            (json!("2"), "must be an integer"),
        ] {
            assert_eq!(any(&bad).unwrap_err(), message, "{bad}");
        }
        assert_eq!(int_in(&json!(6), 0, 5).unwrap_err(), "must be at most 5");
        assert_eq!(int_in(&json!(-1), 0, 5).unwrap_err(), "must be at least 0");
        assert_eq!(int_in(&json!(1e3), 0, 5).unwrap_err(), "must be at most 5");
    }

    #[test]
    fn text_with_a_nul_character_is_refused() {
        assert_eq!(text(&json!("a\0b"), 10, false), Err("must not contain the NUL character (\\u0000)".into()));
        assert_eq!(text(&json!("a\u{1}b"), 10, false), Ok("a\u{1}b".into()));
        assert_eq!(filter_text(&json!("a\0b"), 10, false), Ok("a\0b".into()), "a filter may hold any characters");
    }

    #[test]
    fn null_counts_as_absent() {
        let v = json!({"note": null});
        let mut input = Input::new("", &v).unwrap();
        assert_eq!(input.optional_text("note", 10), "");
        assert!(input.finish().is_ok());
    }
}
