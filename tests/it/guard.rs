//! The guard, black-box over HTTP, held to API.md sections 2, 3, 5 and 8: who may call which method on which
//! network (a table of every caller × every ticket and admin method), that a denied call changes nothing, that
//! networks are isolated, that batch entries are judged one by one, how the network of a call is resolved, the admin
//! methods, and that an unknown method is `-32601` for anyone.
//!
//! Every test works on networks of its own, so the tests can share the one server of this binary.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use common::{ADMIN, Client, RpcError, from_parts, manager, network, ticket};
use serde_json::{Value, json};

const NOT_AUTHENTICATED: i64 = -32001;
const FORBIDDEN: i64 = -32003;
const NOT_FOUND: i64 = -32004;
const INVALID_PARAMS: i64 = -32602;
const METHOD_NOT_FOUND: i64 = -32601;

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

/// A token made by the admin: its secret and what `createToken` said about it.
#[derive(Debug, Clone)]
struct Token {
    secret: String,
    info: Value,
}

impl Token {
    fn id(&self) -> &str {
        self.info["id"].as_str().expect("token id")
    }
}

/// Makes a token with these grants (and expiry), through `admin.createToken`.
async fn make(name: &str, grants: &[&str], expires_at: Option<&str>) -> Token {
    let mut params = json!({"name": name, "grants": grants});
    if let Some(at) = expires_at {
        params["expiresAt"] = json!(at);
    }
    let made = Client::admin().call("admin.createToken", params).await.expect("admin.createToken");
    Token { secret: made["token"].as_str().expect("secret").to_owned(), info: made["tokenInfo"].clone() }
}

/// A client sending this token (or none), without a network header.
fn with(token: Option<&str>) -> Client {
    match token {
        Some(t) => Client::anonymous().with_token(t),
        None => Client::anonymous(),
    }
}

/// A client sending this token without any network header.
fn bare_client(client: &Client) -> Client {
    Client { network: None, ..client.clone() }
}

/// Every ticket of a network, as the admin reads it.
async fn list_of(net: &str) -> Value {
    Client::admin().on(net).call("ticket.getPurchasableTickets", json!({})).await.expect("admin lists")
}

/// The productIds of a network, as the admin reads them, sorted.
async fn ids_of(net: &str) -> Vec<String> {
    let list = list_of(net).await;
    let mut ids: Vec<String> = list["tickets"]
        .as_array()
        .expect("tickets")
        .iter()
        .map(|t| t["productId"].as_str().expect("productId").to_owned())
        .collect();
    ids.sort();
    ids
}

/// One ticket of a network, as the admin reads it.
async fn get_in(net: &str, product_id: &str) -> Result<Value, RpcError> {
    Client::admin().on(net).call("ticket.getPurchasableTicket", json!({"productId": product_id})).await
}

/// Every token, as the admin lists them.
async fn all_tokens() -> Vec<Value> {
    let listed = Client::admin().call("admin.listTokens", json!({})).await.expect("admin lists tokens");
    listed["tokens"].as_array().expect("tokens").clone()
}

/// The listed token with this id.
async fn listed(id: &str) -> Option<Value> {
    all_tokens().await.into_iter().find(|t| t["id"] == id)
}

/// Whether a token with this secret is usable right now (`admin.whoami` answers).
async fn whoami(secret: &str) -> Result<Value, RpcError> {
    with(Some(secret)).call("admin.whoami", json!({})).await
}

/// Every string anywhere inside a JSON value.
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            out.push(k.clone());
            strings(v, out);
        }),
        _ => {}
    }
}

/// A batch's answers by their (integer) id; each id must be answered exactly once.
fn answers_by_id(answer: &Value, expected: usize) -> BTreeMap<i64, Result<Value, RpcError>> {
    let items = answer.as_array().unwrap_or_else(|| panic!("a batch answer is an array: {answer}"));
    assert_eq!(items.len(), expected, "one answer per call: {answer}");
    let mut by_id = BTreeMap::new();
    for item in items {
        assert_eq!(item["jsonrpc"], "2.0");
        let id = item["id"].as_i64().unwrap_or_else(|| panic!("integer id: {item}"));
        let previous = by_id.insert(id, from_parts(&item["result"], &item["error"]));
        assert!(previous.is_none(), "id {id} answered twice: {answer}");
    }
    by_id
}

fn call(id: i64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

fn forbidden_on(net: &str) -> Value {
    json!({"permission": "network.manage", "networkId": net})
}

// ---------------------------------------------------------------------------------------------------------------
// 1. The guard matrix
// ---------------------------------------------------------------------------------------------------------------

/// The callers of the matrix.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    NoToken,
    UnknownToken,
    /// Held `all@*` before it was revoked: only the revocation can explain a refusal.
    Revoked,
    /// Holds `all@*` but expired: only the expiry can explain a refusal.
    Expired,
    ManageA,
    ManageB,
    Admin,
}

/// The methods of the matrix, in the order of the table's columns.
const METHODS: [&str; 9] = [
    "ticket.createPurchasableTicket",
    "ticket.updatePurchasableTicket",
    "ticket.deletePurchasableTicket",
    "ticket.getPurchasableTickets",
    "ticket.getPurchasableTicket",
    "admin.createToken",
    "admin.listTokens",
    "admin.revokeToken",
    "admin.whoami",
];

const OK: i64 = 0;
const N: i64 = NOT_AUTHENTICATED;
const F: i64 = FORBIDDEN;

/// Every call acts on network A. `OK`: allowed; otherwise the one error code the call must get.
#[rustfmt::skip]
const MATRIX: [(Who, [i64; 9]); 7] = [
    //                  create upd  del  list get | createToken listTokens revokeToken whoami
    (Who::NoToken,      [N,    N,   N,   N,   N,    N,          N,         N,          N]),
    (Who::UnknownToken, [N,    N,   N,   N,   N,    N,          N,         N,          N]),
    (Who::Revoked,      [N,    N,   N,   N,   N,    N,          N,         N,          N]),
    (Who::Expired,      [N,    N,   N,   N,   N,    N,          N,         N,          N]),
    (Who::ManageA,      [OK,   OK,  OK,  OK,  OK,   F,          F,         F,          OK]),
    (Who::ManageB,      [F,    F,   F,   F,   F,    F,          F,         F,          OK]),
    (Who::Admin,        [OK,   OK,  OK,  OK,  OK,   OK,         OK,        OK,         OK]),
];

/// The caller's secret and, when it is one made here, its token.
async fn caller(who: Who, a: &str, b: &str) -> (Option<String>, Option<Token>) {
    let made = |t: Token| (Some(t.secret.clone()), Some(t));
    match who {
        Who::NoToken => (None, None),
        // Well formed, like the server's own secrets, but never made.
        Who::UnknownToken => (Some(format!("ta_{}", "5a".repeat(32))), None),
        Who::Revoked => {
            let t = make("matrix-revoked", &["all@*"], None).await;
            Client::admin().call("admin.revokeToken", json!({"tokenId": t.id()})).await.expect("revoked");
            made(t)
        }
        // A token cannot be made already expired: the shared server holds one made before its time passed.
        Who::Expired => (Some(common::shared().expired_token.clone()), None),
        Who::ManageA => made(make("matrix-a", &[&format!("network.manage@{a}")], None).await),
        Who::ManageB => made(make("matrix-b", &[&format!("network.manage@{b}")], None).await),
        Who::Admin => (Some(ADMIN.to_owned()), None),
    }
}

/// The call's result when it was allowed; `None` when it was denied with exactly the expected error.
fn judge(ctx: &str, method: &str, a: &str, want: i64, outcome: Result<Value, RpcError>) -> Option<Value> {
    match (want, outcome) {
        (OK, Ok(result)) => Some(result),
        (OK, Err(e)) => panic!("{ctx}: must be allowed, got {e:?}"),
        (code, Ok(result)) => panic!("{ctx}: must be refused with {code}, got the result {result}"),
        (code, Err(e)) => {
            assert_eq!(e.code, code, "{ctx}: {e:?}");
            if code == FORBIDDEN {
                if method.starts_with("ticket.") {
                    assert_eq!(e.data, forbidden_on(a), "{ctx}: the data of -32003");
                } else {
                    assert_eq!(e.data["permission"], "all", "{ctx}: admin methods need all: {e:?}");
                }
            }
            None
        }
    }
}

/// One row of the matrix: every method called by `who` on a fresh network A, each checked for its outcome and, when
/// denied, for having changed nothing.
async fn matrix_row(who: Who) {
    let (a, b) = (network("matrix-a"), network("matrix-b"));
    let row = MATRIX.iter().find(|(w, _)| *w == who).expect("a row for every caller").1;
    let admin_a = Client::admin().on(&a);
    admin_a.call("ticket.createPurchasableTicket", json!({"ticket": ticket("fixed")})).await.unwrap();
    admin_a.call("ticket.createPurchasableTicket", json!({"ticket": ticket("doomed")})).await.unwrap();
    let witness = make("matrix-witness", &[&format!("network.manage@{a}")], None).await;
    let victim = make("matrix-victim", &[&format!("network.manage@{a}")], None).await;
    let (secret, token) = caller(who, &a, &b).await;
    let client = with(secret.as_deref()).on(&a);

    for (method, want) in METHODS.into_iter().zip(row) {
        let ctx = format!("{who:?} × {method} on A");
        let before = list_of(&a).await;
        let fixed_before = get_in(&a, "fixed").await.expect("fixed exists")["ticket"].clone();
        match method {
            "ticket.createPurchasableTicket" => {
                let outcome = client.call(method, json!({"ticket": ticket("created")})).await;
                match judge(&ctx, method, &a, want, outcome) {
                    Some(r) => {
                        assert_eq!(r["ticket"]["productId"], "created", "{ctx}");
                        assert_eq!(get_in(&a, "created").await.unwrap()["ticket"], r["ticket"], "{ctx}");
                    }
                    None => assert_eq!(get_in(&a, "created").await.unwrap_err().code, NOT_FOUND, "{ctx}"),
                }
            }
            "ticket.updatePurchasableTicket" => {
                let mut changed = ticket("fixed");
                changed["price"] = json!(12.34);
                let outcome = client.call(method, json!({"ticket": changed})).await;
                let after = get_in(&a, "fixed").await.expect("fixed still exists")["ticket"].clone();
                match judge(&ctx, method, &a, want, outcome) {
                    Some(r) => {
                        assert_eq!(r["ticket"]["price"], 12.34, "{ctx}");
                        let version = fixed_before["sysVersion"].as_i64().unwrap();
                        assert_eq!(after["sysVersion"], version + 1, "{ctx}");
                        assert_eq!(after, r["ticket"], "{ctx}");
                    }
                    None => assert_eq!(after, fixed_before, "{ctx}: sysVersion and price unchanged"),
                }
            }
            "ticket.deletePurchasableTicket" => {
                let doomed = get_in(&a, "doomed").await.expect("doomed exists");
                let outcome = client.call(method, json!({"productId": "doomed"})).await;
                match judge(&ctx, method, &a, want, outcome) {
                    Some(r) => {
                        assert_eq!(r, json!({}), "{ctx}");
                        assert_eq!(get_in(&a, "doomed").await.unwrap_err().code, NOT_FOUND, "{ctx}");
                    }
                    None => assert_eq!(get_in(&a, "doomed").await.unwrap(), doomed, "{ctx}: still there"),
                }
            }
            "ticket.getPurchasableTickets" => {
                let outcome = client.call(method, json!({})).await;
                if let Some(r) = judge(&ctx, method, &a, want, outcome) {
                    assert_eq!(r, before, "{ctx}: the caller sees what the admin sees");
                }
            }
            "ticket.getPurchasableTicket" => {
                let outcome = client.call(method, json!({"productId": "fixed"})).await;
                if let Some(r) = judge(&ctx, method, &a, want, outcome) {
                    assert_eq!(r["ticket"], fixed_before, "{ctx}");
                }
            }
            "admin.createToken" => {
                let name = format!("made-in-{a}");
                let params = json!({"name": name, "grants": [format!("network.manage@{a}")]});
                let outcome = client.call(method, params).await;
                let named: Vec<Value> = all_tokens().await.into_iter().filter(|t| t["name"] == name).collect();
                match judge(&ctx, method, &a, want, outcome) {
                    Some(r) => {
                        assert_eq!(named, [r["tokenInfo"].clone()], "{ctx}: listed once");
                        let me = whoami(r["token"].as_str().unwrap()).await.expect("the new token works");
                        assert_eq!(me["tokenInfo"], r["tokenInfo"], "{ctx}");
                    }
                    None => assert!(named.is_empty(), "{ctx}: no token was made: {named:?}"),
                }
            }
            "admin.listTokens" => {
                let outcome = client.call(method, json!({})).await;
                if let Some(r) = judge(&ctx, method, &a, want, outcome) {
                    let tokens = r["tokens"].as_array().expect("tokens");
                    assert!(tokens.iter().any(|t| t["id"] == witness.id()), "{ctx}: lists the witness");
                    assert!(!r.to_string().contains(&witness.secret), "{ctx}: no secret listed");
                }
            }
            "admin.revokeToken" => {
                let outcome = client.call(method, json!({"tokenId": victim.id()})).await;
                let row = listed(victim.id()).await.expect("the victim is listed");
                match judge(&ctx, method, &a, want, outcome) {
                    Some(r) => {
                        assert_eq!(r, json!({}), "{ctx}");
                        assert!(row["revokedAt"].is_string(), "{ctx}: {row}");
                        assert_eq!(whoami(&victim.secret).await.unwrap_err().code, NOT_AUTHENTICATED, "{ctx}");
                    }
                    None => {
                        assert!(row["revokedAt"].is_null(), "{ctx}: not revoked: {row}");
                        assert!(whoami(&victim.secret).await.is_ok(), "{ctx}: the victim still works");
                    }
                }
            }
            "admin.whoami" => {
                let outcome = client.call(method, json!({})).await;
                if let Some(r) = judge(&ctx, method, &a, want, outcome) {
                    match &token {
                        Some(t) => assert_eq!(r["tokenInfo"], t.info, "{ctx}"),
                        None => assert_eq!(r["tokenInfo"]["grants"], json!(["all@*"]), "{ctx}"),
                    }
                }
            }
            other => unreachable!("{other}"),
        }
        if want != OK {
            assert_eq!(list_of(&a).await, before, "{ctx}: a denied call changes nothing in A");
        }
    }
    assert_eq!(list_of(&b).await["count"], 0, "{who:?}: nothing reached B");
}

#[tokio::test]
async fn matrix_without_a_token() {
    matrix_row(Who::NoToken).await;
}

#[tokio::test]
async fn matrix_with_an_unknown_token() {
    matrix_row(Who::UnknownToken).await;
}

#[tokio::test]
async fn matrix_with_a_revoked_token() {
    matrix_row(Who::Revoked).await;
}

#[tokio::test]
async fn matrix_with_an_expired_token() {
    matrix_row(Who::Expired).await;
}

#[tokio::test]
async fn matrix_with_the_manager_of_a() {
    matrix_row(Who::ManageA).await;
}

#[tokio::test]
async fn matrix_with_the_manager_of_b() {
    matrix_row(Who::ManageB).await;
}

#[tokio::test]
async fn matrix_with_the_admin() {
    matrix_row(Who::Admin).await;
}

#[tokio::test]
async fn the_bare_params_form_is_guarded_too() {
    let (a, b) = (network("bare-a"), network("bare-b"));
    let outsider = manager(&b).await;
    let outsider = Client { network: Some(a.clone()), ..outsider };
    let e = Client::anonymous().on(&a).bare("ticket.getPurchasableTickets", json!({})).await.unwrap_err();
    assert_eq!(e.code, NOT_AUTHENTICATED);
    let e = outsider.bare("ticket.createPurchasableTicket", json!({"ticket": ticket("x")})).await.unwrap_err();
    assert_eq!((e.code, e.data), (FORBIDDEN, forbidden_on(&a)));
    assert_eq!(list_of(&a).await["count"], 0);
    let e = outsider.bare("admin.listTokens", json!({})).await.unwrap_err();
    assert_eq!(e.code, FORBIDDEN);
    let created = manager(&a).await.bare("ticket.createPurchasableTicket", json!({"ticket": ticket("x")})).await;
    assert_eq!(created.unwrap()["ticket"]["productId"], "x");
}

// ---------------------------------------------------------------------------------------------------------------
// 2. How the token travels
// ---------------------------------------------------------------------------------------------------------------

/// A call to `/jsonRpc` with exactly these extra headers.
async fn call_with_headers(headers: &[(&str, &str)], method: &str, params: Value) -> Result<Value, RpcError> {
    let mut req = reqwest::Client::new()
        .post(format!("{}/jsonRpc", Client::anonymous().base))
        .header("content-type", "application/json");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let resp = req.body(call(1, method, params).to_string()).send().await.expect("sent");
    assert_eq!(resp.status(), 200);
    let answer: Value = resp.json().await.expect("JSON answer");
    assert_eq!(answer["id"], 1);
    from_parts(&answer["result"], &answer["error"])
}

#[tokio::test]
async fn x_session_id_works_like_bearer() {
    let (a, b) = (network("session-a"), network("session-b"));
    let t = make("session", &[&format!("network.manage@{a}")], None).await;
    let session_a = [("x-session-id", t.secret.as_str()), ("x-network-id", a.as_str())];
    let session_b = [("x-session-id", t.secret.as_str()), ("x-network-id", b.as_str())];

    let me = call_with_headers(&session_a, "admin.whoami", json!({})).await.unwrap();
    assert_eq!(me["tokenInfo"], t.info);
    let created =
        call_with_headers(&session_a, "ticket.createPurchasableTicket", json!({"ticket": ticket("s")})).await.unwrap();
    assert_eq!(created["ticket"]["productId"], "s");
    assert_eq!(ids_of(&a).await, ["s"]);
    // Same grants, same limits: B is forbidden through the session header as through Bearer.
    let e = call_with_headers(&session_b, "ticket.createPurchasableTicket", json!({"ticket": ticket("s")}))
        .await
        .unwrap_err();
    assert_eq!((e.code, e.data), (FORBIDDEN, forbidden_on(&b)));
    assert_eq!(list_of(&b).await["count"], 0);
    let e = call_with_headers(&session_a, "admin.listTokens", json!({})).await.unwrap_err();
    assert_eq!(e.code, FORBIDDEN);
    // The admin through the session header.
    let listed = call_with_headers(&[("x-session-id", ADMIN)], "admin.listTokens", json!({})).await.unwrap();
    assert!(listed["tokens"].as_array().unwrap().iter().any(|x| x["id"] == t.id()));
    // Unknown and revoked tokens are refused through it as through Bearer.
    let unknown = format!("ta_{}", "7b".repeat(32));
    let e = call_with_headers(&[("x-session-id", &unknown)], "admin.whoami", json!({})).await.unwrap_err();
    assert_eq!(e.code, NOT_AUTHENTICATED);
    Client::admin().call("admin.revokeToken", json!({"tokenId": t.id()})).await.unwrap();
    let e = call_with_headers(&session_a, "ticket.getPurchasableTickets", json!({})).await.unwrap_err();
    assert_eq!(e.code, NOT_AUTHENTICATED);
    let e = call_with_headers(&[("x-session-id", &t.secret)], "admin.whoami", json!({})).await.unwrap_err();
    assert_eq!(e.code, NOT_AUTHENTICATED);
}

#[tokio::test]
async fn a_malformed_authorization_header_is_not_authenticated() {
    let a = network("malformed");
    let malformed = [
        format!("Basic {ADMIN}"),
        ADMIN.to_owned(),
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
        format!("Bearer{ADMIN}"),
        format!("Token {ADMIN}"),
        format!("Bearer {ADMIN}x"),
        format!("Bearer x{ADMIN}"),
        format!("Bearer {ADMIN} {ADMIN}"),
    ];
    for value in &malformed {
        let headers = [("authorization", value.as_str()), ("x-network-id", a.as_str())];
        let e = call_with_headers(&headers, "admin.whoami", json!({})).await.unwrap_err();
        assert_eq!(e.code, NOT_AUTHENTICATED, "{value:?}: {e:?}");
        let e = call_with_headers(&headers, "ticket.createPurchasableTicket", json!({"ticket": ticket("m")}))
            .await
            .unwrap_err();
        assert_eq!(e.code, NOT_AUTHENTICATED, "{value:?}: {e:?}");
    }
    assert_eq!(list_of(&a).await["count"], 0);
    // The control: the well-formed header works (the scheme is case-insensitive, RFC 9110 §11.1).
    for good in [format!("Bearer {ADMIN}"), format!("bearer {ADMIN}")] {
        let me = call_with_headers(&[("authorization", &good)], "admin.whoami", json!({})).await;
        assert_eq!(me.expect(&good)["tokenInfo"]["grants"], json!(["all@*"]));
    }
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Isolation
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn networks_are_isolated() {
    let (a, b) = (network("iso-a"), network("iso-b"));
    let (ma, mb) = (manager(&a).await, manager(&b).await);
    let priced = |id: &str, price: f64| {
        let mut t = ticket(id);
        t["price"] = json!(price);
        t
    };
    ma.call("ticket.createPurchasableTicket", json!({"ticket": priced("same", 10.0)})).await.unwrap();
    mb.call("ticket.createPurchasableTicket", json!({"ticket": priced("same", 20.0)})).await.unwrap();
    ma.call("ticket.createPurchasableTicket", json!({"ticket": ticket("only-a")})).await.unwrap();
    mb.call("ticket.createPurchasableTicket", json!({"ticket": ticket("only-b")})).await.unwrap();

    let get = |c: &Client, id: &str| {
        let (c, id) = (c.clone(), id.to_owned());
        async move { c.call("ticket.getPurchasableTicket", json!({"productId": id})).await }
    };
    assert_eq!(get(&ma, "same").await.unwrap()["ticket"]["price"], 10.0);
    assert_eq!(get(&mb, "same").await.unwrap()["ticket"]["price"], 20.0);
    // Lists are disjoint: each manager sees exactly its own tickets.
    let seen = |list: Value| -> BTreeSet<(String, String)> {
        list["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["productId"].as_str().unwrap().to_owned(), t["price"].as_f64().unwrap().to_string()))
            .collect()
    };
    let in_a = seen(ma.call("ticket.getPurchasableTickets", json!({})).await.unwrap());
    let in_b = seen(mb.call("ticket.getPurchasableTickets", json!({})).await.unwrap());
    assert_eq!(in_a, BTreeSet::from([("only-a".into(), "99.5".into()), ("same".into(), "10".into())]));
    assert_eq!(in_b, BTreeSet::from([("only-b".into(), "99.5".into()), ("same".into(), "20".into())]));
    assert!(in_a.is_disjoint(&in_b));
    // What exists only in the other network is not found, not visible, not changeable.
    assert_eq!(get(&mb, "only-a").await.unwrap_err().code, NOT_FOUND);
    assert_eq!(get(&ma, "only-b").await.unwrap_err().code, NOT_FOUND);
    let a_before = list_of(&a).await;
    let e = mb.call("ticket.updatePurchasableTicket", json!({"ticket": priced("only-a", 1.0)})).await.unwrap_err();
    assert_eq!(e.code, NOT_FOUND);
    let e = mb.call("ticket.deletePurchasableTicket", json!({"productId": "only-a"})).await.unwrap_err();
    assert_eq!(e.code, NOT_FOUND);
    assert_eq!(list_of(&a).await, a_before);

    // Changes in A leave B's ticket of the same productId untouched.
    let b_before = list_of(&b).await;
    let b_same = get(&mb, "same").await.unwrap();
    let updated = ma.call("ticket.updatePurchasableTicket", json!({"ticket": priced("same", 11.0)})).await.unwrap();
    assert_eq!((updated["ticket"]["price"].as_f64(), updated["ticket"]["sysVersion"].as_i64()), (Some(11.0), Some(2)));
    assert_eq!(get(&mb, "same").await.unwrap(), b_same);
    assert_eq!(list_of(&b).await, b_before);
    ma.call("ticket.deletePurchasableTicket", json!({"productId": "same"})).await.unwrap();
    assert_eq!(get(&ma, "same").await.unwrap_err().code, NOT_FOUND);
    assert_eq!(get(&mb, "same").await.unwrap(), b_same);
    assert_eq!(list_of(&b).await, b_before);
    // And the other way round.
    mb.call("ticket.deletePurchasableTicket", json!({"productId": "only-b"})).await.unwrap();
    assert_eq!(ids_of(&a).await, ["only-a"]);

    // A's manager naming B: by the networkId member (no header) or by the header; always -32003, B unchanged.
    let b_before = list_of(&b).await;
    let reach_by_member = bare_client(&ma);
    let reach_by_header = Client { network: Some(b.clone()), ..ma.clone() };
    let attempts = [
        ("ticket.createPurchasableTicket", json!({"ticket": ticket("sneak")})),
        ("ticket.updatePurchasableTicket", json!({"ticket": priced("same", 0.0)})),
        ("ticket.deletePurchasableTicket", json!({"productId": "same"})),
        ("ticket.getPurchasableTickets", json!({})),
        ("ticket.getPurchasableTicket", json!({"productId": "same"})),
    ];
    for (method, params) in attempts {
        let mut by_member = params.clone();
        by_member["networkId"] = json!(b);
        let e = reach_by_member.call(method, by_member).await.unwrap_err();
        assert_eq!((e.code, e.data.clone()), (FORBIDDEN, forbidden_on(&b)), "{method} with networkId B");
        let e = reach_by_header.call(method, params).await.unwrap_err();
        assert_eq!((e.code, e.data.clone()), (FORBIDDEN, forbidden_on(&b)), "{method} with X-Network-Id B");
        assert_eq!(list_of(&b).await, b_before, "{method}: B unchanged");
    }
    assert_eq!(ids_of(&a).await, ["only-a"], "nothing landed in A either");
}

// ---------------------------------------------------------------------------------------------------------------
// 4. Batches: each entry judged on its own
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn batch_entries_are_judged_one_by_one() {
    let (a, b) = (network("batch-a"), network("batch-b"));
    for net in [&a, &b] {
        Client::admin()
            .on(net)
            .call("ticket.createPurchasableTicket", json!({"ticket": ticket("seed")}))
            .await
            .unwrap();
    }
    let t = make("batch", &[&format!("network.manage@{a}")], None).await;
    let mut seed_b_changed = ticket("seed");
    seed_b_changed["price"] = json!(0);
    let mut seed_a_changed = ticket("seed");
    seed_a_changed["price"] = json!(7);
    let b_before = list_of(&b).await;

    // Header A; entries name A or B by their member, which wins over the header.
    let batch = json!([
        call(1, "ticket.createPurchasableTicket", json!({"ticket": ticket("a1"), "networkId": a})),
        call(2, "ticket.createPurchasableTicket", json!({"ticket": ticket("b1"), "networkId": b})),
        call(3, "ticket.updatePurchasableTicket", json!({"ticket": seed_b_changed, "networkId": b})),
        call(4, "ticket.deletePurchasableTicket", json!({"productId": "seed", "networkId": b})),
        call(5, "ticket.createPurchasableTicket", json!({"ticket": ticket("a2")})),
        call(6, "admin.listTokens", json!({})),
        call(7, "ticket.updatePurchasableTicket", json!({"ticket": seed_a_changed, "networkId": a})),
        call(8, "ticket.getPurchasableTickets", json!({"networkId": b})),
        call(9, "ticket.getPurchasableTicket", json!({"productId": "seed", "networkId": a})),
        call(10, "ticket.getPurchasableTicket", json!({"productId": "seed", "networkId": b})),
    ]);
    let (status, answer) = with(Some(&t.secret)).on(&a).post(&batch).await;
    assert_eq!(status, 200);
    let got = answers_by_id(&answer, 10);
    for id in [1, 5, 7, 9] {
        assert!(got[&id].is_ok(), "entry {id} on A is allowed: {:?}", got[&id]);
    }
    assert_eq!(got[&1].as_ref().unwrap()["ticket"]["productId"], "a1");
    assert_eq!(got[&5].as_ref().unwrap()["ticket"]["productId"], "a2");
    assert_eq!(got[&7].as_ref().unwrap()["ticket"]["price"], 7);
    assert_eq!(got[&9].as_ref().unwrap()["ticket"]["productId"], "seed");
    for id in [2, 3, 4, 8, 10] {
        let e = got[&id].as_ref().unwrap_err();
        assert_eq!((e.code, e.data.clone()), (FORBIDDEN, forbidden_on(&b)), "entry {id} on B");
    }
    assert_eq!(got[&6].as_ref().unwrap_err().code, FORBIDDEN, "admin.listTokens needs all@*");
    // The effects are exactly those of the allowed entries.
    assert_eq!(ids_of(&a).await, ["a1", "a2", "seed"]);
    let seed_a = get_in(&a, "seed").await.unwrap()["ticket"].clone();
    assert_eq!((seed_a["price"].clone(), seed_a["sysVersion"].clone()), (json!(7), json!(2)));
    assert_eq!(list_of(&b).await, b_before, "B unchanged");

    // Header B; entries naming A by their member are allowed, entries that fall back to the header are not.
    let batch = json!([
        call(1, "ticket.createPurchasableTicket", json!({"ticket": ticket("a3"), "networkId": a})),
        call(2, "ticket.createPurchasableTicket", json!({"ticket": ticket("b2")})),
        call(3, "ticket.deletePurchasableTicket", json!({"productId": "a1", "networkId": a})),
        call(4, "ticket.deletePurchasableTicket", json!({"productId": "seed"})),
    ]);
    let (_, answer) = with(Some(&t.secret)).on(&b).post(&batch).await;
    let got = answers_by_id(&answer, 4);
    assert_eq!(got[&1].as_ref().unwrap()["ticket"]["productId"], "a3");
    assert_eq!(got[&3].as_ref().unwrap(), &json!({}));
    for id in [2, 4] {
        let e = got[&id].as_ref().unwrap_err();
        assert_eq!((e.code, e.data.clone()), (FORBIDDEN, forbidden_on(&b)), "entry {id} on B by the header");
    }
    assert_eq!(ids_of(&a).await, ["a2", "a3", "seed"]);
    assert_eq!(list_of(&b).await, b_before, "B unchanged");

    // Without a token, every known method of a batch is -32001 in its own slot.
    let batch = json!([
        call(1, "ticket.createPurchasableTicket", json!({"ticket": ticket("a4"), "networkId": a})),
        call(2, "admin.whoami", json!({})),
    ]);
    let (_, answer) = Client::anonymous().post(&batch).await;
    let got = answers_by_id(&answer, 2);
    assert!(got.values().all(|r| r.as_ref().is_err_and(|e| e.code == NOT_AUTHENTICATED)), "{answer}");
    assert_eq!(ids_of(&a).await, ["a2", "a3", "seed"]);
}

// ---------------------------------------------------------------------------------------------------------------
// 5. Resolving the network of a call
// ---------------------------------------------------------------------------------------------------------------

fn assert_network_refused(ctx: &str, outcome: Result<Value, RpcError>) {
    let e = outcome.expect_err(ctx);
    assert_eq!(e.code, INVALID_PARAMS, "{ctx}: {e:?}");
    assert!(e.fields().iter().any(|f| f == "networkId"), "{ctx}: the error names networkId: {e:?}");
}

#[tokio::test]
async fn the_network_of_a_call_must_be_one_valid_string() {
    let (a, b) = (network("resolve-a"), network("resolve-b"));
    // A token that may manage both: a refusal can only come from resolving the network.
    let t = make("resolve", &[&format!("network.manage@{a}"), &format!("network.manage@{b}")], None).await;
    let on_a = with(Some(&t.secret)).on(&a);
    let nowhere = with(Some(&t.secret));

    // Header and member that differ, in a single call: -32602, and nothing is written anywhere.
    let outcome = on_a.call("ticket.createPurchasableTicket", json!({"ticket": ticket("x"), "networkId": b})).await;
    assert_network_refused("header A, member B", outcome);
    assert_network_refused(
        "header A, member B (read)",
        on_a.call("ticket.getPurchasableTickets", json!({"networkId": b})).await,
    );
    assert_eq!((list_of(&a).await["count"].clone(), list_of(&b).await["count"].clone()), (json!(0), json!(0)));
    // The same network in both is fine.
    let same = on_a.call("ticket.createPurchasableTicket", json!({"ticket": ticket("x"), "networkId": a})).await;
    assert_eq!(same.unwrap()["ticket"]["productId"], "x");
    assert_eq!(ids_of(&a).await, ["x"]);

    // No network at all: with params, without params, and for the admin too.
    assert_network_refused("no network", nowhere.call("ticket.getPurchasableTickets", json!({})).await);
    let (_, answer) = nowhere.post(&json!({"jsonrpc": "2.0", "id": 1, "method": "ticket.getPurchasableTickets"})).await;
    assert_network_refused("no network, no params", from_parts(&answer["result"], &answer["error"]));
    assert_network_refused("admin, no network", Client::admin().call("ticket.getPurchasableTickets", json!({})).await);
    let outcome = nowhere.call("ticket.createPurchasableTicket", json!({"ticket": ticket("y")})).await;
    assert_network_refused("no network, create", outcome);

    // Invalid network ids, by member and by header.
    let long = "x".repeat(65);
    for bad in ["bad id", "-x", "", ".x", "_x", "a/b", "a:b", "né", long.as_str()] {
        let outcome = nowhere.call("ticket.getPurchasableTickets", json!({"networkId": bad})).await;
        assert_network_refused(&format!("member {bad:?}"), outcome);
        let outcome =
            nowhere.call("ticket.createPurchasableTicket", json!({"ticket": ticket("y"), "networkId": bad})).await;
        assert_network_refused(&format!("member {bad:?}, create"), outcome);
        let outcome = Client::admin().call("ticket.getPurchasableTickets", json!({"networkId": bad})).await;
        assert_network_refused(&format!("admin, member {bad:?}"), outcome);
    }
    for bad in ["bad id", "-x", ".x", "a/b"] {
        let outcome = with(Some(&t.secret)).on(bad).call("ticket.getPurchasableTickets", json!({})).await;
        assert_network_refused(&format!("header {bad:?}"), outcome);
    }
    // A non-string networkId, with or without a header.
    for bad in [json!(7), json!(true), json!(1.5), json!({"id": a}), json!([a])] {
        let outcome = nowhere.call("ticket.getPurchasableTickets", json!({"networkId": bad})).await;
        assert_network_refused(&format!("member {bad}"), outcome);
        let outcome =
            on_a.call("ticket.createPurchasableTicket", json!({"ticket": ticket("z"), "networkId": bad})).await;
        assert_network_refused(&format!("header A, member {bad}"), outcome);
    }
    assert_eq!(ids_of(&a).await, ["x"], "no refused call wrote anything");

    // In a batch without a header: an entry without a member, or with a bad one, is -32602 in its own slot.
    let batch = json!([
        call(1, "ticket.getPurchasableTickets", json!({"networkId": a})),
        call(2, "ticket.getPurchasableTickets", json!({})),
        call(3, "ticket.createPurchasableTicket", json!({"ticket": ticket("w"), "networkId": 7})),
        call(4, "ticket.createPurchasableTicket", json!({"ticket": ticket("w"), "networkId": "bad id"})),
    ]);
    let (_, answer) = nowhere.post(&batch).await;
    let got = answers_by_id(&answer, 4);
    assert_eq!(got[&1].as_ref().unwrap()["count"], 1);
    for id in [2, 3, 4] {
        assert_network_refused(&format!("batch entry {id}"), got[&id].clone());
    }
    assert_eq!(ids_of(&a).await, ["x"]);
}

/// Params by position holding one object are read by the handlers as that object, `networkId` member included; the
/// guard must then not act on another network than the one that member names. A single call, header A, member B.
#[tokio::test]
async fn a_network_id_inside_by_position_params_is_not_ignored() {
    let (a, b) = (network("bypos-a"), network("bypos-b"));
    let ma = manager(&a).await;
    let single = json!({"jsonrpc": "2.0", "id": 1, "method": "ticket.createPurchasableTicket",
        "params": [{"ticket": ticket("pos"), "networkId": b}]});
    let (_, answer) = ma.post(&single).await;
    let outcome = from_parts(&answer["result"], &answer["error"]);
    assert_eq!(ids_of(&a).await, Vec::<String>::new(), "a call naming B wrote into A: {answer}");
    assert_eq!(outcome.map_err(|e| e.code), Err(INVALID_PARAMS), "header A, by-position member B: {answer}");
    assert_eq!(list_of(&b).await["count"], 0);
}

/// The same in a batch, where the member wins over the header: the entry is judged for B.
#[tokio::test]
async fn a_network_id_inside_by_position_params_wins_in_a_batch() {
    let (a, b) = (network("bypos-batch-a"), network("bypos-batch-b"));
    let ma = manager(&a).await;
    let batch = json!([{"jsonrpc": "2.0", "id": 1, "method": "ticket.createPurchasableTicket",
        "params": [{"ticket": ticket("pos"), "networkId": b}]}]);
    let (_, answer) = ma.post(&batch).await;
    let got = answers_by_id(&answer, 1);
    assert_eq!(ids_of(&a).await, Vec::<String>::new(), "a batch entry naming B wrote into A: {answer}");
    let code = got[&1].as_ref().map_err(|e| e.code);
    assert!(matches!(code, Err(FORBIDDEN | INVALID_PARAMS)), "batch, by-position member B: {answer}");
    assert_eq!(list_of(&b).await["count"], 0);
}

// ---------------------------------------------------------------------------------------------------------------
// 6. Admin methods
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn create_token_refuses_bad_grants_and_makes_nothing() {
    let admin = Client::admin();
    let tag = network("badgrant");
    let bad_grants = [
        json!(["root@*"]),
        json!(["network.manage"]),
        json!(["all@"]),
        json!(["@*"]),
        json!(["network.manage@bad id"]),
        json!(["network.manage@-x"]),
        json!(["all@*@x"]),
        json!([""]),
        json!([7]),
        json!(["network.manage@ok", "read@*"]),
        json!("all@*"),
        json!({"all": "*"}),
    ];
    for (i, grants) in bad_grants.iter().enumerate() {
        let name = format!("{tag}-{i}");
        let e = admin.call("admin.createToken", json!({"name": name, "grants": grants})).await.unwrap_err();
        assert_eq!(e.code, INVALID_PARAMS, "{grants}: {e:?}");
        let fields = e.fields();
        assert!(!fields.is_empty() && fields.iter().all(|f| f.starts_with("grants")), "{grants}: {e:?}");
        assert!(all_tokens().await.iter().all(|t| t["name"] != name), "{grants}: no token made");
    }
    // Every problem is listed: a missing name and a bad grant, an unknown member.
    let e = admin.call("admin.createToken", json!({"grants": ["root@*"], "secret": "mine"})).await.unwrap_err();
    assert_eq!(e.code, INVALID_PARAMS);
    let fields = e.fields();
    for wanted in ["name", "secret"] {
        assert!(fields.iter().any(|f| f == wanted), "{wanted} listed: {e:?}");
    }
    assert!(fields.iter().any(|f| f.starts_with("grants")), "grants listed: {e:?}");
    let e = admin.call("admin.createToken", json!({"name": "no grants"})).await.unwrap_err();
    assert_eq!((e.code, e.fields()), (INVALID_PARAMS, vec!["grants".to_owned()]));
    let e = admin
        .call("admin.createToken", json!({"name": "bad expiry", "grants": ["all@*"], "expiresAt": "soon"}))
        .await
        .unwrap_err();
    assert_eq!((e.code, e.fields()), (INVALID_PARAMS, vec!["expiresAt".to_owned()]));
}

/// API.md §3: -32602 lists every problem found, not just the first.
#[tokio::test]
async fn create_token_lists_every_bad_grant() {
    let e = Client::admin()
        .call("admin.createToken", json!({"name": "two bad", "grants": ["root@*", "network.manage@bad id"]}))
        .await
        .unwrap_err();
    assert_eq!(e.code, INVALID_PARAMS);
    let on_grants = e.data["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["field"].as_str().is_some_and(|f| f.starts_with("grants")))
        .count();
    assert!(on_grants >= 2, "both bad grants are problems, both must be listed: {}", e.data);
}

#[tokio::test]
async fn tokens_are_made_listed_and_revoked() {
    let admin = Client::admin();
    let (a, b) = (network("tok-a"), network("tok-b"));
    let grants = [format!("network.manage@{a}"), format!("network.manage@{b}")];
    let made = admin.call("admin.createToken", json!({"name": "ops", "grants": grants})).await.unwrap();
    let secret = made["token"].as_str().unwrap().to_owned();
    let info = made["tokenInfo"].clone();
    assert!(secret.len() >= 43, "at least 256 bits: {secret}");
    assert_eq!(info["name"], "ops");
    assert_eq!(info["grants"], json!(grants));
    assert!(info["id"].is_string() && info["createdAt"].is_string(), "{info}");
    assert_eq!((info["expiresAt"].clone(), info["revokedAt"].clone()), (Value::Null, Value::Null));
    assert!(!info.to_string().contains(&secret), "tokenInfo holds no secret");

    // The new token works at once; whoami shows its id and grants.
    let user = with(Some(&secret));
    assert_eq!(user.call("admin.whoami", json!({})).await.unwrap(), json!({"tokenInfo": info}));
    for net in [&a, &b] {
        let created = user.clone().on(net).call("ticket.createPurchasableTicket", json!({"ticket": ticket("t")})).await;
        assert_eq!(created.unwrap()["ticket"]["productId"], "t", "{net}");
    }
    assert_eq!(admin.call("admin.whoami", json!({})).await.unwrap()["tokenInfo"]["grants"], json!(["all@*"]));

    // The list: every token, its six members, never a secret.
    let listed = admin.call("admin.listTokens", json!({})).await.unwrap();
    let tokens = listed["tokens"].as_array().unwrap();
    assert_eq!(tokens.iter().filter(|t| t["id"] == info["id"]).collect::<Vec<_>>(), [&info]);
    let members: BTreeSet<&str> = ["id", "name", "grants", "createdAt", "expiresAt", "revokedAt"].into();
    for t in tokens {
        let keys: BTreeSet<&str> = t.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, members, "{t}");
    }
    let mut texts = Vec::new();
    strings(&listed, &mut texts);
    for text in &texts {
        assert!(!text.contains(&secret) && !text.contains(ADMIN), "a secret is listed: {text}");
        assert!(!text.contains(&secret[secret.len() - 32..]), "part of a secret is listed: {text}");
    }

    // Revoked: refused at once, whichever header carries it; listed with revokedAt.
    assert_eq!(admin.call("admin.revokeToken", json!({"tokenId": info["id"]})).await.unwrap(), json!({}));
    assert_eq!(user.call("admin.whoami", json!({})).await.unwrap_err().code, NOT_AUTHENTICATED);
    let e = user.clone().on(&a).call("ticket.getPurchasableTickets", json!({})).await.unwrap_err();
    assert_eq!(e.code, NOT_AUTHENTICATED);
    let e = call_with_headers(&[("x-session-id", &secret)], "admin.whoami", json!({})).await.unwrap_err();
    assert_eq!(e.code, NOT_AUTHENTICATED);
    let row = listed_row(&info).await;
    assert!(row["revokedAt"].is_string(), "{row}");
    assert_eq!(ids_of(&a).await, ["t"]);

    // Unknown ids and missing ids.
    let e = admin.call("admin.revokeToken", json!({"tokenId": "no-such-token"})).await.unwrap_err();
    assert_eq!((e.code, e.data["id"].clone()), (NOT_FOUND, json!("no-such-token")), "{e:?}");
    assert_eq!(e.data["resource"], "token", "{e:?}");
    let e = admin.call("admin.revokeToken", json!({})).await.unwrap_err();
    assert_eq!((e.code, e.fields()), (INVALID_PARAMS, vec!["tokenId".to_owned()]));
}

async fn listed_row(info: &Value) -> Value {
    listed(info["id"].as_str().unwrap()).await.expect("listed")
}

#[tokio::test]
async fn tokens_expire() {
    let a = network("expiry");
    let future = make("future", &[&format!("network.manage@{a}")], Some("2999-01-01T00:00:00Z")).await;
    assert_eq!(future.info["expiresAt"], "2999-01-01T00:00:00.000Z");
    assert_eq!(whoami(&future.secret).await.unwrap()["tokenInfo"], future.info);
    let e = Client::admin()
        .call("admin.createToken", json!({"name": "past", "grants": ["all@*"], "expiresAt": "2020-01-01T00:00:00Z"}))
        .await
        .unwrap_err();
    assert_eq!((e.code, e.fields()), (INVALID_PARAMS, vec!["expiresAt".to_owned()]), "no token is made expired");

    // A token whose time has passed was made before the shared server started (see `common::shared`).
    let shared = common::shared();
    let info = shared.expired_info.clone();
    assert_eq!(info["expiresAt"], "2001-01-01T00:00:00.000Z");
    let past = Client::anonymous().with_token(&shared.expired_token);
    assert_eq!(past.call("admin.whoami", json!({})).await.unwrap_err().code, NOT_AUTHENTICATED);
    let e = past.clone().on(&a).call("ticket.getPurchasableTickets", json!({})).await.unwrap_err();
    assert_eq!(e.code, NOT_AUTHENTICATED);
    let e = past.call("admin.listTokens", json!({})).await.unwrap_err();
    assert_eq!(e.code, NOT_AUTHENTICATED);
    let listed = Client::admin().call("admin.listTokens", json!({})).await.unwrap();
    let row = listed["tokens"].as_array().unwrap().iter().find(|t| t["id"] == info["id"]).cloned();
    assert_eq!(row, Some(info), "listed as made");
}

// ---------------------------------------------------------------------------------------------------------------
// 7. Unknown methods
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_unknown_method_is_not_found_even_without_a_token() {
    let a = network("unknown");
    let unknown_token = format!("ta_{}", "3c".repeat(32));
    for method in
        ["ticket.stealEverything", "admin.becomeRoot", "nonamespace", "ticket.", "Ticket.getPurchasableTickets"]
    {
        for client in [Client::anonymous(), Client::anonymous().on(&a), with(Some(&unknown_token)).on(&a)] {
            let e = client.call(method, json!({})).await.unwrap_err();
            assert_eq!(e.code, METHOD_NOT_FOUND, "{method} with {:?}: {e:?}", client.token);
        }
        let e = Client::anonymous().bare(method, json!({})).await.unwrap_err();
        assert_eq!(e.code, METHOD_NOT_FOUND, "{method}, bare params: {e:?}");
    }
    // In a batch without a token: the unknown method is -32601, the known one -32001.
    let batch =
        json!([call(1, "ticket.stealEverything", json!({})), call(2, "ticket.getPurchasableTickets", json!({}))]);
    let (_, answer) = Client::anonymous().on(&a).post(&batch).await;
    let got = answers_by_id(&answer, 2);
    assert_eq!(got[&1].as_ref().unwrap_err().code, METHOD_NOT_FOUND);
    assert_eq!(got[&2].as_ref().unwrap_err().code, NOT_AUTHENTICATED);
}
