//! The PostgreSQL store on a real cluster (started from Debian's server binaries, see `tests/it/common/cluster.rs`),
//! with two stores on one database standing for two servers: what one changes the other sees, and the rules that
//! must hold across processes hold when their calls race. Skipped where PostgreSQL is not installed, unless
//! `TICKET_ADMIN_REQUIRE_POSTGRES` is set (as CI sets it), which makes a missing PostgreSQL a failure.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::json;

use super::PostgresStore;
use crate::auth::{Grant, NetworkScope, TokenInfo};
use crate::domain::fixtures::{merged, product, registration, ticket};
use crate::domain::limits::Held;
use crate::domain::mail::{INTERRUPTED, MailStatus, Message};
use crate::domain::money::Cents;
use crate::domain::order::OrderAction;
use crate::domain::registration::OrderStatus;
use crate::domain::time;
use crate::error::{Conflict, Error};
use crate::store::{
    Limits, OrderFor, Orders, Outbox, Records, RegistrationKind, TicketChange, TicketChanges, Tickets, Tokens,
};

#[path = "../../../tests/it/common/cluster.rs"]
pub(crate) mod cluster;

/// A throwaway cluster with one database and two stores on it; `None` where PostgreSQL is not installed.
async fn two_servers() -> Option<(cluster::Cluster, PostgresStore, PostgresStore)> {
    if cluster::Cluster::binaries().is_none() {
        assert!(
            std::env::var_os("TICKET_ADMIN_REQUIRE_POSTGRES").is_none(),
            "TICKET_ADMIN_REQUIRE_POSTGRES is set but PostgreSQL's server binaries are not installed"
        );
        eprintln!("PostgreSQL is not installed: skipped");
        return None;
    }
    let cluster = tokio::task::spawn_blocking(|| cluster::Cluster::start(false)).await.unwrap().expect("a cluster");
    let url = cluster.create_database("store").expect("a database");
    // Both open at once: the migration runs once, the other waits for it.
    let (a, b) = tokio::join!(PostgresStore::open(&url, 8), PostgresStore::open(&url, 8));
    Some((cluster, a.expect("first store"), b.expect("second store")))
}

fn scope() -> NetworkScope {
    NetworkScope::for_tests("net-a", "token-1")
}

#[tokio::test]
async fn tickets_written_on_one_server_read_the_same_on_the_other() {
    let Some((_cluster, a, b)) = two_servers().await else { return };
    let made = a.create_ticket(&scope(), ticket("t1", json!({"allocation": 5}))).await.unwrap();
    assert_eq!(b.ticket(&scope(), &product("t1")).await.unwrap(), made);
    let refused = b.create_ticket(&scope(), ticket("t1", json!({}))).await.unwrap_err();
    assert!(matches!(refused, Error::Conflict(Conflict::Duplicate { .. })), "{refused:?}");

    let changed = b.update_ticket(&scope(), ticket("t1", json!({"price": 60})), Some(1)).await.unwrap();
    assert_eq!(changed.sys.version, 2);
    let stale = a.update_ticket(&scope(), ticket("t1", json!({"price": 70})), Some(1)).await.unwrap_err();
    assert!(matches!(stale, Error::Conflict(Conflict::StaleVersion { expected: 1, current: 2 })), "{stale:?}");
    assert_eq!(a.ticket(&scope(), &product("t1")).await.unwrap().ticket.price.0, 6000);

    a.delete_ticket(&scope(), &product("t1")).await.unwrap();
    let gone = b.ticket(&scope(), &product("t1")).await.unwrap_err();
    assert!(matches!(gone, Error::NotFound { .. }), "{gone:?}");
    let other = NetworkScope::for_tests("net-b", "token-2");
    a.create_ticket(&scope(), ticket("t1", json!({}))).await.unwrap();
    let elsewhere = b.ticket(&other, &product("t1")).await.unwrap_err();
    assert!(matches!(elsewhere, Error::NotFound { .. }), "another network's ticket is not found: {elsewhere:?}");
}

#[tokio::test]
async fn each_server_sees_the_generation_move_and_what_changed() {
    let Some((_cluster, a, b)) = two_servers().await else { return };
    a.create_ticket(&scope(), ticket("keep", json!({}))).await.unwrap();
    a.create_ticket(&scope(), ticket("gone", json!({}))).await.unwrap();
    let TicketChanges::Whole { generation, tickets } = b.ticket_changes(&scope(), None).await.unwrap() else {
        panic!("without a generation, the whole list");
    };
    assert_eq!(tickets.iter().map(|t| t.ticket.product_id.as_str()).collect::<Vec<_>>(), ["gone", "keep"]);
    assert_eq!(b.ticket_generation(&scope()).await.unwrap(), generation);
    assert!(matches!(b.ticket_changes(&scope(), Some(generation)).await.unwrap(), TicketChanges::Unchanged));

    a.update_ticket(&scope(), ticket("keep", json!({"price": 1})), None).await.unwrap();
    a.delete_ticket(&scope(), &product("gone")).await.unwrap();
    assert_eq!(b.ticket_generation(&scope()).await.unwrap(), generation + 2, "one generation per transaction");
    let TicketChanges::Changed { generation: now, changes } =
        b.ticket_changes(&scope(), Some(generation)).await.unwrap()
    else {
        panic!("the changes since a known generation");
    };
    assert_eq!(now, generation + 2);
    match changes.as_slice() {
        [TicketChange::Removed(removed), TicketChange::Upserted(kept)] => {
            assert_eq!(removed.as_str(), "gone");
            assert_eq!((kept.ticket.product_id.as_str(), kept.ticket.price.0), ("keep", 100));
        }
        other => panic!("the delete and the update, by productId: {other:?}"),
    }
    // An update that changes nothing is no change.
    a.update_ticket(&scope(), ticket("keep", json!({"price": 1})), None).await.unwrap();
    assert_eq!(b.ticket_generation(&scope()).await.unwrap(), now);
}

#[tokio::test]
async fn of_racing_creates_on_two_servers_one_wins_and_a_limit_is_exact() {
    let Some((_cluster, a, b)) = two_servers().await else { return };
    let (a, b) = (Arc::new(a), Arc::new(b));
    let races = (0..20).map(|i| {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        tokio::spawn(async move { store.create_ticket(&scope(), ticket("same", json!({}))).await })
    });
    let outcomes: Vec<_> = futures_util::future::join_all(races).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1, "one winner");
    for refused in outcomes.iter().filter_map(|o| o.as_ref().err()) {
        assert!(matches!(refused, Error::Conflict(Conflict::Duplicate { .. })), "{refused:?}");
    }

    a.change_network_limits(&scope(), vec![(Held::Tickets, Some(10))]).await.unwrap();
    let races = (0..40).map(|i| {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        tokio::spawn(async move { store.create_ticket(&scope(), ticket(&format!("t{i}"), json!({}))).await })
    });
    let outcomes: Vec<_> = futures_util::future::join_all(races).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 9, "the limit of 10 counts the ticket made before");
    for refused in outcomes.iter().filter_map(|o| o.as_ref().err()) {
        assert!(matches!(refused, Error::TenantLimit { value: 10, .. }), "{refused:?}");
    }
    let (limits, usage) = b.network_limits(&scope()).await.unwrap();
    assert_eq!((limits.max_tickets, usage.tickets), (Some(10), 10));
}

#[tokio::test]
async fn creates_queued_together_are_inserted_together_each_answered_as_if_alone() {
    use crate::store::Store;
    let Some((_cluster, a, _b)) = two_servers().await else { return };
    let a = Arc::new(a);
    a.create_ticket(&scope(), ticket("old", json!({}))).await.unwrap();
    let before = a.stats();
    // Each productId asked twice, and one already stored: one create of each new productId wins.
    let mut asks: Vec<String> = (0..150).flat_map(|i| [format!("p{i}"), format!("p{}", 149 - i)]).collect();
    asks.push("old".into());
    let races = asks.iter().cloned().map(|id| {
        let a = a.clone();
        tokio::spawn(async move { (id.clone(), a.create_ticket(&scope(), ticket(&id, json!({}))).await) })
    });
    let outcomes: Vec<_> = futures_util::future::join_all(races).await.into_iter().map(Result::unwrap).collect();
    let mut made = std::collections::BTreeMap::new();
    for (id, outcome) in outcomes {
        match outcome {
            Ok(stored) => assert!(made.insert(id, stored).is_none(), "two creates of one productId both answered"),
            Err(refused) => assert!(matches!(refused, Error::Conflict(Conflict::Duplicate { .. })), "{refused:?}"),
        }
    }
    assert_eq!(made.len(), 150, "each new productId made once, the stored one refused");
    for (id, stored) in &made {
        assert_eq!(&a.ticket(&scope(), &product(id)).await.unwrap(), stored, "the answer is what was stored");
    }
    let after = a.stats();
    assert_eq!(after.calls - before.calls, 150, "the refused creates are not counted as written");
    assert!(after.commits - before.commits < 150, "creates queued together share a commit: {before:?} {after:?}");

    // A ticket the database refuses (a negative price, past the domain's checks) fails alone: the others queued
    // with it are made.
    let mut bad = ticket("bad", json!({}));
    bad.price.0 = -1;
    let races = std::iter::once(bad).chain((0..30).map(|i| ticket(&format!("q{i}"), json!({})))).map(|t| {
        let a = a.clone();
        tokio::spawn(async move { a.create_ticket(&scope(), t).await })
    });
    let outcomes: Vec<_> = futures_util::future::join_all(races).await.into_iter().map(Result::unwrap).collect();
    assert!(matches!(&outcomes[0], Err(Error::Internal(_))), "{:?}", outcomes[0]);
    assert!(outcomes[1..].iter().all(Result::is_ok), "{outcomes:?}");
    assert!(matches!(a.ticket(&scope(), &product("bad")).await, Err(Error::NotFound { .. })));
}

#[tokio::test]
async fn a_token_made_on_one_server_is_read_and_revoked_on_the_other() {
    let Some((_cluster, a, b)) = two_servers().await else { return };
    let first = |id: &str| TokenInfo {
        id: id.into(),
        name: "bootstrap".into(),
        grants: vec![Grant::parse("all@*").unwrap()],
        created_at: time::now(),
        expires_at: None,
        revoked_at: None,
    };
    // Two servers starting at once on an empty database: one makes the first token.
    let (made_a, made_b) =
        tokio::join!(a.insert_first_token(first("boot-a"), [1; 32]), b.insert_first_token(first("boot-b"), [2; 32]));
    assert_eq!(u8::from(made_a.unwrap()) + u8::from(made_b.unwrap()), 1, "exactly one first token");
    assert_eq!(a.tokens().await.unwrap().len(), 1);
    let info = TokenInfo {
        id: "tok-1".into(),
        name: "ops".into(),
        grants: vec![Grant::parse("network.manage@net-a").unwrap(), Grant::parse("all@*").unwrap()],
        created_at: time::from_millis(time::now().timestamp_millis()),
        expires_at: None,
        revoked_at: None,
    };
    a.insert_token(info.clone(), [7; 32]).await.unwrap();
    let all = b.tokens().await.unwrap();
    assert_eq!(all.len(), 2);
    let (hash, made) = all.iter().find(|(_, t)| t.id == "tok-1").expect("the token, on the other server");
    assert_eq!(*hash, [7; 32]);
    let mut grants: Vec<String> = made.grants.iter().map(ToString::to_string).collect();
    grants.sort();
    assert_eq!(grants, ["all@*", "network.manage@net-a"]);
    let first = b.revoke_token("tok-1".into()).await.unwrap();
    assert_eq!(a.revoke_token("tok-1".into()).await.unwrap(), first, "revoking twice keeps the first time");
    let revoked = a.tokens().await.unwrap().into_iter().find(|(_, t)| t.id == "tok-1").expect("the token").1;
    assert_eq!(revoked.revoked_at, Some(first));
    assert!(matches!(a.revoke_token("nope".into()).await.unwrap_err(), Error::NotFound { .. }));
}

#[tokio::test]
async fn limits_set_at_once_on_two_servers_are_both_kept_and_bind_creates_racing_them() {
    let Some((_cluster, a, b)) = two_servers().await else { return };
    let (a, b) = (Arc::new(a), Arc::new(b));
    // A network that never had limits: both changes land, neither overwrites the other.
    let here = scope();
    let (first, second) = tokio::join!(
        a.change_network_limits(&here, vec![(Held::Tickets, Some(3))]),
        b.change_network_limits(&here, vec![(Held::Registrations, Some(5))]),
    );
    first.unwrap();
    second.unwrap();
    let (limits, _) = a.network_limits(&scope()).await.unwrap();
    assert_eq!((limits.max_tickets, limits.max_registrations), (Some(3), Some(5)));

    // Creates racing the first ticket limit of another network never end above it: a network that never had
    // limits (no limits row to lock yet), and one whose row holds only a registration limit (creates share its lock).
    for (network, other_limit) in [("net-c", None), ("net-d", Some(100))] {
        let other = NetworkScope::for_tests(network, "token-3");
        if let Some(max) = other_limit {
            a.change_network_limits(&other, vec![(Held::Registrations, Some(max))]).await.unwrap();
        }
        let creates = (0..12).map(|i| {
            let (store, scope) = (if i % 2 == 0 { a.clone() } else { b.clone() }, other.clone());
            tokio::spawn(async move { store.create_ticket(&scope, ticket(&format!("c{i}"), json!({}))).await })
        });
        let limiting = a.change_network_limits(&other, vec![(Held::Tickets, Some(2))]);
        let (outcomes, limited) = tokio::join!(futures_util::future::join_all(creates), limiting);
        let (_, usage_when_set) = limited.unwrap();
        let made = outcomes.into_iter().filter(|o| matches!(o, Ok(Ok(_)))).count() as i64;
        let (_, usage) = b.network_limits(&other).await.unwrap();
        assert_eq!(usage.tickets, made, "{network}");
        assert!(
            usage.tickets <= usage_when_set.tickets.max(2),
            "{network}: {} made, {} when the limit was set",
            made,
            usage_when_set.tickets
        );
    }
}

#[tokio::test]
async fn old_change_sets_are_forgotten_and_a_server_that_far_behind_reads_the_list_whole() {
    let Some((_cluster, a, b)) = two_servers().await else { return };
    a.create_ticket(&scope(), ticket("t0", json!({}))).await.unwrap();
    // As if 10,000 generations had passed, their changes all kept: two of them stand for the rest.
    let db = a.pool.get().await.unwrap();
    db.batch_execute(
        "UPDATE ticket_generations SET generation = 10000 WHERE network_id = 'net-a'; \
         INSERT INTO ticket_change_sets VALUES ('net-a', 5000, '{t0}'), ('net-a', 6000, '{t0}')",
    )
    .await
    .unwrap();
    let kept = |db: deadpool_postgres::Object| async move {
        let row = db
            .query_one(
                "SELECT kept_after, array_agg(c.generation ORDER BY c.generation) FROM ticket_generations g \
                 JOIN ticket_change_sets c USING (network_id) WHERE network_id = 'net-a' GROUP BY kept_after",
                &[],
            )
            .await
            .unwrap();
        (row.get::<_, i64>(0), row.get::<_, Vec<i64>>(1))
    };
    // A create (one statement of its own) raises to 10,001: the changes up to 10,001 - 4,096 are forgotten.
    a.create_ticket(&scope(), ticket("t1", json!({}))).await.unwrap();
    assert_eq!(kept(a.pool.get().await.unwrap()).await, (5905, vec![6000, 10001]));
    assert!(matches!(b.ticket_changes(&scope(), Some(5000)).await.unwrap(), TicketChanges::Whole { .. }));
    let TicketChanges::Changed { generation, changes } = b.ticket_changes(&scope(), Some(6000)).await.unwrap() else {
        panic!("a server at a generation still kept reads what changed");
    };
    match changes.as_slice() {
        [TicketChange::Upserted(made)] => assert_eq!((generation, made.ticket.product_id.as_str()), (10001, "t1")),
        other => panic!("only the create after generation 6000: {other:?}"),
    }
    // Raised once more, nothing is forgotten until a quarter of the kept generations has passed again.
    a.update_ticket(&scope(), ticket("t1", json!({"price": 2})), None).await.unwrap();
    assert_eq!(kept(a.pool.get().await.unwrap()).await, (5905, vec![6000, 10001, 10002]));
    db.batch_execute("UPDATE ticket_generations SET generation = 12000 WHERE network_id = 'net-a'").await.unwrap();
    // An update (in a group's transaction) forgets them as a create does.
    a.update_ticket(&scope(), ticket("t1", json!({"price": 3})), None).await.unwrap();
    assert_eq!(kept(a.pool.get().await.unwrap()).await, (7905, vec![10001, 10002, 12001]));
}

#[tokio::test]
async fn the_writer_runs_its_statements_on_generic_plans_and_the_other_connections_plan_for_the_values() {
    let Some((_cluster, a, _b)) = two_servers().await else { return };
    for i in 0..8 {
        a.create_ticket(&scope(), ticket(&format!("t{i}"), json!({}))).await.unwrap();
    }
    a.update_ticket(&scope(), ticket("t1", json!({"price": 60})), Some(1)).await.unwrap();
    // All of the writer's connections at once (it is idle now), so that whichever ran the statements is asked. The
    // counts of plans in pg_prepared_statements are PostgreSQL 14's.
    let all = futures_util::future::join_all((0..super::writer::WRITERS).map(|_| a.writer.pool.get())).await;
    let (mut generic, mut custom) = (0, 0);
    for db in all {
        let db = db.unwrap();
        let mode: String = db.query_one("SHOW plan_cache_mode", &[]).await.unwrap().get(0);
        assert_eq!(mode, "force_generic_plan");
        let plans = db
            .query_one(
                "SELECT coalesce(sum(generic_plans), 0)::bigint, coalesce(sum(custom_plans), 0)::bigint \
                 FROM pg_prepared_statements",
                &[],
            )
            .await
            .unwrap();
        generic += plans.get::<_, i64>(0);
        custom += plans.get::<_, i64>(1);
    }
    assert!(generic >= 9 && custom == 0, "the writer's statements: {generic} generic plans, {custom} custom");
    let reader = a.pool.get().await.unwrap();
    let mode: String = reader.query_one("SHOW plan_cache_mode", &[]).await.unwrap().get(0);
    assert_eq!(mode, "auto", "the other pool plans for the values, as the searches need");
}

#[tokio::test]
async fn racing_puts_of_a_template_on_two_servers_come_one_after_the_other() {
    use crate::domain::template::{Template, TemplateKind};
    use crate::store::Templates;
    let Some((_cluster, a, b)) = two_servers().await else { return };
    let (a, b) = (Arc::new(a), Arc::new(b));
    let certificate =
        |n: usize| Template { kind: TemplateKind::Certificate, subject: None, body: format!("<p>{n}</p>") };
    // 20 different templates put at once, half on each server: each put writes one version, none is lost.
    let puts = (0..20).map(|n| {
        let store = if n % 2 == 0 { a.clone() } else { b.clone() };
        tokio::spawn(async move { store.put_template(&scope(), certificate(n)).await.unwrap() })
    });
    let mut versions: Vec<i64> =
        futures_util::future::join_all(puts).await.into_iter().map(|p| p.unwrap().sys.version).collect();
    versions.sort();
    assert_eq!(versions, (1..=20).collect::<Vec<i64>>());
    let kept = b.template(&scope(), TemplateKind::Certificate).await.unwrap().unwrap();
    assert_eq!(kept.sys.version, 20);
    let other = NetworkScope::for_tests("net-b", "token-2");
    assert_eq!(a.template(&other, TemplateKind::Certificate).await.unwrap(), None);
    assert!(a.delete_template(&scope(), TemplateKind::Certificate).await.unwrap());
    assert_eq!(b.template(&scope(), TemplateKind::Certificate).await.unwrap(), None);
    assert!(!b.delete_template(&scope(), TemplateKind::Certificate).await.unwrap());
}

#[tokio::test]
async fn orders_raced_on_two_servers_are_made_once_each_numbered_without_a_gap_and_paid_exactly() {
    let Some((_cluster, a, b)) = two_servers().await else { return };
    let (a, b) = (Arc::new(a), Arc::new(b));
    a.create_ticket(&scope(), ticket("vip", json!({"price": 10}))).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..20 {
        let r = registration(
            &format!("c{i}"),
            merged(json!({"productId": "vip"}), json!({"groupId": format!("g{}", i % 2)})),
        );
        ids.push(Records::<RegistrationKind>::create(a.as_ref(), &scope(), r).await.unwrap().id);
    }
    // Each registration ordered on both servers at once, and both groups too: one order per registration.
    let singles = ids.iter().enumerate().flat_map(|(i, id)| {
        [(a.clone(), b.clone()), (b.clone(), a.clone())].into_iter().map(move |(first, _)| {
            let id = id.clone();
            tokio::spawn(async move { (i, first.make_order(&scope(), OrderFor::Registration(id)).await) })
        })
    });
    let groups = ["g0", "g1", "g0", "g1"].into_iter().enumerate().map(|(k, g)| {
        let store = if k % 2 == 0 { a.clone() } else { b.clone() };
        tokio::spawn(async move { store.make_order(&scope(), OrderFor::Group(g.into())).await })
    });
    let (singles, groups) =
        tokio::join!(futures_util::future::join_all(singles), futures_util::future::join_all(groups));
    let mut order_of = std::collections::HashMap::new();
    for outcome in singles {
        let (i, made) = outcome.unwrap();
        let made = made.unwrap();
        assert!(made.order.order.registration_ids.contains(&ids[i]));
        let number = *order_of.entry(i).or_insert(made.order.order.number);
        assert_eq!(number, made.order.order.number, "registration {i} is in one order");
    }
    let mut numbers = std::collections::BTreeSet::new();
    for made in groups.into_iter().map(Result::unwrap) {
        match made {
            Ok(made) => {
                for held in &made.order.order.registration_ids {
                    let i = ids.iter().position(|id| id == held).unwrap();
                    assert_eq!(order_of[&i], made.order.order.number, "the group's order is the registration's");
                }
                numbers.insert(made.order.order.number);
            }
            // Every member was ordered by a call before it: the group is spent, and says so.
            Err(Error::GroupOrdered { active: 10, .. }) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    numbers.extend(order_of.values().copied());
    let last = *numbers.last().unwrap();
    assert_eq!(numbers, (1..=last).collect(), "numbers from 1, each once, no gap");

    // Payments racing on both servers: only what fits the balance is taken.
    let order = b.make_order(&scope(), OrderFor::Registration(ids[0].clone())).await.unwrap().order.order.id;
    let pays = (0..6).map(|k| {
        let (store, order) = (if k % 2 == 0 { a.clone() } else { b.clone() }, order.clone());
        tokio::spawn(async move { store.change_order(&scope(), &order, None, OrderAction::Pay(Cents(400))).await })
    });
    let taken = futures_util::future::join_all(pays).await.into_iter().filter(|o| matches!(o, Ok(Ok(_)))).count();
    assert_eq!(taken, 2, "two payments of 4 fit a balance of 10");
    let paid = a.order(&scope(), &order).await.unwrap();
    assert_eq!((paid.order.amount_paid, paid.order.status), (Cents(800), OrderStatus::AwaitingPayment));
    let (mirrored, _) = b.registration_order(&scope(), &ids[0]).await.unwrap();
    assert_eq!(mirrored.registration.order_balance_due, Some(Cents(200)));
}

/// A message to queue in the tests of the outbox.
fn message(i: usize) -> Message {
    Message::new(format!("guest{i}@example.org"), "Your ticket".into(), "<p>Welcome</p>".into(), None)
}

#[tokio::test]
async fn senders_claiming_at_once_on_two_servers_never_take_one_message_twice() {
    let Some((_cluster, a, b)) = two_servers().await else { return };
    let scope = scope();
    let queueing = (0..200).map(|i| a.queue_message(&scope, message(i), false));
    let queued: BTreeSet<String> =
        futures_util::future::join_all(queueing).await.into_iter().map(|m| m.unwrap().id.as_str().to_owned()).collect();
    let mut claimed = Vec::new();
    loop {
        // Small claims at once on both: their subqueries read the same queued rows.
        let (x, y) = tokio::join!(a.claim_due(time::now(), 5), b.claim_due(time::now(), 5));
        let both: Vec<_> = x.unwrap().into_iter().chain(y.unwrap()).collect();
        if both.is_empty() {
            break;
        }
        for (network, m) in both {
            assert_eq!((network.as_str(), m.status, m.attempts), ("net-a", MailStatus::Sending, 1), "{m:?}");
            claimed.push(m.id.as_str().to_owned());
        }
    }
    assert_eq!(claimed.len(), queued.len(), "each message claimed once");
    assert_eq!(claimed.into_iter().collect::<BTreeSet<_>>(), queued);
}

#[tokio::test]
async fn a_sweep_fails_the_messages_claimed_before_its_cutoff_once_and_leaves_the_rest() {
    let Some((_cluster, a, b)) = two_servers().await else { return };
    let early = a.queue_message(&scope(), message(1), false).await.unwrap().id;
    let claimed_at = time::now();
    assert_eq!(a.claim_due(claimed_at, 1).await.unwrap().len(), 1);
    let late = a.queue_message(&scope(), message(2), false).await.unwrap().id;
    let later = claimed_at + chrono::Duration::seconds(10);
    assert_eq!(b.claim_due(later, 1).await.unwrap()[0].1.id, late);
    let waiting = a.queue_message(&scope(), message(3), false).await.unwrap().id;

    let cutoff = claimed_at + chrono::Duration::seconds(5);
    assert_eq!(b.interrupt_sending(cutoff).await.unwrap(), 1);
    assert_eq!(a.interrupt_sending(cutoff).await.unwrap(), 0, "a second sweep finds nothing more");
    let swept = a.message(&scope(), &early).await.unwrap();
    assert_eq!((swept.status, swept.last_error.as_deref(), swept.attempts), (MailStatus::Failed, Some(INTERRUPTED), 1));
    assert_eq!(b.message(&scope(), &late).await.unwrap().status, MailStatus::Sending);
    assert_eq!(b.message(&scope(), &waiting).await.unwrap().status, MailStatus::Queued);
}
