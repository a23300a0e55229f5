//! The guard, held to API.md section 2: who may call what on which network, isolation between networks, batch
//! entries judged one by one, and the admin methods.

mod common;

use common::{Client, RpcError, manager, network, ticket};
use serde_json::{Value, json};

/// Every caller of the matrix.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Caller {
    NoToken,
    Unknown,
    Revoked,
    Expired,
    ManageA,
    ManageB,
    Admin,
}

const CALLERS: [Caller; 7] = [
    Caller::NoToken,
    Caller::Unknown,
    Caller::Revoked,
    Caller::Expired,
    Caller::ManageA,
    Caller::ManageB,
    Caller::Admin,
];

async fn token_for(caller: Caller, a: &str, b: &str) -> Option<String> {
    let admin = Client::admin();
    let made = |grants: Vec<String>, expires: Option<&'static str>| {
        let admin = admin.clone();
        async move {
            let mut params = json!({"name": "matrix", "grants": grants});
            if let Some(e) = expires {
                params["expiresAt"] = json!(e);
            }
            admin.call("admin.createToken", params).await.unwrap()
        }
    };
    match caller {
        Caller::NoToken => None,
        Caller::Unknown => Some(format!("ta_{}", "0".repeat(64))),
        Caller::Revoked => {
            let t = made(vec![format!("network.manage@{a}")], None).await;
            admin.call("admin.revokeToken", json!({"tokenId": t["tokenInfo"]["id"]})).await.unwrap();
            Some(t["token"].as_str().unwrap().to_owned())
        }
        Caller::Expired => {
            let t = made(vec![format!("network.manage@{a}")], Some("2020-01-01T00:00:00Z")).await;
            Some(t["token"].as_str().unwrap().to_owned())
        }
        Caller::ManageA => {
            Some(made(vec![format!("network.manage@{a}")], None).await["token"].as_str().unwrap().to_owned())
        }
        Caller::ManageB => {
            Some(made(vec![format!("network.manage@{b}")], None).await["token"].as_str().unwrap().to_owned())
        }
        Caller::Admin => Some(common::ADMIN.to_owned()),
    }
}

/// What a method needs: the expected error for each caller (None: allowed).
fn expected(method: &str, caller: Caller) -> Option<i64> {
    let unauthenticated = matches!(caller, Caller::NoToken | Caller::Unknown | Caller::Revoked | Caller::Expired);
    if unauthenticated {
        return Some(-32001);
    }
    match method {
        "admin.whoami" => None,
        m if m.starts_with("admin.") => (caller != Caller::Admin).then_some(-32003),
        _ => (caller == Caller::ManageB).then_some(-32003),
    }
}

/// Every ticket method and admin method, with params that succeed for an allowed caller on network A.
fn calls(case: usize) -> Vec<(&'static str, Value)> {
    let id = format!("m{case}");
    let mut updated = ticket(&id);
    updated["price"] = json!(1);
    vec![
        ("ticket.getPurchasableTickets", json!({})),
        ("ticket.getPurchasableTicket", json!({"productId": "fixed"})),
        ("ticket.createPurchasableTicket", json!({"ticket": ticket(&id)})),
        ("ticket.updatePurchasableTicket", json!({"ticket": updated})),
        ("ticket.deletePurchasableTicket", json!({"productId": id})),
        ("admin.whoami", json!({})),
        ("admin.listTokens", json!({})),
        ("admin.createToken", json!({"name": "x", "grants": ["network.manage@elsewhere"]})),
        ("admin.revokeToken", json!({"tokenId": "no-such-token"})),
    ]
}

async fn tickets_of(network: &str) -> Value {
    Client::admin().on(network).call("ticket.getPurchasableTickets", json!({})).await.unwrap()
}

#[tokio::test]
async fn the_guard_matrix() {
    let (a, b) = (network("guard-a"), network("guard-b"));
    Client::admin().on(&a).call("ticket.createPurchasableTicket", json!({"ticket": ticket("fixed")})).await.unwrap();
    for (case, caller) in CALLERS.iter().copied().enumerate() {
        let token = token_for(caller, &a, &b).await;
        let mut client = Client::anonymous().on(&a);
        client.token = token;
        for (method, params) in calls(case) {
            let before = tickets_of(&a).await;
            let outcome = client.call(method, params.clone()).await;
            match (expected(method, caller), outcome) {
                (None, Ok(_)) => {}
                // revokeToken of an unknown id passed the guard: not found is its allowed outcome.
                (None, Err(e)) if method == "admin.revokeToken" && e.code == -32004 => {}
                (Some(code), Err(e)) => {
                    assert_eq!(e.code, code, "{caller:?} {method}: {e:?}");
                    if code == -32003 && method.starts_with("ticket.") {
                        assert_eq!(e.data, json!({"permission": "network.manage", "networkId": a}));
                    }
                    assert_eq!(tickets_of(&a).await, before, "{caller:?} {method}: a denied call changed nothing");
                }
                (want, got) => panic!("{caller:?} {method}: expected {want:?}, got {got:?}"),
            }
        }
    }
    // The denied creates left no token behind for the network "elsewhere" beyond the allowed one.
    let tokens = Client::admin().call("admin.listTokens", json!({})).await.unwrap();
    let made: Vec<&Value> = tokens["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["grants"] == json!(["network.manage@elsewhere"]))
        .collect();
    assert!(!made.is_empty());
}

#[tokio::test]
async fn tokens_travel_as_bearer_or_session_header() {
    let net = network("guard-headers");
    let token = Client::admin().make_token(&[&format!("network.manage@{net}")]).await;
    let http = reqwest::Client::new();
    let base = Client::anonymous().base;
    let whoami = r#"{"jsonrpc":"2.0","id":1,"method":"admin.whoami"}"#;
    let send = |name: &'static str, value: String| {
        http.post(format!("{base}/jsonRpc"))
            .header("content-type", "application/json")
            .header(name, value)
            .body(whoami)
            .send()
    };
    let session: Value = send("x-session-id", token.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(session["result"]["tokenInfo"]["grants"], json!([format!("network.manage@{net}")]));
    for malformed in [format!("Basic {token}"), token.clone(), "Bearer".to_owned(), format!("Bearer {token}x")] {
        let answer: Value = send("authorization", malformed.clone()).await.unwrap().json().await.unwrap();
        assert_eq!(answer["error"]["code"], -32001, "{malformed}");
    }
}

#[tokio::test]
async fn networks_are_isolated() {
    let (a, b) = (network("iso-a"), network("iso-b"));
    let (ca, cb) = (manager(&a).await, manager(&b).await);
    let mut in_b = ticket("same");
    in_b["price"] = json!(5);
    ca.call("ticket.createPurchasableTicket", json!({"ticket": ticket("same")})).await.unwrap();
    cb.call("ticket.createPurchasableTicket", json!({"ticket": in_b})).await.unwrap();
    let price = |c: Client| async move {
        c.call("ticket.getPurchasableTicket", json!({"productId": "same"})).await.unwrap()["ticket"]["price"].clone()
    };
    assert_eq!((price(ca.clone()).await, price(cb.clone()).await), (json!(99.5), json!(5)));

    let mut changed = ticket("same");
    changed["price"] = json!(42);
    ca.call("ticket.updatePurchasableTicket", json!({"ticket": changed})).await.unwrap();
    assert_eq!((price(ca.clone()).await, price(cb.clone()).await), (json!(42), json!(5)));
    ca.call("ticket.deletePurchasableTicket", json!({"productId": "same"})).await.unwrap();
    assert_eq!(ca.call("ticket.getPurchasableTicket", json!({"productId": "same"})).await.unwrap_err().code, -32004);
    assert_eq!(price(cb.clone()).await, json!(5));

    // A's manager naming B in the params (no header) is forbidden, and B is unchanged.
    let reaching = Client { network: None, ..ca.clone() };
    let err = reaching
        .call("ticket.deletePurchasableTicket", json!({"productId": "same", "networkId": b}))
        .await
        .unwrap_err();
    assert_eq!((err.code, err.data.clone()), (-32003, json!({"permission": "network.manage", "networkId": b})));
    assert_eq!(price(cb.clone()).await, json!(5));
    assert_eq!(tickets_of(&b).await["count"], 1);
}

#[tokio::test]
async fn batch_entries_are_judged_one_by_one() {
    let (a, b) = (network("batch-a"), network("batch-b"));
    let token = Client::admin().make_token(&[&format!("network.manage@{a}")]).await;
    let client = Client::anonymous().with_token(&token).on(&a);
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "ticket.createPurchasableTicket", "params": {"ticket": ticket("x1")}},
        {"jsonrpc": "2.0", "id": 2, "method": "ticket.createPurchasableTicket", "params": {"ticket": ticket("x2"), "networkId": b}},
        {"jsonrpc": "2.0", "id": 3, "method": "ticket.createPurchasableTicket", "params": {"ticket": ticket("x3"), "networkId": a}},
        {"jsonrpc": "2.0", "id": 4, "method": "admin.listTokens", "params": {}},
        {"jsonrpc": "2.0", "id": 5, "method": "ticket.getPurchasableTickets", "params": {"networkId": b}}
    ]);
    let (_, answer) = client.post(&batch).await;
    let mut codes: Vec<(i64, Value)> =
        answer.as_array().unwrap().iter().map(|r| (r["id"].as_i64().unwrap(), r["error"]["code"].clone())).collect();
    codes.sort_by_key(|(id, _)| *id);
    assert_eq!(codes, [(1, Value::Null), (2, json!(-32003)), (3, Value::Null), (4, json!(-32003)), (5, json!(-32003))]);
    let in_a: Vec<Value> =
        tickets_of(&a).await["tickets"].as_array().unwrap().iter().map(|t| t["productId"].clone()).collect();
    assert_eq!(in_a, [json!("x1"), json!("x3")]);
    assert_eq!(tickets_of(&b).await["count"], 0);
}

#[tokio::test]
async fn the_network_of_a_call_must_be_clear_and_valid() {
    let a = network("resolve");
    let client = manager(&a).await;
    let no_header = Client { network: None, ..client.clone() };
    let codes = [
        (client.call("ticket.getPurchasableTickets", json!({"networkId": "other"})).await, -32602),
        (no_header.call("ticket.getPurchasableTickets", json!({})).await, -32602),
        (no_header.call("ticket.getPurchasableTickets", json!({"networkId": "bad id"})).await, -32602),
        (no_header.call("ticket.getPurchasableTickets", json!({"networkId": "-x"})).await, -32602),
        (no_header.call("ticket.getPurchasableTickets", json!({"networkId": 7})).await, -32602),
        (
            Client { network: Some("bad id".into()), ..client.clone() }
                .call("ticket.getPurchasableTickets", json!({}))
                .await,
            -32602,
        ),
    ];
    for (i, (outcome, code)) in codes.into_iter().enumerate() {
        let e: RpcError = outcome.unwrap_err();
        assert_eq!(e.code, code, "case {i}: {e:?}");
        assert_eq!(e.fields(), ["networkId"], "case {i}");
    }
    // The same member as the header is fine.
    assert!(client.call("ticket.getPurchasableTickets", json!({"networkId": a})).await.is_ok());
    // An unknown method is -32601 for anyone, even without a token.
    let (_, answer) =
        Client::anonymous().post(&json!({"jsonrpc": "2.0", "id": 1, "method": "ticket.stealEverything"})).await;
    assert_eq!(answer["error"]["code"], -32601);
}

#[tokio::test]
async fn admin_methods() {
    let admin = Client::admin();
    let bad = admin
        .call("admin.createToken", json!({"name": "x", "grants": ["root@*", "network.manage"]}))
        .await
        .unwrap_err();
    assert_eq!((bad.code, bad.fields()), (-32602, vec!["grants".to_owned()]));
    let missing = admin.call("admin.createToken", json!({"grants": []})).await.unwrap_err();
    assert_eq!(missing.fields(), ["name"]);
    let net = network("admin");
    let made = admin
        .call("admin.createToken", json!({"name": "ops", "grants": [format!("network.manage@{net}")]}))
        .await
        .unwrap();
    let secret = made["token"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("ta_") && secret.len() >= 67, "256 bits at least");
    let info = &made["tokenInfo"];
    assert_eq!((info["name"].clone(), info["revokedAt"].clone()), (json!("ops"), Value::Null));

    let user = Client::anonymous().with_token(&secret).on(&net);
    let me = user.call("admin.whoami", json!({})).await.unwrap();
    assert_eq!(me["tokenInfo"]["id"], info["id"]);
    assert!(user.call("ticket.getPurchasableTickets", json!({})).await.is_ok(), "usable at once");

    let listed = admin.call("admin.listTokens", json!({})).await.unwrap();
    let text = listed.to_string();
    assert!(!text.contains(&secret), "no secret is ever listed");
    assert!(!text.contains(common::ADMIN));
    assert!(listed["tokens"].as_array().unwrap().iter().any(|t| t["id"] == info["id"]));

    admin.call("admin.revokeToken", json!({"tokenId": info["id"]})).await.unwrap();
    assert_eq!(user.call("admin.whoami", json!({})).await.unwrap_err().code, -32001, "revoked at once");
    let unknown = admin.call("admin.revokeToken", json!({"tokenId": "nobody"})).await.unwrap_err();
    assert_eq!(unknown.code, -32004);
    let listed = admin.call("admin.listTokens", json!({})).await.unwrap();
    let revoked = listed["tokens"].as_array().unwrap().iter().find(|t| t["id"] == info["id"]).unwrap().clone();
    assert!(revoked["revokedAt"].is_string());
}

#[tokio::test]
async fn every_record_method_is_guarded() {
    let (a, b) = (network("guard-rec-a"), network("guard-rec-b"));
    let methods = [
        "registration.create",
        "registration.get",
        "registration.update",
        "registration.patch",
        "registration.delete",
        "registration.search",
        "registration.listByContact",
        "registration.listByEventContact",
        "registration.listByParent",
        "registration.listByOrder",
        "registration.listByGroup",
        "registration.listByEventOrganization",
        "registration.transfer",
        "registration.batch",
        "registration.detectSchedulingConflicts",
        "functionTicket.create",
        "functionTicket.get",
        "functionTicket.update",
        "functionTicket.patch",
        "functionTicket.delete",
        "functionTicket.listByFunction",
        "functionTicket.listByEventContact",
        "functionTicket.batch",
    ];
    let outsider = Client::anonymous().with_token(&token_for(Caller::ManageB, &a, &b).await.unwrap()).on(&a);
    let insider = Client::anonymous().with_token(&token_for(Caller::ManageA, &a, &b).await.unwrap()).on(&a);
    for method in methods {
        assert_eq!(Client::anonymous().on(&a).call(method, json!({})).await.unwrap_err().code, -32001, "{method}");
        assert_eq!(outsider.call(method, json!({})).await.unwrap_err().code, -32003, "{method}");
        // Past the guard, empty params are the handler's to judge (-32602), or a search that finds nothing.
        match insider.call(method, json!({})).await {
            Ok(found) => assert_eq!(found["count"], 0, "{method}"),
            Err(e) => assert_eq!(e.code, -32602, "{method}: {e:?}"),
        }
    }
}
