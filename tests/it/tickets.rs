//! The `ticket.*` methods held to API.md sections 3, 4 and 5, black-box over HTTP. Every case runs in both wire
//! forms: plain JSON-RPC 2.0 on `/jsonRpc` and bare params on `/jsonRpc/{method}` (answered in the envelope).
//! Each test works in networks of its own, so the tests can share the one server in parallel.

use crate::common;

use std::cmp::Ordering;
use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use common::{Client, RpcError, WIRES, Wire, manager, network, ok, refused, rpc, ticket};
use serde_json::{Value, json};

const CREATE: &str = "ticket.createPurchasableTicket";
const UPDATE: &str = "ticket.updatePurchasableTicket";
const DELETE: &str = "ticket.deletePurchasableTicket";
const GET: &str = "ticket.getPurchasableTicket";
const LIST: &str = "ticket.getPurchasableTickets";

/// `getPurchasableTickets` with no params at all: no `params` member, or an empty body.
async fn list_without_params(client: &Client, wire: Wire) -> Value {
    match wire {
        Wire::Plain => {
            let (status, answer) = client.post(&json!({"jsonrpc": "2.0", "id": 9, "method": LIST})).await;
            assert_eq!(status, 200, "{answer}");
            assert_eq!(answer["id"], 9, "{answer}");
            assert!(answer.get("error").is_none(), "{answer}");
            answer["result"].clone()
        }
        Wire::Bare => {
            let (status, text) = client.post_raw(&format!("/jsonRpc/{LIST}"), "").await;
            assert_eq!(status, 200, "{text}");
            let envelope: Value = serde_json::from_str(&text).expect("JSON envelope");
            assert_eq!(envelope["error"], json!({"status": false, "code": 0, "message": ""}), "{envelope}");
            envelope["data"].clone()
        }
    }
}

/// A manager of a fresh network, its token's id, and the network.
async fn setup(prefix: &str) -> (Client, String, String) {
    let net = network(prefix);
    let client = manager(&net).await;
    let id = token_id(&client).await;
    (client, id, net)
}

/// The id of the client's token (`admin.whoami`).
async fn token_id(client: &Client) -> String {
    let who = client.call("admin.whoami", json!({})).await.expect("whoami");
    who["tokenInfo"]["id"].as_str().expect("token id").to_owned()
}

/// `base` with `changes` applied; a null in `changes` removes the member.
fn with(mut base: Value, changes: Value) -> Value {
    let map = base.as_object_mut().expect("an object");
    for (k, v) in changes.as_object().expect("changes are an object") {
        if v.is_null() {
            map.remove(k);
        } else {
            map.insert(k.clone(), v.clone());
        }
    }
    base
}

/// `base` with `changes` set as they are, nulls included.
fn set(mut base: Value, changes: Value) -> Value {
    let map = base.as_object_mut().expect("an object");
    for (k, v) in changes.as_object().expect("changes are an object") {
        map.insert(k.clone(), v.clone());
    }
    base
}

/// Now, to the millisecond (the server keeps milliseconds).
fn now_ms() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).expect("now")
}

/// An answered timestamp, insisting on the one form the API writes: RFC 3339 UTC with milliseconds.
fn instant(v: &Value) -> DateTime<Utc> {
    let s = v.as_str().unwrap_or_else(|| panic!("a timestamp expected, got {v}"));
    let b = s.as_bytes();
    assert!(
        s.len() == 24 && b[4] == b'-' && b[10] == b'T' && b[19] == b'.' && s.ends_with('Z'),
        "not RFC 3339 UTC with milliseconds: {s}"
    );
    DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{s}: {e}")).with_timezone(&Utc)
}

/// Every member of a ticket as the API answers it.
const MEMBERS: [&str; 21] = [
    "productId",
    "eventName",
    "eventStartDate",
    "eventEndDate",
    "ticketType",
    "ticketName",
    "ticketDescription",
    "price",
    "thumbnailId",
    "discount",
    "grants",
    "allocation",
    "maxPerAttendee",
    "visible",
    "displayOrder",
    "sold",
    "sysVersion",
    "sysCreatedAt",
    "sysLastModifiedAt",
    "sysCreatedById",
    "sysLastModifiedById",
];

/// The member names of an object.
fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap_or_else(|| panic!("an object expected, got {v}")).keys().cloned().collect()
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// Asserts an answered ticket: exactly the API's members, the client's fields and `sold` as `expected` (the price
/// compared as a number), and well-formed sys fields.
fn assert_ticket(actual: &Value, expected: &Value) {
    assert_eq!(keys(actual), names(&MEMBERS), "members of {actual}");
    for (k, want) in expected.as_object().expect("expected is an object") {
        let got = &actual[k];
        if k == "price" {
            assert!(got.is_number() && got.as_f64() == want.as_f64(), "price {got}, expected {want}: {actual}");
        } else {
            assert_eq!(got, want, "member {k} of {actual}");
        }
    }
    assert!(actual["sysVersion"].as_i64().is_some_and(|v| v >= 1), "{actual}");
    assert!(instant(&actual["sysLastModifiedAt"]) >= instant(&actual["sysCreatedAt"]), "{actual}");
    assert!(actual["sysCreatedById"].as_str().is_some_and(|s| !s.is_empty()), "{actual}");
    assert!(actual["sysLastModifiedById"].as_str().is_some_and(|s| !s.is_empty()), "{actual}");
}

/// What `common::ticket(pid)` comes back as.
fn ticket_expected(pid: &str) -> Value {
    json!({
        "productId": pid,
        "eventName": "Summit 2027",
        "eventStartDate": "2027-05-01T09:00:00.000Z",
        "eventEndDate": "2027-05-03T18:00:00.000Z",
        "ticketType": "single",
        "ticketName": "Standard",
        "ticketDescription": "",
        "price": 99.5,
        "thumbnailId": "",
        "discount": "",
        "grants": [],
        "allocation": null,
        "maxPerAttendee": null,
        "visible": true,
        "displayOrder": 0,
        "sold": 0
    })
}

fn two_grants() -> Value {
    json!([
        {"grantType": "userRole", "grantTarget": "vip:summit-2027"},
        {"grantType": "userRole", "grantTarget": "speaker:all"}
    ])
}

/// A ticket with every optional field set, its times as an offset and as epoch milliseconds.
fn full_ticket(pid: &str) -> Value {
    with(
        ticket(pid),
        json!({
            "eventName": "Summit 2027 — día 2",
            "eventStartDate": "2027-05-01T11:00:00+02:00",
            "eventEndDate": 1809369000250i64,
            "ticketType": "days:2of3",
            "ticketName": "VIP",
            "ticketDescription": "Front rows, days 2 and 3",
            "price": 25,
            "thumbnailId": "img-42",
            "discount": "early bird",
            "grants": two_grants(),
            "allocation": 100,
            "maxPerAttendee": 2,
            "visible": false,
            "displayOrder": -7
        }),
    )
}

/// What [`full_ticket`] comes back as.
fn full_expected(pid: &str) -> Value {
    json!({
        "productId": pid,
        "eventName": "Summit 2027 — día 2",
        "eventStartDate": "2027-05-01T09:00:00.000Z",
        "eventEndDate": "2027-05-03T18:30:00.250Z",
        "ticketType": "days:2of3",
        "ticketName": "VIP",
        "ticketDescription": "Front rows, days 2 and 3",
        "price": 25,
        "thumbnailId": "img-42",
        "discount": "early bird",
        "grants": two_grants(),
        "allocation": 100,
        "maxPerAttendee": 2,
        "visible": false,
        "displayOrder": -7,
        "sold": 0
    })
}

/// The not-found error of a ticket.
fn assert_not_found(e: &RpcError, id: &str) {
    assert_eq!(e.code, -32004, "{e:?}");
    assert_eq!(e.data, json!({"resource": "ticket", "id": id}), "{e:?}");
}

/// A `-32602` whose `data.errors` names `field`.
fn assert_invalid(e: &RpcError, field: &str, what: &str) {
    assert_eq!(e.code, -32602, "{what}: {e:?}");
    assert!(e.fields().iter().any(|f| f == field), "{what}: {field} not in {:?}", e.data);
}

/// The productIds of a list answer, in order.
fn ids(listed: &Value) -> Vec<String> {
    listed["tickets"]
        .as_array()
        .unwrap_or_else(|| panic!("tickets expected: {listed}"))
        .iter()
        .map(|t| t["productId"].as_str().expect("productId").to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------------------------------
// 1. Every method's success path.
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_method_succeeds_in_both_wires() {
    for wire in WIRES {
        let (c, me, _) = setup("tk-crud").await;

        // Create with only the required fields: every default filled in.
        let before = now_ms();
        let answer = ok(&c, wire, CREATE, json!({"ticket": ticket("std")})).await;
        let after = now_ms();
        assert_eq!(keys(&answer), names(&["ticket"]), "{wire:?}");
        let std = answer["ticket"].clone();
        assert_ticket(&std, &ticket_expected("std"));
        assert_eq!(std["price"], json!(99.5));
        assert_eq!(std["sysVersion"], 1);
        assert_eq!(std["sysCreatedAt"], std["sysLastModifiedAt"]);
        let at = instant(&std["sysCreatedAt"]);
        assert!(before <= at && at <= after, "{wire:?}: sysCreatedAt {at} outside {before}..{after}");
        assert_eq!(std["sysCreatedById"], me.as_str());
        assert_eq!(std["sysLastModifiedById"], me.as_str());

        // Create with every field: an offset and epoch ms normalised, a whole price.
        let vip = ok(&c, wire, CREATE, json!({"ticket": full_ticket("vip")})).await["ticket"].clone();
        assert_ticket(&vip, &full_expected("vip"));
        assert_eq!(vip["price"].as_f64(), Some(25.0));
        assert_eq!((vip["sysVersion"].clone(), vip["sysCreatedById"].clone()), (json!(1), json!(me)));

        // Get answers exactly what create answered.
        assert_eq!(ok(&c, wire, GET, json!({"productId": "vip"})).await, json!({"ticket": vip}), "{wire:?}");
        assert_eq!(ok(&c, wire, GET, json!({"productId": "std"})).await, json!({"ticket": std}), "{wire:?}");

        // List: no params and `{}` both give every ticket, by displayOrder.
        let everything = json!({"tickets": [vip, std], "count": 2, "nextCursor": null});
        assert_eq!(list_without_params(&c, wire).await, everything, "{wire:?} no params");
        assert_eq!(ok(&c, wire, LIST, json!({})).await, everything, "{wire:?} {{}}");

        // Update: whole replacement, with the right sysVersion.
        let sent = with(
            full_ticket("vip"),
            json!({"price": 0.29, "ticketType": "days:3of3", "eventEndDate": "2027-05-04T00:00:00-05:00",
                   "sysVersion": 1}),
        );
        let answer = ok(&c, wire, UPDATE, json!({"ticket": sent})).await;
        assert_eq!(keys(&answer), names(&["ticket"]));
        let updated = answer["ticket"].clone();
        let expected = with(
            full_expected("vip"),
            json!({"price": 0.29, "ticketType": "days:3of3", "eventEndDate": "2027-05-04T05:00:00.000Z"}),
        );
        assert_ticket(&updated, &expected);
        assert_eq!(updated["price"].as_f64(), Some(0.29));
        assert_eq!(updated["sysVersion"], 2);
        assert_eq!(updated["sysCreatedAt"], vip["sysCreatedAt"]);
        assert!(instant(&updated["sysLastModifiedAt"]) >= instant(&vip["sysLastModifiedAt"]));
        assert_eq!(updated["sysLastModifiedById"], me.as_str());
        assert_eq!(ok(&c, wire, GET, json!({"productId": "vip"})).await, json!({"ticket": updated}));
        assert_eq!(ids(&ok(&c, wire, LIST, json!({})).await), ["vip", "std"]);
        assert_eq!(ok(&c, wire, LIST, json!({})).await["tickets"][0], updated, "the list shows the update");

        // Delete answers `{}`; the ticket is gone from get and list.
        assert_eq!(ok(&c, wire, DELETE, json!({"productId": "vip"})).await, json!({}), "{wire:?}");
        assert_not_found(&refused(&c, wire, GET, json!({"productId": "vip"})).await, "vip");
        assert_eq!(ok(&c, wire, LIST, json!({})).await, json!({"tickets": [std], "count": 1, "nextCursor": null}));
    }
}

#[tokio::test]
async fn a_network_id_member_is_not_an_unknown_member_in_both_wires() {
    for wire in WIRES {
        let (c, _, net) = setup("tk-netmember").await;
        let created = ok(&c, wire, CREATE, json!({"ticket": ticket("nm"), "networkId": net})).await;
        let changed = with(ticket("nm"), json!({"ticketDescription": "changed"}));
        let updated = ok(&c, wire, UPDATE, json!({"ticket": changed, "networkId": net})).await;
        assert_eq!(updated["ticket"]["sysVersion"], 2);
        assert_eq!(updated["ticket"]["sysCreatedAt"], created["ticket"]["sysCreatedAt"]);
        assert_eq!(ok(&c, wire, GET, json!({"productId": "nm", "networkId": net})).await, updated);
        assert_eq!(ids(&ok(&c, wire, LIST, json!({"networkId": net})).await), ["nm"]);
        assert_eq!(ok(&c, wire, DELETE, json!({"productId": "nm", "networkId": net})).await, json!({}));
        assert_eq!(ok(&c, wire, LIST, json!({"networkId": net})).await["count"], 0);
    }
}

#[tokio::test]
async fn boundary_values_are_accepted_in_both_wires() {
    let long_id = format!("{}{}", "Aa0._:-", "z".repeat(121));
    assert_eq!(long_id.len(), 128);
    let grants: Vec<Value> =
        (0..32).map(|i| json!({"grantType": "userRole", "grantTarget": format!("role{i}:target")})).collect();
    let cases: Vec<(Value, Value)> = vec![
        (json!({"productId": long_id}), json!({"productId": long_id})),
        (json!({"ticketType": "days:366of366"}), json!({"ticketType": "days:366of366"})),
        (json!({"ticketType": "days:1of1"}), json!({"ticketType": "days:1of1"})),
        (json!({"ticketType": "days:1of366"}), json!({"ticketType": "days:1of366"})),
        (json!({"price": 0}), json!({"price": 0})),
        (json!({"price": 0.01}), json!({"price": 0.01})),
        (json!({"price": 19.99}), json!({"price": 19.99})),
        (json!({"price": 25.0}), json!({"price": 25})),
        (json!({"price": 1234.5}), json!({"price": 1234.5})),
        (json!({"price": 0.07}), json!({"price": 0.07})),
        (json!({"price": 1.15}), json!({"price": 1.15})),
        (json!({"price": 4.35}), json!({"price": 4.35})),
        (json!({"price": 8.2}), json!({"price": 8.2})),
        (json!({"allocation": 0, "maxPerAttendee": 1}), json!({"allocation": 0, "maxPerAttendee": 1})),
        (json!({"allocation": null, "maxPerAttendee": null}), json!({"allocation": null, "maxPerAttendee": null})),
        (json!({"grants": grants}), json!({"grants": grants})),
        (json!({"grants": []}), json!({"grants": []})),
        (json!({"displayOrder": -1000}), json!({"displayOrder": -1000})),
        (json!({"visible": true}), json!({"visible": true})),
        (json!({"eventEndDate": "2027-05-01T09:00:00Z"}), json!({"eventEndDate": "2027-05-01T09:00:00.000Z"})),
        (
            json!({"ticketDescription": "", "thumbnailId": "", "discount": ""}),
            json!({"ticketDescription": "", "thumbnailId": "", "discount": ""}),
        ),
    ];
    for wire in WIRES {
        let (c, _, _) = setup("tk-bounds").await;
        for (i, (changes, expected)) in cases.iter().enumerate() {
            let pid = expected["productId"].as_str().map_or_else(|| format!("b{i}"), str::to_owned);
            let sent = set(set(ticket(&pid), json!({"productId": pid})), changes.clone());
            let got = ok(&c, wire, CREATE, json!({"ticket": sent})).await["ticket"].clone();
            assert_ticket(&got, &set(ticket_expected(&pid), expected.clone()));
        }
        assert_eq!(ok(&c, wire, LIST, json!({})).await["count"], cases.len(), "{wire:?}");
    }
}

// ---------------------------------------------------------------------------------------------------------------
// 2. -32602: every rule, every problem at once, malformed params.
// ---------------------------------------------------------------------------------------------------------------

/// One row per validation rule: what is wrong, the change to a valid ticket, the field it must be reported as.
fn rule_rows() -> Vec<(&'static str, Value, &'static str)> {
    let grant = json!({"grantType": "userRole", "grantTarget": "role:target"});
    let too_many: Vec<Value> = (0..33).map(|_| grant.clone()).collect();
    vec![
        ("productId missing", json!({"productId": null}), "ticket.productId"),
        ("productId empty", json!({"productId": ""}), "ticket.productId"),
        ("productId with a space", json!({"productId": "a b"}), "ticket.productId"),
        ("productId with a slash", json!({"productId": "a/b"}), "ticket.productId"),
        ("productId not ASCII", json!({"productId": "café"}), "ticket.productId"),
        ("productId of 129 characters", json!({"productId": "p".repeat(129)}), "ticket.productId"),
        ("productId a number", json!({"productId": 7}), "ticket.productId"),
        ("eventName missing", json!({"eventName": null}), "ticket.eventName"),
        ("eventName empty", json!({"eventName": ""}), "ticket.eventName"),
        ("eventName a number", json!({"eventName": 5}), "ticket.eventName"),
        ("eventStartDate missing", json!({"eventStartDate": null}), "ticket.eventStartDate"),
        ("eventStartDate a date only", json!({"eventStartDate": "2027-05-01"}), "ticket.eventStartDate"),
        ("eventStartDate words", json!({"eventStartDate": "next monday"}), "ticket.eventStartDate"),
        ("eventStartDate fractional epoch ms", json!({"eventStartDate": 1809161999999.5}), "ticket.eventStartDate"),
        ("eventStartDate a boolean", json!({"eventStartDate": true}), "ticket.eventStartDate"),
        ("eventEndDate missing", json!({"eventEndDate": null}), "ticket.eventEndDate"),
        ("eventEndDate month 13", json!({"eventEndDate": "2027-13-01T00:00:00Z"}), "ticket.eventEndDate"),
        ("eventEndDate before the start", json!({"eventEndDate": "2027-05-01T08:59:59.999Z"}), "ticket.eventEndDate"),
        ("eventEndDate before the start, epoch ms", json!({"eventEndDate": 1809161999999i64}), "ticket.eventEndDate"),
        ("ticketType missing", json!({"ticketType": null}), "ticket.ticketType"),
        ("ticketType capitalised", json!({"ticketType": "Single"}), "ticket.ticketType"),
        ("ticketType days:0of3", json!({"ticketType": "days:0of3"}), "ticket.ticketType"),
        ("ticketType days:4of3", json!({"ticketType": "days:4of3"}), "ticket.ticketType"),
        ("ticketType days:1of367", json!({"ticketType": "days:1of367"}), "ticket.ticketType"),
        ("ticketType days:2of", json!({"ticketType": "days:2of"}), "ticket.ticketType"),
        ("ticketType days:1of3x", json!({"ticketType": "days:1of3x"}), "ticket.ticketType"),
        ("ticketType days:-1of3", json!({"ticketType": "days:-1of3"}), "ticket.ticketType"),
        ("ticketType a number", json!({"ticketType": 1}), "ticket.ticketType"),
        ("ticketName missing", json!({"ticketName": null}), "ticket.ticketName"),
        ("ticketName empty", json!({"ticketName": ""}), "ticket.ticketName"),
        ("ticketDescription a number", json!({"ticketDescription": 3}), "ticket.ticketDescription"),
        ("price missing", json!({"price": null}), "ticket.price"),
        ("price negative", json!({"price": -1}), "ticket.price"),
        ("price one cent below zero", json!({"price": -0.01}), "ticket.price"),
        ("price with 3 decimals", json!({"price": 1.001}), "ticket.price"),
        ("price with 9 decimals", json!({"price": 1.000000001}), "ticket.price"),
        ("price a billionth", json!({"price": 0.000000001}), "ticket.price"),
        ("price a string", json!({"price": "12"}), "ticket.price"),
        ("thumbnailId a number", json!({"thumbnailId": 42}), "ticket.thumbnailId"),
        ("discount a boolean", json!({"discount": true}), "ticket.discount"),
        ("grants an object", json!({"grants": grant}), "ticket.grants"),
        ("grants of 33 entries", json!({"grants": too_many}), "ticket.grants"),
        ("grantType not userRole", json!({"grants": [{"grantType": "group", "grantTarget": "a:b"}]}), "ticket.grants"),
        (
            "grantTarget without a colon",
            json!({"grants": [{"grantType": "userRole", "grantTarget": "admin"}]}),
            "ticket.grants",
        ),
        (
            "grantTarget without a role",
            json!({"grants": [{"grantType": "userRole", "grantTarget": ":target"}]}),
            "ticket.grants",
        ),
        ("grantTarget missing", json!({"grants": [{"grantType": "userRole"}]}), "ticket.grants"),
        (
            "grant with an unknown member",
            json!({"grants": [{"grantType": "userRole", "grantTarget": "a:b", "note": "x"}]}),
            "ticket.grants",
        ),
        ("grant a string", json!({"grants": ["userRole"]}), "ticket.grants"),
        ("allocation negative", json!({"allocation": -1}), "ticket.allocation"),
        ("allocation fractional", json!({"allocation": 1.5}), "ticket.allocation"),
        ("allocation a string", json!({"allocation": "10"}), "ticket.allocation"),
        ("maxPerAttendee 0", json!({"maxPerAttendee": 0}), "ticket.maxPerAttendee"),
        ("maxPerAttendee negative", json!({"maxPerAttendee": -2}), "ticket.maxPerAttendee"),
        ("maxPerAttendee a string", json!({"maxPerAttendee": "2"}), "ticket.maxPerAttendee"),
        ("visible a string", json!({"visible": "yes"}), "ticket.visible"),
        ("visible a number", json!({"visible": 1}), "ticket.visible"),
        ("displayOrder fractional", json!({"displayOrder": 1.5}), "ticket.displayOrder"),
        ("displayOrder a string", json!({"displayOrder": "1"}), "ticket.displayOrder"),
        ("an unknown ticket field", json!({"colour": "red"}), "ticket.colour"),
    ]
}

/// Checks a refusal against one rule row; a description of what is wrong, if anything.
fn check_rule(result: Result<Value, RpcError>, changes: &Value, field: &str) -> Option<String> {
    let e = match result {
        Ok(v) => return Some(format!("accepted: {v}")),
        Err(e) => e,
    };
    if e.code != -32602 {
        return Some(format!("code {} instead of -32602: {e:?}", e.code));
    }
    if e.fields() != [field] {
        return Some(format!("fields {:?} instead of [{field}]: {}", e.fields(), e.data));
    }
    let entry = &e.data["errors"][0];
    if entry["message"].as_str().is_none_or(str::is_empty) {
        return Some(format!("no message: {entry}"));
    }
    // The value sent is echoed back when the member was sent.
    let member = field.strip_prefix("ticket.").unwrap_or(field);
    match changes.get(member) {
        Some(sent) if !sent.is_null() && entry["value"] != *sent => {
            Some(format!("value {} instead of the value sent {sent}", entry["value"]))
        }
        _ => None,
    }
}

#[tokio::test]
async fn each_validation_rule_is_refused_in_both_wires() {
    let rows = rule_rows();
    let mut failures = Vec::new();
    for wire in WIRES {
        let (c, _, _) = setup("tk-rules").await;
        let base = ok(&c, Wire::Plain, CREATE, json!({"ticket": ticket("base")})).await;
        for (i, (what, changes, field)) in rows.iter().enumerate() {
            let fresh = with(ticket(&format!("row-{i}")), changes.clone());
            let result = rpc(&c, wire, CREATE, json!({"ticket": fresh})).await;
            if let Some(problem) = check_rule(result, changes, field) {
                failures.push(format!("{wire:?} create, {what}: {problem}"));
            }
            let replacement = with(ticket("base"), changes.clone());
            let result = rpc(&c, wire, UPDATE, json!({"ticket": replacement})).await;
            if let Some(problem) = check_rule(result, changes, field) {
                failures.push(format!("{wire:?} update, {what}: {problem}"));
            }
        }
        // Nothing was made or changed by a refused call.
        let listed = ok(&c, wire, LIST, json!({})).await;
        if listed != json!({"tickets": [base["ticket"]], "count": 1, "nextCursor": null}) {
            failures.push(format!(
                "{wire:?}: refused calls changed the list: {:?}, base now {}",
                ids(&listed),
                listed["tickets"][0]
            ));
        }
    }
    assert!(failures.is_empty(), "{} rule(s) not kept:\n{}", failures.len(), failures.join("\n"));
}

#[tokio::test]
async fn every_problem_is_reported_at_once_in_both_wires() {
    let bad = json!({
        "productId": "a b",
        "eventName": "",
        "eventStartDate": "2027-05-03T09:00:00Z",
        "eventEndDate": "2027-05-01T09:00:00Z",
        "ticketType": "days:4of3",
        "price": -1,
        "thumbnailId": 7,
        "grants": [{"grantType": "other", "grantTarget": "x"}],
        "allocation": -5,
        "maxPerAttendee": 0,
        "visible": "yes",
        "displayOrder": "first",
        "colour": "red"
    });
    let expected = names(&[
        "ticket.productId",
        "ticket.eventName",
        "ticket.eventEndDate",
        "ticket.ticketType",
        "ticket.ticketName",
        "ticket.price",
        "ticket.thumbnailId",
        "ticket.grants",
        "ticket.allocation",
        "ticket.maxPerAttendee",
        "ticket.visible",
        "ticket.displayOrder",
        "ticket.colour",
        "extra",
    ]);
    for wire in WIRES {
        let (c, _, _) = setup("tk-many").await;
        for method in [CREATE, UPDATE] {
            let e = refused(&c, wire, method, json!({"ticket": bad, "extra": 1})).await;
            assert_eq!(e.code, -32602, "{wire:?} {method}: {e:?}");
            let fields = e.fields();
            assert_eq!(fields.iter().cloned().collect::<BTreeSet<_>>(), expected, "{wire:?} {method}: {}", e.data);
            assert_eq!(fields.len(), expected.len(), "each problem once: {fields:?}");
            for entry in e.data["errors"].as_array().unwrap() {
                assert!(entry["message"].as_str().is_some_and(|m| !m.is_empty()), "{entry}");
            }
            let price = e.data["errors"].as_array().unwrap().iter().find(|x| x["field"] == "ticket.price").unwrap();
            assert_eq!(price["value"], -1, "{price}");
        }
        assert_eq!(ok(&c, wire, LIST, json!({})).await["count"], 0);
    }
}

#[tokio::test]
async fn the_bare_envelope_carries_the_problems_in_details() {
    let (c, _, _) = setup("tk-envelope").await;
    let envelope = c.bare_envelope(CREATE, &json!({"ticket": with(ticket("x"), json!({"price": -1}))})).await;
    assert!(envelope["data"].is_null(), "{envelope}");
    assert_eq!(envelope["error"]["status"], true, "{envelope}");
    assert_eq!(envelope["error"]["code"], -32602, "{envelope}");
    assert!(envelope["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{envelope}");
    let errors = envelope["error"]["details"]["errors"].as_array().unwrap_or_else(|| panic!("{envelope}"));
    assert_eq!(errors.len(), 1, "{envelope}");
    assert_eq!(errors[0]["field"], "ticket.price");
    assert_eq!(errors[0]["value"], -1);
}

#[tokio::test]
async fn malformed_params_are_refused_in_both_wires() {
    let valid = ticket("shape");
    let mut cases: Vec<(&str, Value, &str)> = Vec::new();
    for method in [CREATE, UPDATE] {
        cases.extend([
            (method, json!({}), "ticket"),
            (method, json!({"ticket": null}), "ticket"),
            (method, json!({"ticket": "shape"}), "ticket"),
            (method, json!({"ticket": [valid]}), "ticket"),
            (method, json!({"ticket": 5}), "ticket"),
            (method, json!({"tickets": valid}), "ticket"),
            (method, json!({"tickets": valid}), "tickets"),
            (method, json!({"ticket": valid, "extra": true}), "extra"),
            (method, json!({"ticket": with(valid.clone(), json!({"colour": "red"}))}), "ticket.colour"),
            (method, json!({"ticket": with(valid.clone(), json!({"eventname": "x"}))}), "ticket.eventname"),
            (method, json!([1, 2]), "params"),
            (method, json!([]), "params"),
        ]);
    }
    for method in [GET, DELETE] {
        cases.extend([
            (method, json!({}), "productId"),
            (method, json!({"productId": null}), "productId"),
            (method, json!({"productId": "a b"}), "productId"),
            (method, json!({"productId": 5}), "productId"),
            (method, json!({"productId": ""}), "productId"),
            (method, json!({"id": "shape"}), "productId"),
            (method, json!({"id": "shape"}), "id"),
            (method, json!({"productId": "shape", "force": true}), "force"),
            (method, json!(["shape", 2]), "params"),
        ]);
    }
    // Bare params may be any JSON value; a plain request's params must be an object or an array.
    let bare_only: Vec<(&str, Value, &str)> = [CREATE, UPDATE, GET, DELETE]
        .into_iter()
        .flat_map(|m| [(m, json!("shape"), "params"), (m, json!(42), "params"), (m, json!(true), "params")])
        .collect();
    let mut failures = Vec::new();
    for wire in WIRES {
        let (c, _, _) = setup("tk-shape").await;
        let base = ok(&c, Wire::Plain, CREATE, json!({"ticket": valid})).await;
        let extra = if wire == Wire::Bare { bare_only.clone() } else { Vec::new() };
        for (method, params, field) in cases.iter().chain(extra.iter()) {
            match rpc(&c, wire, method, params.clone()).await {
                Ok(v) => failures.push(format!("{wire:?} {method} {params}: accepted: {v}")),
                Err(e) if e.code != -32602 || !e.fields().iter().any(|f| f == field) => {
                    failures.push(format!("{wire:?} {method} {params}: expected -32602 naming {field}, got {e:?}"))
                }
                Err(_) => {}
            }
        }
        // The ticket is neither changed nor deleted by any of them.
        assert_eq!(ok(&c, wire, GET, json!({"productId": "shape"})).await, base, "{wire:?}");
        assert_eq!(ok(&c, wire, LIST, json!({})).await["count"], 1, "{wire:?}");
    }
    assert!(failures.is_empty(), "{} case(s) not refused as expected:\n{}", failures.len(), failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------------------------
// 3. -32004 and -32009; a refused call changes nothing.
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn missing_tickets_are_not_found_in_both_wires() {
    for wire in WIRES {
        let (c, _, _) = setup("tk-missing").await;
        let kept = ok(&c, wire, CREATE, json!({"ticket": ticket("kept")})).await;
        assert_not_found(&refused(&c, wire, GET, json!({"productId": "ghost"})).await, "ghost");
        assert_not_found(&refused(&c, wire, DELETE, json!({"productId": "ghost"})).await, "ghost");
        assert_not_found(&refused(&c, wire, UPDATE, json!({"ticket": ticket("ghost")})).await, "ghost");
        assert_not_found(
            &refused(&c, wire, UPDATE, json!({"ticket": with(ticket("ghost"), json!({"sysVersion": 1}))})).await,
            "ghost",
        );
        // The update of a missing ticket did not create it; the other ticket is untouched.
        assert_not_found(&refused(&c, wire, GET, json!({"productId": "ghost"})).await, "ghost");
        assert_eq!(
            ok(&c, wire, LIST, json!({})).await,
            json!({"tickets": [kept["ticket"]], "count": 1, "nextCursor": null})
        );
        // A deleted ticket is missing for every method; productIds are case-sensitive.
        assert_not_found(&refused(&c, wire, GET, json!({"productId": "KEPT"})).await, "KEPT");
        ok(&c, wire, DELETE, json!({"productId": "kept"})).await;
        assert_not_found(&refused(&c, wire, DELETE, json!({"productId": "kept"})).await, "kept");
        assert_not_found(&refused(&c, wire, GET, json!({"productId": "kept"})).await, "kept");
        assert_not_found(&refused(&c, wire, UPDATE, json!({"ticket": ticket("kept")})).await, "kept");
        assert_eq!(ok(&c, wire, LIST, json!({})).await, json!({"tickets": [], "count": 0, "nextCursor": null}));
    }
}

#[tokio::test]
async fn a_duplicate_create_is_a_conflict_in_both_wires() {
    for wire in WIRES {
        let (c, _, _) = setup("tk-dup").await;
        let first = ok(&c, wire, CREATE, json!({"ticket": full_ticket("dup")})).await;
        for again in [ticket("dup"), full_ticket("dup")] {
            let e = refused(&c, wire, CREATE, json!({"ticket": again})).await;
            assert_eq!((e.code, e.reason()), (-32009, "duplicate"), "{wire:?}: {e:?}");
        }
        assert_eq!(ok(&c, wire, GET, json!({"productId": "dup"})).await, first, "{wire:?}: the first is unchanged");
        assert_eq!(ok(&c, wire, LIST, json!({})).await["count"], 1);
        // Once deleted, the productId is free again.
        ok(&c, wire, DELETE, json!({"productId": "dup"})).await;
        let again = ok(&c, wire, CREATE, json!({"ticket": ticket("dup")})).await;
        assert_eq!(again["ticket"]["sysVersion"], 1);
        assert_ticket(&again["ticket"], &ticket_expected("dup"));
    }
}

#[tokio::test]
async fn the_same_product_id_lives_in_two_networks() {
    let (a, _, _) = setup("tk-net-a").await;
    let (b, _, _) = setup("tk-net-b").await;
    let in_a = ok(&a, Wire::Plain, CREATE, json!({"ticket": ticket("same")})).await;
    let in_b = ok(&b, Wire::Bare, CREATE, json!({"ticket": full_ticket("same")})).await;
    assert_ticket(&in_b["ticket"], &full_expected("same"));
    assert_eq!(ok(&a, Wire::Bare, GET, json!({"productId": "same"})).await, in_a);
    assert_eq!(ok(&b, Wire::Plain, GET, json!({"productId": "same"})).await, in_b);
    ok(&a, Wire::Plain, DELETE, json!({"productId": "same"})).await;
    assert_eq!(ok(&b, Wire::Plain, LIST, json!({})).await["count"], 1);
}

#[tokio::test]
async fn sys_version_is_an_optimistic_check_on_update_in_both_wires() {
    for wire in WIRES {
        let (c, _, _) = setup("tk-stale").await;
        let v1 = ok(&c, wire, CREATE, json!({"ticket": ticket("occ")})).await;

        for stale in [2, 7, 1000] {
            let sent = with(ticket("occ"), json!({"price": 1, "sysVersion": stale}));
            let e = refused(&c, wire, UPDATE, json!({"ticket": sent})).await;
            assert_eq!((e.code, e.reason()), (-32009, "staleVersion"), "{wire:?} sysVersion {stale}: {e:?}");
        }
        assert_eq!(ok(&c, wire, GET, json!({"productId": "occ"})).await, v1, "{wire:?}: stale updates change nothing");

        // The right version succeeds and moves the version on.
        let sent = with(ticket("occ"), json!({"price": 2, "sysVersion": 1}));
        let v2 = ok(&c, wire, UPDATE, json!({"ticket": sent})).await;
        assert_eq!(v2["ticket"]["sysVersion"], 2);
        assert_eq!(v2["ticket"]["price"].as_f64(), Some(2.0));

        // The version that was right is now stale.
        let sent = with(ticket("occ"), json!({"price": 3, "sysVersion": 1}));
        let e = refused(&c, wire, UPDATE, json!({"ticket": sent})).await;
        assert_eq!((e.code, e.reason()), (-32009, "staleVersion"), "{wire:?}: {e:?}");
        assert_eq!(ok(&c, wire, GET, json!({"productId": "occ"})).await, v2);
        assert_eq!(ok(&c, wire, LIST, json!({})).await["tickets"][0], v2["ticket"]);

        // Without sysVersion there is no check.
        let v3 = ok(&c, wire, UPDATE, json!({"ticket": with(ticket("occ"), json!({"price": 4}))})).await;
        assert_eq!(v3["ticket"]["sysVersion"], 3);
        let v4 = ok(&c, wire, UPDATE, json!({"ticket": with(ticket("occ"), json!({"sysVersion": 3}))})).await;
        assert_eq!(v4["ticket"]["sysVersion"], 4);
        assert_eq!(v4["ticket"]["sysCreatedAt"], v1["ticket"]["sysCreatedAt"]);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// 4. Update semantics and read-only fields.
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn update_is_a_whole_replacement_in_both_wires() {
    for wire in WIRES {
        let (a, me, net) = setup("tk-replace").await;
        let b = manager(&net).await;
        let other = token_id(&b).await;
        assert_ne!(me, other);

        let created = ok(&a, wire, CREATE, json!({"ticket": full_ticket("rp")})).await["ticket"].clone();
        assert_ticket(&created, &full_expected("rp"));

        // Only the required fields: every omitted optional one goes back to its default.
        let before = now_ms();
        let sent = with(ticket("rp"), json!({"eventName": "Renamed", "price": 10.5}));
        let replaced = ok(&b, wire, UPDATE, json!({"ticket": sent})).await["ticket"].clone();
        let after = now_ms();
        assert_ticket(&replaced, &with(ticket_expected("rp"), json!({"eventName": "Renamed", "price": 10.5})));
        assert_eq!(replaced["sysVersion"], 2);
        assert_eq!(replaced["sysCreatedAt"], created["sysCreatedAt"]);
        assert_eq!(replaced["sysCreatedById"], me.as_str());
        assert_eq!(replaced["sysLastModifiedById"], other.as_str());
        let modified = instant(&replaced["sysLastModifiedAt"]);
        assert!(before <= modified && modified <= after, "sysLastModifiedAt {modified} outside {before}..{after}");
        assert_eq!(ok(&a, wire, GET, json!({"productId": "rp"})).await["ticket"], replaced);

        // Explicit nulls reset allocation and maxPerAttendee to unlimited.
        let refill = ok(&a, wire, UPDATE, json!({"ticket": full_ticket("rp")})).await["ticket"].clone();
        assert_ticket(&refill, &full_expected("rp"));
        assert_eq!(refill["sysVersion"], 3);
        assert_eq!(refill["sysLastModifiedById"], me.as_str());
        let mut sent = full_ticket("rp");
        sent["allocation"] = Value::Null;
        sent["maxPerAttendee"] = Value::Null;
        let reset = ok(&a, wire, UPDATE, json!({"ticket": sent})).await["ticket"].clone();
        let mut want = full_expected("rp");
        want["allocation"] = Value::Null;
        want["maxPerAttendee"] = Value::Null;
        assert_ticket(&reset, &want);
        assert_eq!(reset["sysVersion"], 4);
        assert_eq!(reset["sysCreatedAt"], created["sysCreatedAt"]);
    }
}

#[tokio::test]
async fn read_only_fields_sent_back_are_ignored_in_both_wires() {
    for wire in WIRES {
        let (c, me, _) = setup("tk-readonly").await;

        // On create: sold, sysVersion and the others are not taken from the client.
        let before = now_ms();
        let sent = with(
            ticket("ro"),
            json!({"sold": 9, "sysVersion": 5, "sysCreatedAt": "1999-01-01T00:00:00.000Z",
                   "sysLastModifiedAt": "1999-01-01T00:00:00.000Z", "sysCreatedById": "intruder",
                   "sysLastModifiedById": "intruder"}),
        );
        let created = ok(&c, wire, CREATE, json!({"ticket": sent})).await["ticket"].clone();
        assert_ticket(&created, &ticket_expected("ro"));
        assert_eq!(created["sysVersion"], 1);
        assert_eq!(created["sysCreatedById"], me.as_str());
        assert_eq!(created["sysLastModifiedById"], me.as_str());
        assert!(instant(&created["sysCreatedAt"]) >= before, "{created}");

        // What get answered, sent back unchanged: accepted, and a change that changes nothing, so nothing moves,
        // not even the sys fields.
        let got = ok(&c, wire, GET, json!({"productId": "ro"})).await["ticket"].clone();
        let echoed = ok(&c, wire, UPDATE, json!({"ticket": got.clone()})).await["ticket"].clone();
        assert_eq!(echoed["sysVersion"], 1);
        for k in MEMBERS {
            assert_eq!(echoed[k], got[k], "{wire:?}: member {k} changed by a round trip");
        }

        // sold and the other sys fields with other values: ignored (sysVersion right, so checked and passed).
        let sent = with(
            echoed.clone(),
            json!({"sold": 42, "sysCreatedAt": "2000-01-01T00:00:00.000Z", "sysCreatedById": "someone-else",
                   "sysLastModifiedAt": "2000-01-01T00:00:00.000Z", "sysLastModifiedById": "someone-else",
                   "ticketName": "Renamed"}),
        );
        let third = ok(&c, wire, UPDATE, json!({"ticket": sent})).await["ticket"].clone();
        assert_ticket(&third, &with(ticket_expected("ro"), json!({"ticketName": "Renamed"})));
        assert_eq!(third["sold"], 0);
        assert_eq!(third["sysVersion"], 2);
        assert_eq!(third["sysCreatedAt"], created["sysCreatedAt"]);
        assert_eq!(third["sysCreatedById"], me.as_str());
        assert_eq!(third["sysLastModifiedById"], me.as_str());
        assert!(instant(&third["sysLastModifiedAt"]) >= instant(&echoed["sysLastModifiedAt"]));
        assert_eq!(ok(&c, wire, GET, json!({"productId": "ro"})).await["ticket"], third);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// 5. getPurchasableTickets: filters, orders, paging, trimming.
// ---------------------------------------------------------------------------------------------------------------

/// The list data set, made in this (shuffled) order. Now is after 2026; c1 has ended, e1 is under way, b2 is sold
/// out (allocation 0), a3 and b3 are hidden.
fn catalogue() -> Vec<Value> {
    let rows = json!([
        ["d1", "Delta", "2032-01-01T00:00:00Z", "2032-01-01T23:59:59.999Z", "single", 1234.56, true, 3, null],
        ["a2", "Alpha", "2030-03-01T11:00:00+02:00", "2030-03-02T18:00:00Z", "days:1of2", 20, true, 5, 100],
        ["c1", "Gamma", "2020-01-01T09:00:00Z", "2020-01-02T18:00:00Z", "single", 15, true, 0, null],
        ["b3", "Beta", "2031-07-01T09:00:00Z", "2031-07-02T18:00:00Z", "days:1of2", 45.25, false, 8, null],
        ["e1", "Epsilon", "2025-06-01T09:00:00Z", "2035-06-01T18:00:00Z", "single", 15, true, 0, null],
        ["a1", "Alpha", 1898586000000i64, "2030-03-02T18:00:00Z", "single", 10, true, 5, null],
        ["d2", "Delta", "2029-12-31T23:00:00-05:00", "2030-01-02T00:00:00Z", "days:1of2", 5, true, 1, 1],
        ["b1", "Beta", "2031-06-01T09:00:00Z", "2031-06-03T18:00:00Z", "single", 99.5, true, -3, null],
        ["c2", "Gamma", 1914451200000i64, "2030-09-02T00:00:00Z", "single", 15, true, 0, 50],
        ["a3", "Alpha", "2030-03-05T09:00:00Z", "2030-03-06T18:00:00Z", "days:2of2", 10, false, 1, null],
        ["b2", "Beta", "2031-06-01T12:00:00+02:00", "2031-06-03T18:00:00Z", "single", 0, true, 2, 0]
    ]);
    let members =
        ["productId", "eventName", "eventStartDate", "eventEndDate", "ticketType", "price", "visible", "displayOrder"];
    rows.as_array()
        .expect("rows")
        .iter()
        .map(|row| {
            let mut t = json!({"ticketName": format!("{} {}", row[1].as_str().unwrap(), row[4].as_str().unwrap())});
            for (i, name) in members.iter().enumerate() {
                t[*name] = row[i].clone();
            }
            t["allocation"] = row[8].clone();
            t
        })
        .collect()
}

/// Every productId of the data set, by displayOrder then productId.
const BY_DISPLAY_ORDER: [&str; 11] = ["b1", "c1", "c2", "e1", "a3", "d2", "b2", "d1", "a1", "a2", "b3"];

/// A fresh network holding the data set (and a decoy network with a ticket of the same productId); the manager.
async fn stocked(prefix: &str) -> Client {
    let (c, _, _) = setup(prefix).await;
    for t in catalogue() {
        ok(&c, Wire::Plain, CREATE, json!({"ticket": t})).await;
    }
    let (decoy, _, _) = setup(&format!("{prefix}-decoy")).await;
    ok(&decoy, Wire::Plain, CREATE, json!({"ticket": with(ticket("a1"), json!({"eventName": "Alpha"}))})).await;
    c
}

/// A list call that must succeed, checked for shape.
async fn list(c: &Client, wire: Wire, query: Value) -> Value {
    let listed = ok(c, wire, LIST, query).await;
    assert_eq!(keys(&listed), names(&["tickets", "count", "nextCursor"]), "{listed}");
    listed
}

#[tokio::test]
async fn list_filters_alone_and_combined_in_both_wires() {
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({}), BY_DISPLAY_ORDER.to_vec()),
        (json!({"productIds": ["c1", "b1", "zz-missing"]}), vec!["b1", "c1"]),
        (json!({"productIds": ["a1"]}), vec!["a1"]),
        (json!({"eventName": "Alpha"}), vec!["a3", "a1", "a2"]),
        (json!({"eventName": "alpha"}), vec![]),
        (json!({"eventName": "Alph"}), vec![]),
        (json!({"ticketType": "single"}), vec!["b1", "c1", "c2", "e1", "b2", "d1", "a1"]),
        (json!({"ticketType": "days:1of2"}), vec!["d2", "a2", "b3"]),
        (json!({"ticketType": "days:2of3"}), vec![]),
        (json!({"visible": false}), vec!["a3", "b3"]),
        (json!({"visible": true}), vec!["b1", "c1", "c2", "e1", "d2", "b2", "d1", "a1", "a2"]),
        (json!({"onSale": true}), vec!["b1", "c2", "e1", "d2", "d1", "a1", "a2"]),
        (json!({"onSale": false}), vec!["c1", "a3", "b2", "b3"]),
        (json!({"startsFrom": "2030-03-01T09:00:00Z"}), vec!["b1", "c2", "a3", "b2", "d1", "a1", "a2", "b3"]),
        (json!({"startsFrom": "2030-03-01T10:00:00+01:00"}), vec!["b1", "c2", "a3", "b2", "d1", "a1", "a2", "b3"]),
        (json!({"startsFrom": 1898586000001i64}), vec!["b1", "c2", "a3", "b2", "d1", "b3"]),
        (json!({"startsTo": "2030-03-01T11:00:00+02:00"}), vec!["c1", "e1", "d2", "a1", "a2"]),
        (json!({"startsTo": 1898585999999i64}), vec!["c1", "e1", "d2"]),
        (json!({"startsFrom": 1898586000001i64, "startsTo": "2031-06-01T10:00:00Z"}), vec!["b1", "c2", "a3", "b2"]),
        (json!({"startsFrom": "2031-01-01T00:00:00Z", "startsTo": "2030-01-01T00:00:00Z"}), vec![]),
        (json!({"eventName": "Beta", "onSale": true}), vec!["b1"]),
        (json!({"eventName": "Gamma", "onSale": false}), vec!["c1"]),
        (
            json!({"ticketType": "single", "visible": true, "startsFrom": "2030-01-01T00:00:00Z"}),
            vec!["b1", "c2", "b2", "d1", "a1"],
        ),
        (
            json!({"productIds": ["a1", "a2", "a3", "b3"], "visible": false, "orderBy": "price", "order": "desc"}),
            vec!["b3", "a3"],
        ),
        (
            json!({"eventName": "Alpha", "ticketType": "single", "visible": true, "onSale": true,
                   "startsFrom": "2030-03-01T09:00:00Z", "startsTo": "2030-03-01T09:00:00Z", "productIds": ["a1", "a2"]}),
            vec!["a1"],
        ),
        (json!({"eventName": "Nope"}), vec![]),
    ];
    let c = stocked("tk-filter").await;
    let everything = list(&c, Wire::Plain, json!({})).await;
    let full: Vec<Value> = everything["tickets"].as_array().unwrap().clone();
    let mut failures = Vec::new();
    for wire in WIRES {
        for (query, expected) in &cases {
            let listed = list(&c, wire, query.clone()).await;
            if ids(&listed) != *expected || listed["count"] != expected.len() || !listed["nextCursor"].is_null() {
                failures.push(format!(
                    "{wire:?} {query}: got {:?} count {} nextCursor {}, expected {expected:?}",
                    ids(&listed),
                    listed["count"],
                    listed["nextCursor"]
                ));
            }
            // Filtered tickets are the very same JSON as unfiltered ones.
            for t in listed["tickets"].as_array().unwrap() {
                assert!(full.contains(t), "{wire:?} {query}: {t} differs from the unfiltered list");
            }
        }
    }
    assert!(failures.is_empty(), "{} filter case(s) wrong:\n{}", failures.len(), failures.join("\n"));
}

/// How two list items compare under an ordering.
fn compare(order_by: &str, a: &Value, b: &Value) -> Ordering {
    match order_by {
        "displayOrder" => a["displayOrder"].as_i64().cmp(&b["displayOrder"].as_i64()),
        "price" => a["price"].as_f64().partial_cmp(&b["price"].as_f64()).expect("prices compare"),
        "eventStartDate" | "sysLastModifiedAt" => instant(&a[order_by]).cmp(&instant(&b[order_by])),
        "productId" => a["productId"].as_str().cmp(&b["productId"].as_str()),
        other => panic!("no ordering {other}"),
    }
}

/// Asserts items are sorted by `order_by` in the direction asked; ties by productId (ascending in an ascending list,
/// and one consistent direction in a descending one).
fn assert_sorted(items: &[Value], order_by: &str, desc: bool) {
    let mut tie_direction = None;
    for pair in items.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let ids = a["productId"].as_str().cmp(&b["productId"].as_str());
        match compare(order_by, a, b) {
            Ordering::Equal => {
                assert_ne!(ids, Ordering::Equal, "a ticket twice: {a}");
                if desc {
                    assert_eq!(*tie_direction.get_or_insert(ids), ids, "ties in mixed directions by {order_by}");
                } else {
                    assert_eq!(ids, Ordering::Less, "ties by productId: {} before {}", a["productId"], b["productId"]);
                }
            }
            k => {
                let want = if desc { Ordering::Greater } else { Ordering::Less };
                assert_eq!(k, want, "by {order_by} desc={desc}: {} then {}", a["productId"], b["productId"]);
            }
        }
    }
}

const ORDERINGS: [&str; 5] = ["displayOrder", "eventStartDate", "price", "productId", "sysLastModifiedAt"];

#[tokio::test]
async fn list_orders_in_both_directions_in_both_wires() {
    let c = stocked("tk-order").await;
    // Touch a1 last (a change no ordering reads); it is then the most recently modified (or tied with the last
    // create).
    let a1 = catalogue().into_iter().find(|t| t["productId"] == "a1").unwrap();
    ok(&c, Wire::Plain, UPDATE, json!({"ticket": with(a1, json!({"ticketDescription": "touched"}))})).await;
    let known: [(&str, [&str; 11]); 4] = [
        ("displayOrder", BY_DISPLAY_ORDER),
        ("eventStartDate", ["c1", "e1", "d2", "a1", "a2", "a3", "c2", "b1", "b2", "b3", "d1"]),
        ("price", ["b2", "d2", "a1", "a3", "c1", "c2", "e1", "a2", "b3", "b1", "d1"]),
        ("productId", ["a1", "a2", "a3", "b1", "b2", "b3", "c1", "c2", "d1", "d2", "e1"]),
    ];
    let all: BTreeSet<String> = BY_DISPLAY_ORDER.iter().map(|s| (*s).to_owned()).collect();
    for wire in WIRES {
        assert_eq!(ids(&list(&c, wire, json!({})).await), BY_DISPLAY_ORDER, "{wire:?} default");
        assert_eq!(ids(&list(&c, wire, json!({"order": "asc"})).await), BY_DISPLAY_ORDER, "{wire:?} asc");
        for (order_by, expected) in known {
            let asc = list(&c, wire, json!({"orderBy": order_by})).await;
            assert_eq!(ids(&asc), expected, "{wire:?} {order_by}");
            let asc2 = list(&c, wire, json!({"orderBy": order_by, "order": "asc"})).await;
            assert_eq!(asc2, asc, "{wire:?} {order_by} asc");
        }
        for order_by in ORDERINGS {
            for desc in [false, true] {
                let order = if desc { "desc" } else { "asc" };
                let listed = list(&c, wire, json!({"orderBy": order_by, "order": order})).await;
                assert_eq!(listed["count"], 11);
                assert!(listed["nextCursor"].is_null());
                let items = listed["tickets"].as_array().unwrap();
                assert_eq!(ids(&listed).into_iter().collect::<BTreeSet<_>>(), all, "{wire:?} {order_by} {order}");
                assert_eq!(items.len(), 11, "{wire:?} {order_by} {order}: each ticket once");
                assert_sorted(items, order_by, desc);
            }
        }
        let recent = list(&c, wire, json!({"orderBy": "sysLastModifiedAt", "order": "desc"})).await;
        let newest = instant(&recent["tickets"][0]["sysLastModifiedAt"]);
        let a1 = recent["tickets"].as_array().unwrap().iter().find(|t| t["productId"] == "a1").unwrap();
        assert_eq!(a1["sysVersion"], 2);
        assert_eq!(instant(&a1["sysLastModifiedAt"]), newest, "{wire:?}: the touched ticket is the newest");
    }
}

/// The productIds a list query answers.
async fn ids_of(c: &Client, wire: Wire, query: Value) -> Vec<String> {
    ids(&list(c, wire, query).await)
}

/// Walks every page of a query with `limit`; the items in order, checking each page on the way.
async fn walk(c: &Client, wire: Wire, query: &Value, limit: usize, total: usize) -> Vec<Value> {
    let mut items: Vec<Value> = Vec::new();
    let mut cursor = Value::Null;
    for _ in 0..=total + 1 {
        let mut q = with(query.clone(), json!({"limit": limit}));
        if !cursor.is_null() {
            q["cursor"] = cursor.clone();
        }
        let page = list(c, wire, q.clone()).await;
        assert_eq!(page["count"], total, "{wire:?} {q}: count is all that match");
        let got = page["tickets"].as_array().unwrap();
        assert_eq!(got.len(), limit.min(total - items.len()), "{wire:?} {q}: page size");
        items.extend(got.iter().cloned());
        cursor = page["nextCursor"].clone();
        if items.len() == total {
            assert!(cursor.is_null(), "{wire:?} {q}: the last page's nextCursor is {cursor}");
            return items;
        }
        assert!(cursor.as_str().is_some_and(|s| !s.is_empty()), "{wire:?} {q}: nextCursor {cursor} mid-list");
    }
    panic!("{wire:?} {query}: paging did not end");
}

#[tokio::test]
async fn list_pages_collect_every_ticket_once_in_both_wires() {
    let c = stocked("tk-page").await;
    let queries = [
        json!({}),
        json!({"orderBy": "price", "order": "desc"}),
        json!({"orderBy": "eventStartDate"}),
        json!({"orderBy": "productId", "order": "desc"}),
        json!({"orderBy": "sysLastModifiedAt"}),
        json!({"orderBy": "displayOrder", "order": "desc"}),
        json!({"onSale": true, "orderBy": "price"}),
        json!({"eventName": "Alpha"}),
    ];
    for wire in WIRES {
        for query in &queries {
            let whole = list(&c, wire, query.clone()).await;
            let expected = whole["tickets"].as_array().unwrap().clone();
            let total = expected.len();
            for limit in [3, 1, 4, total, 1000] {
                let paged = walk(&c, wire, query, limit, total).await;
                assert_eq!(ids(&json!({"tickets": paged})), ids(&whole), "{wire:?} {query} limit {limit}");
                assert_eq!(paged, expected, "{wire:?} {query} limit {limit}: the same tickets");
            }
        }
        // Limit 3 through the 11 tickets: pages of 3, 3, 3 and 2.
        let mut sizes = Vec::new();
        let mut cursor = Value::Null;
        loop {
            let mut q = json!({"limit": 3});
            if !cursor.is_null() {
                q["cursor"] = cursor.clone();
            }
            let page = list(&c, wire, q).await;
            sizes.push(page["tickets"].as_array().unwrap().len());
            cursor = page["nextCursor"].clone();
            if cursor.is_null() || sizes.len() > 5 {
                break;
            }
        }
        assert_eq!(sizes, [3, 3, 3, 2], "{wire:?}");
    }
}

#[tokio::test]
async fn list_paging_survives_a_deleted_ticket_and_a_garbage_cursor_is_refused() {
    for wire in WIRES {
        let c = stocked("tk-cursor").await;
        let first = list(&c, wire, json!({"orderBy": "productId", "limit": 3})).await;
        assert_eq!(ids(&first), ["a1", "a2", "a3"]);
        // The last ticket of the page is deleted: the next page still starts after it.
        ok(&c, wire, DELETE, json!({"productId": "a3"})).await;
        let next = list(&c, wire, json!({"orderBy": "productId", "limit": 3, "cursor": first["nextCursor"]})).await;
        assert_eq!(ids(&next), ["b1", "b2", "b3"], "{wire:?}");
        assert_eq!(next["count"], 10);

        for garbage in [json!("garbage!!"), json!("eyJ4IjoxfQ"), json!("AAAA"), json!(""), json!(12)] {
            let e = refused(&c, wire, LIST, json!({"limit": 3, "cursor": garbage})).await;
            assert_invalid(&e, "cursor", &format!("{wire:?} cursor {garbage}"));
        }
    }
}

#[tokio::test]
async fn list_fields_trim_each_ticket_and_keep_the_product_id_in_both_wires() {
    let c = stocked("tk-fields").await;
    let full = list(&c, Wire::Plain, json!({})).await;
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!(["price", "eventName"]), vec!["productId", "price", "eventName"]),
        (json!(["productId"]), vec!["productId"]),
        (json!([]), vec!["productId"]),
        (json!(["sysVersion", "sold", "grants"]), vec!["productId", "sysVersion", "sold", "grants"]),
        (json!(MEMBERS), MEMBERS.to_vec()),
    ];
    for wire in WIRES {
        for (fields, kept) in &cases {
            let trimmed = list(&c, wire, json!({"fields": fields})).await;
            assert_eq!(trimmed["count"], 11);
            assert_eq!(ids(&trimmed), ids(&full), "{wire:?} fields {fields}");
            for (t, whole) in trimmed["tickets"].as_array().unwrap().iter().zip(full["tickets"].as_array().unwrap()) {
                assert_eq!(keys(t), names(kept), "{wire:?} fields {fields}: {t}");
                for k in kept {
                    assert_eq!(t[*k], whole[*k], "{wire:?} fields {fields}: member {k}");
                }
            }
        }
        // Trimming, filters and paging together.
        let q = json!({"fields": ["price"], "orderBy": "price", "onSale": true});
        let whole = list(&c, wire, q.clone()).await;
        let paged = walk(&c, wire, &q, 3, 7).await;
        assert_eq!(json!(paged), whole["tickets"], "{wire:?}");
        for t in &paged {
            assert_eq!(keys(t), names(&["productId", "price"]));
        }
    }
}

#[tokio::test]
async fn list_query_problems_are_refused_in_both_wires() {
    let cases: Vec<(Value, &str)> = vec![
        (json!({"limit": 0}), "limit"),
        (json!({"limit": 1001}), "limit"),
        (json!({"limit": -1}), "limit"),
        (json!({"limit": 2.5}), "limit"),
        (json!({"limit": "3"}), "limit"),
        (json!({"orderBy": "name"}), "orderBy"),
        (json!({"orderBy": "DisplayOrder"}), "orderBy"),
        (json!({"order": "up"}), "order"),
        (json!({"order": "DESC"}), "order"),
        (json!({"fields": ["bogus"]}), "fields"),
        (json!({"fields": ["price", "bogus"]}), "fields"),
        (json!({"fields": "price"}), "fields"),
        (json!({"visible": "yes"}), "visible"),
        (json!({"onSale": 1}), "onSale"),
        (json!({"startsFrom": "soon"}), "startsFrom"),
        (json!({"startsTo": "2030-01-01"}), "startsTo"),
        (json!({"ticketType": "days:0of1"}), "ticketType"),
        (json!({"eventName": 5}), "eventName"),
        (json!({"productIds": "a1"}), "productIds"),
        (json!({"productIds": ["a b"]}), "productIds"),
        (json!({"sort": "price"}), "sort"),
    ];
    let c = stocked("tk-query").await;
    let mut failures = Vec::new();
    for wire in WIRES {
        for (query, field) in &cases {
            match rpc(&c, wire, LIST, query.clone()).await {
                Ok(v) => failures.push(format!("{wire:?} {query}: accepted with count {}", v["count"])),
                Err(e)
                    if e.code != -32602
                        || !e.fields().iter().any(|f| f == field || f.starts_with(&format!("{field}["))) =>
                {
                    failures.push(format!("{wire:?} {query}: expected -32602 naming {field}, got {e:?}"))
                }
                Err(_) => {}
            }
        }
        // Several problems at once.
        let e = refused(&c, wire, LIST, json!({"limit": 0, "orderBy": "name", "sort": 1})).await;
        assert_eq!(e.code, -32602);
        for field in ["limit", "orderBy", "sort"] {
            assert!(e.fields().iter().any(|f| f == field), "{wire:?}: {field} not in {:?}", e.fields());
        }
        // The bounds themselves are fine.
        assert_eq!(list(&c, wire, json!({"limit": 1})).await["tickets"].as_array().unwrap().len(), 1);
        assert_eq!(list(&c, wire, json!({"limit": 1000})).await["tickets"].as_array().unwrap().len(), 11);
    }
    assert!(failures.is_empty(), "{} query case(s) not refused as expected:\n{}", failures.len(), failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------------------------
// 6. Timestamps: epoch milliseconds and offsets in, RFC 3339 UTC with milliseconds out.
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn timestamps_in_epoch_ms_and_offsets_are_normalised_in_both_wires() {
    let cases: [(Value, &str); 7] = [
        (json!(1893456000123i64), "2030-01-01T00:00:00.123Z"),
        (json!(1893844800000i64), "2030-01-05T12:00:00.000Z"),
        (json!("2030-01-01T01:00:00.123+01:00"), "2030-01-01T00:00:00.123Z"),
        (json!("2030-01-01T00:00:00.5Z"), "2030-01-01T00:00:00.500Z"),
        (json!("2029-12-31T19:00:00-05:00"), "2030-01-01T00:00:00.000Z"),
        (json!("2030-01-01T05:30:00+05:30"), "2030-01-01T00:00:00.000Z"),
        (json!(1893455999999i64), "2029-12-31T23:59:59.999Z"),
    ];
    for wire in WIRES {
        let (c, _, _) = setup("tk-time").await;
        for (i, (sent, shown)) in cases.iter().enumerate() {
            let pid = format!("t{i}");
            // The same instant as start and end: an end not before the start.
            let t = with(ticket(&pid), json!({"eventStartDate": sent, "eventEndDate": sent}));
            let created = ok(&c, wire, CREATE, json!({"ticket": t})).await["ticket"].clone();
            assert_eq!(created["eventStartDate"], *shown, "{wire:?} {sent}");
            assert_eq!(created["eventEndDate"], *shown, "{wire:?} {sent}");
        }
        // Update takes epoch ms too.
        let t = with(ticket("t0"), json!({"eventStartDate": 1893456000123i64, "eventEndDate": 1893844800000i64}));
        let updated = ok(&c, wire, UPDATE, json!({"ticket": t})).await["ticket"].clone();
        assert_eq!(
            (updated["eventStartDate"].clone(), updated["eventEndDate"].clone()),
            (json!("2030-01-01T00:00:00.123Z"), json!("2030-01-05T12:00:00.000Z")),
            "{wire:?}"
        );
        // The list filters take epoch ms, inclusive to the millisecond.
        assert_eq!(
            ids_of(&c, wire, json!({"startsFrom": 1893456000123i64, "startsTo": 1893456000123i64})).await,
            ["t0", "t2"]
        );
        assert_eq!(
            ids_of(&c, wire, json!({"startsFrom": 1893456000124i64, "startsTo": 1893456000499i64})).await,
            Vec::<String>::new()
        );
        assert_eq!(
            ids_of(&c, wire, json!({"startsFrom": "2030-01-01T00:00:00.500Z", "startsTo": 1893456000500i64})).await,
            ["t3"]
        );
        assert_eq!(ids_of(&c, wire, json!({"startsTo": 1893455999999i64, "orderBy": "productId"})).await, ["t6"]);
        assert_eq!(
            ids_of(
                &c,
                wire,
                json!({"startsFrom": 1893456000000i64, "startsTo": "2030-01-01T00:00:00Z", "orderBy": "productId"})
            )
            .await,
            ["t4", "t5"]
        );
    }
}

#[tokio::test]
async fn a_cursor_belongs_to_the_ordering_it_was_made_for() {
    for wire in WIRES {
        let c = stocked("tk-cursor-order").await;
        let first = list(&c, wire, json!({"orderBy": "productId", "limit": 3})).await;
        let e = refused(&c, wire, LIST, json!({"orderBy": "price", "limit": 3, "cursor": first["nextCursor"]})).await;
        assert_invalid(&e, "cursor", &format!("{wire:?}"));
        let e =
            refused(&c, wire, LIST, json!({"orderBy": "productId", "order": "desc", "cursor": first["nextCursor"]}))
                .await;
        assert_invalid(&e, "cursor", &format!("{wire:?} desc"));
    }
}

/// The list is answered from memory between changes: after any change is answered, every list shows it, also while
/// other callers keep reading the list (and so keep the kept list warm) the whole time. So does `getPurchasableTicket`,
/// which answers from the kept list when it is current: asked right after the change, and again after a list.
#[tokio::test]
async fn the_list_is_never_stale_after_a_change() {
    let client = manager(&network("tk-fresh")).await;
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                for _ in 0..200 {
                    client.call(LIST, json!({})).await.expect("the list");
                }
            })
        })
        .collect();
    let listed = |client: &Client| {
        let client = client.clone();
        async move {
            let list = client.call(LIST, json!({})).await.unwrap();
            // The answer kept for the call without params is the one a query rendered afresh gives.
            assert_eq!(list, client.call(LIST, json!({"limit": 1000})).await.unwrap(), "kept and rendered alike");
            list["tickets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| (t["productId"].as_str().unwrap().to_owned(), (t["price"].clone(), t["sold"].clone())))
                .collect::<Vec<_>>()
        }
    };
    let got = |client: &Client, id: String| {
        let client = client.clone();
        async move {
            let t = client.call(GET, json!({"productId": id})).await.unwrap()["ticket"].clone();
            (t["price"].clone(), t["sold"].clone(), t["sysVersion"].clone())
        }
    };
    for i in 0..20 {
        let id = format!("fresh-{i}");
        client.call(CREATE, json!({"ticket": ticket(&id)})).await.unwrap();
        assert_eq!(got(&client, id.clone()).await, (json!(99.5), json!(0), json!(1)), "created {id}, got at once");
        assert!(listed(&client).await.iter().any(|(p, _)| *p == id), "created {id}, listed at once");
        client.call(UPDATE, json!({"ticket": with(ticket(&id), json!({"price": 1.25}))})).await.unwrap();
        assert_eq!(got(&client, id.clone()).await, (json!(1.25), json!(0), json!(2)), "updated {id}, got at once");
        let after = listed(&client).await;
        assert_eq!(after.iter().find(|(p, _)| *p == id).unwrap().1.0, json!(1.25), "updated {id}, listed at once");
        assert_eq!(got(&client, id.clone()).await, (json!(1.25), json!(0), json!(2)), "updated {id}, after a list");
        let registration = json!({"eventId": "ev", "name": "A", "contactId": format!("c{i}"), "typeId": "t",
            "packageId": "p", "productId": id});
        client.call("registration.create", json!({"registration": registration})).await.unwrap();
        assert_eq!(got(&client, id.clone()).await.1, json!(1), "sold {id}, got at once");
        let sold = listed(&client).await;
        assert_eq!(sold.iter().find(|(p, _)| *p == id).unwrap().1.1, json!(1), "sold {id}, listed at once");
        assert_eq!(got(&client, id.clone()).await.1, json!(1), "sold {id}, after a list");
    }
    client.call(DELETE, json!({"productId": "fresh-0"})).await.unwrap_err();
    let held = listed(&client).await;
    assert!(held.iter().any(|(p, _)| p == "fresh-0"), "a refused delete changes nothing");
    client.call(CREATE, json!({"ticket": ticket("fresh-gone")})).await.unwrap();
    assert!(listed(&client).await.iter().any(|(p, _)| p == "fresh-gone"));
    assert_eq!(got(&client, "fresh-gone".into()).await.2, json!(1));
    client.call(DELETE, json!({"productId": "fresh-gone"})).await.unwrap();
    let gone = client.call(GET, json!({"productId": "fresh-gone"})).await.unwrap_err();
    assert_eq!(gone.code, -32004, "deleted, not found at once: {gone:?}");
    assert!(!listed(&client).await.iter().any(|(p, _)| p == "fresh-gone"), "deleted, not listed");
    let gone = client.call(GET, json!({"productId": "fresh-gone"})).await.unwrap_err();
    assert_eq!(gone.code, -32004, "deleted, not found after a list: {gone:?}");
    for reader in readers {
        reader.await.unwrap();
    }
}

// ---- patch and commands (API.md section 11) -------------------------------------------------------------------

const PATCH: &str = "ticket.patchPurchasableTicket";
const COMMANDS: &str = "ticket.listCommands";
const RUN: &str = "ticket.runCommand";

/// A manager of a fresh network holding tickets `a` (allocation 10, two of it sold) and `b` (unlimited).
async fn two_tickets(prefix: &str) -> Client {
    let (c, _, _) = setup(prefix).await;
    ok(&c, Wire::Plain, CREATE, json!({"ticket": with(ticket("a"), json!({"allocation": 10}))})).await;
    ok(&c, Wire::Plain, CREATE, json!({"ticket": ticket("b")})).await;
    for contact in ["c1", "c2"] {
        let held = with(common::registration(contact), json!({"productId": "a"}));
        common::create_registration(&c, held).await.expect("registered");
    }
    c
}

async fn stored(c: &Client, id: &str) -> Value {
    ok(c, Wire::Plain, GET, json!({"productId": id})).await["ticket"].clone()
}

#[tokio::test]
async fn a_patch_changes_the_members_it_names_and_keeps_the_rest_in_both_wires() {
    for wire in WIRES {
        let c = two_tickets("patch").await;
        let before = stored(&c, "a").await;
        let patch = json!([{"op": "replace", "path": "/discount", "value": "Early bird"},
                           {"op": "add", "path": "/ticketDescription", "value": "Front rows"}]);
        let patched =
            ok(&c, wire, PATCH, json!({"productId": "a", "patch": patch, "sysVersion": 1})).await["ticket"].clone();
        assert_eq!(patched["discount"], "Early bird", "{wire:?}");
        assert_eq!(patched["ticketDescription"], "Front rows");
        // What a whole replacement without it would reset, a patch keeps.
        assert_eq!((patched["allocation"].clone(), patched["sold"].clone()), (json!(10), json!(2)));
        assert_eq!(patched["sysVersion"], 2);
        assert_eq!(patched, stored(&c, "a").await);
        let unchanged = |v: &Value| {
            let mut v = v.clone();
            for member in ["discount", "ticketDescription", "sysVersion", "sysLastModifiedAt"] {
                v.as_object_mut().expect("an object").remove(member);
            }
            v
        };
        assert_eq!(unchanged(&patched), unchanged(&before));

        // Each refusal names its reason and changes nothing.
        let conflicts = [
            (json!({"sysVersion": 1, "patch": [{"op": "replace", "path": "/price", "value": 1}]}), "staleVersion"),
            (
                json!({"patch": [{"op": "test", "path": "/discount", "value": "none"}, {"op": "remove", "path": "/discount"}]}),
                "testFailed",
            ),
            (json!({"patch": [{"op": "replace", "path": "/allocation", "value": 1}]}), "soldOut"),
        ];
        for (mut params, reason) in conflicts {
            params["productId"] = json!("a");
            let e = refused(&c, wire, PATCH, params).await;
            assert_eq!((e.code, e.reason()), (-32009, reason), "{e:?}");
        }
        let replace = |path: &str, value: Value| json!([{"op": "replace", "path": path, "value": value}]);
        for (patch, field, what) in [
            (replace("/productId", json!("z")), "patch: /productId", "the key"),
            (replace("/sold", json!(0)), "patch: /sold", "sold"),
            (replace("/eventEndDate", json!("2000-01-01T00:00:00Z")), "ticket.eventEndDate", "validated whole"),
            (json!([{"op": "remove", "path": "/ticketName"}]), "ticket.ticketName", "a required member removed"),
            (replace("/nowhere/deep", json!(1)), "patch[0]", "a path that does not exist"),
        ] {
            let e = refused(&c, wire, PATCH, json!({"productId": "a", "patch": patch})).await;
            assert_invalid(&e, field, what);
        }
        assert_invalid(
            &refused(&c, wire, PATCH, json!({"productId": "a", "patch": {}})).await,
            "patch",
            "not an array",
        );
        assert_invalid(&refused(&c, wire, PATCH, json!({"productId": "a"})).await, "patch", "no patch");
        let missing = refused(&c, wire, PATCH, json!({"productId": "none", "patch": []})).await;
        assert_not_found(&missing, "none");
        assert_eq!(stored(&c, "a").await, patched, "{wire:?}: refusals change nothing");
    }
}

#[tokio::test]
async fn the_commands_are_listed_with_their_parameters_in_both_wires() {
    let (c, _, _) = setup("commands").await;
    for wire in WIRES {
        let listed = ok(&c, wire, COMMANDS, json!({})).await["commands"].clone();
        let keys: Vec<&str> = listed.as_array().expect("commands").iter().filter_map(|c| c["key"].as_str()).collect();
        assert_eq!(keys, ["hide", "show", "closeSales", "setAllocation", "shiftDates", "reorder", "duplicate"]);
        let duplicate = &listed[6];
        assert_eq!(duplicate["appliesTo"], "one");
        assert_eq!(
            duplicate["parameters"],
            json!([{"name": "newProductId", "type": "string", "required": true},
                   {"name": "ticketName", "type": "string", "required": false}])
        );
        assert_eq!(listed[3]["parameters"], json!([{"name": "allocation", "type": "integer", "required": true}]));
        assert!(
            listed.as_array().expect("commands").windows(2).all(|w| w[0]["order"].as_u64() < w[1]["order"].as_u64())
        );
        assert_invalid(&refused(&c, wire, COMMANDS, json!({"verbose": true})).await, "verbose", "unknown member");
    }
}

#[tokio::test]
async fn each_command_changes_every_ticket_it_names_in_both_wires() {
    for wire in WIRES {
        let c = two_tickets("run").await;
        let run =
            |key: &str, ids: Value, parameters: Value| json!({"key": key, "productIds": ids, "parameters": parameters});
        let hidden = ok(&c, wire, RUN, run("hide", json!(["a", "b"]), json!({}))).await;
        assert_eq!(hidden["wasSuccessful"], true);
        assert_eq!(hidden["message"], "2 tickets hidden");
        let tickets = hidden["tickets"].as_array().expect("tickets");
        assert!(tickets.iter().all(|t| t["visible"] == false && t["sysVersion"] == 2), "{hidden}");
        assert_eq!(stored(&c, "b").await["visible"], false);
        let shown = ok(&c, wire, RUN, json!({"key": "show", "productIds": ["b"]})).await;
        assert_eq!(shown["tickets"][0]["visible"], true, "parameters may be left out");

        let closed = ok(&c, wire, RUN, run("closeSales", json!(["a", "b"]), json!({}))).await;
        let allocations: Vec<&Value> =
            closed["tickets"].as_array().expect("tickets").iter().map(|t| &t["allocation"]).collect();
        assert_eq!(allocations, [&json!(2), &json!(0)], "allocation := sold");
        let set = ok(&c, wire, RUN, run("setAllocation", json!(["a"]), json!({"allocation": 40}))).await;
        assert_eq!(set["tickets"][0]["allocation"], 40);

        let before = stored(&c, "a").await;
        let moved = ok(&c, wire, RUN, run("shiftDates", json!(["a"]), json!({"days": 7}))).await["tickets"][0].clone();
        let week = chrono::Duration::days(7);
        assert_eq!(instant(&moved["eventStartDate"]), instant(&before["eventStartDate"]) + week);
        assert_eq!(instant(&moved["eventEndDate"]), instant(&before["eventEndDate"]) + week);

        let ordered = ok(&c, wire, RUN, run("reorder", json!(["b", "a"]), json!({}))).await;
        assert_eq!(
            (stored(&c, "b").await["displayOrder"].clone(), stored(&c, "a").await["displayOrder"].clone()),
            (json!(1), json!(2))
        );
        assert_eq!(ordered["message"], "2 tickets ordered as listed");

        let copy =
            ok(&c, wire, RUN, run("duplicate", json!(["a"]), json!({"newProductId": "a2", "ticketName": "Copy"})))
                .await;
        let made = &copy["tickets"][0];
        assert_eq!(
            (made["productId"].clone(), made["ticketName"].clone(), made["sold"].clone()),
            (json!("a2"), json!("Copy"), json!(0))
        );
        assert_eq!(made["sysVersion"], 1);
        let source = stored(&c, "a").await;
        assert_eq!(
            (made["price"].clone(), made["allocation"].clone()),
            (source["price"].clone(), source["allocation"].clone())
        );
        assert_eq!(stored(&c, "a2").await, *made);
        assert_eq!(
            ids(&ok(&c, wire, LIST, json!({"orderBy": "productId"})).await),
            ["a", "a2", "b"],
            "the list sees the copy"
        );
    }
}

#[tokio::test]
async fn a_command_refused_for_one_ticket_changes_none_in_both_wires() {
    for wire in WIRES {
        let c = two_tickets("refuse").await;
        let (a, b) = (stored(&c, "a").await, stored(&c, "b").await);
        let run =
            |key: &str, ids: Value, parameters: Value| json!({"key": key, "productIds": ids, "parameters": parameters});
        // "b" would take an allocation of 1, "a" (two sold) cannot: neither changes.
        let below = refused(&c, wire, RUN, run("setAllocation", json!(["b", "a"]), json!({"allocation": 1}))).await;
        assert_eq!((below.code, below.reason()), (-32009, "soldOut"), "{below:?}");
        let missing = refused(&c, wire, RUN, run("hide", json!(["b", "none"]), json!({}))).await;
        assert_not_found(&missing, "none");
        let taken = refused(&c, wire, RUN, run("duplicate", json!(["a"]), json!({"newProductId": "b"}))).await;
        assert_eq!((taken.code, taken.reason()), (-32009, "duplicate"), "{taken:?}");

        for (params, field) in [
            (run("explode", json!(["a"]), json!({})), "key"),
            (json!({"productIds": ["a"]}), "key"),
            (json!({"key": "hide"}), "productIds"),
            (run("hide", json!([]), json!({})), "productIds"),
            (run("hide", json!(["a", "a"]), json!({})), "productIds"),
            (run("hide", json!("a"), json!({})), "productIds"),
            (run("hide", json!(["a"]), json!([])), "parameters"),
            (run("hide", json!(["a"]), json!({"force": true})), "parameters.force"),
            (run("setAllocation", json!(["a"]), json!({})), "parameters.allocation"),
            (run("setAllocation", json!(["a"]), json!({"allocation": "ten"})), "parameters.allocation"),
            (run("setAllocation", json!(["a"]), json!({"allocation": -1})), "parameters.allocation"),
            (run("shiftDates", json!(["a"]), json!({"days": 0.5})), "parameters.days"),
            (run("shiftDates", json!(["a"]), json!({"days": 100000})), "parameters.days"),
            (run("duplicate", json!(["a", "b"]), json!({"newProductId": "x"})), "productIds"),
            (run("duplicate", json!(["a"]), json!({"newProductId": ""})), "parameters.newProductId"),
            (run("duplicate", json!(["a"]), json!({"newProductId": "x", "ticketName": ""})), "parameters.ticketName"),
            (json!({"key": "hide", "productIds": ["a"], "force": true}), "force"),
        ] {
            assert_invalid(&refused(&c, wire, RUN, params.clone()).await, field, &format!("{wire:?} {params}"));
        }
        // The network's maxTickets counts a duplicate as it counts a create.
        let net = c.network.clone().expect("a network");
        let limits = json!({"networkId": net, "maxTickets": 2});
        Client::admin().call("admin.setNetworkLimits", limits).await.expect("limits set");
        let full = refused(&c, wire, RUN, run("duplicate", json!(["a"]), json!({"newProductId": "x"}))).await;
        assert_eq!((full.code, full.data["limit"].clone()), (-32029, json!("maxTickets")), "{full:?}");
        assert_eq!((stored(&c, "a").await, stored(&c, "b").await), (a, b), "{wire:?}: refusals change nothing");
        assert_not_found(&refused(&c, wire, GET, json!({"productId": "x"})).await, "x");
    }
}
