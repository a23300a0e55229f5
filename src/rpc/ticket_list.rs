//! Each network's ticket list, kept in memory between calls with every ticket's JSON already written, and brought
//! up to date from the store's changes ([`Tickets::ticket_changes`]) rather than read again whole.
//!
//! A call asks the store what changed since the generation it holds: nothing (the kept list answers), a few
//! tickets (a copy of the list with those replaced: one pointer per ticket copied, one ticket's JSON written per
//! change), or everything (read once, while other callers of the same network wait for that one read). The store
//! answers from memory unless a whole read is needed, and never stale: a change acknowledged before the call began
//! is in its answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::value::RawValue;

use crate::auth::NetworkScope;
use crate::domain::ids::NetworkId;
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
        let json = serde_json::value::to_raw_value(&ticket.to_json()).map_err(|e| Error::Internal(e.to_string()))?;
        Ok(Arc::new(Entry { ticket, json }))
    }
}

type Tickets = imbl::Vector<Arc<Entry>>;

/// Where a ticket goes in an ordering: its sort key, then its productId.
fn place(order: TicketOrder, e: &Entry) -> (i64, &str) {
    (order.key(&e.ticket), e.ticket.ticket.product_id.as_str())
}

/// A network's tickets at one generation, in every ordering asked for so far. The sequences are persistent
/// vectors: a copy shares all but the changed parts, so a change costs its own insertions, not a copy of the list.
pub struct TicketList {
    pub generation: u64,
    /// In productId order.
    by_id: Tickets,
    /// In each other ordering asked for, ascending; kept up to date with every change once made.
    orders: Mutex<HashMap<TicketOrder, Tickets>>,
    /// The answer to a list call without params, once one was made.
    pub everything: OnceLock<Box<RawValue>>,
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

    /// The tickets in an ordering, ascending: sorted once, then kept.
    pub fn ordered(&self, order: TicketOrder) -> Tickets {
        if order == TicketOrder::ProductId {
            return self.by_id.clone();
        }
        if let Some(kept) = self.orders.lock().ok().and_then(|o| o.get(&order).cloned()) {
            return kept;
        }
        let mut sorted: Vec<Arc<Entry>> = self.by_id.iter().cloned().collect();
        sorted.sort_by(|a, b| place(order, a).cmp(&place(order, b)));
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
                    && let Ok(i) = sorted.binary_search_by(|e| place(order, e).cmp(&place(order, old)))
                {
                    sorted.remove(i);
                }
                if let Some(new) = &new {
                    let i = sorted.binary_search_by(|e| place(order, e).cmp(&place(order, new))).unwrap_or_else(|i| i);
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
    networks: Mutex<HashMap<NetworkId, Arc<TicketList>>>,
    /// Taken to read a list whole: callers that need the same read wait for one, not one each.
    reading: tokio::sync::Mutex<()>,
}

impl TicketLists {
    fn kept(&self, network: &NetworkId) -> Option<Arc<TicketList>> {
        self.networks.lock().ok()?.get(network).cloned()
    }

    /// Keeps a list unless a newer one is kept already.
    fn keep(&self, network: &NetworkId, list: Arc<TicketList>) {
        if let Ok(mut networks) = self.networks.lock() {
            let newer = networks.get(network).is_some_and(|kept| kept.generation > list.generation);
            if !newer {
                networks.insert(network.clone(), list);
            }
        }
    }

    /// The network's tickets as they are now.
    pub async fn get(&self, store: &dyn Store, scope: &NetworkScope) -> Result<Arc<TicketList>> {
        let network = scope.network();
        let mut kept = self.kept(network);
        let _reading = match kept {
            Some(_) => None,
            None => {
                let guard = self.reading.lock().await;
                kept = self.kept(network);
                Some(guard)
            }
        };
        let list = match (store.ticket_changes(scope, kept.as_ref().map(|l| l.generation)).await?, kept) {
            (TicketChanges::Unchanged, Some(kept)) => return Ok(kept),
            (TicketChanges::Unchanged, None) => return Err(Error::Internal("no ticket list to keep".into())),
            (TicketChanges::Changed { generation, changes }, Some(kept)) => kept.changed(generation, changes)?,
            (TicketChanges::Changed { .. }, None) => return Err(Error::Internal("changes without a list".into())),
            (TicketChanges::Whole { generation, tickets }, _) => TicketList::whole(generation, tickets)?,
        };
        let list = Arc::new(list);
        self.keep(network, list.clone());
        Ok(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{ActorId, ProductId};
    use crate::domain::sys::Sys;
    use crate::domain::ticket::Ticket;
    use proptest::prelude::*;

    fn ticket(id: u8, display_order: i64, price: f64) -> StoredTicket {
        let t = serde_json::json!({"productId": format!("t{id:03}"), "eventName": "E", "eventStartDate":
            "2030-01-01T10:00:00Z", "eventEndDate": "2030-01-02T10:00:00Z", "ticketType": "single",
            "ticketName": "T", "price": price, "displayOrder": display_order});
        let ticket: Ticket = Ticket::from_json("ticket", &t).expect("valid").ticket;
        StoredTicket { ticket, sold: 0, sys: Sys::new(&ActorId::new("a")) }
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
}
