//! `ticket-admin migrate`: a SQLite store copied into an empty PostgreSQL database, every record (orders, templates
//! and the mail outbox included), counter and token, and the counts checked before anything is kept.
//!
//! **Only into an empty database, all or nothing.** The copy runs in one PostgreSQL transaction that first locks
//! every table it writes (servers already on the database wait; none sees half a copy) and refuses a database that
//! holds any row of them. Rows are read from SQLite a page at a time in creation order (`seq`) and written through
//! the row codec both stores share ([`rows`](super::rows)), so PostgreSQL's extra columns (the folded copies of the
//! searched text) and its trigger-kept counts are made exactly as its own store makes them. Registrations,
//! function tickets, orders and the outbox's messages keep their `seq`, so their order, and every cursor a client
//! holds, stay as they were. Then the rows of each table, the registrations of each network and of each event and
//! status are counted on both sides; any difference rolls the whole copy back.
//!
//! **The source stays still.** It is opened as a server opens it, under its lock file, so a server running on it
//! refuses the copy (and the copy refuses a server) until the copy ends. A file that does not exist is refused,
//! never made.
//!
//! Ticket generations and the ticket changes kept for them start afresh: servers read each network's tickets whole
//! on their first list.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{Position, Store, Tokens, postgres, sqlite};
use crate::auth::TokenInfo;
use crate::config::Db;
use crate::domain::ids::NetworkId;
use crate::domain::template::StoredTemplate;
use crate::domain::ticket::StoredTicket;
use crate::error::Error;

/// The tables copied, in the order the summary names them; the target must hold no row of any.
pub const TABLES: [&str; 12] = [
    "tokens",
    "token_grants",
    "tickets",
    "registrations",
    "function_tickets",
    "event_numbers",
    "network_limits",
    "templates",
    "orders",
    "order_registrations",
    "order_numbers",
    "mail_outbox",
];

/// Rows read from SQLite and written to PostgreSQL at a time.
pub(crate) const PAGE: usize = 1000;

/// Connections the copy opens to PostgreSQL: the one transaction, and one to spare for the store's own start.
const CONNECTIONS: usize = 2;

/// A ticket with its network.
pub(crate) type TicketRow = (NetworkId, StoredTicket);
/// A record with its network and its place in creation order.
pub(crate) type RecordRow<T> = (NetworkId, Position, T);
/// A network's template.
pub(crate) type TemplateRow = (NetworkId, StoredTemplate);
/// A token as stored: the hash of its secret and what it is.
pub(crate) type TokenRow = ([u8; 32], TokenInfo);

/// The last registration number handed out in an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EventNumber {
    pub network: NetworkId,
    pub event_id: String,
    pub last_number: i64,
}

/// What a store holds, as the copy compares it on both sides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Rows of each of [`TABLES`], in that order.
    pub tables: Vec<(&'static str, i64)>,
    /// Registrations of each network (PostgreSQL: as its triggers keep them).
    pub registrations_by_network: BTreeMap<String, i64>,
    /// Registrations of each (network, event, status) (PostgreSQL: as its triggers keep them).
    pub registrations_by_event: BTreeMap<(String, String, String), i64>,
}

impl Counts {
    /// The first difference between these counts of the source and `target`'s, said for an operator.
    fn difference(&self, target: &Counts) -> Option<String> {
        if let Some(((table, here), (_, there))) = self.tables.iter().zip(&target.tables).find(|(a, b)| a != b) {
            return Some(format!("{table}: {here} rows in SQLite, {there} in PostgreSQL"));
        }
        fn first<K: Ord + std::fmt::Debug>(a: &BTreeMap<K, i64>, b: &BTreeMap<K, i64>) -> Option<String> {
            a.keys().chain(b.keys()).find(|k| a.get(k) != b.get(k)).map(|k| {
                let (here, there) = (a.get(k).copied().unwrap_or(0), b.get(k).copied().unwrap_or(0));
                format!("{k:?}: {here} in SQLite, {there} in PostgreSQL")
            })
        }
        first(&self.registrations_by_network, &target.registrations_by_network)
            .map(|d| format!("registrations of network {d}"))
            .or_else(|| {
                first(&self.registrations_by_event, &target.registrations_by_event)
                    .map(|d| format!("registrations of (network, event, status) {d}"))
            })
    }
}

/// Why a copy was refused or failed; in every case the target is left as it was.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("--to must be a postgres:// or postgresql:// URL")]
    NotPostgres,
    #[error("--from {0} is not a SQLite database file: it does not exist")]
    NoSource(PathBuf),
    #[error(transparent)]
    Source(#[from] sqlite::OpenError),
    #[error(transparent)]
    Target(#[from] postgres::OpenError),
    #[error(
        "the PostgreSQL database is not empty ({table} holds {rows} rows): migrate copies only into a database \
         that holds no record and no token; nothing was copied"
    )]
    NotEmpty { table: &'static str, rows: i64 },
    #[error("the copy does not match the source, so nothing was copied: {0}")]
    Mismatch(String),
    #[error("the copy failed, so nothing was copied: {0}")]
    Failed(#[from] Error),
}

/// Copies the SQLite store at `from` into the empty PostgreSQL database at `to`; the rows of each table copied.
pub async fn copy(from: &Path, to: &str) -> Result<Vec<(&'static str, i64)>, CopyError> {
    if !matches!(Db::parse(to), Db::Postgres(_)) {
        return Err(CopyError::NotPostgres);
    }
    // Opening creates a missing file; a copy of nothing is a mistake (a wrong path), not an empty store.
    if !from.is_file() {
        return Err(CopyError::NoSource(from.to_owned()));
    }
    let path = from.to_owned();
    let source = tokio::task::spawn_blocking(move || sqlite::SqliteStore::open(&path, sqlite::Synchronous::Full, 1))
        .await
        .map_err(|e| Error::Internal(e.to_string()))??;
    let outcome = match postgres::PostgresStore::open(to, CONNECTIONS).await {
        Ok(target) => {
            let copied = copy_into(&source, &target).await;
            target.close();
            copied
        }
        Err(e) => Err(e.into()),
    };
    let _ = tokio::task::spawn_blocking(move || source.close()).await;
    outcome
}

/// The copy itself, in one transaction on `target`: committed only when the counts agree.
async fn copy_into(
    source: &sqlite::SqliteStore,
    target: &postgres::PostgresStore,
) -> Result<Vec<(&'static str, i64)>, CopyError> {
    let mut connection = postgres::copy::Connection::of(target).await?;
    let into = postgres::copy::Target::begin(&mut connection).await?;
    if let Some((table, rows)) = into.occupied().await? {
        return Err(CopyError::NotEmpty { table, rows });
    }
    into.tokens(&source.tokens().await?).await?;
    into.network_limits(&sqlite::copy::network_limits(source).await?).await?;
    into.event_numbers(&sqlite::copy::event_numbers(source).await?).await?;
    into.templates(&sqlite::copy::templates(source).await?).await?;
    let mut after = None;
    loop {
        let page = sqlite::copy::tickets(source, after).await?;
        let Some((network, last)) = page.last() else { break };
        after = Some((network.clone(), last.ticket.product_id.clone()));
        into.tickets(&page).await?;
    }
    // Registrations before the function tickets that may name them.
    let mut after = Position(i64::MIN);
    loop {
        let page = sqlite::copy::registrations(source, after).await?;
        let Some((_, last, _)) = page.last() else { break };
        after = *last;
        into.registrations(&page).await?;
    }
    let mut after = Position(i64::MIN);
    loop {
        let page = sqlite::copy::function_tickets(source, after).await?;
        let Some((_, last, _)) = page.last() else { break };
        after = *last;
        into.function_tickets(&page).await?;
    }
    // Orders after the registrations they hold, each with the rows that index it by registration.
    into.order_numbers(&sqlite::copy::order_numbers(source).await?).await?;
    let mut after = Position(i64::MIN);
    loop {
        let page = sqlite::copy::orders(source, after).await?;
        let Some((_, last, _)) = page.last() else { break };
        after = *last;
        into.orders(&page).await?;
    }
    // The outbox last: its messages name registrations, and its `seq` keeps their order in `mail.list`.
    let mut after = Position(i64::MIN);
    loop {
        let page = sqlite::copy::messages(source, after).await?;
        let Some((_, last, _)) = page.last() else { break };
        after = *last;
        into.messages(&page).await?;
    }
    let (expected, copied) = (sqlite::copy::counts(source).await?, into.counts().await?);
    if let Some(difference) = expected.difference(&copied) {
        return Err(CopyError::Mismatch(difference));
    }
    into.commit().await?;
    Ok(copied.tables)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::NetworkScope;
    use crate::domain::fixtures::{function_ticket, registration, ticket};
    use crate::domain::function_ticket::StoredFunctionTicket;
    use crate::domain::registration::StoredRegistration;
    use crate::store::postgres::shared_tests::cluster;
    use crate::store::{FunctionTicketKind, Records, RegistrationKind, TicketChanges, Tickets, Window};
    use serde_json::json;

    fn counts(tickets: i64, by_network: &[(&str, i64)]) -> Counts {
        Counts {
            tables: TABLES.iter().map(|t| (*t, if *t == "tickets" { tickets } else { 0 })).collect(),
            registrations_by_network: by_network.iter().map(|(n, c)| (n.to_string(), *c)).collect(),
            registrations_by_event: BTreeMap::new(),
        }
    }

    #[test]
    fn the_first_difference_is_named() {
        assert_eq!(counts(3, &[("a", 1)]).difference(&counts(3, &[("a", 1)])), None);
        let table = counts(3, &[]).difference(&counts(2, &[])).unwrap();
        assert_eq!(table, "tickets: 3 rows in SQLite, 2 in PostgreSQL");
        let missing = counts(3, &[("a", 1)]).difference(&counts(3, &[])).unwrap();
        assert_eq!(missing, "registrations of network \"a\": 1 in SQLite, 0 in PostgreSQL");
        let extra = counts(3, &[]).difference(&counts(3, &[("b", 2)])).unwrap();
        assert_eq!(extra, "registrations of network \"b\": 0 in SQLite, 2 in PostgreSQL");
    }

    #[tokio::test]
    async fn a_missing_source_is_refused_and_not_made() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.db");
        let refused = copy(&missing, "postgres://nobody@127.0.0.1:1/none").await.unwrap_err();
        assert!(matches!(refused, CopyError::NoSource(_)), "{refused}");
        assert!(!missing.exists() && !sqlite::lock_path(&missing).exists());
        let refused = copy(&missing, "/tmp/other.db").await.unwrap_err();
        assert!(matches!(refused, CopyError::NotPostgres), "{refused}");
    }

    /// A network's tickets, registrations and function tickets as a store lists them.
    async fn held(
        store: &dyn Store,
        scope: &NetworkScope,
    ) -> (Vec<StoredTicket>, Vec<(Position, StoredRegistration)>, Vec<(Position, StoredFunctionTicket)>) {
        let tickets = match store.ticket_changes(scope, None).await.unwrap() {
            TicketChanges::Whole { tickets, .. } => tickets,
            other => panic!("{other:?}"),
        };
        let all = Window::default();
        let registrations = Records::<RegistrationKind>::list_by(store, scope, vec![], all).await.unwrap().items;
        let seats = Records::<FunctionTicketKind>::list_by(store, scope, vec![], all).await.unwrap().items;
        (tickets, registrations, seats)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn more_than_a_page_of_each_kind_is_copied_whole_and_in_order() {
        if cluster::Cluster::binaries().is_none() {
            assert!(std::env::var_os("TICKET_ADMIN_REQUIRE_POSTGRES").is_none(), "PostgreSQL is not installed");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("source.db");
        let source = sqlite::SqliteStore::open(&path, sqlite::Synchronous::Normal, 1).unwrap();
        let networks = [NetworkScope::for_tests("net-a", "actor"), NetworkScope::for_tests("net-b", "actor")];
        let made = (0..=PAGE).map(|i| {
            let (scope, source) = (&networks[i % 2], &source);
            async move {
                source.create_ticket(scope, ticket(&format!("t{i:04}"), json!({}))).await.unwrap();
                let r = registration(&format!("c{i}"), json!({"city": format!("Zürich {i}")}));
                let r = Records::<RegistrationKind>::create(source, scope, r).await.unwrap();
                let seat = function_ticket(json!({"registrationId": r.id.as_str()}));
                Records::<FunctionTicketKind>::create(source, scope, seat).await.unwrap();
            }
        });
        futures_util::future::join_all(made).await;
        let mut before = Vec::new();
        for scope in &networks {
            before.push(held(&source, scope).await);
        }
        tokio::task::spawn_blocking(move || source.close()).await.unwrap();

        let cluster = tokio::task::spawn_blocking(|| cluster::Cluster::start(false)).await.unwrap().unwrap();
        let url = cluster.create_database("copy").unwrap();
        let copied = copy(&path, &url).await.unwrap();
        let rows = |table| copied.iter().find(|(t, _)| *t == table).unwrap().1;
        let all = PAGE as i64 + 1;
        assert_eq!((rows("tickets"), rows("registrations"), rows("function_tickets")), (all, all, all));
        let target = postgres::PostgresStore::open(&url, 2).await.unwrap();
        for (scope, before) in networks.iter().zip(before) {
            assert_eq!(held(&target, scope).await, before, "{scope:?}");
        }
        target.close();
    }
}
