//! Orders: `registration.generateOrder` (a saved registration's order, or an unsaved one's quote),
//! `registration.generateGroupOrder`, `registration.getModificationPayload` (whose answer depends on whether the
//! server has ordered the registration), and `order.*`: get, list, recordPayment and cancel. The rules are
//! `domain::order`'s; every write goes through [`crate::store::Orders`], which writes an order and its
//! registrations' order fields in one transaction.

use std::collections::HashMap;

use jsonrpsee::RpcModule;
use serde_json::{Value, json};

use super::records::{id_param, required_id, window};
use super::{Ctx, cursor, params};
use crate::auth::NetworkScope;
use crate::domain::input::{Input, MAX_SAFE_INTEGER};
use crate::domain::order::{self, OrderAction, OrderQuery, StoredOrder};
use crate::domain::record::reference;
use crate::domain::registration::Registration;
use crate::domain::{DEFAULT_LIMIT, Page};
use crate::error::{Error, Result};
use crate::store::{Found, MadeOrder, OrderFor};

type Registered = std::result::Result<(), jsonrpsee::core::RegisterMethodError>;

/// Registers the order methods.
pub fn register(module: &mut RpcModule<Ctx>) -> Registered {
    module.register_async_method("registration.generateOrder", |p, ctx, ext| async move {
        let scope = params::network(&ext)?;
        let value = params::json(&p)?;
        let mut input = params::object(&value)?;
        let id = input.optional("id", |v| reference(v.as_str().ok_or("must be a string")?));
        let unsaved = input.raw("registration");
        params::finish(input, Vec::new())?;
        match (id, unsaved) {
            (Some(id), None) => {
                let id = crate::domain::ids::RecordId::stored(id);
                let made = ctx.store.make_order(&scope, OrderFor::Registration(id)).await?;
                let MadeOrder { order, registrations } = made;
                let registration = registrations.first().map(|r| Value::Object(r.to_json()));
                Ok(json!({ "order": order.to_json(), "registration": registration }))
            }
            (None, Some(unsaved)) => Ok(json!({ "order": quote(&ctx, &scope, unsaved).await? })),
            _ => Err(Error::invalid(
                "params",
                "give either id (a saved registration, to make its order) or registration (an unsaved one, to quote)",
            )),
        }
    })?;
    module.register_async_method("registration.generateGroupOrder", |p, ctx, ext| async move {
        let scope = params::network(&ext)?;
        let value = params::json(&p)?;
        let mut input = params::object(&value)?;
        let group = input.required("groupId", |v| reference(v.as_str().ok_or("must be a string")?));
        params::finish(input, Vec::new())?;
        let group = group.ok_or_else(|| Error::invalid("groupId", "is required"))?;
        let MadeOrder { order, registrations } = ctx.store.make_order(&scope, OrderFor::Group(group)).await?;
        let registrations: Vec<Value> = registrations.iter().map(|r| Value::Object(r.to_json())).collect();
        Ok::<_, Error>(json!({ "order": order.to_json(), "registrations": registrations }))
    })?;
    module.register_async_method("registration.getModificationPayload", |p, ctx, ext| async move {
        let scope = params::network(&ext)?;
        let id = id_param(&params::json(&p)?)?;
        let (registration, order) = ctx.store.registration_order(&scope, &id).await?;
        Ok::<_, Error>(json!({ "registration": order::modification_payload(&registration, order.is_some()) }))
    })?;
    module.register_async_method("order.get", |p, ctx, ext| async move {
        let scope = params::network(&ext)?;
        let value = params::json(&p)?;
        let mut input = params::object(&value)?;
        let id = required_id(&mut input, "orderId");
        params::finish(input, Vec::new())?;
        let id = id.ok_or_else(|| Error::invalid("orderId", "is required"))?;
        Ok::<_, Error>(json!({ "order": ctx.store.order(&scope, &id).await?.to_json() }))
    })?;
    module.register_async_method("order.list", |p, ctx, ext| async move {
        let scope = params::network(&ext)?;
        let value = params::json(&p)?;
        let mut input = params::object(&value)?;
        let query = OrderQuery::read(&mut input);
        let page = Page::read(&mut input, order::MEMBERS, Some(DEFAULT_LIMIT));
        params::finish(input, Vec::new())?;
        let found = ctx.store.list_orders(&scope, query, window(&page)?).await?;
        Ok::<_, Error>(listing(found, &page))
    })?;
    module.register_async_method("order.recordPayment", |p, ctx, ext| async move {
        let scope = params::network(&ext)?;
        let value = params::json(&p)?;
        let mut input = params::object(&value)?;
        let (id, version) = order_and_version(&mut input);
        let amount = input.required("amount", order::payment_amount);
        params::finish(input, Vec::new())?;
        let (Some(id), Some(amount)) = (id, amount) else {
            return Err(Error::invalid("params", "orderId and amount are required"));
        };
        let paid = ctx.store.change_order(&scope, &id, version, OrderAction::Pay(amount)).await?;
        Ok::<_, Error>(json!({ "order": paid.to_json() }))
    })?;
    module.register_async_method("order.cancel", |p, ctx, ext| async move {
        let scope = params::network(&ext)?;
        let value = params::json(&p)?;
        let mut input = params::object(&value)?;
        let (id, version) = order_and_version(&mut input);
        params::finish(input, Vec::new())?;
        let id = id.ok_or_else(|| Error::invalid("orderId", "is required"))?;
        let cancelled = ctx.store.change_order(&scope, &id, version, OrderAction::Cancel).await?;
        Ok::<_, Error>(json!({ "order": cancelled.to_json() }))
    })?;
    Ok(())
}

/// Reads `orderId` and `sysVersion?`.
fn order_and_version(input: &mut Input<'_>) -> (Option<order::OrderId>, Option<i64>) {
    let id = required_id(input, "orderId");
    (id, input.optional_int("sysVersion", 1, MAX_SAFE_INTEGER))
}

/// The quote of an unsaved registration: validated as a create would be, priced from the network's tickets as
/// they are now, nothing stored.
async fn quote(ctx: &Ctx, scope: &NetworkScope, unsaved: &Value) -> Result<Value> {
    let read = Registration::from_json("registration", unsaved).map_err(Error::InvalidParams)?;
    if read.id.is_some() {
        return Err(Error::invalid(
            "registration.id",
            "names a saved registration: send {id} to make its order, or leave id out to quote",
        ));
    }
    let wanted = order::wanted("registration", &read.record).map_err(Error::InvalidParams)?;
    let mut tickets = HashMap::new();
    for w in wanted {
        if tickets.contains_key(&w.product_id) {
            continue;
        }
        match ctx.store.ticket(scope, &w.product_id).await {
            Ok(found) => {
                tickets.insert(w.product_id, found.ticket);
            }
            // A missing ticket is the pricing's to refuse, naming where the registration names it.
            Err(Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    let quoted = order::quote(&read.record, &tickets)?;
    serde_json::to_value(quoted).map_err(|e| Error::Internal(e.to_string()))
}

/// A page of orders as `order.list` answers it: `{count, items, nextCursor}`, each item trimmed to `fields`.
fn listing(found: Found<StoredOrder>, page: &Page) -> Value {
    let keep = page.trimming("orderId");
    let items: Vec<Value> = found
        .items
        .iter()
        .map(|(_, o)| {
            let mut shown = o.to_json();
            if let Some(keep) = &keep {
                shown.retain(|name, _| keep(name));
            }
            Value::Object(shown)
        })
        .collect();
    json!({ "count": found.count, "items": items, "nextCursor": found.next.map(cursor::record) })
}
