//! The transport, black-box over HTTP: JSON-RPC 2.0 to the letter of the specification (its examples that do not
//! depend on its sample methods), notifications that are executed, ids echoed exactly, the batch limit, the
//! `/jsonRpc/{method}` envelope, `POST /`, HTTP-level refusals, CORS, and HTTP 200 for every JSON-RPC reply
//! (API.md sections 1, 3 and 4).

use std::collections::BTreeMap;
use std::io::{Read, Write};

use reqwest::Method;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::common;

use common::{Client, manager, network, ticket};

/// The body limit of a server started with the default configuration.
const MAX_BODY: usize = 1024 * 1024;

/// The origin the shared server allows.
const ALLOWED_ORIGIN: &str = "https://dash.example";

/// A JSON body as a value; panics with the text when it is not JSON.
fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"))
}

/// Asserts that `answer` is a JSON-RPC 2.0 error response with this code and id; returns its error object.
fn assert_error(answer: &Value, code: i64, id: &Value) -> Value {
    assert_eq!(answer["jsonrpc"], "2.0", "{answer}");
    assert_eq!(answer.get("id"), Some(id), "the id of {answer}");
    assert!(answer.get("result").is_none(), "an error response has no result: {answer}");
    let error = &answer["error"];
    assert_eq!(error["code"], code, "{answer}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "an error has a message: {answer}");
    error.clone()
}

/// Asserts that `answer` is a JSON-RPC 2.0 success response with this id; returns its result.
fn assert_result(answer: &Value, id: &Value) -> Value {
    assert_eq!(answer["jsonrpc"], "2.0", "{answer}");
    assert_eq!(answer.get("id"), Some(id), "the id of {answer}");
    assert!(answer.get("error").is_none(), "a success response has no error: {answer}");
    answer.get("result").cloned().unwrap_or_else(|| panic!("a success response has a result: {answer}"))
}

/// The answers of a batch by their id (as JSON text), checking that no id is answered twice.
fn by_id(answers: &Value) -> BTreeMap<String, Value> {
    let list = answers.as_array().unwrap_or_else(|| panic!("a batch answer is an array: {answers}"));
    let mut map = BTreeMap::new();
    for answer in list {
        let id = answer.get("id").unwrap_or_else(|| panic!("every response has an id: {answer}")).to_string();
        assert!(map.insert(id.clone(), answer.clone()).is_none(), "id {id} answered twice: {answers}");
    }
    map
}

/// The member names of a JSON object, sorted.
fn keys_of(value: &Value) -> Vec<&str> {
    let object = value.as_object().unwrap_or_else(|| panic!("an object: {value}"));
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

/// A JSON-RPC request object.
fn request(method: &str, params: Value, id: Value) -> Value {
    json!({"jsonrpc": "2.0", "method": method, "params": params, "id": id})
}

/// A JSON-RPC notification (no id).
fn notification(method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "method": method, "params": params})
}

/// An HTTP request to the shared server with no headers but those given; the response.
async fn send(method: Method, path: &str, headers: &[(&str, &str)], body: Option<String>) -> reqwest::Response {
    let client = Client::anonymous();
    let mut req = client.http.request(method, format!("{}{path}", client.base));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    if let Some(body) = body {
        req = req.body(body);
    }
    req.send().await.expect("request sent")
}

/// A header of a response as text, if present.
fn header(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers().get(name).map(|v| v.to_str().expect("header is text").to_owned())
}

/// Reads a ticket of the client's network; `None` when it is not found (`-32004`).
async fn find_ticket(client: &Client, product_id: &str) -> Option<Value> {
    match client.call("ticket.getPurchasableTicket", json!({"productId": product_id})).await {
        Ok(found) => Some(found["ticket"].clone()),
        Err(e) if e.code == -32004 => None,
        Err(e) => panic!("reading ticket {product_id}: {e:?}"),
    }
}

/// The number of tickets in the client's network.
async fn ticket_count(client: &Client) -> u64 {
    client.call("ticket.getPurchasableTickets", json!({})).await.expect("tickets listed")["count"]
        .as_u64()
        .expect("count")
}

// ---------------------------------------------------------------------------------------------------------------
// 1. The specification's examples
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn invalid_json_is_a_parse_error_with_a_null_id() {
    let client = Client::anonymous();
    let (status, text) =
        client.post_raw("/jsonRpc", r#"{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]"#).await;
    assert_eq!(status, 200, "{text}");
    assert_error(&parse(&text), -32700, &Value::Null);
}

#[tokio::test]
async fn a_request_object_with_a_non_string_method_is_an_invalid_request() {
    let client = Client::anonymous();
    let (status, text) = client.post_raw("/jsonRpc", r#"{"jsonrpc": "2.0", "method": 1, "params": "bar"}"#).await;
    assert_eq!(status, 200, "{text}");
    assert_error(&parse(&text), -32600, &Value::Null);
}

#[tokio::test]
async fn a_batch_that_is_invalid_json_gets_one_parse_error() {
    let client = Client::anonymous();
    let body = r#"[
        {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
        {"jsonrpc": "2.0", "method"
    ]"#;
    let (status, text) = client.post_raw("/jsonRpc", body).await;
    assert_eq!(status, 200, "{text}");
    let answer = parse(&text);
    assert!(answer.is_object(), "one error object, not an array: {answer}");
    assert_error(&answer, -32700, &Value::Null);
}

#[tokio::test]
async fn an_empty_batch_gets_one_invalid_request_object() {
    let client = Client::anonymous();
    let (status, text) = client.post_raw("/jsonRpc", "[]").await;
    assert_eq!(status, 200, "{text}");
    let answer = parse(&text);
    assert!(answer.is_object(), "one error object, not an array: {answer}");
    assert_error(&answer, -32600, &Value::Null);
}

#[tokio::test]
async fn a_batch_of_one_non_object_gets_an_array_of_one_invalid_request() {
    let client = Client::anonymous();
    let (status, text) = client.post_raw("/jsonRpc", "[1]").await;
    assert_eq!(status, 200, "{text}");
    let answer = parse(&text);
    let list = answer.as_array().unwrap_or_else(|| panic!("an array: {answer}"));
    assert_eq!(list.len(), 1, "{answer}");
    assert_error(&list[0], -32600, &Value::Null);
}

#[tokio::test]
async fn a_batch_of_three_non_objects_gets_three_invalid_requests() {
    let client = Client::anonymous();
    let (status, text) = client.post_raw("/jsonRpc", "[1,2,3]").await;
    assert_eq!(status, 200, "{text}");
    let answer = parse(&text);
    let list = answer.as_array().unwrap_or_else(|| panic!("an array: {answer}"));
    assert_eq!(list.len(), 3, "{answer}");
    for entry in list {
        assert_error(entry, -32600, &Value::Null);
    }
}

#[tokio::test]
async fn a_mixed_batch_answers_every_non_notification_matched_by_id() {
    let net = network("mixed");
    let client = manager(&net).await;
    client.call("ticket.createPurchasableTicket", json!({"ticket": ticket("pre")})).await.unwrap();
    let batch = json!([
        request("ticket.getPurchasableTicket", json!({"productId": "pre"}), json!("1")),
        notification("ticket.createPurchasableTicket", json!({"ticket": ticket("noted")})),
        request("admin.whoami", json!({}), json!("2")),
        {"foo": "boo"},
        request("foo.get", json!({"name": "myself"}), json!("5")),
        {"jsonrpc": "2.0", "method": "get_data", "id": "9"},
    ]);
    let (status, answer) = client.post(&batch).await;
    assert_eq!(status, 200, "{answer}");
    let answers = by_id(&answer);
    let ids: Vec<&str> = answers.keys().map(String::as_str).collect();
    assert_eq!(ids, [r#""1""#, r#""2""#, r#""5""#, r#""9""#, "null"], "one answer per non-notification: {answer}");
    let got = assert_result(&answers[r#""1""#], &json!("1"));
    assert_eq!(got["ticket"]["productId"], "pre", "{answer}");
    let me = assert_result(&answers[r#""2""#], &json!("2"));
    assert_eq!(me["tokenInfo"]["grants"], json!([format!("network.manage@{net}")]), "{answer}");
    assert_error(&answers["null"], -32600, &Value::Null);
    assert_error(&answers[r#""5""#], -32601, &json!("5"));
    assert_error(&answers[r#""9""#], -32601, &json!("9"));
    assert!(find_ticket(&client, "noted").await.is_some(), "the notification in the batch was executed");
}

#[tokio::test]
async fn an_all_notification_batch_gets_204_and_is_executed() {
    let net = network("allnote");
    let client = manager(&net).await;
    let batch = json!([
        notification("ticket.createPurchasableTicket", json!({"ticket": ticket("a")})),
        notification("ticket.createPurchasableTicket", json!({"ticket": ticket("b")})),
        notification("no.suchMethod", json!({})),
    ]);
    let (status, text) = client.post_raw("/jsonRpc", &batch.to_string()).await;
    assert_eq!(status, 204);
    assert_eq!(text, "", "no body for an all-notification batch");
    assert!(find_ticket(&client, "a").await.is_some(), "the first notification was executed");
    assert!(find_ticket(&client, "b").await.is_some(), "the second notification was executed");
    assert_eq!(ticket_count(&client).await, 2);
}

#[tokio::test]
async fn a_lone_notification_gets_204_with_an_empty_body() {
    let net = network("lone");
    let client = manager(&net).await;
    let (status, text) =
        client.post_raw("/jsonRpc", &notification("ticket.getPurchasableTickets", json!({})).to_string()).await;
    assert_eq!((status, text.as_str()), (204, ""));
    // Even a notification that fails is never answered.
    let (status, text) = client.post_raw("/jsonRpc", &notification("no.suchMethod", json!([])).to_string()).await;
    assert_eq!((status, text.as_str()), (204, ""));
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Notifications are executed
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_notification_is_executed() {
    let net = network("notify");
    let client = manager(&net).await;
    assert!(find_ticket(&client, "notified").await.is_none());
    let body = notification("ticket.createPurchasableTicket", json!({"ticket": ticket("notified")}));
    let (status, text) = client.post_raw("/jsonRpc", &body.to_string()).await;
    assert_eq!((status, text.as_str()), (204, ""));
    let stored = find_ticket(&client, "notified").await.expect("the notification created the ticket");
    assert_eq!(stored["productId"], "notified");
    assert_eq!(stored["price"], 99.5);
    assert_eq!(stored["sysVersion"], 1);
}

#[tokio::test]
async fn notifications_inside_a_batch_are_executed() {
    let net = network("batchnote");
    let client = manager(&net).await;
    let batch = json!([
        notification("ticket.createPurchasableTicket", json!({"ticket": ticket("in-batch")})),
        request("admin.whoami", json!({}), json!(1)),
    ]);
    let (status, answer) = client.post(&batch).await;
    assert_eq!(status, 200, "{answer}");
    let answers = by_id(&answer);
    assert_eq!(answers.len(), 1, "only the call is answered: {answer}");
    assert_result(&answers["1"], &json!(1));
    let stored = find_ticket(&client, "in-batch").await.expect("the notification created the ticket");
    assert_eq!(stored["productId"], "in-batch");
}

#[tokio::test]
async fn a_notification_runs_only_as_far_as_its_caller_may() {
    let net = network("notifyguard");
    let owner = manager(&net).await;
    let stranger = manager(&network("notifyother")).await.on(&net);
    let anonymous = Client::anonymous().on(&net);
    for (who, client) in [("without a token", &anonymous), ("another network's manager", &stranger)] {
        let create = |id: &str| notification("ticket.createPurchasableTicket", json!({"ticket": ticket(id)}));
        let (status, text) = client.post_raw("/jsonRpc", &create("alone").to_string()).await;
        assert_eq!((status, text.as_str()), (204, ""), "{who}");
        let batch = json!([create("in-batch"), request("rpc.discover", json!({}), json!(1))]);
        let (status, answer) = client.post(&batch).await;
        assert_eq!((status, by_id(&answer).len()), (200, 1), "{who}: only the call is answered: {answer}");
        let by_path = json!({"jsonrpc": "2.0", "params": {"ticket": ticket("by-path")}}).to_string();
        let (status, text) = client.post_raw("/jsonRpc/ticket.createPurchasableTicket", &by_path).await;
        assert_eq!((status, text.as_str()), (204, ""), "{who}");
        for id in ["alone", "in-batch", "by-path"] {
            assert!(find_ticket(&owner, id).await.is_none(), "{who}: the notification creating {id} was refused");
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Ids
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn ids_are_echoed_exactly() {
    let net = network("ids");
    let client = manager(&net).await;
    for id in
        [json!(-1), json!(0), json!(1), json!(u64::MAX), json!(i64::MIN), json!("abc"), json!(""), json!("é \"q\"")]
    {
        let (status, answer) = client.post(&request("ticket.getPurchasableTickets", json!({}), id.clone())).await;
        assert_eq!(status, 200, "{answer}");
        assert_result(&answer, &id);
        // An error echoes the id just the same.
        let (status, answer) = client.post(&request("no.suchMethod", json!({}), id.clone())).await;
        assert_eq!(status, 200, "{answer}");
        assert_error(&answer, -32601, &id);
    }
}

#[tokio::test]
async fn integer_ids_beyond_64_bits_are_echoed_digit_for_digit() {
    #[derive(serde::Deserialize)]
    struct IdOnly<'a> {
        #[serde(borrow)]
        id: &'a RawValue,
    }
    let net = network("bigid");
    let client = manager(&net).await;
    for id in ["123456789012345678901234567890", "-98765432109876543210987654321"] {
        let body = format!(r#"{{"jsonrpc":"2.0","method":"ticket.getPurchasableTickets","params":{{}},"id":{id}}}"#);
        let (status, text) = client.post_raw("/jsonRpc", &body).await;
        assert_eq!(status, 200, "{text}");
        let answer: IdOnly<'_> = serde_json::from_str(&text).expect("a response with an id");
        assert_eq!(answer.id.get(), id, "{text}");
        assert!(parse(&text).get("result").is_some(), "{text}");
    }
}

#[tokio::test]
async fn a_null_id_is_answered_with_a_null_id() {
    let net = network("nullid");
    let client = manager(&net).await;
    let (status, answer) = client.post(&request("ticket.getPurchasableTickets", json!({}), Value::Null)).await;
    assert_eq!(status, 200, "a request with id null is not a notification");
    let result = assert_result(&answer, &Value::Null);
    assert_eq!(result["count"], 0, "{answer}");
    // Also inside a batch.
    let (status, answer) = client.post(&json!([request("ticket.getPurchasableTickets", json!({}), Value::Null)])).await;
    assert_eq!(status, 200, "{answer}");
    let answers = answer.as_array().unwrap_or_else(|| panic!("an array: {answer}"));
    assert_eq!(answers.len(), 1, "{answer}");
    assert_result(&answers[0], &Value::Null);
}

#[tokio::test]
async fn an_id_of_the_wrong_type_is_an_invalid_request_with_a_null_id() {
    let net = network("badid");
    let client = manager(&net).await;
    for id in [json!({"a": 1}), json!([1]), json!(true)] {
        let (status, answer) = client.post(&request("ticket.getPurchasableTickets", json!({}), id.clone())).await;
        assert_eq!(status, 200, "{answer}");
        assert_error(&answer, -32600, &Value::Null);
    }
    // Refused, hence not executed.
    let (status, answer) =
        client.post(&request("ticket.createPurchasableTicket", json!({"ticket": ticket("x")}), json!({}))).await;
    assert_eq!(status, 200, "{answer}");
    assert_error(&answer, -32600, &Value::Null);
    assert!(find_ticket(&client, "x").await.is_none(), "an invalid request is not executed");
}

// ---------------------------------------------------------------------------------------------------------------
// 4. The batch limit
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_batch_of_100_is_answered_in_full() {
    let net = network("batch100");
    let client = manager(&net).await;
    let batch: Vec<Value> = (0..100).map(|i| request("ticket.getPurchasableTickets", json!({}), json!(i))).collect();
    let (status, answer) = client.post(&Value::Array(batch)).await;
    assert_eq!(status, 200, "{answer}");
    let answers = by_id(&answer);
    assert_eq!(answers.len(), 100);
    for i in 0..100 {
        let one = answers.get(&i.to_string()).unwrap_or_else(|| panic!("id {i} answered"));
        assert_eq!(assert_result(one, &json!(i))["count"], 0);
    }
}

#[tokio::test]
async fn a_batch_of_101_is_refused_whole_and_nothing_runs() {
    let net = network("batch101");
    let client = manager(&net).await;
    let batch: Vec<Value> = (0..101)
        .map(|i| request("ticket.createPurchasableTicket", json!({"ticket": ticket(&format!("t{i}"))}), json!(i)))
        .collect();
    let (status, answer) = client.post(&Value::Array(batch)).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.is_object(), "one error object, not an array: {answer}");
    let error = assert_error(&answer, -32600, &Value::Null);
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("100"), "the message names the limit: {message}");
    assert_eq!(ticket_count(&client).await, 0, "no entry of a refused batch runs");
}

// ---------------------------------------------------------------------------------------------------------------
// 5. POST /jsonRpc/{method}
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn bare_params_success_envelope_is_exact() {
    let net = network("envok");
    let client = manager(&net).await;
    let envelope = client.bare_envelope("ticket.getPurchasableTickets", &json!({})).await;
    assert_eq!(
        envelope,
        json!({"data": {"tickets": [], "count": 0, "nextCursor": null}, "error": {"status": false, "code": 0, "message": ""}})
    );
    let envelope = client.bare_envelope("ticket.createPurchasableTicket", &json!({"ticket": ticket("env")})).await;
    assert_eq!(keys_of(&envelope), ["data", "error"], "{envelope}");
    assert_eq!(envelope["error"], json!({"status": false, "code": 0, "message": ""}));
    assert_eq!(envelope["data"]["ticket"]["productId"], "env");
    assert_eq!(envelope["data"]["ticket"]["sysVersion"], 1);
}

#[tokio::test]
async fn bare_params_invalid_params_envelope_carries_every_error() {
    let net = network("envbad");
    let client = manager(&net).await;
    let mut bad = ticket("bad");
    bad["price"] = json!(-1);
    bad["ticketType"] = json!("weekly");
    let envelope = client.bare_envelope("ticket.createPurchasableTicket", &json!({"ticket": bad})).await;
    assert_eq!(envelope["data"], Value::Null, "{envelope}");
    assert!(envelope.get("data").is_some(), "data is present and null: {envelope}");
    assert_eq!(keys_of(&envelope), ["data", "error"], "{envelope}");
    let error = &envelope["error"];
    assert_eq!(keys_of(error), ["code", "details", "message", "status"], "{envelope}");
    assert_eq!(error["status"], true);
    assert_eq!(error["code"], -32602);
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{envelope}");
    let fields: Vec<&str> = error["details"]["errors"]
        .as_array()
        .expect("details.errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert!(fields.contains(&"ticket.price"), "{envelope}");
    assert!(fields.contains(&"ticket.ticketType"), "every problem, not just the first: {envelope}");
    assert!(find_ticket(&client, "bad").await.is_none());
}

#[tokio::test]
async fn bare_params_not_found_envelope_names_the_resource() {
    let net = network("env404");
    let client = manager(&net).await;
    let envelope = client.bare_envelope("ticket.getPurchasableTicket", &json!({"productId": "ghost"})).await;
    assert_eq!(envelope["data"], Value::Null);
    assert_eq!(envelope["error"]["status"], true);
    assert_eq!(envelope["error"]["code"], -32004);
    assert!(envelope["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{envelope}");
    assert_eq!(envelope["error"]["details"], json!({"resource": "ticket", "id": "ghost"}));
}

#[tokio::test]
async fn bare_params_that_are_an_array_are_never_taken_for_a_request_object() {
    let client = manager(&network("arrayparams")).await;
    for params in [json!(["2.0"]), json!(["2.0", "ticket.deletePurchasableTicket"]), json!(["2.0", "m", {}, 5])] {
        let envelope = client.bare_envelope("ticket.getPurchasableTicket", &params).await;
        assert_eq!(keys_of(&envelope), ["data", "error"], "{params}: {envelope}");
        assert_eq!(envelope["error"]["code"], -32602, "by-position params of the path's method: {params}: {envelope}");
    }
}

#[tokio::test]
async fn bare_params_empty_body_means_no_params() {
    let net = network("envempty");
    let client = manager(&net).await;
    client.bare("ticket.createPurchasableTicket", json!({"ticket": ticket("one")})).await.unwrap();
    for body in ["", "  \n"] {
        let (status, text) = client.post_raw("/jsonRpc/ticket.getPurchasableTickets", body).await;
        assert_eq!(status, 200, "{text}");
        let envelope = parse(&text);
        assert_eq!(envelope["error"], json!({"status": false, "code": 0, "message": ""}), "{text}");
        assert_eq!(envelope["data"]["count"], 1, "{text}");
        assert_eq!(envelope["data"]["tickets"][0]["productId"], "one", "{text}");
    }
}

#[tokio::test]
async fn bare_params_unknown_method_is_an_envelope_with_32601() {
    let net = network("envnomethod");
    let client = manager(&net).await;
    let envelope = client.bare_envelope("ticket.noSuchMethod", &json!({})).await;
    assert_eq!(envelope["data"], Value::Null);
    assert_eq!(envelope["error"]["status"], true);
    assert_eq!(envelope["error"]["code"], -32601);
    assert!(envelope["error"]["message"].as_str().is_some_and(|m| m.contains("ticket.noSuchMethod")), "{envelope}");
    assert_eq!(envelope["error"]["details"]["method"], "ticket.noSuchMethod", "{envelope}");
    assert!(envelope["error"]["details"]["didYouMean"].is_array(), "{envelope}");
}

#[tokio::test]
async fn a_misspelt_method_is_named_and_the_nearest_ones_offered() {
    let net = network("typo");
    let client = manager(&net).await;
    for (asked, nearest) in [
        ("ticket.createPurchaseableTicket", "ticket.createPurchasableTicket"),
        ("registration.serach", "registration.search"),
        ("ticket.whoami", "admin.whoami"),
    ] {
        let (_, answer) = client.post(&json!({"jsonrpc": "2.0", "id": 1, "method": asked, "params": {}})).await;
        let error = &answer["error"];
        assert_eq!(error["code"], -32601, "{answer}");
        assert_eq!(error["data"]["method"], asked, "{answer}");
        assert_eq!(error["data"]["didYouMean"][0], nearest, "{answer}");
        let message = error["message"].as_str().unwrap_or_default();
        assert!(message.contains(asked) && message.contains(nearest), "{message}");
    }
    // Nothing near: named, nothing offered.
    let (_, answer) = client.post(&json!({"jsonrpc": "2.0", "id": 1, "method": "inventory.count", "params": {}})).await;
    assert_eq!(answer["error"]["data"], json!({"method": "inventory.count", "didYouMean": []}), "{answer}");
}

#[tokio::test]
async fn bare_params_invalid_json_is_an_envelope_with_32700() {
    let net = network("envparse");
    let client = manager(&net).await;
    let (status, text) = client.post_raw("/jsonRpc/ticket.createPurchasableTicket", r#"{"ticket": {"#).await;
    assert_eq!(status, 200, "{text}");
    let envelope = parse(&text);
    assert_eq!(envelope["data"], Value::Null, "{text}");
    assert_eq!(envelope["error"]["status"], true, "{text}");
    assert_eq!(envelope["error"]["code"], -32700, "{text}");
    assert!(envelope.get("jsonrpc").is_none(), "an envelope, not a JSON-RPC response: {text}");
}

#[tokio::test]
async fn bare_params_without_a_token_is_an_envelope_with_32001() {
    let envelope = Client::anonymous().bare_envelope("ticket.getPurchasableTickets", &json!({})).await;
    assert_eq!(envelope["data"], Value::Null);
    assert_eq!(envelope["error"]["status"], true);
    assert_eq!(envelope["error"]["code"], -32001);
}

#[tokio::test]
async fn method_path_with_a_request_object_answers_in_json_rpc() {
    let net = network("pathreq");
    let client = manager(&net).await;
    let body = request("ticket.getPurchasableTickets", json!({}), json!(7));
    let (status, text) = client.post_raw("/jsonRpc/ticket.getPurchasableTickets", &body.to_string()).await;
    assert_eq!(status, 200, "{text}");
    let answer = parse(&text);
    assert!(answer.get("data").is_none(), "a JSON-RPC response, not an envelope: {text}");
    assert_eq!(answer, json!({"jsonrpc": "2.0", "id": 7, "result": {"tickets": [], "count": 0, "nextCursor": null}}));
}

#[tokio::test]
async fn method_path_with_a_request_object_for_another_method_is_invalid() {
    let net = network("pathmismatch");
    let client = manager(&net).await;
    let body = request("ticket.createPurchasableTicket", json!({"ticket": ticket("other")}), json!(8));
    let (status, text) = client.post_raw("/jsonRpc/ticket.getPurchasableTickets", &body.to_string()).await;
    assert_eq!(status, 200, "{text}");
    assert_error(&parse(&text), -32600, &json!(8));
    assert!(find_ticket(&client, "other").await.is_none(), "the refused request did not run");
}

#[tokio::test]
async fn method_path_with_a_request_object_without_method_uses_the_path() {
    let net = network("pathnomethod");
    let client = manager(&net).await;
    client.call("ticket.createPurchasableTicket", json!({"ticket": ticket("p")})).await.unwrap();
    let body = json!({"jsonrpc": "2.0", "params": {"productId": "p"}, "id": 9});
    let (status, text) = client.post_raw("/jsonRpc/ticket.getPurchasableTicket", &body.to_string()).await;
    assert_eq!(status, 200, "{text}");
    let result = assert_result(&parse(&text), &json!(9));
    assert_eq!(result["ticket"]["productId"], "p", "{text}");
}

#[tokio::test]
async fn method_path_with_a_request_object_without_id_is_a_notification() {
    let net = network("pathnote");
    let client = manager(&net).await;
    let body = notification("ticket.createPurchasableTicket", json!({"ticket": ticket("path-noted")}));
    let (status, text) = client.post_raw("/jsonRpc/ticket.createPurchasableTicket", &body.to_string()).await;
    assert_eq!((status, text.as_str()), (204, ""));
    assert!(find_ticket(&client, "path-noted").await.is_some(), "the notification was executed");
}

// ---------------------------------------------------------------------------------------------------------------
// 6. POST /
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn post_root_works_like_post_json_rpc() {
    let net = network("root");
    let client = manager(&net).await;
    let body = request("ticket.createPurchasableTicket", json!({"ticket": ticket("r1")}), json!("c"));
    let (status, text) = client.post_raw("/", &body.to_string()).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(assert_result(&parse(&text), &json!("c"))["ticket"]["productId"], "r1");
    let batch = json!([
        request("ticket.getPurchasableTicket", json!({"productId": "r1"}), json!(1)),
        request("no.such", json!({}), json!(2)),
        1,
    ]);
    let (status, text) = client.post_raw("/", &batch.to_string()).await;
    assert_eq!(status, 200, "{text}");
    let answers = by_id(&parse(&text));
    assert_eq!(answers.len(), 3, "{text}");
    assert_eq!(assert_result(&answers["1"], &json!(1))["ticket"]["productId"], "r1");
    assert_error(&answers["2"], -32601, &json!(2));
    assert_error(&answers["null"], -32600, &Value::Null);
    let note = notification("ticket.createPurchasableTicket", json!({"ticket": ticket("r2")}));
    let (status, text) = client.post_raw("/", &note.to_string()).await;
    assert_eq!((status, text.as_str()), (204, ""));
    assert!(find_ticket(&client, "r2").await.is_some());
    let (status, text) = client.post_raw("/", "[]").await;
    assert_eq!(status, 200);
    assert_error(&parse(&text), -32600, &Value::Null);
    let (status, text) = client.post_raw("/", "{").await;
    assert_eq!(status, 200);
    assert_error(&parse(&text), -32700, &Value::Null);
}

// ---------------------------------------------------------------------------------------------------------------
// 7. HTTP refusals
// ---------------------------------------------------------------------------------------------------------------

/// A valid request padded with leading whitespace to exactly `len` bytes.
fn padded_request(len: usize) -> String {
    let call = request("ticket.getPurchasableTickets", json!({}), json!(1)).to_string();
    format!("{}{call}", " ".repeat(len - call.len()))
}

#[tokio::test]
async fn a_body_of_exactly_the_limit_is_accepted() {
    let net = network("maxbody");
    let client = manager(&net).await;
    let body = padded_request(MAX_BODY);
    assert_eq!(body.len(), MAX_BODY);
    let (status, text) = client.post_raw("/jsonRpc", &body).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(assert_result(&parse(&text), &json!(1))["count"], 0);
}

#[tokio::test]
async fn a_post_asking_to_upgrade_is_still_a_json_rpc_call() {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "admin.whoami"}).to_string();
    let head = format!(
        "POST /jsonRpc HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAuthorization: Bearer {}\r\n\
         Content-Length: {}\r\nConnection: Upgrade, close\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        common::ADMIN,
        body.len()
    );
    let (status, text) = raw_http(head, vec![body.into_bytes()]).await;
    assert_eq!(status, 200, "{text}");
    let answer = parse(text.split_once("\r\n\r\n").map_or("", |(_, body)| body));
    assert_eq!(assert_result(&answer, &json!(1))["tokenInfo"]["name"], "bootstrap", "{answer}");
}

/// Sends raw HTTP/1.1 over a plain socket: `head` (ending in a blank line), then the body in `pieces`; the status and
/// the whole answer as text. A write that fails after the server has answered and closed is expected and ignored.
async fn raw_http(head: String, pieces: Vec<Vec<u8>>) -> (u16, String) {
    let addr = common::shared().addr;
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).expect("read timeout set");
        stream.write_all(head.as_bytes()).expect("head written");
        for piece in pieces {
            if stream.write_all(&piece).is_err() {
                break;
            }
        }
        let mut answer = Vec::new();
        // What was read before an error (a reset after the answer) is kept.
        let _ = stream.read_to_end(&mut answer);
        let text = String::from_utf8_lossy(&answer).into_owned();
        let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok());
        (status.unwrap_or_else(|| panic!("a status line: {text:?}")), text)
    })
    .await
    .expect("raw request")
}

/// The head of a raw POST with these framing headers.
fn raw_head(path: &str, framing: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n{framing}\r\nConnection: close\r\n\r\n"
    )
}

/// `body` as HTTP/1.1 chunks of at most 64 KiB, without the last (empty) chunk.
fn chunks(body: &[u8]) -> Vec<Vec<u8>> {
    body.chunks(64 * 1024)
        .map(|c| {
            let mut piece = format!("{:x}\r\n", c.len()).into_bytes();
            piece.extend_from_slice(c);
            piece.extend_from_slice(b"\r\n");
            piece
        })
        .collect()
}

/// POSTs `body` in full with a Content-Length, as an ordinary HTTP client does, and asserts that the client reads
/// a 413 rather than a failed connection.
async fn assert_413(client: &Client, path: &str, body: &str) {
    let sent = client
        .http
        .post(format!("{}{path}", client.base))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await;
    match sent {
        Ok(resp) => assert_eq!(resp.status(), 413, "{} bytes to {path}", body.len()),
        Err(e) => panic!("{} bytes to {path}: no HTTP answer, the connection failed instead: {e:?}", body.len()),
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let client = Client::anonymous();
    for size in [MAX_BODY + 1, 2 * MAX_BODY] {
        let body = padded_request(size);
        for path in ["/jsonRpc", "/", "/jsonRpc/ticket.getPurchasableTickets"] {
            assert_413(&client, path, &body).await;
        }
    }
}

#[tokio::test]
async fn a_chunked_body_is_limited_to_1_mib() {
    for path in ["/jsonRpc", "/jsonRpc/ticket.getPurchasableTickets"] {
        // Exactly the limit: served (a JSON-RPC answer; a body this large needs a token, API.md section 12).
        let framing =
            format!("Transfer-Encoding: chunked\r\nAuthorization: Bearer {}\r\nX-Network-Id: chunked", common::ADMIN);
        let mut pieces = chunks(padded_request(MAX_BODY).as_bytes());
        pieces.push(b"0\r\n\r\n".to_vec());
        let (status, text) = raw_http(raw_head(path, &framing), pieces).await;
        assert_eq!(status, 200, "{path}: {text}");
        assert!(text.contains("\"count\":0"), "{path}: {text}");
        // One byte more: refused. The last byte and the end of the body go in one write, so that the server has
        // read everything sent when it answers.
        let mut pieces = chunks(padded_request(MAX_BODY).as_bytes());
        pieces.push(b"1\r\n \r\n0\r\n\r\n".to_vec());
        let (status, text) = raw_http(raw_head(path, &framing), pieces).await;
        assert_eq!(status, 413, "{path}: {text}");
    }
}

#[tokio::test]
async fn a_client_that_sends_a_very_large_body_in_full_reads_the_413() {
    // API.md: "413 body too large", whatever the size sent.
    let client = Client::anonymous();
    let body = padded_request(8 * MAX_BODY);
    for path in ["/jsonRpc", "/jsonRpc/ticket.getPurchasableTickets"].repeat(2) {
        assert_413(&client, path, &body).await;
    }
}

#[tokio::test]
async fn a_body_that_is_not_json_by_content_type_is_415() {
    let net = network("ctype");
    let client = manager(&net).await;
    let body = request("ticket.getPurchasableTickets", json!({}), json!(1)).to_string();
    for path in ["/jsonRpc", "/", "/jsonRpc/ticket.getPurchasableTickets"] {
        let resp = client
            .http
            .post(format!("{}{path}", client.base))
            .bearer_auth(client.token.as_deref().unwrap())
            .header("x-network-id", &net)
            .header("content-type", "text/plain")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 415, "{path}");
    }
    // The same body as JSON, with a charset, is served.
    let resp = client
        .http
        .post(format!("{}/jsonRpc", client.base))
        .bearer_auth(client.token.as_deref().unwrap())
        .header("x-network-id", &net)
        .header("content-type", "application/json; charset=utf-8")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let answer: Value = resp.json().await.unwrap();
    assert_result(&answer, &json!(1));
}

#[tokio::test]
async fn a_wrong_http_method_is_405_with_allow() {
    for (method, path) in
        [(Method::GET, "/jsonRpc"), (Method::GET, "/"), (Method::PUT, "/jsonRpc/ticket.getPurchasableTickets")]
    {
        let resp = send(method.clone(), path, &[], None).await;
        assert_eq!(resp.status(), 405, "{method} {path}");
        let allow = header(&resp, "allow").unwrap_or_else(|| panic!("{method} {path}: an Allow header"));
        assert!(allow.contains("POST"), "{method} {path}: Allow: {allow}");
    }
    let resp = send(Method::POST, "/health", &[("content-type", "application/json")], Some("{}".into())).await;
    assert_eq!(resp.status(), 405);
    let allow = header(&resp, "allow").expect("an Allow header");
    assert!(allow.contains("GET"), "Allow: {allow}");
}

#[tokio::test]
async fn an_unknown_path_is_404() {
    for (method, path) in [
        (Method::POST, "/nope"),
        (Method::GET, "/nope"),
        (Method::POST, "/jsonRpc/ticket/getPurchasableTickets"),
        (Method::POST, "/health/x"),
    ] {
        let body = request("ticket.getPurchasableTickets", json!({}), json!(1)).to_string();
        let resp = send(method.clone(), path, &[("content-type", "application/json")], Some(body)).await;
        assert_eq!(resp.status(), 404, "{method} {path}");
    }
}

#[tokio::test]
async fn health_is_200_ok() {
    let resp = send(Method::GET, "/health", &[], None).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(parse(&resp.text().await.unwrap()), json!({"status": "ok"}));
}

// ---------------------------------------------------------------------------------------------------------------
// 8. CORS
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_preflight_from_an_allowed_origin_is_answered() {
    let resp = send(
        Method::OPTIONS,
        "/jsonRpc",
        &[
            ("origin", ALLOWED_ORIGIN),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "authorization, content-type, x-network-id"),
        ],
        None,
    )
    .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(header(&resp, "access-control-allow-origin").as_deref(), Some(ALLOWED_ORIGIN));
    let methods = header(&resp, "access-control-allow-methods").expect("allow-methods").to_ascii_uppercase();
    assert!(methods.contains("POST"), "allow-methods: {methods}");
    let headers = header(&resp, "access-control-allow-headers").expect("allow-headers").to_ascii_lowercase();
    for needed in ["authorization", "content-type", "x-network-id", "x-session-id"] {
        assert!(headers.contains(needed), "allow-headers has {needed}: {headers}");
    }
    assert!(resp.text().await.unwrap().is_empty(), "a 204 has no body");
}

#[tokio::test]
async fn a_preflight_from_another_origin_is_refused() {
    for origin in [Some("https://evil.example"), Some("https://dash.example.evil"), None] {
        let mut headers = vec![("access-control-request-method", "POST")];
        if let Some(o) = origin {
            headers.push(("origin", o));
        }
        let resp = send(Method::OPTIONS, "/jsonRpc", &headers, None).await;
        let status = resp.status();
        assert_eq!(header(&resp, "access-control-allow-origin"), None, "{origin:?}");
        assert_eq!(header(&resp, "access-control-allow-methods"), None, "{origin:?}");
        if let Some(origin) = origin {
            assert_eq!(status, 403, "{origin:?}");
            // The refusal names the origin and the flag that would allow it.
            let body: Value = resp.json().await.expect("a JSON refusal");
            let message = body["error"]["message"].as_str().unwrap_or_default();
            assert!(message.contains(origin) && message.contains("--cors-origin"), "{message}");
        }
    }
}

#[tokio::test]
async fn without_an_allowed_origin_preflights_are_refused_by_name_and_answers_carry_no_cors_headers() {
    let server = common::launch(|c| c.cors_origins = Vec::new()).await;
    let admin = server.admin();
    let origin = "https://dash.example";
    let preflight = admin
        .http
        .request(Method::OPTIONS, format!("{}/jsonRpc", admin.base))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .send()
        .await
        .expect("preflight sent");
    assert_eq!(preflight.status(), 403);
    assert_eq!(header(&preflight, "access-control-allow-origin"), None);
    let body: Value = preflight.json().await.expect("a JSON refusal");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(origin) && message.contains("--cors-origin"), "{message}");
    // A cross-origin POST is still served (CORS binds browsers, not the server), with nothing that lets a browser
    // read it.
    let whoami = json!({"jsonrpc": "2.0", "id": 1, "method": "admin.whoami"}).to_string();
    let answer = admin.request("/jsonRpc").header("origin", origin).body(whoami).send().await.expect("POST sent");
    assert_eq!(answer.status(), 200);
    assert_eq!(header(&answer, "access-control-allow-origin"), None);
    let answer: Value = answer.json().await.expect("JSON");
    assert_eq!(answer["result"]["tokenInfo"]["name"], "bootstrap", "{answer}");
}

#[tokio::test]
async fn every_answer_carries_a_request_id_the_clients_or_a_new_one() {
    let client = manager(&network("reqid")).await;
    let whoami = json!({"jsonrpc": "2.0", "id": 1, "method": "admin.whoami"}).to_string();
    let id_of = |resp: &reqwest::Response| {
        resp.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned).expect("x-request-id")
    };
    let sent = client.request("/jsonRpc").header("x-request-id", "dash-42.a").body(whoami.clone()).send().await;
    assert_eq!(id_of(&sent.unwrap()), "dash-42.a", "the client's id is echoed");
    let (a, b) = (
        client.request("/jsonRpc").body(whoami.clone()).send().await.unwrap(),
        client.request("/jsonRpc").body(whoami.clone()).send().await.unwrap(),
    );
    let (a, b) = (id_of(&a), id_of(&b));
    assert!(!a.is_empty() && a != b, "a new id for each request without one: {a} {b}");
    // One that is too long, or not visible ASCII, is replaced.
    let long = "x".repeat(129);
    for unusable in [long.as_str(), "has space"] {
        let resp = client.request("/jsonRpc").header("x-request-id", unusable).body(whoami.clone()).send().await;
        let made = id_of(&resp.unwrap());
        assert!(made != unusable && !made.is_empty(), "{unusable} -> {made}");
    }
    // HTTP-level refusals carry it too.
    let refused = client.request("/nowhere").header("x-request-id", "lost-1").body("{}").send().await.unwrap();
    assert_eq!((refused.status().as_u16(), id_of(&refused)), (404, "lost-1".to_owned()));
}

#[tokio::test]
async fn a_post_carries_allow_origin_only_for_an_allowed_origin() {
    let net = network("corspost");
    let client = manager(&net).await;
    let token = client.token.clone().unwrap();
    let body = request("ticket.getPurchasableTickets", json!({}), json!(1)).to_string();
    let auth = format!("Bearer {token}");
    let base = [("content-type", "application/json"), ("authorization", auth.as_str()), ("x-network-id", net.as_str())];
    let with = |origin: &'static str| {
        let mut h = base.to_vec();
        h.push(("origin", origin));
        h
    };
    let resp = send(Method::POST, "/jsonRpc", &with(ALLOWED_ORIGIN), Some(body.clone())).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "access-control-allow-origin").as_deref(), Some(ALLOWED_ORIGIN));
    assert_result(&resp.json().await.unwrap(), &json!(1));
    let resp = send(Method::POST, "/jsonRpc", &with("https://evil.example"), Some(body.clone())).await;
    assert_eq!(resp.status(), 200, "CORS is the browser's to enforce; the call is still served");
    assert_eq!(header(&resp, "access-control-allow-origin"), None);
    assert_result(&resp.json().await.unwrap(), &json!(1));
    let resp = send(Method::POST, "/jsonRpc", &base, Some(body)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "access-control-allow-origin"), None, "no Origin, no allow-origin");
}

// ---------------------------------------------------------------------------------------------------------------
// 9. Every JSON-RPC reply is HTTP 200
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn json_rpc_errors_are_http_200() {
    let anonymous = Client::anonymous().on(&network("noauth"));
    let (status, answer) = anonymous.post(&request("ticket.getPurchasableTickets", json!({}), json!(1))).await;
    assert_eq!(status, 200, "{answer}");
    assert_error(&answer, -32001, &json!(1));
    let (status, answer) =
        Client::anonymous().with_token("ta_unknown").post(&request("admin.whoami", json!({}), json!(2))).await;
    assert_eq!(status, 200, "{answer}");
    assert_error(&answer, -32001, &json!(2));
    // A token for one network acting on another.
    let mine = manager(&network("mine")).await;
    let theirs = network("theirs");
    let (status, answer) =
        mine.clone().on(&theirs).post(&request("ticket.getPurchasableTickets", json!({}), json!(3))).await;
    assert_eq!(status, 200, "{answer}");
    let error = assert_error(&answer, -32003, &json!(3));
    assert_eq!(error["data"]["networkId"], theirs.as_str());
    let (status, answer) =
        mine.post(&request("ticket.getPurchasableTicket", json!({"productId": "none"}), json!(4))).await;
    assert_eq!(status, 200, "{answer}");
    assert_error(&answer, -32004, &json!(4));
    let (status, answer) = mine.post(&request("ticket.getPurchasableTicket", json!({"nope": 1}), json!(5))).await;
    assert_eq!(status, 200, "{answer}");
    assert_error(&answer, -32602, &json!(5));
}
