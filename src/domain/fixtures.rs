//! Valid records for the unit tests of the domain and of every store, made only through the records' public
//! constructors (`from_json`), with `extra` members laid over a base.

use serde_json::{Value, json};

use super::function_ticket::FunctionTicket;
use super::ids::ProductId;
use super::registration::Registration;
use super::ticket::Ticket;

/// `base` with `extra`'s members laid over it.
pub fn merged(mut base: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().expect("an object") {
        base[k] = v.clone();
    }
    base
}

pub fn ticket(product_id: &str, extra: Value) -> Ticket {
    let base = json!({
        "productId": product_id,
        "eventName": "Summit",
        "eventStartDate": "2026-05-01T09:00:00Z",
        "eventEndDate": "2026-05-03T18:00:00Z",
        "ticketType": "single",
        "ticketName": "Standard",
        "price": 50
    });
    Ticket::from_json("ticket", &merged(base, extra)).expect("a valid ticket").ticket
}

pub fn registration(contact_id: &str, extra: Value) -> Registration {
    let base = json!({"eventId": "ev1", "name": "Ada Lovelace", "contactId": contact_id, "typeId": "t1",
        "packageId": "p1"});
    Registration::from_json("registration", &merged(base, extra)).expect("a valid registration").record
}

pub fn function_ticket(extra: Value) -> FunctionTicket {
    let base = json!({"name": "Gala seat", "eventId": "ev1", "functionId": "gala", "contactId": "c1",
        "status": "active"});
    FunctionTicket::from_json("functionTicket", &merged(base, extra)).expect("a valid function ticket").record
}

pub fn product(id: &str) -> ProductId {
    ProductId::parse(id).expect("a product id")
}
