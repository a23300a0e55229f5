//! Input hardening, black-box over HTTP: every list filter, record array, record and list is bounded; numbers the
//! server makes stay within what it validates; timestamps stay within years 0001-9999; text filters fold case as
//! the search index does, whatever their length; a token cannot be born expired; a change that changes nothing
//! leaves the version alone; integers and money are exact. Bad input is always `-32602`, never `-32603`.

use crate::common;

use std::collections::HashSet;

use common::{
    Client, RpcError, call_many, create_registration as create, create_seat, creation_order, manager, network,
    registration, seat, ticket,
};
use serde_json::{Value, json};
/// Asserts a `-32602` that names exactly `field`, with a message containing `words`.
fn assert_invalid(result: Result<Value, RpcError>, field: &str, words: &str, what: &str) {
    let e = match result {
        Ok(v) => panic!("{what}: accepted: {}", &v.to_string()[..v.to_string().len().min(300)]),
        Err(e) => e,
    };
    assert_eq!(e.code, -32602, "{what}: {e:?}");
    assert_eq!(e.fields(), [field], "{what}: {}", e.data);
    let message = e.data["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains(words), "{what}: message {message:?} does not say {words:?}");
}

/// The ids of a list answer's items.
fn ids(answer: &Value) -> Vec<String> {
    answer["items"].as_array().expect("items").iter().map(|r| r["id"].as_str().expect("id").to_owned()).collect()
}

/// Every item of a list, page by page with the given params (no limit unless they hold one); each page checked.
async fn walk(client: &Client, method: &str, params: Value, page_size: usize) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let mut p = params.clone();
        if !cursor.is_null() {
            p["cursor"] = cursor.clone();
        }
        let page = client.call(method, p).await.unwrap();
        let items = ids(&page);
        assert!(items.len() <= page_size, "{method}: {} items in one page", items.len());
        cursor = page["nextCursor"].clone();
        if !cursor.is_null() {
            assert_eq!(items.len(), page_size, "{method}: a page that is not the last is full");
        }
        seen.extend(items);
        if cursor.is_null() {
            return seen;
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// 1. List filters hold at most 1,000 values.
// ---------------------------------------------------------------------------------------------------------------

/// `n` valid values for a list filter of `registration.search`.
fn values(filter: &str, n: usize) -> Value {
    const ORDER_STATUSES: [&str; 3] = ["open", "completed", "void"];
    Value::Array(
        (0..n)
            .map(|i| match filter {
                "orderNumber" => json!(i),
                "orderStatus" => json!(ORDER_STATUSES[i % 3]),
                "status" => json!(["active", "draft"][i % 2]),
                "isGuestRegistration" => json!(i % 2 == 0),
                _ => json!(format!("v{i}")),
            })
            .collect(),
    )
}

const SEARCH_LISTS: [&str; 13] = [
    "ids",
    "organizationId",
    "orderId",
    "orderNumber",
    "orderStatus",
    "contactId",
    "status",
    "isGuestRegistration",
    "typeId",
    "packageId",
    "groupId",
    "deadlineId",
    "parentRegistrationId",
];

#[tokio::test]
async fn every_list_filter_takes_at_most_1000_values() {
    let client = manager(&network("in-lists")).await;
    let made = create(&client, registration("v7")).await.unwrap();
    for filter in SEARCH_LISTS {
        let found = client.call("registration.search", json!({ filter: values(filter, 1000) })).await;
        assert!(found.is_ok(), "{filter}: 1000 values are accepted: {found:?}");
        let refused = client.call("registration.search", json!({ filter: values(filter, 1001) })).await;
        assert_invalid(refused, filter, "at most 1000 values", filter);
    }
    // Every list at its bound at once: some 13,000 values in one search, still one statement SQLite takes.
    let mut all = json!({});
    for filter in SEARCH_LISTS {
        all[filter] = values(filter, 1000);
    }
    assert_eq!(client.call("registration.search", all).await.unwrap()["count"], 0);
    // 1000 values find what they name.
    let mut contacts = values("contactId", 1000);
    contacts[7] = json!("v7");
    let found = client.call("registration.search", json!({"contactId": contacts})).await.unwrap();
    assert_eq!(ids(&found), [made["id"].as_str().unwrap()]);

    let tickets = client.call("ticket.getPurchasableTickets", json!({"productIds": values("productIds", 1000)})).await;
    assert_eq!(tickets.unwrap()["count"], 0);
    let refused = client.call("ticket.getPurchasableTickets", json!({"productIds": values("productIds", 1001)})).await;
    assert_invalid(refused, "productIds", "at most 1000 values", "productIds");
    let names: Vec<&str> = vec!["name"; 1001];
    let refused = client.call("registration.search", json!({"fields": names})).await;
    assert_invalid(refused, "fields", "at most 1000 values", "fields");
}

/// SQLite takes at most 32,766 bound values in one statement: a longer list once ended in `-32603`.
#[tokio::test]
async fn a_filter_of_40000_values_is_invalid_params_not_an_internal_error() {
    let client = manager(&network("in-huge-list")).await;
    for filter in ["contactId", "ids"] {
        let refused = client.call("registration.search", json!({ filter: values(filter, 40_000) })).await;
        assert_invalid(refused, filter, "at most 1000 values", filter);
    }
    let refused =
        client.call("ticket.getPurchasableTickets", json!({"productIds": values("productIds", 40_000)})).await;
    assert_invalid(refused, "productIds", "at most 1000 values", "productIds");
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Registration numbers the server makes stay within what it validates.
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn numbers_the_server_makes_never_pass_the_maximum() {
    let client = manager(&network("in-number")).await;
    let mut last = registration("c-last");
    last["eventId"] = json!("ev-max");
    last["number"] = json!(2147483647);
    assert_eq!(create(&client, last).await.unwrap()["number"], 2147483647);

    let mut next = registration("c-next");
    next["eventId"] = json!("ev-max");
    let refused = create(&client, next.clone()).await;
    assert_invalid(refused, "registration.number", "used up", "the event's next number");
    next["number"] = json!(5);
    assert_eq!(create(&client, next).await.unwrap()["number"], 5, "a free number given by the client is taken");
    // Moving a registration into the event would need a number too.
    let elsewhere = create(&client, registration("c-elsewhere")).await.unwrap();
    let moved = client
        .call(
            "registration.patch",
            json!({"id": elsewhere["id"], "patch": [{"op": "replace", "path": "/eventId", "value": "ev-max"}]}),
        )
        .await;
    assert_invalid(moved, "registration.number", "used up", "a move into the event");
    let still = client.call("registration.get", json!({"id": elsewhere["id"]})).await.unwrap();
    assert_eq!(still["registration"], elsewhere, "the refused move changed nothing");

    // Every record of the event can still be patched and updated unchanged.
    let event = client.call("registration.search", json!({"eventId": "ev-max"})).await.unwrap();
    assert_eq!(event["count"], 2);
    for record in event["items"].as_array().unwrap() {
        let id = &record["id"];
        let unchanged = client.call("registration.update", json!({"registration": record})).await;
        assert_eq!(unchanged.unwrap()["registration"]["number"], record["number"], "{record}");
        let patch = json!([{"op": "replace", "path": "/city", "value": "Oslo"}]);
        let patched = client.call("registration.patch", json!({"id": id, "patch": patch})).await.unwrap();
        assert_eq!(patched["registration"]["city"], "Oslo");
        let current = patched["registration"].clone();
        let again = client.call("registration.update", json!({"registration": current})).await.unwrap();
        assert_eq!(again["registration"]["city"], "Oslo");
    }
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Record arrays, records and lists are bounded.
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn record_arrays_hold_at_most_1000_entries() {
    let client = manager(&network("in-arrays")).await;
    let objects = |n: usize| Value::Array((0..n).map(|i| json!({"i": i})).collect());
    for array in ["sessions", "courses", "functions", "addOns", "guests", "customFieldValues", "ribbonIds"] {
        let many = |n: usize| if array == "ribbonIds" { values(array, n) } else { objects(n) };
        let mut r = registration("c1");
        r[array] = many(1000);
        assert_eq!(create(&client, r.clone()).await.unwrap()[array].as_array().unwrap().len(), 1000, "{array}");
        r[array] = many(1001);
        assert_invalid(create(&client, r).await, &format!("registration.{array}"), "at most 1000", array);
    }
    let mut s = seat("gala", "c1");
    s["customFieldValues"] = objects(1000);
    create_seat(&client, s.clone()).await.unwrap();
    s["customFieldValues"] = objects(1001);
    assert_invalid(create_seat(&client, s).await, "functionTicket.customFieldValues", "at most 1000", "seat");
    // A patch that makes an array too long is refused as a whole.
    let made = create(&client, registration("c2")).await.unwrap();
    let ops: Vec<Value> = (0..1001).map(|i| json!({"op": "add", "path": "/sessions/-", "value": {"i": i}})).collect();
    let refused = client.call("registration.patch", json!({"id": made["id"], "patch": ops})).await;
    assert_eq!(refused.unwrap_err().code, -32602);
    let after = client.call("registration.get", json!({"id": made["id"]})).await.unwrap();
    assert_eq!(after["registration"], made);
    let searched = client.call("registration.search", json!({"contactId": ["c1"]})).await.unwrap();
    assert_eq!(searched["count"], 7, "only the valid registrations were made");
}

#[tokio::test]
async fn records_are_at_most_256_kib() {
    let client = manager(&network("in-size")).await;
    let padded = |n: usize| Value::Array((0..n).map(|i| json!({"i": i, "pad": "x".repeat(1000)})).collect());
    let mut r = registration("c1");
    r["sessions"] = padded(200);
    create(&client, r.clone()).await.expect("about 200 KB fits");
    r["sessions"] = padded(300);
    assert_invalid(create(&client, r).await, "registration", "256 KiB", "a 300 KB registration");
    let mut s = seat("gala", "c1");
    s["customFieldValues"] = padded(200);
    create_seat(&client, s.clone()).await.expect("about 200 KB fits");
    s["customFieldValues"] = padded(300);
    assert_invalid(create_seat(&client, s).await, "functionTicket", "256 KiB", "a 300 KB function ticket");

    // A patch that copies a value onto itself, again and again, is refused before it grows without bound.
    let mut small = registration("c2");
    small["badge"] = json!({"line": "y".repeat(1000)});
    let made = create(&client, small).await.unwrap();
    let doubling: Vec<Value> =
        (0..12).map(|i| json!({"op": "copy", "from": "/badge", "path": format!("/badge/k{i}")})).collect();
    let refused = client.call("registration.patch", json!({"id": made["id"], "patch": doubling})).await;
    assert_eq!(refused.unwrap_err().code, -32602);
    let after = client.call("registration.get", json!({"id": made["id"]})).await.unwrap();
    assert_eq!(after["registration"], made, "the refused patch changed nothing");
}

#[tokio::test]
async fn record_lists_answer_100_items_without_a_limit() {
    let client = manager(&network("in-pages")).await;
    let parent = create(&client, registration("c-parent")).await.unwrap();
    let guests: Vec<Value> = (0..150)
        .map(|_| {
            let mut r = registration("c-many");
            r["groupId"] = json!("g1");
            r["orderId"] = json!("o1");
            r["organizationId"] = json!("org1");
            r["parentRegistrationId"] = parent["id"].clone();
            json!({ "registration": r })
        })
        .collect();
    let made = call_many(&client, "registration.create", guests).await;
    let made: Vec<String> = made.iter().map(|r| r["registration"]["id"].as_str().unwrap().to_owned()).collect();
    let expected = creation_order(&client, "registration.listByContact", json!({"contactId": "c-many"}), &made).await;
    let lists = [
        ("registration.search", json!({"contactId": ["c-many"]})),
        ("registration.listByContact", json!({"contactId": "c-many"})),
        ("registration.listByEventContact", json!({"eventId": "ev1", "contactId": "c-many"})),
        ("registration.listByParent", json!({"parentRegistrationId": parent["id"]})),
        ("registration.listByOrder", json!({"orderId": "o1"})),
        ("registration.listByGroup", json!({"groupId": "g1"})),
        ("registration.listByEventOrganization", json!({"eventId": "ev1", "organizationId": "org1"})),
    ];
    for (method, params) in lists {
        let first = client.call(method, params.clone()).await.unwrap();
        assert_eq!(first["count"], 150, "{method}");
        assert_eq!(ids(&first).len(), 100, "{method}: 100 items without a limit");
        assert!(first["nextCursor"].is_string(), "{method}: a cursor to page on");
        let all = walk(&client, method, params.clone(), 100).await;
        assert_eq!(all, expected, "{method}: every registration once, in creation order");
        let mut big = params.clone();
        big["limit"] = json!(1000);
        assert_eq!(ids(&client.call(method, big).await.unwrap()).len(), 150, "{method}: a limit of 1000");
        let mut too_big = params.clone();
        too_big["limit"] = json!(1001);
        assert_invalid(client.call(method, too_big).await, "limit", "1000", method);
    }
    let everyone = client.call("registration.search", json!({})).await.unwrap();
    assert_eq!((everyone["count"].clone(), ids(&everyone).len()), (json!(151), 100));
    let unique: HashSet<String> = walk(&client, "registration.search", json!({}), 100).await.into_iter().collect();
    assert_eq!(unique.len(), 151);
}

#[tokio::test]
async fn function_ticket_lists_answer_100_items_without_a_limit() {
    let client = manager(&network("in-seat-pages")).await;
    let seats: Vec<Value> = (0..120).map(|_| json!({"functionTicket": seat("gala", "c-many")})).collect();
    let made = call_many(&client, "functionTicket.create", seats).await;
    let made: Vec<String> = made.iter().map(|r| r["functionTicket"]["id"].as_str().unwrap().to_owned()).collect();
    let expected = creation_order(&client, "functionTicket.listByFunction", json!({"functionId": "gala"}), &made).await;
    for (method, params) in [
        ("functionTicket.listByFunction", json!({"functionId": "gala"})),
        ("functionTicket.listByEventContact", json!({"eventId": "ev1", "contactId": "c-many"})),
    ] {
        let first = client.call(method, params.clone()).await.unwrap();
        assert_eq!((first["count"].clone(), ids(&first).len()), (json!(120), 100), "{method}");
        assert_eq!(walk(&client, method, params.clone(), 100).await, expected, "{method}");
        let mut too_big = params;
        too_big["limit"] = json!(1001);
        assert_invalid(client.call(method, too_big).await, "limit", "1000", method);
    }
}

#[tokio::test]
async fn the_ticket_list_answers_every_ticket_without_a_limit() {
    let client = manager(&network("in-ticket-pages")).await;
    let tickets: Vec<Value> = (0..120).map(|i| json!({"ticket": ticket(&format!("t{i:03}"))})).collect();
    call_many(&client, "ticket.createPurchasableTicket", tickets).await;
    let all = client.call("ticket.getPurchasableTickets", json!({})).await.unwrap();
    assert_eq!((all["count"].clone(), all["tickets"].as_array().unwrap().len()), (json!(120), 120));
    assert_eq!(all["nextCursor"], Value::Null);
    let refused = client.call("ticket.getPurchasableTickets", json!({"limit": 1001})).await;
    assert_invalid(refused, "limit", "1000", "ticket list limit");
}

// ---------------------------------------------------------------------------------------------------------------
// 4. Timestamps: years 0001 to 9999.
// ---------------------------------------------------------------------------------------------------------------

/// Timestamps outside years 0001-9999, as epoch milliseconds and RFC 3339.
fn out_of_range() -> Vec<Value> {
    vec![
        json!(-99999999999999i64),
        json!(-62135596800001i64),
        json!(253402300800000i64),
        json!(99999999999999999i64),
        json!("0000-12-31T23:59:59.999Z"),
        json!("0001-01-01T00:30:00+01:00"),
        json!("9999-12-31T23:30:00-01:00"),
    ]
}

#[tokio::test]
async fn timestamps_outside_years_1_to_9999_are_refused() {
    let client = manager(&network("in-time")).await;
    for bad in out_of_range() {
        for field in ["eventStartDate", "eventEndDate", "date", "checkinDate", "lastModificationDate"] {
            let mut r = registration("c1");
            r[field] = bad.clone();
            assert_invalid(create(&client, r).await, &format!("registration.{field}"), "9999", &format!("{bad}"));
        }
        let mut t = ticket("t1");
        t["eventStartDate"] = bad.clone();
        let refused = client.call("ticket.createPurchasableTicket", json!({ "ticket": t })).await;
        assert_invalid(refused, "ticket.eventStartDate", "9999", &format!("ticket {bad}"));
        for filter in ["startsFrom", "startsTo"] {
            let refused = client.call("ticket.getPurchasableTickets", json!({ filter: bad })).await;
            assert_invalid(refused, filter, "9999", &format!("{filter} {bad}"));
        }
        let refused = client.call("registration.search", json!({"date": {"from": bad}})).await;
        assert_invalid(refused, "date", "9999", &format!("date filter {bad}"));
        let schedule = json!({"sessions": [{"id": "s", "startDate": bad, "endDate": "2027-01-01T00:00:00Z"}]});
        let refused = client.call("registration.detectSchedulingConflicts", json!({"registration": schedule})).await;
        assert_invalid(refused, "registration.sessions[0].startDate", "9999", &format!("session {bad}"));
        let seat = json!({"name": "t", "grants": ["all@*"], "expiresAt": bad});
        let refused = Client::admin().call("admin.createToken", seat).await;
        assert_eq!(refused.unwrap_err().fields(), ["expiresAt"], "{bad}");
    }
    let listed = client.call("registration.search", json!({})).await.unwrap();
    assert_eq!(listed["count"], 0, "nothing was made");
}

#[tokio::test]
async fn timestamps_at_both_ends_of_the_range_round_trip() {
    let client = manager(&network("in-time-ends")).await;
    let (first, last) = ("0001-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z");
    for (start, end) in
        [(json!("0001-01-01T00:00:00Z"), json!(last)), (json!(-62135596800000i64), json!(253402300799999i64))]
    {
        let mut r = registration("c1");
        r["eventStartDate"] = start.clone();
        r["eventEndDate"] = end.clone();
        r["date"] = start.clone();
        r["checkinDate"] = end.clone();
        let made = create(&client, r).await.unwrap();
        assert_eq!((made["eventStartDate"].as_str(), made["eventEndDate"].as_str()), (Some(first), Some(last)));
        assert_eq!((made["date"].as_str(), made["checkinDate"].as_str()), (Some(first), Some(last)));
        let sent_back = client.call("registration.update", json!({"registration": made})).await.unwrap();
        assert_eq!(sent_back["registration"]["eventStartDate"], first);
        assert_eq!(sent_back["registration"]["eventEndDate"], last);

        let mut t = ticket(&format!("t{}", start.is_string()));
        t["eventStartDate"] = start.clone();
        t["eventEndDate"] = end.clone();
        let made =
            client.call("ticket.createPurchasableTicket", json!({ "ticket": t })).await.unwrap()["ticket"].clone();
        assert_eq!((made["eventStartDate"].as_str(), made["eventEndDate"].as_str()), (Some(first), Some(last)));
        let sent_back = client.call("ticket.updatePurchasableTicket", json!({"ticket": made})).await.unwrap();
        assert_eq!(sent_back["ticket"]["eventEndDate"], last);
    }
    let found = client.call("registration.search", json!({"date": {"from": first, "to": last}})).await.unwrap();
    assert_eq!(found["count"], 2);
    let listed = client.call("ticket.getPurchasableTickets", json!({"startsFrom": first, "startsTo": last})).await;
    assert_eq!(listed.unwrap()["count"], 2);
}

// ---------------------------------------------------------------------------------------------------------------
// 5. Text filters fold case, whatever their length, as the trigram index does.
// ---------------------------------------------------------------------------------------------------------------

const TEXT_FILTERS: [&str; 8] =
    ["firstName", "lastName", "name", "emailAddress", "city", "state", "country", "jobTitle"];

#[tokio::test]
async fn text_filters_fold_case_whatever_their_length() {
    let client = manager(&network("in-fold")).await;
    let people = ["Élodie", "ÉLODIE", "Elodie", "Straße", "STRAẞE", "Жанна", "ΣΟΦΙΑ"];
    for person in people {
        let mut r = registration(person);
        r["contactId"] = json!(format!("c{}", person.len()));
        for field in TEXT_FILTERS {
            r[field] = json!(person);
        }
        r["emailAddress"] = json!(format!("{person}@example.org"));
        create(&client, r).await.unwrap();
    }
    let cases: [(&str, &[&str]); 14] = [
        ("él", &["Élodie", "ÉLODIE"]),
        ("ÉL", &["Élodie", "ÉLODIE"]),
        ("É", &["Élodie", "ÉLODIE"]),
        ("élo", &["Élodie", "ÉLODIE"]),
        ("odi", &["Élodie", "ÉLODIE", "Elodie"]),
        ("OD", &["Élodie", "ÉLODIE", "Elodie"]),
        ("ß", &["Straße", "STRAẞE"]),
        ("ẞe", &["Straße", "STRAẞE"]),
        ("aße", &["Straße", "STRAẞE"]),
        ("жа", &["Жанна"]),
        ("ЖАН", &["Жанна"]),
        ("σο", &["ΣΟΦΙΑ"]),
        ("φια", &["ΣΟΦΙΑ"]),
        ("ie", &["Élodie", "ÉLODIE", "Elodie"]),
    ];
    for filter in TEXT_FILTERS {
        for (text, expected) in cases {
            let found = client.call("registration.search", json!({ filter: text })).await.unwrap();
            let mut names: Vec<&str> =
                found["items"].as_array().unwrap().iter().map(|r| r["firstName"].as_str().unwrap()).collect();
            names.sort_unstable();
            let mut expected = expected.to_vec();
            expected.sort_unstable();
            assert_eq!(names, expected, "{filter}: {text:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// 6. A token cannot be born expired.
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_token_must_expire_in_the_future() {
    let admin = Client::admin();
    for past in [json!("2020-01-01T00:00:00Z"), json!(0), json!("0001-01-01T00:00:00Z")] {
        let name = network("born-expired");
        let refused =
            admin.call("admin.createToken", json!({"name": name, "grants": ["all@*"], "expiresAt": past})).await;
        assert_invalid(refused, "expiresAt", "future", &format!("{past}"));
        let tokens = admin.call("admin.listTokens", json!({})).await.unwrap();
        assert!(tokens["tokens"].as_array().unwrap().iter().all(|t| t["name"] != name.as_str()), "nothing made");
    }
    let made = admin
        .call("admin.createToken", json!({"name": "later", "grants": ["all@*"], "expiresAt": "9999-01-01T00:00:00Z"}))
        .await
        .unwrap();
    assert_eq!(made["tokenInfo"]["expiresAt"], "9999-01-01T00:00:00.000Z");
}

// ---------------------------------------------------------------------------------------------------------------
// 7. A change that changes nothing leaves sysVersion and sysLastModifiedAt alone.
// ---------------------------------------------------------------------------------------------------------------

/// JSON Patches that change nothing.
fn idle_patches() -> Vec<Value> {
    vec![
        json!([]),
        json!([{"op": "test", "path": "/status", "value": "active"}]),
        json!([{"op": "replace", "path": "/contactId", "value": "c1"}]),
        json!([{"op": "add", "path": "/contactId", "value": "c1"}, {"op": "test", "path": "/contactId", "value": "c1"}]),
        json!([{"op": "copy", "from": "/contactId", "path": "/contactId"}]),
        json!([{"op": "replace", "path": "/contactId", "value": "c2"}, {"op": "replace", "path": "/contactId", "value": "c1"}]),
    ]
}

#[tokio::test]
async fn a_ticket_update_that_changes_nothing_keeps_the_version() {
    let (c, other) = {
        let net = network("in-idle-ticket");
        (manager(&net).await, manager(&net).await)
    };
    let made =
        c.call("ticket.createPurchasableTicket", json!({"ticket": ticket("idle")})).await.unwrap()["ticket"].clone();
    let echoed = other.call("ticket.updatePurchasableTicket", json!({"ticket": made})).await.unwrap();
    assert_eq!(echoed["ticket"], made, "the stored ticket, unchanged");
    let resent = other.call("ticket.updatePurchasableTicket", json!({"ticket": ticket("idle")})).await.unwrap();
    assert_eq!(resent["ticket"], made, "the create params again");
    let mut versioned = ticket("idle");
    versioned["sysVersion"] = json!(1);
    let checked = other.call("ticket.updatePurchasableTicket", json!({"ticket": versioned})).await.unwrap();
    assert_eq!(checked["ticket"], made);
    assert_eq!(c.call("ticket.getPurchasableTicket", json!({"productId": "idle"})).await.unwrap()["ticket"], made);
    let mut changed = ticket("idle");
    changed["price"] = json!(1);
    let moved = c.call("ticket.updatePurchasableTicket", json!({"ticket": changed})).await.unwrap();
    assert_eq!(moved["ticket"]["sysVersion"], 2, "a real change still counts");
}

#[tokio::test]
async fn a_registration_change_that_changes_nothing_keeps_the_version() {
    let (c, other) = {
        let net = network("in-idle-reg");
        (manager(&net).await, manager(&net).await)
    };
    let mut r = registration("c1");
    r["orderTotal"] = json!(12.5);
    r["sessions"] = json!([{"id": "s1"}]);
    r["eventStartDate"] = json!("2027-05-01T09:00:00+02:00");
    let made = create(&c, r.clone()).await.unwrap();
    let id = made["id"].clone();
    let unchanged = other.call("registration.update", json!({"registration": made})).await.unwrap();
    assert_eq!(unchanged["registration"], made, "update with the record as answered");
    let mut resent = r.clone();
    resent["id"] = id.clone();
    resent["date"] = made["date"].clone();
    let unchanged = other.call("registration.update", json!({"registration": resent})).await.unwrap();
    assert_eq!(unchanged["registration"], made, "update with the create params");
    for patch in idle_patches() {
        let patched = other.call("registration.patch", json!({"id": id, "patch": patch, "sysVersion": 1})).await;
        assert_eq!(patched.unwrap()["registration"], made, "patch {patch}");
    }
    let operations: Vec<Value> =
        idle_patches().into_iter().map(|p| json!({"op": "patch", "id": id, "patch": p})).collect();
    let report = other.call("registration.batch", json!({"operations": operations})).await.unwrap();
    assert_eq!(report["successCount"], idle_patches().len());
    for result in report["results"].as_array().unwrap() {
        assert_eq!(result["registration"], made, "batch patch");
    }
    let transferred = other.call("registration.transfer", json!({"id": id, "contactId": "c1"})).await.unwrap();
    assert_eq!(transferred["registration"], made, "a transfer to the same contact");
    assert_eq!(c.call("registration.get", json!({"id": id})).await.unwrap()["registration"], made);
    let real = json!([{"op": "replace", "path": "/city", "value": "Oslo"}]);
    let moved = c.call("registration.patch", json!({"id": id, "patch": real})).await.unwrap();
    assert_eq!(moved["registration"]["sysVersion"], 2, "a real change still counts");
}

#[tokio::test]
async fn a_function_ticket_change_that_changes_nothing_keeps_the_version() {
    let (c, other) = {
        let net = network("in-idle-seat");
        (manager(&net).await, manager(&net).await)
    };
    let mut s = seat("gala", "c1");
    s["customFieldValues"] = json!([{"field": "table", "value": 7}]);
    let made = create_seat(&c, s.clone()).await.unwrap();
    let id = made["id"].clone();
    let unchanged = other.call("functionTicket.update", json!({"functionTicket": made})).await.unwrap();
    assert_eq!(unchanged["functionTicket"], made);
    s["id"] = id.clone();
    let unchanged = other.call("functionTicket.update", json!({"functionTicket": s})).await.unwrap();
    assert_eq!(unchanged["functionTicket"], made);
    for patch in idle_patches() {
        let patched = other.call("functionTicket.patch", json!({"id": id, "patch": patch})).await;
        assert_eq!(patched.unwrap()["functionTicket"], made, "patch {patch}");
    }
    let operations: Vec<Value> =
        idle_patches().into_iter().map(|p| json!({"op": "patch", "id": id, "patch": p})).collect();
    let report = other.call("functionTicket.batch", json!({"operations": operations})).await.unwrap();
    for result in report["results"].as_array().unwrap() {
        assert_eq!(result["functionTicket"], made, "batch patch");
    }
    assert_eq!(c.call("functionTicket.get", json!({"id": id})).await.unwrap()["functionTicket"], made);
}

// ---------------------------------------------------------------------------------------------------------------
// 8. Integers and money are exact.
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn integers_must_be_exact() {
    let client = manager(&network("in-integers")).await;
    let huge: Value = serde_json::from_str("123456789012345678901234567890").unwrap();
    for (field, bad) in [
        ("orderNumber", huge.clone()),
        ("orderNumber", json!(9007199254740992u64)),
        ("orderNumber", json!(-9007199254740992i64)),
        ("orderNumber", json!(1.5)),
        ("groupOrder", json!(1e20)),
        ("groupOrder", json!(2.25)),
        ("number", json!(2147483648u64)),
        ("number", huge.clone()),
    ] {
        let mut r = registration("c1");
        r[field] = bad.clone();
        let refused = create(&client, r).await.unwrap_err();
        assert_eq!((refused.code, refused.fields()), (-32602, vec![format!("registration.{field}")]), "{bad}");
    }
    let mut r = registration("c1");
    r["orderNumber"] = json!(9007199254740991u64);
    r["groupOrder"] = json!(-3);
    let made = create(&client, r).await.unwrap();
    assert_eq!((made["orderNumber"].as_u64(), made["groupOrder"].as_i64()), (Some(9007199254740991), Some(-3)));
    let found = client.call("registration.search", json!({"orderNumber": [9007199254740991u64]})).await.unwrap();
    assert_eq!(found["count"], 1);
    let refused = client.call("registration.search", json!({"orderNumber": [huge.clone()]})).await.unwrap_err();
    assert_eq!((refused.code, refused.fields()), (-32602, vec!["orderNumber".to_owned()]));
    for bad in [huge.clone(), json!(9007199254740992u64)] {
        let patch = json!({"id": made["id"], "sysVersion": bad, "patch": []});
        let refused = client.call("registration.patch", patch).await.unwrap_err();
        assert_eq!((refused.code, refused.fields()), (-32602, vec!["sysVersion".to_owned()]), "{bad}");
    }
    for (field, bad) in [("allocation", huge.clone()), ("displayOrder", huge.clone()), ("maxPerAttendee", json!(1e300))]
    {
        let mut t = ticket("t1");
        t[field] = bad.clone();
        let refused = client.call("ticket.createPurchasableTicket", json!({ "ticket": t })).await.unwrap_err();
        assert_eq!((refused.code, refused.fields()), (-32602, vec![format!("ticket.{field}")]), "{bad}");
    }
    let refused = client.call("registration.search", json!({"limit": huge})).await.unwrap_err();
    assert_eq!((refused.code, refused.fields()), (-32602, vec!["limit".to_owned()]));
}

#[tokio::test]
async fn money_must_be_exact_cents() {
    let client = manager(&network("in-money")).await;
    let huge: Value = serde_json::from_str("123456789012345678901234567890").unwrap();
    for field in ["orderTotal", "orderBalanceDue", "orderAmountPaid"] {
        for bad in [json!(0.001), json!(12.345), json!(1e300), huge.clone(), json!(-1)] {
            let mut r = registration("c1");
            r[field] = bad.clone();
            let refused = create(&client, r).await.unwrap_err();
            assert_eq!((refused.code, refused.fields()), (-32602, vec![format!("registration.{field}")]), "{bad}");
        }
        let mut r = registration("c1");
        r[field] = json!(1234.5);
        assert_eq!(create(&client, r).await.unwrap()[field], 1234.5);
        let refused = client.call("registration.search", json!({ field: {"from": 0.001} })).await.unwrap_err();
        assert_eq!((refused.code, refused.fields()), (-32602, vec![field.to_owned()]));
    }
    for bad in [huge, json!(1e20), json!(0.001)] {
        let mut t = ticket("t1");
        t["price"] = bad.clone();
        let refused = client.call("ticket.createPurchasableTicket", json!({ "ticket": t })).await.unwrap_err();
        assert_eq!((refused.code, refused.fields()), (-32602, vec!["ticket.price".to_owned()]), "{bad}");
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Bad input elsewhere is -32602 too.
// ---------------------------------------------------------------------------------------------------------------

/// Every session overlapping every other makes half a million pairs; the answer is bounded instead.
#[tokio::test]
async fn a_schedule_with_too_many_conflicts_is_refused() {
    let client = manager(&network("in-conflicts")).await;
    let overlapping = |n: usize| -> Vec<Value> {
        (0..n)
            .map(|i| json!({"id": format!("s{i}"), "startDate": "2027-05-01T09:00:00Z", "endDate": "2027-05-01T10:00:00Z"}))
            .collect()
    };
    let found = client
        .call("registration.detectSchedulingConflicts", json!({"registration": {"sessions": overlapping(100)}}))
        .await
        .unwrap();
    assert_eq!(found["conflicts"].as_array().unwrap().len(), 4950);
    let refused = client
        .call("registration.detectSchedulingConflicts", json!({"registration": {"sessions": overlapping(1000)}}))
        .await;
    assert_invalid(refused, "registration", "conflicts", "1000 overlapping sessions");
    let refused = client
        .call("registration.detectSchedulingConflicts", json!({"registration": {"sessions": overlapping(1001)}}))
        .await;
    assert_invalid(refused, "registration.sessions", "at most 1000", "1001 sessions");
}

/// Text filters hold any characters, NUL and the search syntax's own included.
#[tokio::test]
async fn text_filters_take_any_characters() {
    let client = manager(&network("in-odd-text")).await;
    let mut r = registration("c1");
    r["city"] = json!("a\"b*c");
    create(&client, r).await.unwrap();
    // Another registration, which none of the texts below names: a filter that was dropped would find it too.
    let mut other = registration("c2");
    other["city"] = json!("Rome");
    create(&client, other).await.unwrap();
    for text in ["\u{0}", "a\u{0}b", "a\u{0}bc"] {
        let found = client.call("registration.search", json!({"city": text})).await;
        assert!(found.is_ok(), "{text:?}: {found:?}");
    }
    let texts = [
        ("\"", 1),
        ("\"\"\"", 0),
        ("a\"b", 1),
        ("A\"B", 1),
        ("*", 1),
        ("b*c", 1),
        ("NEAR(a b)", 0),
        ("c:", 0),
        ("\\", 0),
        ("'", 0),
        ("%_", 0),
    ];
    for (text, count) in texts {
        let found = client.call("registration.search", json!({"city": text})).await.unwrap();
        assert_eq!(found["count"], count, "{text:?}");
    }
}
