//! Each network's ticket list, kept in memory between calls with every ticket's JSON already written, and brought
//! up to date from the store's changes ([`Tickets::ticket_changes`]) rather than read again whole.
//!
//! A call asks the store for the network's generation (from memory): when the kept list is of it, the list answers.
//! Otherwise one caller asks what changed since (a few tickets, each re-written into the persistent orderings, or
//! everything, read whole) while the others behind the same change wait for it. Never stale: a change acknowledged
//! before the call began is in its answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::value::RawValue;

use crate::auth::NetworkScope;
use crate::domain::ids::{NetworkId, ProductId};
use crate::domain::ticket::{InOrder, StoredTicket, TicketOrder};
use crate::error::{Error, Result};
use crate::store::{Store, TicketChange, TicketChanges};

/// A ticket with its JSON.
pub struct Entry {
    pub ticket: StoredTicket,
    /// The ticket as the API shows it.
    pub json: Box<RawValue>,
}

impl Entry {
    fn new(ticket: StoredTicket) -> Result<Arc<Entry>> {
        let json = super::json_text(&ticket.shown())?;
        Ok(Arc::new(Entry { ticket, json }))
    }
}

type Tickets = imbl::Vector<Arc<Entry>>;

/// A network's tickets at one generation, in every ordering asked for so far. The sequences are persistent
/// vectors: a copy shares all but the changed parts, so a change costs its own insertions, not a copy of the list.
pub struct TicketList {
    pub generation: u64,
    /// In productId order.
    by_id: Tickets,
    /// In each other ordering asked for, ascending; kept up to date with every change once made.
    orders: Mutex<HashMap<TicketOrder, Tickets>>,
    /// The answer to a list call without params, once one was made.
    pub everything: OnceLock<Arc<RawValue>>,
}

/// An ordering's tickets as the domain's selection reads them.
pub struct Ordered<'a>(pub &'a Tickets);

impl InOrder for Ordered<'_> {
    fn size(&self) -> usize {
        self.0.len()
    }

    fn ticket(&self, i: usize) -> &StoredTicket {
        &self.0[i].ticket
    }
}

/// Tickets collected for a walk over all of them (faster to index than the persistent vector).
pub struct Walked<'a>(pub Vec<&'a Entry>);

impl InOrder for Walked<'_> {
    fn size(&self) -> usize {
        self.0.len()
    }

    fn ticket(&self, i: usize) -> &StoredTicket {
        &self.0[i].ticket
    }
}

impl TicketList {
    fn whole(generation: u64, tickets: Vec<StoredTicket>) -> Result<TicketList> {
        let by_id = tickets.into_iter().map(Entry::new).collect::<Result<Tickets>>()?;
        Ok(TicketList { generation, by_id, orders: Mutex::default(), everything: OnceLock::new() })
    }

    /// The ticket `id` names, if the list holds it.
    pub fn find(&self, id: &ProductId) -> Option<&Arc<Entry>> {
        let at = self.by_id.binary_search_by(|e| e.ticket.ticket.product_id.cmp(id)).ok()?;
        self.by_id.get(at)
    }

    /// The tickets in an ordering, ascending: sorted once, then kept.
    pub fn ordered(&self, order: TicketOrder) -> Tickets {
        if order == TicketOrder::ProductId {
            return self.by_id.clone();
        }
        if let Some(kept) = self.orders.lock().ok().and_then(|o| o.get(&order).cloned()) {
            return kept;
        }
        let mut sorted: Vec<Arc<Entry>> = self.by_id.iter().cloned().collect();
        sorted.sort_by(|a, b| order.place(&a.ticket).cmp(&order.place(&b.ticket)));
        let sorted: Tickets = sorted.into_iter().collect();
        if let Ok(mut orders) = self.orders.lock() {
            orders.insert(order, sorted.clone());
        }
        sorted
    }

    /// This list with `changes` applied in order, in productId order and in every ordering kept.
    fn changed(&self, generation: u64, changes: Vec<TicketChange>) -> Result<TicketList> {
        let mut by_id = self.by_id.clone();
        let mut orders = self.orders.lock().map(|o| o.clone()).unwrap_or_default();
        for change in changes {
            let id = match &change {
                TicketChange::Upserted(t) => t.ticket.product_id.clone(),
                TicketChange::Removed(id) => id.clone(),
            };
            let at = by_id.binary_search_by(|e| e.ticket.ticket.product_id.cmp(&id));
            let old = at.ok().map(|i| by_id[i].clone());
            let new = match change {
                TicketChange::Upserted(t) => Some(Entry::new(*t)?),
                TicketChange::Removed(_) => None,
            };
            match (at, &new) {
                (Ok(i), Some(new)) => {
                    by_id.set(i, new.clone());
                }
                (Err(i), Some(new)) => by_id.insert(i, new.clone()),
                (Ok(i), None) => {
                    by_id.remove(i);
                }
                (Err(_), None) => {}
            }
            for (&order, sorted) in orders.iter_mut() {
                if let Some(old) = &old
                    && let Ok(i) = sorted.binary_search_by(|e| order.place(&e.ticket).cmp(&order.place(&old.ticket)))
                {
                    sorted.remove(i);
                }
                if let Some(new) = &new {
                    let i = sorted
                        .binary_search_by(|e| order.place(&e.ticket).cmp(&order.place(&new.ticket)))
                        .unwrap_or_else(|i| i);
                    sorted.insert(i, new.clone());
                }
            }
        }
        Ok(TicketList { generation, by_id, orders: Mutex::new(orders), everything: OnceLock::new() })
    }
}

/// Every network's kept list.
#[derive(Default)]
pub struct TicketLists {
    networks: Mutex<HashMap<NetworkId, Kept>>,
}

/// A network's kept list, and the lock taken to bring it up to date: callers behind the same change wait for one
/// update, not one each, and other networks' callers do not wait at all.
#[derive(Default)]
struct Kept {
    list: Option<Arc<TicketList>>,
    updating: Arc<tokio::sync::Mutex<()>>,
}

impl TicketLists {
    fn kept(&self, network: &NetworkId) -> Option<Arc<TicketList>> {
        self.networks.lock().ok()?.get(network)?.list.clone()
    }

    fn updating(&self, network: &NetworkId) -> Result<Arc<tokio::sync::Mutex<()>>> {
        let mut networks = self.networks.lock().map_err(|_| Error::Internal("ticket lists poisoned".into()))?;
        Ok(networks.entry(network.clone()).or_default().updating.clone())
    }

    /// Keeps a list unless a newer one is kept already.
    fn keep(&self, network: &NetworkId, list: Arc<TicketList>) {
        if let Ok(mut networks) = self.networks.lock() {
            let kept = networks.entry(network.clone()).or_default();
            if kept.list.as_ref().is_none_or(|k| k.generation <= list.generation) {
                kept.list = Some(list);
            }
        }
    }

    /// The network's kept list if it is current, without bringing it up to date: for a call that can read the store
    /// instead when it is not. Never stale, as [`get`](TicketLists::get).
    /// With no list kept it asks the store nothing (on PostgreSQL, the generation is a round trip of its own).
    pub async fn current(&self, store: &dyn Store, scope: &NetworkScope) -> Result<Option<Arc<TicketList>>> {
        let Some(kept) = self.kept(scope.network()) else { return Ok(None) };
        // Read after the list was taken: a list of this generation or later holds every change acknowledged before.
        let now = store.ticket_generation(scope).await?;
        Ok((kept.generation >= now).then_some(kept))
    }

    /// The network's tickets as they are now.
    pub async fn get(&self, store: &dyn Store, scope: &NetworkScope) -> Result<Arc<TicketList>> {
        let network = scope.network();
        // Read first: every change acknowledged before this call is at or below it.
        let now = store.ticket_generation(scope).await?;
        let fresh = |kept: &Option<Arc<TicketList>>| kept.as_ref().filter(|l| l.generation >= now).cloned();
        if let Some(kept) = fresh(&self.kept(network)) {
            return Ok(kept);
        }
        // One caller brings the list up to date; the others wait for it and take its result.
        let updating = self.updating(network)?;
        let _one = updating.lock().await;
        let kept = self.kept(network);
        if let Some(kept) = fresh(&kept) {
            return Ok(kept);
        }
        let list = match (store.ticket_changes(scope, kept.as_ref().map(|l| l.generation)).await?, kept) {
            (TicketChanges::Unchanged, Some(kept)) => return Ok(kept),
            (TicketChanges::Changed { generation, changes }, Some(kept)) => kept.changed(generation, changes)?,
            (TicketChanges::Whole { generation, tickets }, _) => TicketList::whole(generation, tickets)?,
            (TicketChanges::Unchanged | TicketChanges::Changed { .. }, None) => {
                return Err(Error::Internal("ticket changes without a list to apply them to".into()));
            }
        };
        let list = Arc::new(list);
        self.keep(network, list.clone());
        Ok(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures;
    use crate::domain::ids::{ActorId, ProductId};
    use crate::domain::sys::Sys;
    use proptest::prelude::*;

    fn ticket(id: u8, display_order: i64, price: f64) -> StoredTicket {
        let extra = serde_json::json!({"price": price, "displayOrder": display_order});
        StoredTicket {
            ticket: fixtures::ticket(&format!("t{id:03}"), extra),
            sold: 0,
            sys: Sys::new(&ActorId::new("a")),
        }
    }

    fn ids(tickets: &Tickets) -> Vec<String> {
        tickets.iter().map(|e| e.ticket.ticket.product_id.to_string()).collect()
    }

    proptest! {
        /// A list brought up to date change by change holds what a list read whole after the same changes holds, in
        /// productId order and in every ordering it kept.
        #[test]
        fn changes_applied_in_order_equal_a_whole_read(
            start in prop::collection::vec((0u8..40, -5i64..5, 0u32..4), 0..30),
            changes in prop::collection::vec((0u8..40, -5i64..5, 0u32..4, any::<bool>()), 0..40),
        ) {
            let mut now: std::collections::BTreeMap<u8, StoredTicket> =
                start.iter().map(|&(id, order, price)| (id, ticket(id, order, f64::from(price)))).collect();
            let list = TicketList::whole(1, now.values().cloned().collect()).unwrap();
            for order in [TicketOrder::DisplayOrder, TicketOrder::Price] {
                list.ordered(order);
            }
            let mut made = Vec::new();
            for &(id, order, price, remove) in &changes {
                if remove {
                    now.remove(&id);
                    made.push(TicketChange::Removed(ProductId::parse(&format!("t{id:03}")).unwrap()));
                } else {
                    let t = ticket(id, order, f64::from(price));
                    now.insert(id, t.clone());
                    made.push(TicketChange::Upserted(Box::new(t)));
                }
            }
            let changed = list.changed(2, made).unwrap();
            let whole = TicketList::whole(2, now.values().cloned().collect()).unwrap();
            for order in [TicketOrder::ProductId, TicketOrder::DisplayOrder, TicketOrder::Price] {
                let kept = changed.ordered(order);
                let fresh = whole.ordered(order);
                prop_assert_eq!(ids(&kept), ids(&fresh), "{:?}", order);
                let json = |t: &Tickets| t.iter().map(|e| e.json.get().to_owned()).collect::<Vec<_>>();
                prop_assert_eq!(json(&kept), json(&fresh));
            }
        }
    }

    /// An empty store in a temporary directory (kept while the test runs), a network's scope, and no kept lists.
    fn empty() -> (tempfile::TempDir, crate::store::SqliteStore, NetworkScope, TicketLists) {
        use crate::store::{SqliteStore, Synchronous};
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db"), Synchronous::Normal, 1).unwrap();
        (dir, store, NetworkScope::for_tests("net", "a"), TicketLists::default())
    }

    /// Every change acknowledged before a call, a registration's seat included, is in the list that call gets.
    #[tokio::test]
    async fn a_kept_list_is_never_older_than_the_last_acknowledged_change() {
        use crate::store::{Records, RegistrationKind, Tickets};
        let (_dir, store, scope, lists) = empty();
        let sold = |list: &TicketList| list.by_id.iter().map(|e| e.ticket.sold).collect::<Vec<_>>();
        assert!(lists.get(&store, &scope).await.unwrap().by_id.is_empty());
        store.create_ticket(&scope, ticket(1, 0, 5.0).ticket).await.unwrap();
        let first = lists.get(&store, &scope).await.unwrap();
        assert_eq!(sold(&first), [0]);
        assert!(Arc::ptr_eq(&first, &lists.get(&store, &scope).await.unwrap()), "unchanged: the kept list answers");
        let seat =
            |number: i64| fixtures::registration("c", serde_json::json!({"productId": "t001", "number": number}));
        Records::<RegistrationKind>::create(&store, &scope, seat(1)).await.unwrap();
        let seated = lists.get(&store, &scope).await.unwrap();
        assert_eq!(sold(&seated), [1], "the seat just taken");
        // A call that takes a seat and then fails (its number is taken) is rolled back whole, and changes no list.
        assert!(Records::<RegistrationKind>::create(&store, &scope, seat(1)).await.is_err());
        assert!(Arc::ptr_eq(&seated, &lists.get(&store, &scope).await.unwrap()));
        let mut dearer = ticket(1, 0, 9.0).ticket;
        dearer.ticket_name = "Dearer".into();
        store.update_ticket(&scope, dearer, None).await.unwrap();
        let updated = lists.get(&store, &scope).await.unwrap();
        assert_eq!(updated.by_id[0].ticket.ticket.ticket_name, "Dearer");
        assert!(updated.by_id[0].json.get().contains("\"price\":9"), "{}", updated.by_id[0].json.get());
        store.create_ticket(&scope, ticket(2, 0, 5.0).ticket).await.unwrap();
        store.delete_ticket(&scope, &ProductId::parse("t002").unwrap()).await.unwrap();
        store.create_ticket(&scope, ticket(3, 0, 5.0).ticket).await.unwrap();
        let ids = |l: &TicketList| ids(&l.by_id);
        assert_eq!(ids(&lists.get(&store, &scope).await.unwrap()), ["t001", "t003"]);
        crate::store::Store::close(&store);
    }

    /// `current` answers only a kept list that holds every acknowledged change, and never brings one up to date.
    #[tokio::test]
    async fn current_is_the_kept_list_only_while_nothing_changed() {
        use crate::store::Tickets;
        let (_dir, store, scope, lists) = empty();
        store.create_ticket(&scope, ticket(1, 0, 5.0).ticket).await.unwrap();
        assert!(lists.current(&store, &scope).await.unwrap().is_none(), "nothing kept yet");
        let kept = lists.get(&store, &scope).await.unwrap();
        let current = lists.current(&store, &scope).await.unwrap().expect("kept and current");
        assert!(Arc::ptr_eq(&kept, &current));
        let t001 = ProductId::parse("t001").unwrap();
        assert!(current.find(&t001).unwrap().json.get().contains("\"price\":5"));
        assert!(current.find(&ProductId::parse("t002").unwrap()).is_none());
        store.update_ticket(&scope, ticket(1, 0, 9.0).ticket, None).await.unwrap();
        assert!(lists.current(&store, &scope).await.unwrap().is_none(), "changed since: not current");
        assert!(lists.current(&store, &scope).await.unwrap().is_none(), "and not brought up to date by asking");
        let updated = lists.get(&store, &scope).await.unwrap();
        assert!(updated.find(&t001).unwrap().json.get().contains("\"price\":9"));
        assert!(lists.current(&store, &scope).await.unwrap().is_some());
        crate::store::Store::close(&store);
    }
}
