//! Input hardening, black-box over HTTP: every list filter, record array, record and list is bounded; numbers the
//! server makes stay within what it validates; timestamps stay within years 0001-9999; text filters fold case as
//! the search index does, whatever their length; a token cannot be born expired; a change that changes nothing
//! leaves the version alone; integers and money are exact. Bad input is always `-32602`, never `-32603`.

mod common;

use common::{Client, RpcError, manager, network, ticket};
use serde_json::{Value, json};
fn registration(contact: &str) -> Value {
    json!({"eventId": "ev1", "name": "Ada Lovelace", "contactId": contact, "typeId": "attendee", "packageId": "full"})
}

async fn create(client: &Client, registration: Value) -> Result<Value, RpcError> {
    client.call("registration.create", json!({ "registration": registration })).await.map(|r| r["registration"].clone())
}

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
