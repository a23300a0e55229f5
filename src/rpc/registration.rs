//! `registration.*`: registrations, their look-ups, transfers, batches and scheduling conflicts.

use futures_util::future::join_all;
use jsonrpsee::RpcModule;
use jsonrpsee::types::ErrorObjectOwned;
use serde_json::{Map, Value, json};

use super::{Ctx, params};
use crate::auth::NetworkAccess;
use crate::domain::input::Input;
use crate::domain::registration::{self, Registration, RegistrationQuery, reference};
use crate::domain::{Page, patch};
use crate::error::{Error, FieldError, Result};
use crate::store::registration::{self as stored, Found, StoredRegistration};

/// Most operations one `registration.batch` may hold.
pub const MAX_BATCH_OPERATIONS: usize = 100;

/// Members a patch may not change: the server makes them.
const PROTECTED: &[&str] =
    &["id", "number", "sysVersion", "sysCreatedAt", "sysLastModifiedAt", "sysCreatedById", "sysLastModifiedById"];

/// The look-ups: method, and the members that must all match (member, column).
const LOOKUPS: &[(&str, &[(&str, &str)])] = &[
    ("registration.listByContact", &[("contactId", "contact_id")]),
    ("registration.listByEventContact", &[("eventId", "event_id"), ("contactId", "contact_id")]),
    ("registration.listByParent", &[("parentRegistrationId", "parent_registration_id")]),
    ("registration.listByOrder", &[("orderId", "order_id")]),
    ("registration.listByGroup", &[("groupId", "group_id")]),
    ("registration.listByEventOrganization", &[("eventId", "event_id"), ("organizationId", "organization_id")]),
];

type Registered = std::result::Result<(), jsonrpsee::core::RegisterMethodError>;

/// Registers the registration methods.
pub fn register(module: &mut RpcModule<Ctx>) -> Registered {
    module.register_async_method("registration.create", |p, ctx, ext| async move {
        let access = params::network(&ext)?;
        let value = params::json(&p)?;
        let (registration, id, _) = registration_param(&value)?;
        if id.is_some() {
            return Err(Error::invalid("registration.id", "is made by the server; leave it out on create"));
        }
        let created = ctx.store.write(move |c| stored::create(c, &access.network, registration, &access.actor)).await?;
        Ok::<_, Error>(json!({ "registration": created.to_json() }))
    })?;
    module.register_async_method("registration.get", |p, ctx, ext| async move {
        let access = params::network(&ext)?;
        let value = params::json(&p)?;
        let mut input = params::object(&value)?;
        let id = required_id(&mut input, "id");
        let page = Page::read(&mut input, &registration::field_names());
        params::finish(input, Vec::new())?;
        let id = id.ok_or_else(|| Error::invalid("id", "is required"))?;
        let found = ctx.store.read(move |c| stored::get(c, &access.network, &id)).await?;
        Ok::<_, Error>(json!({ "registration": page.trim(found.to_json(), "id") }))
    })?;
    module.register_async_method("registration.update", |p, ctx, ext| async move {
        let access = params::network(&ext)?;
        let value = params::json(&p)?;
        let (registration, id, version) = registration_param(&value)?;
        let id =
            id.ok_or_else(|| Error::invalid("registration.id", "is required: it names the registration to replace"))?;
        let updated = ctx
            .store
            .write(move |c| stored::replace(c, &access.network, &id, registration, version, &access.actor))
            .await?;
        Ok::<_, Error>(json!({ "registration": updated.to_json() }))
    })?;
    module.register_async_method("registration.patch", |p, ctx, ext| async move {
        let access = params::network(&ext)?;
        let value = params::json(&p)?;
        let mut input = params::object(&value)?;
        let operation = read_patch(&mut input);
        params::finish(input, Vec::new())?;
        let (id, ops, version) = operation.ok_or_else(|| Error::invalid("patch", "is required"))?;
        let patched = patch_registration(&ctx, access, id, ops, version).await?;
        Ok::<_, Error>(json!({ "registration": patched.to_json() }))
    })?;
    module.register_async_method("registration.delete", |p, ctx, ext| async move {
        let access = params::network(&ext)?;
        let value = params::json(&p)?;
        let mut input = params::object(&value)?;
        let id = required_id(&mut input, "id");
        params::finish(input, Vec::new())?;
        let id = id.ok_or_else(|| Error::invalid("id", "is required"))?;
        ctx.store.write(move |c| stored::delete(c, &access.network, &id)).await?;
        Ok::<_, Error>(json!({}))
    })?;
    module.register_async_method("registration.search", |p, ctx, ext| async move {
        let access = params::network(&ext)?;
        let value = params::json(&p)?;
        let mut input = params::object(&value)?;
        let query = RegistrationQuery::from_json(&mut input);
        params::finish(input, Vec::new())?;
        let page = query.page.clone();
        let found = ctx.store.read(move |c| stored::search(c, &access.network, &query)).await?;
        Ok::<_, Error>(listing(found, &page))
    })?;
    for &(method, members) in LOOKUPS {
        module.register_async_method(method, move |p, ctx, ext| async move {
            let access = params::network(&ext)?;
            let value = params::json(&p)?;
            let mut input = params::object(&value)?;
            let equal: Vec<(&str, String)> = members
                .iter()
                .filter_map(|&(member, column)| required_id(&mut input, member).map(|v| (column, v)))
                .collect();
            let page = Page::read(&mut input, &registration::field_names());
            params::finish(input, Vec::new())?;
            if equal.len() != members.len() {
                return Err(Error::invalid("params", "a required member is missing"));
            }
            let listed = page.clone();
            let found = ctx.store.read(move |c| stored::list_by(c, &access.network, &equal, &listed)).await?;
            Ok::<_, Error>(listing(found, &page))
        })?;
    }
    module.register_async_method("registration.transfer", |p, ctx, ext| async move {
        let access = params::network(&ext)?;
        let value = params::json(&p)?;
        let mut input = params::object(&value)?;
        let id = required_id(&mut input, "id");
        let contact = required_id(&mut input, "contactId");
        // No e-mail is sent by this server; the flag is accepted for compatibility.
        input.optional_bool("sendConfirmationEmail");
        params::finish(input, Vec::new())?;
        let (Some(id), Some(contact)) = (id, contact) else {
            return Err(Error::invalid("params", "id and contactId are required"));
        };
        let moved =
            ctx.store.write(move |c| stored::transfer(c, &access.network, &id, &contact, &access.actor)).await?;
        Ok::<_, Error>(json!({ "registration": moved.to_json() }))
    })?;
    module.register_async_method("registration.batch", |p, ctx, ext| async move {
        let access = params::network(&ext)?;
        let operations = batch_operations(&params::json(&p)?)?;
        let results = join_all(operations.into_iter().map(|op| {
            let (ctx, access) = (ctx.clone(), access.clone());
            async move {
                match op {
                    Err(rejected) => {
                        let (id, e) = *rejected;
                        (id, Err(e))
                    }
                    Ok(BatchOp::Patch { id, ops, version }) => {
                        let outcome = patch_registration(&ctx, access, id.clone(), ops, version).await;
                        (Value::String(id), outcome.map(|r| Some(r.to_json())))
                    }
                    Ok(BatchOp::Delete { id }) => {
                        let deleted = id.clone();
                        let outcome = ctx.store.write(move |c| stored::delete(c, &access.network, &deleted)).await;
                        (Value::String(id), outcome.map(|()| None))
                    }
                }
            }
        }))
        .await;
        Ok::<_, Error>(batch_report(results, "registration"))
    })?;
    module.register_async_method("registration.detectSchedulingConflicts", |p, _ctx, ext| async move {
        params::network(&ext)?;
        let value = params::json(&p)?;
        let mut input = params::object(&value)?;
        let record = input.raw("registration");
        if record.is_none_or(|r| !r.is_object()) {
            input.fail("registration", "is required and must be an object");
        }
        params::finish(input, Vec::new())?;
        let slots = registration::slots(record.unwrap_or(&Value::Null)).map_err(Error::InvalidParams)?;
        let conflicts: Vec<Value> = registration::conflicts(&slots)
            .into_iter()
            .map(|(a, b)| json!({ "first": slots[a], "second": slots[b] }))
            .collect();
        Ok::<_, Error>(json!({ "conflicts": conflicts }))
    })?;
    Ok(())
}

/// Reads `{registration}`: the record, the `id` it names (if any) and the `sysVersion` expected (if any).
fn registration_param(value: &Value) -> Result<(Registration, Option<String>, Option<i64>)> {
    let mut input = params::object(value)?;
    let mut errors: Vec<FieldError> = Vec::new();
    let parsed = match input.raw("registration") {
        None => {
            input.fail("registration", "is required");
            None
        }
        Some(v) => Registration::from_json("registration", v).map_err(|e| errors.extend(e)).ok(),
    };
    params::finish(input, errors)?;
    let parsed = parsed.ok_or_else(|| Error::invalid("registration", "is required"))?;
    Ok((parsed.registration, parsed.id, parsed.expected_version))
}

/// A required id-like member.
pub fn required_id(input: &mut Input<'_>, name: &'static str) -> Option<String> {
    input.required(name, |v| reference(v.as_str().ok_or("must be a string")?))
}

/// Reads `{id, patch, sysVersion?}`.
fn read_patch(input: &mut Input<'_>) -> Option<(String, Vec<json_patch::PatchOperation>, Option<i64>)> {
    let id = required_id(input, "id");
    let ops = input.required("patch", patch::parse);
    let version = input.optional_int("sysVersion", 1, i64::MAX);
    Some((id?, ops?, version))
}

/// Applies a JSON Patch to a stored registration and validates the result as a whole, in one write.
async fn patch_registration(
    ctx: &Ctx,
    access: NetworkAccess,
    id: String,
    ops: Vec<json_patch::PatchOperation>,
    version: Option<i64>,
) -> Result<StoredRegistration> {
    ctx.store
        .write(move |c| {
            let current = stored::get(c, &access.network, &id)?;
            let patched = patch::apply(&Value::Object(current.to_json()), &ops, PROTECTED)?;
            let next = Registration::from_json("registration", &patched).map_err(Error::InvalidParams)?;
            stored::replace(c, &access.network, &id, next.registration, version, &access.actor)
        })
        .await
}

/// An operation of a batch that could not be read: its id (as sent) and why.
pub type Rejected = Box<(Value, Error)>;

/// What one batch operation came to: its id, and the record it left (none after a delete) or its error.
pub type OpOutcome = (Value, Result<Option<Map<String, Value>>>);

/// One operation of a batch.
pub enum BatchOp {
    Patch { id: String, ops: Vec<json_patch::PatchOperation>, version: Option<i64> },
    Delete { id: String },
}

/// Reads `{operations}`: each operation on its own (a malformed one becomes that operation's error).
pub fn batch_operations(value: &Value) -> Result<Vec<std::result::Result<BatchOp, Rejected>>> {
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

fn batch_operation(index: usize, op: &Value) -> std::result::Result<BatchOp, Rejected> {
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
pub fn batch_report(results: Vec<OpOutcome>, resource: &str) -> Value {
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

/// A page of registrations as lists answer it.
fn listing(found: Found, page: &Page) -> Value {
    let items: Vec<Value> = found.items.into_iter().map(|r| Value::Object(page.trim(r.to_json(), "id"))).collect();
    json!({ "count": found.count, "items": items, "nextCursor": found.next_cursor })
}
