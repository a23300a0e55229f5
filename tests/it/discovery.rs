//! Discovery, black-box over HTTP, held to API.md section 13: `rpc.discover` and `GET /openrpc.json` answer one
//! OpenRPC document without a token; it describes exactly the methods the server serves; the OpenRPC project's own
//! validator accepts it; and every method's example, played against a live server, is accepted by the method's
//! params schema and answered with a result its result schema accepts (as `@open-rpc/test-coverage` does).

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use common::Client;
use serde_json::{Value, json};

/// The examples that remove what later examples use run last, in this order.
const LAST: &[&str] = &[
    "functionTicket.batch",
    "functionTicket.delete",
    "registration.batch",
    "registration.delete",
    "ticket.deletePurchasableTicket",
    "admin.revokeToken",
];

/// The document, as `GET /openrpc.json` serves it.
async fn document(base: &str) -> Value {
    let response = reqwest::get(format!("{base}/openrpc.json")).await.expect("GET /openrpc.json");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().expect("content type").to_owned();
    assert!(content_type.starts_with("application/json"), "{content_type}");
    response.json().await.expect("JSON document")
}

#[tokio::test]
async fn rpc_discover_and_openrpc_json_answer_one_document_of_every_served_method_without_a_token() {
    let anonymous = Client::anonymous();
    let served = document(&anonymous.base).await;
    let discovered = anonymous.call("rpc.discover", json!({})).await.expect("rpc.discover without a token");
    assert_eq!(discovered, served);
    // Bare params, and no params at all, are the same call.
    assert_eq!(anonymous.bare("rpc.discover", json!({})).await.expect("bare form"), served);
    let (status, text) = anonymous.post_raw("/jsonRpc", r#"{"jsonrpc":"2.0","id":7,"method":"rpc.discover"}"#).await;
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&text).expect("answer")["result"], served);
    // Params it does not take are refused, as any method's are.
    let refused = anonymous.call("rpc.discover", json!({"verbose": true})).await.expect_err("unknown member");
    assert_eq!(refused.code, -32602);

    assert_eq!(served["openrpc"], "1.3.2");
    let names: BTreeSet<&str> =
        served["methods"].as_array().expect("methods").iter().filter_map(|m| m["name"].as_str()).collect();
    let table: BTreeSet<&str> = ticket_admin::rpc::methods::METHODS.iter().map(|m| m.name).collect();
    assert_eq!(names, table);
    // Each method the document names is served: calling it is never "method not found".
    for name in &names {
        let answer = anonymous.call(name, json!({})).await;
        assert!(answer.as_ref().err().is_none_or(|e| e.code != -32601), "{name}: {answer:?}");
    }
    let (status, _) = anonymous.post_raw("/openrpc.json", "{}").await;
    assert_eq!(status, 405, "the document is read with GET");
}

/// The OpenRPC project's validator (`tools/openrpc`, installed by `npm ci` there, as `.ci/run` does) accepts the
/// document. Skipped where it is not installed, unless `TICKET_ADMIN_REQUIRE_OPENRPC_VALIDATOR` is set (CI).
#[tokio::test]
async fn the_openrpc_projects_validator_accepts_the_document() {
    let tools = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/openrpc");
    let installed = std::path::Path::new(tools).join("node_modules/@open-rpc/schema-utils-js").is_dir();
    if !installed {
        assert!(
            std::env::var_os("TICKET_ADMIN_REQUIRE_OPENRPC_VALIDATOR").is_none(),
            "TICKET_ADMIN_REQUIRE_OPENRPC_VALIDATOR is set but tools/openrpc has no node_modules: run npm ci there"
        );
        eprintln!("the OpenRPC validator is not installed (npm ci in tools/openrpc): skipped");
        return;
    }
    let served = document(&Client::anonymous().base).await;
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("openrpc.json");
    std::fs::write(&path, served.to_string()).expect("document written");
    let run = tokio::process::Command::new("node")
        .arg(format!("{tools}/validate.mjs"))
        .arg(&path)
        .output()
        .await
        .expect("node runs");
    let said = format!("{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    assert!(run.status.success(), "the validator refused the document: {said}");
    let count = ticket_admin::rpc::methods::METHODS.len();
    assert!(said.contains(&format!("{count} methods")), "{said}");

    // The validator can fail: a method whose name is not a string is refused.
    let mut broken = served.clone();
    broken["methods"][0]["name"] = json!(42);
    std::fs::write(&path, broken.to_string()).expect("document written");
    let run = tokio::process::Command::new("node").arg(format!("{tools}/validate.mjs")).arg(&path).output().await;
    assert!(!run.expect("node runs").status.success(), "a method named by a number must be refused");
}

/// A validator of `schema` whose `$ref`s resolve into the document's components.
fn validator(schema: &Value, document: &Value) -> jsonschema::Validator {
    let whole = json!({"components": document["components"], "allOf": [schema]});
    jsonschema::draft7::new(&whole).unwrap_or_else(|e| panic!("a valid schema: {e}: {schema}"))
}

/// What `validator` finds wrong with `value`, one line each.
fn problems(validator: &jsonschema::Validator, value: &Value) -> Vec<String> {
    validator.iter_errors(value).map(|e| format!("{} at {}", e, e.instance_path())).collect()
}

/// The schema of a method's params object, from its by-name params.
fn params_schema(method: &Value) -> Value {
    let mut properties = serde_json::Map::new();
    let mut required = Vec::new();
    for param in method["params"].as_array().expect("params") {
        let name = param["name"].as_str().expect("param name");
        properties.insert(name.to_owned(), param["schema"].clone());
        if param["required"] == true {
            required.push(name);
        }
    }
    json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
}

/// Members whose values the server makes at the time of the call (times, the ids of tokens, secrets, counters of
/// the whole server): an example shows their form, not the value a live call gets.
const MADE_LIVE: &[&str] = &[
    "sysCreatedAt",
    "sysLastModifiedAt",
    "sysCreatedById",
    "sysLastModifiedById",
    "token",
    "createdAt",
    "commits",
    "calls",
    "version",
];

/// The written answer is the live one: every member it has, with the same value (arrays item by item, as long),
/// except the values made live ([`MADE_LIVE`]) and the ids the server made, which stand for the live ones (`ids`).
fn same_answer(written: &Value, live: &Value, at: &str, ids: &BTreeMap<String, String>) -> Result<(), String> {
    match (written, live) {
        (Value::Object(w), Value::Object(l)) => w.iter().try_for_each(|(k, v)| match l.get(k) {
            None => Err(format!("{at}/{k} is in the example but not in the answer")),
            Some(_) if MADE_LIVE.contains(&k.as_str()) => Ok(()),
            Some(lv) => same_answer(v, lv, &format!("{at}/{k}"), ids),
        }),
        (Value::Array(w), Value::Array(l)) if w.len() == l.len() => {
            w.iter().zip(l).enumerate().try_for_each(|(n, (wv, lv))| same_answer(wv, lv, &format!("{at}/{n}"), ids))
        }
        (Value::String(w), Value::String(l)) if ids.get(w) == Some(l) || w == l => Ok(()),
        (Value::Number(w), Value::Number(l)) if w.as_f64() == l.as_f64() => Ok(()),
        (w, l) if w == l => Ok(()),
        (w, l) => Err(format!("{at} is {w} in the example but {l} in the answer")),
    }
}

/// The members that hold an id the server made: a record's, an order's, an order line's.
const MADE_IDS: &[&str] = &["id", "orderId", "lineItemId"];

/// Learns the ids the server made: where the written answer has an id ([`MADE_IDS`]) the live one differs in, the
/// written id stands for the live one from now on (the first one seen wins).
fn learn_ids(written: &Value, live: &Value, ids: &mut BTreeMap<String, String>) {
    match (written, live) {
        (Value::Object(w), Value::Object(l)) => {
            for (k, wv) in w {
                let Some(lv) = l.get(k) else { continue };
                if let (true, Some(ws), Some(ls)) = (MADE_IDS.contains(&k.as_str()), wv.as_str(), lv.as_str())
                    && ws != ls
                {
                    ids.entry(ws.to_owned()).or_insert_with(|| ls.to_owned());
                }
                learn_ids(wv, lv, ids);
            }
        }
        (Value::Array(w), Value::Array(l)) => w.iter().zip(l).for_each(|(wv, lv)| learn_ids(wv, lv, ids)),
        _ => {}
    }
}

/// The example's params with the written ids replaced by the live ones.
fn with_live_ids(value: &Value, ids: &BTreeMap<String, String>) -> Value {
    match value {
        Value::String(s) => Value::String(ids.get(s).cloned().unwrap_or_else(|| s.clone())),
        Value::Array(items) => Value::Array(items.iter().map(|v| with_live_ids(v, ids)).collect()),
        Value::Object(members) => {
            Value::Object(members.iter().map(|(k, v)| (k.clone(), with_live_ids(v, ids))).collect())
        }
        other => other.clone(),
    }
}

#[tokio::test]
async fn every_example_is_valid_and_its_live_answer_matches_the_result_schema() {
    let server = common::launch(|_| {}).await;
    let admin = server.admin();
    let document = document(&admin.base).await;
    let mut methods: Vec<&Value> = document["methods"].as_array().expect("methods").iter().collect();
    let rank = |m: &&Value| LAST.iter().position(|n| m["name"] == *n);
    methods.sort_by_key(rank);

    let mut ids = BTreeMap::new();
    let mut played = 0;
    for method in methods {
        let name = method["name"].as_str().expect("name");
        let example = &method["examples"][0];
        let params: serde_json::Map<String, Value> = example["params"]
            .as_array()
            .expect("example params")
            .iter()
            .map(|p| (p["name"].as_str().expect("param name").to_owned(), p["value"].clone()))
            .collect();
        let params = Value::Object(params);
        let params_validator = validator(&params_schema(method), &document);
        let wrong = problems(&params_validator, &params);
        assert!(wrong.is_empty(), "{name}: the example's params break its params schema: {wrong:?}");

        let result_validator = validator(&method["result"]["schema"], &document);
        let written = &example["result"]["value"];
        let wrong = problems(&result_validator, written);
        assert!(wrong.is_empty(), "{name}: the example's answer breaks its result schema: {wrong:?}");

        let live = admin
            .call(name, with_live_ids(&params, &ids))
            .await
            .unwrap_or_else(|e| panic!("{name}: the example's call failed: {e:?}"));
        let wrong = problems(&result_validator, &live);
        assert!(wrong.is_empty(), "{name}: the live answer breaks the result schema: {wrong:?}\n{live}");
        learn_ids(written, &live, &mut ids);
        if name != "rpc.discover" {
            same_answer(written, &live, "", &ids).unwrap_or_else(|e| panic!("{name}: {e}\n{live}"));
        }
        played += 1;
    }
    assert_eq!(played, ticket_admin::rpc::methods::METHODS.len());

    // The schemas can refuse: a ticket without its price, and an answer missing its ticket.
    let create =
        document["methods"].as_array().expect("methods").iter().find(|m| m["name"] == "ticket.createPurchasableTicket");
    let create = create.expect("ticket.createPurchasableTicket");
    let mut params = json!({"ticket": create["examples"][0]["params"][1]["value"].clone()});
    params["ticket"].as_object_mut().expect("ticket").remove("price");
    assert!(!problems(&validator(&params_schema(create), &document), &params).is_empty());
    assert!(!problems(&validator(&create["result"]["schema"], &document), &json!({"tickets": []})).is_empty());
    server.stop().await;
}

/// Where the params schema and the server could part ways (the handlers read params with the server's own reader,
/// not through the schema's types), they agree: a call the schema refuses the server refuses with `-32602`, one it
/// takes the server takes, and the answer of each taken call is one the result schema accepts.
#[tokio::test]
async fn the_schemas_and_the_server_agree_at_the_edges() {
    let server = common::launch(|_| {}).await;
    let admin = server.admin();
    let document = document(&admin.base).await;
    let net = common::network("edges");
    let manager = admin.clone().on(&net);
    manager.call("ticket.createPurchasableTicket", json!({"ticket": common::ticket("vip")})).await.expect("ticket");
    let made = common::create_registration(&manager, common::registration("c-edge")).await.expect("registration");
    let id = made["id"].clone();
    let long_token_id = "t".repeat(101);
    let cases = [
        // An e-mail address the server's own check takes, which a strict `format: email` would not.
        (
            "registration.create",
            json!({"registration": with_member(common::registration("c-mail"), "emailAddress", json!("ada@example..com"))}),
            true,
        ),
        // Operations of a batch that name no id, or a number: each refused in its own result, the id as sent.
        ("registration.batch", json!({"operations": [{"op": "delete", "id": "no-such-id"}]}), true),
        ("registration.patch", json!({"id": id, "patch": []}), true),
        ("registration.update", json!({"registration": common::registration("c-edge")}), false),
        ("registration.detectSchedulingConflicts", json!({"registration": {"sessions": [{"id": "s1"}]}}), true),
        ("admin.setNetworkLimits", json!({"networkId": net, "maxTickets": 1_000_000_001}), false),
        ("admin.setNetworkLimits", json!({"networkId": net, "maxTickets": 1_000_000_000}), true),
        ("admin.revokeToken", json!({"tokenId": long_token_id}), false),
        // A record's unknown member is refused by both; what the server made, sent back as read, is taken by both.
        (
            "registration.create",
            json!({"registration": with_member(common::registration("c-x"), "nmae", json!("A"))}),
            false,
        ),
        (
            "ticket.createPurchasableTicket",
            json!({"ticket": with_member(common::ticket("x"), "prize", json!(1))}),
            false,
        ),
        (
            "functionTicket.create",
            json!({"functionTicket": with_member(common::seat("f1", "c-x"), "seat", json!(4))}),
            false,
        ),
        ("registration.create", json!({"registration": sent_back(common::registration("c-back"))}), true),
        ("ticket.createPurchasableTicket", json!({"ticket": sent_back(common::ticket("back"))}), true),
        ("functionTicket.create", json!({"functionTicket": sent_back(common::seat("f1", "c-back"))}), true),
    ];
    for (name, params, taken) in cases {
        let method = document["methods"].as_array().expect("methods").iter().find(|m| m["name"] == name);
        let method = method.unwrap_or_else(|| panic!("{name} is described"));
        let mut sent = params.clone();
        if method["params"][0]["name"] == "networkId" {
            sent["networkId"] = json!(net);
        }
        let refused_by_schema = problems(&validator(&params_schema(method), &document), &sent);
        assert_eq!(refused_by_schema.is_empty(), taken, "{name} {params}: {refused_by_schema:?}");
        match admin.call(name, sent).await {
            Ok(answer) => {
                assert!(taken, "{name} {params}: the schema refuses what the server took");
                let wrong = problems(&validator(&method["result"]["schema"], &document), &answer);
                assert!(wrong.is_empty(), "{name}: the answer breaks the result schema: {wrong:?}\n{answer}");
            }
            Err(e) => assert!(!taken && e.code == -32602, "{name} {params}: {e:?}"),
        }
    }
    // A batch operation without an id, or with a number for one, is answered with the id as sent.
    let batch =
        manager.call("registration.batch", json!({"operations": [{"op": "delete"}, {"op": "delete", "id": 5}]}));
    let answer = batch.await.expect("a batch answers each operation");
    let method = document["methods"].as_array().expect("methods").iter().find(|m| m["name"] == "registration.batch");
    let wrong = problems(&validator(&method.expect("registration.batch")["result"]["schema"], &document), &answer);
    assert!(wrong.is_empty(), "{wrong:?}\n{answer}");
    assert_eq!((answer["results"][0]["id"].clone(), answer["results"][1]["id"].clone()), (json!(null), json!(5)));
    server.stop().await;
}

/// `object` with the members the server makes, as a record read and sent back whole carries them.
fn sent_back(mut object: Value) -> Value {
    for (name, value) in [
        ("sysVersion", json!(3)),
        ("sysCreatedAt", json!("2026-01-01T00:00:00.000Z")),
        ("sysLastModifiedAt", json!("2026-01-02T00:00:00.000Z")),
        ("sysCreatedById", json!("someone")),
        ("sysLastModifiedById", json!("someone")),
        ("sold", json!(7)),
    ] {
        object[name] = value;
    }
    object
}

fn with_member(mut object: Value, name: &str, value: Value) -> Value {
    object[name] = value;
    object
}
