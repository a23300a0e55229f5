//! Orders: what a registration, or a group of them, costs, priced by the server from the purchasable tickets the
//! registrations hold and their add-ons, numbered per network, paid in parts, cancelled.
//!
//! Every rule here is a pure function: which products a registration's order is priced from ([`wanted`]), the
//! lines and total of an order ([`make`]), what a payment or a cancellation does to it ([`Order::apply`]), and the
//! order fields of a registration, which always mirror its order ([`mirrored`], [`keep_order_fields`]). The stores
//! read the facts inside their transaction and write what these decide.
//!
//! **A registration's order** is the latest order that holds it. While that order is not cancelled the
//! registration has an order: ordering it again answers that order unchanged. A cancelled order frees its
//! registrations to be ordered again. Once the server has made a registration's order, the registration's nine
//! order fields are the order's: a replacement or patch keeps them as they are, whatever it sends for them.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::ids::{ProductId, RecordId};
use super::money::Cents;
use super::record;
use super::registration::{
    self, ORDER_STATUSES, OrderStatus, Registration, RegistrationId, RegistrationStatus, StoredRegistration,
};
use super::sys::Sys;
use super::ticket::Ticket;
use crate::error::{Conflict, Error, FieldError};

/// The currency of every order: prices are kept in US cents.
pub const CURRENCY_CODE: &str = "USD";
/// The currency's symbol.
pub const CURRENCY_SYMBOL: &str = "$";
/// The largest quantity one add-on entry may order.
pub const MAX_QUANTITY: i64 = 10_000;

/// The id of an order.
pub type OrderId = RecordId<Order>;

/// The members of a registration that mirror its order, as the API names them.
pub const ORDER_FIELDS: &[&str] = &[
    "orderId",
    "orderLineItemId",
    "orderNumber",
    "orderBalanceDue",
    "orderAmountPaid",
    "orderCurrencyCode",
    "orderCurrencySymbol",
    "orderStatus",
    "orderTotal",
];

/// One product an order is priced from, and where the registration names it (for the refusal of a missing one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub product_id: ProductId,
    pub quantity: i64,
    /// `productId` for the ticket the registration holds, `addOns.productId` for an add-on.
    pub field: &'static str,
}

/// The products a registration's order is priced from, in order: the ticket it holds (`productId`, quantity 1),
/// then each `addOns` entry that names a `productId` (`quantity` 1 when absent, else a whole number from 1 to
/// [`MAX_QUANTITY`]). Entries without a `productId` are the platform's own and are not priced. `path` names the
/// registration in the problems found.
pub fn wanted(path: &str, registration: &Registration) -> Result<Vec<Wanted>, Vec<FieldError>> {
    let mut found: Vec<Wanted> = registration
        .product_id
        .iter()
        .map(|p| Wanted { product_id: p.clone(), quantity: 1, field: "productId" })
        .collect();
    let mut errors = Vec::new();
    for (i, entry) in registration.add_ons.iter().enumerate() {
        let Some(named) = entry.get("productId").filter(|v| !v.is_null()) else { continue };
        let field = |name: &str| format!("{path}.addOns[{i}].{name}");
        let product = named.as_str().ok_or_else(|| "must be a string".to_owned()).and_then(ProductId::parse);
        let quantity = match entry.get("quantity").filter(|v| !v.is_null()) {
            None => Ok(1),
            Some(q) => q
                .as_i64()
                .filter(|q| (1..=MAX_QUANTITY).contains(q))
                .ok_or_else(|| format!("must be a whole number from 1 to {MAX_QUANTITY}")),
        };
        match (product, quantity) {
            (Ok(product_id), Ok(quantity)) => {
                found.push(Wanted { product_id, quantity, field: "addOns.productId" });
            }
            (product, quantity) => {
                if let Err(m) = product {
                    errors.push(FieldError::with_value(field("productId"), m, named));
                }
                if let Err(m) = quantity {
                    let sent = entry.get("quantity").cloned().unwrap_or(Value::Null);
                    errors.push(FieldError::with_value(field("quantity"), m, &sent));
                }
            }
        }
    }
    if errors.is_empty() { Ok(found) } else { Err(errors) }
}

/// One priced line: a product, how many, at what price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Priced {
    pub product_id: ProductId,
    /// The ticket's event and name, as the line is shown on the order.
    pub description: String,
    pub quantity: i64,
    pub unit_price: Cents,
    /// `unitPrice` × `quantity`.
    pub total: Cents,
}

/// The lines of `wanted`, priced from `tickets` (the network's tickets by productId): each at its ticket's price.
/// A product that names no ticket is `missingReference`; a total past the largest amount is refused.
pub fn price(wanted: &[Wanted], tickets: &HashMap<ProductId, Ticket>) -> Result<Vec<Priced>, Error> {
    wanted
        .iter()
        .map(|w| {
            let ticket = tickets.get(&w.product_id).ok_or_else(|| Conflict::MissingReference {
                resource: "ticket",
                id: w.product_id.to_string(),
                field: w.field,
            })?;
            let total = ticket.price.0.checked_mul(w.quantity).filter(|c| *c <= Cents::MAX.0).ok_or_else(too_large)?;
            Ok(Priced {
                product_id: w.product_id.clone(),
                description: format!("{}: {}", ticket.event_name, ticket.ticket_name),
                quantity: w.quantity,
                unit_price: ticket.price,
                total: Cents(total),
            })
        })
        .collect()
}

fn too_large() -> Error {
    Error::invalid("order.total", format!("would be more than the largest amount, {}", Cents::MAX.to_json()))
}

/// The sum of some lines' totals, refused past the largest amount (which keeps every amount exact on the wire).
pub fn total_of<'a>(lines: impl IntoIterator<Item = &'a Priced>) -> Result<Cents, Error> {
    lines
        .into_iter()
        .try_fold(0i64, |sum, line| sum.checked_add(line.total.0).filter(|s| *s <= Cents::MAX.0))
        .map(Cents)
        .ok_or_else(too_large)
}

/// A line of a stored order: which registration it is for, and its own id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    pub line_item_id: String,
    pub registration_id: String,
    #[serde(flatten)]
    pub priced: Priced,
}

/// An order: its number in the network, its state, its lines and what was paid.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub id: OrderId,
    /// Per network, from 1, never reused.
    pub number: i64,
    pub status: OrderStatus,
    pub lines: Vec<OrderLine>,
    /// The sum of the payments recorded; never more than the total.
    pub amount_paid: Cents,
    /// The registrations it is the order of, in the order they were ordered (one without a priced product has no
    /// line, and is held all the same).
    pub registration_ids: Vec<RegistrationId>,
}

/// The largest order number: numbers fit the 32-bit integers clients keep a registration's `orderNumber` in.
pub const MAX_NUMBER: i64 = registration::MAX_NUMBER;

/// The number of a network's next order after `last`.
pub fn next_number(last: i64) -> Result<i64, Error> {
    if last < MAX_NUMBER {
        return Ok(last + 1);
    }
    Err(Error::Internal(format!("the network's order numbers are used up (the last is {last})")))
}

/// Makes order `number` of `registrations` (id and fields, in the order they are ordered), priced from `tickets`:
/// each registration's lines in turn ([`wanted`], [`price`]), each line with an id of its own. It awaits payment;
/// one whose total is 0 owes nothing and is `completed` at once.
pub fn make(
    number: i64,
    registrations: &[(&RegistrationId, &Registration)],
    tickets: &HashMap<ProductId, Ticket>,
) -> Result<Order, Error> {
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    for (id, registration) in registrations {
        let path = if registrations.len() == 1 { "registration".to_owned() } else { format!("registrations.{id}") };
        match wanted(&path, registration) {
            Ok(wanted) => lines.extend(price(&wanted, tickets)?.into_iter().map(|priced| OrderLine {
                line_item_id: super::ids::new_id(),
                registration_id: id.to_string(),
                priced,
            })),
            Err(found) => errors.extend(found),
        }
    }
    if !errors.is_empty() {
        return Err(Error::InvalidParams(errors));
    }
    let total = total_of(lines.iter().map(|l| &l.priced))?;
    Ok(Order {
        id: OrderId::new(),
        number,
        status: if total == Cents(0) { OrderStatus::Completed } else { OrderStatus::AwaitingPayment },
        lines,
        amount_paid: Cents(0),
        registration_ids: registrations.iter().map(|(id, _)| (*id).clone()).collect(),
    })
}

/// What a call does to a stored order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderAction {
    /// Records a payment of this amount (more than 0).
    Pay(Cents),
    /// Cancels the order; its registrations keep their place.
    Cancel,
}

impl Order {
    /// The sum of its lines.
    pub fn total(&self) -> Cents {
        // Each order's total was checked when it was made, so the sum of its stored lines cannot overflow.
        Cents(self.lines.iter().map(|l| l.priced.total.0).sum())
    }

    /// What is still to pay: the total less what was paid.
    pub fn balance_due(&self) -> Cents {
        Cents(self.total().0 - self.amount_paid.0)
    }

    /// The order after `action`, or `None` when it changes nothing (cancelling a cancelled order). Only an order
    /// awaiting payment takes a payment, of at most its balance, and becomes `completed` once the balance is 0;
    /// a completed order is not cancelled (its money is taken), a cancelled one takes nothing more.
    pub fn apply(&self, action: OrderAction) -> Result<Option<Order>, Error> {
        let closed = |action: &'static str| Conflict::OrderClosed {
            order_id: self.id.to_string(),
            status: self.status.as_str(),
            action,
        };
        match action {
            OrderAction::Cancel if self.status == OrderStatus::Cancelled => Ok(None),
            OrderAction::Cancel if self.status == OrderStatus::AwaitingPayment => {
                Ok(Some(Order { status: OrderStatus::Cancelled, ..self.clone() }))
            }
            OrderAction::Cancel => Err(closed("cancellation").into()),
            OrderAction::Pay(_) if self.status != OrderStatus::AwaitingPayment => Err(closed("payment").into()),
            OrderAction::Pay(amount) if amount.0 <= 0 => Err(Error::invalid("amount", "must be more than 0")),
            OrderAction::Pay(amount) if amount > self.balance_due() => {
                Err(Error::InvalidParams(vec![FieldError::with_value(
                    "amount",
                    format!("must be at most the balance due, {}", self.balance_due().to_json()),
                    &amount.to_json(),
                )]))
            }
            OrderAction::Pay(amount) => {
                let paid = Order { amount_paid: Cents(self.amount_paid.0 + amount.0), ..self.clone() };
                let status = if paid.balance_due() == Cents(0) { OrderStatus::Completed } else { self.status };
                Ok(Some(Order { status, ..paid }))
            }
        }
    }

    /// The id of the first line of a registration (its ticket's, when it holds one): its `orderLineItemId`.
    pub fn line_of(&self, registration_id: &str) -> Option<&str> {
        self.lines.iter().find(|l| l.registration_id == registration_id).map(|l| l.line_item_id.as_str())
    }
}

/// An amount a payment records: a number with at most 2 decimals, more than 0.
pub fn payment_amount(value: &Value) -> Result<Cents, String> {
    match Cents::parse(value)? {
        Cents(0) => Err("must be more than 0".into()),
        amount => Ok(amount),
    }
}

/// Whether a registration whose latest order is `current` needs one: it has none, or that one is cancelled.
pub fn needs_order(current: Option<&StoredOrder>) -> bool {
    current.is_none_or(|o| o.order.status == OrderStatus::Cancelled)
}

/// Who of a group's active members, each with its latest order, a group order takes: those that need an order, in
/// the order given. None: the group is not found when it has no active member, and when each is in an order
/// already the error says so and names those orders, so that a client can tell a spent group from a misspelt one.
pub fn group_members_to_order(
    group: &str,
    members: Vec<(StoredRegistration, Option<StoredOrder>)>,
) -> Result<Vec<StoredRegistration>, Error> {
    let active = members.len() as i64;
    let mut chosen = Vec::new();
    let mut order_ids: Vec<String> = Vec::new();
    for (member, current) in members {
        match current {
            Some(order) if !needs_order(Some(&order)) => {
                let id = order.order.id.as_str();
                if !order_ids.iter().any(|known| known == id) {
                    order_ids.push(id.to_owned());
                }
            }
            _ => chosen.push(member),
        }
    }
    match (chosen.is_empty(), active) {
        (true, 0) => Err(Error::NotFound { resource: "group", id: group.to_owned() }),
        (true, _) => Err(Error::GroupOrdered { group: group.to_owned(), active, order_ids }),
        (false, _) => Ok(chosen),
    }
}

/// The rule of who is ordered: a cancelled registration is not (`notActive`), and a locked one changes only by
/// being unlocked, so its order fields cannot be written (`-32023`).
pub fn check_orderable(registration: &StoredRegistration) -> Result<(), Error> {
    if registration.registration.status == RegistrationStatus::Cancelled {
        return Err(Conflict::NotActive {
            registration_id: registration.id.to_string(),
            status: registration.registration.status.as_str(),
            action: "ordered",
        }
        .into());
    }
    registration.check_unlocked(None)
}

/// A registration with its order fields as `order` has them: the order's id, number, state, totals and currency,
/// and the id of the registration's first line.
pub fn mirrored(registration: &Registration, id: &RegistrationId, order: &Order) -> Registration {
    Registration {
        order_id: Some(order.id.to_string()),
        order_line_item_id: order.line_of(id.as_str()).map(str::to_owned),
        order_number: Some(order.number),
        order_balance_due: Some(order.balance_due()),
        order_amount_paid: Some(order.amount_paid),
        order_currency_code: Some(CURRENCY_CODE.to_owned()),
        order_currency_symbol: Some(CURRENCY_SYMBOL.to_owned()),
        order_status: Some(order.status),
        order_total: Some(order.total()),
        ..registration.clone()
    }
}

/// `next` with the order fields of `stored`: what a replacement of a registration the server has ordered writes,
/// so that its order fields never part from its order.
pub fn keep_order_fields(next: Registration, stored: &Registration) -> Registration {
    Registration {
        order_id: stored.order_id.clone(),
        order_line_item_id: stored.order_line_item_id.clone(),
        order_number: stored.order_number,
        order_balance_due: stored.order_balance_due,
        order_amount_paid: stored.order_amount_paid,
        order_currency_code: stored.order_currency_code.clone(),
        order_currency_symbol: stored.order_currency_symbol.clone(),
        order_status: stored.order_status,
        order_total: stored.order_total,
        ..next
    }
}

/// The body `registration.update` takes to leave a stored registration as it is: its `id`, every field a client
/// writes (every member of the record, the order fields aside once the server has made its order, as those are
/// the order's), and its `sysVersion`. Sent back unchanged it changes nothing.
pub fn modification_payload(stored: &StoredRegistration, ordered: bool) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("id".into(), stored.id.as_str().into());
    body.extend(
        record::to_object(&stored.registration)
            .into_iter()
            .filter(|(name, _)| !(ordered && ORDER_FIELDS.contains(&name.as_str()))),
    );
    body.insert("sysVersion".into(), stored.sys.version.into());
    body
}

/// An order as stored: the order and its sys fields.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredOrder {
    pub order: Order,
    pub sys: Sys,
}

/// An order as the API shows it, in this order of members.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Shown<'a> {
    order_id: &'a OrderId,
    order_number: i64,
    status: OrderStatus,
    currency_code: &'static str,
    currency_symbol: &'static str,
    lines: &'a [OrderLine],
    total: Cents,
    amount_paid: Cents,
    balance_due: Cents,
    registration_ids: &'a [RegistrationId],
    #[serde(flatten)]
    sys: &'a Sys,
}

impl StoredOrder {
    /// The order as the API shows it.
    pub fn to_json(&self) -> Map<String, Value> {
        let o = &self.order;
        record::to_object(&Shown {
            order_id: &o.id,
            order_number: o.number,
            status: o.status,
            currency_code: CURRENCY_CODE,
            currency_symbol: CURRENCY_SYMBOL,
            lines: &o.lines,
            total: o.total(),
            amount_paid: o.amount_paid,
            balance_due: o.balance_due(),
            registration_ids: &o.registration_ids,
            sys: &self.sys,
        })
    }
}

/// A quote: an unsaved registration priced as its order would be, nothing stored, so no id, number or state.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Quote {
    currency_code: &'static str,
    currency_symbol: &'static str,
    lines: Vec<Priced>,
    total: Cents,
    amount_paid: Cents,
    balance_due: Cents,
}

/// The quote of an unsaved registration, priced from `tickets`.
pub fn quote(registration: &Registration, tickets: &HashMap<ProductId, Ticket>) -> Result<Quote, Error> {
    let lines = price(&wanted("registration", registration).map_err(Error::InvalidParams)?, tickets)?;
    let total = total_of(&lines)?;
    Ok(Quote {
        currency_code: CURRENCY_CODE,
        currency_symbol: CURRENCY_SYMBOL,
        lines,
        total,
        amount_paid: Cents(0),
        balance_due: total,
    })
}

/// The filters of `order.list`: states and registrations, each any of.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderQuery {
    pub statuses: Option<Vec<OrderStatus>>,
    pub registration_ids: Option<Vec<String>>,
}

/// The members an order is shown with: what a `fields` list of `order.list` may name.
pub const MEMBERS: &[&str] = &[
    "orderId",
    "orderNumber",
    "status",
    "currencyCode",
    "currencySymbol",
    "lines",
    "total",
    "amountPaid",
    "balanceDue",
    "registrationIds",
    "sysVersion",
    "sysCreatedAt",
    "sysLastModifiedAt",
    "sysCreatedById",
    "sysLastModifiedById",
];

/// One value or a non-empty list of them, each read by `item`.
fn any_of<T>(value: &Value, item: impl Fn(&Value) -> Result<T, String>) -> Result<Vec<T>, String> {
    let values = match value {
        Value::Array(items) if items.len() > super::MAX_LIST_VALUES => return Err(super::input::too_many_values()),
        Value::Array(items) if items.is_empty() => return Err("must not be an empty list".into()),
        Value::Array(items) => items.iter().collect(),
        one => vec![one],
    };
    values.into_iter().map(item).collect()
}

impl OrderQuery {
    /// Reads the filters of `order.list`: `status` and `registrationId`, each one value or a list (any of).
    pub fn read(input: &mut super::input::Input<'_>) -> OrderQuery {
        let statuses = input.optional("status", |v| {
            any_of(v, |s| {
                serde_json::from_value(s.clone()).map_err(|_| format!("must be one of {}", ORDER_STATUSES.join(", ")))
            })
        });
        let registration_ids = input.optional("registrationId", |v| {
            any_of(v, |id| record::reference(id.as_str().ok_or("must be a string or a list of strings")?))
        });
        OrderQuery { statuses, registration_ids }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::{product, registration, ticket};
    use crate::domain::ids::ActorId;
    use serde_json::json;

    fn tickets() -> HashMap<ProductId, Ticket> {
        [("vip", json!({"price": 150.5, "ticketName": "VIP"})), ("dinner", json!({"price": 40}))]
            .into_iter()
            .map(|(id, extra)| (product(id), ticket(id, extra)))
            .collect()
    }

    fn id(s: &str) -> RegistrationId {
        RegistrationId::parse(s).unwrap()
    }

    fn made(extra: Value) -> Order {
        let r = registration("c1", extra);
        make(7, &[(&id("r1"), &r)], &tickets()).unwrap()
    }

    #[test]
    fn the_ticket_and_each_add_on_naming_a_product_are_lines() {
        let order = made(json!({"productId": "vip", "addOns": [
            {"productId": "dinner", "quantity": 2}, {"note": "not a product"}, {"productId": "dinner"}
        ]}));
        let lines: Vec<_> = order
            .lines
            .iter()
            .map(|l| (l.priced.product_id.as_str(), l.priced.quantity, l.priced.unit_price.0, l.priced.total.0))
            .collect();
        assert_eq!(lines, [("vip", 1, 15050, 15050), ("dinner", 2, 4000, 8000), ("dinner", 1, 4000, 4000)]);
        assert_eq!(order.lines[0].priced.description, "Summit: VIP");
        assert!(order.lines.iter().all(|l| l.registration_id == "r1"));
        assert_eq!((order.total(), order.amount_paid, order.balance_due()), (Cents(27050), Cents(0), Cents(27050)));
        assert_eq!((order.number, order.status), (7, OrderStatus::AwaitingPayment));
        assert_eq!(order.line_of("r1"), Some(order.lines[0].line_item_id.as_str()));
        assert_ne!(order.lines[0].line_item_id, order.lines[1].line_item_id);
    }

    #[test]
    fn a_missing_product_is_a_missing_reference_naming_where_it_is_named() {
        let r = registration("c1", json!({"productId": "gone"}));
        let Err(Error::Conflict(c)) = make(1, &[(&id("r1"), &r)], &tickets()) else { panic!("refused") };
        assert_eq!(c, Conflict::MissingReference { resource: "ticket", id: "gone".into(), field: "productId" });
        let r = registration("c1", json!({"productId": "vip", "addOns": [{"productId": "gone"}]}));
        let Err(Error::Conflict(c)) = make(1, &[(&id("r1"), &r)], &tickets()) else { panic!("refused") };
        assert_eq!(c, Conflict::MissingReference { resource: "ticket", id: "gone".into(), field: "addOns.productId" });
    }

    #[test]
    fn malformed_add_ons_are_named_every_one() {
        let r = registration(
            "c1",
            json!({"addOns": [
                {"productId": 5}, {"productId": "dinner", "quantity": 0}, {"productId": "dinner", "quantity": 1.5},
                {"productId": "a b", "quantity": MAX_QUANTITY + 1}, {"productId": "dinner", "quantity": MAX_QUANTITY}
            ]}),
        );
        let errors = wanted("registration", &r).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "registration.addOns[0].productId",
                "registration.addOns[1].quantity",
                "registration.addOns[2].quantity",
                "registration.addOns[3].productId",
                "registration.addOns[3].quantity"
            ]
        );
        let Err(Error::InvalidParams(e)) = make(1, &[(&id("r1"), &r)], &tickets()) else { panic!("refused") };
        assert_eq!(e.len(), 5);
    }

    #[test]
    fn a_group_order_holds_each_registration_and_lines_in_turn() {
        let (a, b, c) = (
            registration("c1", json!({"productId": "vip"})),
            registration("c2", json!({})),
            registration("c3", json!({"productId": "dinner", "addOns": [{"productId": "vip"}]})),
        );
        let ids = [id("ra"), id("rb"), id("rc")];
        let order = make(2, &[(&ids[0], &a), (&ids[1], &b), (&ids[2], &c)], &tickets()).unwrap();
        let owners: Vec<_> = order.lines.iter().map(|l| l.registration_id.as_str()).collect();
        assert_eq!(owners, ["ra", "rc", "rc"]);
        assert_eq!(order.registration_ids, ids);
        assert_eq!(order.total(), Cents(15050 + 4000 + 15050));
        assert_eq!(order.line_of("rb"), None, "a registration without a product has no line, and is in the order");
        // A problem of a group member names it.
        let bad = registration("c4", json!({"addOns": [{"productId": "vip", "quantity": -1}]}));
        let Err(Error::InvalidParams(e)) = make(3, &[(&ids[0], &a), (&ids[1], &bad)], &tickets()) else {
            panic!("refused")
        };
        assert_eq!(e[0].field, "registrations.rb.addOns[0].quantity");
    }

    #[test]
    fn an_order_that_owes_nothing_is_completed_when_made() {
        let order = made(json!({}));
        assert_eq!((order.lines.len(), order.total(), order.status), (0, Cents(0), OrderStatus::Completed));
        let mut free = tickets();
        free.insert(product("free"), ticket("free", json!({"price": 0})));
        let r = registration("c1", json!({"productId": "free"}));
        let order = make(1, &[(&id("r1"), &r)], &free).unwrap();
        assert_eq!((order.lines.len(), order.status), (1, OrderStatus::Completed));
    }

    #[test]
    fn totals_past_the_largest_amount_are_refused() {
        let mut dear = tickets();
        dear.insert(product("dear"), ticket("dear", json!({"price": 999_999_999.99})));
        let r = registration("c1", json!({"productId": "dear"}));
        assert!(make(1, &[(&id("r1"), &r)], &dear).is_ok(), "the largest price once");
        let r = registration("c1", json!({"productId": "dear", "addOns": [{"productId": "dear", "quantity": 2}]}));
        let Err(Error::InvalidParams(e)) = make(1, &[(&id("r1"), &r)], &dear) else { panic!("refused") };
        assert_eq!(e[0].field, "order.total");
        let r = registration("c1", json!({"productId": "dear", "addOns": [{"productId": "dinner"}]}));
        assert!(matches!(make(1, &[(&id("r1"), &r)], &dear), Err(Error::InvalidParams(_))), "the sum too");
    }

    #[test]
    fn payments_add_up_to_the_total_and_complete_the_order() {
        let order = made(json!({"productId": "vip"}));
        let paid = order.apply(OrderAction::Pay(Cents(5000))).unwrap().unwrap();
        assert_eq!((paid.amount_paid, paid.balance_due(), paid.status), (Cents(5000), Cents(10050), order.status));
        let Err(Error::InvalidParams(e)) = paid.apply(OrderAction::Pay(Cents(10051))) else { panic!("over") };
        assert_eq!((e[0].field.as_str(), e[0].message.as_str()), ("amount", "must be at most the balance due, 100.5"));
        assert!(matches!(paid.apply(OrderAction::Pay(Cents(0))), Err(Error::InvalidParams(_))));
        let done = paid.apply(OrderAction::Pay(Cents(10050))).unwrap().unwrap();
        assert_eq!(
            (done.amount_paid, done.balance_due(), done.status),
            (Cents(15050), Cents(0), OrderStatus::Completed)
        );
        let closed = |r: Result<Option<Order>, Error>| match r {
            Err(Error::Conflict(Conflict::OrderClosed { status, action, .. })) => (status, action),
            other => panic!("{other:?}"),
        };
        assert_eq!(closed(done.apply(OrderAction::Pay(Cents(1)))), ("completed", "payment"));
        assert_eq!(closed(done.apply(OrderAction::Cancel)), ("completed", "cancellation"));
    }

    #[test]
    fn a_cancelled_order_keeps_its_payments_and_takes_no_more() {
        let order = made(json!({"productId": "vip"})).apply(OrderAction::Pay(Cents(50))).unwrap().unwrap();
        let cancelled = order.apply(OrderAction::Cancel).unwrap().unwrap();
        assert_eq!(
            (cancelled.status, cancelled.amount_paid, cancelled.balance_due()),
            (OrderStatus::Cancelled, Cents(50), Cents(15000))
        );
        assert_eq!(cancelled.apply(OrderAction::Cancel).unwrap(), None, "cancelling again changes nothing");
        assert!(matches!(
            cancelled.apply(OrderAction::Pay(Cents(1))),
            Err(Error::Conflict(Conflict::OrderClosed { action: "payment", .. }))
        ));
    }

    #[test]
    fn payment_amounts_are_money_more_than_zero() {
        assert_eq!(payment_amount(&json!(12.5)), Ok(Cents(1250)));
        for bad in [json!(0), json!(-1), json!(1.001), json!("5"), json!(null)] {
            assert!(payment_amount(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_registration_mirrors_its_order_and_keeps_it_through_a_replacement() {
        let r = registration("c1", json!({"productId": "vip", "city": "Oslo"}));
        let rid = id("r1");
        let order = make(4, &[(&rid, &r)], &tickets()).unwrap().apply(OrderAction::Pay(Cents(50))).unwrap().unwrap();
        let shown = mirrored(&r, &rid, &order);
        assert_eq!(shown.order_id.as_deref(), Some(order.id.as_str()));
        assert_eq!(shown.order_line_item_id.as_deref(), Some(order.lines[0].line_item_id.as_str()));
        assert_eq!((shown.order_number, shown.order_status), (Some(4), Some(OrderStatus::AwaitingPayment)));
        assert_eq!(
            (shown.order_total, shown.order_amount_paid, shown.order_balance_due),
            (Some(Cents(15050)), Some(Cents(50)), Some(Cents(15000)))
        );
        assert_eq!(
            (shown.order_currency_code.as_deref(), shown.order_currency_symbol.as_deref()),
            (Some("USD"), Some("$"))
        );
        assert_eq!(shown.city.as_deref(), Some("Oslo"), "the other fields stay");
        // A replacement that sends other order fields, or none, keeps the order's.
        let sent = Registration { city: Some("Rome".into()), order_total: Some(Cents(1)), order_id: None, ..r };
        let kept = keep_order_fields(sent, &shown);
        assert_eq!(kept, Registration { city: Some("Rome".into()), ..shown });
    }

    #[test]
    fn only_a_registration_without_a_live_order_needs_one() {
        let order = made(json!({"productId": "vip"}));
        let sys = Sys::new(&ActorId::new("t"));
        let stored = |order: Order| StoredOrder { order, sys: sys.clone() };
        assert!(needs_order(None));
        assert!(!needs_order(Some(&stored(order.clone()))));
        assert!(needs_order(Some(&stored(order.apply(OrderAction::Cancel).unwrap().unwrap()))));
    }

    #[test]
    fn the_modification_payload_is_every_writable_field_and_leaves_out_the_orders() {
        let r = registration("c1", json!({"productId": "vip", "orderId": "theirs", "number": 12}));
        let stored =
            StoredRegistration { id: id("r1"), number: 12, registration: r.clone(), sys: Sys::new(&ActorId::new("t")) };
        let body = modification_payload(&stored, false);
        assert_eq!((body["id"].clone(), body["sysVersion"].clone()), (json!("r1"), json!(1)));
        assert_eq!(body["orderId"], "theirs", "order fields a client set are the client's");
        assert!(!body.contains_key("number") && !body.contains_key("sysCreatedAt"), "nothing server-made");
        assert_eq!(body.len(), registration::FIELDS.len() + 2, "every field, null or not");
        let read = Registration::from_json("registration", &Value::Object(body)).unwrap();
        let unnumbered = Registration { number: None, ..r };
        assert_eq!((read.record, read.id, read.expected_version), (unnumbered, Some(id("r1")), Some(1)));
        let ordered = modification_payload(&stored, true);
        assert!(ORDER_FIELDS.iter().all(|f| !ordered.contains_key(*f)));
        assert_eq!(ordered.len(), registration::FIELDS.len() + 2 - ORDER_FIELDS.len());
    }

    #[test]
    fn an_order_is_shown_with_its_totals_and_a_quote_without_ids() {
        let order = made(json!({"productId": "vip", "addOns": [{"productId": "dinner", "quantity": 2}]}));
        let shown = Value::Object(StoredOrder { order: order.clone(), sys: Sys::new(&ActorId::new("t")) }.to_json());
        let names: Vec<&str> = shown.as_object().unwrap().keys().map(String::as_str).collect();
        // Shown in the order of MEMBERS, which is what a `fields` list may name.
        assert_eq!(names, MEMBERS);
        assert_eq!((shown["total"].clone(), shown["balanceDue"].clone()), (json!(230.5), json!(230.5)));
        assert_eq!(
            shown["lines"][1],
            json!({"lineItemId": order.lines[1].line_item_id, "registrationId": "r1",
            "productId": "dinner", "description": "Summit: Standard", "quantity": 2, "unitPrice": 40, "total": 80})
        );
        let line: OrderLine = serde_json::from_value(shown["lines"][1].clone()).unwrap();
        assert_eq!(line, order.lines[1], "a line reads back as written");
        let r = registration("c1", json!({"productId": "vip", "addOns": [{"productId": "dinner", "quantity": 2}]}));
        let quoted = serde_json::to_value(quote(&r, &tickets()).unwrap()).unwrap();
        assert_eq!(
            quoted,
            json!({"currencyCode": "USD", "currencySymbol": "$", "lines": [
            {"productId": "vip", "description": "Summit: VIP", "quantity": 1, "unitPrice": 150.5, "total": 150.5},
            {"productId": "dinner", "description": "Summit: Standard", "quantity": 2, "unitPrice": 40, "total": 80}
        ], "total": 230.5, "amountPaid": 0, "balanceDue": 230.5})
        );
    }

    #[test]
    fn the_list_reads_one_value_or_a_list_of_each_filter() {
        let read = |q: Value| {
            let mut input = super::super::input::Input::new("", &q).unwrap();
            let query = OrderQuery::read(&mut input);
            input.finish().map(|()| query)
        };
        let both = read(json!({"status": "completed", "registrationId": ["r1", "r2"]})).unwrap();
        assert_eq!(both.statuses, Some(vec![OrderStatus::Completed]));
        assert_eq!(both.registration_ids, Some(vec!["r1".to_owned(), "r2".to_owned()]));
        assert_eq!(read(json!({})).unwrap(), OrderQuery::default());
        let errors = read(json!({"status": ["paid"], "registrationId": [], "other": 1})).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["status", "registrationId", "other"]);
        assert!(errors[0].message.starts_with("must be one of awaiting payment, "), "{}", errors[0].message);
    }

    #[test]
    fn order_numbers_count_up_and_stop_at_the_largest() {
        assert_eq!(next_number(0).unwrap(), 1);
        assert_eq!(next_number(41).unwrap(), 42);
        assert!(next_number(MAX_NUMBER).is_err());
    }

    #[test]
    fn only_registrations_that_are_not_cancelled_or_locked_are_ordered() {
        let stored = |extra: Value| StoredRegistration {
            id: id("r1"),
            number: 1,
            registration: registration("c1", extra),
            sys: Sys::new(&ActorId::new("t")),
        };
        assert!(check_orderable(&stored(json!({"status": "draft"}))).is_ok());
        assert!(matches!(
            check_orderable(&stored(json!({"status": "cancelled"}))),
            Err(Error::Conflict(Conflict::NotActive { .. }))
        ));
        assert!(matches!(check_orderable(&stored(json!({"sysLocked": true}))), Err(Error::Locked { .. })));
    }
}
