//! Limits (API.md section 12), shown over real sockets: every door has a bound (slow and stalled bodies hold no
//! call slot and no more memory than they sent, idle and half-sent connections are closed, the connection cap makes
//! new clients wait instead of failing, a call past its timeout gets `-32000` with its write whole or not at all);
//! the rate limits (per token, per network, per client address) answer `-32029` with a wait, or HTTP 429 before a
//! body is read; and the tenant limits hold exactly under concurrent creates.
//!
//! Each test starts a server of its own with the bounds it names, short enough that a bound is reached within the
//! test; no test sleeps to let time pass except where the behaviour shown is that nothing happens meanwhile.

use crate::{common, metrics};

use std::net::SocketAddr;
use std::time::Duration;

use common::{ADMIN, Client, ticket};
use serde_json::{Value, json};
use ticket_admin::config::RateLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The longest any awaited event may take before the test fails.
const BOUND: Duration = Duration::from_secs(20);

/// A raw connection that sends a POST head declaring `length` body bytes, then `sent` of them, and nothing more.
async fn stalled_body(addr: SocketAddr, length: usize, sent: &[u8]) -> TcpStream {
    stalled_body_with(addr, length, sent, "").await
}

/// [`stalled_body`], with the admin token.
async fn stalled_admin_body(addr: SocketAddr, length: usize, sent: &[u8]) -> TcpStream {
    stalled_body_with(addr, length, sent, &format!("Authorization: Bearer {ADMIN}\r\n")).await
}

async fn stalled_body_with(addr: SocketAddr, length: usize, sent: &[u8], headers: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /jsonRpc HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n{headers}Content-Length: {length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("head sent");
    stream.write_all(sent).await.expect("part of the body sent");
    stream
}

/// Reads until the server closes the connection (bounded); everything it sent.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let read = tokio::time::timeout(BOUND, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server closes the connection within {BOUND:?}; so far {:?}", text(&answer));
    text(&answer)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A whole keep-alive request for `admin.whoami` with the admin token.
fn whoami_request() -> String {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "admin.whoami", "params": {}}).to_string();
    format!(
        "POST /jsonRpc HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAuthorization: Bearer {ADMIN}\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Reads one HTTP response with a Content-Length from a keep-alive connection; its status and body.
async fn read_response(stream: &mut TcpStream) -> (u16, String) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(BOUND, stream.read(&mut buf)).await.expect("an answer in time").expect("read");
        assert!(n > 0, "closed before a whole response: {:?}", text(&got));
        got.extend_from_slice(&buf[..n]);
        let all = text(&got);
        if let Some((head, body)) = all.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
                .and_then(|v| v.parse::<usize>().ok())
                .expect("a content-length");
            if body.len() >= length {
                let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("status");
                return (status, body[..length].to_owned());
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_bodies_take_no_call_slot() {
    // Finding 1: the slot was taken before the body was read, so 500 stalled bodies made every call 429.
    let server = common::launch(|c| c.max_in_flight = 5).await;
    let mut stalled = Vec::new();
    for _ in 0..40 {
        stalled.push(stalled_body(server.addr, 200, b"{").await);
    }
    for _ in 0..10 {
        let me = server.admin().call("admin.whoami", json!({})).await.expect("served while bodies stall");
        assert_eq!(me["tokenInfo"]["name"], "bootstrap");
    }
    drop(stalled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stops_arriving_gets_408_and_the_connection_is_closed() {
    let server = common::launch(|c| c.bounds.body_timeout = Duration::from_millis(300)).await;
    let mut stream = stalled_body(server.addr, 200, b"{\"jsonrpc\":").await;
    let answer = read_until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("did not arrive within"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    // Finding 2: an idle connection stayed open for good.
    // The header bound is longer than the test may take: only the idle bound can close it.
    let server = common::launch(|c| {
        c.bounds.idle_timeout = Duration::from_millis(300);
        c.bounds.header_timeout = Duration::from_secs(60);
    })
    .await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    for _ in 0..2 {
        stream.write_all(whoami_request().as_bytes()).await.expect("sent");
        let (status, body) = read_response(&mut stream).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("bootstrap"), "{body}");
    }
    let rest = read_until_closed(&mut stream).await;
    assert!(rest.is_empty(), "nothing more than the close: {rest:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_whose_head_does_not_arrive_is_closed_after_the_header_timeout() {
    let server = common::launch(|c| {
        c.bounds.header_timeout = Duration::from_millis(300);
        c.bounds.idle_timeout = Duration::from_secs(60);
    })
    .await;
    // Silent from the start, and a head cut short.
    let mut silent = TcpStream::connect(server.addr).await.expect("connect");
    let mut partial = TcpStream::connect(server.addr).await.expect("connect");
    partial.write_all(b"POST /jsonRpc HTTP/1.1\r\nHost: localhost\r\n").await.expect("sent");
    assert_eq!(read_until_closed(&mut silent).await, "");
    assert_eq!(read_until_closed(&mut partial).await, "");
    // The idle bound between requests is the longer one: a kept-alive connection outlives the header bound.
    let server = common::launch(|c| {
        c.bounds.header_timeout = Duration::from_millis(200);
        c.bounds.idle_timeout = Duration::from_secs(30);
    })
    .await;
    let mut kept = TcpStream::connect(server.addr).await.expect("connect");
    kept.write_all(whoami_request().as_bytes()).await.expect("sent");
    assert_eq!(read_response(&mut kept).await.0, 200);
    tokio::time::sleep(Duration::from_millis(600)).await;
    kept.write_all(whoami_request().as_bytes()).await.expect("sent");
    assert_eq!(read_response(&mut kept).await.0, 200, "idle for three header bounds, still open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_connection_cap_new_clients_wait_until_one_closes() {
    let server = common::launch(|c| c.bounds.max_connections = 2).await;
    let first = TcpStream::connect(server.addr).await.expect("connect");
    let _second = TcpStream::connect(server.addr).await.expect("connect");
    let admin = server.admin();
    let waiting = tokio::spawn(async move { admin.call("admin.whoami", json!({})).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "a third client is not served while two connections are open");
    drop(first);
    let me = tokio::time::timeout(BOUND, waiting).await.expect("served once one closed").expect("joined");
    assert_eq!(me.expect("whoami")["tokenInfo"]["name"], "bootstrap");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_hold_the_memory_they_sent_not_what_they_declare() {
    // Finding 1: bodies declaring 1 MiB − 1 each reserved it up front (1,500 of them took 2.2 GB).
    let server = common::launch(|c| {
        c.max_body_bytes = 1 << 20;
        c.bounds.max_body_memory = 2 << 20;
    })
    .await;
    let mut stalled = Vec::new();
    for _ in 0..50 {
        stalled.push(stalled_admin_body(server.addr, (1 << 20) - 1, b"{").await);
    }
    let me = server.admin().call("admin.whoami", json!({})).await.expect("declared lengths take no budget");
    assert_eq!(me["tokenInfo"]["name"], "bootstrap");
    drop(stalled);

    // Bytes that did arrive are held against the budget: past it, 429 with Retry-After; freed when they go.
    let server = common::launch(|c| {
        c.max_body_bytes = 3000;
        c.bounds.max_body_memory = 4000;
    })
    .await;
    let mut holder = stalled_admin_body(server.addr, 3000, &[b' '; 2900]).await;
    let mut holders_refused = 0.0;
    let padded = format!("{}{}", " ".repeat(300), json!({"jsonrpc": "2.0", "id": 1, "method": "admin.whoami"}));
    let admin = server.admin();
    let refused = tokio::time::timeout(BOUND, async {
        loop {
            let resp = admin.request("/jsonRpc").body(padded.clone()).send().await.expect("an answer");
            if resp.status() == 429 {
                return resp;
            }
            // The holder's bytes may still be on their way to the server: wait until they are held. If they
            // arrived while this request's bytes were held, the holder was the one refused: start another.
            let mut probe = [0u8; 1];
            if !matches!(holder.try_read(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock) {
                holder = stalled_admin_body(server.addr, 3000, &[b' '; 2900]).await;
                holders_refused += 1.0;
            }
        }
    })
    .await
    .expect("refused once the budget is held");
    assert!(refused.headers().get("retry-after").is_some());
    let error: Value = refused.json().await.expect("JSON");
    assert_eq!(error["error"]["code"], -32029, "{error}");
    assert_eq!(error["error"]["data"]["limit"], "bodyMemory", "{error}");
    assert!(error["error"]["message"].as_str().unwrap().contains("server busy"), "{error}");
    // Counted for /metrics: the refusal seen, and any holder that was refused instead.
    let text = metrics::scrape(&admin).await;
    let counted = metrics::sample(&text, r#"ticket_admin_rate_limit_refusals_total{limit="bodyMemory"}"#);
    assert!(counted.is_some_and(|n| (1.0..=1.0 + holders_refused).contains(&n)), "{counted:?}, {holders_refused}");
    drop(holder);
    let served = tokio::time::timeout(BOUND, async {
        loop {
            let (status, text) = admin.post_raw("/jsonRpc", &padded).await;
            if status == 200 {
                return text;
            }
        }
    })
    .await
    .expect("served once the holder is gone");
    assert!(served.contains("bootstrap"), "{served}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_past_its_timeout_gets_32000_and_its_queued_write_never_runs() {
    let server = common::launch(|c| c.bounds.call_timeout = Duration::from_nanos(1)).await;
    let net = "timeouts";
    let client = server.admin().on(net);
    let batch: Vec<Value> = (0..40)
        .map(|i| {
            json!({"jsonrpc": "2.0", "id": i, "method": "ticket.createPurchasableTicket",
                   "params": {"ticket": ticket(&format!("t{i}"))}})
        })
        .collect();
    let (status, answers) = client.post(&Value::Array(batch)).await;
    assert_eq!(status, 200);
    let answers = answers.as_array().expect("a batch answer").clone();
    assert_eq!(answers.len(), 40);
    let timed_out: Vec<&Value> = answers.iter().filter(|a| a["error"]["code"] == -32000).collect();
    assert!(!timed_out.is_empty(), "a 1 ns call timeout times calls out: {answers:?}");
    assert!(timed_out[0]["error"]["message"].as_str().unwrap().contains("timed out"));
    // With a deadline of 1 ns every write is still queued when its deadline passes: none is run.
    assert!(answers.iter().all(|a| a["error"]["code"] == -32000), "{answers:?}");
    let envelope = client.bare_envelope("ticket.createPurchasableTicket", &json!({"ticket": ticket("bare")})).await;
    assert_eq!(envelope["error"]["code"], -32000, "{envelope}");

    // After a restart with the default timeout: not one of them was written.
    let dir = server.stop().await;
    let server = common::launch_in(dir, |_| {}).await;
    let client = server.admin().on(net);
    for answer in &answers {
        let id = format!("t{}", answer["id"]);
        let found = client.call("ticket.getPurchasableTicket", json!({"productId": id})).await;
        assert_eq!(found.expect_err("never written").code, -32004, "{id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_past_its_rate_gets_32029_with_a_wait_in_both_wire_forms() {
    // One call a second, a burst of two: of a batch of five, exactly two are served (the first is charged before
    // the body is read, and only once).
    let server = common::launch(|c| c.rates = RateLimits { token: 1, network: 0, anonymous: 0 }).await;
    let client = server.admin();
    let batch: Vec<Value> =
        (0..5).map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "admin.whoami", "params": {}})).collect();
    let (_, answers) = client.post(&Value::Array(batch)).await;
    let answers = answers.as_array().expect("a batch answer");
    let served = answers.iter().filter(|a| a["result"].is_object()).count();
    assert_eq!(served, 2, "a burst of twice the rate, each entry counted once: {answers:?}");
    let refused: Vec<&Value> = answers.iter().filter(|a| a["error"].is_object()).collect();
    assert_eq!(refused.len(), 3);
    for r in refused {
        assert_eq!(r["error"]["code"], -32029, "{r}");
        assert_eq!(r["error"]["data"]["limit"], "token", "{r}");
        let wait = r["error"]["data"]["retryAfterMs"].as_u64().expect("retryAfterMs");
        assert!((1..=1000).contains(&wait), "{r}");
    }
    // The next request finds the bucket empty: refused before its body is read, HTTP 429 with Retry-After.
    let resp = client
        .request("/jsonRpc")
        .body(json!({"jsonrpc": "2.0", "id": 1, "method": "admin.whoami"}).to_string())
        .send()
        .await
        .expect("an answer");
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
    let body: Value = resp.json().await.expect("JSON");
    assert_eq!((&body["error"]["code"], &body["error"]["data"]["limit"]), (&json!(-32029), &json!("token")));
    // A request whose bucket is empty is refused before its body is read: a head alone gets the 429.
    let mut head_only = stalled_admin_body(server.addr, 100, b"").await;
    let early = read_until_closed(&mut head_only).await;
    assert!(early.starts_with("HTTP/1.1 429"), "{early}");
    assert!(early.contains("\"limit\":\"token\""), "{early}");
    // Waiting as told is enough; the envelope form is served, then refused the same way once the bucket is empty.
    let wait = body["error"]["data"]["retryAfterMs"].as_u64().expect("retryAfterMs");
    tokio::time::sleep(Duration::from_millis(wait)).await;
    assert!(client.bare("admin.whoami", json!({})).await.is_ok(), "served after the wait");
    let (status, text) = client.post_raw("/jsonRpc/admin.whoami", "{}").await;
    assert_eq!(status, 429, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_network_past_its_rate_refuses_every_caller_but_strangers_cannot_drain_it() {
    let server = common::launch(|c| c.rates = RateLimits { token: 0, network: 5, anonymous: 0 }).await;
    let admin = server.admin();
    let a = admin.make_token(&["network.manage@shared"]).await;
    let b = admin.make_token(&["network.manage@shared"]).await;
    let stranger = admin.make_token(&["network.manage@other"]).await;
    let calls = |n: usize| -> Value {
        Value::Array(
            (0..n)
                .map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "ticket.getPurchasableTickets", "params": {}}))
                .collect(),
        )
    };
    // Calls the guard refuses cost the network nothing.
    let (_, refused) = Client::of(server.addr).with_token(&stranger).on("shared").post(&calls(30)).await;
    assert!(refused.as_array().unwrap().iter().all(|r| r["error"]["code"] == -32003), "{refused}");
    let (_, first) = Client::of(server.addr).with_token(&a).on("shared").post(&calls(6)).await;
    let (_, second) = Client::of(server.addr).with_token(&b).on("shared").post(&calls(6)).await;
    let all: Vec<&Value> = first.as_array().unwrap().iter().chain(second.as_array().unwrap()).collect();
    let served = all.iter().filter(|r| r["result"].is_object()).count();
    assert!((10..=11).contains(&served), "one budget of 10 for both tokens: {served} served");
    for r in all.iter().filter(|r| r["error"].is_object()) {
        assert_eq!((&r["error"]["code"], &r["error"]["data"]["limit"]), (&json!(-32029), &json!("network")), "{r}");
    }
    let other = Client::of(server.addr).with_token(&stranger).on("other");
    assert!(other.call("ticket.getPurchasableTickets", json!({})).await.is_ok(), "another network's budget is its own");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_without_a_token_are_limited_per_client_address() {
    let server = common::launch(|c| c.rates = RateLimits { token: 0, network: 0, anonymous: 2 }).await;
    let anonymous = Client::of(server.addr);
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let (status, text) =
            anonymous.post_raw("/jsonRpc", r#"{"jsonrpc":"2.0","id":1,"method":"admin.whoami"}"#).await;
        if status == 200 {
            assert!(text.contains("-32001"), "{text}");
        } else {
            assert_eq!(status, 429, "{text}");
            let body: Value = serde_json::from_str(&text).expect("JSON");
            assert_eq!(body["error"]["data"]["limit"], "anonymous", "{text}");
        }
        statuses.push(status);
    }
    let served = statuses.iter().filter(|s| **s == 200).count();
    assert!((4..=5).contains(&served), "a burst of twice the rate (one more if a cell refilled): {statuses:?}");
    // A valid token is not limited by the address it comes from.
    assert!(server.admin().call("admin.whoami", json!({})).await.is_ok());
}

/// `admin.setNetworkLimits` with these params; the answer.
async fn set_limits(admin: &Client, params: Value) -> Result<Value, common::RpcError> {
    admin.call("admin.setNetworkLimits", params).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_limits_are_set_read_and_validated_by_admins_only() {
    let server = common::launch(|_| {}).await;
    let admin = server.admin();
    let empty = admin.call("admin.getNetworkLimits", json!({"networkId": "t1"})).await.expect("read");
    assert_eq!(
        empty,
        json!({"limits": {"networkId": "t1", "maxTickets": null, "maxRegistrations": null, "maxFunctionTickets": null},
               "usage": {"tickets": 0, "registrations": 0, "functionTickets": 0}})
    );
    let set = set_limits(&admin, json!({"networkId": "t1", "maxTickets": 5, "maxRegistrations": 7})).await.unwrap();
    assert_eq!(set["limits"]["maxTickets"], 5);
    // A member left out keeps its limit; null removes one.
    let set =
        set_limits(&admin, json!({"networkId": "t1", "maxTickets": null, "maxFunctionTickets": 0})).await.unwrap();
    assert_eq!(
        set["limits"],
        json!({"networkId": "t1", "maxTickets": null, "maxRegistrations": 7, "maxFunctionTickets": 0})
    );
    assert_eq!(admin.call("admin.getNetworkLimits", json!({"networkId": "t1"})).await.unwrap(), set);

    let bad = set_limits(
        &admin,
        json!({"networkId": "no spaces", "maxTickets": -1, "maxRegistrations": 1.5, "maxFunctionTickets": "3", "x": 1}),
    )
    .await
    .unwrap_err();
    assert_eq!(bad.code, -32602);
    let mut fields = bad.fields();
    fields.sort();
    assert_eq!(fields, ["maxFunctionTickets", "maxRegistrations", "maxTickets", "networkId", "x"], "{bad:?}");
    assert_eq!(set_limits(&admin, json!({})).await.unwrap_err().fields(), ["networkId"]);

    let manager = Client::of(server.addr).with_token(&admin.make_token(&["network.manage@t1"]).await).on("t1");
    assert_eq!(set_limits(&manager, json!({"networkId": "t1", "maxTickets": 100})).await.unwrap_err().code, -32003);
    let read = manager.call("admin.getNetworkLimits", json!({"networkId": "t1"})).await.unwrap_err();
    assert_eq!(read.code, -32003, "limits are the operator's, not the tenant's");
}

/// Sends `creates` concurrently, one call each; the results.
async fn race(client: &Client, method: &str, creates: Vec<Value>) -> Vec<Result<Value, common::RpcError>> {
    let calls = creates.into_iter().map(|params| {
        let client = client.clone();
        let method = method.to_owned();
        async move { client.call(&method, params).await }
    });
    futures_util::future::join_all(calls).await
}

/// Asserts that exactly `max` of `results` succeeded and every other was refused by the tenant limit `limit`.
fn assert_exactly(results: &[Result<Value, common::RpcError>], max: usize, limit: &str) {
    let made = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(made, max, "exactly the limit is made");
    for refused in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(refused.code, -32029, "{refused:?}");
        assert_eq!(refused.data, json!({"limit": limit, "value": max}), "{refused:?}");
        assert!(refused.message.contains("tenant limits"), "{refused:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_limits_hold_exactly_under_200_concurrent_creates() {
    let server = common::launch(|_| {}).await;
    let admin = server.admin();
    set_limits(&admin, json!({"networkId": "race", "maxTickets": 3, "maxRegistrations": 10, "maxFunctionTickets": 4}))
        .await
        .expect("set");
    let client = admin.clone().on("race");

    let tickets = (0..50).map(|i| json!({"ticket": ticket(&format!("p{i}"))})).collect();
    assert_exactly(&race(&client, "ticket.createPurchasableTicket", tickets).await, 3, "maxTickets");
    let registrations = (0..200)
        .map(|i| {
            json!({"registration": {"eventId": "ev1", "name": "Ada", "contactId": format!("c{i}"),
                                    "typeId": "attendee", "packageId": "full"}})
        })
        .collect();
    let made = race(&client, "registration.create", registrations).await;
    assert_exactly(&made, 10, "maxRegistrations");
    let seats = (0..40)
        .map(|i| {
            json!({"functionTicket": {"name": "Seat", "eventId": "ev1", "functionId": "gala",
                                      "contactId": format!("c{i}"), "status": "active"}})
        })
        .collect();
    assert_exactly(&race(&client, "functionTicket.create", seats).await, 4, "maxFunctionTickets");
    let usage = admin.call("admin.getNetworkLimits", json!({"networkId": "race"})).await.unwrap()["usage"].clone();
    assert_eq!(usage, json!({"tickets": 3, "registrations": 10, "functionTickets": 4}));

    // A delete makes room for one; another network is not limited by this one's limits.
    let first = made.iter().find_map(|r| r.as_ref().ok()).expect("one made")["registration"]["id"].clone();
    client.call("registration.delete", json!({"id": first})).await.expect("deleted");
    let again = json!({"registration": {"eventId": "ev1", "name": "Bo", "contactId": "c-new", "typeId": "attendee",
                                        "packageId": "full"}});
    client.call("registration.create", again.clone()).await.expect("room for one");
    let full = client.call("registration.create", again.clone()).await.unwrap_err();
    assert_eq!(full.code, -32029);
    assert!(admin.clone().on("other").call("registration.create", again).await.is_ok());
    // Lifting the limit lets creates through again.
    set_limits(&admin, json!({"networkId": "race", "maxTickets": null})).await.expect("lifted");
    client.call("ticket.createPurchasableTicket", json!({"ticket": ticket("after")})).await.expect("no limit now");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_later_head_on_a_kept_connection_is_held_to_the_header_bound() {
    let server = common::launch(|c| {
        c.bounds.header_timeout = Duration::from_millis(300);
        c.bounds.idle_timeout = Duration::from_secs(60);
    })
    .await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    stream.write_all(whoami_request().as_bytes()).await.expect("sent");
    assert_eq!(read_response(&mut stream).await.0, 200);
    stream.write_all(b"POST /jsonRpc HTTP/1.1\r\nHost: localhost\r\n").await.expect("half a head");
    assert_eq!(read_until_closed(&mut stream).await, "", "closed at the header bound, long before the idle one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_a_token_cannot_take_the_body_budget() {
    let server = common::launch(|c| {
        c.max_body_bytes = 1 << 20;
        // 2 MiB: the 40 stalled bodies below (2.4 MB) would fill it whole if they drew on the same budget as token
        // holders, and the 900 KB body at the end would be refused.
        c.bounds.max_body_memory = 2 << 20;
        c.rates = RateLimits::OFF;
    })
    .await;
    // A large body without a token is refused as such...
    let anonymous = Client::of(server.addr);
    let (status, text) = anonymous.post_raw("/jsonRpc", &" ".repeat(100_000)).await;
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("without a valid token"), "{text}");
    // ...and however many small ones stall, they draw on their own quarter of the budget: token holders are served.
    let mut stalled = Vec::new();
    for _ in 0..40 {
        stalled.push(stalled_body(server.addr, 65_000, &[b' '; 60_000]).await);
    }
    let me = server.admin().call("admin.whoami", json!({})).await.expect("served");
    assert_eq!(me["tokenInfo"]["name"], "bootstrap");
    let big = format!("{}{}", " ".repeat(900_000), json!({"jsonrpc": "2.0", "id": 1, "method": "admin.whoami"}));
    let (status, text) = server.admin().post_raw("/jsonRpc", &big).await;
    assert_eq!(status, 200, "a token holder's largest body still fits: {text}");
    drop(stalled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_call_slots_a_request_gets_429_in_flight() {
    let server = common::launch(|c| {
        c.max_in_flight = 1;
        c.rates = RateLimits::OFF;
    })
    .await;
    let client = server.admin().on("slots");
    let batch = Value::Array(
        (0..100)
            .map(|i| {
                json!({"jsonrpc": "2.0", "id": i, "method": "registration.create", "params": {"registration":
                    {"eventId": "ev1", "name": "Ada", "contactId": format!("c{i}"), "typeId": "t", "packageId": "p"}}})
            })
            .collect(),
    );
    // While a batch holds the one slot, another request is refused with 429 (tried again while batches run, since
    // a batch may end before the other request arrives).
    let (mut refused, mut refusals) = (None, 0.0);
    for _ in 0..20 {
        let holder = {
            let (client, batch) = (client.clone(), batch.clone());
            tokio::spawn(async move { client.post(&batch).await })
        };
        while !holder.is_finished() && refused.is_none() {
            let resp = client
                .request("/jsonRpc")
                .body(json!({"jsonrpc": "2.0", "id": 1, "method": "admin.whoami"}).to_string())
                .send()
                .await
                .expect("an answer");
            if resp.status() == 429 {
                refusals += 1.0;
                refused = Some((resp.headers().get("retry-after").cloned(), resp.json::<Value>().await.expect("JSON")));
            }
        }
        match holder.await.expect("joined").0 {
            // A probe sent as the batch was spawned can take the slot first: then the batch is the one refused.
            429 => {
                assert!(refused.is_none(), "one slot, one holder");
                refusals += 1.0;
            }
            status => assert_eq!(status, 200, "the batch holding the slot is served"),
        }
        if refused.is_some() {
            break;
        }
    }
    let (retry_after, body) = refused.expect("a request past the one call slot is refused");
    assert!(retry_after.is_some());
    assert_eq!(
        (&body["error"]["code"], &body["error"]["data"]["limit"]),
        (&json!(-32029), &json!("inFlight")),
        "{body}"
    );
    assert!(body["error"]["message"].as_str().unwrap().contains("server busy"), "{body}");
    // Each refusal is counted for /metrics, as the server's being full rather than a caller's rate.
    let text = metrics::scrape(&client).await;
    let counted = metrics::sample(&text, r#"ticket_admin_rate_limit_refusals_total{limit="inFlight"}"#);
    assert_eq!(counted, Some(refusals), "{text}");
}
