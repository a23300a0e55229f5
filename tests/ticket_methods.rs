//! The `ticket.*` methods, held to API.md sections 4 and 5, each case in both wire forms: plain JSON-RPC and the
//! Adminserver's path form with bare params.

mod common;

use common::{Client, RpcError, manager, network, ticket};
use serde_json::{Value, json};

/// The two wire forms.
#[derive(Debug, Clone, Copy)]
enum Form {
    JsonRpc,
    Bare,
}

const FORMS: [Form; 2] = [Form::JsonRpc, Form::Bare];

async fn call(client: &Client, form: Form, method: &str, params: Value) -> Result<Value, RpcError> {
    match form {
        Form::JsonRpc => client.call(method, params).await,
        Form::Bare => client.bare(method, params).await,
    }
}

fn with(mut t: Value, changes: Value) -> Value {
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            t.as_object_mut().unwrap().remove(k);
        } else {
            t[k] = v.clone();
        }
    }
    t
}

#[tokio::test]
async fn create_get_update_delete_in_both_forms() {
    for form in FORMS {
        let client = manager(&network("tm-crud")).await;
        let me = client.call("admin.whoami", json!({})).await.unwrap()["tokenInfo"]["id"].clone();
        let full = with(
            ticket("vip"),
            json!({"eventStartDate": "2027-05-01T11:00:00+02:00", "eventEndDate": 1809518400000i64, "price": 25,
                   "ticketType": "days:2of3", "ticketDescription": "Front rows", "thumbnailId": "img-1",
                   "discount": "early bird", "grants": [{"grantType": "userRole", "grantTarget": "vip:summit"}],
                   "allocation": 100, "maxPerAttendee": 2, "visible": false, "displayOrder": 3}),
        );
        let created =
            call(&client, form, "ticket.createPurchasableTicket", json!({"ticket": full})).await.unwrap()["ticket"]
                .clone();
        assert_eq!(created["eventStartDate"], "2027-05-01T09:00:00.000Z", "{form:?}");
        assert_eq!(created["eventEndDate"], "2027-05-05T12:00:00.000Z");
        assert_eq!(created["price"], 25);
        assert_eq!(created["grants"], json!([{"grantType": "userRole", "grantTarget": "vip:summit"}]));
        assert_eq!((created["allocation"].clone(), created["maxPerAttendee"].clone()), (json!(100), json!(2)));
        assert_eq!(
            (created["visible"].clone(), created["displayOrder"].clone(), created["sold"].clone()),
            (json!(false), json!(3), json!(0))
        );
        assert_eq!((created["sysVersion"].clone(), created["sysCreatedById"].clone()), (json!(1), me.clone()));
        assert_eq!(created["sysLastModifiedById"], me);

        let got = call(&client, form, "ticket.getPurchasableTicket", json!({"productId": "vip"})).await.unwrap();
        assert_eq!(got["ticket"], created);

        // A whole replacement: omitted optional fields reset; read-only fields sent back are ignored.
        let mut replacement = with(
            ticket("vip"),
            json!({"price": 19.99, "sysVersion": 1, "sold": 77, "sysCreatedAt": "1999-01-01T00:00:00Z"}),
        );
        replacement["sysCreatedById"] = json!("someone-else");
        let updated = call(&client, form, "ticket.updatePurchasableTicket", json!({"ticket": replacement}))
            .await
            .unwrap()["ticket"]
            .clone();
        assert_eq!(updated["price"], 19.99);
        assert_eq!(
            (updated["ticketDescription"].clone(), updated["discount"].clone(), updated["thumbnailId"].clone()),
            (json!(""), json!(""), json!(""))
        );
        assert_eq!(
            (updated["grants"].clone(), updated["allocation"].clone(), updated["visible"].clone()),
            (json!([]), Value::Null, json!(true))
        );
        assert_eq!((updated["sold"].clone(), updated["sysVersion"].clone()), (json!(0), json!(2)));
        assert_eq!(updated["sysCreatedAt"], created["sysCreatedAt"]);
        assert_eq!(updated["sysCreatedById"], me);
        assert!(updated["sysLastModifiedAt"].as_str() >= created["sysLastModifiedAt"].as_str());

        assert_eq!(
            call(&client, form, "ticket.deletePurchasableTicket", json!({"productId": "vip"})).await.unwrap(),
            json!({})
        );
        let gone = call(&client, form, "ticket.getPurchasableTicket", json!({"productId": "vip"})).await.unwrap_err();
        assert_eq!((gone.code, gone.data), (-32004, json!({"resource": "ticket", "id": "vip"})));
    }
}

#[tokio::test]
async fn each_validation_rule_in_both_forms() {
    let client = manager(&network("tm-rules")).await;
    let rules: Vec<(Value, &str)> = vec![
        (json!({"productId": null}), "ticket.productId"),
        (json!({"productId": "has space"}), "ticket.productId"),
        (json!({"productId": "x".repeat(129)}), "ticket.productId"),
        (json!({"productId": 5}), "ticket.productId"),
        (json!({"eventName": null}), "ticket.eventName"),
        (json!({"eventName": ""}), "ticket.eventName"),
        (json!({"eventStartDate": null}), "ticket.eventStartDate"),
        (json!({"eventStartDate": "tomorrow"}), "ticket.eventStartDate"),
        (json!({"eventEndDate": null}), "ticket.eventEndDate"),
        (json!({"eventEndDate": "2027-04-30T00:00:00Z"}), "ticket.eventEndDate"),
        (json!({"ticketType": null}), "ticket.ticketType"),
        (json!({"ticketType": "double"}), "ticket.ticketType"),
        (json!({"ticketType": "days:0of3"}), "ticket.ticketType"),
        (json!({"ticketType": "days:4of3"}), "ticket.ticketType"),
        (json!({"ticketType": "days:1of367"}), "ticket.ticketType"),
        (json!({"ticketName": null}), "ticket.ticketName"),
        (json!({"price": null}), "ticket.price"),
        (json!({"price": -1}), "ticket.price"),
        (json!({"price": 1.005}), "ticket.price"),
        (json!({"price": "12"}), "ticket.price"),
        (json!({"ticketDescription": 3}), "ticket.ticketDescription"),
        (json!({"thumbnailId": false}), "ticket.thumbnailId"),
        (json!({"discount": []}), "ticket.discount"),
        (json!({"grants": {}}), "ticket.grants"),
        (json!({"grants": [{"grantType": "other", "grantTarget": "a:b"}]}), "ticket.grants"),
        (json!({"grants": [{"grantType": "userRole", "grantTarget": "no-colon"}]}), "ticket.grants"),
        (json!({"grants": vec![json!({"grantType": "userRole", "grantTarget": "a:b"}); 33]}), "ticket.grants"),
        (json!({"allocation": -1}), "ticket.allocation"),
        (json!({"allocation": 1.5}), "ticket.allocation"),
        (json!({"maxPerAttendee": 0}), "ticket.maxPerAttendee"),
        (json!({"visible": "yes"}), "ticket.visible"),
        (json!({"displayOrder": "first"}), "ticket.displayOrder"),
        (json!({"colour": "red"}), "ticket.colour"),
    ];
    for form in FORMS {
        for (i, (change, field)) in rules.iter().enumerate() {
            let t = with(ticket(&format!("r{i}")), change.clone());
            let err = call(&client, form, "ticket.createPurchasableTicket", json!({"ticket": t})).await.unwrap_err();
            assert_eq!(err.code, -32602, "{form:?} {change}");
            assert_eq!(err.fields(), [*field], "{form:?} {change}");
            assert!(err.data["errors"][0]["message"].as_str().is_some_and(|m| !m.is_empty()));
        }
        // Many problems at once, every one reported.
        let all_wrong =
            json!({"ticket": {"productId": "a b", "eventStartDate": "x", "ticketType": "y", "price": -2, "extra": 1}});
        let err = call(&client, form, "ticket.createPurchasableTicket", all_wrong).await.unwrap_err();
        let mut fields = err.fields();
        fields.sort();
        assert_eq!(
            fields,
            [
                "ticket.eventEndDate",
                "ticket.eventName",
                "ticket.eventStartDate",
                "ticket.extra",
                "ticket.price",
                "ticket.productId",
                "ticket.ticketName",
                "ticket.ticketType"
            ],
            "{form:?}"
        );
        let value_echo = err.data["errors"].as_array().unwrap().iter().find(|e| e["field"] == "ticket.price").unwrap()
            ["value"]
            .clone();
        assert_eq!(value_echo, -2);
        for (params, field) in [
            (json!({}), "ticket"),
            (json!({"ticket": ticket("z"), "extra": 1}), "extra"),
            (json!({"ticket": "x"}), "ticket"),
        ] {
            let err = call(&client, form, "ticket.createPurchasableTicket", params.clone()).await.unwrap_err();
            assert_eq!((err.code, err.fields()), (-32602, vec![field.to_owned()]), "{form:?} {params}");
        }
        let not_object = call(&client, form, "ticket.createPurchasableTicket", json!([1, 2])).await.unwrap_err();
        assert_eq!(not_object.code, -32602);
    }
    assert_eq!(client.call("ticket.getPurchasableTickets", json!({})).await.unwrap()["count"], 0, "nothing was stored");
}

#[tokio::test]
async fn conflicts_and_missing_tickets_in_both_forms() {
    for form in FORMS {
        let client = manager(&network("tm-conflict")).await;
        call(&client, form, "ticket.createPurchasableTicket", json!({"ticket": ticket("t")})).await.unwrap();
        let before = client.call("ticket.getPurchasableTicket", json!({"productId": "t"})).await.unwrap();
        let dup = call(
            &client,
            form,
            "ticket.createPurchasableTicket",
            json!({"ticket": with(ticket("t"), json!({"price": 1}))}),
        )
        .await
        .unwrap_err();
        assert_eq!((dup.code, dup.reason()), (-32009, "duplicate"), "{form:?}");
        let stale = call(
            &client,
            form,
            "ticket.updatePurchasableTicket",
            json!({"ticket": with(ticket("t"), json!({"price": 2, "sysVersion": 5}))}),
        )
        .await
        .unwrap_err();
        assert_eq!((stale.code, stale.reason()), (-32009, "staleVersion"));
        assert_eq!((stale.data["expected"].clone(), stale.data["actual"].clone()), (json!(5), json!(1)));
        assert_eq!(
            client.call("ticket.getPurchasableTicket", json!({"productId": "t"})).await.unwrap(),
            before,
            "refusals change nothing"
        );
        let right = call(
            &client,
            form,
            "ticket.updatePurchasableTicket",
            json!({"ticket": with(ticket("t"), json!({"price": 2, "sysVersion": 1}))}),
        )
        .await
        .unwrap();
        assert_eq!(right["ticket"]["sysVersion"], 2);
        for (method, params) in [
            ("ticket.updatePurchasableTicket", json!({"ticket": ticket("missing")})),
            ("ticket.deletePurchasableTicket", json!({"productId": "missing"})),
            ("ticket.getPurchasableTicket", json!({"productId": "missing"})),
        ] {
            let err = call(&client, form, method, params).await.unwrap_err();
            assert_eq!(
                (err.code, err.data),
                (-32004, json!({"resource": "ticket", "id": "missing"})),
                "{form:?} {method}"
            );
        }
        let bad_id =
            call(&client, form, "ticket.deletePurchasableTicket", json!({"productId": "a b"})).await.unwrap_err();
        assert_eq!(bad_id.fields(), ["productId"]);
    }
}

/// Ten tickets whose filters and orders are known.
async fn catalogue(client: &Client) {
    let rows = [
        ("a", "Summit", "2027-01-10T09:00:00Z", "single", 10.0, true, 5, None),
        ("b", "Summit", "2027-01-11T09:00:00Z", "days:1of2", 20.0, true, 4, Some(0)),
        ("c", "Summit", "2027-01-12T09:00:00Z", "single", 30.0, false, 3, None),
        ("d", "Expo", "2027-02-01T09:00:00Z", "single", 5.5, true, 2, None),
        ("e", "Expo", "2027-02-02T09:00:00Z", "days:1of2", 5.5, true, 1, None),
        ("f", "Expo", "2020-02-03T09:00:00Z", "single", 0.0, true, 0, None),
        ("g", "Gala", "2027-03-01T19:00:00Z", "single", 150.0, true, 9, Some(10)),
        ("h", "Gala", "2027-03-01T19:00:00Z", "single", 150.0, false, 8, None),
        ("i", "Gala", "2027-03-02T19:00:00Z", "days:1of2", 75.25, true, 7, None),
        ("j", "Gala", "2027-03-03T19:00:00Z", "single", 1.0, true, 6, None),
    ];
    for (id, event, start, kind, price, visible, order, allocation) in rows {
        let end = if id == "f" { "2020-02-04T09:00:00Z" } else { "2027-12-31T00:00:00Z" };
        let t = with(
            ticket(id),
            json!({"eventName": event, "eventStartDate": start, "eventEndDate": end, "ticketType": kind, "price": price,
                   "visible": visible, "displayOrder": order, "allocation": allocation}),
        );
        client.call("ticket.createPurchasableTicket", json!({"ticket": t})).await.unwrap();
    }
}

fn ids(listed: &Value) -> Vec<String> {
    listed["tickets"].as_array().unwrap().iter().map(|t| t["productId"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn listing_filters_and_orders() {
    let client = manager(&network("tm-list")).await;
    catalogue(&client).await;
    let cases: Vec<(Value, &str)> = vec![
        (json!({}), "f e d c b a j i h g"),
        (json!({"productIds": ["a", "g", "zzz"]}), "a g"),
        (json!({"eventName": "Expo"}), "f e d"),
        (json!({"ticketType": "days:1of2"}), "e b i"),
        (json!({"visible": false}), "c h"),
        (json!({"onSale": true}), "e d a j i g"),
        (json!({"onSale": false}), "f c b h"),
        (json!({"startsFrom": "2027-02-01T09:00:00Z", "startsTo": "2027-03-01T19:00:00Z"}), "e d h g"),
        (json!({"eventName": "Gala", "visible": true, "ticketType": "single"}), "j g"),
        (json!({"orderBy": "price"}), "f j d e a b c i g h"),
        (json!({"orderBy": "price", "order": "desc"}), "h g i c b a e d j f"),
        (json!({"orderBy": "eventStartDate"}), "f a b c d e g h i j"),
        (json!({"orderBy": "eventStartDate", "order": "desc"}), "j i h g e d c b a f"),
        (json!({"orderBy": "productId"}), "a b c d e f g h i j"),
        (json!({"orderBy": "productId", "order": "desc"}), "j i h g f e d c b a"),
        (json!({"orderBy": "displayOrder", "order": "desc"}), "g h i j a b c d e f"),
    ];
    for form in FORMS {
        for (query, expected) in &cases {
            let listed = call(&client, form, "ticket.getPurchasableTickets", query.clone()).await.unwrap();
            let expected: Vec<&str> = expected.split(' ').collect();
            assert_eq!(ids(&listed), expected, "{form:?} {query}");
            assert_eq!(listed["count"], expected.len());
            assert_eq!(listed["nextCursor"], Value::Null);
        }
    }
    // sysLastModifiedAt: the last changed comes last.
    client
        .call("ticket.updatePurchasableTicket", json!({"ticket": with(ticket("c"), json!({"displayOrder": 3}))}))
        .await
        .unwrap();
    let recent = client.call("ticket.getPurchasableTickets", json!({"orderBy": "sysLastModifiedAt"})).await.unwrap();
    assert_eq!(ids(&recent).last().map(String::as_str), Some("c"));
    for bad in [
        json!({"orderBy": "colour"}),
        json!({"order": "up"}),
        json!({"limit": 0}),
        json!({"limit": 1001}),
        json!({"visible": 1}),
        json!({"startsFrom": "soon"}),
        json!({"fields": ["nope"]}),
        json!({"cursor": "garbage"}),
        json!({"colour": 1}),
    ] {
        assert_eq!(client.call("ticket.getPurchasableTickets", bad.clone()).await.unwrap_err().code, -32602, "{bad}");
    }
}

#[tokio::test]
async fn paging_and_trimming() {
    let client = manager(&network("tm-page")).await;
    catalogue(&client).await;
    for (order_by, order) in
        [("displayOrder", "asc"), ("price", "desc"), ("eventStartDate", "asc"), ("productId", "desc")]
    {
        let whole =
            client.call("ticket.getPurchasableTickets", json!({"orderBy": order_by, "order": order})).await.unwrap();
        let mut walked = Vec::new();
        let mut cursor = Value::Null;
        loop {
            let mut q = json!({"orderBy": order_by, "order": order, "limit": 3});
            if !cursor.is_null() {
                q["cursor"] = cursor.clone();
            }
            let page = client.call("ticket.getPurchasableTickets", q).await.unwrap();
            assert_eq!(page["count"], 10);
            assert!(page["tickets"].as_array().unwrap().len() <= 3);
            walked.extend(ids(&page));
            cursor = page["nextCursor"].clone();
            if cursor.is_null() {
                break;
            }
        }
        assert_eq!(walked, ids(&whole), "{order_by} {order}");
    }
    // A cursor belongs to its ordering.
    let first = client.call("ticket.getPurchasableTickets", json!({"limit": 3})).await.unwrap();
    let other = client
        .call("ticket.getPurchasableTickets", json!({"limit": 3, "orderBy": "price", "cursor": first["nextCursor"]}))
        .await;
    assert_eq!(other.unwrap_err().code, -32602);
    // fields trims each ticket and always keeps productId.
    let trimmed =
        client.call("ticket.getPurchasableTickets", json!({"fields": ["price"], "productIds": ["a"]})).await.unwrap();
    assert_eq!(trimmed["tickets"], json!([{"productId": "a", "price": 10}]));
}
