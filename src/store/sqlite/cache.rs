//! Each network's ticket list, kept in memory between changes, with every ticket's JSON already written.
//!
//! **Never stale.** Every network has a generation. The writer bumps the generations of the networks whose tickets
//! a transaction changed after its `COMMIT` and before it answers any caller, so a client that made a change never
//! reads a list from before it. A list read from SQL is kept only if its network's generation did not move while
//! it was being read; one that raced a change is used once and dropped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::value::RawValue;

use crate::domain::ticket::StoredTicket;

/// A network's tickets, by productId, each with its JSON.
pub struct TicketList {
    pub tickets: Vec<StoredTicket>,
    /// `tickets[i]` as the API shows it.
    pub json: Vec<Box<RawValue>>,
    /// The answer to a list call without params, once one was made.
    pub everything: OnceLock<Box<RawValue>>,
}

impl TicketList {
    /// The list of `tickets`, their JSON written once.
    pub fn new(tickets: Vec<StoredTicket>) -> TicketList {
        let json = tickets
            .iter()
            .map(|t| serde_json::value::to_raw_value(&t.to_json()).unwrap_or_else(|_| Default::default()))
            .collect();
        TicketList { tickets, json, everything: OnceLock::new() }
    }
}

#[derive(Default)]
struct Entry {
    generation: u64,
    list: Option<(u64, Arc<TicketList>)>,
}

/// The cache of every network's ticket list.
#[derive(Default)]
pub struct TicketCache {
    networks: Mutex<HashMap<String, Entry>>,
}

impl TicketCache {
    /// The network's current generation.
    pub fn generation(&self, network: &str) -> u64 {
        self.networks.lock().map(|n| n.get(network).map_or(0, |e| e.generation)).unwrap_or(0)
    }

    /// The kept list, if it is of the current generation.
    pub fn get(&self, network: &str) -> Option<Arc<TicketList>> {
        let networks = self.networks.lock().ok()?;
        let entry = networks.get(network)?;
        entry.list.as_ref().filter(|(g, _)| *g == entry.generation).map(|(_, l)| l.clone())
    }

    /// Keeps a list read at `generation`, unless the network changed since.
    pub fn put(&self, network: &str, generation: u64, list: Arc<TicketList>) {
        if let Ok(mut networks) = self.networks.lock() {
            let entry = networks.entry(network.to_owned()).or_default();
            if entry.generation == generation {
                entry.list = Some((generation, list));
            }
        }
    }

    /// Every network the cache knows.
    pub fn all_networks(&self) -> Vec<String> {
        self.networks.lock().map(|n| n.keys().cloned().collect()).unwrap_or_default()
    }

    /// Marks networks changed: their kept lists are dropped.
    pub fn bump(&self, changed: &[String]) {
        if let Ok(mut networks) = self.networks.lock() {
            for network in changed {
                let entry = networks.entry(network.clone()).or_default();
                entry.generation += 1;
                entry.list = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_read_before_a_change_is_not_kept() {
        let cache = TicketCache::default();
        let read_at = cache.generation("A");
        cache.bump(&["A".to_owned()]);
        cache.put("A", read_at, Arc::new(TicketList::new(Vec::new())));
        assert!(cache.get("A").is_none());
        let fresh = cache.generation("A");
        cache.put("A", fresh, Arc::new(TicketList::new(Vec::new())));
        assert!(cache.get("A").is_some());
        cache.bump(&["B".to_owned()]);
        assert!(cache.get("A").is_some(), "another network's change keeps A's list");
        cache.bump(&["A".to_owned()]);
        assert!(cache.get("A").is_none());
    }
}
