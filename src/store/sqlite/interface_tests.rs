//! The SQLite store tested through the [`Store`] trait alone, as handlers use it: every method, its refusals with
//! their exact reasons, what a refused call leaves behind (nothing), the confinement of a scope to its network, and
//! the writer's group commit (one commit for a group; a failing call rolled back alone). Each test opens a database
//! of its own in a temporary directory.

use std::fmt::Debug;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};

use serde_json::{Value, json};

use super::{SqliteStore, Synchronous};
use crate::auth::{Grant, NetworkScope, TokenInfo};
use crate::domain::command::Command;
use crate::domain::fixtures::{function_ticket, merged, product, registration, ticket};
use crate::domain::function_ticket::{FunctionTicket, FunctionTicketId, FunctionTicketKey, StoredFunctionTicket};
use crate::domain::ids::ContactId;
use crate::domain::input::Input;
use crate::domain::limits::{Held, NetworkLimits, Usage};
use crate::domain::money::Cents;
use crate::domain::order::{OrderAction, OrderQuery};
use crate::domain::registration::{
    OrderStatus, Registration, RegistrationId, RegistrationKey, RegistrationQuery, StoredRegistration,
};
use crate::domain::ticket::StoredTicket;
use crate::domain::time;
use crate::error::{Conflict, Error, Result};
use crate::store::{
    Found, FunctionTicketKind, Limits, OrderFor, Orders, Records, RegistrationKind, RegistrationsExtra, Store,
    TicketChange, TicketChanges, TicketEdit, Tickets, Tokens, Window,
};

/// A store on a database of its own; the directory lives as long as the returned guard.
fn open() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("store.db"), Synchronous::Normal, 1).unwrap();
    (dir, store)
}

fn scope() -> NetworkScope {
    NetworkScope::for_tests("net-a", "token-1")
}

fn other_scope() -> NetworkScope {
    NetworkScope::for_tests("net-b", "token-2")
}

fn registrations(store: &SqliteStore) -> &dyn Records<RegistrationKind> {
    store
}

fn seats(store: &SqliteStore) -> &dyn Records<FunctionTicketKind> {
    store
}

/// The conflict a call was refused with.
fn conflict<T: Debug>(outcome: Result<T>) -> Conflict {
    match outcome {
        Err(Error::Conflict(c)) => c,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

/// The resource and id of a `NotFound`.
fn not_found<T: Debug>(outcome: Result<T>) -> (&'static str, String) {
    match outcome {
        Err(Error::NotFound { resource, id }) => (resource, id),
        other => panic!("expected not found, got {other:?}"),
    }
}

fn is_locked<T: Debug>(outcome: Result<T>) -> bool {
    match outcome {
        Err(Error::Locked { .. }) => true,
        Ok(_) => false,
        Err(other) => panic!("expected Locked, got {other:?}"),
    }
}

async fn sold(store: &SqliteStore, id: &str) -> i64 {
    store.ticket(&scope(), &product(id)).await.unwrap().sold
}

fn ids<T>(found: &Found<T>, id: impl Fn(&T) -> String) -> Vec<String> {
    found.items.iter().map(|(_, item)| id(item)).collect()
}

fn registration_ids(found: &Found<StoredRegistration>) -> Vec<String> {
    ids(found, |r| r.id.to_string())
}

/// Every registration of a network, by `registration.search` without filters.
async fn all_registrations(store: &SqliteStore, scope: &NetworkScope) -> Found<StoredRegistration> {
    store.search_registrations(scope, RegistrationQuery::default(), Window::default()).await.unwrap()
}

fn search_query(q: Value) -> RegistrationQuery {
    let mut input = Input::new("", &q).unwrap();
    let query = RegistrationQuery::from_json(&mut input);
    input.finish().expect("a valid query");
    query
}

/// Waits until `ready` holds, yielding to the runtime in between; fails after ten seconds (a count of yields would
/// run out early on a machine busy with other work).
async fn until(ready: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        if ready() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("the condition never held");
}

// --- tickets ----------------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_ticket_is_created_once_and_read_back_as_stored() {
    let (_dir, store) = open();
    let created =
        store.create_ticket(&scope(), ticket("vip", json!({"allocation": 10, "price": 99.95}))).await.unwrap();
    assert_eq!((created.sold, created.sys.version), (0, 1));
    assert_eq!(created.sys.created_by.as_str(), "token-1");
    assert_eq!(store.ticket(&scope(), &product("vip")).await.unwrap(), created);
    let again = store.create_ticket(&scope(), ticket("vip", json!({"ticketName": "Other"}))).await;
    assert_eq!(conflict(again), Conflict::Duplicate { resource: "ticket", id: "vip".into() });
    assert_eq!(store.ticket(&scope(), &product("vip")).await.unwrap(), created, "the duplicate changed nothing");
    assert_eq!(not_found(store.ticket(&scope(), &product("none")).await), ("ticket", "none".into()));
    Store::close(&store);
}

#[tokio::test]
async fn a_ticket_update_names_its_version_and_an_equal_one_changes_nothing() {
    let (_dir, store) = open();
    store.create_ticket(&scope(), ticket("vip", json!({}))).await.unwrap();
    let renamed = store.update_ticket(&scope(), ticket("vip", json!({"ticketName": "VIP"})), Some(1)).await.unwrap();
    assert_eq!((renamed.ticket.ticket_name.as_str(), renamed.sys.version), ("VIP", 2));
    let stale = store.update_ticket(&scope(), ticket("vip", json!({"ticketName": "Late"})), Some(1)).await;
    assert_eq!(conflict(stale), Conflict::StaleVersion { expected: 1, current: 2 });
    let same = store.update_ticket(&scope(), ticket("vip", json!({"ticketName": "VIP"})), Some(2)).await.unwrap();
    assert_eq!(same, renamed, "no new version, no new time");
    assert_eq!(store.ticket(&scope(), &product("vip")).await.unwrap(), renamed);
    let missing = store.update_ticket(&scope(), ticket("none", json!({})), None).await;
    assert_eq!(not_found(missing), ("ticket", "none".into()));
    Store::close(&store);
}

#[tokio::test]
async fn an_allocation_never_drops_below_what_is_sold() {
    let (_dir, store) = open();
    store.create_ticket(&scope(), ticket("vip", json!({"allocation": 5}))).await.unwrap();
    for contact in ["c1", "c2", "c3"] {
        registrations(&store).create(&scope(), registration(contact, json!({"productId": "vip"}))).await.unwrap();
    }
    assert_eq!(sold(&store, "vip").await, 3);
    let below = store.update_ticket(&scope(), ticket("vip", json!({"allocation": 2})), None).await;
    assert_eq!(conflict(below), Conflict::AllocationBelowSold { allocation: 2, sold: 3 });
    assert_eq!(store.ticket(&scope(), &product("vip")).await.unwrap().ticket.allocation, Some(5));
    let at_sold = store.update_ticket(&scope(), ticket("vip", json!({"allocation": 3})), None).await.unwrap();
    assert_eq!((at_sold.ticket.allocation, at_sold.sold), (Some(3), 3), "sold is kept by a replacement");
    Store::close(&store);
}

#[tokio::test]
async fn an_edit_of_many_tickets_writes_all_or_none() {
    let (_dir, store) = open();
    store.create_ticket(&scope(), ticket("a", json!({"allocation": 10}))).await.unwrap();
    store.create_ticket(&scope(), ticket("b", json!({"allocation": 10}))).await.unwrap();
    for contact in ["c1", "c2"] {
        registrations(&store).create(&scope(), registration(contact, json!({"productId": "b"}))).await.unwrap();
    }
    let before =
        (store.ticket(&scope(), &product("a")).await.unwrap(), store.ticket(&scope(), &product("b")).await.unwrap());
    let (store, here) = (&store, scope());
    let run = |command: Command, ids: &[&str]| {
        let edit: TicketEdit = Arc::new(move |tickets: &[StoredTicket]| command.apply(tickets));
        let ids = ids.iter().map(|id| product(id)).collect();
        let here = &here;
        async move { store.edit_tickets(here, ids, edit).await }
    };
    // "b" has sold 2: an allocation of 1 is refused for it, and "a", which would take it, is left as it was.
    let below = run(Command::SetAllocation { allocation: 1 }, &["a", "b"]).await;
    assert_eq!(conflict(below), Conflict::AllocationBelowSold { allocation: 1, sold: 2 });
    assert_eq!(store.ticket(&scope(), &product("a")).await.unwrap(), before.0);
    assert_eq!(not_found(run(Command::Hide, &["a", "none"]).await), ("ticket", "none".into()));
    assert_eq!(store.ticket(&scope(), &product("a")).await.unwrap(), before.0);

    let closed = run(Command::CloseSales, &["b", "a"]).await.unwrap();
    let allocations: Vec<_> = closed.iter().map(|t| (t.ticket.product_id.to_string(), t.ticket.allocation)).collect();
    assert_eq!(allocations, [("b".to_owned(), Some(2)), ("a".to_owned(), Some(0))]);
    assert!(closed.iter().all(|t| t.sys.version == 2));
    // An edit that changes nothing writes nothing: no new version.
    assert_eq!(run(Command::CloseSales, &["a"]).await.unwrap()[0].sys.version, 2);

    let copy = |id: &str| Command::Duplicate { new_product_id: product(id), ticket_name: None };
    let made = run(copy("c"), &["b"]).await.unwrap();
    assert_eq!((made[0].ticket.product_id.as_str(), made[0].sold, made[0].sys.version), ("c", 0, 1));
    assert_eq!(conflict(run(copy("a"), &["b"]).await), Conflict::Duplicate { resource: "ticket", id: "a".into() });
    // Edits are confined to the scope's network.
    let nothing: TicketEdit = Arc::new(|_: &[StoredTicket]| Ok(vec![]));
    let elsewhere = store.edit_tickets(&other_scope(), vec![product("a")], nothing).await;
    assert_eq!(not_found(elsewhere), ("ticket", "a".into()));
    Store::close(store);
}

#[tokio::test]
async fn a_ticket_held_by_an_active_registration_is_not_deleted() {
    let (_dir, store) = open();
    store.create_ticket(&scope(), ticket("vip", json!({}))).await.unwrap();
    let held = registrations(&store).create(&scope(), registration("c1", json!({"productId": "vip"}))).await.unwrap();
    let refused = store.delete_ticket(&scope(), &product("vip")).await;
    assert_eq!(conflict(refused), Conflict::TicketHeld { product_id: "vip".into(), sold: 1 });
    assert_eq!(sold(&store, "vip").await, 1, "still there, still held");
    // Cancelled, the registration holds nothing.
    let cancel = registration("c1", json!({"productId": "vip", "status": "cancelled"}));
    registrations(&store).replace(&scope(), &held.id, cancel, None).await.unwrap();
    assert_eq!(sold(&store, "vip").await, 0);
    store.delete_ticket(&scope(), &product("vip")).await.unwrap();
    assert_eq!(not_found(store.ticket(&scope(), &product("vip")).await), ("ticket", "vip".into()));
    assert_eq!(not_found(store.delete_ticket(&scope(), &product("vip")).await), ("ticket", "vip".into()));
    Store::close(&store);
}

#[tokio::test]
async fn ticket_changes_are_whole_at_first_then_each_changed_ticket_as_it_is_now() {
    let (_dir, store) = open();
    store.create_ticket(&scope(), ticket("keep", json!({}))).await.unwrap();
    store.create_ticket(&scope(), ticket("gone", json!({}))).await.unwrap();
    let TicketChanges::Whole { generation, tickets } = store.ticket_changes(&scope(), None).await.unwrap() else {
        panic!("without a generation, the whole list");
    };
    let listed: Vec<&str> = tickets.iter().map(|t| t.ticket.product_id.as_str()).collect();
    assert_eq!(listed, ["gone", "keep"], "by productId");
    assert!(matches!(store.ticket_changes(&scope(), Some(generation)).await.unwrap(), TicketChanges::Unchanged));
    // An update that changes nothing is no change either.
    store.update_ticket(&scope(), ticket("keep", json!({})), None).await.unwrap();
    assert!(matches!(store.ticket_changes(&scope(), Some(generation)).await.unwrap(), TicketChanges::Unchanged));

    registrations(&store).create(&scope(), registration("c1", json!({"productId": "keep"}))).await.unwrap();
    store.delete_ticket(&scope(), &product("gone")).await.unwrap();
    let TicketChanges::Changed { generation: latest, changes } =
        store.ticket_changes(&scope(), Some(generation)).await.unwrap()
    else {
        panic!("the changes since a known generation");
    };
    assert_eq!(latest, generation + 2, "one generation per transaction");
    // Each changed ticket once, by productId, as it is now.
    match changes.as_slice() {
        [TicketChange::Removed(removed), TicketChange::Upserted(kept)] => {
            assert_eq!(removed.as_str(), "gone");
            assert_eq!((kept.ticket.product_id.as_str(), kept.sold), ("keep", 1), "the seat taken");
        }
        other => panic!("expected the delete and the seat taken: {other:?}"),
    }

    // Another network's change is not this network's.
    store.create_ticket(&other_scope(), ticket("keep", json!({}))).await.unwrap();
    assert!(matches!(store.ticket_changes(&scope(), Some(latest)).await.unwrap(), TicketChanges::Unchanged));
    let TicketChanges::Whole { tickets, .. } = store.ticket_changes(&other_scope(), None).await.unwrap() else {
        panic!("the whole list");
    };
    assert_eq!((tickets.len(), tickets[0].sold), (1, 0));
    Store::close(&store);
}

// --- registrations ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn registration_numbers_are_made_per_event_and_a_given_one_must_be_free() {
    let (_dir, store) = open();
    let regs = registrations(&store);
    let number = |r: StoredRegistration| r.number;
    assert_eq!(number(regs.create(&scope(), registration("c1", json!({}))).await.unwrap()), 1);
    assert_eq!(number(regs.create(&scope(), registration("c2", json!({}))).await.unwrap()), 2);
    assert_eq!(number(regs.create(&scope(), registration("c3", json!({"eventId": "ev2"}))).await.unwrap()), 1);
    assert_eq!(number(regs.create(&scope(), registration("c4", json!({"number": 10}))).await.unwrap()), 10);
    assert_eq!(number(regs.create(&scope(), registration("c5", json!({}))).await.unwrap()), 11, "after the given one");
    let taken = regs.create(&scope(), registration("c6", json!({"number": 2}))).await;
    assert_eq!(conflict(taken), Conflict::NumberTaken { event_id: "ev1".into(), number: 2 });
    assert_eq!(number(regs.create(&scope(), registration("c6", json!({"number": 5}))).await.unwrap()), 5, "a gap");
    assert_eq!(all_registrations(&store, &scope()).await.count, 6, "the refused one was not stored");
    Store::close(&store);
}

#[tokio::test]
async fn a_registration_is_refused_a_missing_or_full_ticket_and_a_refusal_leaves_nothing() {
    let (_dir, store) = open();
    let regs = registrations(&store);
    store.create_ticket(&scope(), ticket("two", json!({"allocation": 2}))).await.unwrap();
    store.create_ticket(&scope(), ticket("one-each", json!({"maxPerAttendee": 1}))).await.unwrap();

    let missing = regs.create(&scope(), registration("c1", json!({"productId": "none"}))).await;
    assert_eq!(
        conflict(missing),
        Conflict::MissingReference { resource: "ticket", id: "none".into(), field: "productId" }
    );
    regs.create(&scope(), registration("c1", json!({"productId": "two"}))).await.unwrap();
    regs.create(&scope(), registration("c2", json!({"productId": "two"}))).await.unwrap();
    let full = regs.create(&scope(), registration("c3", json!({"productId": "two"}))).await;
    assert_eq!(conflict(full), Conflict::SoldOut { product_id: "two".into(), allocation: 2, sold: 2 });

    regs.create(&scope(), registration("c1", json!({"productId": "one-each"}))).await.unwrap();
    let second = regs.create(&scope(), registration("c1", json!({"productId": "one-each"}))).await;
    assert_eq!(
        conflict(second),
        Conflict::MaxPerAttendee { product_id: "one-each".into(), contact_id: "c1".into(), holding: 1, max: 1 }
    );
    // Another contact may; a cancelled registration of c1's does not count.
    regs.create(&scope(), registration("c2", json!({"productId": "one-each"}))).await.unwrap();
    regs.create(&scope(), registration("c1", json!({"productId": "one-each", "status": "cancelled"}))).await.unwrap();

    assert_eq!((sold(&store, "two").await, sold(&store, "one-each").await), (2, 2));
    let all = all_registrations(&store, &scope()).await;
    assert_eq!(all.count, 5);
    let numbers: Vec<i64> = all.items.iter().map(|(_, r)| r.number).collect();
    assert_eq!(numbers, [1, 2, 3, 4, 5], "a refused registration takes no number");
    Store::close(&store);
}

#[tokio::test]
async fn a_registration_is_read_back_and_replaced_by_version() {
    let (_dir, store) = open();
    let regs = registrations(&store);
    let created = regs.create(&scope(), registration("c1", json!({"city": "Oslo"}))).await.unwrap();
    assert_eq!(created.sys.version, 1);
    assert!(created.to_json()["date"].is_string(), "the store dates a registration sent without a date");
    let got = regs.get(&scope(), &created.id).await.unwrap();
    assert_eq!(got.to_json(), created.to_json());

    let moved =
        regs.replace(&scope(), &created.id, registration("c1", json!({"city": "Rome"})), Some(1)).await.unwrap();
    assert_eq!((moved.sys.version, moved.number, moved.id.clone()), (2, created.number, created.id.clone()));
    assert_eq!(moved.to_json()["city"], "Rome");
    assert_eq!(moved.to_json()["date"], created.to_json()["date"], "a replacement without a date keeps it");
    let stale = regs.replace(&scope(), &created.id, registration("c1", json!({"city": "Nice"})), Some(1)).await;
    assert_eq!(conflict(stale), Conflict::StaleVersion { expected: 1, current: 2 });
    let same = regs.replace(&scope(), &created.id, registration("c1", json!({"city": "Rome"})), None).await.unwrap();
    assert_eq!(same.to_json(), moved.to_json(), "an equal replacement changes nothing, not even the version");
    assert_eq!(regs.get(&scope(), &created.id).await.unwrap().to_json(), moved.to_json());

    let unknown = RegistrationId::parse("no-such-id").unwrap();
    assert_eq!(not_found(regs.get(&scope(), &unknown).await), ("registration", "no-such-id".into()));
    let replace_unknown = regs.replace(&scope(), &unknown, registration("c1", json!({})), None).await;
    assert_eq!(not_found(replace_unknown), ("registration", "no-such-id".into()));
    Store::close(&store);
}

#[tokio::test]
async fn a_replacement_moves_the_seat_it_holds() {
    let (_dir, store) = open();
    let regs = registrations(&store);
    store.create_ticket(&scope(), ticket("a", json!({"allocation": 1}))).await.unwrap();
    store.create_ticket(&scope(), ticket("b", json!({}))).await.unwrap();
    let first = regs.create(&scope(), registration("c1", json!({"productId": "a"}))).await.unwrap();
    let full = regs.create(&scope(), registration("c2", json!({"productId": "a"}))).await;
    assert!(matches!(conflict(full), Conflict::SoldOut { .. }));
    // To another ticket: the seat of a is freed and one of b taken, in one change.
    regs.replace(&scope(), &first.id, registration("c1", json!({"productId": "b"})), None).await.unwrap();
    assert_eq!((sold(&store, "a").await, sold(&store, "b").await), (0, 1));
    let second = regs.create(&scope(), registration("c2", json!({"productId": "a"}))).await.unwrap();
    // Back to the full ticket: refused, and the registration keeps its seat of b.
    let back = regs.replace(&scope(), &first.id, registration("c1", json!({"productId": "a"})), None).await;
    assert_eq!(conflict(back), Conflict::SoldOut { product_id: "a".into(), allocation: 1, sold: 1 });
    assert_eq!((sold(&store, "a").await, sold(&store, "b").await), (1, 1));
    assert_eq!(regs.get(&scope(), &first.id).await.unwrap().to_json()["productId"], "b");
    // Deleting a registration frees its seat.
    regs.delete(&scope(), &second.id).await.unwrap();
    assert_eq!(sold(&store, "a").await, 0);
    Store::close(&store);
}

#[tokio::test]
async fn a_change_sees_the_stored_record_and_a_refused_change_changes_nothing() {
    let (_dir, store) = open();
    let regs = registrations(&store);
    let created = regs.create(&scope(), registration("c1", json!({"city": "Oslo"}))).await.unwrap();
    let (number, seen) = (created.number, Arc::new(AtomicBool::new(false)));
    let saw = seen.clone();
    let changed = regs
        .change(
            &scope(),
            &created.id,
            Some(1),
            Box::new(move |stored: &StoredRegistration| {
                assert_eq!((stored.number, stored.sys.version), (number, 1));
                assert_eq!(stored.to_json()["city"], "Oslo");
                saw.store(true, Ordering::SeqCst);
                let mut next = stored.to_json();
                next.insert("city".into(), json!("Rome"));
                Ok(Registration::from_json("registration", &Value::Object(next)).map_err(Error::InvalidParams)?.record)
            }),
        )
        .await
        .unwrap();
    assert!(seen.load(Ordering::SeqCst), "the change was made from the stored record");
    assert_eq!((changed.sys.version, changed.to_json()["city"].clone()), (2, json!("Rome")));

    let refused = regs
        .change(
            &scope(),
            &created.id,
            None,
            Box::new(|_: &StoredRegistration| Err(Conflict::TestFailed { operation: 0, path: "/city".into() }.into())),
        )
        .await;
    assert_eq!(conflict(refused), Conflict::TestFailed { operation: 0, path: "/city".into() });
    let stale = regs
        .change(&scope(), &created.id, Some(1), Box::new(|s: &StoredRegistration| Ok(s.registration.clone())))
        .await;
    assert_eq!(conflict(stale), Conflict::StaleVersion { expected: 1, current: 2 });
    assert_eq!(regs.get(&scope(), &created.id).await.unwrap().to_json(), changed.to_json());
    let unknown = RegistrationId::parse("no-such-id").unwrap();
    let missing =
        regs.change(&scope(), &unknown, None, Box::new(|s: &StoredRegistration| Ok(s.registration.clone()))).await;
    assert_eq!(not_found(missing), ("registration", "no-such-id".into()));
    Store::close(&store);
}

#[tokio::test]
async fn a_locked_registration_changes_only_by_being_unlocked() {
    let (_dir, store) = open();
    let regs = registrations(&store);
    let locked = regs.create(&scope(), registration("c1", json!({"sysLocked": true}))).await.unwrap();
    let edit = registration("c1", json!({"sysLocked": true, "city": "Rome"}));
    assert!(is_locked(regs.replace(&scope(), &locked.id, edit, None).await));
    assert!(is_locked(regs.delete(&scope(), &locked.id).await));
    assert!(is_locked(store.transfer_registration(&scope(), &locked.id, contact("c2"), None).await));
    let unlock_and_edit = registration("c1", json!({"sysLocked": false, "city": "Rome"}));
    assert!(is_locked(regs.replace(&scope(), &locked.id, unlock_and_edit, None).await));
    assert_eq!(regs.get(&scope(), &locked.id).await.unwrap().to_json(), locked.to_json(), "all refused");

    // The record as it was sent, unlocked: the number is the server's and not part of the change.
    let unlocked = regs.replace(&scope(), &locked.id, registration("c1", json!({"sysLocked": false})), None).await;
    let unlocked = unlocked.expect("unlocking alone is allowed");
    assert_eq!((unlocked.to_json()["sysLocked"].clone(), unlocked.sys.version), (json!(false), 2));
    regs.delete(&scope(), &locked.id).await.unwrap();
    Store::close(&store);
}

#[tokio::test]
async fn a_registration_with_guests_or_function_tickets_stays() {
    let (_dir, store) = open();
    let regs = registrations(&store);
    let parent = regs.create(&scope(), registration("c1", json!({}))).await.unwrap();
    let guest_of = json!({"parentRegistrationId": parent.id.as_str(), "isGuestRegistration": true});
    let guest = regs.create(&scope(), registration("c2", guest_of)).await.unwrap();
    let refused = regs.delete(&scope(), &parent.id).await;
    assert_eq!(conflict(refused), Conflict::GuestsHeld { registration_id: parent.id.to_string(), guests: 1 });
    regs.delete(&scope(), &guest.id).await.unwrap();

    let seat = seats(&store).create(&scope(), function_ticket(json!({"registrationId": parent.id.as_str()}))).await;
    let seat = seat.unwrap();
    let refused = regs.delete(&scope(), &parent.id).await;
    assert_eq!(
        conflict(refused),
        Conflict::FunctionTicketsHeld { registration_id: parent.id.to_string(), count: 1, change: "deleted" }
    );
    let elsewhere = regs.replace(&scope(), &parent.id, registration("c1", json!({"eventId": "ev2"})), None).await;
    assert_eq!(
        conflict(elsewhere),
        Conflict::FunctionTicketsHeld {
            registration_id: parent.id.to_string(),
            count: 1,
            change: "moved to another event"
        }
    );
    assert_eq!(regs.get(&scope(), &parent.id).await.unwrap().to_json()["eventId"], "ev1");

    seats(&store).delete(&scope(), &seat.id).await.unwrap();
    let moved = regs.replace(&scope(), &parent.id, registration("c1", json!({"eventId": "ev2"})), None).await.unwrap();
    assert_eq!(moved.number, 1, "numbered anew in its new event");
    regs.delete(&scope(), &parent.id).await.unwrap();
    assert_eq!(not_found(regs.get(&scope(), &parent.id).await).0, "registration");
    assert_eq!(not_found(regs.delete(&scope(), &parent.id).await).0, "registration");
    assert_eq!(all_registrations(&store, &scope()).await.count, 0);
    Store::close(&store);
}

#[tokio::test]
async fn a_look_up_walks_its_pages_without_skipping_or_repeating() {
    let (_dir, store) = open();
    let regs = registrations(&store);
    let mut expected = Vec::new();
    for i in 0..10 {
        let contact = if i % 3 == 2 { "c2" } else { "c1" };
        let r = regs.create(&scope(), registration(contact, json!({}))).await.unwrap();
        if contact == "c1" {
            expected.push(r.id.to_string());
        }
    }
    let keys = || vec![(RegistrationKey::ContactId, "c1".to_owned())];
    let (mut seen, mut after, mut pages) = (Vec::new(), None, 0);
    loop {
        let found = regs.list_by(&scope(), keys(), Window { limit: Some(3), after }).await.unwrap();
        assert_eq!(found.count, 7, "every page counts all that match");
        assert!(found.items.len() <= 3);
        seen.extend(registration_ids(&found));
        pages += 1;
        match found.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!((seen, pages), (expected.clone(), 3), "in creation order, each once");
    let whole = regs.list_by(&scope(), keys(), Window::default()).await.unwrap();
    assert_eq!((registration_ids(&whole), whole.next), (expected, None));
    let both = vec![(RegistrationKey::EventId, "ev1".to_owned()), (RegistrationKey::ContactId, "c2".to_owned())];
    assert_eq!(regs.list_by(&scope(), both, Window::default()).await.unwrap().count, 3);
    let none = vec![(RegistrationKey::ContactId, "c9".to_owned())];
    let empty = regs.list_by(&scope(), none, Window::default()).await.unwrap();
    assert_eq!((empty.count, empty.items.len(), empty.next), (0, 0, None));
    Store::close(&store);
}

#[tokio::test]
async fn a_search_combines_its_filters() {
    let (_dir, store) = open();
    let regs = registrations(&store);
    let people = [
        ("c1", "ev1", "active", "Ada", "London"),
        ("c2", "ev1", "cancelled", "Adele", "Paris"),
        ("c3", "ev1", "active", "Grace", "Arlington"),
        ("c4", "ev2", "active", "Adam", "London"),
    ];
    let mut made = Vec::new();
    for (contact, event, status, first, city) in people {
        let extra = json!({"eventId": event, "status": status, "firstName": first, "city": city});
        made.push(regs.create(&scope(), registration(contact, extra)).await.unwrap().id.to_string());
    }
    let store = &store;
    let search = move |q: Value| async move {
        let found = store.search_registrations(&scope(), search_query(q), Window::default()).await.unwrap();
        (found.count, registration_ids(&found))
    };
    assert_eq!(
        search(json!({"eventId": "ev1", "status": ["active"]})).await,
        (2, vec![made[0].clone(), made[2].clone()])
    );
    assert_eq!(search(json!({"firstName": "ADA"})).await, (2, vec![made[0].clone(), made[3].clone()]), "folded");
    assert_eq!(search(json!({"firstName": "ad", "city": "lond"})).await, (2, vec![made[0].clone(), made[3].clone()]));
    assert_eq!(search(json!({"contactId": ["c2", "c3"], "status": "active"})).await, (1, vec![made[2].clone()]));
    assert_eq!(search(json!({"eventId": "ev3"})).await, (0, vec![]));
    let first_two = Window { limit: Some(2), after: None };
    let page = store.search_registrations(&scope(), search_query(json!({"eventId": "ev1"})), first_two).await.unwrap();
    assert_eq!((page.count, page.items.len(), page.next.is_some()), (3, 2, true));
    Store::close(store);
}

#[tokio::test]
async fn a_transfer_moves_the_registration_and_its_function_tickets() {
    let (_dir, store) = open();
    let regs = registrations(&store);
    store.create_ticket(&scope(), ticket("vip", json!({"maxPerAttendee": 1}))).await.unwrap();
    let moving = regs.create(&scope(), registration("c1", json!({"productId": "vip"}))).await.unwrap();
    regs.create(&scope(), registration("c2", json!({"productId": "vip"}))).await.unwrap();
    let tied = json!({"registrationId": moving.id.as_str()});
    let first = seats(&store).create(&scope(), function_ticket(tied.clone())).await.unwrap();
    let second = seats(&store).create(&scope(), function_ticket(merged(tied, json!({"functionId": "lunch"})))).await;
    let second = second.unwrap();
    let own = seats(&store).create(&scope(), function_ticket(json!({}))).await.unwrap();

    let full = store.transfer_registration(&scope(), &moving.id, contact("c2"), None).await;
    assert_eq!(
        conflict(full),
        Conflict::MaxPerAttendee { product_id: "vip".into(), contact_id: "c2".into(), holding: 1, max: 1 }
    );
    assert_eq!(seats(&store).get(&scope(), &first.id).await.unwrap().to_json()["contactId"], "c1", "nothing moved");

    let moved = store.transfer_registration(&scope(), &moving.id, contact("c3"), None).await.unwrap();
    assert_eq!((moved.to_json()["contactId"].clone(), moved.sys.version), (json!("c3"), 2));
    assert_eq!(regs.get(&scope(), &moving.id).await.unwrap().to_json(), moved.to_json());
    for seat in [&first, &second] {
        let now = seats(&store).get(&scope(), &seat.id).await.unwrap();
        assert_eq!((now.to_json()["contactId"].clone(), now.sys.version), (json!("c3"), 2), "followed");
    }
    assert_eq!(seats(&store).get(&scope(), &own.id).await.unwrap().to_json(), own.to_json(), "not tied: stays");
    assert_eq!(sold(&store, "vip").await, 2, "the seat moved with its registration");
    let again = store.transfer_registration(&scope(), &moving.id, contact("c3"), None).await.unwrap();
    assert_eq!(again.sys.version, 2, "a transfer to the holder changes nothing");
    let unknown = RegistrationId::parse("no-such-id").unwrap();
    assert_eq!(not_found(store.transfer_registration(&scope(), &unknown, contact("c1"), None).await).0, "registration");
    Store::close(&store);
}

// --- function tickets ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_function_ticket_refers_to_a_registration_of_its_event() {
    let (_dir, store) = open();
    let owner = registrations(&store).create(&scope(), registration("c1", json!({}))).await.unwrap();
    let missing = seats(&store).create(&scope(), function_ticket(json!({"registrationId": "nobody"}))).await;
    assert_eq!(
        conflict(missing),
        Conflict::MissingReference { resource: "registration", id: "nobody".into(), field: "registrationId" }
    );
    let elsewhere = json!({"registrationId": owner.id.as_str(), "eventId": "ev2"});
    match seats(&store).create(&scope(), function_ticket(elsewhere)).await {
        Err(Error::InvalidParams(errors)) => {
            assert_eq!(errors.len(), 1);
            assert_eq!(
                (errors[0].field.as_str(), errors[0].value.clone()),
                ("functionTicket.eventId", Some(json!("ev2")))
            );
        }
        other => panic!("expected invalid params, got {other:?}"),
    }
    let found = seats(&store).list_by(&scope(), vec![], Window::default()).await.unwrap();
    assert_eq!(found.count, 0, "nothing stored by the refusals");
    let tied = seats(&store).create(&scope(), function_ticket(json!({"registrationId": owner.id.as_str()}))).await;
    assert_eq!(tied.unwrap().to_json()["registrationId"], json!(owner.id.as_str()));
    let free = seats(&store).create(&scope(), function_ticket(json!({}))).await.unwrap();
    assert_eq!(free.to_json()["registrationId"], Value::Null);
    Store::close(&store);
}

#[tokio::test]
async fn function_tickets_are_looked_up_by_function_and_by_event_and_contact() {
    let (_dir, store) = open();
    let mut gala = Vec::new();
    for i in 0..5 {
        let contact = format!("c{}", i % 2);
        let t = seats(&store).create(&scope(), function_ticket(json!({"contactId": contact}))).await.unwrap();
        gala.push(t.id.to_string());
        seats(&store)
            .create(&scope(), function_ticket(json!({"functionId": "lunch", "contactId": contact})))
            .await
            .unwrap();
    }
    let by_function = || vec![(FunctionTicketKey::FunctionId, "gala".to_owned())];
    let first = seats(&store).list_by(&scope(), by_function(), Window { limit: Some(3), after: None }).await.unwrap();
    assert_eq!((first.count, first.items.len()), (5, 3));
    let rest = Window { limit: Some(3), after: first.next };
    let second = seats(&store).list_by(&scope(), by_function(), rest).await.unwrap();
    assert_eq!((second.count, second.items.len(), second.next), (5, 2, None));
    let walked: Vec<String> = ids(&first, |t: &StoredFunctionTicket| t.id.to_string())
        .into_iter()
        .chain(ids(&second, |t| t.id.to_string()))
        .collect();
    assert_eq!(walked, gala);
    let keys = vec![(FunctionTicketKey::EventId, "ev1".to_owned()), (FunctionTicketKey::ContactId, "c0".to_owned())];
    assert_eq!(seats(&store).list_by(&scope(), keys, Window::default()).await.unwrap().count, 6);
    Store::close(&store);
}

#[tokio::test]
async fn a_function_ticket_is_read_replaced_changed_and_deleted_unless_locked() {
    let (_dir, store) = open();
    let fts = seats(&store);
    let created = fts.create(&scope(), function_ticket(json!({"notes": "aisle"}))).await.unwrap();
    assert_eq!(fts.get(&scope(), &created.id).await.unwrap(), created);
    let window =
        fts.replace(&scope(), &created.id, function_ticket(json!({"notes": "window"})), Some(1)).await.unwrap();
    assert_eq!((window.sys.version, window.to_json()["notes"].clone()), (2, json!("window")));
    let stale = fts.replace(&scope(), &created.id, function_ticket(json!({"notes": "late"})), Some(1)).await;
    assert_eq!(conflict(stale), Conflict::StaleVersion { expected: 1, current: 2 });
    let same = fts.replace(&scope(), &created.id, function_ticket(json!({"notes": "window"})), None).await.unwrap();
    assert_eq!(same, window, "an equal replacement changes nothing");

    let locked = fts
        .change(
            &scope(),
            &created.id,
            Some(2),
            Box::new(|stored: &StoredFunctionTicket| {
                assert_eq!(stored.to_json()["notes"], "window", "the change is made from the stored ticket");
                let mut next = stored.to_json();
                next.insert("sysLocked".into(), json!(true));
                Ok(FunctionTicket::from_json("functionTicket", &Value::Object(next))
                    .map_err(Error::InvalidParams)?
                    .record)
            }),
        )
        .await
        .unwrap();
    assert_eq!((locked.sys.version, locked.to_json()["sysLocked"].clone()), (3, json!(true)));
    let edit = function_ticket(json!({"notes": "x", "sysLocked": true}));
    assert!(is_locked(fts.replace(&scope(), &created.id, edit, None).await));
    assert!(is_locked(fts.delete(&scope(), &created.id).await));
    let refuse = Box::new(|_: &StoredFunctionTicket| Err(Error::invalid("notes", "is refused")));
    assert!(matches!(fts.change(&scope(), &created.id, None, refuse).await, Err(Error::InvalidParams(_))));
    assert_eq!(fts.get(&scope(), &created.id).await.unwrap(), locked, "all refused");

    let unlock = function_ticket(json!({"notes": "window", "sysLocked": false}));
    assert_eq!(fts.replace(&scope(), &created.id, unlock, None).await.unwrap().sys.version, 4);
    fts.delete(&scope(), &created.id).await.unwrap();
    assert_eq!(not_found(fts.get(&scope(), &created.id).await), ("functionTicket", created.id.to_string()));
    let unknown = FunctionTicketId::parse("no-such-id").unwrap();
    assert_eq!(not_found(fts.delete(&scope(), &unknown).await).0, "functionTicket");
    Store::close(&store);
}

// --- tokens and limits ------------------------------------------------------------------------------------------

fn token(id: &str, created_ms: i64, grant: &str) -> TokenInfo {
    TokenInfo {
        id: id.into(),
        name: format!("{id} name"),
        grants: vec![Grant::parse(grant).unwrap()],
        created_at: time::from_millis(created_ms),
        expires_at: Some(time::from_millis(created_ms + 86_400_000)),
        revoked_at: None,
    }
}

#[tokio::test]
async fn tokens_are_kept_oldest_first_and_revoked_once() {
    let (_dir, store) = open();
    assert!(store.tokens().await.unwrap().is_empty());
    let (newer, older) = (token("t2", 2_000, "network.manage@net-a"), token("t1", 1_000, "all@*"));
    assert!(store.insert_first_token(newer.clone(), [2; 32]).await.unwrap(), "the first token is made");
    assert!(!store.insert_first_token(token("t3", 500, "all@*"), [3; 32]).await.unwrap(), "and only the first");
    store.insert_token(older.clone(), [1; 32]).await.unwrap();
    assert_eq!(store.tokens().await.unwrap(), vec![([1; 32], older.clone()), ([2; 32], newer.clone())]);

    let revoked_at = store.revoke_token("t2".into()).await.unwrap();
    assert_eq!(store.revoke_token("t2".into()).await.unwrap(), revoked_at, "the first time is kept");
    let kept = store.tokens().await.unwrap();
    assert_eq!(kept[1].1.revoked_at, Some(revoked_at));
    assert_eq!(kept[0].1.revoked_at, None, "the other token is untouched");
    assert_eq!(not_found(store.revoke_token("t9".into()).await), ("token", "t9".into()));
    assert!(store.insert_token(token("t1", 3_000, "all@*"), [3; 32]).await.is_err(), "an id is one token's");
    assert_eq!(store.tokens().await.unwrap().len(), 2);
    Store::close(&store);
}

#[tokio::test]
async fn tenant_limits_are_set_kept_and_refuse_a_create_past_them() {
    let (_dir, store) = open();
    assert_eq!(store.network_limits(&scope()).await.unwrap(), (NetworkLimits::default(), Usage::default()));
    let changes = vec![(Held::Tickets, Some(1)), (Held::Registrations, Some(2)), (Held::FunctionTickets, Some(0))];
    let (limits, usage) = store.change_network_limits(&scope(), changes).await.unwrap();
    let set = NetworkLimits { max_tickets: Some(1), max_registrations: Some(2), max_function_tickets: Some(0) };
    assert_eq!((limits, usage), (set, Usage::default()));

    store.create_ticket(&scope(), ticket("one", json!({}))).await.unwrap();
    let limit = |outcome: Result<String>| match outcome {
        Err(Error::TenantLimit { limit, value }) => (limit, value),
        other => panic!("expected a tenant limit, got {other:?}"),
    };
    let tickets =
        store.create_ticket(&scope(), ticket("two", json!({}))).await.map(|t| t.ticket.product_id.to_string());
    assert_eq!(limit(tickets), ("maxTickets", 1));
    for contact in ["c1", "c2"] {
        registrations(&store).create(&scope(), registration(contact, json!({}))).await.unwrap();
    }
    let third = registrations(&store).create(&scope(), registration("c3", json!({}))).await.map(|r| r.id.to_string());
    assert_eq!(limit(third), ("maxRegistrations", 2));
    let seat = seats(&store).create(&scope(), function_ticket(json!({}))).await.map(|t| t.id.to_string());
    assert_eq!(limit(seat), ("maxFunctionTickets", 0));
    let usage = Usage { tickets: 1, registrations: 2, function_tickets: 0 };
    assert_eq!(store.network_limits(&scope()).await.unwrap(), (set, usage));

    // Removing one limit keeps the others; another network has limits of its own (none).
    let (limits, _) = store.change_network_limits(&scope(), vec![(Held::Tickets, None)]).await.unwrap();
    assert_eq!(limits, NetworkLimits { max_tickets: None, ..set });
    store.create_ticket(&scope(), ticket("two", json!({}))).await.unwrap();
    assert_eq!(store.network_limits(&other_scope()).await.unwrap(), (NetworkLimits::default(), Usage::default()));
    store.create_ticket(&other_scope(), ticket("one", json!({}))).await.unwrap();
    Store::close(&store);
}

// --- scope, concurrency, the writer ------------------------------------------------------------------------------

#[tokio::test]
async fn a_scope_sees_and_changes_only_its_own_network() {
    let (_dir, store) = open();
    let (a, b) = (scope(), other_scope());
    store.create_ticket(&a, ticket("vip", json!({}))).await.unwrap();
    let reg = registrations(&store).create(&a, registration("c1", json!({"productId": "vip"}))).await.unwrap();
    let seat = seats(&store).create(&a, function_ticket(json!({"registrationId": reg.id.as_str()}))).await.unwrap();

    assert_eq!(not_found(store.ticket(&b, &product("vip")).await).0, "ticket");
    assert_eq!(not_found(store.update_ticket(&b, ticket("vip", json!({})), None).await).0, "ticket");
    assert_eq!(not_found(store.delete_ticket(&b, &product("vip")).await).0, "ticket");
    assert_eq!(not_found(registrations(&store).get(&b, &reg.id).await).0, "registration");
    assert_eq!(not_found(registrations(&store).delete(&b, &reg.id).await).0, "registration");
    assert_eq!(
        not_found(store.transfer_registration(&b, &reg.id, ContactId::parse("c2").unwrap(), None).await).0,
        "registration"
    );
    assert_eq!(not_found(seats(&store).get(&b, &seat.id).await).0, "functionTicket");
    assert_eq!(not_found(seats(&store).delete(&b, &seat.id).await).0, "functionTicket");
    // A's ticket and registration are not B's to refer to.
    let on_a = registrations(&store).create(&b, registration("c1", json!({"productId": "vip"}))).await;
    assert!(matches!(conflict(on_a), Conflict::MissingReference { resource: "ticket", .. }));
    let tied_to_a = seats(&store).create(&b, function_ticket(json!({"registrationId": reg.id.as_str()}))).await;
    assert!(matches!(conflict(tied_to_a), Conflict::MissingReference { resource: "registration", .. }));
    assert_eq!(all_registrations(&store, &b).await.count, 0);
    let keys = vec![(RegistrationKey::ContactId, "c1".to_owned())];
    assert_eq!(registrations(&store).list_by(&b, keys, Window::default()).await.unwrap().count, 0);
    assert_eq!(seats(&store).list_by(&b, vec![], Window::default()).await.unwrap().count, 0);
    // The same productId is free in B, and A's is untouched by all of the above.
    store.create_ticket(&b, ticket("vip", json!({}))).await.unwrap();
    assert_eq!(store.ticket(&a, &product("vip")).await.unwrap().sold, 1);
    assert_eq!(registrations(&store).get(&a, &reg.id).await.unwrap().to_json(), reg.to_json());
    Store::close(&store);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_registrations_take_exactly_the_ten_seats() {
    let (_dir, store) = open();
    store.create_ticket(&scope(), ticket("vip", json!({"allocation": 10}))).await.unwrap();
    let attempts: Vec<_> = (0..50)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let r = registration(&format!("c{i}"), json!({"productId": "vip"}));
                registrations(&store).create(&scope(), r).await
            })
        })
        .collect();
    let mut taken = 0;
    for attempt in futures_util::future::join_all(attempts).await {
        match attempt.unwrap() {
            Ok(_) => taken += 1,
            Err(Error::Conflict(Conflict::SoldOut { allocation: 10, sold: 10, .. })) => {}
            Err(other) => panic!("a registration failed otherwise: {other:?}"),
        }
    }
    assert_eq!(taken, 10);
    assert_eq!(sold(&store, "vip").await, 10);
    let all = all_registrations(&store, &scope()).await;
    assert_eq!(all.count, 10);
    let mut numbers: Vec<i64> = all.items.iter().map(|(_, r)| r.number).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=10).collect::<Vec<_>>(), "numbers are unique and without gaps");
    Store::close(&store);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_of_calls_shares_one_commit_and_a_failing_call_is_rolled_back_alone() {
    let (_dir, store) = open();
    store.create_ticket(&scope(), ticket("vip", json!({}))).await.unwrap();

    // Hold the writer in a call of its own, so that the calls queued meanwhile are taken as one group.
    let (release, held) = mpsc::channel::<()>();
    let before = Store::stats(&store);
    let blocker = {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .write(move |_| {
                    let _ = held.recv();
                    Ok(())
                })
                .await
        })
    };
    until(|| Store::stats(&store).calls == before.calls + 1).await;
    let commits_before = Store::stats(&store).commits;
    let queued = || store.inner.writes.lock().unwrap().as_ref().map_or(0, |s| s.len());

    // The second takes a seat and then finds its number taken: its seat must be given back, its neighbours kept.
    let sent = [
        registration("c1", json!({"productId": "vip", "number": 1})),
        registration("c2", json!({"productId": "vip", "number": 1})),
        registration("c3", json!({"productId": "vip"})),
    ];
    let mut calls = Vec::new();
    for (i, r) in sent.into_iter().enumerate() {
        let store = store.clone();
        calls.push(tokio::spawn(async move { registrations(&store).create(&scope(), r).await }));
        until(|| queued() == i + 1).await;
    }
    let ticket_call = {
        let store = store.clone();
        tokio::spawn(async move { store.create_ticket(&scope(), ticket("extra", json!({}))).await })
    };
    until(|| queued() == 4).await;
    release.send(()).unwrap();
    blocker.await.unwrap().unwrap();

    let mut outcomes = Vec::new();
    for call in calls {
        outcomes.push(call.await.unwrap().map(|r| r.number));
    }
    assert!(ticket_call.await.unwrap().is_ok());
    assert_eq!(outcomes[0].as_ref().ok(), Some(&1));
    assert_eq!(conflict(outcomes.remove(1)), Conflict::NumberTaken { event_id: "ev1".into(), number: 1 });
    assert_eq!(outcomes[1].as_ref().ok(), Some(&2));
    let after = Store::stats(&store);
    assert_eq!(after.commits, commits_before + 1, "the four calls shared one transaction");
    assert_eq!(after.calls, before.calls + 5);
    assert_eq!(sold(&store, "vip").await, 2, "the failed call's seat is given back");
    assert_eq!(all_registrations(&store, &scope()).await.count, 2);
    assert_eq!(store.ticket(&scope(), &product("extra")).await.unwrap().sys.version, 1);
    Store::close(&store);
}

#[tokio::test]
async fn the_store_answers_counts_its_writes_and_closes() {
    let (dir, store) = open();
    store.ping().await.unwrap();
    let before = Store::stats(&store);
    store.create_ticket(&scope(), ticket("vip", json!({}))).await.unwrap();
    let refused = store.create_ticket(&scope(), ticket("vip", json!({}))).await;
    assert!(matches!(conflict(refused), Conflict::Duplicate { .. }));
    let after = Store::stats(&store);
    assert_eq!((after.commits - before.commits, after.calls - before.calls), (2, 2), "a refused call is a call too");
    Store::close(&store);
    assert!(matches!(store.ping().await, Err(Error::Internal(_))), "closed");
    assert!(matches!(store.create_ticket(&scope(), ticket("late", json!({}))).await, Err(Error::Internal(_))));
    // What was committed is there for the next store on the file, once this one is gone (and its lock with it).
    drop(store);
    let reopened = SqliteStore::open(&dir.path().join("store.db"), Synchronous::Normal, 1).unwrap();
    assert_eq!(reopened.ticket(&scope(), &product("vip")).await.unwrap().sys.version, 1);
    Store::close(&reopened);
}

// --- orders -----------------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_order_is_made_once_priced_numbered_and_mirrored_on_its_registration() {
    let (_dir, store) = open();
    store.create_ticket(&scope(), ticket("vip", json!({"price": 100}))).await.unwrap();
    store.create_ticket(&scope(), ticket("dinner", json!({"price": 25.5}))).await.unwrap();
    let r = registration("c1", json!({"productId": "vip", "addOns": [{"productId": "dinner", "quantity": 2}]}));
    let r = registrations(&store).create(&scope(), r).await.unwrap();
    let made = store.make_order(&scope(), OrderFor::Registration(r.id.clone())).await.unwrap();
    let order = &made.order.order;
    assert_eq!((order.number, order.total(), order.status), (1, Cents(15100), OrderStatus::AwaitingPayment));
    assert_eq!(order.registration_ids, std::slice::from_ref(&r.id));
    let mirrored = &made.registrations[0];
    assert_eq!(mirrored.sys.version, 2);
    assert_eq!(mirrored.registration.order_id.as_deref(), Some(order.id.as_str()));
    assert_eq!(registrations(&store).get(&scope(), &r.id).await.unwrap(), *mirrored, "stored as answered");
    assert_eq!(store.order(&scope(), &order.id).await.unwrap(), made.order);
    // Again: the same order, nothing written.
    let again = store.make_order(&scope(), OrderFor::Registration(r.id.clone())).await.unwrap();
    assert_eq!((again.order, again.registrations), (made.order.clone(), made.registrations.clone()));
    // A replacement keeps the order fields whatever it sends; the others change.
    let sent =
        Registration { city: Some("Oslo".into()), order_total: Some(Cents(1)), order_id: None, ..r.registration };
    let replaced = registrations(&store).replace(&scope(), &r.id, sent, None).await.unwrap();
    assert_eq!(
        (replaced.registration.order_total, replaced.registration.order_id.clone()),
        (Some(Cents(15100)), Some(order.id.to_string()))
    );
    assert_eq!(replaced.registration.city.as_deref(), Some("Oslo"));
    let (read, current) = store.registration_order(&scope(), &r.id).await.unwrap();
    assert_eq!((read.to_json(), current), (replaced.to_json(), Some(made.order.clone())));
    // Another network sees none of it.
    assert_eq!(not_found(store.order(&other_scope(), &order.id).await).0, "order");
    let elsewhere = store.make_order(&other_scope(), OrderFor::Registration(r.id.clone())).await;
    assert_eq!(not_found(elsewhere).0, "registration");
    Store::close(&store);
}

#[tokio::test]
async fn a_refused_order_leaves_nothing_and_takes_no_number() {
    let (_dir, store) = open();
    store.create_ticket(&scope(), ticket("vip", json!({}))).await.unwrap();
    let missing = registration("c1", json!({"addOns": [{"productId": "gone"}]}));
    let missing = registrations(&store).create(&scope(), missing).await.unwrap();
    let refused = store.make_order(&scope(), OrderFor::Registration(missing.id.clone())).await;
    assert_eq!(
        conflict(refused),
        Conflict::MissingReference { resource: "ticket", id: "gone".into(), field: "addOns.productId" }
    );
    let unchanged = registrations(&store).get(&scope(), &missing.id).await.unwrap();
    assert_eq!(unchanged.to_json(), missing.to_json());
    let cancelled = registration("c2", json!({"productId": "vip", "status": "cancelled"}));
    let cancelled = registrations(&store).create(&scope(), cancelled).await.unwrap();
    let refused = store.make_order(&scope(), OrderFor::Registration(cancelled.id.clone())).await;
    assert!(matches!(conflict(refused), Conflict::NotActive { .. }));
    let locked = registration("c3", json!({"productId": "vip", "sysLocked": true}));
    let locked = registrations(&store).create(&scope(), locked).await.unwrap();
    assert!(is_locked(store.make_order(&scope(), OrderFor::Registration(locked.id.clone())).await));
    let none = store.list_orders(&scope(), OrderQuery::default(), Window::default()).await.unwrap();
    assert_eq!(none.count, 0);
    let fine = registrations(&store).create(&scope(), registration("c4", json!({"productId": "vip"}))).await.unwrap();
    let made = store.make_order(&scope(), OrderFor::Registration(fine.id)).await.unwrap();
    assert_eq!(made.order.order.number, 1, "the refused calls took no number");
    Store::close(&store);
}

#[tokio::test]
async fn a_group_order_takes_the_active_members_without_one_and_then_none_is_left() {
    let (_dir, store) = open();
    store.create_ticket(&scope(), ticket("vip", json!({"price": 10}))).await.unwrap();
    let member = |contact: &str, extra: Value| registration(contact, merged(json!({"groupId": "g1"}), extra));
    let first = registrations(&store).create(&scope(), member("c1", json!({"productId": "vip"}))).await.unwrap();
    let ordered = store.make_order(&scope(), OrderFor::Registration(first.id.clone())).await.unwrap();
    let mut rest = Vec::new();
    for (contact, extra) in [("c2", json!({"productId": "vip"})), ("c3", json!({})), ("c4", json!({"status": "draft"}))]
    {
        rest.push(registrations(&store).create(&scope(), member(contact, extra)).await.unwrap());
    }
    let group = store.make_order(&scope(), OrderFor::Group("g1".into())).await.unwrap();
    let held: Vec<_> = group.registrations.iter().map(|r| r.id.clone()).collect();
    assert_eq!(held, [rest[0].id.clone(), rest[1].id.clone()], "active members without an order, in creation order");
    assert_eq!(group.order.order.registration_ids, held);
    assert_eq!((group.order.order.number, group.order.order.total()), (2, Cents(1000)));
    assert!(group.registrations.iter().all(|r| r.registration.order_number == Some(2)));
    match store.make_order(&scope(), OrderFor::Group("g1".into())).await {
        Err(Error::GroupOrdered { group: spent, active, order_ids }) => {
            let orders = [&ordered.order.order.id, &group.order.order.id].map(|id| id.to_string());
            assert_eq!((spent.as_str(), active, order_ids), ("g1", 3, orders.to_vec()), "each active member's order");
        }
        other => panic!("expected the group to be spent, got {other:?}"),
    }
    assert_eq!(not_found(store.make_order(&scope(), OrderFor::Group("none".into())).await), ("group", "none".into()));
    // Cancelling the first order frees its registration to be ordered again, with its group.
    store.change_order(&scope(), &ordered.order.order.id, None, OrderAction::Cancel).await.unwrap();
    let again = store.make_order(&scope(), OrderFor::Group("g1".into())).await.unwrap();
    assert_eq!((again.order.order.number, again.registrations[0].id.clone()), (3, first.id.clone()));
    let by_first = OrderQuery { registration_ids: Some(vec![first.id.to_string()]), ..OrderQuery::default() };
    let listed = store.list_orders(&scope(), by_first, Window::default()).await.unwrap();
    assert_eq!(ids(&listed, |o| o.order.number.to_string()), ["1", "3"]);
    let cancelled = OrderQuery { statuses: Some(vec![OrderStatus::Cancelled]), ..OrderQuery::default() };
    assert_eq!(store.list_orders(&scope(), cancelled, Window::default()).await.unwrap().count, 1);
    Store::close(&store);
}

#[tokio::test]
async fn payments_and_a_cancellation_write_the_order_and_its_registrations_together() {
    let (_dir, store) = open();
    store.create_ticket(&scope(), ticket("vip", json!({"price": 100}))).await.unwrap();
    let r = registrations(&store).create(&scope(), registration("c1", json!({"productId": "vip"}))).await.unwrap();
    let made = store.make_order(&scope(), OrderFor::Registration(r.id.clone())).await.unwrap();
    let id = made.order.order.id.clone();
    let stale = store.change_order(&scope(), &id, Some(2), OrderAction::Pay(Cents(100))).await;
    assert_eq!(conflict(stale), Conflict::StaleVersion { expected: 2, current: 1 });
    let over = store.change_order(&scope(), &id, None, OrderAction::Pay(Cents(10001))).await;
    assert!(matches!(over, Err(Error::InvalidParams(_))));
    let paid = store.change_order(&scope(), &id, Some(1), OrderAction::Pay(Cents(4000))).await.unwrap();
    assert_eq!((paid.order.amount_paid, paid.order.balance_due(), paid.sys.version), (Cents(4000), Cents(6000), 2));
    let mirrored = registrations(&store).get(&scope(), &r.id).await.unwrap().registration;
    assert_eq!((mirrored.order_amount_paid, mirrored.order_balance_due), (Some(Cents(4000)), Some(Cents(6000))));
    let cancelled = store.change_order(&scope(), &id, None, OrderAction::Cancel).await.unwrap();
    assert_eq!((cancelled.order.status, cancelled.sys.version), (OrderStatus::Cancelled, 3));
    let after = registrations(&store).get(&scope(), &r.id).await.unwrap();
    assert_eq!(
        (after.registration.order_status, after.registration.status.as_str()),
        (Some(OrderStatus::Cancelled), "active")
    );
    assert_eq!(sold(&store, "vip").await, 1, "the registration keeps its place");
    let again = store.change_order(&scope(), &id, None, OrderAction::Cancel).await.unwrap();
    assert_eq!(again, cancelled, "cancelling again changes nothing");
    assert!(matches!(
        conflict(store.change_order(&scope(), &id, None, OrderAction::Pay(Cents(1))).await),
        Conflict::OrderClosed { .. }
    ));
    // A deleted registration leaves its order as it was; a locked one refuses the change of its order fields.
    let second = registrations(&store).create(&scope(), registration("c2", json!({"productId": "vip"}))).await.unwrap();
    let order = store.make_order(&scope(), OrderFor::Registration(second.id.clone())).await.unwrap().order.order.id;
    let lock = Registration {
        sys_locked: true,
        ..registrations(&store).get(&scope(), &second.id).await.unwrap().registration
    };
    registrations(&store).replace(&scope(), &second.id, lock, None).await.unwrap();
    assert!(is_locked(store.change_order(&scope(), &order, None, OrderAction::Pay(Cents(1))).await));
    assert_eq!(store.order(&scope(), &order).await.unwrap().sys.version, 1, "refused whole");
    let unlock = Registration {
        sys_locked: false,
        ..registrations(&store).get(&scope(), &second.id).await.unwrap().registration
    };
    registrations(&store).replace(&scope(), &second.id, unlock, None).await.unwrap();
    registrations(&store).delete(&scope(), &second.id).await.unwrap();
    let paid = store.change_order(&scope(), &order, None, OrderAction::Pay(Cents(10000))).await.unwrap();
    assert_eq!((paid.order.status, paid.order.registration_ids.clone()), (OrderStatus::Completed, vec![second.id]));
    Store::close(&store);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_orders_of_one_registration_make_one_and_numbers_have_no_gap() {
    let (_dir, store) = open();
    store.create_ticket(&scope(), ticket("vip", json!({}))).await.unwrap();
    let mut made = Vec::new();
    for i in 0..20 {
        let r = registration(&format!("c{i}"), json!({"productId": "vip"}));
        made.push(registrations(&store).create(&scope(), r).await.unwrap().id);
    }
    let calls = made.iter().chain(&made).map(|id| {
        let (store, id) = (store.clone(), id.clone());
        tokio::spawn(async move { store.make_order(&scope(), OrderFor::Registration(id)).await })
    });
    let outcomes: Vec<_> =
        futures_util::future::join_all(calls).await.into_iter().map(|o| o.unwrap().unwrap()).collect();
    for (first, second) in outcomes[..20].iter().zip(&outcomes[20..]) {
        assert_eq!(first.order, second.order, "one order per registration");
    }
    let mut numbers: Vec<i64> = outcomes[..20].iter().map(|m| m.order.order.number).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=20).collect::<Vec<_>>());
    Store::close(&store);
}

fn contact(id: &str) -> ContactId {
    ContactId::parse(id).expect("a contact id")
}

#[tokio::test]
async fn a_networks_templates_are_put_versioned_read_and_deleted_within_the_network() {
    use crate::domain::template::{Template, TemplateKind};
    use crate::store::Templates;
    let (_dir, store) = open();
    let certificate = |body: &str| Template { kind: TemplateKind::Certificate, subject: None, body: body.into() };
    assert_eq!(store.template(&scope(), TemplateKind::Certificate).await.unwrap(), None);
    let first = store.put_template(&scope(), certificate("<h1>{{ registration.name }}</h1>")).await.unwrap();
    assert_eq!(first.sys.version, 1);
    assert_eq!(store.template(&scope(), TemplateKind::Certificate).await.unwrap(), Some(first.clone()));
    // The same template again writes nothing; a change writes the next version.
    assert_eq!(store.put_template(&scope(), certificate("<h1>{{ registration.name }}</h1>")).await.unwrap(), first);
    let second = store.put_template(&scope(), certificate("<h2>{{ registration.name }}</h2>")).await.unwrap();
    assert_eq!((second.sys.version, second.sys.created_at), (2, first.sys.created_at));
    // One per kind, and each network its own.
    let email = Template { kind: TemplateKind::ConfirmationEmail, subject: Some("Hi".into()), body: "x".into() };
    store.put_template(&scope(), email.clone()).await.unwrap();
    assert_eq!(store.template(&other_scope(), TemplateKind::Certificate).await.unwrap(), None);
    assert!(!store.delete_template(&other_scope(), TemplateKind::Certificate).await.unwrap());
    assert!(store.delete_template(&scope(), TemplateKind::Certificate).await.unwrap());
    assert_eq!(store.template(&scope(), TemplateKind::Certificate).await.unwrap(), None);
    assert!(!store.delete_template(&scope(), TemplateKind::Certificate).await.unwrap());
    let kept = store.template(&scope(), TemplateKind::ConfirmationEmail).await.unwrap().unwrap();
    assert_eq!(kept.template, email);
    Store::close(&store);
}
