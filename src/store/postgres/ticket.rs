//! Purchasable tickets on PostgreSQL, always within one network. A change locks the ticket's row, and raises the
//! network's ticket generation, once for its group, as the last statement before the commit ([`record_changes`]).

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use tokio_postgres::types::ToSql;

use super::writer::write;
use super::{Failure, Lock, Named, PostgresStore, Tx, insert, record_changes, snapshot, update};
use crate::auth::NetworkScope;
use crate::domain::command::TicketWrite;
use crate::domain::ids::{NetworkId, ProductId};
use crate::domain::limits::Held;
use crate::domain::sys::{Sys, check_version};
use crate::domain::ticket::{StoredTicket, Ticket};
use crate::error::{Conflict, Error, Result};
use crate::store::rows::{Cell, ticket_columns, ticket_from, ticket_row};
use crate::store::{TicketChange, TicketChanges, TicketEdit, Tickets};

const KEY: &[&str] = &["network_id", "product_id"];

/// The ticket's row as its writer names it, to order its group's writes by it.
fn locked_row(id: &ProductId) -> Option<String> {
    Some(format!("ticket {id}"))
}

fn not_found(id: &ProductId) -> Error {
    Error::NotFound { resource: "ticket", id: id.to_string() }
}

/// One ticket of a network, if it exists, its row locked as `lock` says.
pub(super) async fn find(
    db: &impl GenericClient,
    network: &NetworkId,
    id: &str,
    lock: Lock,
) -> std::result::Result<Option<StoredTicket>, Failure> {
    let sql = format!(
        "{} FROM tickets WHERE network_id = $1 AND product_id = $2{}",
        concat!("SELECT ", ticket_columns!()),
        lock.clause()
    );
    let statement = db.prepare_cached(&sql).await?;
    match db.query_opt(&statement, &[&network.as_str(), &id]).await? {
        Some(row) => Ok(Some(ticket_from(&Named(&row))?)),
        None => Ok(None),
    }
}

/// Inserts a ticket under the network's limits lock (the write of a create run alone, and of an edit's new ticket).
pub(super) async fn create(
    tx: &Tx<'_>,
    network: &NetworkId,
    stored: &StoredTicket,
) -> std::result::Result<(), Failure> {
    let duplicate = || Conflict::Duplicate { resource: "ticket", id: stored.ticket.product_id.to_string() };
    // Under the network's limits lock, racing creates come one after the other: the second sees the first's row.
    let limits = super::limits::lock(tx, network).await?;
    if limits.of(Held::Tickets).is_some() {
        // A duplicate is refused as one, also at the limit.
        if find(tx, network, stored.ticket.product_id.as_str(), Lock::None).await?.is_some() {
            return Err(duplicate().into());
        }
        super::limits::check_room(tx, network, &limits, Held::Tickets).await?;
    }
    // The key refuses a duplicate: nothing is written then, and the transaction goes on.
    if !insert(tx, "tickets", &ticket_row(network, stored)?).await? {
        return Err(duplicate().into());
    }
    record_changes(network, &[stored.ticket.product_id.as_str()])?;
    Ok(())
}

/// Inserts tickets of a network in one statement, in their order, and answers the productIds inserted: the first
/// of each productId not stored yet. `None`, inserting nothing, when the network limits its tickets (each create
/// must count them first: see [`create`]). The caller notes the changes of those it keeps.
pub(super) async fn insert_all(
    tx: &Tx<'_>,
    network: &NetworkId,
    tickets: &[&StoredTicket],
) -> std::result::Result<Option<HashSet<String>>, Failure> {
    let limits = super::limits::lock(tx, network).await?;
    if limits.of(Held::Tickets).is_some() {
        return Ok(None);
    }
    if tickets.is_empty() {
        return Ok(Some(HashSet::new()));
    }
    let rows = Columns::of(network, tickets)?;
    let statement = tx.prepare_cached(&inserts(tx, &rows).await?.all).await?;
    let inserted = tx.query(&statement, &rows.params()).await?;
    Ok(Some(inserted.iter().map(|row| row.get(0)).collect()))
}

/// What [`insert_alone`] did.
pub(super) enum Alone {
    /// Every ticket inserted, committed with the network's raised generation.
    Inserted,
    /// Nothing: the network limits its tickets, or has no limits row yet. The creates must run one by one, each
    /// under the limits row's lock ([`create`]).
    Limited,
}

/// Inserts tickets of a network and raises the network's generation with them, in one statement run on its own (its
/// own transaction, committed when it answers): one round trip for the whole run. It holds the network's limits row
/// with a share lock, which other creates share and a change of the limits waits for; it inserts nothing when the
/// network limits its tickets (or has no limits row yet, so no lock to take). A productId stored already, or twice
/// in the run, fails the statement, which then did nothing: the caller runs the creates as [`insert_all`] does,
/// which tells the first create of a productId from its duplicates. (Skipping them here instead, with `ON CONFLICT
/// DO NOTHING`, would cost every row a speculative insertion.)
pub(super) async fn insert_alone(
    db: &impl GenericClient,
    network: &NetworkId,
    tickets: &[&StoredTicket],
) -> std::result::Result<Alone, Failure> {
    if tickets.is_empty() {
        return Ok(Alone::Inserted);
    }
    let rows = Columns::of(network, tickets)?;
    let statement = db.prepare_cached(&inserts(db, &rows).await?.alone).await?;
    let network = network.as_str();
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![&network];
    params.extend(rows.params());
    let open: bool = db.query_one(&statement, &params).await?.get(0);
    Ok(if open { Alone::Inserted } else { Alone::Limited })
}

/// The statements that insert [`Columns`], built once (the schema is this binary's: a database with a newer one is
/// refused at open, so they are the same on every database it serves).
struct Inserts {
    /// [`insert_all`]'s: the rows from `$1` on; a later row with a productId already inserted by an earlier one is
    /// skipped like one already stored.
    all: String,
    /// [`insert_alone`]'s: the network `$1`, the rows from `$2` on; answers whether the network's tickets are open
    /// (a limits row without a ticket limit).
    alone: String,
}

/// [`Inserts`], built on first use: each array is typed as its column, read from a prepared `SELECT` of the columns.
async fn inserts(db: &impl GenericClient, rows: &Columns) -> std::result::Result<&'static Inserts, Failure> {
    static INSERTS: tokio::sync::OnceCell<Inserts> = tokio::sync::OnceCell::const_new();
    INSERTS
        .get_or_try_init(|| async {
            let names = rows.names.join(", ");
            let probe = db.prepare_cached(&format!("SELECT {names} FROM tickets LIMIT 0")).await?;
            let insert = |first: usize, filter: &str| {
                let arrays: Vec<String> = probe
                    .columns()
                    .iter()
                    .enumerate()
                    .map(|(i, c)| format!("${}::{}[]", first + i, c.type_().name()))
                    .collect();
                format!("INSERT INTO tickets ({names}) SELECT * FROM unnest({}) {filter}", arrays.join(", "))
            };
            let open = "EXISTS (SELECT 1 FROM lim WHERE max_tickets IS NULL)";
            Ok(Inserts {
                all: format!("{} ON CONFLICT DO NOTHING RETURNING product_id", insert(1, "")),
                alone: format!(
                    "WITH lim AS (SELECT max_tickets FROM network_limits WHERE network_id = $1 FOR SHARE), \
                     ins AS ({} RETURNING product_id), {} SELECT {open}",
                    insert(2, &format!("WHERE {open}")),
                    super::raise_sql(
                        "SELECT $1, 1 WHERE EXISTS (SELECT 1 FROM ins)",
                        "ARRAY(SELECT product_id FROM ins)"
                    ),
                ),
            })
        })
        .await
}

/// Tickets' rows as one array per column, sent as parameters of one `INSERT`.
struct Columns {
    names: Vec<&'static str>,
    cells: Vec<Vec<Cell>>,
}

impl Columns {
    fn of(network: &NetworkId, tickets: &[&StoredTicket]) -> Result<Columns> {
        let mut columns = Columns { names: Vec::new(), cells: Vec::new() };
        for ticket in tickets {
            for (i, (name, cell)) in ticket_row(network, ticket)?.into_iter().enumerate() {
                if i == columns.cells.len() {
                    columns.names.push(name);
                    columns.cells.push(Vec::with_capacity(tickets.len()));
                }
                columns.cells[i].push(cell);
            }
        }
        Ok(columns)
    }

    /// The arrays, in the columns' order.
    fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.cells.iter().map(|column| column as &(dyn ToSql + Sync)).collect()
    }
}

async fn update_ticket(
    tx: &Tx<'_>,
    network: &NetworkId,
    ticket: Ticket,
    expected: Option<i64>,
    actor: &crate::domain::ids::ActorId,
) -> std::result::Result<StoredTicket, Failure> {
    let id = ticket.product_id.clone();
    let current = find(tx, network, id.as_str(), Lock::Update).await?.ok_or_else(|| not_found(&id))?;
    check_version(expected, current.sys.version)?;
    let Some(stored) = current.replaced(ticket, actor)? else { return Ok(current) };
    update(tx, "tickets", KEY, &ticket_row(network, &current)?, &ticket_row(network, &stored)?).await?;
    record_changes(network, &[id.as_str()])?;
    Ok(stored)
}

async fn delete(tx: &Tx<'_>, network: &NetworkId, id: &ProductId) -> std::result::Result<(), Failure> {
    find(tx, network, id.as_str(), Lock::Update).await?.ok_or_else(|| not_found(id))?.check_deletable()?;
    tx.execute("DELETE FROM tickets WHERE network_id = $1 AND product_id = $2", &[&network.as_str(), &id.as_str()])
        .await?;
    record_changes(network, &[id.as_str()])?;
    Ok(())
}

/// The network's generation and the oldest one whose changes are still kept.
async fn generation(db: &impl GenericClient, network: &NetworkId) -> std::result::Result<(i64, i64), Failure> {
    let statement =
        db.prepare_cached("SELECT generation, kept_after FROM ticket_generations WHERE network_id = $1").await?;
    Ok(db.query_opt(&statement, &[&network.as_str()]).await?.map_or((0, 0), |r| (r.get(0), r.get(1))))
}

/// Every ticket of a network, by productId.
async fn all(tx: &Tx<'_>, network: &NetworkId) -> std::result::Result<Vec<StoredTicket>, Failure> {
    let statement = tx
        .prepare_cached(concat!(
            "SELECT ",
            ticket_columns!(),
            " FROM tickets WHERE network_id = $1 ORDER BY product_id"
        ))
        .await?;
    let rows = tx.query(&statement, &[&network.as_str()]).await?;
    Ok(rows.iter().map(|r| ticket_from(&Named(r))).collect::<Result<Vec<_>>>()?)
}

/// What changed since `since`, read in one [`snapshot!`]: the generation and the tickets agree.
async fn changes(tx: &Tx<'_>, network: &NetworkId, since: Option<u64>) -> std::result::Result<TicketChanges, Failure> {
    let (now, kept_after) = generation(tx, network).await?;
    let generation = now as u64;
    let since = match since {
        Some(since) if since == generation => return Ok(TicketChanges::Unchanged),
        Some(since) if since >= kept_after as u64 && since < generation => since as i64,
        _ => return Ok(TicketChanges::Whole { generation, tickets: all(tx, network).await? }),
    };
    let statement = tx
        .prepare_cached(
            "SELECT DISTINCT unnest(product_ids) AS product_id FROM ticket_change_sets \
             WHERE network_id = $1 AND generation > $2 ORDER BY product_id",
        )
        .await?;
    let changed: Vec<String> =
        tx.query(&statement, &[&network.as_str(), &since]).await?.iter().map(|r| r.get(0)).collect();
    // Each changed ticket as it is now, in one query; one that is not there any more was removed.
    let statement = tx
        .prepare_cached(concat!(
            "SELECT ",
            ticket_columns!(),
            " FROM tickets WHERE network_id = $1 AND product_id = ANY($2) ORDER BY product_id"
        ))
        .await?;
    let mut now = tx.query(&statement, &[&network.as_str(), &changed]).await?.into_iter().peekable();
    let mut changes = Vec::with_capacity(changed.len());
    for product in changed {
        let upserted = match now.next_if(|row| row.get::<_, &str>("product_id") == product) {
            Some(row) => Some(ticket_from(&Named(&row))?),
            None => None,
        };
        changes.push(match upserted {
            Some(t) => TicketChange::Upserted(Box::new(t)),
            None => TicketChange::Removed(ProductId::parse(&product).map_err(Error::Internal)?),
        });
    }
    Ok(TicketChanges::Changed { generation, changes })
}

/// Reads the tickets `ids` names under their row locks (taken in productId order, so that two edits never wait for
/// each other in a circle), and writes what `edit` makes of them.
async fn edit(
    tx: &Tx<'_>,
    network: &NetworkId,
    ids: &[ProductId],
    edit: &TicketEdit,
    actor: &crate::domain::ids::ActorId,
) -> std::result::Result<Vec<StoredTicket>, Failure> {
    let mut sorted: Vec<&ProductId> = ids.iter().collect();
    sorted.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    let mut locked = HashMap::new();
    for id in sorted {
        let ticket = find(tx, network, id.as_str(), Lock::Update).await?.ok_or_else(|| not_found(id))?;
        locked.insert(id.as_str(), ticket);
    }
    let current: Vec<StoredTicket> = ids.iter().filter_map(|id| locked.remove(id.as_str())).collect();
    let mut written = Vec::new();
    for write in edit(&current)? {
        written.push(match write {
            TicketWrite::Replace(ticket) => update_ticket(tx, network, ticket, None, actor).await?,
            TicketWrite::Create(ticket) => {
                let stored = StoredTicket { ticket, sold: 0, sys: Sys::new(actor) };
                create(tx, network, &stored).await?;
                stored
            }
        });
    }
    Ok(written)
}

#[async_trait]
impl Tickets for PostgresStore {
    async fn edit_tickets(
        &self,
        scope: &NetworkScope,
        ids: Vec<ProductId>,
        change: TicketEdit,
    ) -> Result<Vec<StoredTicket>> {
        let scope = scope.clone();
        write!(self, (scope, ids, change), |tx| edit(tx, scope.network(), &ids, &change, scope.actor()).await)
    }

    async fn create_ticket(&self, scope: &NetworkScope, ticket: Ticket) -> Result<StoredTicket> {
        let stored = StoredTicket { ticket, sold: 0, sys: Sys::new(scope.actor()) };
        self.writer.create_ticket(scope.network().clone(), stored).await
    }

    async fn update_ticket(&self, scope: &NetworkScope, ticket: Ticket, expected: Option<i64>) -> Result<StoredTicket> {
        let (scope, row) = (scope.clone(), locked_row(&ticket.product_id));
        write!(self, locking row, (scope, ticket), |tx| {
            update_ticket(tx, scope.network(), ticket, expected, scope.actor()).await
        })
    }

    async fn delete_ticket(&self, scope: &NetworkScope, id: &ProductId) -> Result<()> {
        let (scope, id) = (scope.clone(), id.clone());
        write!(self, locking locked_row(&id), (scope, id), |tx| delete(tx, scope.network(), &id).await)
    }

    async fn ticket(&self, scope: &NetworkScope, id: &ProductId) -> Result<StoredTicket> {
        // One statement: on a connection of the pool, without a transaction around it.
        let db = self.client().await?;
        find(&db, scope.network(), id.as_str(), Lock::None).await?.ok_or_else(|| not_found(id))
    }

    /// Asked before every ticket list: one statement, one round trip.
    async fn ticket_generation(&self, scope: &NetworkScope) -> Result<u64> {
        let db = self.client().await?;
        Ok(generation(&db, scope.network()).await?.0 as u64)
    }

    async fn ticket_changes(&self, scope: &NetworkScope, since: Option<u64>) -> Result<TicketChanges> {
        snapshot!(self, |tx| changes(&tx, scope.network(), since).await)
    }
}
