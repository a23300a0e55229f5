//! The transport, held to API.md section 1 and the JSON-RPC 2.0 specification: framing, batches, notifications,
//! ids, the path form and its envelope, HTTP refusals, health and CORS.

mod common;

use common::{Client, manager, network, ticket};
use serde_json::{Value, json};

fn by_id(answers: &Value) -> std::collections::HashMap<String, Value> {
    answers.as_array().expect("an array").iter().map(|a| (a["id"].to_string(), a.clone())).collect()
}

#[tokio::test]
async fn the_specification_examples() {
    let client = manager(&network("wire-spec")).await;
    // Invalid JSON: a parse error with a null id.
    let (status, text) =
        client.post_raw("/jsonRpc", r#"{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]"#).await;
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!((status, answer["error"]["code"].clone(), answer["id"].clone()), (200, json!(-32700), Value::Null));
    // An invalid request object: -32600, not -32700.
    let (_, answer) = client.post(&json!({"jsonrpc": "2.0", "method": 1, "params": "bar"})).await;
    assert_eq!((answer["error"]["code"].clone(), answer["id"].clone()), (json!(-32600), Value::Null));
    // A batch that is not JSON: one parse error.
    let (_, text) = client
        .post_raw(
            "/jsonRpc",
            r#"[{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},{"jsonrpc": "2.0", "method""#,
        )
        .await;
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answer["error"]["code"], -32700);
    assert!(answer.is_object());
    // An empty batch: one invalid request, not an array.
    let (_, answer) = client.post(&json!([])).await;
    assert!(answer.is_object());
    assert_eq!(answer["error"]["code"], -32600);
    // Batches of non-requests: one -32600 per entry.
    for batch in [json!([1]), json!([1, 2, 3])] {
        let (_, answer) = client.post(&batch).await;
        let answers = answer.as_array().unwrap();
        assert_eq!(answers.len(), batch.as_array().unwrap().len());
        assert!(answers.iter().all(|a| a["error"]["code"] == -32600 && a["id"].is_null()));
    }
}

#[tokio::test]
async fn a_mixed_batch_answers_each_entry_in_its_slot() {
    let client = manager(&network("wire-mixed")).await;
    let batch = json!([
        {"jsonrpc": "2.0", "method": "ticket.createPurchasableTicket", "params": {"ticket": ticket("a")}, "id": "1"},
        {"jsonrpc": "2.0", "method": "ticket.createPurchasableTicket", "params": {"ticket": ticket("n")}},
        {"jsonrpc": "2.0", "method": "ticket.getPurchasableTickets", "params": {}, "id": 2},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
        {"jsonrpc": "2.0", "method": "admin.whoami", "params": {}, "id": -9}
    ]);
    let (status, answer) = client.post(&batch).await;
    assert_eq!(status, 200);
    let answers = answer.as_array().unwrap();
    assert_eq!(answers.len(), 5, "one answer per entry that is not a notification");
    let ids = by_id(&answer);
    assert_eq!(ids["\"1\""]["result"]["ticket"]["productId"], "a");
    assert!(ids["2"]["result"]["tickets"].is_array());
    assert_eq!(ids["null"]["error"]["code"], -32600);
    assert_eq!(ids["\"5\""]["error"]["code"], -32601);
    assert!(ids["-9"]["result"]["tokenInfo"]["id"].is_string());
    // The notification in the batch was executed.
    let n = client.call("ticket.getPurchasableTicket", json!({"productId": "n"})).await.unwrap();
    assert_eq!(n["ticket"]["productId"], "n");
}

#[tokio::test]
async fn notifications_are_executed_and_never_answered() {
    let client = manager(&network("wire-notify")).await;
    let lone =
        json!({"jsonrpc": "2.0", "method": "ticket.createPurchasableTicket", "params": {"ticket": ticket("lone")}});
    let (status, text) = client.post_raw("/jsonRpc", &lone.to_string()).await;
    assert_eq!((status, text.as_str()), (204, ""));
    assert!(client.call("ticket.getPurchasableTicket", json!({"productId": "lone"})).await.is_ok());

    let all = json!([
        {"jsonrpc": "2.0", "method": "ticket.createPurchasableTicket", "params": {"ticket": ticket("b1")}},
        {"jsonrpc": "2.0", "method": "ticket.createPurchasableTicket", "params": {"ticket": ticket("b2")}},
        {"jsonrpc": "2.0", "method": "no.such.method"}
    ]);
    let (status, text) = client.post_raw("/jsonRpc", &all.to_string()).await;
    assert_eq!((status, text.as_str()), (204, ""));
    let listed = client.call("ticket.getPurchasableTickets", json!({"productIds": ["b1", "b2"]})).await.unwrap();
    assert_eq!(listed["count"], 2);
    // A notification on the path form with a request object.
    let (status, text) = client
        .post_raw(
            "/jsonRpc/ticket.deletePurchasableTicket",
            &json!({"jsonrpc": "2.0", "params": {"productId": "b1"}}).to_string(),
        )
        .await;
    assert_eq!((status, text.as_str()), (204, ""));
    assert_eq!(client.call("ticket.getPurchasableTicket", json!({"productId": "b1"})).await.unwrap_err().code, -32004);
}

#[tokio::test]
async fn ids_are_echoed_exactly() {
    let client = Client::admin();
    for id in [json!(-1), json!(0), json!(9007199254740993u64), json!("abc"), json!(""), json!(-12.5), Value::Null] {
        let (status, text) = client
            .post_raw("/jsonRpc", &json!({"jsonrpc": "2.0", "method": "admin.whoami", "id": id}).to_string())
            .await;
        assert_eq!(status, 200);
        let answer: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(answer["id"], id, "{text}");
        assert!(answer["result"]["tokenInfo"].is_object(), "{text}");
    }
    // The id's text itself comes back, not a re-encoding of it.
    let (_, text) = client.post_raw("/jsonRpc", r#"{"jsonrpc":"2.0","method":"admin.whoami","id":1.50}"#).await;
    assert!(text.contains(r#""id":1.50"#), "{text}");
    let (_, answer) = client.post(&json!({"jsonrpc": "2.0", "method": "admin.whoami", "id": {"a": 1}})).await;
    assert_eq!((answer["error"]["code"].clone(), answer["id"].clone()), (json!(-32600), Value::Null));
    let (_, answer) = client.post(&json!({"jsonrpc": "1.0", "method": "admin.whoami", "id": 3})).await;
    assert_eq!((answer["error"]["code"].clone(), answer["id"].clone()), (json!(-32600), json!(3)));
}

#[tokio::test]
async fn batches_are_limited_to_one_hundred_calls() {
    let client = Client::admin();
    let batch =
        |n: usize| Value::Array((0..n).map(|i| json!({"jsonrpc": "2.0", "method": "admin.whoami", "id": i})).collect());
    let (_, answer) = client.post(&batch(100)).await;
    assert_eq!(answer.as_array().unwrap().len(), 100);
    let (status, answer) = client.post(&batch(101)).await;
    assert_eq!(status, 200);
    assert_eq!(answer["error"]["code"], -32600);
    assert!(answer["error"]["message"].as_str().unwrap().contains("100"));
}

#[tokio::test]
async fn the_path_form_and_its_envelope() {
    let client = manager(&network("wire-path")).await;
    let envelope = client.bare_envelope("ticket.createPurchasableTicket", &json!({"ticket": ticket("p1")})).await;
    assert_eq!(envelope["error"], json!({"status": false, "code": 0, "message": ""}));
    assert_eq!(envelope["data"]["ticket"]["productId"], "p1");
    assert_eq!(envelope.as_object().unwrap().len(), 2);

    let failed = client.bare_envelope("ticket.getPurchasableTicket", &json!({"productId": "missing"})).await;
    assert_eq!(failed["data"], Value::Null);
    assert_eq!(failed["error"]["status"], true);
    assert_eq!(failed["error"]["code"], -32004);
    assert_eq!(failed["error"]["details"], json!({"resource": "ticket", "id": "missing"}));
    let invalid = client.bare_envelope("ticket.createPurchasableTicket", &json!({"ticket": {"price": -1}})).await;
    assert_eq!(invalid["error"]["code"], -32602);
    assert!(invalid["error"]["details"]["errors"].as_array().unwrap().len() > 1);

    // An empty body is no params.
    let (status, text) = client.post_raw("/jsonRpc/ticket.getPurchasableTickets", "").await;
    assert_eq!(status, 200);
    let listed: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(listed["data"]["count"], 1);
    // Unknown method, invalid JSON.
    let (_, text) = client.post_raw("/jsonRpc/ticket.nothing", "{}").await;
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["error"]["code"], -32601);
    let (_, text) = client.post_raw("/jsonRpc/ticket.getPurchasableTickets", "{nope").await;
    let parse: Value = serde_json::from_str(&text).unwrap();
    assert_eq!((parse["error"]["code"].clone(), parse["data"].clone()), (json!(-32700), Value::Null));

    // A JSON-RPC request object on the path: answered in JSON-RPC.
    let request = json!({"jsonrpc": "2.0", "id": 7, "method": "ticket.getPurchasableTickets", "params": {}});
    let (_, text) = client.post_raw("/jsonRpc/ticket.getPurchasableTickets", &request.to_string()).await;
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!((answer["id"].clone(), answer["result"]["count"].clone()), (json!(7), json!(1)));
    let no_method = json!({"jsonrpc": "2.0", "id": 8, "params": {"productId": "p1"}});
    let (_, text) = client.post_raw("/jsonRpc/ticket.getPurchasableTicket", &no_method.to_string()).await;
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["result"]["ticket"]["productId"], "p1");
    let other =
        json!({"jsonrpc": "2.0", "id": 9, "method": "ticket.deletePurchasableTicket", "params": {"productId": "p1"}});
    let (_, text) = client.post_raw("/jsonRpc/ticket.getPurchasableTicket", &other.to_string()).await;
    let mismatch: Value = serde_json::from_str(&text).unwrap();
    assert_eq!((mismatch["id"].clone(), mismatch["error"]["code"].clone()), (json!(9), json!(-32600)));
    assert!(
        client.call("ticket.getPurchasableTicket", json!({"productId": "p1"})).await.is_ok(),
        "nothing was deleted"
    );
    // POST / is POST /jsonRpc.
    let (status, text) =
        client.post_raw("/", &json!({"jsonrpc": "2.0", "id": 1, "method": "admin.whoami"}).to_string()).await;
    assert_eq!(status, 200);
    assert!(serde_json::from_str::<Value>(&text).unwrap()["result"]["tokenInfo"].is_object());
}

#[tokio::test]
async fn http_refusals_keep_their_status() {
    let client = Client::admin();
    let big = format!(
        "{{\"jsonrpc\":\"2.0\",\"method\":\"admin.whoami\",\"id\":1,\"params\":{{\"pad\":\"{}\"}}}}",
        "x".repeat(1024 * 1024)
    );
    assert_eq!(client.post_raw("/jsonRpc", &big).await.0, 413);
    assert_eq!(client.post_raw("/jsonRpc/admin.whoami", &big).await.0, 413);
    let http = reqwest::Client::new();
    let base = &client.base;
    let text =
        http.post(format!("{base}/jsonRpc")).header("content-type", "text/plain").body("{}").send().await.unwrap();
    assert_eq!(text.status(), 415);
    let get = http.get(format!("{base}/jsonRpc")).send().await.unwrap();
    assert_eq!(get.status(), 405);
    assert!(get.headers().get("allow").is_some());
    assert_eq!(http.post(format!("{base}/health")).send().await.unwrap().status(), 405);
    assert_eq!(
        http.post(format!("{base}/elsewhere"))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let health = http.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.json::<Value>().await.unwrap(), json!({"status": "ok"}));
    // JSON-RPC errors are HTTP 200.
    let (status, answer) =
        Client::anonymous().post(&json!({"jsonrpc": "2.0", "id": 1, "method": "admin.whoami"})).await;
    assert_eq!((status, answer["error"]["code"].clone()), (200, json!(-32001)));
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let http = reqwest::Client::new();
    let base = &Client::anonymous().base;
    let preflight = |origin: &'static str| {
        http.request(reqwest::Method::OPTIONS, format!("{base}/jsonRpc"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };
    let allowed = preflight("https://dash.example").await.unwrap();
    assert_eq!(allowed.status(), 204);
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://dash.example");
    assert!(allowed.headers()["access-control-allow-headers"].to_str().unwrap().contains("authorization"));
    assert!(allowed.headers()["access-control-allow-methods"].to_str().unwrap().contains("POST"));
    let refused = preflight("https://evil.example").await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused.headers().get("access-control-allow-origin").is_none());
    let post = |origin: &'static str| {
        http.post(format!("{base}/jsonRpc"))
            .header("origin", origin)
            .header("content-type", "application/json")
            .body(r#"{"jsonrpc":"2.0","id":1,"method":"admin.whoami"}"#)
            .send()
    };
    assert_eq!(
        post("https://dash.example").await.unwrap().headers()["access-control-allow-origin"],
        "https://dash.example"
    );
    assert!(post("https://evil.example").await.unwrap().headers().get("access-control-allow-origin").is_none());
}
