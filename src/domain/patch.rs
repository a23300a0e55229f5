//! JSON Patch (RFC 6902) on a record as the client sees it, with the members the server owns kept out of reach.

use serde_json::Value;

use crate::error::{ConflictReason, Error, FieldError};

/// Reads a patch document: an array of RFC 6902 operations.
pub fn parse(value: &Value) -> Result<Vec<json_patch::PatchOperation>, String> {
    if !value.is_array() {
        return Err("must be an array of JSON Patch operations".into());
    }
    serde_json::from_value(value.clone()).map_err(|e| format!("is not a JSON Patch: {e}"))
}

/// Applies `operations` to a copy of `record`; `protected` members (top-level names) may not change.
///
/// A failed `test` is `-32009 testFailed`; an operation on a path that does not exist is `-32602`.
pub fn apply(record: &Value, operations: &[json_patch::PatchOperation], protected: &[&str]) -> Result<Value, Error> {
    let mut patched = record.clone();
    if let Err(e) = json_patch::patch_unsafe(&mut patched, operations) {
        return Err(match e.kind {
            json_patch::PatchErrorKind::TestFailed => Error::conflict(
                ConflictReason::TestFailed,
                format!("test operation {} failed at {}", e.operation, e.path),
                serde_json::json!({ "operation": e.operation, "path": e.path.to_string() }),
            ),
            kind => Error::InvalidParams(vec![FieldError::new(
                format!("patch[{}]", e.operation),
                format!("cannot be applied at {}: {kind}", e.path),
            )]),
        });
    }
    let changed: Vec<FieldError> = protected
        .iter()
        .filter(|name| record.get(**name) != patched.get(**name))
        .map(|name| FieldError::new(format!("patch: /{name}"), "is set by the server and cannot be patched"))
        .collect();
    if changed.is_empty() { Ok(patched) } else { Err(Error::InvalidParams(changed)) }
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
        assert!(matches!(failed, Err(Error::Conflict { reason: ConflictReason::TestFailed, .. })));
        let protected =
            apply(&record, &parse(&json!([{"op": "replace", "path": "/id", "value": "x"}])).unwrap(), &["id"]);
        assert!(matches!(protected, Err(Error::InvalidParams(_))));
        assert!(parse(&json!({"op": "add"})).is_err());
    }
}
