//! Orders over HTTP, held to API.md section 9: `registration.generateOrder` (an order made once and answered again
//! unchanged, a quote that stores nothing), `registration.generateGroupOrder`, `registration.getModificationPayload`
//! (sent back, it changes nothing), and `order.get`, `order.list`, `order.recordPayment`, `order.cancel`: every method
//! in both wire forms, its answer and each refusal it can give (a refusal changing nothing); certificates and e-mails
//! seeing the registration's order; numbering per network under concurrent calls; and random sequences of creates,
//! orders, payments, cancellations and registration changes after which every order adds up and every
//! registration's order fields are its order's.

use crate::common;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use common::{
    Client, RpcError, WIRES, Wire, call_many, create_registration, manager, network, ok, refused, registration, rpc,
    ticket,
};
use futures_util::future::join_all;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

const GENERATE: &str = "registration.generateOrder";
const GROUP: &str = "registration.generateGroupOrder";
const PAYLOAD: &str = "registration.getModificationPayload";
const GET: &str = "order.get";
const LIST: &str = "order.list";
const PAY: &str = "order.recordPayment";
const CANCEL: &str = "order.cancel";

use ticket_admin::domain::order::ORDER_FIELDS;

/// `base` with the members of `extra` laid over it.
fn with(mut base: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().expect("an object") {
        base[k] = v.clone();
    }
    base
}

/// A manager of a new network that sells `vip` (150.50) and `dinner` (40).
async fn shop(prefix: &str) -> Client {
    let client = manager(&network(prefix)).await;
    for (id, name, price) in [("vip", "VIP", json!(150.5)), ("dinner", "Dinner", json!(40))] {
        let t = with(ticket(id), json!({"ticketName": name, "price": price}));
        client.call("ticket.createPurchasableTicket", json!({"ticket": t})).await.expect("a ticket");
    }
    client
}

/// A registration of `contact` with `extra`, as made.
async fn register(client: &Client, contact: &str, extra: Value) -> Value {
    create_registration(client, with(registration(contact), extra)).await.expect("a registration")
}

/// An amount of money as cents (the wire's numbers have at most two decimals).
fn cents(v: &Value) -> i64 {
    (v.as_f64().unwrap_or_else(|| panic!("an amount: {v}")) * 100.0).round() as i64
}

/// The order fields a registration has when `order` is its order.
fn mirror_of(order: &Value, registration_id: &Value) -> Value {
    let line = order["lines"].as_array().expect("lines").iter().find(|l| l["registrationId"] == *registration_id);
    json!({
        "orderId": order["orderId"], "orderLineItemId": line.map_or(Value::Null, |l| l["lineItemId"].clone()),
        "orderNumber": order["orderNumber"], "orderBalanceDue": order["balanceDue"],
        "orderAmountPaid": order["amountPaid"], "orderCurrencyCode": "USD", "orderCurrencySymbol": "$",
        "orderStatus": order["status"], "orderTotal": order["total"],
    })
}

/// The order fields of a registration.
fn order_fields(registration: &Value) -> Value {
    Value::Object(ORDER_FIELDS.iter().map(|f| ((*f).to_owned(), registration[*f].clone())).collect())
}

fn assert_conflict(e: &RpcError, reason: &str) {
    assert_eq!((e.code, e.reason()), (-32009, reason), "{e:?}");
}

fn assert_invalid(e: &RpcError, field: &str) {
    assert_eq!(e.code, -32602, "{e:?}");
    assert!(e.fields().iter().any(|f| f == field), "{field} in {e:?}");
}

async fn get_registration(client: &Client, id: &Value) -> Value {
    client.call("registration.get", json!({"id": id})).await.expect("the registration")["registration"].clone()
}

async fn order_count(client: &Client) -> i64 {
    client.call(LIST, json!({})).await.expect("the orders")["count"].as_i64().expect("count")
}

#[tokio::test]
async fn an_order_is_priced_made_once_and_asked_again_answers_it_unchanged() {
    for wire in WIRES {
        let c = shop("order-make").await;
        let addons =
            json!([{"productId": "dinner", "quantity": 2}, {"note": "not a product"}, {"productId": "dinner"}]);
        let r = register(&c, "c1", json!({"productId": "vip", "addOns": addons, "city": "Oslo"})).await;
        let made = ok(&c, wire, GENERATE, json!({"id": r["id"]})).await;
        let order = made["order"].clone();
        let line_ids: Vec<Value> = order["lines"].as_array().unwrap().iter().map(|l| l["lineItemId"].clone()).collect();
        assert_eq!(
            line_ids.iter().map(Value::to_string).collect::<BTreeSet<_>>().len(),
            3,
            "each line has an id of its own"
        );
        let line = |n: usize, product: &str, description: &str, quantity: i64, unit: Value, total: Value| {
            json!({"lineItemId": line_ids[n], "registrationId": r["id"], "productId": product,
                   "description": description, "quantity": quantity, "unitPrice": unit, "total": total})
        };
        let expected = json!({
            "orderId": order["orderId"], "orderNumber": 1, "status": "awaiting payment", "currencyCode": "USD",
            "currencySymbol": "$",
            "lines": [
                line(0, "vip", "Summit 2027: VIP", 1, json!(150.5), json!(150.5)),
                line(1, "dinner", "Summit 2027: Dinner", 2, json!(40), json!(80)),
                line(2, "dinner", "Summit 2027: Dinner", 1, json!(40), json!(40)),
            ],
            "total": 270.5, "amountPaid": 0, "balanceDue": 270.5, "registrationIds": [r["id"]], "sysVersion": 1,
            "sysCreatedAt": order["sysCreatedAt"], "sysLastModifiedAt": order["sysCreatedAt"],
            "sysCreatedById": r["sysCreatedById"], "sysLastModifiedById": r["sysCreatedById"],
        });
        assert_eq!(order, expected, "{wire:?}");
        // The registration's own order fields, in the same write; nothing else of it changed.
        let mirrored = made["registration"].clone();
        let mut expected = with(r.clone(), mirror_of(&order, &r["id"]));
        expected["sysVersion"] = json!(2);
        expected["sysLastModifiedAt"] = mirrored["sysLastModifiedAt"].clone();
        assert_eq!(mirrored, expected);
        assert_eq!(mirrored["orderLineItemId"], line_ids[0], "its ticket's line");
        assert_eq!(get_registration(&c, &r["id"]).await, mirrored, "stored as answered");
        assert_eq!(ok(&c, wire, GET, json!({"orderId": order["orderId"]})).await, json!({"order": order}));
        let by_order = c.call("registration.listByOrder", json!({"orderId": order["orderId"]})).await.unwrap();
        assert_eq!(by_order["items"], json!([mirrored]));

        // Asked again (a retry): the same order and registration, nothing written.
        assert_eq!(ok(&c, wire, GENERATE, json!({"id": r["id"]})).await, made);
        assert_eq!(get_registration(&c, &r["id"]).await["sysVersion"], 2);
        assert_eq!(order_count(&c).await, 1);
    }
}

#[tokio::test]
async fn a_quote_prices_an_unsaved_registration_and_stores_nothing() {
    for wire in WIRES {
        let c = shop("order-quote").await;
        let unsaved =
            with(registration("c1"), json!({"productId": "dinner", "addOns": [{"productId": "vip", "quantity": 3}]}));
        let quoted = ok(&c, wire, GENERATE, json!({"registration": unsaved})).await;
        assert_eq!(
            quoted,
            json!({"order": {"currencyCode": "USD", "currencySymbol": "$", "lines": [
            {"productId": "dinner", "description": "Summit 2027: Dinner", "quantity": 1, "unitPrice": 40, "total": 40},
            {"productId": "vip", "description": "Summit 2027: VIP", "quantity": 3, "unitPrice": 150.5, "total": 451.5},
        ], "total": 491.5, "amountPaid": 0, "balanceDue": 491.5}})
        );
        let nothing = ok(&c, wire, GENERATE, json!({"registration": registration("c2")})).await;
        assert_eq!((nothing["order"]["lines"].clone(), nothing["order"]["total"].clone()), (json!([]), json!(0)));
        assert_eq!(order_count(&c).await, 0, "a quote stores no order");
        assert_eq!(c.call("registration.search", json!({})).await.unwrap()["count"], 0, "nor a registration");

        // The quote's refusals: a missing ticket, a malformed add-on, an invalid registration, an id in it.
        let missing = with(registration("c1"), json!({"addOns": [{"productId": "gone"}]}));
        let e = refused(&c, wire, GENERATE, json!({"registration": missing})).await;
        assert_conflict(&e, "missingReference");
        assert_eq!((e.data["id"].clone(), e.data["field"].clone()), (json!("gone"), json!("addOns.productId")));
        let bad = with(registration("c1"), json!({"addOns": [{"productId": "vip", "quantity": 0}]}));
        assert_invalid(
            &refused(&c, wire, GENERATE, json!({"registration": bad})).await,
            "registration.addOns[0].quantity",
        );
        let invalid = with(registration("c1"), json!({"status": "gone"}));
        assert_invalid(&refused(&c, wire, GENERATE, json!({"registration": invalid})).await, "registration.status");
        let named = with(registration("c1"), json!({"id": "r1"}));
        assert_invalid(&refused(&c, wire, GENERATE, json!({"registration": named})).await, "registration.id");
    }
}

#[tokio::test]
async fn generate_order_refuses_what_it_cannot_order_and_changes_nothing() {
    for wire in WIRES {
        let c = shop("order-refused").await;
        assert_invalid(&refused(&c, wire, GENERATE, json!({})).await, "params");
        let both = json!({"id": "r1", "registration": registration("c1")});
        assert_invalid(&refused(&c, wire, GENERATE, both).await, "params");
        assert_invalid(&refused(&c, wire, GENERATE, json!({"id": 5})).await, "id");
        assert_invalid(&refused(&c, wire, GENERATE, json!({"id": "r1", "colour": "red"})).await, "colour");
        let e = refused(&c, wire, GENERATE, json!({"id": "no-such-registration"})).await;
        assert_eq!(
            (e.code, e.data.clone()),
            (-32004, json!({"resource": "registration", "id": "no-such-registration"}))
        );

        // A ticket that no longer exists: a draft holding it (only active ones keep a ticket from deletion).
        c.call("ticket.createPurchasableTicket", json!({"ticket": ticket("retired")})).await.unwrap();
        let draft = register(&c, "c1", json!({"productId": "retired", "status": "draft"})).await;
        c.call("ticket.deletePurchasableTicket", json!({"productId": "retired"})).await.unwrap();
        let e = refused(&c, wire, GENERATE, json!({"id": draft["id"]})).await;
        assert_conflict(&e, "missingReference");
        assert_eq!((e.data["id"].clone(), e.data["field"].clone()), (json!("retired"), json!("productId")));
        let addon = register(&c, "c2", json!({"productId": "vip", "addOns": [{"productId": "retired"}]})).await;
        assert_conflict(&refused(&c, wire, GENERATE, json!({"id": addon["id"]})).await, "missingReference");
        let malformed = register(&c, "c3", json!({"addOns": [{"productId": "vip", "quantity": "two"}]})).await;
        let e = refused(&c, wire, GENERATE, json!({"id": malformed["id"]})).await;
        assert_invalid(&e, "registration.addOns[0].quantity");
        let cancelled = register(&c, "c4", json!({"productId": "vip", "status": "cancelled"})).await;
        let e = refused(&c, wire, GENERATE, json!({"id": cancelled["id"]})).await;
        assert_conflict(&e, "notActive");
        assert_eq!(e.data["status"], "cancelled");
        let locked = register(&c, "c5", json!({"productId": "vip", "sysLocked": true})).await;
        assert_eq!(refused(&c, wire, GENERATE, json!({"id": locked["id"]})).await.code, -32023);

        // Nothing was written: no order, no number taken, each registration as it was.
        assert_eq!(order_count(&c).await, 0);
        for r in [&draft, &addon, &malformed, &cancelled, &locked] {
            assert_eq!(get_registration(&c, &r["id"]).await, *r);
        }
        let fine = register(&c, "c6", json!({"productId": "vip"})).await;
        assert_eq!(ok(&c, wire, GENERATE, json!({"id": fine["id"]})).await["order"]["orderNumber"], 1);
    }
}

#[tokio::test]
async fn a_group_order_holds_every_active_member_without_an_order() {
    for wire in WIRES {
        let c = shop("order-group").await;
        let member = |extra: Value| with(json!({"groupId": "g1"}), extra);
        let first = register(&c, "c1", member(json!({"productId": "vip"}))).await;
        let alone = ok(&c, Wire::Plain, GENERATE, json!({"id": first["id"]})).await["order"].clone();
        let second =
            register(&c, "c2", member(json!({"productId": "dinner", "addOns": [{"productId": "dinner"}]}))).await;
        let third = register(&c, "c3", member(json!({}))).await;
        register(&c, "c4", member(json!({"productId": "vip", "status": "cancelled"}))).await;
        register(&c, "c5", member(json!({"productId": "vip", "status": "draft"}))).await;
        register(&c, "c6", json!({"productId": "vip", "groupId": "g2"})).await;

        let made = ok(&c, wire, GROUP, json!({"groupId": "g1"})).await;
        let order = &made["order"];
        assert_eq!((order["orderNumber"].clone(), order["total"].clone()), (json!(2), json!(80)));
        assert_eq!(order["registrationIds"], json!([second["id"], third["id"]]), "the active members without one");
        let owners: Vec<&Value> = order["lines"].as_array().unwrap().iter().map(|l| &l["registrationId"]).collect();
        assert_eq!(owners, [&second["id"], &second["id"]], "a member without a product has no line");
        let registrations = made["registrations"].as_array().unwrap();
        assert_eq!(registrations.len(), 2);
        for (shown, made) in registrations.iter().zip([&second, &third]) {
            assert_eq!(shown["id"], made["id"]);
            assert_eq!(order_fields(shown), mirror_of(order, &made["id"]));
            assert_eq!(get_registration(&c, &made["id"]).await, *shown);
        }
        assert_eq!(order_fields(&registrations[1])["orderLineItemId"], Value::Null);
        assert_eq!(get_registration(&c, &first["id"]).await["orderId"], alone["orderId"], "its own order stays");

        // Nothing left to order: -32004, saying that the group's active members are ordered and by which orders,
        // which a group that has no registration at all does not.
        let spent = refused(&c, wire, GROUP, json!({"groupId": "g1"})).await;
        assert_eq!(spent.code, -32004);
        assert_eq!(
            spent.message,
            "group g1 has no registration to order: each of its 3 active registrations is in an order already"
        );
        let holding = json!([alone["orderId"], order["orderId"]]);
        assert_eq!(spent.data, json!({"resource": "group", "id": "g1", "activeRegistrations": 3, "orderIds": holding}));
        let missing = refused(&c, wire, GROUP, json!({"groupId": "nobody"})).await;
        assert_eq!(
            (missing.code, missing.message.as_str(), missing.data.clone()),
            (-32004, "group nobody not found", json!({"resource": "group", "id": "nobody"}))
        );
        assert_invalid(&refused(&c, wire, GROUP, json!({})).await, "groupId");
        assert_invalid(&refused(&c, wire, GROUP, json!({"groupId": "a b"})).await, "groupId");
        // A member holding a ticket that no longer exists refuses the whole group, which stays unordered.
        c.call("ticket.createPurchasableTicket", json!({"ticket": ticket("retired")})).await.unwrap();
        let stale = register(&c, "c7", json!({"groupId": "g3", "addOns": [{"productId": "retired"}]})).await;
        let fine = register(&c, "c8", json!({"groupId": "g3", "productId": "vip"})).await;
        c.call("ticket.deletePurchasableTicket", json!({"productId": "retired"})).await.unwrap();
        assert_conflict(&refused(&c, wire, GROUP, json!({"groupId": "g3"})).await, "missingReference");
        assert_eq!(get_registration(&c, &fine["id"]).await, fine);
        assert_eq!(get_registration(&c, &stale["id"]).await, stale);
        let locked = register(&c, "c9", json!({"groupId": "g4", "productId": "vip", "sysLocked": true})).await;
        assert_eq!(refused(&c, wire, GROUP, json!({"groupId": "g4"})).await.code, -32023);
        assert_eq!(get_registration(&c, &locked["id"]).await, locked);
        assert_eq!(order_count(&c).await, 2);
    }
}

#[tokio::test]
async fn payments_complete_an_order_and_a_cancelled_one_frees_its_registrations() {
    for wire in WIRES {
        let c = shop("order-pay").await;
        let r = register(&c, "c1", json!({"productId": "vip"})).await;
        let order = ok(&c, wire, GENERATE, json!({"id": r["id"]})).await["order"].clone();
        let id = order["orderId"].clone();

        for (amount, field) in
            [(json!(0), "amount"), (json!(-1), "amount"), (json!(1.001), "amount"), (json!("5"), "amount")]
        {
            assert_invalid(&refused(&c, wire, PAY, json!({"orderId": id, "amount": amount})).await, field);
        }
        assert_invalid(&refused(&c, wire, PAY, json!({"orderId": id})).await, "amount");
        let over = refused(&c, wire, PAY, json!({"orderId": id, "amount": 150.51})).await;
        assert_invalid(&over, "amount");
        assert!(over.message.contains("at most the balance due, 150.5"), "{}", over.message);
        let stale = refused(&c, wire, PAY, json!({"orderId": id, "amount": 1, "sysVersion": 2})).await;
        assert_conflict(&stale, "staleVersion");
        let e = refused(&c, wire, PAY, json!({"orderId": "no-such-order", "amount": 1})).await;
        assert_eq!((e.code, e.data.clone()), (-32004, json!({"resource": "order", "id": "no-such-order"})));
        assert_eq!(ok(&c, wire, GET, json!({"orderId": id})).await["order"], order, "the refusals changed nothing");

        let paid = ok(&c, wire, PAY, json!({"orderId": id, "amount": 100.25, "sysVersion": 1})).await["order"].clone();
        assert_eq!(
            (
                paid["amountPaid"].clone(),
                paid["balanceDue"].clone(),
                paid["status"].clone(),
                paid["sysVersion"].clone()
            ),
            (json!(100.25), json!(50.25), json!("awaiting payment"), json!(2))
        );
        assert_eq!(order_fields(&get_registration(&c, &r["id"]).await), mirror_of(&paid, &r["id"]));
        let done = ok(&c, wire, PAY, json!({"orderId": id, "amount": 50.25})).await["order"].clone();
        assert_eq!((done["balanceDue"].clone(), done["status"].clone()), (json!(0), json!("completed")));
        let registration_now = get_registration(&c, &r["id"]).await;
        assert_eq!(order_fields(&registration_now), mirror_of(&done, &r["id"]));
        assert_eq!(registration_now["sysVersion"], 4, "made, paid, paid");
        let e = refused(&c, wire, PAY, json!({"orderId": id, "amount": 1})).await;
        assert_conflict(&e, "orderClosed");
        assert_eq!(e.data, json!({"reason": "orderClosed", "resource": "order", "id": id, "status": "completed"}));
        assert_conflict(&refused(&c, wire, CANCEL, json!({"orderId": id})).await, "orderClosed");

        // A cancelled order keeps its payments; its registration keeps its place and may be ordered again.
        let second = register(&c, "c2", json!({"productId": "vip"})).await;
        let order = ok(&c, wire, GENERATE, json!({"id": second["id"]})).await["order"].clone();
        let other = order["orderId"].clone();
        ok(&c, wire, PAY, json!({"orderId": other, "amount": 10})).await;
        assert_conflict(&refused(&c, wire, CANCEL, json!({"orderId": other, "sysVersion": 1})).await, "staleVersion");
        assert_eq!(refused(&c, wire, CANCEL, json!({"orderId": "no-such-order"})).await.code, -32004);
        assert_invalid(&refused(&c, wire, CANCEL, json!({})).await, "orderId");
        let cancelled = ok(&c, wire, CANCEL, json!({"orderId": other, "sysVersion": 2})).await["order"].clone();
        assert_eq!(
            (cancelled["status"].clone(), cancelled["amountPaid"].clone(), cancelled["balanceDue"].clone()),
            (json!("cancelled"), json!(10), json!(140.5))
        );
        let kept = get_registration(&c, &second["id"]).await;
        assert_eq!((kept["status"].clone(), kept["orderStatus"].clone()), (json!("active"), json!("cancelled")));
        let vip = c.call("ticket.getPurchasableTicket", json!({"productId": "vip"})).await.unwrap();
        assert_eq!(vip["ticket"]["sold"], 2, "both registrations keep their seats");
        assert_eq!(ok(&c, wire, CANCEL, json!({"orderId": other})).await["order"], cancelled, "again: unchanged");
        assert_conflict(&refused(&c, wire, PAY, json!({"orderId": other, "amount": 1})).await, "orderClosed");

        let again = ok(&c, wire, GENERATE, json!({"id": second["id"]})).await;
        assert_eq!((again["order"]["orderNumber"].clone(), again["order"]["amountPaid"].clone()), (json!(3), json!(0)));
        assert_eq!(order_fields(&again["registration"]), mirror_of(&again["order"], &second["id"]));
        let both = ok(&c, wire, LIST, json!({"registrationId": second["id"]})).await;
        let numbers: Vec<&Value> = both["items"].as_array().unwrap().iter().map(|o| &o["orderNumber"]).collect();
        assert_eq!(numbers, [&json!(2), &json!(3)]);
    }
}

#[tokio::test]
async fn order_get_and_list_find_filter_page_and_trim() {
    for wire in WIRES {
        let c = shop("order-list").await;
        let mut made = Vec::new();
        for i in 0..5 {
            let r = register(&c, &format!("c{i}"), json!({"productId": "vip"})).await;
            made.push((r["id"].clone(), ok(&c, Wire::Plain, GENERATE, json!({"id": r["id"]})).await["order"].clone()));
        }
        ok(&c, Wire::Plain, CANCEL, json!({"orderId": made[1].1["orderId"]})).await;
        ok(&c, Wire::Plain, PAY, json!({"orderId": made[2].1["orderId"], "amount": 150.5})).await;

        let all = ok(&c, wire, LIST, json!({})).await;
        assert_eq!((all["count"].clone(), all["nextCursor"].clone()), (json!(5), Value::Null));
        let numbers: Vec<i64> =
            all["items"].as_array().unwrap().iter().map(|o| o["orderNumber"].as_i64().unwrap()).collect();
        assert_eq!(numbers, [1, 2, 3, 4, 5], "in creation order");
        for item in all["items"].as_array().unwrap() {
            assert_eq!(ok(&c, wire, GET, json!({"orderId": item["orderId"]})).await["order"], *item);
        }
        let open = ok(&c, wire, LIST, json!({"status": "awaiting payment"})).await;
        assert_eq!(open["count"], 3);
        let closed = ok(&c, wire, LIST, json!({"status": ["cancelled", "completed"], "fields": ["status"]})).await;
        assert_eq!(
            closed["items"],
            json!([
                {"orderId": made[1].1["orderId"], "status": "cancelled"},
                {"orderId": made[2].1["orderId"], "status": "completed"},
            ])
        );
        let by = ok(
            &c,
            wire,
            LIST,
            json!({"registrationId": [made[0].0, made[4].0, "nobody"], "status": ["awaiting payment"]}),
        )
        .await;
        assert_eq!(by["count"], 2);
        let none = ok(&c, wire, LIST, json!({"registrationId": "nobody"})).await;
        assert_eq!(none, json!({"count": 0, "items": [], "nextCursor": null}));

        // Pages of two walk all five, none skipped or repeated.
        let mut walked = Vec::new();
        let mut cursor = Value::Null;
        loop {
            let mut params = json!({"limit": 2, "fields": ["orderNumber"]});
            if !cursor.is_null() {
                params["cursor"] = cursor.clone();
            }
            let page = ok(&c, wire, LIST, params).await;
            assert_eq!(page["count"], 5);
            walked.extend(page["items"].as_array().unwrap().iter().map(|o| o["orderNumber"].as_i64().unwrap()));
            cursor = page["nextCursor"].clone();
            if cursor.is_null() {
                break;
            }
        }
        assert_eq!(walked, [1, 2, 3, 4, 5]);

        assert_invalid(&refused(&c, wire, LIST, json!({"status": "paid"})).await, "status");
        assert_invalid(&refused(&c, wire, LIST, json!({"status": []})).await, "status");
        assert_invalid(&refused(&c, wire, LIST, json!({"registrationId": [1]})).await, "registrationId");
        assert_invalid(&refused(&c, wire, LIST, json!({"limit": 0})).await, "limit");
        assert_invalid(&refused(&c, wire, LIST, json!({"cursor": "nonsense"})).await, "cursor");
        assert_invalid(&refused(&c, wire, LIST, json!({"fields": ["colour"]})).await, "fields[0]");
        assert_invalid(&refused(&c, wire, GET, json!({})).await, "orderId");
        let e = refused(&c, wire, GET, json!({"orderId": "no-such-order"})).await;
        assert_eq!((e.code, e.data.clone()), (-32004, json!({"resource": "order", "id": "no-such-order"})));
        // Another network's orders are not found, nor listed.
        let elsewhere = manager(&network("order-list-other")).await;
        assert_eq!(refused(&elsewhere, wire, GET, json!({"orderId": made[0].1["orderId"]})).await.code, -32004);
        assert_eq!(ok(&elsewhere, wire, LIST, json!({})).await["count"], 0);
    }
}

#[tokio::test]
async fn the_modification_payload_sent_back_unchanged_changes_nothing() {
    for wire in WIRES {
        let c = shop("order-payload").await;
        let r = register(
            &c,
            "c1",
            json!({"productId": "vip", "city": "Oslo", "orderTotal": 12.5, "sessions": [{"id": "s1"}],
            "addOns": [{"productId": "dinner"}], "number": 7}),
        )
        .await;
        // Before the server orders it, the order fields are the client's, and in the payload.
        let payload = ok(&c, wire, PAYLOAD, json!({"id": r["id"]})).await["registration"].clone();
        let mut expected = r.clone();
        for made in ["number", "sysCreatedAt", "sysLastModifiedAt", "sysCreatedById", "sysLastModifiedById"] {
            expected.as_object_mut().unwrap().remove(made);
        }
        assert_eq!(payload, expected, "its id, every writable field and sysVersion, nothing server-made");
        let updated =
            ok(&c, wire, "registration.update", json!({"registration": payload})).await["registration"].clone();
        assert_eq!(updated, r, "unchanged, sysVersion and times included");

        // Once ordered, the order fields are the order's and left out.
        let made = ok(&c, wire, GENERATE, json!({"id": r["id"]})).await;
        let ordered = made["registration"].clone();
        let payload = ok(&c, wire, PAYLOAD, json!({"id": r["id"]})).await["registration"].clone();
        assert!(ORDER_FIELDS.iter().all(|f| payload.get(*f).is_none()), "{payload}");
        assert_eq!(payload["sysVersion"], 2);
        let updated = ok(&c, wire, "registration.update", json!({"registration": payload.clone()})).await;
        assert_eq!(updated["registration"], ordered, "unchanged");
        // A change made from it changes what it says and keeps the order fields; sending order fields changes none.
        let changed = with(payload.clone(), json!({"city": "Rome", "orderTotal": 1, "orderStatus": "void"}));
        let updated =
            ok(&c, wire, "registration.update", json!({"registration": changed})).await["registration"].clone();
        assert_eq!((updated["city"].clone(), updated["sysVersion"].clone()), (json!("Rome"), json!(3)));
        assert_eq!(order_fields(&updated), order_fields(&ordered));
        let patch =
            json!([{"op": "replace", "path": "/orderAmountPaid", "value": 99}, {"op": "remove", "path": "/orderId"}]);
        let patched = ok(&c, wire, "registration.patch", json!({"id": r["id"], "patch": patch})).await;
        assert_eq!(patched["registration"], updated, "a patch of the order fields alone changes nothing");
        let stale = refused(&c, wire, "registration.update", json!({"registration": payload})).await;
        assert_conflict(&stale, "staleVersion");

        assert_invalid(&refused(&c, wire, PAYLOAD, json!({})).await, "id");
        let e = refused(&c, wire, PAYLOAD, json!({"id": "no-such-registration"})).await;
        assert_eq!(e.code, -32004);
    }
}

#[tokio::test]
async fn certificates_and_emails_see_the_registrations_order_once_it_has_one() {
    for wire in WIRES {
        let c = shop("order-certificate").await;
        let r = register(&c, "c1", json!({"productId": "vip"})).await;
        let tried = "{% if order is defined %}Order {{ order.orderNumber }}: {{ order.total }}, {{ order.balanceDue }} \
                     due ({{ order.status }}){% else %}No order{% endif %}";
        let preview = json!({"registrationId": r["id"], "certificateTemplate": tried});
        let html = |answer: Value| answer["html"].as_str().expect("a page").to_owned();
        let before = html(ok(&c, wire, "registration.previewCertificate", preview.clone()).await);
        assert!(before.contains("No order"), "{before}");
        let order = ok(&c, wire, GENERATE, json!({"id": r["id"]})).await["order"].clone();
        ok(&c, wire, PAY, json!({"orderId": order["orderId"], "amount": 50.5})).await;
        let after = html(ok(&c, wire, "registration.previewCertificate", preview).await);
        assert!(after.contains("Order 1: 150.5, 100 due (awaiting payment)"), "{after}");

        let body = "<p>{{ order.lines[0].description }}</p>";
        ok(&c, wire, "template.put", json!({"kind": "certificate", "body": body})).await;
        let certificate = html(ok(&c, wire, "registration.getCertificate", json!({"id": r["id"]})).await);
        assert!(certificate.contains("<p>Summit 2027: VIP</p>"), "{certificate}");
        let e =
            refused(&c, wire, "template.put", json!({"kind": "certificate", "body": "<p>{{ order.totl }}</p>"})).await;
        assert_invalid(&e, "body");

        // An e-mail sees it too.
        let email = json!({"subject": "Order {{ order.orderNumber }}", "body": "<p>{{ order.balanceDue }} due</p>"});
        let params =
            json!({"registrationId": r["id"], "destinationEmailAddress": "ada@example.org", "emailTemplate": email});
        let message = ok(&c, wire, "registration.previewEmail", params).await["message"].clone();
        assert_eq!(message["subject"], "[Preview] Order 1");
        assert!(message["html"].as_str().unwrap().contains("<p>100 due</p>"), "{message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_orders_are_numbered_per_network_without_repeat_or_gap() {
    let c = shop("order-numbers").await;
    let params =
        (0..60).map(|i| json!({"registration": with(registration(&format!("c{i}")), json!({"productId": "vip"}))}));
    let made = call_many(&c, "registration.create", params.collect()).await;
    let ids: Vec<Value> = made.iter().map(|r| r["registration"]["id"].clone()).collect();
    // Each registration ordered twice at once, in both wire forms: one order each, the second answering the first.
    let calls = ids.iter().chain(&ids).enumerate().map(|(n, id)| {
        let (c, id) = (c.clone(), id.clone());
        let wire = WIRES[n % 2];
        tokio::spawn(async move { (id.clone(), rpc(&c, wire, GENERATE, json!({"id": id})).await) })
    });
    let mut by_registration: HashMap<String, Value> = HashMap::new();
    for outcome in join_all(calls).await {
        let (id, answer) = outcome.expect("the call ran");
        let order = answer.expect("an order")["order"].clone();
        let first = by_registration.entry(id.as_str().unwrap().to_owned()).or_insert_with(|| order.clone());
        assert_eq!(*first, order, "one order per registration");
    }
    let numbers: BTreeSet<i64> = by_registration.values().map(|o| o["orderNumber"].as_i64().unwrap()).collect();
    assert_eq!(numbers, (1..=60).collect(), "each number once, none skipped");
    assert_eq!(order_count(&c).await, 60);
    // Numbers are the network's: another starts from 1.
    let other = shop("order-numbers-other").await;
    let r = register(&other, "c1", json!({"productId": "vip"})).await;
    assert_eq!(ok(&other, Wire::Bare, GENERATE, json!({"id": r["id"]})).await["order"]["orderNumber"], 1);
}

/// A random sequence's registrations and orders as the test knows them (ids only: the server holds the state).
struct Sequence {
    client: Client,
    rng: StdRng,
    registrations: Vec<Value>,
    orders: Vec<Value>,
    /// Payments and cancellations taken, so that a run shows it exercised them.
    changes: usize,
}

impl Sequence {
    fn wire(&mut self) -> Wire {
        WIRES[self.rng.random_range(0..2)]
    }

    fn pick(&mut self, from: usize) -> Option<usize> {
        (from > 0).then(|| self.rng.random_range(0..from))
    }

    /// A random product entry, once in a while one that names no ticket.
    fn product(&mut self) -> &'static str {
        ["vip", "dinner", "dinner", "vip", "gone"][self.rng.random_range(0..5)]
    }

    /// One random step; a refusal must be one the call can give, never an internal error.
    async fn step(&mut self) {
        let wire = self.wire();
        let c = self.client.clone();
        let outcome = match self.rng.random_range(0..10) {
            0 | 1 => {
                let mut extra = json!({"groupId": format!("g{}", self.rng.random_range(0..3))});
                if self.rng.random_bool(0.8) {
                    extra["productId"] = json!(["vip", "dinner"][self.rng.random_range(0..2)]);
                }
                let addons: Vec<Value> = (0..self.rng.random_range(0..3))
                    .map(|_| match self.rng.random_range(0..3) {
                        0 => json!({"productId": self.product()}),
                        1 => json!({"productId": self.product(), "quantity": self.rng.random_range(1..4)}),
                        _ => json!({"note": "kept, not priced"}),
                    })
                    .collect();
                extra["addOns"] = json!(addons);
                extra["status"] = json!(["active", "active", "active", "draft"][self.rng.random_range(0..4)]);
                let contact = format!("c{}", self.registrations.len());
                let r = with(registration(&contact), extra);
                rpc(&c, wire, "registration.create", json!({"registration": r})).await.map(|made| {
                    self.registrations.push(made["registration"]["id"].clone());
                })
            }
            2 | 3 => match self.pick(self.registrations.len()) {
                None => Ok(()),
                Some(i) => {
                    let id = self.registrations[i].clone();
                    let first = rpc(&c, wire, GENERATE, json!({"id": id})).await;
                    if let Ok(made) = &first {
                        // Asked again, the same answer.
                        assert_eq!(rpc(&c, wire, GENERATE, json!({"id": id})).await.as_ref().ok(), Some(made));
                        self.note_order(&made["order"]);
                    }
                    first.map(|_| ())
                }
            },
            4 => {
                let group = format!("g{}", self.rng.random_range(0..3));
                let made = rpc(&c, wire, GROUP, json!({"groupId": group})).await;
                made.map(|made| self.note_order(&made["order"]))
            }
            5 | 6 => match self.pick(self.orders.len()) {
                None => Ok(()),
                Some(i) => {
                    let id = self.orders[i].clone();
                    let order = c.call(GET, json!({"orderId": id})).await.expect("the order")["order"].clone();
                    let due = cents(&order["balanceDue"]);
                    let amount = match self.rng.random_range(0..4) {
                        0 => due,
                        1 => due + 1,
                        _ => self.rng.random_range(1..=due.max(1)),
                    };
                    let paid = rpc(&c, wire, PAY, json!({"orderId": id, "amount": amount as f64 / 100.0})).await;
                    if let Ok(paid) = &paid {
                        assert_eq!(cents(&paid["order"]["amountPaid"]), cents(&order["amountPaid"]) + amount);
                        self.changes += 1;
                    }
                    paid.map(|_| ())
                }
            },
            7 => match self.pick(self.orders.len()) {
                None => Ok(()),
                Some(i) => rpc(&c, wire, CANCEL, json!({"orderId": self.orders[i]})).await.map(|_| self.changes += 1),
            },
            8 => match self.pick(self.registrations.len()) {
                // A whole replacement from the payload: a change of city or status, and order fields of its own.
                None => Ok(()),
                Some(i) => {
                    let id = self.registrations[i].clone();
                    let payload =
                        c.call(PAYLOAD, json!({"id": id})).await.expect("the payload")["registration"].clone();
                    let status = ["active", "cancelled", "draft"][self.rng.random_range(0..3)];
                    let mut sent = with(
                        payload,
                        json!({"city": format!("City {}", self.rng.random_range(0..9)),
                                                       "status": status}),
                    );
                    if self.rng.random_bool(0.3) {
                        sent = with(sent, json!({"orderTotal": 0.01, "orderStatus": "void", "orderId": "made-up"}));
                    }
                    rpc(&c, wire, "registration.update", json!({"registration": sent})).await.map(|_| ())
                }
            },
            _ => match self.pick(self.registrations.len()) {
                None => Ok(()),
                Some(i) => {
                    let patch = json!([{"op": "replace", "path": "/orderBalanceDue", "value": 0},
                                       {"op": "replace", "path": "/jobTitle", "value": "Patched"}]);
                    let id = self.registrations[i].clone();
                    rpc(&c, wire, "registration.patch", json!({"id": id, "patch": patch})).await.map(|_| ())
                }
            },
        };
        if let Err(e) = outcome {
            assert!(matches!(e.code, -32602 | -32009 | -32004), "an unexpected refusal: {e:?}");
        }
    }

    fn note_order(&mut self, order: &Value) {
        if !self.orders.contains(&order["orderId"]) {
            self.orders.push(order["orderId"].clone());
        }
    }

    /// Every order adds up, numbers run from 1 without a gap, and every registration's order fields are those of its
    /// order: the latest that holds it (any earlier one cancelled).
    async fn check(&self) {
        let c = &self.client;
        let mut orders: Vec<Value> = Vec::new();
        let mut cursor = Value::Null;
        loop {
            let mut params = json!({"limit": 7});
            if !cursor.is_null() {
                params["cursor"] = cursor.clone();
            }
            let page = c.call(LIST, params).await.expect("a page of orders");
            orders.extend(page["items"].as_array().unwrap().iter().cloned());
            cursor = page["nextCursor"].clone();
            if cursor.is_null() {
                break;
            }
        }
        assert_eq!(orders.len(), self.orders.len(), "every order made is listed");
        let numbers: Vec<i64> = orders.iter().map(|o| o["orderNumber"].as_i64().unwrap()).collect();
        assert_eq!(numbers, (1..=orders.len() as i64).collect::<Vec<_>>());
        let mut holding: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
        for order in &orders {
            let lines = order["lines"].as_array().unwrap();
            for line in lines {
                assert_eq!(cents(&line["total"]), cents(&line["unitPrice"]) * line["quantity"].as_i64().unwrap());
            }
            let total = cents(&order["total"]);
            assert_eq!(total, lines.iter().map(|l| cents(&l["total"])).sum::<i64>(), "{order}");
            assert_eq!(cents(&order["balanceDue"]), total - cents(&order["amountPaid"]), "{order}");
            assert!(cents(&order["amountPaid"]) <= total, "{order}");
            match order["status"].as_str().unwrap() {
                "awaiting payment" => assert!(cents(&order["balanceDue"]) > 0, "{order}"),
                "completed" => assert_eq!(cents(&order["balanceDue"]), 0, "{order}"),
                "cancelled" => {}
                other => panic!("a state the server never makes: {other}"),
            }
            for id in order["registrationIds"].as_array().unwrap() {
                holding.entry(id.as_str().unwrap().to_owned()).or_default().push(order);
            }
            assert_eq!(c.call(GET, json!({"orderId": order["orderId"]})).await.unwrap()["order"], *order);
        }
        let registrations = c.call("registration.search", json!({"limit": 1000})).await.unwrap();
        assert_eq!(registrations["count"], self.registrations.len());
        for r in registrations["items"].as_array().unwrap() {
            let id = r["id"].as_str().unwrap();
            let Some(held) = holding.get(id) else {
                // Never ordered: its order fields are the client's (the sequence never sets an order number).
                assert!(r["orderNumber"].is_null(), "{r}");
                continue;
            };
            let current = held.last().expect("an order");
            assert!(held[..held.len() - 1].iter().all(|o| o["status"] == "cancelled"), "only the latest is live");
            assert_eq!(order_fields(r), mirror_of(current, &r["id"]), "registration {id}");
            let listed = c.call(LIST, json!({"registrationId": id})).await.unwrap();
            assert_eq!(listed["count"], held.len());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_sequences_keep_every_order_and_its_registrations_in_agreement() {
    let seeds: Vec<u64> = match std::env::var("ORDERS_SEED") {
        Ok(seed) => vec![seed.parse().expect("ORDERS_SEED is a number")],
        Err(_) => (0..4).map(|_| rand::random()).collect(),
    };
    let (mut orders, mut changes) = (0, 0);
    for seed in seeds {
        eprintln!("orders: random sequence of seed {seed} (ORDERS_SEED={seed} replays it)");
        let mut sequence = Sequence {
            client: shop("order-random").await,
            rng: StdRng::seed_from_u64(seed),
            registrations: Vec::new(),
            orders: Vec::new(),
            changes: 0,
        };
        for _ in 0..80 {
            sequence.step().await;
        }
        sequence.check().await;
        let (made, held, taken) = (sequence.registrations.len(), sequence.orders.len(), sequence.changes);
        eprintln!("orders: seed {seed}: {made} registrations, {held} orders, {taken} payments and cancellations");
        (orders, changes) = (orders + sequence.orders.len(), changes + sequence.changes);
    }
    assert!(orders > 0 && changes > 0, "the sequences made orders ({orders}) and paid or cancelled some ({changes})");
}
