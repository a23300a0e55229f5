//! `ticket-admin migrate --from FILE --to URL`, the binary run as an operator runs it: a SQLite store made through
//! the API is copied into a new PostgreSQL database, and a server on that database answers every read exactly as
//! the SQLite server did (full answers compared), accepts the same tokens, refuses the revoked one, numbers on from
//! each event's counter, keeps the limits and the capacity, keeps the outbox (messages sent, refused and their
//! places in each network's list) and takes cursors handed out before the move. A
//! database that is not empty, a missing or busy source and a target that is not PostgreSQL are refused, changing
//! nothing. Skipped where PostgreSQL is not installed, and in the suite's run on PostgreSQL (the source is SQLite).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};
use ticket_admin::config::{Config, Db, RateLimits};
use ticket_admin::store::Synchronous;

use crate::common::{self, ADMIN, Client, create_registration, create_seat, network, registration, seat, ticket};
use crate::mail::delivery::message_when;
use crate::mail::sink::{Mode, Sink};
use crate::process::{finish, text, ticket_admin};

/// `ticket-admin migrate --from FROM --to TO`, run to its end.
async fn migrate(from: &Path, to: &str) -> Output {
    let mut command = ticket_admin();
    command.arg("migrate").arg("--from").arg(from).arg("--to").arg(to);
    finish(command).await
}

/// A server of this test on `db`, the admin token made on a first start; it delivers e-mail to `sink` when given one.
async fn start(db: Db, sink: Option<&Sink>) -> ticket_admin::Running {
    let smtp = sink.map(|sink| ticket_admin::mail::sender::Smtp::new(sink.url(), "events@example.org".into()));
    let config = Config {
        smtp,
        addr: "127.0.0.1:0".into(),
        db,
        bootstrap_token: Some(ADMIN.into()),
        rates: RateLimits::OFF,
        synchronous: Synchronous::Normal,
        ..Config::default()
    };
    ticket_admin::start(config).await.expect("a server starts")
}

/// What the test made on SQLite, and the secrets it reads with.
struct Made {
    /// The network holding most of it, and a second one, kept apart.
    main: String,
    other: String,
    manager: String,
    revoked: String,
    /// Registration `r1` (holding `vip`, a parent of a guest) and the first page's cursor of the search by event.
    r1: String,
    cursor: Value,
    /// A message of the outbox that the SMTP server refused.
    refused: Value,
}

/// Tickets (one with an allocation and sold seats, one deleted), registrations in two events (holding tickets,
/// cancelled, a guest, a chosen number, one deleted, searchable text with diacritics), function tickets (one tied to a
/// registration), orders (one partly paid, one cancelled and its registration ordered again), limits in both
/// networks, a certificate and an e-mail template in one, messages in both outboxes (sent through `sink`, and one
/// it refused for good), and besides the admin token a manager's token and a revoked one.
async fn make(addr: SocketAddr, sink: &Sink) -> Made {
    let admin = Client::of(addr).with_token(ADMIN);
    let (main, other) = (network("migrate"), network("migrate-other"));
    let manager = admin.make_token(&[&format!("network.manage@{main}")]).await;
    let revoked = admin.make_token(&[&format!("network.manage@{main}")]).await;
    let revoked_id =
        admin.clone().with_token(&revoked).call("admin.whoami", json!({})).await.unwrap()["tokenInfo"]["id"].clone();
    admin.call("admin.revokeToken", json!({"tokenId": revoked_id})).await.expect("revoked");

    let on = Client::of(addr).with_token(&manager).on(&main);
    let mut vip = ticket("vip");
    vip["allocation"] = json!(10);
    vip["maxPerAttendee"] = json!(2);
    for t in [vip, ticket("std"), ticket("gone")] {
        on.call("ticket.createPurchasableTicket", json!({"ticket": t})).await.unwrap();
    }
    on.call("ticket.deletePurchasableTicket", json!({"productId": "gone"})).await.unwrap();
    let mut changed = ticket("std");
    changed["price"] = json!(12.34);
    on.call("ticket.updatePurchasableTicket", json!({"ticket": changed})).await.unwrap();

    let holding = |contact: &str, name: &str, city: &str| {
        let mut r = registration(contact);
        r["productId"] = json!("vip");
        r["name"] = json!(name);
        r["city"] = json!(city);
        r
    };
    let mut first = holding("c1", "Élodie Durand", "München");
    first["emailAddress"] = json!("elodie@example.org");
    let r1 = create_registration(&on, first).await.unwrap();
    let r1 = r1["id"].as_str().unwrap().to_owned();
    let r2 = create_registration(&on, holding("c1", "Élodie Durand", "München")).await.unwrap();
    let mut cancelled = holding("c2", "Grace Hopper", "Arlington");
    cancelled["status"] = json!("cancelled");
    create_registration(&on, cancelled).await.unwrap();
    let mut guest = registration("c3");
    guest["parentRegistrationId"] = json!(r1);
    guest["isGuestRegistration"] = json!(true);
    guest["orderNumber"] = json!(1234);
    guest["orderTotal"] = json!(19.99);
    create_registration(&on, guest).await.unwrap();
    let dropped = create_registration(&on, registration("c4")).await.unwrap();
    on.call("registration.delete", json!({"id": dropped["id"]})).await.unwrap();
    let mut chosen = registration("c5");
    chosen["eventId"] = json!("ev2");
    chosen["number"] = json!(50);
    create_registration(&on, chosen).await.unwrap();
    let mut next = registration("c6");
    next["eventId"] = json!("ev2");
    assert_eq!(create_registration(&on, next).await.unwrap()["number"], 51);

    let mut tied = seat("dinner", "c1");
    tied["registrationId"] = json!(r1);
    create_seat(&on, tied).await.unwrap();
    create_seat(&on, seat("dinner", "c9")).await.unwrap();
    create_seat(&on, seat("workshop", "c9")).await.unwrap();

    // Orders: r1's, partly paid; r2's cancelled, and r2 ordered again.
    let order = |id: &Value| on.call("registration.generateOrder", json!({"id": id}));
    let first = order(&json!(r1)).await.unwrap()["order"]["orderId"].clone();
    on.call("order.recordPayment", json!({"orderId": first, "amount": 20})).await.unwrap();
    let second = order(&r2["id"]).await.unwrap()["order"]["orderId"].clone();
    on.call("order.cancel", json!({"orderId": second})).await.unwrap();
    assert_eq!(order(&r2["id"]).await.unwrap()["order"]["orderNumber"], 3);

    let elsewhere = admin.clone().on(&other);
    elsewhere.call("ticket.createPurchasableTicket", json!({"ticket": ticket("vip")})).await.unwrap();
    let mut addressed = registration("c1");
    addressed["emailAddress"] = json!("c1@example.org");
    let addressed = create_registration(&elsewhere, addressed).await.unwrap();

    // main holds its maximum of tickets and room for one more registration; other a limit of function tickets.
    let limits = [
        json!({"networkId": main, "maxTickets": 2, "maxRegistrations": 7}),
        json!({"networkId": other, "maxFunctionTickets": 0}),
    ];
    for set in limits {
        admin.call("admin.setNetworkLimits", set).await.unwrap();
    }
    let certificate = json!({"kind": "certificate", "body": "<h1>{{ registration.name }}</h1>"});
    on.call("template.put", certificate).await.unwrap();
    let email = json!({"kind": "confirmationEmail", "subject": "Hello {{ registration.name }}", "body": "<p>Hi</p>"});
    on.call("template.put", email).await.unwrap();

    // The outbox: a confirmation in each network, sent; then a preview the SMTP server refuses for good.
    for (client, id) in [(&on, &json!(r1)), (&elsewhere, &addressed["id"])] {
        let queued = client.call("registration.resendConfirmationEmail", json!({"id": id})).await.unwrap();
        message_when(client, &queued["message"]["id"], "sent", |m| m["status"] == "sent").await;
    }
    sink.set(Mode::RefuseRcpt(550));
    let preview = json!({"registrationId": r1, "destinationEmailAddress": "team@example.org"});
    let queued = on.call("registration.previewEmail", preview).await.unwrap();
    let refused = message_when(&on, &queued["message"]["id"], "failed", |m| m["status"] == "failed").await;
    assert!(refused["lastError"].as_str().is_some_and(|e| e.contains("550")), "{refused}");

    let first_page = on.call("registration.search", json!({"eventId": "ev1", "limit": 2})).await.unwrap();
    let cursor = first_page["nextCursor"].clone();
    assert!(cursor.is_string(), "{first_page}");
    Made { main, other, manager, revoked, r1, cursor, refused }
}

/// Every read the test compares, by name, with its full answer.
async fn reads(addr: SocketAddr, made: &Made) -> BTreeMap<String, Value> {
    let admin = Client::of(addr).with_token(ADMIN);
    let on = Client::of(addr).with_token(&made.manager).on(&made.main);
    let elsewhere = admin.clone().on(&made.other);
    let calls = [
        ("tickets", &on, "ticket.getPurchasableTickets", json!({})),
        ("tickets by price", &on, "ticket.getPurchasableTickets", json!({"orderBy": "price", "order": "desc"})),
        ("vip", &on, "ticket.getPurchasableTicket", json!({"productId": "vip"})),
        ("registrations", &on, "registration.search", json!({"limit": 100})),
        ("ev1 active", &on, "registration.search", json!({"eventId": "ev1", "status": ["active"]})),
        ("ev1 page 2", &on, "registration.search", json!({"eventId": "ev1", "limit": 2, "cursor": made.cursor})),
        ("text of 3", &on, "registration.search", json!({"name": "élo"})),
        ("short text", &on, "registration.search", json!({"city": "mü"})),
        ("total range", &on, "registration.search", json!({"orderTotal": {"from": 19, "to": 20}})),
        ("r1", &on, "registration.get", json!({"id": made.r1})),
        ("guests", &on, "registration.listByParent", json!({"parentRegistrationId": made.r1})),
        ("c1", &on, "registration.listByContact", json!({"contactId": "c1"})),
        ("dinner", &on, "functionTicket.listByFunction", json!({"functionId": "dinner"})),
        ("c9 at ev1", &on, "functionTicket.listByEventContact", json!({"eventId": "ev1", "contactId": "c9"})),
        ("orders", &on, "order.list", json!({})),
        ("r1's order", &on, "registration.generateOrder", json!({"id": made.r1})),
        ("other tickets", &elsewhere, "ticket.getPurchasableTickets", json!({})),
        ("other registrations", &elsewhere, "registration.search", json!({})),
        ("tokens", &admin, "admin.listTokens", json!({})),
        ("main limits", &admin, "admin.getNetworkLimits", json!({"networkId": made.main})),
        ("certificate template", &on, "template.get", json!({"kind": "certificate"})),
        ("other certificate template", &elsewhere, "template.get", json!({"kind": "certificate"})),
        ("other limits", &admin, "admin.getNetworkLimits", json!({"networkId": made.other})),
        ("e-mail template", &on, "template.get", json!({"kind": "confirmationEmail"})),
        ("mail", &on, "mail.list", json!({})),
        ("mail of r1", &on, "mail.list", json!({"registrationId": made.r1, "limit": 1})),
        ("failed mail", &on, "mail.list", json!({"status": "failed"})),
        ("refused message", &on, "mail.get", json!({"id": made.refused["id"]})),
        ("other mail", &elsewhere, "mail.list", json!({})),
    ];
    let mut answers = BTreeMap::new();
    for (name, client, method, params) in calls {
        let answer = client.call(method, params).await.unwrap_or_else(|e| panic!("{name}: {e:?}"));
        answers.insert(name.to_owned(), answer);
    }
    answers
}

/// The `name: rows` lines a successful migrate prints, as a map.
fn summary(out: &Output) -> BTreeMap<String, i64> {
    text(&out.stdout)
        .lines()
        .map(|line| {
            let (table, rows) = line.split_once(' ').unwrap_or_else(|| panic!("not `table rows`: {line}"));
            (table.to_owned(), rows.parse().unwrap_or_else(|e| panic!("{e}: {line}")))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migrated_store_reads_the_same_on_postgres_and_goes_on_from_where_it_was() {
    if common::on_postgres() || !common::postgres_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ticket-admin.db");
    let url = tokio::task::spawn_blocking(common::postgres_database).await.expect("a database");
    let sink = Sink::start(Mode::Accept).await;
    let on_sqlite = start(Db::Sqlite(file.clone()), Some(&sink)).await;
    let made = make(on_sqlite.local_addr(), &sink).await;
    let before = reads(on_sqlite.local_addr(), &made).await;

    // While its server runs, the file is refused (and the target is left empty: the copy below succeeds).
    let busy = migrate(&file, &url).await;
    assert!(!busy.status.success() && busy.stdout.is_empty());
    assert!(text(&busy.stderr).contains("in use"), "{}", text(&busy.stderr));
    on_sqlite.shutdown().await;

    let copied = migrate(&file, &url).await;
    assert!(copied.status.success(), "{}", text(&copied.stderr));
    let expected = [
        ("tokens", 3),
        ("token_grants", 3),
        ("tickets", 3),
        ("registrations", 7),
        ("function_tickets", 3),
        ("event_numbers", 3),
        ("network_limits", 2),
        ("templates", 2),
        ("orders", 3),
        ("order_registrations", 3),
        ("order_numbers", 1),
        ("mail_outbox", 3),
    ];
    let expected: BTreeMap<String, i64> = expected.iter().map(|(t, n)| (t.to_string(), *n)).collect();
    assert_eq!(summary(&copied), expected, "one line per table");

    let on_postgres = start(Db::Postgres(url.clone()), None).await;
    let addr = on_postgres.local_addr();
    let after = reads(addr, &made).await;
    for (name, answer) in &before {
        assert_eq!(&after[name], answer, "{name} reads the same on PostgreSQL");
    }
    assert_eq!(before["vip"]["ticket"]["sold"], 2, "the sold seats came along");
    let statuses: Vec<&Value> = before["mail"]["items"].as_array().unwrap().iter().map(|m| &m["status"]).collect();
    assert_eq!(statuses, [&json!("sent"), &json!("failed")], "the outbox came along, each message as it was");

    // Tokens: the same secrets authenticate, the revoked one stays refused.
    let on = Client::of(addr).with_token(&made.manager).on(&made.main);
    assert!(on.call("admin.whoami", json!({})).await.is_ok());
    let refused = Client::of(addr).with_token(&made.revoked).call("admin.whoami", json!({})).await.unwrap_err();
    assert_eq!(refused.code, -32001, "revoked stays revoked");

    // Numbers go on from each event's counter (ev1 handed out 5, the fifth deleted since), capacity from the sold
    // seats and holdings, and new registrations come after the copied ones.
    let mut r = registration("c1");
    r["productId"] = json!("vip");
    let refused = create_registration(&on, r.clone()).await.unwrap_err();
    assert_eq!((refused.code, refused.reason()), (-32009, "maxPerAttendee"), "c1 holds two of vip already");
    r["contactId"] = json!("c7");
    let made_now = create_registration(&on, r).await.unwrap();
    assert_eq!(made_now["number"], 6);
    let vip = on.call("ticket.getPurchasableTicket", json!({"productId": "vip"})).await.unwrap();
    assert_eq!(vip["ticket"]["sold"], 3);
    let mut ev2 = registration("c8");
    ev2["eventId"] = json!("ev2");
    let refused = create_registration(&on, ev2).await.unwrap_err();
    assert_eq!(refused.code, -32029, "maxRegistrations 7 holds: {refused:?}");
    let all = on.call("registration.search", json!({"limit": 100})).await.unwrap();
    let items = all["items"].as_array().unwrap();
    assert_eq!(items.last().unwrap()["id"], made_now["id"], "made last, listed last");
    assert_eq!(&items[..items.len() - 1], before["registrations"]["items"].as_array().unwrap().as_slice());
    // Orders go on from the network's counter, and the copied ones are answered as they were.
    let ordered = on.call("registration.generateOrder", json!({"id": made_now["id"]})).await.unwrap();
    assert_eq!(ordered["order"]["orderNumber"], 4);
    let orders = on.call("order.list", json!({})).await.unwrap();
    let listed = orders["items"].as_array().unwrap();
    assert_eq!(listed[..3], before["orders"]["items"].as_array().unwrap()[..], "copied, in their order");
    assert_eq!(listed[3]["orderId"], ordered["order"]["orderId"], "made last, listed last");
    // Messages queue on after the copied ones (held: this server has no SMTP URL).
    let queued = on.call("registration.resendConfirmationEmail", json!({"id": made.r1})).await.unwrap();
    assert_eq!(queued["message"]["status"], "held");
    let outbox = on.call("mail.list", json!({})).await.unwrap();
    let messages = outbox["items"].as_array().unwrap();
    assert_eq!(messages[..2], before["mail"]["items"].as_array().unwrap()[..], "copied, in their order");
    assert_eq!(messages[2]["id"], queued["message"]["id"], "queued last, listed last");

    // Tickets: the limit holds, and a change shows in the list.
    let refused = on.call("ticket.createPurchasableTicket", json!({"ticket": ticket("third")})).await.unwrap_err();
    assert_eq!(refused.code, -32029, "maxTickets 2 holds");
    let mut cheaper = ticket("std");
    cheaper["price"] = json!(5);
    on.call("ticket.updatePurchasableTicket", json!({"ticket": cheaper})).await.unwrap();
    let listed = on.call("ticket.getPurchasableTickets", json!({})).await.unwrap();
    let std = listed["tickets"].as_array().unwrap().iter().find(|t| t["productId"] == "std").unwrap();
    assert_eq!((&std["price"], &std["sysVersion"]), (&json!(5), &json!(3)));
    let elsewhere = Client::of(addr).with_token(ADMIN).on(&made.other);
    let refused = create_seat(&elsewhere, seat("dinner", "c1")).await.unwrap_err();
    assert_eq!(refused.code, -32029, "maxFunctionTickets 0 holds");

    // Into a database that is no longer empty: refused, nothing changed.
    let now = reads(addr, &made).await;
    let again = migrate(&file, &url).await;
    assert!(!again.status.success() && again.stdout.is_empty());
    assert!(text(&again.stderr).contains("not empty"), "{}", text(&again.stderr));
    assert_eq!(reads(addr, &made).await, now, "the refused copy changed nothing");
    on_postgres.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_source_or_a_target_that_is_not_postgres_is_refused() {
    if common::on_postgres() || !common::postgres_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such.db");
    let url = tokio::task::spawn_blocking(common::postgres_database).await.expect("a database");
    let refused = migrate(&missing, &url).await;
    assert!(!refused.status.success() && refused.stdout.is_empty());
    assert!(text(&refused.stderr).contains("does not exist"), "{}", text(&refused.stderr));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no file made, not even a lock file");

    let file = dir.path().join("ticket-admin.db");
    start(Db::Sqlite(file.clone()), None).await.shutdown().await;
    let other = dir.path().join("other.db");
    let refused = migrate(&file, other.to_str().unwrap()).await;
    assert!(!refused.status.success());
    assert!(text(&refused.stderr).contains("postgres://"), "{}", text(&refused.stderr));
    assert!(!other.exists());

    // Neither refusal touched the database: a copy into it still succeeds.
    let copied = migrate(&file, &url).await;
    assert!(copied.status.success(), "{}", text(&copied.stderr));
    assert_eq!(summary(&copied)["tokens"], 1);
}
