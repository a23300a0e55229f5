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
use crate::domain::ticket::StoredTicket;
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

/// A network's tickets at one generation, by productId.
pub struct TicketList {
    pub generation: u64,
    pub entries: Vec<Arc<Entry>>,
    /// The answer to a list call without params, once one was made.
    pub everything: OnceLock<Box<RawValue>>,
}

impl TicketList {
    fn whole(generation: u64, tickets: Vec<StoredTicket>) -> Result<TicketList> {
        let entries = tickets.into_iter().map(Entry::new).collect::<Result<Vec<_>>>()?;
        Ok(TicketList { generation, entries, everything: OnceLock::new() })
    }

    /// This list with `changes` applied in order.
    fn changed(&self, generation: u64, changes: Vec<TicketChange>) -> Result<TicketList> {
        let mut entries = self.entries.clone();
        for change in changes {
            let id = match &change {
                TicketChange::Upserted(t) => t.ticket.product_id.clone(),
                TicketChange::Removed(id) => id.clone(),
            };
            let at = entries.binary_search_by(|e| e.ticket.ticket.product_id.cmp(&id));
            match (change, at) {
                (TicketChange::Upserted(t), Ok(i)) => entries[i] = Entry::new(*t)?,
                (TicketChange::Upserted(t), Err(i)) => entries.insert(i, Entry::new(*t)?),
                (TicketChange::Removed(_), Ok(i)) => {
                    entries.remove(i);
                }
                (TicketChange::Removed(_), Err(_)) => {}
            }
        }
        Ok(TicketList { generation, entries, everything: OnceLock::new() })
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
