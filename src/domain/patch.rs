//! JSON Patch (RFC 6902) on a record as the client sees it, with the members the server owns kept out of reach.

use serde_json::Value;

use super::input;
use super::record::MAX_RECORD_BYTES;
use crate::error::{Conflict, Error, FieldError};

/// Most operations one patch document may hold.
pub const MAX_OPERATIONS: usize = 1000;

/// Reads a patch document: an array of at most [`MAX_OPERATIONS`] RFC 6902 operations.
pub fn parse(value: &Value) -> Result<Vec<json_patch::PatchOperation>, String> {
    let Some(operations) = value.as_array() else {
        return Err("must be an array of JSON Patch operations".into());
    };
    if operations.len() > MAX_OPERATIONS {
        return Err(format!("must have at most {MAX_OPERATIONS} operations"));
    }
    serde_json::from_value(value.clone()).map_err(|e| format!("is not a JSON Patch: {e}"))
}

/// Applies `operations` to a copy of `record`; `protected` members (top-level names) may not change.
///
/// A failed `test` is `-32009 testFailed`; an operation on a path that does not exist is `-32602`. Only `copy`
/// makes a document larger than the patch itself (each copy may double it), so the values a patch copies are held
/// to [`MAX_RECORD_BYTES`] in all: a record larger than that is refused anyway, and a patch never grows one without
/// bound on its way there.
pub fn apply(record: &Value, operations: &[json_patch::PatchOperation], protected: &[&str]) -> Result<Value, Error> {
    let mut patched = record.clone();
    let mut copied = 0;
    for (index, operation) in operations.iter().enumerate() {
        if let json_patch::PatchOperation::Copy(copy) = operation {
            copied += patched.pointer(copy.from.as_str()).map_or(0, input::json_len);
            if copied > MAX_RECORD_BYTES {
                return Err(Error::InvalidParams(vec![FieldError::new(
                    format!("patch[{index}]"),
                    format!("copies more than 256 KiB in all; a record holds at most {MAX_RECORD_BYTES} bytes"),
                )]));
            }
        }
        json_patch::patch_unsafe(&mut patched, std::slice::from_ref(operation)).map_err(|e| refused(index, e))?;
    }
    let changed: Vec<FieldError> = protected
        .iter()
        .filter(|name| record.get(**name) != patched.get(**name))
        .map(|name| FieldError::new(format!("patch: /{name}"), "is set by the server and cannot be patched"))
        .collect();
    if changed.is_empty() { Ok(patched) } else { Err(Error::InvalidParams(changed)) }
}

/// The error of the operation at `index` that could not be applied.
fn refused(index: usize, e: json_patch::PatchError) -> Error {
    match e.kind {
        json_patch::PatchErrorKind::TestFailed => {
            Conflict::TestFailed { operation: index, path: e.path.to_string() }.into()
        }
        kind => Error::InvalidParams(vec![FieldError::new(
            format!("patch[{index}]"),
            format!("cannot be applied at {}: {kind}", e.path),
        )]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn applies_every_operation() {
        let record = json!({"id": "r1", "a": 1, "b": [1, 2], "c": {"d": "x"}});
        let ops = parse(&json!([
            {"op": "test", "path": "/a", "value": 1},
            {"op": "replace", "path": "/a", "value": 2},
            {"op": "add", "path": "/b/-", "value": 3},
            {"op": "remove", "path": "/b/0"},
            {"op": "copy", "from": "/c/d", "path": "/e"},
            {"op": "move", "from": "/e", "path": "/f"}
        ]))
        .unwrap();
        let patched = apply(&record, &ops, &["id"]).unwrap();
        assert_eq!(patched, json!({"id": "r1", "a": 2, "b": [2, 3], "c": {"d": "x"}, "f": "x"}));
    }

    #[test]
    fn refuses_failed_tests_and_protected_members() {
        let record = json!({"id": "r1", "a": 1});
        let failed = apply(&record, &parse(&json!([{"op": "test", "path": "/a", "value": 9}])).unwrap(), &["id"]);
        assert!(matches!(failed, Err(Error::Conflict(Conflict::TestFailed { .. }))));
        let protected =
            apply(&record, &parse(&json!([{"op": "replace", "path": "/id", "value": "x"}])).unwrap(), &["id"]);
        assert!(matches!(protected, Err(Error::InvalidParams(_))));
        assert!(parse(&json!({"op": "add"})).is_err());
    }

    #[test]
    fn the_operation_that_fails_is_named_by_its_place() {
        let record = json!({"id": "r1", "a": 1});
        let ops = parse(&json!([{"op": "test", "path": "/a", "value": 1}, {"op": "remove", "path": "/b"}])).unwrap();
        let Err(Error::InvalidParams(errors)) = apply(&record, &ops, &["id"]) else { panic!("refused") };
        assert_eq!(errors[0].field, "patch[1]");
        let ops = parse(&json!([{"op": "add", "path": "/b", "value": 2}, {"op": "test", "path": "/a", "value": 2}]));
        let failed = apply(&record, &ops.unwrap(), &["id"]);
        assert!(matches!(failed, Err(Error::Conflict(Conflict::TestFailed { operation: 1, .. }))), "{failed:?}");
    }

    #[test]
    fn copies_cannot_grow_a_record_without_bound() {
        let record = json!({"id": "r1", "badge": {"line": "x".repeat(100)}});
        // Sixty copies of the badge into itself would make it 2^60 times larger.
        let doubling: Vec<Value> =
            (0..60).map(|i| json!({"op": "copy", "from": "/badge", "path": format!("/badge/k{i}")})).collect();
        let Err(Error::InvalidParams(errors)) = apply(&record, &parse(&json!(doubling)).unwrap(), &["id"]) else {
            panic!("refused")
        };
        assert!(errors[0].field.starts_with("patch[") && errors[0].message.contains("256 KiB"), "{errors:?}");
        let few = parse(&json!(doubling[..5])).unwrap();
        assert!(apply(&record, &few, &["id"]).is_ok(), "a few copies are fine");
        let too_long: Vec<Value> =
            (0..=MAX_OPERATIONS).map(|_| json!({"op": "test", "path": "/id", "value": "r1"})).collect();
        assert!(parse(&json!(too_long)).unwrap_err().contains("at most 1000"));
    }
}
