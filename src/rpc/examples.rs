//! One example call per method, for the OpenRPC document: the params a client sends and the answer it gets.
//!
//! They tell one story on network `acme`, in the method table's order, and a test plays it against a live server
//! (`tests/it/discovery.rs`): the ids the server makes replace the ones written here, and the calls that remove
//! something (deletes, a batch, a revoke) run last. Each answer written here is held to its method's result schema,
//! and the live answer to the same schema.

use serde_json::{Value, json};

use super::methods::Example;
use crate::domain::template::{self, Variables};

const NETWORK: &str = "acme";
const REGISTRATION: &str = "0193a5b2-7c1e-7d3a-9f7e-2b4c6d8e0a11";
const FUNCTION_TICKET: &str = "0193a5b2-9d40-7b21-8c55-0e6f1a2b3c4d";
const ORDER: &str = "0193a5b3-2e10-7c44-a1b2-6f7e8d9c0b1a";
const LINE: &str = "0193a5b3-2e10-7c44-a1b2-6f7e8d9c0b1b";
const TOKEN: &str = "0193a5b1-1f00-7a10-9b3c-5d6e7f809102";
/// The confirmation queued again for the registration, and a preview sent to the events team.
const MESSAGE: &str = "0193a5b3-2e10-7c44-8d21-4a5b6c7d8e9f";
const PREVIEW_MESSAGE: &str = "0193a5b3-3f20-7d55-9e32-5b6c7d8e9fa0";
/// The admin token the server made on its first start, which makes the calls of the `admin.*` examples.
const ADMIN: &str = "0193a5b0-0a00-7a10-9b3c-5d6e7f809101";
const CREATED: &str = "2026-06-01T09:30:00.000Z";
const CHANGED: &str = "2026-06-01T09:45:00.000Z";

fn example(params: Value, result: Value) -> Example {
    Example { params, result }
}

/// The system fields of an object at `version`.
fn sys(version: i64) -> Value {
    json!({
        "sysVersion": version,
        "sysCreatedAt": CREATED,
        "sysLastModifiedAt": if version == 1 { CREATED } else { CHANGED },
        "sysCreatedById": TOKEN,
        "sysLastModifiedById": TOKEN,
    })
}

/// `base` with the members of `more` added (both objects).
fn with(mut base: Value, more: Value) -> Value {
    if let (Value::Object(b), Value::Object(m)) = (&mut base, more) {
        b.extend(m);
    }
    base
}

fn ticket() -> Value {
    json!({
        "productId": "GALA-2026-VIP",
        "eventName": "Annual Gala 2026",
        "eventStartDate": "2026-09-18T18:00:00.000Z",
        "eventEndDate": "2026-09-18T23:00:00.000Z",
        "ticketType": "single",
        "ticketName": "VIP",
        "ticketDescription": "Front tables and the reception",
        "price": 149.5,
        "allocation": 200,
        "maxPerAttendee": 4,
    })
}

/// The ticket as answers show it, every member present.
fn ticket_shown(price: f64, sold: i64, version: i64) -> Value {
    with(
        with(
            ticket(),
            json!({"price": price, "thumbnailId": "", "discount": "", "grants": [], "visible": true,
                   "displayOrder": 0, "sold": sold}),
        ),
        sys(version),
    )
}

pub fn ticket_create_purchasable_ticket() -> Example {
    example(json!({"networkId": NETWORK, "ticket": ticket()}), json!({"ticket": ticket_shown(149.5, 0, 1)}))
}

pub fn ticket_update_purchasable_ticket() -> Example {
    example(
        json!({"networkId": NETWORK, "ticket": with(ticket(), json!({"price": 159, "sysVersion": 1}))}),
        json!({"ticket": ticket_shown(159.0, 0, 2)}),
    )
}

pub fn ticket_delete_purchasable_ticket() -> Example {
    example(json!({"networkId": NETWORK, "productId": "GALA-2026-VIP"}), json!({}))
}

pub fn ticket_get_purchasable_ticket() -> Example {
    example(json!({"networkId": NETWORK, "productId": "GALA-2026-VIP"}), json!({"ticket": ticket_shown(159.0, 0, 2)}))
}

pub fn ticket_get_purchasable_tickets() -> Example {
    example(
        json!({"networkId": NETWORK, "eventName": "Annual Gala 2026", "orderBy": "price", "limit": 20}),
        json!({"tickets": [ticket_shown(159.0, 0, 2)], "count": 1, "nextCursor": null}),
    )
}

pub fn ticket_patch_purchasable_ticket() -> Example {
    example(
        json!({"networkId": NETWORK, "productId": "GALA-2026-VIP", "sysVersion": 2,
               "patch": [{"op": "replace", "path": "/discount", "value": "Early bird"}]}),
        json!({"ticket": with(ticket_shown(159.0, 0, 3), json!({"discount": "Early bird"}))}),
    )
}

pub fn ticket_list_commands() -> Example {
    example(json!({"networkId": NETWORK}), json!({"commands": crate::domain::command::COMMANDS}))
}

pub fn ticket_run_command() -> Example {
    let copy = with(
        with(ticket_shown(159.0, 0, 1), json!({"discount": "Early bird"})),
        json!({"productId": "GALA-2026-VIP-B", "ticketName": "VIP (second room)"}),
    );
    example(
        json!({"networkId": NETWORK, "key": "duplicate", "productIds": ["GALA-2026-VIP"],
               "parameters": {"newProductId": "GALA-2026-VIP-B", "ticketName": "VIP (second room)"}}),
        json!({"wasSuccessful": true, "message": "duplicated as GALA-2026-VIP-B", "tickets": [copy]}),
    )
}

fn registration() -> Value {
    json!({
        "eventId": "gala-2026",
        "name": "Ada Lovelace",
        "contactId": "contact-ada",
        "typeId": "attendee",
        "packageId": "standard",
        "productId": "GALA-2026-VIP",
        "firstName": "Ada",
        "lastName": "Lovelace",
        "emailAddress": "ada@example.org",
        "date": "2026-06-01T09:30:00.000Z",
    })
}

/// The registration as answers show it (the members this story sets, and its status).
fn registration_shown(more: Value, version: i64) -> Value {
    let made = json!({"id": REGISTRATION, "number": 1});
    with(with(with(made, registration()), with(json!({"status": "active"}), more)), sys(version))
}

pub fn registration_create() -> Example {
    example(
        json!({"networkId": NETWORK, "registration": registration()}),
        json!({"registration": registration_shown(json!({}), 1)}),
    )
}

pub fn registration_get() -> Example {
    example(
        json!({"networkId": NETWORK, "id": REGISTRATION, "fields": ["name", "status"]}),
        json!({"registration": {"id": REGISTRATION, "name": "Ada Lovelace", "status": "active"}}),
    )
}

pub fn registration_update() -> Example {
    let sent =
        with(registration(), json!({"id": REGISTRATION, "city": "London", "groupId": "group-7", "sysVersion": 1}));
    example(
        json!({"networkId": NETWORK, "registration": sent}),
        json!({"registration": registration_shown(json!({"city": "London", "groupId": "group-7"}), 2)}),
    )
}

pub fn registration_patch() -> Example {
    example(
        json!({"networkId": NETWORK, "id": REGISTRATION, "sysVersion": 2,
               "patch": [{"op": "replace", "path": "/jobTitle", "value": "Analyst"}]}),
        json!({"registration": registration_shown(json!({"city": "London", "groupId": "group-7", "jobTitle": "Analyst"}), 3)}),
    )
}

pub fn registration_delete() -> Example {
    example(json!({"networkId": NETWORK, "id": REGISTRATION}), json!({}))
}

pub fn registration_batch() -> Example {
    const MISSING: &str = "no-such-registration";
    example(
        json!({"networkId": NETWORK, "operations": [
            {"op": "patch", "id": REGISTRATION, "patch": [{"op": "replace", "path": "/status", "value": "cancelled"}]},
            {"op": "delete", "id": MISSING},
        ]}),
        json!({"successCount": 1, "errorCount": 1, "results": [
            {"id": REGISTRATION, "ok": true, "registration": registration_shown(
                with(with(transferred(), order_fields("cancelled", 100, 59)), json!({"status": "cancelled"})),
                8,
            )},
            {"id": MISSING, "ok": false, "error": {"code": -32004, "message": "registration no-such-registration not found",
                                                   "data": {"resource": "registration", "id": MISSING}}},
        ]}),
    )
}

pub fn registration_search() -> Example {
    example(
        json!({"networkId": NETWORK, "eventId": "gala-2026", "lastName": "love", "status": ["active", "draft"],
               "fields": ["name", "emailAddress"], "limit": 50}),
        json!({"count": 1, "items": [{"id": REGISTRATION, "name": "Ada Lovelace", "emailAddress": "ada@example.org"}],
               "nextCursor": null}),
    )
}

pub fn registration_transfer() -> Example {
    example(
        json!({"networkId": NETWORK, "id": REGISTRATION, "contactId": "contact-charles"}),
        json!({"registration": registration_shown(transferred(), 4)}),
    )
}

pub fn registration_detect_scheduling_conflicts() -> Example {
    let session =
        json!({"id": "keynote", "startDate": "2026-09-18T18:00:00.000Z", "endDate": "2026-09-18T19:00:00.000Z"});
    let function =
        json!({"id": "dinner", "startDate": "2026-09-18T18:30:00.000Z", "endDate": "2026-09-18T21:00:00.000Z"});
    example(
        json!({"networkId": NETWORK, "registration": {"sessions": [session], "functions": [function]}}),
        json!({"conflicts": [{
            "first": with(json!({"kind": "session"}), session),
            "second": with(json!({"kind": "function"}), function),
        }]}),
    )
}

/// What a certificate of the registration sees at this point of the story (after its transfer).
fn certificate_variables() -> Variables {
    let registration =
        registration_shown(json!({"contactId": "contact-charles", "city": "London", "jobTitle": "Analyst"}), 4);
    let ticket = with(ticket_shown(159.0, 1, 3), json!({"discount": "Early bird"}));
    Variables::from_json(json!({"registration": registration, "ticket": ticket, "networkId": NETWORK}))
}

pub fn registration_get_certificate() -> Example {
    // The built-in certificate, as the network keeps none yet: the page a browser prints.
    let html = template::certificate(template::DEFAULT_CERTIFICATE, &certificate_variables())
        .unwrap_or_else(|e| format!("the built-in certificate does not render: {e}"));
    example(json!({"networkId": NETWORK, "id": REGISTRATION}), json!({ "html": html }))
}

pub fn registration_preview_certificate() -> Example {
    let tried = "<h1>{{ registration.name }}</h1>\n<p>{{ ticket.eventName }}, {{ ticket.eventStartDate|date }}</p>";
    let html = template::page(
        "Certificate: Ada Lovelace",
        "<h1>Ada Lovelace</h1>\n<p>Annual Gala 2026, 18 September 2026</p>",
    );
    example(
        json!({"networkId": NETWORK, "registrationId": REGISTRATION, "certificateTemplate": tried}),
        json!({ "html": html }),
    )
}

/// The confirmation e-mail of the registration at this point of the story: the built-in template rendered for it,
/// held, as the server of the story has no SMTP URL.
fn confirmation_message() -> Value {
    let variables = certificate_variables();
    let render = |source: &str, text| {
        template::render(source, text, &variables)
            .unwrap_or_else(|e| format!("the built-in e-mail does not render: {e}"))
    };
    let html = render(template::DEFAULT_CONFIRMATION_BODY, template::Text::Html);
    message(MESSAGE, "ada@example.org", &render(template::DEFAULT_CONFIRMATION_SUBJECT, template::Text::Plain), &html)
}

/// A held message of the registration.
fn message(id: &str, to: &str, subject: &str, html: &str) -> Value {
    with(
        json!({"id": id, "to": to, "subject": subject, "html": html,
               "text": crate::domain::mail::text_of(html), "status": "held", "attempts": 0, "lastError": null,
               "sentAt": null, "registrationId": REGISTRATION}),
        sys(1),
    )
}

fn preview_message() -> Value {
    message(PREVIEW_MESSAGE, "events-team@example.org", "[Preview] See you at Annual Gala 2026", "<p>Hello Ada,</p>")
}

pub fn registration_resend_confirmation_email() -> Example {
    example(json!({"networkId": NETWORK, "id": REGISTRATION}), json!({"message": confirmation_message()}))
}

pub fn registration_preview_email() -> Example {
    example(
        json!({"networkId": NETWORK, "registrationId": REGISTRATION, "destinationEmailAddress": "events-team@example.org",
               "type": "confirmationEmail",
               "emailTemplate": {"subject": "See you at {{ ticket.eventName }}",
                                 "body": "<p>Hello {{ registration.firstName }},</p>"}}),
        json!({"message": preview_message()}),
    )
}

pub fn mail_list() -> Example {
    example(
        json!({"networkId": NETWORK, "registrationId": [REGISTRATION], "status": "held", "limit": 10}),
        json!({"count": 2, "items": [confirmation_message(), preview_message()], "nextCursor": null}),
    )
}

pub fn mail_get() -> Example {
    example(json!({"networkId": NETWORK, "id": MESSAGE}), json!({"message": confirmation_message()}))
}

pub fn mail_retry() -> Example {
    // Without an SMTP URL a held message stays held: it is sent by a retry once one is configured.
    example(json!({"networkId": NETWORK, "id": MESSAGE}), json!({"message": confirmation_message()}))
}

/// A page holding the registration, trimmed to its name.
fn one_registration() -> Value {
    json!({"count": 1, "items": [{"id": REGISTRATION, "name": "Ada Lovelace"}], "nextCursor": null})
}

fn no_registrations() -> Value {
    json!({"count": 0, "items": [], "nextCursor": null})
}

pub fn registration_list_by_contact() -> Example {
    example(json!({"networkId": NETWORK, "contactId": "contact-charles", "fields": ["name"]}), one_registration())
}

pub fn registration_list_by_event_contact() -> Example {
    example(
        json!({"networkId": NETWORK, "eventId": "gala-2026", "contactId": "contact-charles", "fields": ["name"]}),
        one_registration(),
    )
}

pub fn registration_list_by_parent() -> Example {
    example(json!({"networkId": NETWORK, "parentRegistrationId": REGISTRATION, "limit": 10}), no_registrations())
}

pub fn registration_list_by_order() -> Example {
    example(json!({"networkId": NETWORK, "orderId": "order-1001"}), no_registrations())
}

pub fn registration_list_by_group() -> Example {
    example(json!({"networkId": NETWORK, "groupId": "group-7", "fields": ["name"]}), one_registration())
}

pub fn registration_list_by_event_organization() -> Example {
    example(json!({"networkId": NETWORK, "eventId": "gala-2026", "organizationId": "org-42"}), no_registrations())
}

/// The registration's fields after its update, patch and transfer.
fn transferred() -> Value {
    json!({"contactId": "contact-charles", "city": "London", "groupId": "group-7", "jobTitle": "Analyst"})
}

/// The order fields of the registration, as its order (one VIP line at 159) has them.
fn order_fields(status: &str, paid: i64, due: i64) -> Value {
    json!({"orderId": ORDER, "orderLineItemId": LINE, "orderNumber": 1, "orderBalanceDue": due,
           "orderAmountPaid": paid, "orderCurrencyCode": "USD", "orderCurrencySymbol": "$", "orderStatus": status,
           "orderTotal": 159})
}

/// The VIP ticket as a line, `quantity` of it.
fn vip_line(product_id: &str, name: &str, quantity: i64) -> Value {
    json!({"productId": product_id, "description": format!("Annual Gala 2026: {name}"), "quantity": quantity,
           "unitPrice": 159, "total": 159 * quantity})
}

/// The registration's order: one line, its ticket.
fn order_shown(status: &str, paid: i64, version: i64) -> Value {
    let line = with(json!({"lineItemId": LINE, "registrationId": REGISTRATION}), vip_line("GALA-2026-VIP", "VIP", 1));
    with(
        json!({"orderId": ORDER, "orderNumber": 1, "status": status, "currencyCode": "USD", "currencySymbol": "$",
               "lines": [line], "total": 159, "amountPaid": paid, "balanceDue": 159 - paid,
               "registrationIds": [REGISTRATION]}),
        sys(version),
    )
}

pub fn registration_generate_order() -> Example {
    let unsaved = json!({"eventId": "gala-2026", "name": "Grace Hopper", "contactId": "contact-grace",
        "typeId": "attendee", "packageId": "standard", "productId": "GALA-2026-VIP",
        "addOns": [{"productId": "GALA-2026-VIP-B", "quantity": 2}, {"note": "vegetarian"}]});
    let lines = [vip_line("GALA-2026-VIP", "VIP", 1), vip_line("GALA-2026-VIP-B", "VIP (second room)", 2)];
    example(
        json!({"networkId": NETWORK, "registration": unsaved}),
        json!({"order": {"currencyCode": "USD", "currencySymbol": "$", "lines": lines, "total": 477,
                         "amountPaid": 0, "balanceDue": 477}}),
    )
}

pub fn registration_generate_group_order() -> Example {
    let ordered = with(transferred(), order_fields("awaiting payment", 0, 159));
    example(
        json!({"networkId": NETWORK, "groupId": "group-7"}),
        json!({"order": order_shown("awaiting payment", 0, 1), "registrations": [registration_shown(ordered, 5)]}),
    )
}

pub fn registration_get_modification_payload() -> Example {
    use crate::domain::{order::ORDER_FIELDS, record, registration::FIELDS};
    let set = with(with(registration(), json!({"status": "active"})), transferred());
    let mut payload = serde_json::Map::new();
    payload.insert("id".into(), REGISTRATION.into());
    for &(name, kind) in FIELDS.iter().filter(|(name, _)| !ORDER_FIELDS.contains(name)) {
        payload.insert(name.into(), set.get(name).cloned().unwrap_or_else(|| record::default(name, kind)));
    }
    payload.insert("sysVersion".into(), 5.into());
    example(json!({"networkId": NETWORK, "id": REGISTRATION}), json!({"registration": payload}))
}

pub fn order_get() -> Example {
    example(json!({"networkId": NETWORK, "orderId": ORDER}), json!({"order": order_shown("awaiting payment", 0, 1)}))
}

pub fn order_list() -> Example {
    example(
        json!({"networkId": NETWORK, "status": "awaiting payment", "registrationId": [REGISTRATION],
               "fields": ["orderNumber", "total", "balanceDue"]}),
        json!({"count": 1, "items": [{"orderId": ORDER, "orderNumber": 1, "total": 159, "balanceDue": 159}],
               "nextCursor": null}),
    )
}

pub fn order_record_payment() -> Example {
    example(
        json!({"networkId": NETWORK, "orderId": ORDER, "amount": 100, "sysVersion": 1}),
        json!({"order": order_shown("awaiting payment", 100, 2)}),
    )
}

pub fn order_cancel() -> Example {
    example(
        json!({"networkId": NETWORK, "orderId": ORDER, "sysVersion": 2}),
        json!({"order": order_shown("cancelled", 100, 3)}),
    )
}

fn function_ticket() -> Value {
    json!({
        "name": "Gala dinner",
        "eventId": "gala-2026",
        "functionId": "dinner-1",
        "contactId": "contact-charles",
        "status": "active",
        "registrationId": REGISTRATION,
    })
}

fn function_ticket_shown(more: Value, version: i64) -> Value {
    with(with(with(json!({"id": FUNCTION_TICKET}), function_ticket()), more), sys(version))
}

pub fn function_ticket_create() -> Example {
    example(
        json!({"networkId": NETWORK, "functionTicket": function_ticket()}),
        json!({"functionTicket": function_ticket_shown(json!({}), 1)}),
    )
}

pub fn function_ticket_get() -> Example {
    example(
        json!({"networkId": NETWORK, "id": FUNCTION_TICKET}),
        json!({"functionTicket": function_ticket_shown(json!({}), 1)}),
    )
}

pub fn function_ticket_update() -> Example {
    let sent = with(function_ticket(), json!({"id": FUNCTION_TICKET, "mealOptionId": "vegetarian"}));
    example(
        json!({"networkId": NETWORK, "functionTicket": sent}),
        json!({"functionTicket": function_ticket_shown(json!({"mealOptionId": "vegetarian"}), 2)}),
    )
}

pub fn function_ticket_patch() -> Example {
    example(
        json!({"networkId": NETWORK, "id": FUNCTION_TICKET, "patch": [{"op": "add", "path": "/notes", "value": "Table 4"}]}),
        json!({"functionTicket": function_ticket_shown(json!({"mealOptionId": "vegetarian", "notes": "Table 4"}), 3)}),
    )
}

pub fn function_ticket_delete() -> Example {
    example(json!({"networkId": NETWORK, "id": FUNCTION_TICKET}), json!({}))
}

pub fn function_ticket_batch() -> Example {
    example(
        json!({"networkId": NETWORK, "operations": [
            {"op": "patch", "id": FUNCTION_TICKET, "sysVersion": 3,
             "patch": [{"op": "test", "path": "/status", "value": "active"}]},
        ]}),
        json!({"successCount": 1, "errorCount": 0, "results": [
            {"id": FUNCTION_TICKET, "ok": true,
             "functionTicket": function_ticket_shown(json!({"mealOptionId": "vegetarian", "notes": "Table 4"}), 3)},
        ]}),
    )
}

/// A page holding the function ticket, trimmed to its function.
fn one_function_ticket() -> Value {
    json!({"count": 1, "items": [{"id": FUNCTION_TICKET, "functionId": "dinner-1"}], "nextCursor": null})
}

pub fn function_ticket_list_by_function() -> Example {
    example(json!({"networkId": NETWORK, "functionId": "dinner-1", "fields": ["functionId"]}), one_function_ticket())
}

pub fn function_ticket_list_by_event_contact() -> Example {
    example(
        json!({"networkId": NETWORK, "eventId": "gala-2026", "contactId": "contact-charles", "fields": ["functionId"]}),
        one_function_ticket(),
    )
}

/// The network's own certificate in this story.
const CERTIFICATE: &str = "<h1>{{ registration.name }}</h1>\n<p>attended {{ ticket.eventName }}</p>";

fn certificate_template() -> Value {
    with(json!({"kind": "certificate", "subject": null, "body": CERTIFICATE, "default": false}), sys(1))
}

pub fn template_put() -> Example {
    example(
        json!({"networkId": NETWORK, "kind": "certificate", "body": CERTIFICATE}),
        json!({"template": certificate_template()}),
    )
}

pub fn template_get() -> Example {
    example(json!({"networkId": NETWORK, "kind": "certificate"}), json!({"template": certificate_template()}))
}

pub fn template_delete() -> Example {
    example(json!({"networkId": NETWORK, "kind": "certificate"}), json!({}))
}

fn token_info(revoked: bool) -> Value {
    json!({
        "id": TOKEN,
        "name": "acme dashboard",
        "grants": ["network.manage@acme"],
        "createdAt": CREATED,
        "expiresAt": "2027-06-01T00:00:00.000Z",
        "revokedAt": if revoked { Value::from(CHANGED) } else { Value::Null },
    })
}

pub fn admin_create_token() -> Example {
    example(
        json!({"name": "acme dashboard", "grants": ["network.manage@acme"], "expiresAt": "2027-06-01T00:00:00.000Z"}),
        json!({"token": "ta_5f2c0e9a7b3d41c6a8e0f1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a", "tokenInfo": token_info(false)}),
    )
}

/// The first start's admin token.
fn admin_info() -> Value {
    json!({"id": ADMIN, "name": "bootstrap", "grants": ["all@*"], "createdAt": CREATED, "expiresAt": null,
           "revokedAt": null})
}

pub fn admin_list_tokens() -> Example {
    example(json!({}), json!({"tokens": [admin_info(), token_info(false)]}))
}

pub fn admin_revoke_token() -> Example {
    example(json!({"tokenId": TOKEN}), json!({}))
}

pub fn admin_stats() -> Example {
    example(json!({}), json!({"writer": {"commits": 1200, "calls": 5400}}))
}

fn limits(max_tickets: i64, tickets: i64) -> Value {
    json!({
        "limits": {"maxTickets": max_tickets, "maxRegistrations": null, "maxFunctionTickets": null, "networkId": NETWORK},
        "usage": {"tickets": tickets, "registrations": 1, "functionTickets": 1},
    })
}

pub fn admin_set_network_limits() -> Example {
    example(json!({"networkId": NETWORK, "maxTickets": 500}), limits(500, 2))
}

pub fn admin_get_network_limits() -> Example {
    example(json!({"networkId": NETWORK}), limits(500, 2))
}

pub fn admin_whoami() -> Example {
    example(json!({}), json!({"tokenInfo": admin_info()}))
}

pub fn rpc_discover() -> Example {
    example(
        json!({}),
        json!({"openrpc": super::openrpc::OPENRPC_VERSION, "info": {"title": "ticket-admin", "version": env!("CARGO_PKG_VERSION")},
               "methods": [{"name": "admin.whoami", "params": [], "result": {"name": "result"}}]}),
    )
}
