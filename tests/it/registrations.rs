//! Registrations over HTTP: every method, the guard and isolation, search and paging, capacity under concurrency,
//! numbers, JSON Patch, batches and scheduling conflicts.

use crate::common;

use std::collections::HashSet;

use common::{
    Client, RpcError, call_many, create_registration as create, creation_order, manager, network, registration, ticket,
};
use futures_util::future::join_all;
use serde_json::{Value, json};

async fn sold(client: &Client, product: &str) -> i64 {
    let t = client.call("ticket.getPurchasableTicket", json!({"productId": product})).await.unwrap();
    t["ticket"]["sold"].as_i64().unwrap()
}

async fn ticket_with(client: &Client, product: &str, extra: Value) {
    let mut t = ticket(product);
    for (k, v) in extra.as_object().unwrap() {
        t[k] = v.clone();
    }
    client.call("ticket.createPurchasableTicket", json!({ "ticket": t })).await.unwrap();
}

/// Creates registrations in JSON-RPC batches of 100; returns them in the order given.
async fn create_many(client: &Client, registrations: Vec<Value>) -> Vec<Value> {
    let params = registrations.into_iter().map(|r| json!({ "registration": r })).collect();
    call_many(client, "registration.create", params).await.into_iter().map(|r| r["registration"].clone()).collect()
}

#[tokio::test]
async fn create_get_update_delete() {
    let client = manager(&network("reg-crud")).await;
    let created = create(&client, json!({
        "eventId": "ev1", "name": "Ada Lovelace", "contactId": "c1", "typeId": "t", "packageId": "p",
        "emailAddress": "ada@example.org", "date": 1777658400000i64, "orderTotal": 120.5, "orderStatus": "completed",
        "sessions": [{"id": "s1", "title": "Keynote"}], "badge": {"line1": "Ada"}, "ribbonIds": ["speaker"]
    }))
    .await
    .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["number"], 1);
    assert_eq!(created["status"], "active");
    assert_eq!(created["date"], "2026-05-01T18:00:00.000Z");
    assert_eq!(created["sessions"], json!([{"id": "s1", "title": "Keynote"}]));
    assert_eq!(created["badge"], json!({"line1": "Ada"}));
    assert_eq!(created["guests"], json!([]));
    assert_eq!(created["city"], Value::Null);
    assert_eq!(created["sysVersion"], 1);

    let got = client.call("registration.get", json!({"id": id})).await.unwrap();
    assert_eq!(got["registration"], created);
    let trimmed = client.call("registration.get", json!({"id": id, "fields": ["emailAddress"]})).await.unwrap();
    assert_eq!(trimmed["registration"], json!({"id": id, "emailAddress": "ada@example.org"}));

    let mut replacement = registration("c1");
    replacement["id"] = json!(id);
    replacement["city"] = json!("London");
    replacement["sysVersion"] = json!(1);
    let updated = client.call("registration.update", json!({"registration": replacement})).await.unwrap();
    let updated = &updated["registration"];
    assert_eq!(updated["city"], "London");
    assert_eq!(updated["emailAddress"], Value::Null, "a whole replacement resets omitted fields");
    assert_eq!(updated["number"], 1);
    assert_eq!(updated["date"], "2026-05-01T18:00:00.000Z", "the date of registration is kept");
    assert_eq!(updated["sysVersion"], 2);
    assert_eq!(updated["sysCreatedAt"], created["sysCreatedAt"]);

    let stale = client.call("registration.update", json!({"registration": replacement})).await.unwrap_err();
    assert_eq!((stale.code, stale.reason()), (-32009, "staleVersion"));

    assert_eq!(client.call("registration.delete", json!({"id": id})).await.unwrap(), json!({}));
    let gone = client.call("registration.get", json!({"id": id})).await.unwrap_err();
    assert_eq!(gone.code, -32004);
    assert_eq!(gone.data["resource"], "registration");
    assert_eq!(client.call("registration.delete", json!({"id": id})).await.unwrap_err().code, -32004);
}

#[tokio::test]
async fn invalid_registrations_are_refused_with_every_problem() {
    let client = manager(&network("reg-invalid")).await;
    let mut bad = registration("c1");
    bad["emailAddress"] = json!("nope");
    bad["status"] = json!("gone");
    bad["orderStatus"] = json!("lost");
    bad["orderTotal"] = json!(-1);
    bad["sessions"] = json!("x");
    bad["checkinDate"] = json!("soon");
    bad["shoeSize"] = json!(42);
    bad.as_object_mut().unwrap().remove("typeId");
    let err = create(&client, bad).await.unwrap_err();
    assert_eq!(err.code, -32602);
    let fields = err.fields();
    for f in ["emailAddress", "status", "orderStatus", "orderTotal", "sessions", "checkinDate", "shoeSize", "typeId"] {
        assert!(fields.contains(&format!("registration.{f}")), "{f} not in {fields:?}");
    }
    let mut with_id = registration("c1");
    with_id["id"] = json!("mine");
    assert_eq!(create(&client, with_id).await.unwrap_err().fields(), ["registration.id"]);
    let listed = client.call("registration.search", json!({})).await.unwrap();
    assert_eq!(listed["count"], 0, "nothing was stored");
}

#[tokio::test]
async fn registrations_are_isolated_by_network_and_guarded() {
    let (a, b) = (network("reg-iso-a"), network("reg-iso-b"));
    let (ca, cb) = (manager(&a).await, manager(&b).await);
    let ra = create(&ca, registration("c1")).await.unwrap();
    let id = ra["id"].as_str().unwrap();
    assert_eq!(cb.call("registration.get", json!({"id": id})).await.unwrap_err().code, -32004);
    assert_eq!(cb.call("registration.delete", json!({"id": id})).await.unwrap_err().code, -32004);
    assert_eq!(cb.call("registration.listByContact", json!({"contactId": "c1"})).await.unwrap()["count"], 0);
    let no_header = Client { network: None, ..ca.clone() };
    let foreign = no_header.call("registration.get", json!({"id": id, "networkId": b})).await.unwrap_err();
    assert_eq!(foreign.code, -32003);
    let anonymous = Client::anonymous().on(&a).call("registration.get", json!({"id": id})).await.unwrap_err();
    assert_eq!(anonymous.code, -32001);
    assert_eq!(ca.call("registration.get", json!({"id": id})).await.unwrap()["registration"]["id"], *id);
    // The same contact's registration numbers are per network and event.
    assert_eq!(create(&cb, registration("c1")).await.unwrap()["number"], 1);
}

#[tokio::test]
async fn search_filters_alone_and_combined() {
    let client = manager(&network("reg-search")).await;
    let people = [
        ("Ada", "Lovelace", "London", "UK", "ev1", "org1", "completed", 100.0, "active", "g1"),
        ("Alan", "Turing", "Manchester", "UK", "ev1", "org2", "open", 50.0, "cancelled", "g1"),
        ("Grace", "Hopper", "New York", "US", "ev2", "org1", "completed", 75.5, "active", "g2"),
        ("Edsger", "Dijkstra", "Austin", "US", "ev2", "org3", "void", 0.0, "draft", "g2"),
        ("Barbara", "Liskov", "Boston", "US", "ev1", "org1", "open", 20.0, "active", "g3"),
    ];
    let regs: Vec<Value> = people
        .iter()
        .enumerate()
        .map(|(i, (first, last, city, country, event, org, order_status, total, status, group))| {
            json!({
                "eventId": event, "name": format!("{first} {last}"), "firstName": first, "lastName": last,
                "contactId": format!("c{i}"), "typeId": if i % 2 == 0 { "speaker" } else { "attendee" },
                "packageId": "full", "city": city, "country": country, "organizationId": org,
                "orderStatus": order_status, "orderTotal": total, "status": status, "groupId": group,
                "orderId": format!("o{}", i / 2), "emailAddress": format!("{}@example.org", first.to_lowercase()),
                "date": format!("2026-0{}-01T00:00:00Z", i + 1)
            })
        })
        .collect();
    let created = create_many(&client, regs).await;
    let names = |v: &Value| -> Vec<String> {
        let mut n: Vec<String> =
            v["items"].as_array().unwrap().iter().map(|r| r["firstName"].as_str().unwrap().to_owned()).collect();
        n.sort();
        n
    };
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({}), vec!["Ada", "Alan", "Barbara", "Edsger", "Grace"]),
        (json!({"eventId": "ev1"}), vec!["Ada", "Alan", "Barbara"]),
        (json!({"firstName": "AL"}), vec!["Alan"]),
        (json!({"lastName": "ov"}), vec!["Ada", "Barbara"]),
        (json!({"name": "grace hop"}), vec!["Grace"]),
        (json!({"city": "new"}), vec!["Grace"]),
        (json!({"country": "us"}), vec!["Barbara", "Edsger", "Grace"]),
        (json!({"emailAddress": "@EXAMPLE"}), vec!["Ada", "Alan", "Barbara", "Edsger", "Grace"]),
        (json!({"organizationId": ["org1"]}), vec!["Ada", "Barbara", "Grace"]),
        (json!({"organizationId": ["org2", "org3"]}), vec!["Alan", "Edsger"]),
        (json!({"orderStatus": ["open"]}), vec!["Alan", "Barbara"]),
        (json!({"status": ["active"]}), vec!["Ada", "Barbara", "Grace"]),
        (json!({"contactId": ["c0", "c4"]}), vec!["Ada", "Barbara"]),
        (json!({"typeId": ["speaker"]}), vec!["Ada", "Barbara", "Grace"]),
        (json!({"groupId": ["g2"]}), vec!["Edsger", "Grace"]),
        (json!({"orderId": ["o0"]}), vec!["Ada", "Alan"]),
        (json!({"isGuestRegistration": [false]}), vec!["Ada", "Alan", "Barbara", "Edsger", "Grace"]),
        (json!({"orderTotal": {"from": 50, "to": 100}}), vec!["Ada", "Alan", "Grace"]),
        (json!({"orderTotal": {"from": 75.5}}), vec!["Ada", "Grace"]),
        (
            json!({"date": {"from": "2026-02-01T00:00:00Z", "to": "2026-04-01T00:00:00Z"}}),
            vec!["Alan", "Edsger", "Grace"],
        ),
        (json!({"eventId": "ev1", "status": ["active"], "organizationId": ["org1"]}), vec!["Ada", "Barbara"]),
        (json!({"country": "uk", "orderTotal": {"to": 60}}), vec!["Alan"]),
        (json!({"ids": [created[2]["id"], created[3]["id"]]}), vec!["Edsger", "Grace"]),
        (json!({"ids": [created[2]["id"]], "status": ["draft"]}), vec![]),
    ];
    for (query, expected) in cases {
        let found = client.call("registration.search", query.clone()).await.unwrap();
        assert_eq!(names(&found), expected, "{query}");
        assert_eq!(found["count"], expected.len(), "{query}");
    }
    for bad in [
        json!({"status": ["gone"]}),
        json!({"orderTotal": {"from": "x"}}),
        json!({"colour": "red"}),
        json!({"limit": 0}),
    ] {
        assert_eq!(client.call("registration.search", bad.clone()).await.unwrap_err().code, -32602, "{bad}");
    }
}

/// The counts of searches by event and status are kept apart from the rows: they must follow every create, status
/// change, move to another event, transfer and delete, and never mix networks.
#[tokio::test]
async fn event_and_status_counts_follow_every_change() {
    let client = manager(&network("reg-counts")).await;
    let other = manager(&network("reg-counts-other")).await;
    let statuses = ["active", "cancelled", "draft"];
    let regs: Vec<Value> = (0..30)
        .map(|i| {
            let mut r = registration(&format!("c{i}"));
            r["eventId"] = json!(format!("ev{}", i % 3));
            r["status"] = json!(statuses[i % statuses.len()]);
            r
        })
        .collect();
    let created = create_many(&client, regs.clone()).await;
    create_many(&other, regs).await;
    let id = |i: usize| created[i]["id"].as_str().unwrap().to_owned();

    let check = |when: &'static str| {
        let client = client.clone();
        async move {
            for event in ["ev0", "ev1", "ev2", "ev9"] {
                for filter in
                    [json!(null), json!(["active"]), json!(["cancelled", "draft"]), json!(["active", "active"])]
                {
                    let mut query = json!({"eventId": event});
                    if !filter.is_null() {
                        query["status"] = filter;
                    }
                    let found = client.call("registration.search", query.clone()).await.unwrap();
                    let items = found["items"].as_array().unwrap().len();
                    assert_eq!(found["count"], items, "{when}: {query}");
                    let mut paged = query.clone();
                    paged["limit"] = json!(1);
                    let first = client.call("registration.search", paged).await.unwrap();
                    assert_eq!(first["count"], items, "{when}, one page: {query}");
                }
            }
        }
    };
    check("created").await;
    let patch = |i: usize, path: &str, value: &str| {
        let ops = json!([{"op": "replace", "path": path, "value": value}]);
        client.call("registration.patch", json!({"id": id(i), "patch": ops}))
    };
    patch(0, "/status", "cancelled").await.unwrap();
    patch(1, "/eventId", "ev9").await.unwrap();
    patch(2, "/eventId", "ev0").await.unwrap();
    patch(3, "/name", "Renamed").await.unwrap();
    check("patched").await;
    client.call("registration.transfer", json!({"id": id(4), "contactId": "someone-else"})).await.unwrap();
    client.call("registration.delete", json!({"id": id(5)})).await.unwrap();
    client.call("registration.delete", json!({"id": id(6)})).await.unwrap();
    check("transferred and deleted").await;
    let before = client.call("registration.search", json!({"eventId": "ev0"})).await.unwrap()["count"].clone();
    assert!(patch(7, "/status", "no-such-status").await.is_err());
    let after = client.call("registration.search", json!({"eventId": "ev0"})).await.unwrap()["count"].clone();
    assert_eq!(before, after, "a refused change counts nothing");
    check("refused").await;
}

/// The trigram index follows a change of the searchable text, and is left as it was by any other change.
#[tokio::test]
async fn text_search_follows_changes_of_the_text_only() {
    let client = manager(&network("reg-text")).await;
    let mut r = registration("c1");
    r["city"] = json!("Lisbon");
    let id = create(&client, r).await.unwrap()["id"].as_str().unwrap().to_owned();
    let found = |query: Value| {
        let client = client.clone();
        async move {
            let found = client.call("registration.search", query).await.unwrap();
            found["items"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        }
    };
    let patch = |ops: Value| client.call("registration.patch", json!({"id": id, "patch": ops}));
    assert_eq!(found(json!({"city": "lisb"})).await, vec![id.clone()]);
    patch(json!([{"op": "replace", "path": "/status", "value": "cancelled"}])).await.unwrap();
    patch(json!([{"op": "add", "path": "/notes", "value": "vegetarian"}])).await.unwrap();
    assert_eq!(found(json!({"city": "lisb"})).await, vec![id.clone()], "other changes keep the text searchable");
    patch(json!([{"op": "replace", "path": "/city", "value": "Porto"}])).await.unwrap();
    assert!(found(json!({"city": "lisb"})).await.is_empty(), "the old text is gone");
    assert_eq!(found(json!({"city": "port"})).await, vec![id.clone()]);
    patch(json!([{"op": "replace", "path": "/name", "value": "Grace Hopper"}])).await.unwrap();
    assert_eq!(found(json!({"name": "hopper", "city": "porto"})).await, vec![id.clone()]);
    client.call("registration.delete", json!({"id": id})).await.unwrap();
    assert!(found(json!({"city": "port"})).await.is_empty());
}

#[tokio::test]
async fn look_ups_find_exactly_their_registrations() {
    let client = manager(&network("reg-lookup")).await;
    let parent = create(
        &client,
        json!({"eventId": "ev1", "name": "P", "contactId": "c1", "typeId": "t", "packageId": "p",
        "orderId": "o1", "groupId": "g1", "organizationId": "org1"}),
    )
    .await
    .unwrap();
    let pid = parent["id"].as_str().unwrap();
    let guest = create(
        &client,
        json!({"eventId": "ev1", "name": "G", "contactId": "c2", "typeId": "t", "packageId": "p",
        "orderId": "o1", "parentRegistrationId": pid, "isGuestRegistration": true}),
    )
    .await
    .unwrap();
    create(
        &client,
        json!({"eventId": "ev2", "name": "Q", "contactId": "c1", "typeId": "t", "packageId": "p",
        "organizationId": "org1"}),
    )
    .await
    .unwrap();
    let ids = |v: Value| -> Vec<String> {
        v["items"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_owned()).collect()
    };
    let cases = [
        ("registration.listByContact", json!({"contactId": "c1"}), vec!["P", "Q"]),
        ("registration.listByEventContact", json!({"eventId": "ev1", "contactId": "c1"}), vec!["P"]),
        ("registration.listByParent", json!({"parentRegistrationId": pid}), vec!["G"]),
        ("registration.listByOrder", json!({"orderId": "o1"}), vec!["P", "G"]),
        ("registration.listByGroup", json!({"groupId": "g1"}), vec!["P"]),
        ("registration.listByEventOrganization", json!({"eventId": "ev2", "organizationId": "org1"}), vec!["Q"]),
        ("registration.listByContact", json!({"contactId": "nobody"}), vec![]),
    ];
    for (method, params, expected) in cases {
        let found = client.call(method, params.clone()).await.unwrap();
        assert_eq!(ids(found.clone()), expected, "{method} {params}");
        assert_eq!(found["count"], expected.len());
        assert_eq!(found["nextCursor"], Value::Null);
    }
    assert_eq!(client.call("registration.listByContact", json!({})).await.unwrap_err().code, -32602);
    // A parent with guests cannot be deleted; once the guest is gone, it can.
    let refused = client.call("registration.delete", json!({"id": pid})).await.unwrap_err();
    assert_eq!((refused.code, refused.reason()), (-32009, "referenced"));
    client.call("registration.delete", json!({"id": guest["id"]})).await.unwrap();
    client.call("registration.delete", json!({"id": pid})).await.unwrap();
}

#[tokio::test]
async fn a_page_walk_skips_and_repeats_nothing_while_others_are_inserted() {
    let client = manager(&network("reg-paging")).await;
    let initial: Vec<Value> = (0..1000).map(|i| registration(&format!("c{i}"))).collect();
    let created = create_many(&client, initial).await;
    let made: Vec<String> = created.iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect();
    let expected = creation_order(&client, "registration.search", json!({"eventId": "ev1"}), &made).await;

    let writer = client.clone();
    let inserting = tokio::spawn(async move {
        let mut made = 0;
        for i in 0..60 {
            create(&writer, registration(&format!("late{i}"))).await.unwrap();
            made += 1;
        }
        made
    });
    let mut seen = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let mut params = json!({"eventId": "ev1", "limit": 7, "fields": ["contactId"]});
        if !cursor.is_null() {
            params["cursor"] = cursor.clone();
        }
        let page = client.call("registration.search", params).await.unwrap();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 7);
        seen.extend(items.iter().map(|r| r["id"].as_str().unwrap().to_owned()));
        cursor = page["nextCursor"].clone();
        if cursor.is_null() {
            break;
        }
    }
    assert_eq!(inserting.await.unwrap(), 60);
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no registration is repeated");
    assert_eq!(&seen[..1000], &expected[..], "every original registration, once, in creation order");
    let bad = client.call("registration.search", json!({"cursor": "garbage!"})).await.unwrap_err();
    assert_eq!(bad.code, -32602);
}

#[tokio::test]
async fn allocation_holds_under_concurrent_creates() {
    let client = manager(&network("reg-alloc")).await;
    ticket_with(&client, "gala", json!({"allocation": 50})).await;
    let calls = (0..200).map(|i| {
        let client = client.clone();
        async move {
            let mut r = registration(&format!("c{i}"));
            r["productId"] = json!("gala");
            create(&client, r).await
        }
    });
    let outcomes = join_all(calls).await;
    let ok = outcomes.iter().filter(|o| o.is_ok()).count();
    let sold_out =
        outcomes.iter().filter(|o| o.as_ref().is_err_and(|e| e.code == -32009 && e.reason() == "soldOut")).count();
    assert_eq!((ok, sold_out), (50, 150));
    assert_eq!(sold(&client, "gala").await, 50);
    let counted = client.call("registration.search", json!({"status": ["active"], "limit": 1})).await.unwrap();
    assert_eq!(counted["count"], 50);
    // A lower allocation than what is sold is refused; deleting a held ticket too.
    let mut lower = ticket("gala");
    lower["allocation"] = json!(49);
    let refused = client.call("ticket.updatePurchasableTicket", json!({"ticket": lower})).await.unwrap_err();
    assert_eq!(refused.code, -32009);
    let held = client.call("ticket.deletePurchasableTicket", json!({"productId": "gala"})).await.unwrap_err();
    assert_eq!((held.code, held.reason()), (-32009, "referenced"));
}

#[tokio::test]
async fn max_per_attendee_holds_under_concurrent_creates() {
    let client = manager(&network("reg-max")).await;
    ticket_with(&client, "workshop", json!({"maxPerAttendee": 3})).await;
    let calls = (0..40).map(|_| {
        let client = client.clone();
        async move {
            let mut r = registration("same-contact");
            r["productId"] = json!("workshop");
            create(&client, r).await
        }
    });
    let outcomes = join_all(calls).await;
    let ok = outcomes.iter().filter(|o| o.is_ok()).count();
    let limited = outcomes
        .iter()
        .filter(|o| o.as_ref().is_err_and(|e| e.code == -32009 && e.reason() == "maxPerAttendee"))
        .count();
    assert_eq!((ok, limited), (3, 37));
    assert_eq!(sold(&client, "workshop").await, 3);
}

#[tokio::test]
async fn status_changes_transfers_and_re_pointing_respect_capacity() {
    let client = manager(&network("reg-status")).await;
    ticket_with(&client, "one", json!({"allocation": 1, "maxPerAttendee": 1})).await;
    ticket_with(&client, "other", json!({})).await;
    let mut draft = registration("c1");
    draft["productId"] = json!("one");
    draft["status"] = json!("draft");
    let first = create(&client, draft.clone()).await.unwrap();
    assert_eq!(sold(&client, "one").await, 0, "a draft does not count");
    let second = create(&client, draft).await.unwrap();
    let activate = |id: Value| {
        let client = client.clone();
        async move {
            client
                .call(
                    "registration.patch",
                    json!({"id": id, "patch": [{"op": "replace", "path": "/status", "value": "active"}]}),
                )
                .await
        }
    };
    activate(first["id"].clone()).await.unwrap();
    assert_eq!(sold(&client, "one").await, 1);
    let refused = activate(second["id"].clone()).await.unwrap_err();
    assert_eq!(refused.reason(), "soldOut");
    // Re-pointing the active one to another ticket frees the seat.
    let moved = client
        .call(
            "registration.patch",
            json!({"id": first["id"], "patch": [{"op": "replace", "path": "/productId", "value": "other"}]}),
        )
        .await
        .unwrap();
    assert_eq!(moved["registration"]["productId"], "other");
    assert_eq!((sold(&client, "one").await, sold(&client, "other").await), (0, 1));
    activate(second["id"].clone()).await.unwrap();
    // Transfer to a contact that already holds its limit is refused; to a fresh one it moves.
    let mut holder = registration("c9");
    holder["productId"] = json!("other");
    create(&client, holder).await.unwrap();
    let transferred =
        client.call("registration.transfer", json!({"id": second["id"], "contactId": "c2"})).await.unwrap();
    assert_eq!(transferred["registration"]["contactId"], "c2");
    assert_eq!(sold(&client, "one").await, 1);
    let missing = client.call("registration.transfer", json!({"id": "nope", "contactId": "c2"})).await.unwrap_err();
    assert_eq!(missing.code, -32004);
    // A ticket that does not exist in this network.
    let mut dangling = registration("c3");
    dangling["productId"] = json!("no-such-ticket");
    let err = create(&client, dangling).await.unwrap_err();
    assert_eq!((err.code, err.reason()), (-32009, "missingReference"));
    // Cancelling releases the seat.
    client
        .call(
            "registration.patch",
            json!({"id": second["id"], "patch": [{"op": "replace", "path": "/status", "value": "cancelled"}]}),
        )
        .await
        .unwrap();
    assert_eq!(sold(&client, "one").await, 0);
}

#[tokio::test]
async fn transfer_re_checks_max_per_attendee() {
    let client = manager(&network("reg-transfer")).await;
    ticket_with(&client, "t", json!({"maxPerAttendee": 1})).await;
    let mut r = registration("alice");
    r["productId"] = json!("t");
    let alices = create(&client, r.clone()).await.unwrap();
    r["contactId"] = json!("bob");
    create(&client, r).await.unwrap();
    let refused =
        client.call("registration.transfer", json!({"id": alices["id"], "contactId": "bob"})).await.unwrap_err();
    assert_eq!((refused.code, refused.reason()), (-32009, "maxPerAttendee"));
    let still = client.call("registration.get", json!({"id": alices["id"]})).await.unwrap();
    assert_eq!(still["registration"]["contactId"], "alice");
    assert_eq!(still["registration"]["sysVersion"], 1);
}

#[tokio::test]
async fn numbers_are_distinct_under_concurrent_creates() {
    let client = manager(&network("reg-numbers")).await;
    let calls = (0..100).map(|i| {
        let client = client.clone();
        async move { create(&client, registration(&format!("c{i}"))).await.unwrap()["number"].as_i64().unwrap() }
    });
    let numbers: HashSet<i64> = join_all(calls).await.into_iter().collect();
    assert_eq!(numbers, (1..=100).collect());
    let mut chosen = registration("x");
    chosen["number"] = json!(500);
    assert_eq!(create(&client, chosen.clone()).await.unwrap()["number"], 500);
    assert_eq!(create(&client, chosen).await.unwrap_err().reason(), "duplicate");
    assert_eq!(create(&client, registration("y")).await.unwrap()["number"], 501, "numbers are never reused");
}

#[tokio::test]
async fn json_patch_operations_and_refusals() {
    let client = manager(&network("reg-patch")).await;
    let mut r = registration("c1");
    r["sessions"] = json!([{"id": "s1"}]);
    r["firstName"] = json!("Ada");
    let created = create(&client, r).await.unwrap();
    let id = created["id"].clone();
    let patch = |ops: Value, version: Option<i64>| {
        let client = client.clone();
        let id = id.clone();
        async move {
            let mut params = json!({"id": id, "patch": ops});
            if let Some(v) = version {
                params["sysVersion"] = json!(v);
            }
            client.call("registration.patch", params).await.map(|r| r["registration"].clone())
        }
    };
    let patched = patch(
        json!([
            {"op": "test", "path": "/firstName", "value": "Ada"},
            {"op": "replace", "path": "/city", "value": "London"},
            {"op": "add", "path": "/sessions/-", "value": {"id": "s2"}},
            {"op": "remove", "path": "/sessions/0"},
            {"op": "copy", "from": "/firstName", "path": "/lastName"},
            {"op": "move", "from": "/city", "path": "/state"}
        ]),
        Some(1),
    )
    .await
    .unwrap();
    assert_eq!(patched["city"], Value::Null);
    assert_eq!(patched["state"], "London");
    assert_eq!(patched["lastName"], "Ada");
    assert_eq!(patched["sessions"], json!([{"id": "s2"}]));
    assert_eq!(patched["sysVersion"], 2);

    let before = client.call("registration.get", json!({"id": id})).await.unwrap()["registration"].clone();
    let refusals = [
        (json!([{"op": "test", "path": "/firstName", "value": "Grace"}]), -32009),
        (json!([{"op": "replace", "path": "/emailAddress", "value": "not-an-email"}]), -32602),
        (json!([{"op": "remove", "path": "/contactId"}]), -32602),
        (json!([{"op": "replace", "path": "/id", "value": "other"}]), -32602),
        (json!([{"op": "replace", "path": "/number", "value": 99}]), -32602),
        (json!([{"op": "replace", "path": "/sysCreatedAt", "value": "2020-01-01T00:00:00.000Z"}]), -32602),
        (json!([{"op": "add", "path": "/shoeSize", "value": 42}]), -32602),
        (json!([{"op": "replace", "path": "/nowhere/deep", "value": 1}]), -32602),
        (json!({"op": "replace"}), -32602),
    ];
    for (ops, code) in refusals {
        let err = patch(ops.clone(), None).await.unwrap_err();
        assert_eq!(err.code, code, "{ops}");
    }
    let stale = patch(json!([{"op": "replace", "path": "/city", "value": "Paris"}]), Some(1)).await.unwrap_err();
    assert_eq!(stale.reason(), "staleVersion");
    let failed_test = patch(json!([{"op": "test", "path": "/firstName", "value": "Grace"}]), None).await.unwrap_err();
    assert_eq!(failed_test.reason(), "testFailed");
    let after = client.call("registration.get", json!({"id": id})).await.unwrap()["registration"].clone();
    assert_eq!(after, before, "refused patches change nothing");
}

#[tokio::test]
async fn locked_registrations_refuse_changes_except_unlocking() {
    let client = manager(&network("reg-locked")).await;
    let mut r = registration("c1");
    r["sysLocked"] = json!(true);
    let created = create(&client, r).await.unwrap();
    let id = created["id"].clone();
    let change = json!([{"op": "replace", "path": "/city", "value": "Paris"}]);
    let locked = |e: RpcError| assert_eq!(e.code, -32023, "{e:?}");
    locked(client.call("registration.patch", json!({"id": id, "patch": change})).await.unwrap_err());
    locked(client.call("registration.delete", json!({"id": id})).await.unwrap_err());
    locked(client.call("registration.transfer", json!({"id": id, "contactId": "c2"})).await.unwrap_err());
    let mut replacement = created.clone();
    replacement["city"] = json!("Paris");
    locked(client.call("registration.update", json!({"registration": replacement})).await.unwrap_err());
    let batch = client.call("registration.batch", json!({"operations": [{"op": "delete", "id": id}]})).await.unwrap();
    assert_eq!(batch["results"][0]["error"]["code"], -32023);
    // Unlocking together with another change is still refused; unlocking alone is accepted.
    let both = json!([{"op": "replace", "path": "/sysLocked", "value": false}, {"op": "replace", "path": "/city", "value": "Paris"}]);
    locked(client.call("registration.patch", json!({"id": id, "patch": both})).await.unwrap_err());
    let unlock = json!([{"op": "replace", "path": "/sysLocked", "value": false}]);
    let unlocked = client.call("registration.patch", json!({"id": id, "patch": unlock})).await.unwrap();
    assert_eq!(unlocked["registration"]["sysLocked"], false);
    client.call("registration.patch", json!({"id": id, "patch": change})).await.unwrap();
}

#[tokio::test]
async fn a_batch_applies_exactly_its_valid_operations() {
    let client = manager(&network("reg-batch")).await;
    let created = create_many(&client, (0..60).map(|i| registration(&format!("c{i}"))).collect()).await;
    let mut operations = Vec::new();
    for (i, r) in created.iter().enumerate() {
        operations.push(match i % 3 {
            0 => json!({"op": "patch", "id": r["id"], "patch": [{"op": "replace", "path": "/city", "value": format!("City {i}")}]}),
            1 => json!({"op": "delete", "id": r["id"]}),
            _ => json!({"op": "patch", "id": r["id"], "patch": [{"op": "replace", "path": "/status", "value": "gone"}]}),
        });
    }
    for i in 0..40 {
        operations.push(if i % 2 == 0 {
            json!({"op": "delete", "id": format!("missing-{i}")})
        } else {
            json!({"op": "explode", "id": "x"})
        });
    }
    assert_eq!(operations.len(), 100);
    let report = client.call("registration.batch", json!({"operations": operations})).await.unwrap();
    assert_eq!(report["successCount"], 40);
    assert_eq!(report["errorCount"], 60);
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 100);
    for (i, r) in created.iter().enumerate() {
        let result = &results[i];
        assert_eq!(result["id"], r["id"]);
        match i % 3 {
            0 => assert_eq!(
                (result["ok"].clone(), result["registration"]["city"].clone()),
                (json!(true), json!(format!("City {i}")))
            ),
            1 => assert_eq!(result["ok"], true),
            _ => assert_eq!(result["error"]["code"], -32602),
        }
    }
    for (i, result) in results[60..].iter().enumerate() {
        assert_eq!(result["ok"], false);
        assert_eq!(result["error"]["code"], if i % 2 == 0 { -32004 } else { -32602 });
    }
    let remaining = client.call("registration.search", json!({})).await.unwrap();
    assert_eq!(remaining["count"], 40);
    let cities = client.call("registration.search", json!({"city": "city"})).await.unwrap();
    assert_eq!(cities["count"], 20);
    let too_many: Vec<Value> = (0..101).map(|i| json!({"op": "delete", "id": format!("x{i}")})).collect();
    let refused = client.call("registration.batch", json!({"operations": too_many})).await.unwrap_err();
    assert_eq!(refused.code, -32602);
}

#[tokio::test]
async fn scheduling_conflicts_over_http() {
    let client = manager(&network("reg-conflicts")).await;
    let at = |h: u32, m: u32| format!("2027-05-01T{h:02}:{m:02}:00Z");
    let registration = json!({
        "sessions": [
            {"id": "keynote", "startDate": at(9, 0), "endDate": at(10, 0)},
            {"id": "nested", "startDate": at(9, 15), "endDate": at(9, 45)},
            {"id": "after", "startDate": at(10, 0), "endDate": at(11, 0)},
            {"id": "undated"}
        ],
        "functions": [
            {"functionId": "lunch", "startDate": at(12, 0), "endDate": at(13, 0)},
            {"functionId": "overlap", "startDate": at(10, 30), "endDate": at(12, 30)}
        ]
    });
    let found =
        client.call("registration.detectSchedulingConflicts", json!({"registration": registration})).await.unwrap();
    let pairs: HashSet<(String, String)> = found["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["first"]["id"].as_str().unwrap().to_owned(), c["second"]["id"].as_str().unwrap().to_owned()))
        .collect();
    let expected: HashSet<(String, String)> = [("keynote", "nested"), ("after", "overlap"), ("lunch", "overlap")]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(pairs, expected, "touching ends (keynote/after) do not overlap");
    let first = &found["conflicts"][0]["first"];
    assert!(first["kind"].is_string() && first["startDate"].as_str().unwrap().ends_with(".000Z"));
    let bad = json!({"registration": {"sessions": [{"id": "x", "startDate": "soon", "endDate": at(9, 0)}]}});
    assert_eq!(client.call("registration.detectSchedulingConflicts", bad).await.unwrap_err().code, -32602);
    assert_eq!(client.call("registration.search", json!({})).await.unwrap()["count"], 0, "nothing is stored");
}

#[tokio::test]
async fn bare_params_form_works_for_registrations() {
    let client = manager(&network("reg-bare")).await;
    let created = client.bare("registration.create", json!({"registration": registration("c1")})).await.unwrap();
    let id = created["registration"]["id"].clone();
    let listed = client.bare("registration.listByContact", json!({"contactId": "c1"})).await.unwrap();
    assert_eq!(listed["items"][0]["id"], id);
    let err = client.bare("registration.get", json!({"id": "missing"})).await.unwrap_err();
    assert_eq!(err.code, -32004);
}

/// A list writes each registration from its stored fields; what it writes is exactly what `get` answers, every
/// defaulted field included.
#[tokio::test]
async fn lists_answer_each_registration_as_get_does() {
    let client = manager(&network("reg-listed")).await;
    let mut full = registration("c-listed");
    full["city"] = json!("Lisbon");
    full["orderTotal"] = json!(12.5);
    full["sessions"] = json!([{"name": "Keynote"}]);
    full["isGuestRegistration"] = json!(true);
    let made = [create(&client, registration("c-listed")).await.unwrap(), create(&client, full).await.unwrap()];
    for r in &made {
        let id = r["id"].as_str().unwrap();
        let got = client.call("registration.get", json!({"id": id})).await.unwrap()["registration"].clone();
        assert_eq!(&got, r, "create and get answer alike");
        let searched = client.call("registration.search", json!({"ids": [id]})).await.unwrap();
        assert_eq!(searched["items"], json!([got.clone()]), "search");
        let by_contact = client.call("registration.listByContact", json!({"contactId": "c-listed"})).await.unwrap();
        let listed = by_contact["items"].as_array().unwrap().iter().find(|x| x["id"] == id).unwrap();
        assert_eq!(listed, &got, "listByContact");
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(listed), keys(&got), "the same members in the same order");
    }
}
