//! E-mail held to API.md section 10, black-box over HTTP: `registration.resendConfirmationEmail`,
//! `registration.previewEmail`, `mail.list`, `mail.get`, `mail.retry` and the confirmation of
//! `registration.transfer`, every case in both wire forms (plain JSON-RPC 2.0 on `/jsonRpc`, bare params on
//! `/jsonRpc/{method}`). On the shared server, which has no SMTP URL, every message is `held`.

use crate::common;

use common::{Client, RpcError, create_registration, manager, network, registration, ticket};
use serde_json::{Value, json};

const RESEND: &str = "registration.resendConfirmationEmail";
const PREVIEW: &str = "registration.previewEmail";
const LIST: &str = "mail.list";
const GET: &str = "mail.get";
const RETRY: &str = "mail.retry";

/// The two wire forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wire {
    /// A JSON-RPC 2.0 request object on `/jsonRpc`.
    Plain,
    /// Bare params on `/jsonRpc/{method}`, answered in the `{data, error}` envelope.
    Bare,
}

const WIRES: [Wire; 2] = [Wire::Plain, Wire::Bare];

async fn rpc(client: &Client, wire: Wire, method: &str, params: Value) -> Result<Value, RpcError> {
    match wire {
        Wire::Plain => client.call(method, params).await,
        Wire::Bare => client.bare(method, params).await,
    }
}

async fn ok(client: &Client, wire: Wire, method: &str, params: Value) -> Value {
    let what = format!("{wire:?} {method} {params}");
    rpc(client, wire, method, params).await.unwrap_or_else(|e| panic!("{what}: {e:?}"))
}

async fn refused(client: &Client, wire: Wire, method: &str, params: Value) -> RpcError {
    let what = format!("{wire:?} {method} {params}");
    match rpc(client, wire, method, params).await {
        Ok(v) => panic!("{what}: succeeded with {v}"),
        Err(e) => e,
    }
}

/// A `-32602` naming `field`, its message holding each of `words`.
fn assert_invalid(e: &RpcError, field: &str, words: &[&str]) {
    assert_eq!(e.code, -32602, "{e:?}");
    let problem = e.data["errors"].as_array().and_then(|all| all.iter().find(|p| p["field"] == field));
    let message = problem.unwrap_or_else(|| panic!("no problem with {field}: {e:?}"))["message"].as_str().unwrap_or("");
    for word in words {
        assert!(message.contains(word), "{field}: {message:?} lacks {word:?}");
    }
}

/// A network with a ticket and a registration of Ada holding it (with an address); the manager and the
/// registration.
async fn setup(prefix: &str) -> (Client, Value) {
    let net = network(prefix);
    let client = manager(&net).await;
    client.call("ticket.createPurchasableTicket", json!({"ticket": ticket("vip")})).await.expect("ticket");
    let mut ada = registration("c-ada");
    ada["productId"] = json!("vip");
    ada["firstName"] = json!("Ada");
    ada["emailAddress"] = json!("ada@example.org");
    let made = create_registration(&client, ada).await.expect("registration");
    (client, made)
}

#[tokio::test]
async fn a_confirmation_is_queued_held_to_the_registrations_address_and_read_back() {
    let (client, ada) = setup("mail-resend").await;
    for wire in WIRES {
        let message = ok(&client, wire, RESEND, json!({"id": ada["id"]})).await["message"].clone();
        assert_eq!(message["to"], "ada@example.org");
        assert_eq!(message["subject"], "Your registration for Summit 2027");
        assert_eq!(message["status"], "held", "no SMTP URL: held");
        assert_eq!((message["attempts"].clone(), message["lastError"].clone()), (json!(0), json!(null)));
        assert_eq!((message["sentAt"].clone(), message["registrationId"].clone()), (json!(null), ada["id"].clone()));
        assert_eq!(message["sysVersion"], 1);
        let html = message["html"].as_str().expect("html");
        assert!(html.contains("<p>Dear Ada,</p>") && html.contains("<strong>Summit 2027</strong>"), "{html}");
        let text = message["text"].as_str().expect("text");
        assert!(text.starts_with("Dear Ada,\nyour registration for Summit 2027 is confirmed"), "{text}");
        assert!(!text.contains('<'), "{text}");
        let read = ok(&client, wire, GET, json!({"id": message["id"]})).await;
        assert_eq!(read["message"], message);
    }
    let listed = ok(&client, Wire::Plain, LIST, json!({"registrationId": ada["id"]})).await;
    assert_eq!(listed["count"], 2);
}

#[tokio::test]
async fn the_networks_own_template_serves_and_a_preview_goes_to_the_address_given() {
    let (client, ada) = setup("mail-template").await;
    let own = json!({"kind": "confirmationEmail", "subject": "Welcome, {{ registration.firstName }}",
                     "body": "<h1>{{ registration.name }}</h1><p>&lt;3 from {{ networkId }}</p>"});
    client.call("template.put", own).await.expect("template");
    for wire in WIRES {
        let sent = ok(&client, wire, RESEND, json!({"id": ada["id"]})).await["message"].clone();
        assert_eq!(sent["subject"], "Welcome, Ada");
        assert!(sent["text"].as_str().expect("text").starts_with("Ada Lovelace\n<3 from mail-template"), "{sent}");

        let preview = ok(
            &client,
            wire,
            PREVIEW,
            json!({"registrationId": ada["id"],
            "destinationEmailAddress": "team@example.org", "reviewId": "r1", "abstractId": "a1"}),
        )
        .await["message"]
            .clone();
        assert_eq!(
            (preview["to"].clone(), preview["subject"].clone()),
            (json!("team@example.org"), json!("[Preview] Welcome, Ada"))
        );
        let given = json!({"subject": "Try {{ ticket.ticketName }}", "body": "<p>{{ registration.lastName }}</p>"});
        let tried = ok(
            &client,
            wire,
            PREVIEW,
            json!({"registrationId": ada["id"], "type": "confirmationEmail",
            "destinationEmailAddress": "team@example.org", "emailTemplate": given}),
        )
        .await["message"]
            .clone();
        assert_eq!(tried["subject"], "[Preview] Try Standard");
        assert_eq!(tried["html"], "<p></p>", "an unset field prints as nothing");
    }
}

#[tokio::test]
async fn every_refusal_names_what_is_wrong() {
    let (client, ada) = setup("mail-refusals").await;
    let no_address = create_registration(&client, registration("c-none")).await.expect("registration");
    let other = manager(&network("mail-elsewhere")).await;
    let message = client.call(RESEND, json!({"id": ada["id"]})).await.expect("queued")["message"].clone();
    for wire in WIRES {
        assert_invalid(
            &refused(&client, wire, RESEND, json!({"id": no_address["id"]})).await,
            "emailAddress",
            &["no emailAddress"],
        );
        let missing = refused(&client, wire, RESEND, json!({"id": "no-such-registration"})).await;
        assert_eq!((missing.code, missing.data["resource"].clone()), (-32004, json!("registration")));
        assert_invalid(&refused(&client, wire, RESEND, json!({})).await, "id", &["required"]);
        assert_invalid(
            &refused(&client, wire, RESEND, json!({"id": ada["id"], "to": "x@example.org"})).await,
            "to",
            &[],
        );

        let preview = |more: Value| {
            let mut params = json!({"registrationId": ada["id"], "destinationEmailAddress": "team@example.org"});
            params.as_object_mut().expect("object").extend(more.as_object().expect("object").clone());
            params
        };
        let bad_body = json!({"emailTemplate": {"subject": "Hi", "body": "<p>\n{{ registration.nmae }}</p>"}});
        assert_invalid(
            &refused(&client, wire, PREVIEW, preview(bad_body)).await,
            "emailTemplate.body",
            &["line 2", "nmae"],
        );
        let two_lines = json!({"emailTemplate": {"subject": "a\nb", "body": "<p></p>"}});
        assert_invalid(
            &refused(&client, wire, PREVIEW, preview(two_lines)).await,
            "emailTemplate.subject",
            &["one line"],
        );
        let no_body = json!({"emailTemplate": {"subject": "Hi"}});
        assert_invalid(&refused(&client, wire, PREVIEW, preview(no_body)).await, "emailTemplate.body", &["required"]);
        assert_invalid(
            &refused(&client, wire, PREVIEW, preview(json!({"type": "certificate"}))).await,
            "type",
            &["confirmationEmail"],
        );
        let bad_address = json!({"destinationEmailAddress": "not an address"});
        assert_invalid(
            &refused(&client, wire, PREVIEW, preview(bad_address)).await,
            "destinationEmailAddress",
            &["e-mail"],
        );
        let missing = refused(
            &client,
            wire,
            PREVIEW,
            json!({"registrationId": "nobody", "destinationEmailAddress": "t@example.org"}),
        )
        .await;
        assert_eq!(missing.code, -32004);

        assert_invalid(&refused(&client, wire, LIST, json!({"status": "lost"})).await, "status", &["queued"]);
        assert_invalid(
            &refused(&client, wire, LIST, json!({"status": ["held", "lost"]})).await,
            "status[1]",
            &["held"],
        );
        assert_invalid(&refused(&client, wire, LIST, json!({"limit": 0})).await, "limit", &[]);
        assert_invalid(&refused(&client, wire, LIST, json!({"fields": ["to"]})).await, "fields", &[]);
        let missing = refused(&client, wire, GET, json!({"id": "no-such-message"})).await;
        assert_eq!((missing.code, missing.data["resource"].clone()), (-32004, json!("mail")));
        assert_eq!(refused(&client, wire, RETRY, json!({"id": "no-such-message"})).await.code, -32004);
        // Another network's message is not there at all.
        assert_eq!(refused(&other, wire, GET, json!({"id": message["id"]})).await.code, -32004);
        assert_eq!(refused(&other, wire, RETRY, json!({"id": message["id"]})).await.code, -32004);
        assert_eq!(ok(&other, wire, LIST, json!({})).await["count"], 0, "an empty list is no refusal");
    }
}

#[tokio::test]
async fn the_list_filters_by_status_and_registration_and_pages() {
    let (client, ada) = setup("mail-list").await;
    let mut grace = registration("c-grace");
    grace["emailAddress"] = json!("grace@example.org");
    let grace = create_registration(&client, grace).await.expect("registration");
    let mut made = Vec::new();
    for who in [&ada, &grace, &ada] {
        made.push(client.call(RESEND, json!({"id": who["id"]})).await.expect("queued")["message"]["id"].clone());
    }
    for wire in WIRES {
        let all = ok(&client, wire, LIST, json!({})).await;
        let ids: Vec<Value> = all["items"].as_array().expect("items").iter().map(|m| m["id"].clone()).collect();
        assert_eq!((all["count"].clone(), ids), (json!(3), made.clone()), "in the order queued");
        let of_ada = ok(&client, wire, LIST, json!({"registrationId": ada["id"]})).await;
        assert_eq!(of_ada["count"], 2);
        let either =
            ok(&client, wire, LIST, json!({"registrationId": [ada["id"], grace["id"]], "status": ["held", "sent"]}))
                .await;
        assert_eq!(either["count"], 3);
        assert_eq!(ok(&client, wire, LIST, json!({"status": "sent"})).await["count"], 0);
        let first = ok(&client, wire, LIST, json!({"limit": 2})).await;
        assert_eq!((first["count"].clone(), first["items"].as_array().map(Vec::len)), (json!(3), Some(2)));
        let cursor = first["nextCursor"].clone();
        assert!(cursor.is_string(), "{first}");
        let rest = ok(&client, wire, LIST, json!({"limit": 2, "cursor": cursor})).await;
        assert_eq!((rest["items"][0]["id"].clone(), rest["nextCursor"].clone()), (made[2].clone(), json!(null)));
    }
}

#[tokio::test]
async fn without_an_smtp_url_a_retry_keeps_a_message_held() {
    let (client, ada) = setup("mail-held").await;
    let message = client.call(RESEND, json!({"id": ada["id"]})).await.expect("queued")["message"].clone();
    for wire in WIRES {
        let retried = ok(&client, wire, RETRY, json!({"id": message["id"]})).await["message"].clone();
        assert_eq!(retried, message, "held it stays, unchanged");
    }
}

#[tokio::test]
async fn a_transfer_queues_the_confirmation_of_the_moved_registration_or_moves_nothing() {
    let (client, ada) = setup("mail-transfer").await;
    let no_address = create_registration(&client, registration("c-none")).await.expect("registration");
    for (wire, contact) in [(Wire::Plain, "c-babbage"), (Wire::Bare, "c-byron")] {
        let moved = ok(
            &client,
            wire,
            "registration.transfer",
            json!({"id": ada["id"], "contactId": contact, "sendConfirmationEmail": true}),
        )
        .await;
        assert_eq!(moved["registration"]["contactId"], contact);
        let listed = ok(&client, wire, LIST, json!({"registrationId": ada["id"]})).await;
        let last = listed["items"].as_array().and_then(|items| items.last()).expect("a message").clone();
        assert_eq!((last["to"].clone(), last["status"].clone()), (json!("ada@example.org"), json!("held")));

        let refused = refused(
            &client,
            wire,
            "registration.transfer",
            json!({"id": no_address["id"], "contactId": contact, "sendConfirmationEmail": true}),
        )
        .await;
        assert_invalid(&refused, "emailAddress", &["no emailAddress"]);
        let kept = client.call("registration.get", json!({"id": no_address["id"]})).await.expect("registration");
        assert_eq!(kept["registration"]["contactId"], "c-none", "a refused confirmation moves nothing");
    }
    // Without the flag, no message.
    client.call("registration.transfer", json!({"id": ada["id"], "contactId": "c-ada"})).await.expect("moved");
    assert_eq!(client.call(LIST, json!({"registrationId": ada["id"]})).await.expect("list")["count"], 2);
}
