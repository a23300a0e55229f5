//! Function tickets over HTTP: every method, the guard and isolation, the ties to registrations (references,
//! deletion, transfers that move seats or fail as a whole), batches and paging.

use crate::common;

use std::collections::HashSet;

use common::{Client, create_seat as create, manager, network, seat};
use serde_json::{Value, json};

async fn register(client: &Client, contact: &str, extra: Value) -> Value {
    let mut r = json!({"eventId": "ev1", "name": "Ada", "contactId": contact, "typeId": "t", "packageId": "p"});
    for (k, v) in extra.as_object().unwrap() {
        r[k] = v.clone();
    }
    client.call("registration.create", json!({ "registration": r })).await.unwrap()["registration"].clone()
}

#[tokio::test]
async fn create_get_update_patch_delete() {
    let client = manager(&network("ft-crud")).await;
    let mut s = seat("gala", "c1");
    s["mealOptionId"] = json!("vegan");
    s["customFieldValues"] = json!([{"field": "table", "value": 7}]);
    let created = create(&client, s).await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["mealOptionId"], "vegan");
    assert_eq!(created["registrationId"], Value::Null);
    assert_eq!(created["sysLocked"], false);
    assert_eq!(created["sysVersion"], 1);
    let got = client.call("functionTicket.get", json!({"id": id})).await.unwrap();
    assert_eq!(got["functionTicket"], created);
    let trimmed = client.call("functionTicket.get", json!({"id": id, "fields": ["status"]})).await.unwrap();
    assert_eq!(trimmed["functionTicket"], json!({"id": id, "status": "active"}));

    let mut replacement = seat("gala", "c1");
    replacement["id"] = json!(id);
    replacement["sysVersion"] = json!(1);
    let updated = client.call("functionTicket.update", json!({"functionTicket": replacement})).await.unwrap();
    assert_eq!(updated["functionTicket"]["mealOptionId"], Value::Null, "omitted fields reset");
    assert_eq!(updated["functionTicket"]["sysVersion"], 2);
    let stale = client.call("functionTicket.update", json!({"functionTicket": replacement})).await.unwrap_err();
    assert_eq!(stale.reason(), "staleVersion");

    let patched = client
        .call(
            "functionTicket.patch",
            json!({"id": id, "sysVersion": 2, "patch": [{"op": "replace", "path": "/status", "value": "cancelled"}]}),
        )
        .await
        .unwrap();
    assert_eq!(patched["functionTicket"]["status"], "cancelled");
    let refused = client
        .call(
            "functionTicket.patch",
            json!({"id": id, "patch": [{"op": "replace", "path": "/status", "value": "pending"}]}),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code, -32602);
    let failed = client
        .call(
            "functionTicket.patch",
            json!({"id": id, "patch": [{"op": "test", "path": "/status", "value": "active"}]}),
        )
        .await
        .unwrap_err();
    assert_eq!(failed.reason(), "testFailed");

    assert_eq!(client.call("functionTicket.delete", json!({"id": id})).await.unwrap(), json!({}));
    assert_eq!(client.call("functionTicket.get", json!({"id": id})).await.unwrap_err().code, -32004);
    assert_eq!(client.call("functionTicket.delete", json!({"id": id})).await.unwrap_err().code, -32004);
}

#[tokio::test]
async fn invalid_function_tickets_report_every_problem() {
    let client = manager(&network("ft-invalid")).await;
    let bad =
        json!({"name": "", "eventId": "ev.1", "functionId": "gala", "status": "maybe", "feeId": "a b", "colour": 1});
    let err = create(&client, bad).await.unwrap_err();
    assert_eq!(err.code, -32602);
    let fields = err.fields();
    for f in ["name", "eventId", "contactId", "status", "feeId", "colour"] {
        assert!(fields.contains(&format!("functionTicket.{f}")), "{f} not in {fields:?}");
    }
    let mut with_id = seat("gala", "c1");
    with_id["id"] = json!("mine");
    assert_eq!(create(&client, with_id).await.unwrap_err().fields(), ["functionTicket.id"]);
    let listed = client.call("functionTicket.listByFunction", json!({"functionId": "gala"})).await.unwrap();
    assert_eq!(listed["count"], 0);
}

#[tokio::test]
async fn references_to_registrations() {
    let (a, b) = (network("ft-ref-a"), network("ft-ref-b"));
    let (ca, cb) = (manager(&a).await, manager(&b).await);
    let in_a = register(&ca, "c1", json!({})).await;
    let in_b = register(&cb, "c1", json!({})).await;
    let other_event = register(&ca, "c1", json!({"eventId": "ev2"})).await;

    let mut tied = seat("gala", "c1");
    tied["registrationId"] = in_a["id"].clone();
    assert_eq!(create(&ca, tied.clone()).await.unwrap()["registrationId"], in_a["id"]);

    tied["registrationId"] = in_b["id"].clone();
    let foreign = create(&ca, tied.clone()).await.unwrap_err();
    assert_eq!((foreign.code, foreign.reason()), (-32009, "missingReference"));
    tied["registrationId"] = json!("no-such-registration");
    assert_eq!(create(&ca, tied.clone()).await.unwrap_err().reason(), "missingReference");
    tied["registrationId"] = other_event["id"].clone();
    let mismatch = create(&ca, tied).await.unwrap_err();
    assert_eq!((mismatch.code, mismatch.fields()), (-32602, vec!["functionTicket.eventId".to_owned()]));
    assert_eq!(create(&ca, seat("gala", "walk-in")).await.unwrap()["registrationId"], Value::Null);

    // A registration that function tickets refer to can be neither deleted nor moved to another event.
    let referenced = ca.call("registration.delete", json!({"id": in_a["id"]})).await.unwrap_err();
    assert_eq!((referenced.code, referenced.reason()), (-32009, "referenced"));
    let moved = ca
        .call(
            "registration.patch",
            json!({"id": in_a["id"], "patch": [{"op": "replace", "path": "/eventId", "value": "ev2"}]}),
        )
        .await
        .unwrap_err();
    assert_eq!(moved.reason(), "referenced");
    assert_eq!(ca.call("registration.get", json!({"id": in_a["id"]})).await.unwrap()["registration"]["sysVersion"], 1);
    // Network isolation: B sees none of A's seats.
    assert_eq!(cb.call("functionTicket.listByFunction", json!({"functionId": "gala"})).await.unwrap()["count"], 0);
    let a_seat =
        ca.call("functionTicket.listByFunction", json!({"functionId": "gala"})).await.unwrap()["items"][0]["id"]
            .clone();
    assert_eq!(cb.call("functionTicket.get", json!({"id": a_seat})).await.unwrap_err().code, -32004);
    let anonymous = Client::anonymous().on(&a).call("functionTicket.get", json!({"id": a_seat})).await.unwrap_err();
    assert_eq!(anonymous.code, -32001);
    let outsider = cb.call("functionTicket.get", json!({"id": a_seat, "networkId": a})).await.unwrap_err();
    assert_eq!(outsider.code, -32602, "header and member differ");
    let outsider = Client { network: None, ..cb.clone() };
    assert_eq!(
        outsider.call("functionTicket.get", json!({"id": a_seat, "networkId": a})).await.unwrap_err().code,
        -32003
    );
}

/// A registration and the seats of its first contact, as read now.
async fn snapshot(client: &Client, registration_id: &Value) -> (Value, Value) {
    let r = client.call("registration.get", json!({"id": registration_id})).await.unwrap()["registration"].clone();
    let s = client
        .call("functionTicket.listByEventContact", json!({"eventId": "ev1", "contactId": "alice"}))
        .await
        .unwrap();
    (r, s)
}

#[tokio::test]
async fn a_transfer_moves_every_seat_or_nothing() {
    let client = manager(&network("ft-transfer")).await;
    client
        .call(
            "ticket.createPurchasableTicket",
            json!({"ticket": {
            "productId": "pass", "eventName": "Summit", "eventStartDate": "2027-05-01T09:00:00Z",
            "eventEndDate": "2027-05-03T18:00:00Z", "ticketType": "single", "ticketName": "Pass", "price": 10,
            "maxPerAttendee": 1}}),
        )
        .await
        .unwrap();
    let registration = register(&client, "alice", json!({"productId": "pass"})).await;
    let rid = registration["id"].clone();
    let mut seats = Vec::new();
    for function in ["gala", "w1", "w2", "w3", "w4"] {
        let mut s = seat(function, "alice");
        s["registrationId"] = rid.clone();
        seats.push(create(&client, s).await.unwrap());
    }
    register(&client, "bob", json!({"productId": "pass"})).await;
    let before = snapshot(&client, &rid).await;
    assert_eq!(before.1["count"], 5);

    // Bob already holds his one pass: the transfer fails and all six records stay as they were.
    let refused =
        client.call("registration.transfer", json!({"id": registration["id"], "contactId": "bob"})).await.unwrap_err();
    assert_eq!((refused.code, refused.reason()), (-32009, "maxPerAttendee"));
    assert_eq!(snapshot(&client, &rid).await, before);

    // To Carol it succeeds, and the seats follow.
    let moved =
        client.call("registration.transfer", json!({"id": registration["id"], "contactId": "carol"})).await.unwrap();
    assert_eq!(moved["registration"]["contactId"], "carol");
    let left = client
        .call("functionTicket.listByEventContact", json!({"eventId": "ev1", "contactId": "alice"}))
        .await
        .unwrap();
    assert_eq!(left["count"], 0, "no seat is left with the old contact");
    let carols = client
        .call("functionTicket.listByEventContact", json!({"eventId": "ev1", "contactId": "carol"}))
        .await
        .unwrap();
    let ids: HashSet<Value> = carols["items"].as_array().unwrap().iter().map(|s| s["id"].clone()).collect();
    assert_eq!(ids, seats.iter().map(|s| s["id"].clone()).collect());
    assert!(carols["items"].as_array().unwrap().iter().all(|s| s["sysVersion"] == 2));

    // A locked seat stops the whole transfer.
    client
        .call(
            "functionTicket.patch",
            json!({"id": seats[0]["id"], "patch": [{"op": "replace", "path": "/sysLocked", "value": true}]}),
        )
        .await
        .unwrap();
    let locked =
        client.call("registration.transfer", json!({"id": registration["id"], "contactId": "dave"})).await.unwrap_err();
    assert_eq!(locked.code, -32023);
    let still = client.call("registration.get", json!({"id": registration["id"]})).await.unwrap();
    assert_eq!(still["registration"]["contactId"], "carol");
}

#[tokio::test]
async fn locked_seats_refuse_changes_except_unlocking() {
    let client = manager(&network("ft-locked")).await;
    let mut s = seat("gala", "c1");
    s["sysLocked"] = json!(true);
    let id = create(&client, s).await.unwrap()["id"].clone();
    let change = json!([{"op": "replace", "path": "/notes", "value": "window"}]);
    assert_eq!(client.call("functionTicket.patch", json!({"id": id, "patch": change})).await.unwrap_err().code, -32023);
    assert_eq!(client.call("functionTicket.delete", json!({"id": id})).await.unwrap_err().code, -32023);
    let unlock = json!([{"op": "replace", "path": "/sysLocked", "value": false}]);
    client.call("functionTicket.patch", json!({"id": id, "patch": unlock})).await.unwrap();
    client.call("functionTicket.patch", json!({"id": id, "patch": change})).await.unwrap();
}

#[tokio::test]
async fn batch_and_paging() {
    let client = manager(&network("ft-batch")).await;
    let mut ids = Vec::new();
    for i in 0..23 {
        ids.push(create(&client, seat("workshop", &format!("c{i}"))).await.unwrap()["id"].clone());
    }
    create(&client, seat("other", "x")).await.unwrap();
    let mut walked = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let mut params = json!({"functionId": "workshop", "limit": 4});
        if !cursor.is_null() {
            params["cursor"] = cursor.clone();
        }
        let page = client.call("functionTicket.listByFunction", params).await.unwrap();
        assert_eq!(page["count"], 23);
        walked.extend(page["items"].as_array().unwrap().iter().map(|s| s["id"].clone()));
        cursor = page["nextCursor"].clone();
        if cursor.is_null() {
            break;
        }
    }
    assert_eq!(walked, ids, "every seat once, in creation order");

    let operations = json!([
        {"op": "patch", "id": ids[0], "patch": [{"op": "replace", "path": "/notes", "value": "aisle"}]},
        {"op": "delete", "id": ids[1]},
        {"op": "patch", "id": ids[2], "patch": [{"op": "replace", "path": "/status", "value": "gone"}]},
        {"op": "delete", "id": "missing"},
        {"op": "patch", "id": ids[3], "sysVersion": 9, "patch": []},
        {"op": "teleport", "id": ids[4]}
    ]);
    let report = client.call("functionTicket.batch", json!({"operations": operations})).await.unwrap();
    assert_eq!((report["successCount"].clone(), report["errorCount"].clone()), (json!(2), json!(4)));
    let codes: Vec<Value> = report["results"].as_array().unwrap().iter().map(|r| r["error"]["code"].clone()).collect();
    assert_eq!(codes, [Value::Null, Value::Null, json!(-32602), json!(-32004), json!(-32009), json!(-32602)]);
    assert_eq!(report["results"][0]["functionTicket"]["notes"], "aisle");
    let after = client.call("functionTicket.listByFunction", json!({"functionId": "workshop"})).await.unwrap();
    assert_eq!(after["count"], 22);
    let third = client.call("functionTicket.get", json!({"id": ids[2]})).await.unwrap();
    assert_eq!(third["functionTicket"]["status"], "active", "the invalid patch changed nothing");
}

#[tokio::test]
async fn bare_params_form_works_for_function_tickets() {
    let client = manager(&network("ft-bare")).await;
    let created = client.bare("functionTicket.create", json!({"functionTicket": seat("gala", "c1")})).await.unwrap();
    let listed =
        client.bare("functionTicket.listByEventContact", json!({"eventId": "ev1", "contactId": "c1"})).await.unwrap();
    assert_eq!(listed["items"][0]["id"], created["functionTicket"]["id"]);
}
