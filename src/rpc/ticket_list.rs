//! Each network's ticket list, kept in memory between calls with every ticket's JSON already written, and brought
//! up to date from the store's changes ([`Tickets::ticket_changes`]) rather than read again whole.
//!
//! A call asks the store for the network's generation (from memory): when the kept list is of it, the list answers.
//! Otherwise one caller asks what changed since (a few tickets, each re-written into the persistent orderings, or
//! everything, read whole) while the others behind the same change wait for it. Never stale: a change acknowledged
//! before the call began is in its answer.
//!
//! The lists kept hold a budget of tickets, all networks together (`--kept-tickets`, [`KEPT_TICKETS`] by default):
//! beyond it the lists read longest ago are let go (never the one just kept, so one list larger than the budget is
//! still kept alone), and a network whose list was let go is read whole when next asked for.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use metrics::Gauge;
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

    /// How many tickets it holds.
    fn len(&self) -> usize {
        self.by_id.len()
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

/// The budget of tickets the kept lists hold, all networks together, unless the server is told otherwise.
pub const KEPT_TICKETS: usize = 100_000;

/// Every network's kept list, within a budget of tickets.
pub struct TicketLists {
    networks: Mutex<Networks>,
    /// The tickets kept, all lists together, beyond which the lists read longest ago are let go.
    budget: usize,
    /// Told the tickets kept and the lists holding them, after each keep.
    gauges: (Gauge, Gauge),
}

/// Every network's entry, and what the kept lists hold together (counted as lists come and go, so that a keep
/// need not count them).
#[derive(Default)]
struct Networks {
    kept: HashMap<NetworkId, Kept>,
    /// The tickets of all kept lists.
    tickets: usize,
    /// The kept lists.
    lists: usize,
    /// The reads so far, by which each kept list notes when it was last read.
    reads: u64,
}

impl Networks {
    /// Lets go of `network`'s list; and of its entry too, unless a caller holds or waits for its lock (a second lock
    /// made meanwhile would let two callers bring the list up to date at once).
    fn let_go(&mut self, network: &NetworkId) {
        let Some(kept) = self.kept.get_mut(network) else { return };
        if let Some(list) = kept.list.take() {
            self.tickets -= list.len();
            self.lists -= 1;
        }
        if Arc::strong_count(&kept.updating) == 1 {
            self.kept.remove(network);
        }
    }
}

impl Default for TicketLists {
    fn default() -> Self {
        TicketLists::new(KEPT_TICKETS)
    }
}

/// A network's kept list, and the lock taken to bring it up to date: callers behind the same change wait for one
/// update, not one each, and other networks' callers do not wait at all.
#[derive(Default)]
struct Kept {
    list: Option<Arc<TicketList>>,
    updating: Arc<tokio::sync::Mutex<()>>,
    /// When it was last read or kept, in [`Networks::reads`].
    read: u64,
}

impl TicketLists {
    /// No list kept yet, and a budget of `budget` tickets.
    pub fn new(budget: usize) -> TicketLists {
        TicketLists { networks: Mutex::default(), budget, gauges: (Gauge::noop(), Gauge::noop()) }
    }

    /// The same, telling `tickets` how many tickets are kept and `lists` of how many networks.
    pub fn counted_by(self, (tickets, lists): (Gauge, Gauge)) -> TicketLists {
        TicketLists { gauges: (tickets, lists), ..self }
    }

    fn kept(&self, network: &NetworkId) -> Option<Arc<TicketList>> {
        let mut networks = self.networks.lock().ok()?;
        networks.reads += 1;
        let read = networks.reads;
        let kept = networks.kept.get_mut(network)?;
        kept.read = read;
        kept.list.clone()
    }

    fn updating(&self, network: &NetworkId) -> Result<Arc<tokio::sync::Mutex<()>>> {
        let mut networks = self.networks.lock().map_err(|_| Error::Internal("ticket lists poisoned".into()))?;
        Ok(networks.kept.entry(network.clone()).or_default().updating.clone())
    }

    /// Keeps a list unless a newer one is kept already; then, while the lists hold more tickets than the budget,
    /// lets go of the one read longest ago (never the one just kept).
    fn keep(&self, network: &NetworkId, list: Arc<TicketList>) {
        let Ok(mut guard) = self.networks.lock() else { return };
        let networks = &mut *guard;
        networks.reads += 1;
        let kept = networks.kept.entry(network.clone()).or_default();
        kept.read = networks.reads;
        if kept.list.as_ref().is_none_or(|k| k.generation <= list.generation) {
            networks.tickets += list.len();
            match kept.list.replace(list) {
                Some(old) => networks.tickets -= old.len(),
                None => networks.lists += 1,
            }
        }
        while networks.tickets > self.budget {
            let oldest = networks
                .kept
                .iter()
                .filter(|(other, kept)| *other != network && kept.list.is_some())
                .min_by_key(|(_, kept)| kept.read)
                .map(|(other, _)| other.clone());
            let Some(oldest) = oldest else { break };
            networks.let_go(&oldest);
        }
        self.gauges.0.set(networks.tickets as f64);
        self.gauges.1.set(networks.lists as f64);
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

    /// Beyond the budget the lists read longest ago are let go, and read whole again when asked for.
    #[tokio::test]
    async fn beyond_the_budget_the_lists_read_longest_ago_are_let_go_and_read_again_when_asked_for() {
        use crate::store::Tickets;
        let (_dir, store, _, _) = empty();
        use std::sync::atomic::{AtomicU64, Ordering};
        // The gauges the lists tell, read back.
        let (tickets, lists_kept) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let told = |gauge: &AtomicU64| f64::from_bits(gauge.load(Ordering::Relaxed));
        let lists =
            TicketLists::new(5).counted_by((Gauge::from_arc(tickets.clone()), Gauge::from_arc(lists_kept.clone())));
        // How many tickets are kept, and which networks' lists, without reading them (a read would count as one);
        // the gauges told the same.
        let holding = |lists: &TicketLists| {
            let networks = lists.networks.lock().unwrap();
            let kept: Vec<(&NetworkId, &Arc<TicketList>)> =
                networks.kept.iter().filter_map(|(n, k)| Some((n, k.list.as_ref()?))).collect();
            let mut names: Vec<String> = kept.iter().map(|(n, _)| n.as_str().to_owned()).collect();
            names.sort();
            let counted: usize = kept.iter().map(|(_, l)| l.len()).sum();
            assert_eq!(
                (networks.tickets, networks.lists),
                (counted, kept.len()),
                "the counts kept as lists come and go"
            );
            (counted, names)
        };
        let gauged = || (told(&tickets), told(&lists_kept));
        let scopes: Vec<NetworkScope> = ["n1", "n2", "n3"].map(|n| NetworkScope::for_tests(n, "a")).into();
        for (i, scope) in scopes.iter().enumerate() {
            for t in 0..2 {
                store.create_ticket(scope, ticket(10 * i as u8 + t, 0, 5.0).ticket).await.unwrap();
            }
        }
        let n1 = lists.get(&store, &scopes[0]).await.unwrap();
        lists.get(&store, &scopes[1]).await.unwrap();
        assert_eq!(holding(&lists), (4, vec!["n1".to_owned(), "n2".to_owned()]));
        assert_eq!(gauged(), (4.0, 2.0));
        // n1 read again: n2 is now the one read longest ago, and goes when n3's list comes.
        assert!(Arc::ptr_eq(&n1, &lists.current(&store, &scopes[0]).await.unwrap().expect("kept")));
        lists.get(&store, &scopes[2]).await.unwrap();
        assert_eq!(holding(&lists), (4, vec!["n1".to_owned(), "n3".to_owned()]), "n2 let go");
        // n2 asked for again: read whole, as it is now; n1 goes (n3 was read after it).
        store.create_ticket(&scopes[1], ticket(12, 0, 5.0).ticket).await.unwrap();
        assert_eq!(ids(&lists.get(&store, &scopes[1]).await.unwrap().by_id), ["t010", "t011", "t012"]);
        assert_eq!(holding(&lists), (5, vec!["n2".to_owned(), "n3".to_owned()]), "n1 let go");
        assert_eq!(gauged(), (5.0, 2.0));
        // A kept list brought up to date replaces itself in the counts.
        store.update_ticket(&scopes[1], ticket(10, 0, 9.0).ticket, None).await.unwrap();
        lists.get(&store, &scopes[1]).await.unwrap();
        assert_eq!(holding(&lists), (5, vec!["n2".to_owned(), "n3".to_owned()]));
        assert_eq!(gauged(), (5.0, 2.0));
        // A list let go while a caller holds its network's lock keeps that lock: the next caller waits for it.
        let updating = lists.updating(scopes[2].network()).unwrap();
        let _held = updating.lock().await;
        lists.get(&store, &scopes[0]).await.unwrap();
        assert_eq!(holding(&lists), (5, vec!["n1".to_owned(), "n2".to_owned()]), "n3 let go");
        assert!(Arc::ptr_eq(&updating, &lists.updating(scopes[2].network()).unwrap()));
        // A list larger than the whole budget is still kept while it is the last one read.
        let lone = TicketLists::new(1);
        assert_eq!(lone.get(&store, &scopes[1]).await.unwrap().len(), 3);
        lone.get(&store, &scopes[2]).await.unwrap();
        assert_eq!(holding(&lone), (2, vec!["n3".to_owned()]));
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
