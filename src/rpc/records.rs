//! The methods every record resource has (registrations, function tickets): create, get, update, patch, delete and
//! batch, written once over the [`Records`] trait.

use futures_util::future::join_all;
use jsonrpsee::RpcModule;
use jsonrpsee::types::ErrorObjectOwned;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use std::io::Write as _;

use super::cursor;
use super::{Ctx, params};
use crate::auth::NetworkScope;
use crate::domain::ids::RecordId;
use crate::domain::input::{Input, MAX_SAFE_INTEGER};
use crate::domain::record::{RecordInput, reference};
use crate::domain::{DEFAULT_LIMIT, Page, patch};
use crate::error::{Error, FieldError, Result};
use crate::store::{self, Found, RecordKind, Store, Window};

/// Most operations one batch may hold.
pub const MAX_BATCH_OPERATIONS: usize = 100;

/// Members a patch may not change: the server makes them.
const PROTECTED: &[&str] =
    &["id", "number", "sysVersion", "sysCreatedAt", "sysLastModifiedAt", "sysCreatedById", "sysLastModifiedById"];

/// The method names of a resource.
pub struct Names {
    pub create: &'static str,
    pub get: &'static str,
    pub update: &'static str,
    pub patch: &'static str,
    pub delete: &'static str,
    pub batch: &'static str,
}

/// A record resource: its validation, its JSON, and its kind in the store.
pub trait Records: Send + Sync + 'static {
    /// The params member holding a record (`registration`), and the resource's name in batch results.
    const MEMBER: &'static str;
    /// What the store keeps them as.
    type Kind: RecordKind;
    fn parse(value: &Value) -> std::result::Result<RecordInput<Record<Self>>, Vec<FieldError>>;
    fn to_json(stored: &Stored<Self>) -> Map<String, Value>;
    /// `to_json` written as text; only the members `keep` allows, when it is given.
    fn write_json(stored: &Stored<Self>, out: &mut Vec<u8>, keep: Option<&dyn Fn(&str) -> bool>);
    fn field_names() -> Vec<&'static str>;
    /// The store's methods for this kind.
    fn table(store: &dyn Store) -> &dyn store::Records<Self::Kind>;
}

/// The record a resource's clients send.
pub type Record<R> = <<R as Records>::Kind as RecordKind>::Record;
/// The record as a resource's store keeps it.
pub type Stored<R> = <<R as Records>::Kind as RecordKind>::Stored;
/// A record's id.
pub type Id<R> = RecordId<Record<R>>;

/// Implements [`Records`] for a resource whose record has `from_json(path, value)` (a [`RecordInput`]) and whose
/// stored type has `to_json()` and `write_json(out, keep)`.
#[macro_export]
macro_rules! records {
    ($resource:ident, $member:literal, $kind:ty, $fields:path) => {
        impl $crate::rpc::records::Records for $resource {
            const MEMBER: &'static str = $member;
            type Kind = $kind;

            fn parse(
                value: &serde_json::Value,
            ) -> std::result::Result<
                $crate::domain::record::RecordInput<$crate::rpc::records::Record<Self>>,
                Vec<$crate::error::FieldError>,
            > {
                <$crate::rpc::records::Record<Self>>::from_json($member, value)
            }
            fn to_json(stored: &$crate::rpc::records::Stored<Self>) -> serde_json::Map<String, serde_json::Value> {
                stored.to_json()
            }
            fn write_json(
                stored: &$crate::rpc::records::Stored<Self>,
                out: &mut Vec<u8>,
                keep: Option<&dyn Fn(&str) -> bool>,
            ) {
                stored.write_json(out, keep)
            }
            fn field_names() -> Vec<&'static str> {
                $fields()
            }
            fn table(store: &dyn $crate::store::Store) -> &dyn $crate::store::Records<$kind> {
                store
            }
        }
    };
}

type Registered = std::result::Result<(), jsonrpsee::core::RegisterMethodError>;

/// Registers create, get, update, patch, delete and batch for `R`.
pub fn register<R: Records>(module: &mut RpcModule<Ctx>, names: &Names) -> Registered {
    module.register_async_method(names.create, |p, ctx, ext| async move {
        let scope = params::network(&ext)?;
        let parsed = record_param::<R>(&params::json(&p)?)?;
        if parsed.id.is_some() {
            return Err(Error::invalid(format!("{}.id", R::MEMBER), "is made by the server; leave it out on create"));
        }
        let created = R::table(ctx.store.as_ref()).create(&scope, parsed.record).await?;
        one::<R>(&created, None)
    })?;
    module.register_async_method(names.get, |p, ctx, ext| async move {
        let scope = params::network(&ext)?;
        let value = params::json(&p)?;
        let mut input = params::object(&value)?;
        let id = required_id::<Record<R>>(&mut input, "id");
        let page = Page::read(&mut input, &R::field_names(), None);
        params::finish(input, Vec::new())?;
        let id = id.ok_or_else(|| Error::invalid("id", "is required"))?;
        let found = R::table(ctx.store.as_ref()).get(&scope, &id).await?;
        let keep = page.trimming("id");
        one::<R>(&found, keep.as_ref().map(|keep| keep as _))
    })?;
    module.register_async_method(names.update, |p, ctx, ext| async move {
        let scope = params::network(&ext)?;
        let parsed = record_param::<R>(&params::json(&p)?)?;
        let id = parsed.id.ok_or_else(|| {
            Error::invalid(format!("{}.id", R::MEMBER), "is required: it names the record to replace")
        })?;
        let updated = R::table(ctx.store.as_ref()).replace(&scope, &id, parsed.record, parsed.expected_version).await?;
        one::<R>(&updated, None)
    })?;
    module.register_async_method(names.patch, |p, ctx, ext| async move {
        let scope = params::network(&ext)?;
        let value = params::json(&p)?;
        let mut input = params::object(&value)?;
        let operation = read_patch(&mut input);
        params::finish(input, Vec::new())?;
        let (id, ops, version) = operation.ok_or_else(|| Error::invalid("patch", "is required"))?;
        let patched = patch_record::<R>(&ctx, &scope, &id, ops, version).await?;
        one::<R>(&patched, None)
    })?;
    module.register_async_method(names.delete, |p, ctx, ext| async move {
        let scope = params::network(&ext)?;
        let id = id_param::<Record<R>>(&params::json(&p)?)?;
        R::table(ctx.store.as_ref()).delete(&scope, &id).await?;
        Ok::<_, Error>(json!({}))
    })?;
    module.register_async_method(names.batch, |p, ctx, ext| async move {
        let scope = params::network(&ext)?;
        let operations = batch_operations::<Record<R>>(&params::json(&p)?)?;
        // Each operation is a write of its own: they are group-committed together but succeed or fail alone.
        let results = join_all(operations.into_iter().map(|op| {
            let (ctx, scope) = (ctx.clone(), scope.clone());
            async move {
                match op {
                    Err(rejected) => {
                        let (id, e) = *rejected;
                        (id, Err(e))
                    }
                    Ok(BatchOp::Patch { id, ops, version }) => {
                        let outcome = patch_record::<R>(&ctx, &scope, &id, ops, version).await;
                        (Value::String(id.to_string()), outcome.map(|r| Some(R::to_json(&r))))
                    }
                    Ok(BatchOp::Delete { id }) => {
                        let outcome = R::table(ctx.store.as_ref()).delete(&scope, &id).await;
                        (Value::String(id.to_string()), outcome.map(|()| None))
                    }
                }
            }
        }))
        .await;
        Ok::<_, Error>(batch_report(results, R::MEMBER))
    })?;
    Ok(())
}

/// The answer holding one record, `{<member>: record}`, written straight from it (only the members `keep` allows,
/// when given).
fn one<R: Records>(stored: &Stored<R>, keep: Option<&dyn Fn(&str) -> bool>) -> Result<Box<RawValue>> {
    let mut out = Vec::with_capacity(2048);
    out.extend_from_slice(b"{");
    let _ = serde_json::to_writer(&mut out, R::MEMBER);
    out.push(b':');
    R::write_json(stored, &mut out, keep);
    out.push(b'}');
    raw(out)
}

/// Reads `{<member>}`.
fn record_param<R: Records>(value: &Value) -> Result<RecordInput<Record<R>>> {
    let mut input = params::object(value)?;
    let mut errors: Vec<FieldError> = Vec::new();
    let parsed = match input.raw(R::MEMBER) {
        None => {
            input.fail(R::MEMBER, "is required");
            None
        }
        Some(v) => R::parse(v).map_err(|e| errors.extend(e)).ok(),
    };
    params::finish(input, errors)?;
    parsed.ok_or_else(|| Error::invalid(R::MEMBER, "is required"))
}

/// A required member naming a record.
pub fn required_id<T>(input: &mut Input<'_>, name: &'static str) -> Option<RecordId<T>> {
    input.required(name, |v| RecordId::parse(v.as_str().ok_or("must be a string")?))
}

/// Reads params that are `{id}` and nothing else (besides the guard's `networkId`).
pub fn id_param<T>(value: &Value) -> Result<RecordId<T>> {
    let mut input = params::object(value)?;
    let id = required_id(&mut input, "id");
    params::finish(input, Vec::new())?;
    id.ok_or_else(|| Error::invalid("id", "is required"))
}

/// Reads `{id, patch, sysVersion?}`.
fn read_patch<T>(input: &mut Input<'_>) -> Option<(RecordId<T>, Vec<json_patch::PatchOperation>, Option<i64>)> {
    let id = required_id(input, "id");
    let ops = input.required("patch", patch::parse);
    let version = input.optional_int("sysVersion", 1, MAX_SAFE_INTEGER);
    Some((id?, ops?, version))
}

/// Applies a JSON Patch to a stored record and validates the result as a whole, in one write.
async fn patch_record<R: Records>(
    ctx: &Ctx,
    scope: &NetworkScope,
    id: &Id<R>,
    ops: Vec<json_patch::PatchOperation>,
    version: Option<i64>,
) -> Result<Stored<R>> {
    let change = Box::new(move |current: &Stored<R>| {
        let patched = patch::apply(&Value::Object(R::to_json(current)), &ops, PROTECTED)?;
        Ok(R::parse(&patched).map_err(Error::InvalidParams)?.record)
    });
    R::table(ctx.store.as_ref()).change(scope, id, version, change).await
}

/// An operation of a batch that could not be read: its id (as sent) and why.
type Rejected = Box<(Value, Error)>;

/// What one batch operation came to: its id, and the record it left (none after a delete) or its error.
type OpOutcome = (Value, Result<Option<Map<String, Value>>>);

/// One operation of a batch.
enum BatchOp<T> {
    Patch { id: RecordId<T>, ops: Vec<json_patch::PatchOperation>, version: Option<i64> },
    Delete { id: RecordId<T> },
}

/// Reads `{operations}`: each operation on its own (a malformed one becomes that operation's error).
fn batch_operations<T>(value: &Value) -> Result<Vec<std::result::Result<BatchOp<T>, Rejected>>> {
    let mut input = params::object(value)?;
    let operations = input.required("operations", |v| match v.as_array() {
        Some(list) if list.len() > MAX_BATCH_OPERATIONS => {
            Err(format!("must hold at most {MAX_BATCH_OPERATIONS} operations"))
        }
        Some(list) => Ok(list.clone()),
        None => Err("must be an array".into()),
    });
    params::finish(input, Vec::new())?;
    let operations = operations.ok_or_else(|| Error::invalid("operations", "is required"))?;
    Ok(operations.iter().enumerate().map(|(i, op)| batch_operation(i, op)).collect())
}

fn batch_operation<T>(index: usize, op: &Value) -> std::result::Result<BatchOp<T>, Rejected> {
    let id = op.get("id").cloned().unwrap_or(Value::Null);
    let fail = |errors: Vec<FieldError>| Box::new((id.clone(), Error::InvalidParams(errors)));
    let mut input = Input::new(&format!("operations[{index}]"), op).map_err(|e| fail(vec![e]))?;
    let kind = input.required("op", |v| match v.as_str() {
        Some("patch") => Ok(true),
        Some("delete") => Ok(false),
        _ => Err("must be 'patch' or 'delete'".to_owned()),
    });
    let parsed = match kind {
        Some(true) => read_patch(&mut input).map(|(id, ops, version)| BatchOp::Patch { id, ops, version }),
        Some(false) => required_id(&mut input, "id").map(|id| BatchOp::Delete { id }),
        None => None,
    };
    input.finish().map_err(fail)?;
    parsed.ok_or_else(|| fail(vec![FieldError::new(format!("operations[{index}]"), "is incomplete")]))
}

/// The answer of a batch: counts, and each operation's outcome in order.
fn batch_report(results: Vec<OpOutcome>, resource: &str) -> Value {
    let success = results.iter().filter(|(_, r)| r.is_ok()).count();
    let items: Vec<Value> = results
        .into_iter()
        .map(|(id, outcome)| match outcome {
            Ok(Some(record)) => json!({ "id": id, "ok": true, resource: record }),
            Ok(None) => json!({ "id": id, "ok": true }),
            Err(e) => json!({ "id": id, "ok": false, "error": ErrorObjectOwned::from(e) }),
        })
        .collect();
    json!({ "successCount": success, "errorCount": items.len() - success, "results": items })
}

/// A page of records as lists answer it: `{count, items, nextCursor}`, each item trimmed to `fields`, written as
/// text without building a JSON value per record (unless it is trimmed).
pub fn listing<R: Records>(found: Found<Stored<R>>, page: &Page) -> Result<Box<RawValue>> {
    let trimming = page.trimming("id");
    let keep = trimming.as_ref().map(|keep| keep as &dyn Fn(&str) -> bool);
    let mut out = Vec::with_capacity(128 + found.items.len() * 2048);
    let _ = write!(out, r#"{{"count":{},"items":["#, found.count);
    for (n, (_, item)) in found.items.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        R::write_json(item, &mut out, keep);
    }
    out.extend_from_slice(br#"],"nextCursor":"#);
    let _ = serde_json::to_writer(&mut out, &found.next.map(cursor::record));
    out.push(b'}');
    raw(out)
}

/// JSON text written by this module as a result.
fn raw(text: Vec<u8>) -> Result<Box<RawValue>> {
    let text = String::from_utf8(text).map_err(|e| Error::Internal(e.to_string()))?;
    RawValue::from_string(text).map_err(|e| Error::Internal(e.to_string()))
}

/// A look-up method: its name, and the members that must all match (member, key).
pub type Lookup<K> = (&'static str, &'static [(&'static str, K)]);

/// The window of a record list a page asks for.
pub fn window(page: &Page) -> Result<Window> {
    Ok(Window { limit: page.limit, after: cursor::record_position(page.cursor.as_deref())? })
}

/// Registers look-ups of `R`: each method lists the records whose keys equal its required members.
pub fn register_lookups<R: Records>(
    module: &mut RpcModule<Ctx>,
    lookups: &'static [Lookup<<R::Kind as RecordKind>::Key>],
) -> Registered {
    for &(method, members) in lookups {
        module.register_async_method(method, move |p, ctx, ext| async move {
            let scope = params::network(&ext)?;
            let value = params::json(&p)?;
            let mut input = params::object(&value)?;
            let equal: Vec<_> = members
                .iter()
                .filter_map(|&(member, key)| {
                    input.required(member, |v| reference(v.as_str().ok_or("must be a string")?)).map(|v| (key, v))
                })
                .collect();
            let page = Page::read(&mut input, &R::field_names(), Some(DEFAULT_LIMIT));
            params::finish(input, Vec::new())?;
            if equal.len() != members.len() {
                return Err(Error::invalid("params", "a required member is missing"));
            }
            let found = R::table(ctx.store.as_ref()).list_by(&scope, equal, window(&page)?).await?;
            listing::<R>(found, &page)
        })?;
    }
    Ok(())
}
