//! The domain's rules, each tested on its own, without a store or a server: capacity (`allocation`,
//! `maxPerAttendee`), replacements and deletes of tickets, `sysVersion`, numbering, references, `sysLocked`, the
//! function ticket's event, and the meaning of the ticket list (`TicketQuery::select`).
//!
//! Records are made only through their public constructors (`from_json`) and the `Stored*` struct literals, so
//! that these tests hold whatever shape the records take inside.

use serde_json::{Value, json};

use super::fixtures::{self, function_ticket, ticket};
use super::function_ticket::{FunctionTicket, FunctionTicketId, StoredFunctionTicket};
use super::ids::ActorId;
use super::registration::{self, MAX_NUMBER, Registration, RegistrationId, StoredRegistration};
use super::sys::{Sys, check_version};
use super::ticket::{StoredTicket, TicketPlace, TicketQuery};
use super::time::{self, Timestamp};
use crate::error::{Conflict, Error};

fn actor() -> ActorId {
    ActorId::new("token-1")
}

fn stored_ticket(product_id: &str, extra: Value, sold: i64) -> StoredTicket {
    StoredTicket { ticket: ticket(product_id, extra), sold, sys: Sys::new(&actor()) }
}

fn registration(extra: Value) -> Registration {
    fixtures::registration("c1", extra)
}

fn stored_registration(registration: Registration) -> StoredRegistration {
    StoredRegistration { id: RegistrationId::parse("reg-1").unwrap(), number: 1, registration, sys: Sys::new(&actor()) }
}

fn stored_function_ticket(ticket: FunctionTicket) -> StoredFunctionTicket {
    StoredFunctionTicket { id: FunctionTicketId::parse("ft-1").unwrap(), ticket, sys: Sys::new(&actor()) }
}

// --- capacity -------------------------------------------------------------------------------------------------

#[test]
fn a_seat_is_taken_below_the_allocation_and_refused_at_it() {
    let nine_of_ten = stored_ticket("vip", json!({"allocation": 10}), 9);
    assert_eq!(nine_of_ten.check_room_for("c1", 0), Ok(()));
    let ten_of_ten = stored_ticket("vip", json!({"allocation": 10}), 10);
    assert_eq!(
        ten_of_ten.check_room_for("c1", 0),
        Err(Conflict::SoldOut { product_id: "vip".into(), allocation: 10, sold: 10 })
    );
    let none = stored_ticket("closed", json!({"allocation": 0}), 0);
    assert_eq!(
        none.check_room_for("c1", 0),
        Err(Conflict::SoldOut { product_id: "closed".into(), allocation: 0, sold: 0 }),
        "an allocation of 0 sells nothing"
    );
}

#[test]
fn a_ticket_without_allocation_or_max_per_attendee_never_runs_out() {
    let open = stored_ticket("open", json!({}), 1_000_000);
    assert_eq!(open.check_room_for("c1", 1_000_000), Ok(()));
}

#[test]
fn max_per_attendee_counts_what_the_contact_already_holds() {
    let t = stored_ticket("vip", json!({"maxPerAttendee": 2}), 5);
    assert_eq!(t.check_room_for("c1", 0), Ok(()));
    assert_eq!(t.check_room_for("c1", 1), Ok(()));
    assert_eq!(
        t.check_room_for("c1", 2),
        Err(Conflict::MaxPerAttendee { product_id: "vip".into(), contact_id: "c1".into(), holding: 2, max: 2 })
    );
}

#[test]
fn a_sold_out_ticket_is_reported_sold_out_before_the_contact_limit() {
    let t = stored_ticket("vip", json!({"allocation": 3, "maxPerAttendee": 1}), 3);
    assert_eq!(t.check_room_for("c1", 1), Err(Conflict::SoldOut { product_id: "vip".into(), allocation: 3, sold: 3 }));
}

// --- replacing and deleting tickets ---------------------------------------------------------------------------

#[test]
fn an_equal_ticket_replaces_nothing_and_a_changed_one_keeps_sold_and_moves_the_version() {
    let stored = stored_ticket("vip", json!({"allocation": 10}), 4);
    assert_eq!(stored.replaced(stored.ticket.clone(), &ActorId::new("token-2")), Ok(None));
    let next = ticket("vip", json!({"allocation": 10, "ticketName": "VIP"}));
    let replaced = stored.replaced(next.clone(), &ActorId::new("token-2")).unwrap().expect("a change");
    assert_eq!(replaced.ticket, next);
    assert_eq!(replaced.sold, 4, "sold is the store's, never the client's");
    assert_eq!(replaced.sys.version, stored.sys.version + 1);
    assert_eq!(replaced.sys.created_at, stored.sys.created_at);
    assert_eq!(replaced.sys.created_by, stored.sys.created_by);
    assert_eq!(replaced.sys.last_modified_by.as_str(), "token-2");
}

#[test]
fn an_allocation_below_sold_is_refused_and_one_at_sold_or_unlimited_is_not() {
    let stored = stored_ticket("vip", json!({"allocation": 10}), 4);
    let to = |allocation: Value| stored.replaced(ticket("vip", json!({"allocation": allocation})), &actor());
    assert_eq!(to(json!(3)), Err(Conflict::AllocationBelowSold { allocation: 3, sold: 4 }));
    assert_eq!(to(json!(4)).unwrap().expect("a change").ticket.allocation, Some(4));
    let unlimited = stored.replaced(ticket("vip", json!({})), &actor()).unwrap().expect("a change");
    assert_eq!(unlimited.ticket.allocation, None);
}

#[test]
fn a_ticket_held_by_registrations_cannot_be_deleted() {
    assert_eq!(stored_ticket("vip", json!({}), 0).check_deletable(), Ok(()));
    assert_eq!(
        stored_ticket("vip", json!({}), 2).check_deletable(),
        Err(Conflict::TicketHeld { product_id: "vip".into(), sold: 2 })
    );
}

// --- versions, numbers, references ----------------------------------------------------------------------------

#[test]
fn a_change_applies_only_to_the_version_it_names() {
    assert_eq!(check_version(None, 7), Ok(()), "no version named: no check");
    assert_eq!(check_version(Some(7), 7), Ok(()));
    assert_eq!(check_version(Some(6), 7), Err(Conflict::StaleVersion { expected: 6, current: 7 }));
    assert_eq!(check_version(Some(8), 7), Err(Conflict::StaleVersion { expected: 8, current: 7 }));
}

#[test]
fn a_given_number_must_be_free_in_its_event() {
    assert_eq!(registration::check_number_free("ev1", 42, false), Ok(()));
    assert_eq!(
        registration::check_number_free("ev1", 42, true),
        Err(Conflict::NumberTaken { event_id: "ev1".into(), number: 42 })
    );
}

#[test]
fn made_numbers_count_up_to_the_maximum_and_no_further() {
    let mut last = 0;
    for expected in 1..=3 {
        last = registration::next_number("ev1", last).unwrap();
        assert_eq!(last, expected);
    }
    assert_eq!(registration::next_number("ev1", MAX_NUMBER - 1), Ok(MAX_NUMBER));
    for last in [MAX_NUMBER, MAX_NUMBER + 1] {
        let used_up = registration::next_number("ev1", last).unwrap_err();
        assert_eq!(used_up.field, "registration.number");
        assert!(used_up.message.contains("used up"), "{}", used_up.message);
        assert!(
            used_up.message.contains("ev1") && used_up.message.contains("give a free number"),
            "{}",
            used_up.message
        );
    }
}

#[test]
fn guests_and_function_tickets_hold_a_registration_in_place() {
    assert_eq!(registration::check_unreferenced("r1", 0, 0, "deleted"), Ok(()));
    assert_eq!(
        registration::check_unreferenced("r1", 2, 0, "deleted"),
        Err(Conflict::GuestsHeld { registration_id: "r1".into(), guests: 2 })
    );
    assert_eq!(
        registration::check_unreferenced("r1", 0, 3, "deleted"),
        Err(Conflict::FunctionTicketsHeld { registration_id: "r1".into(), count: 3, change: "deleted" })
    );
    assert_eq!(
        registration::check_unreferenced("r1", 0, 1, "moved to another event"),
        Err(Conflict::FunctionTicketsHeld { registration_id: "r1".into(), count: 1, change: "moved to another event" })
    );
    assert_eq!(
        registration::check_unreferenced("r1", 1, 1, "deleted"),
        Err(Conflict::GuestsHeld { registration_id: "r1".into(), guests: 1 }),
        "guests are named first"
    );
}

// --- sysLocked ------------------------------------------------------------------------------------------------

fn locked_error(result: Result<(), Error>) -> Option<(&'static str, String)> {
    match result {
        Err(Error::Locked { resource, id }) => Some((resource, id)),
        Ok(()) => None,
        Err(other) => panic!("expected Locked, got {other:?}"),
    }
}

#[test]
fn an_unlocked_registration_may_change_at_will() {
    let stored = stored_registration(registration(json!({})));
    assert_eq!(locked_error(stored.check_unlocked(Some(&registration(json!({"city": "Paris"}))))), None);
    assert_eq!(locked_error(stored.check_unlocked(None)), None, "deleted or transferred");
}

#[test]
fn a_locked_registration_allows_only_the_change_that_unlocks_it() {
    let stored = stored_registration(registration(json!({"sysLocked": true, "city": "Oslo"})));
    let refused = Some(("registration", "reg-1".to_owned()));
    let unlock = registration(json!({"sysLocked": false, "city": "Oslo"}));
    assert_eq!(locked_error(stored.check_unlocked(Some(&unlock))), None);
    let unlock_and_move = registration(json!({"sysLocked": false, "city": "Paris"}));
    assert_eq!(locked_error(stored.check_unlocked(Some(&unlock_and_move))), refused);
    let still_locked = registration(json!({"sysLocked": true, "city": "Paris"}));
    assert_eq!(locked_error(stored.check_unlocked(Some(&still_locked))), refused);
    assert_eq!(locked_error(stored.check_unlocked(None)), refused, "no delete or transfer");
}

#[test]
fn the_number_is_no_part_of_unlocking_a_registration() {
    // As the store reads a registration back, its number is set; a client's replacement may leave it out.
    let stored = stored_registration(registration(json!({"sysLocked": true, "number": 1})));
    let refused = Some(("registration", "reg-1".to_owned()));
    assert_eq!(locked_error(stored.check_unlocked(Some(&registration(json!({"sysLocked": false}))))), None);
    let with_number = registration(json!({"sysLocked": false, "number": 1}));
    assert_eq!(locked_error(stored.check_unlocked(Some(&with_number))), None);
    let unlock_and_move = registration(json!({"sysLocked": false, "city": "Paris"}));
    assert_eq!(locked_error(stored.check_unlocked(Some(&unlock_and_move))), refused);
}

#[test]
fn a_locked_function_ticket_allows_only_the_change_that_unlocks_it() {
    let open = stored_function_ticket(function_ticket(json!({})));
    assert_eq!(locked_error(open.check_unlocked(Some(&function_ticket(json!({"notes": "aisle"}))))), None);
    assert_eq!(locked_error(open.check_unlocked(None)), None);

    let stored = stored_function_ticket(function_ticket(json!({"sysLocked": true, "notes": "aisle"})));
    let refused = Some(("functionTicket", "ft-1".to_owned()));
    let unlock = function_ticket(json!({"sysLocked": false, "notes": "aisle"}));
    assert_eq!(locked_error(stored.check_unlocked(Some(&unlock))), None);
    let unlock_and_change = function_ticket(json!({"sysLocked": false, "notes": "window"}));
    assert_eq!(locked_error(stored.check_unlocked(Some(&unlock_and_change))), refused);
    assert_eq!(locked_error(stored.check_unlocked(None)), refused);
}

// --- function tickets -----------------------------------------------------------------------------------------

#[test]
fn a_function_ticket_belongs_to_its_registrations_event() {
    let seat = function_ticket(json!({"eventId": "ev1"}));
    assert_eq!(seat.check_registration_event("reg-1", "ev1"), Ok(()));
    let e = seat.check_registration_event("reg-1", "ev2").unwrap_err();
    assert_eq!(e.field, "functionTicket.eventId");
    assert_eq!(e.value, Some(json!("ev1")), "the value sent");
    assert!(e.message.contains("reg-1") && e.message.contains("ev2"), "{}", e.message);
}

#[test]
fn a_ticket_is_on_sale_while_visible_with_room_before_its_event_ends() {
    let before_end = time::parse(&json!("2026-05-03T17:59:59Z")).unwrap();
    let at_end = time::parse(&json!("2026-05-03T18:00:00Z")).unwrap();
    assert!(stored_ticket("a", json!({"allocation": 2}), 1).on_sale(before_end));
    assert!(!stored_ticket("a", json!({"allocation": 2}), 2).on_sale(before_end), "sold out");
    assert!(!stored_ticket("a", json!({"visible": false}), 0).on_sale(before_end), "hidden");
    assert!(!stored_ticket("a", json!({}), 0).on_sale(at_end), "its event has ended");
}

// --- the ticket list --------------------------------------------------------------------------------------------

fn at(ms: i64) -> Timestamp {
    time::from_millis(ms)
}

/// Now, for `onSale`: between the events that have ended and those that have not.
fn now() -> Timestamp {
    time::parse(&json!("2026-06-01T00:00:00Z")).unwrap()
}

/// A ticket list in productId order with ties in every ordering key (prices, display orders, start dates and
/// last-modified times repeat), so that the productId tie-break decides.
fn tickets() -> Vec<StoredTicket> {
    let rows = [
        // id, price, displayOrder, start day (May), visible, allocation, sold, event ended, modified at
        ("a", 30, 2, 5, true, None, 0, false, 300),
        ("b", 10, 1, 1, true, Some(5), 5, false, 100),
        ("c", 30, 2, 3, false, None, 0, false, 300),
        ("d", 20, 3, 5, true, None, 0, true, 200),
        ("e", 10, 1, 2, true, Some(2), 1, false, 100),
        ("f", 20, 2, 5, true, None, 0, false, 200),
    ];
    rows.into_iter()
        .map(|(id, price, order, day, visible, allocation, sold, ended, modified)| {
            let end = if ended { "2026-05-20T00:00:00Z".to_owned() } else { "2026-07-01T00:00:00Z".to_owned() };
            let t = ticket(
                id,
                json!({
                    "price": price,
                    "displayOrder": order,
                    "eventStartDate": format!("2026-05-{day:02}T09:00:00Z"),
                    "eventEndDate": end,
                    "visible": visible,
                    "allocation": allocation,
                    "eventName": if id < "d" { "Summit" } else { "Expo" },
                    "ticketType": if id == "f" { "days:1of2" } else { "single" },
                }),
            );
            let mut sys = Sys::new(&actor());
            sys.last_modified_at = at(modified);
            StoredTicket { ticket: t, sold, sys }
        })
        .collect()
}

fn query(q: Value) -> TicketQuery {
    TicketQuery::from_json(&q).expect("a valid query")
}

/// The productIds of one page of `q` after `after`, with the count and where the next page starts.
fn page(
    list: &[StoredTicket],
    q: &TicketQuery,
    after: Option<&TicketPlace>,
) -> (Vec<String>, usize, Option<TicketPlace>) {
    // `select` reads the tickets in ascending order of the query's place, as the kept orderings hold them.
    let mut sorted = list.to_vec();
    sorted.sort_by(|a, b| q.order_by.place(a).cmp(&q.order_by.place(b)));
    let s = q.select(sorted.as_slice(), after, now());
    let ids = s.items.iter().map(|&i| sorted[i].ticket.product_id.to_string()).collect();
    (ids, s.count, s.next)
}

#[test]
fn each_filter_keeps_only_the_tickets_that_pass_it() {
    let list = tickets();
    let only = |q: Value| page(&list, &query(q.clone()), None).0;
    assert_eq!(only(json!({"orderBy": "productId"})), ["a", "b", "c", "d", "e", "f"]);
    assert_eq!(only(json!({"orderBy": "productId", "productIds": ["e", "a", "zz"]})), ["a", "e"]);
    assert_eq!(only(json!({"orderBy": "productId", "eventName": "Expo"})), ["d", "e", "f"]);
    assert_eq!(only(json!({"orderBy": "productId", "ticketType": "days:1of2"})), ["f"]);
    assert_eq!(only(json!({"orderBy": "productId", "visible": false})), ["c"]);
    // Not on sale: c is hidden, b is sold out, d's event has ended.
    assert_eq!(only(json!({"orderBy": "productId", "onSale": true})), ["a", "e", "f"]);
    assert_eq!(only(json!({"orderBy": "productId", "onSale": false})), ["b", "c", "d"]);
    assert_eq!(
        only(json!({"orderBy": "productId", "startsFrom": "2026-05-02T09:00:00Z", "startsTo": "2026-05-03T09:00:00Z"})),
        ["c", "e"],
        "both bounds are inclusive"
    );
    assert_eq!(only(json!({"orderBy": "productId", "visible": true, "eventName": "Summit"})), ["a", "b"]);
}

#[test]
fn each_ordering_breaks_ties_by_product_id_in_both_directions() {
    let list = tickets();
    let cases: [(&str, [&str; 6]); 5] = [
        ("displayOrder", ["b", "e", "a", "c", "f", "d"]),
        ("price", ["b", "e", "d", "f", "a", "c"]),
        ("eventStartDate", ["b", "e", "c", "a", "d", "f"]),
        ("productId", ["a", "b", "c", "d", "e", "f"]),
        ("sysLastModifiedAt", ["b", "e", "d", "f", "a", "c"]),
    ];
    for (order_by, ascending) in cases {
        let asc = page(&list, &query(json!({"orderBy": order_by, "order": "asc"})), None).0;
        assert_eq!(asc, ascending, "{order_by} asc");
        let desc = page(&list, &query(json!({"orderBy": order_by, "order": "desc"})), None).0;
        let descending: Vec<&str> = ascending.iter().rev().copied().collect();
        assert_eq!(desc, descending, "{order_by} desc");
    }
    assert_eq!(page(&list, &query(json!({})), None).0, ["b", "e", "a", "c", "f", "d"], "displayOrder by default");
}

#[test]
fn a_walk_of_pages_visits_every_matching_ticket_exactly_once_in_order() {
    let list = tickets();
    for order_by in ["displayOrder", "price", "eventStartDate", "productId", "sysLastModifiedAt"] {
        for order in ["asc", "desc"] {
            for filter in [json!({}), json!({"visible": true})] {
                let mut whole = filter.clone();
                whole["orderBy"] = json!(order_by);
                whole["order"] = json!(order);
                let (expected, count, next) = page(&list, &query(whole.clone()), None);
                assert_eq!(next, None, "one page without a limit");
                assert_eq!(count, expected.len());
                for limit in 1..=list.len() {
                    let mut paged = whole.clone();
                    paged["limit"] = json!(limit);
                    let q = query(paged);
                    let (mut seen, mut after, mut pages) = (Vec::new(), None, 0);
                    loop {
                        let (ids, page_count, next) = page(&list, &q, after.as_ref());
                        assert_eq!(page_count, count, "every page counts all that match");
                        assert!(ids.len() <= limit && !ids.is_empty(), "{whole} limit {limit}: {ids:?}");
                        seen.extend(ids);
                        pages += 1;
                        match next {
                            Some(place) => after = Some(place),
                            None => break,
                        }
                        assert!(pages <= list.len(), "the walk ends");
                    }
                    assert_eq!(seen, expected, "{whole} limit {limit}");
                    assert_eq!(pages, count.div_ceil(limit), "{whole} limit {limit}");
                }
            }
        }
    }
}

#[test]
fn a_page_after_the_last_ticket_is_empty_and_still_counts() {
    let list = tickets();
    let q = query(json!({"orderBy": "price", "limit": 2}));
    // Keys of `price` are in cents.
    let last = TicketPlace { key: 3000, product_id: "c".into() };
    assert_eq!(page(&list, &q, Some(&last)), (Vec::new(), 6, None));
    // A place between two tickets (the ticket it named is gone) resumes at the next one.
    let gone = TicketPlace { key: 2000, product_id: "c9".into() };
    let (ids, count, next) = page(&list, &q, Some(&gone));
    assert_eq!((ids, count), (vec!["d".to_owned(), "f".to_owned()], 6));
    assert_eq!(next, Some(TicketPlace { key: 2000, product_id: "f".into() }));
}
