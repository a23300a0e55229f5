//! What changed in each network's tickets, kept in memory for [`Tickets::ticket_changes`](crate::store::Tickets):
//! a generation per network, moved once per transaction that changed its tickets, and the last changes.
//!
//! **Never stale.** The writer records a transaction's changes after its `COMMIT` and before it answers any caller,
//! so a caller that was told its change is done finds it here. A list read whole is labelled with the generation
//! read *before* the read began: it holds at least that generation's changes, and any later one it already holds is
//! replayed in order on top of it, which ends in the same tickets.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use crate::store::{TicketChange as Touched, TicketChanges};

/// Changes kept per network; a caller further behind reads the whole list again.
const KEPT: usize = 4096;

#[derive(Default)]
struct Log {
    generation: u64,
    /// Changes after this generation are all kept.
    kept_after: u64,
    changes: VecDeque<(u64, Touched)>,
}

/// Every network's generation and last changes.
#[derive(Default)]
pub struct TicketFeed {
    networks: Mutex<HashMap<String, Log>>,
}

impl TicketFeed {
    /// The network's current generation (0 until its tickets first change).
    pub fn generation(&self, network: &str) -> u64 {
        self.networks.lock().map(|n| n.get(network).map_or(0, |l| l.generation)).unwrap_or(0)
    }

    /// Records one transaction's changes to a network's tickets: one new generation.
    pub fn record(&self, network: &str, changes: Vec<Touched>) {
        let Ok(mut networks) = self.networks.lock() else { return };
        let log = networks.entry(network.to_owned()).or_default();
        log.generation += 1;
        for change in changes {
            log.changes.push_back((log.generation, change));
        }
        while log.changes.len() > KEPT {
            if let Some((generation, _)) = log.changes.pop_front() {
                log.kept_after = generation;
            }
        }
        // A generation partly dropped is not kept at all.
        while log.changes.front().is_some_and(|(g, _)| *g <= log.kept_after) {
            log.changes.pop_front();
        }
    }

    /// Forgets every change: every caller reads its list whole once more.
    pub fn forget_all(&self) {
        if let Ok(mut networks) = self.networks.lock() {
            for log in networks.values_mut() {
                log.generation += 1;
                log.kept_after = log.generation;
                log.changes.clear();
            }
        }
    }

    /// The changes after `since`, if they are all kept; `None` when the caller must read the whole list.
    pub fn since(&self, network: &str, since: u64) -> Option<TicketChanges> {
        let networks = self.networks.lock().ok()?;
        let Some(log) = networks.get(network) else {
            return (since == 0).then_some(TicketChanges::Unchanged);
        };
        if since == log.generation {
            return Some(TicketChanges::Unchanged);
        }
        if since < log.kept_after || since > log.generation {
            return None;
        }
        let changes = log.changes.iter().filter(|(g, _)| *g > since).map(|(_, c)| c.clone()).collect();
        Some(TicketChanges::Changed { generation: log.generation, changes })
    }
}
