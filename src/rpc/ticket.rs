//! `ticket.*`: the Adminserver's purchasable-ticket methods, plus `getPurchasableTicket`.

use base64::Engine as _;
use jsonrpsee::RpcModule;
use serde_json::{Value, json};

use super::{Ctx, params};
use crate::domain::ids::ProductId;
use crate::domain::ticket::{StoredTicket, Ticket, TicketInput, TicketQuery};
use crate::domain::{bad_cursor, time};
use crate::error::{Error, FieldError, Result};
use crate::store;

/// Registers the ticket methods.
pub fn register(module: &mut RpcModule<Ctx>) -> std::result::Result<(), jsonrpsee::core::RegisterMethodError> {
    module.register_async_method("ticket.createPurchasableTicket", |p, ctx, ext| async move {
        let access = params::network(&ext)?;
        let input = ticket_param(&params::json(&p)?)?;
        let stored =
            ctx.store.write(move |c| store::ticket::create(c, &access.network, input.ticket, &access.actor)).await?;
        Ok::<_, Error>(json!({ "ticket": stored.to_json() }))
    })?;
    module.register_async_method("ticket.updatePurchasableTicket", |p, ctx, ext| async move {
        let access = params::network(&ext)?;
        let input = ticket_param(&params::json(&p)?)?;
        let stored = ctx
            .store
            .write(move |c| {
                store::ticket::update(c, &access.network, input.ticket, input.expected_version, &access.actor)
            })
            .await?;
        Ok::<_, Error>(json!({ "ticket": stored.to_json() }))
    })?;
    module.register_async_method("ticket.deletePurchasableTicket", |p, ctx, ext| async move {
        let access = params::network(&ext)?;
        let id = product_id_param(&params::json(&p)?)?;
        ctx.store.write(move |c| store::ticket::delete(c, &access.network, &id)).await?;
        Ok::<_, Error>(json!({}))
    })?;
    module.register_async_method("ticket.getPurchasableTicket", |p, ctx, ext| async move {
        let access = params::network(&ext)?;
        let id = product_id_param(&params::json(&p)?)?;
        let stored = ctx.store.read(move |c| store::ticket::get(c, &access.network, &id)).await?;
        Ok::<_, Error>(json!({ "ticket": stored.to_json() }))
    })?;
    module.register_async_method("ticket.getPurchasableTickets", |p, ctx, ext| async move {
        let access = params::network(&ext)?;
        let query = TicketQuery::from_json(&params::json(&p)?).map_err(Error::InvalidParams)?;
        let tickets = ctx.store.read(move |c| store::ticket::all(c, &access.network)).await?;
        list(tickets, &query)
    })?;
    Ok(())
}

/// Reads `{ticket}`.
fn ticket_param(value: &Value) -> Result<TicketInput> {
    let mut input = params::object(value)?;
    let mut errors: Vec<FieldError> = Vec::new();
    let ticket = match input.raw("ticket") {
        None => {
            input.fail("ticket", "is required");
            None
        }
        Some(v) => Ticket::from_json("ticket", v).map_err(|e| errors.extend(e)).ok(),
    };
    params::finish(input, errors)?;
    ticket.ok_or_else(|| Error::invalid("ticket", "is required"))
}

/// Reads `{productId}`.
fn product_id_param(value: &Value) -> Result<ProductId> {
    let mut input = params::object(value)?;
    let id = input.required("productId", |v| ProductId::parse(v.as_str().ok_or("must be a string")?));
    params::finish(input, Vec::new())?;
    id.ok_or_else(|| Error::invalid("productId", "is required"))
}

/// Where a page ended: the ordering it belongs to and the last item's sort key.
#[derive(serde::Serialize, serde::Deserialize)]
struct Cursor {
    /// The ordering, so a cursor is never applied to another one.
    o: String,
    k: i64,
    id: String,
}

fn ordering_name(query: &TicketQuery) -> String {
    format!("{:?}:{}", query.order_by, query.descending)
}

fn encode(cursor: &Cursor) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(cursor).unwrap_or_default())
}

fn decode(text: &str, query: &TicketQuery) -> Result<(i64, String)> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| Error::InvalidParams(bad_cursor()))?;
    let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| Error::InvalidParams(bad_cursor()))?;
    if cursor.o != ordering_name(query) {
        return Err(Error::InvalidParams(vec![FieldError::new(
            "cursor",
            "belongs to another ordering; send the same orderBy and order as for the first page",
        )]));
    }
    Ok((cursor.k, cursor.id))
}

/// Filters, orders and pages a network's tickets.
fn list(mut tickets: Vec<StoredTicket>, query: &TicketQuery) -> Result<Value> {
    let now = time::now();
    tickets.retain(|t| query.matches(t, now));
    let key = |t: &StoredTicket| (query.order_by.key(t), t.ticket.product_id.as_str().to_owned());
    tickets.sort_by_cached_key(key);
    if query.descending {
        tickets.reverse();
    }
    let count = tickets.len();
    let start = match &query.page.cursor {
        None => 0,
        Some(text) => {
            let after = decode(text, query)?;
            tickets
                .iter()
                .position(|t| {
                    let k = key(t);
                    if query.descending { k < after } else { k > after }
                })
                .unwrap_or(count)
        }
    };
    let end = query.page.limit.map_or(count, |l| (start + l).min(count));
    let page = &tickets[start..end];
    let next_cursor = match page.last() {
        Some(last) if end < count => {
            let (k, id) = key(last);
            Some(encode(&Cursor { o: ordering_name(query), k, id }))
        }
        _ => None,
    };
    let items: Vec<Value> = page.iter().map(|t| Value::Object(query.page.trim(t.to_json(), "productId"))).collect();
    Ok(json!({ "tickets": items, "count": count, "nextCursor": next_cursor }))
}
