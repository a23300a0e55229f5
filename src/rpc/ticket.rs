//! `ticket.*`: the Adminserver's purchasable-ticket methods, plus `getPurchasableTicket`.

use base64::Engine as _;
use jsonrpsee::RpcModule;
use serde_json::{Value, json};

use super::{Ctx, params};
use crate::domain::ids::ProductId;
use crate::domain::ticket::{Ticket, TicketInput, TicketOrder, TicketQuery};
use crate::domain::{bad_cursor, time};
use crate::error::{Error, FieldError, Result};
use crate::store;
use crate::store::cache::TicketList;
use serde_json::value::RawValue;

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
        let tickets = ctx.store.ticket_list(&access.network).await?;
        Ok::<_, Error>(super::guard::ResultSlot::answer(&ext, list(&tickets, &query)?))
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

/// A network's tickets as a query asks for them; the answer to "everything" is kept with the list.
fn list(all: &TicketList, query: &TicketQuery) -> Result<Box<RawValue>> {
    if !query.is_everything() {
        return render(all, query);
    }
    if let Some(kept) = all.everything.get() {
        return Ok(kept.clone());
    }
    let everything = render(all, query)?;
    let _ = all.everything.set(everything.clone());
    Ok(everything)
}

/// Filters, orders and pages a network's tickets; untrimmed tickets are answered from their kept JSON.
fn render(all: &TicketList, query: &TicketQuery) -> Result<Box<RawValue>> {
    let now = time::now();
    let key = |i: usize| {
        let t = &all.tickets[i];
        (query.order_by.key(t), t.ticket.product_id.as_str())
    };
    let mut order: Vec<usize> = (0..all.tickets.len()).filter(|&i| query.matches(&all.tickets[i], now)).collect();
    // The kept list is by productId, which is already the order when that is the ordering asked for.
    if query.order_by != TicketOrder::ProductId {
        order.sort_by(|&a, &b| key(a).cmp(&key(b)));
    }
    if query.descending {
        order.reverse();
    }
    let count = order.len();
    let start = match &query.page.cursor {
        None => 0,
        Some(text) => {
            let (k, id) = decode(text, query)?;
            let after = (k, id.as_str());
            order.iter().position(|&i| if query.descending { key(i) < after } else { key(i) > after }).unwrap_or(count)
        }
    };
    let end = query.page.limit.map_or(count, |l| (start + l).min(count));
    let page = &order[start..end];
    let next_cursor = match page.last() {
        Some(&last) if end < count => {
            let (k, id) = key(last);
            Some(encode(&Cursor { o: ordering_name(query), k, id: id.to_owned() }))
        }
        _ => None,
    };
    let mut out = String::with_capacity(64 + page.iter().map(|&i| all.json[i].get().len() + 1).sum::<usize>());
    out.push_str("{\"tickets\":[");
    for (n, &i) in page.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        match &query.page.fields {
            None => out.push_str(all.json[i].get()),
            Some(_) => {
                let trimmed = query.page.trim(all.tickets[i].to_json(), "productId");
                out.push_str(&serde_json::to_string(&trimmed).map_err(|e| Error::Internal(e.to_string()))?);
            }
        }
    }
    let cursor = serde_json::to_string(&next_cursor).map_err(|e| Error::Internal(e.to_string()))?;
    out.push_str(&format!("],\"count\":{count},\"nextCursor\":{cursor}}}"));
    RawValue::from_string(out).map_err(|e| Error::Internal(e.to_string()))
}
