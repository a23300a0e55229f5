//! `ticket.*`: the Adminserver's purchasable-ticket methods, plus `getPurchasableTicket`.

use std::sync::Arc;

use jsonrpsee::RpcModule;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::ticket_list::{Entry, Ordered, TicketList, Walked};
use super::{Ctx, cursor, json_text, params};
use crate::domain::ids::ProductId;
use crate::domain::ticket::{Selection, Ticket, TicketInput, TicketQuery};
use crate::domain::time;
use crate::error::{Error, FieldError, Result};

/// Registers the ticket methods.
pub fn register(module: &mut RpcModule<Ctx>) -> std::result::Result<(), jsonrpsee::core::RegisterMethodError> {
    module.register_async_method("ticket.createPurchasableTicket", |p, ctx, ext| async move {
        let scope = params::network(&ext)?;
        let input = ticket_param(&params::json(&p)?)?;
        let stored = ctx.store.create_ticket(&scope, input.ticket).await?;
        one(stored.shown())
    })?;
    module.register_async_method("ticket.updatePurchasableTicket", |p, ctx, ext| async move {
        let scope = params::network(&ext)?;
        let input = ticket_param(&params::json(&p)?)?;
        let stored = ctx.store.update_ticket(&scope, input.ticket, input.expected_version).await?;
        one(stored.shown())
    })?;
    module.register_async_method("ticket.deletePurchasableTicket", |p, ctx, ext| async move {
        let scope = params::network(&ext)?;
        let id = product_id_param(&params::json(&p)?)?;
        ctx.store.delete_ticket(&scope, &id).await?;
        Ok::<_, Error>(json!({}))
    })?;
    module.register_async_method("ticket.getPurchasableTicket", |p, ctx, ext| async move {
        let scope = params::network(&ext)?;
        let id = product_id_param(&params::json(&p)?)?;
        // From the network's kept list when it is current: no read of the store, the ticket's JSON already written.
        if let Some(list) = ctx.ticket_lists.current(ctx.store.as_ref(), &scope).await?
            && let Some(entry) = list.find(&id)
        {
            return one(&entry.json);
        }
        one(ctx.store.ticket(&scope, &id).await?.shown())
    })?;
    module.register_async_method("ticket.getPurchasableTickets", |p, ctx, ext| async move {
        let scope = params::network(&ext)?;
        let query = TicketQuery::from_json(&params::json(&p)?).map_err(Error::InvalidParams)?;
        let tickets = ctx.ticket_lists.get(ctx.store.as_ref(), &scope).await?;
        list(&tickets, &query)
    })?;
    Ok(())
}

/// `{ticket}`: the stored ticket as the API shows it ([`crate::domain::ticket::StoredTicket::shown`]), or its JSON
/// kept in the list.
pub(super) fn one(ticket: impl serde::Serialize) -> Result<Box<RawValue>> {
    #[derive(serde::Serialize)]
    struct One<T> {
        ticket: T,
    }
    json_text(&One { ticket })
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

/// A list's answer: written for this call, or the one kept with the list for the call without params, shared, not
/// copied (the whole list: 57 KB for 100 tickets).
#[derive(Clone)]
enum Answer {
    Written(Box<RawValue>),
    Kept(Arc<RawValue>),
}

impl serde::Serialize for Answer {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Answer::Written(json) => json.serialize(serializer),
            Answer::Kept(json) => json.as_ref().serialize(serializer),
        }
    }
}

/// A network's tickets as a query asks for them; the answer to "everything" is kept with the list.
fn list(all: &TicketList, query: &TicketQuery) -> Result<Answer> {
    if !query.is_everything() {
        return render(all, query).map(Answer::Written);
    }
    if let Some(kept) = all.everything.get() {
        return Ok(Answer::Kept(kept.clone()));
    }
    let everything: Arc<RawValue> = Arc::from(render(all, query)?);
    // A call racing this one may have kept its own answer first: the same text, of the same list.
    let _ = all.everything.set(everything.clone());
    Ok(Answer::Kept(everything))
}

/// The page the query selects ([`TicketQuery::select`]), written from each ticket's kept JSON unless trimmed.
fn render(all: &TicketList, query: &TicketQuery) -> Result<Box<RawValue>> {
    let after = cursor::ticket_place(query)?;
    let sorted = all.ordered(query.order_by);
    if query.is_unfiltered() {
        // Only the page is looked at: a few lookups in the kept order, however many tickets there are.
        let selection = query.select(&Ordered(&sorted), after.as_ref(), time::now());
        let page: Vec<&Entry> = selection.items.iter().map(|&i| sorted[i].as_ref()).collect();
        write(query, &page, selection)
    } else {
        let walked = Walked(sorted.iter().map(AsRef::as_ref).collect());
        let selection = query.select(&walked, after.as_ref(), time::now());
        let page: Vec<&Entry> = selection.items.iter().map(|&i| walked.0[i]).collect();
        write(query, &page, selection)
    }
}

/// Writes a page of tickets from their kept JSON (trimmed to `fields` when asked), with the count and the cursor.
/// Serialized, not assembled as text: the kept JSON is copied as it is, and the answer is not read back to check it.
fn write(query: &TicketQuery, page: &[&Entry], selection: Selection) -> Result<Box<RawValue>> {
    let keep = query.page.trimming("productId");
    let tickets: Vec<Item<'_>> = page
        .iter()
        .map(|entry| match &keep {
            None => Item::Kept(&entry.json),
            Some(keep) => Item::Trimmed(entry.ticket.to_json().into_iter().filter(|(name, _)| keep(name)).collect()),
        })
        .collect();
    let next_cursor = selection.next.map(|place| cursor::ticket(query, place));
    let answer = PageOut { tickets, count: selection.count, next_cursor };
    json_text(&answer)
}

/// A page of the ticket list as it is written.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct PageOut<'a> {
    tickets: Vec<Item<'a>>,
    count: usize,
    next_cursor: Option<String>,
}

/// A ticket of the page: its kept JSON, or the members `fields` keeps.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum Item<'a> {
    Kept(&'a RawValue),
    Trimmed(serde_json::Map<String, Value>),
}
