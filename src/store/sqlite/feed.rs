//! Which of each network's tickets changed, kept in memory for
//! [`Tickets::ticket_changes`](crate::store::Tickets): a generation per network, moved once per transaction that
//! changed its tickets, and the productIds each generation changed.
//!
//! Every write to the tickets table notes its ticket (`touch`); the writer records the ids a transaction noted, after
//! its `COMMIT` and before it answers any caller; a list call reads the rows of those ids on a reader. **Never stale:** a caller that was told its change is done finds its generation here, and
//! the rows it then reads are at least as new. The answer is each changed ticket as it is when read (or gone), so
//! the order of the changes needs no care, and a list read whole is labelled with the generation read *before* its
//! read began.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Mutex;

/// Changed ids kept per network; a caller further behind reads the whole list again.
const KEPT: usize = 4096;

#[derive(Default)]
struct Log {
    generation: u64,
    /// Changes after this generation are all kept.
    kept_after: u64,
    changes: VecDeque<(u64, String)>,
}

/// What changed in a network's tickets since a generation.
#[derive(Debug, PartialEq, Eq)]
pub enum Since {
    Unchanged,
    /// The productIds changed since, each once, and the generation they bring the caller to.
    Changed {
        generation: u64,
        products: Vec<String>,
    },
    /// The changes since are not kept: read the whole list.
    Forgotten,
}

/// Every network's generation and last changes.
#[derive(Default)]
pub struct TicketFeed {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    networks: HashMap<String, Log>,
}

impl State {
    /// A network's generation and the generation after which its changes are all kept.
    fn of(&self, network: &str) -> (u64, u64) {
        self.networks.get(network).map_or((0, 0), |l| (l.generation, l.kept_after))
    }
}

impl TicketFeed {
    /// The network's current generation (0 until its tickets first change).
    pub fn generation(&self, network: &str) -> u64 {
        self.state.lock().map(|s| s.of(network).0).unwrap_or(0)
    }

    /// Records one transaction's changed productIds in a network: one new generation.
    pub fn record(&self, network: &str, products: Vec<String>) {
        let Ok(mut state) = self.state.lock() else { return };
        let log = state.networks.entry(network.to_owned()).or_default();
        log.generation += 1;
        let generation = log.generation;
        log.changes.extend(products.into_iter().map(|p| (generation, p)));
        if log.changes.len() > KEPT {
            // Keep only whole generations: drop up to and including the generation of the last one dropped.
            let dropped = log.changes[log.changes.len() - KEPT - 1].0;
            while log.changes.front().is_some_and(|(g, _)| *g <= dropped) {
                log.changes.pop_front();
            }
            log.kept_after = dropped;
        }
    }

    /// The productIds changed after `since`.
    pub fn since(&self, network: &str, since: u64) -> Since {
        let Ok(state) = self.state.lock() else { return Since::Forgotten };
        let (generation, kept_after) = state.of(network);
        if since == generation {
            return Since::Unchanged;
        }
        if since < kept_after || since > generation {
            return Since::Forgotten;
        }
        // The changes are kept in generation order: those after `since` are a tail, found by binary search.
        let products: BTreeSet<&String> = state
            .networks
            .get(network)
            .into_iter()
            .flat_map(|l| l.changes.range(l.changes.partition_point(|(g, _)| *g <= since)..).map(|(_, p)| p))
            .collect();
        Since::Changed { generation, products: products.into_iter().cloned().collect() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_gets_each_id_changed_since_once_or_reads_whole_when_they_are_no_longer_kept() {
        let feed = TicketFeed::default();
        assert_eq!(feed.since("a", 0), Since::Unchanged);
        feed.record("a", vec!["x".into(), "y".into()]);
        feed.record("a", vec!["x".into()]);
        feed.record("b", vec!["z".into()]);
        assert_eq!(feed.since("a", 0), Since::Changed { generation: 2, products: vec!["x".into(), "y".into()] });
        assert_eq!(feed.since("a", 1), Since::Changed { generation: 2, products: vec!["x".into()] });
        assert_eq!(feed.since("a", 2), Since::Unchanged);
        assert_eq!(feed.since("a", 3), Since::Forgotten, "a generation from the future is not trusted");
        for i in 0..KEPT {
            feed.record("a", vec![format!("t{i}")]);
        }
        assert_eq!(feed.since("a", 1), Since::Forgotten, "too far behind");
        assert!(matches!(feed.since("a", 3), Since::Changed { generation, .. } if generation == 2 + KEPT as u64));
        assert_eq!(feed.since("b", 0), Since::Changed { generation: 1, products: vec!["z".into()] });
        assert_eq!(feed.since("never-changed", 0), Since::Unchanged);
    }
}
