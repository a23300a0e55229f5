//! A bounded fuzz of the whole request surface: a few thousand requests made by mutating valid ones (values swapped
//! for odd ones, members dropped or added, bodies cut or their bytes changed), over both wire forms, against a real
//! server. Whatever is sent, the server answers every request with a JSON-RPC answer or an HTTP refusal, never
//! `-32603` (an internal error is a defect: bad input gets a clear error), and keeps serving.
//!
//! The mutator is seeded: a failure prints the seed and the request, and `FUZZ_SEED=n` replays that run.

use crate::common;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

use common::ticket;
use ticket_admin::config::RateLimits;
use ticket_admin::rpc::guard::cut;

/// Requests a run sends.
const REQUESTS: usize = 3_000;

/// Values that have broken parsers elsewhere: extremes, wrong types, odd text.
fn odd_value(rng: &mut StdRng) -> Value {
    let long = "x".repeat(rng.random_range(100..5000));
    let deep = (0..rng.random_range(1..40)).fold(json!(1), |v, _| json!([v]));
    let palette = [
        json!(null),
        json!(true),
        json!(0),
        json!(-1),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(2147483647),
        json!(2147483648_i64),
        json!(-99999999999999_i64),
        json!(253402300800000_i64),
        json!(1e308),
        json!(-1e-308),
        json!(0.1),
        json!(12.345),
        json!(""),
        json!(" "),
        json!("2026-13-45T25:61:61Z"),
        json!("0000-01-01T00:00:00Z"),
        json!("9999-12-31T23:59:59.999Z"),
        json!("+275760-09-13T00:00:00Z"),
        json!("days:0of0"),
        json!("days:367of367"),
        json!("é\u{0}\u{FFFF}\u{10FFFF}"),
        json!("'; DROP TABLE tickets; --"),
        json!("%_\\"),
        json!(long),
        json!([]),
        json!({}),
        json!([null, 1, "a", {}]),
        json!({"op": "remove", "path": "/"}),
        json!([{"op": "replace", "path": "/id", "value": 1}]),
        json!([{"op": "move", "from": "/name", "path": "/name/x"}]),
        deep,
        json!(vec!["c"; 1_001]),
    ];
    palette[rng.random_range(0..palette.len())].clone()
}

/// Every place in a JSON value, as JSON Pointer paths.
fn paths(value: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match value {
        Value::Object(map) => map.iter().for_each(|(k, v)| paths(v, format!("{at}/{k}"), out)),
        Value::Array(list) => list.iter().enumerate().for_each(|(i, v)| paths(v, format!("{at}/{i}"), out)),
        _ => {}
    }
}

/// One mutation of `value`: a value replaced, a member dropped, or an unknown member added.
fn mutate(value: &mut Value, rng: &mut StdRng) {
    let mut all = Vec::new();
    paths(value, String::new(), &mut all);
    let at = all[rng.random_range(0..all.len())].clone();
    match rng.random_range(0..4) {
        0 | 1 => {
            if let Some(slot) = value.pointer_mut(&at) {
                *slot = odd_value(rng);
            }
        }
        2 => {
            if let Some(Value::Object(map)) = value.pointer_mut(&at)
                && let Some(key) = map.keys().nth(rng.random_range(0..map.len().max(1))).cloned()
            {
                map.remove(&key);
            }
        }
        _ => {
            if let Some(Value::Object(map)) = value.pointer_mut(&at) {
                let key = ["x", "sysVersion", "networkId", "id", "limit", "cursor", "fields"][rng.random_range(0..7)];
                map.insert(key.to_owned(), odd_value(rng));
            }
        }
    }
}

/// The calls mutated from: every namespace, reads and writes, with params that are valid as they stand.
fn seeds(registration_id: &str) -> Vec<(&'static str, Value)> {
    let registration = json!({"eventId": "ev1", "name": "Ada", "contactId": "c1", "typeId": "t", "packageId": "p",
        "number": 7, "orderNumber": 12, "orderTotal": 10.5, "date": "2026-01-01T00:00:00Z",
        "sessions": [{"id": "s1", "startDate": "2026-01-01T09:00:00Z", "endDate": "2026-01-01T10:00:00Z"}],
        "customFieldValues": [{"id": "f", "value": "v"}], "badge": {"line": "x"}});
    vec![
        ("ticket.createPurchasableTicket", json!({"ticket": ticket("fz")})),
        ("ticket.updatePurchasableTicket", json!({"ticket": ticket("base")})),
        ("ticket.getPurchasableTickets", json!({"productIds": ["base"], "orderBy": "price", "limit": 5})),
        ("ticket.getPurchasableTickets", json!({"startsFrom": "2026-01-01T00:00:00Z", "onSale": true})),
        ("ticket.getPurchasableTicket", json!({"productId": "base"})),
        ("ticket.deletePurchasableTicket", json!({"productId": "nope"})),
        ("registration.create", json!({"registration": registration})),
        ("registration.get", json!({"id": registration_id, "fields": ["name"]})),
        (
            "registration.patch",
            json!({"id": registration_id, "patch": [{"op": "replace", "path": "/city", "value": "Oslo"}]}),
        ),
        (
            "registration.search",
            json!({"eventId": "ev1", "contactId": ["c1", "c2"], "date": {"from": 0, "to": 1}, "limit": 3}),
        ),
        ("registration.search", json!({"firstName": "ad", "orderTotal": {"from": 1.5}, "ids": [registration_id]})),
        ("registration.listByContact", json!({"contactId": "c1", "limit": 2})),
        ("registration.transfer", json!({"id": registration_id, "contactId": "c9"})),
        (
            "registration.batch",
            json!({"operations": [{"op": "patch", "id": registration_id, "patch": []}, {"op": "delete", "id": "none"}]}),
        ),
        ("registration.detectSchedulingConflicts", json!({"registration": registration})),
        (
            "functionTicket.create",
            json!({"functionTicket": {"name": "Seat", "eventId": "ev1", "functionId": "gala", "contactId": "c1", "status": "active", "registrationId": registration_id}}),
        ),
        ("functionTicket.listByFunction", json!({"functionId": "gala"})),
        (
            "admin.createToken",
            json!({"name": "fz", "grants": ["network.manage@fz"], "expiresAt": "2999-01-01T00:00:00Z"}),
        ),
        ("admin.setNetworkLimits", json!({"networkId": "fz2", "maxTickets": 5})),
        ("admin.getNetworkLimits", json!({"networkId": "fuzz"})),
        ("admin.whoami", json!({})),
    ]
}

/// Cuts the body short or changes some of its bytes (invalid UTF-8 included).
fn garble(body: Vec<u8>, rng: &mut StdRng) -> Vec<u8> {
    let mut bytes = body;
    if rng.random_bool(0.5) {
        bytes.truncate(rng.random_range(0..bytes.len().max(1)));
    } else {
        for _ in 0..rng.random_range(1..4) {
            let i = rng.random_range(0..bytes.len().max(1));
            if let Some(b) = bytes.get_mut(i) {
                *b = b"{}[]\",:0-e\\ \x00\xff"[rng.random_range(0..14)];
            }
        }
    }
    bytes
}

/// Every error code in a JSON-RPC answer, a batch of them, or an envelope.
fn codes(answer: &Value, out: &mut Vec<i64>) {
    match answer {
        Value::Array(list) => list.iter().for_each(|a| codes(a, out)),
        Value::Object(map) => {
            if let Some(code) = map.get("error").and_then(|e| e.get("code")).and_then(Value::as_i64) {
                out.push(code);
            }
        }
        _ => {}
    }
}

/// A failure of the run: returned, not panicked, so that the test's last lines are its seed and request (a panic's
/// backtrace would follow them, and a CI log cut short keeps its head and its tail).
fn failed(seed: u64, what: String) -> String {
    format!("FUZZ_SEED={seed} replays this run: {what}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_mutated_requests_get_clear_answers_and_the_server_keeps_serving() -> Result<(), String> {
    let server = common::launch(|c| c.rates = RateLimits::OFF).await;
    let client = server.admin().on("fuzz");
    client.call("ticket.createPurchasableTicket", json!({"ticket": ticket("base")})).await.expect("a base ticket");
    let made = client
        .call(
            "registration.create",
            json!({"registration": {"eventId": "ev1", "name": "Base", "contactId": "c1",
            "typeId": "t", "packageId": "p", "productId": "base"}}),
        )
        .await
        .expect("a base registration");
    let id = made["registration"]["id"].as_str().expect("id").to_owned();
    let seeds = seeds(&id);

    let seed: u64 = std::env::var("FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut answered = 0;
    for n in 0..REQUESTS {
        let (method, params) = &seeds[rng.random_range(0..seeds.len())];
        let mut params = params.clone();
        for _ in 0..rng.random_range(1..4) {
            mutate(&mut params, &mut rng);
        }
        let wire = rng.random_range(0..10);
        let (path, body) = match wire {
            0..=3 => (
                "/jsonRpc".to_owned(),
                json!({"jsonrpc": "2.0", "id": n, "method": method, "params": params}).to_string(),
            ),
            4..=7 => (format!("/jsonRpc/{method}"), params.to_string()),
            _ => {
                let mut batch = vec![json!({"jsonrpc": "2.0", "id": n, "method": method, "params": params})];
                let mut entry = Value::Object(Map::new());
                mutate(&mut entry, &mut rng);
                batch.push(entry);
                ("/jsonRpc".to_owned(), Value::Array(batch).to_string())
            }
        };
        let mut body = body.into_bytes();
        if rng.random_bool(0.1) {
            body = garble(body, &mut rng);
        }
        let replay = format!("request {n}: POST {path} {}", cut(&String::from_utf8_lossy(&body), 1000));
        let resp = match client.request(&path).body(body).send().await {
            Ok(resp) => resp,
            Err(e) => return Err(failed(seed, format!("no answer ({e:?}) to {replay}"))),
        };
        let status = resp.status().as_u16();
        let text = match resp.text().await {
            Ok(text) => text,
            Err(e) => return Err(failed(seed, format!("HTTP {status} without a whole body ({e:?}) for {replay}"))),
        };
        if status != 200 && status != 204 {
            return Err(failed(seed, format!("HTTP {status} for {replay}: {}", cut(&text, 1000))));
        }
        if status == 204 {
            continue;
        }
        let answer: Value = match serde_json::from_str(&text) {
            Ok(answer) => answer,
            Err(e) => return Err(failed(seed, format!("not JSON ({e}) for {replay}: {}", cut(&text, 1000)))),
        };
        let mut found = Vec::new();
        codes(&answer, &mut found);
        if found.contains(&-32603) {
            return Err(failed(seed, format!("an internal error for {replay}: {}", cut(&text, 1000))));
        }
        answered += 1;
    }
    if answered <= REQUESTS / 2 {
        return Err(failed(seed, format!("only {answered} of {REQUESTS} requests were answered with a body")));
    }
    let health = reqwest::get(format!("{}/health", client.base)).await.map(|r| r.status().as_u16());
    if !matches!(health, Ok(200)) {
        return Err(failed(seed, format!("health after the run: {health:?}")));
    }
    // Sent as the run's requests are (`Client::call` would panic on a server that stopped answering, without the seed).
    let me = client.request("/jsonRpc/admin.whoami").body("{}").send().await;
    let me = match me {
        Ok(resp) => resp.json::<Value>().await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if !me.as_ref().is_ok_and(|me| me["data"]["tokenInfo"]["name"] == "bootstrap") {
        return Err(failed(seed, format!("whoami after the run: {}", me.map_or_else(|e| e, |v| v.to_string()))));
    }
    server.stop().await;
    Ok(())
}
