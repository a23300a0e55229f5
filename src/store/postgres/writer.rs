//! Group commit on PostgreSQL: the writes of many calls in one transaction, as the SQLite store's writer does.
//!
//! A write is queued, and a writer task takes every write waiting (up to [`MAX_GROUP`]) into one transaction, each
//! in a savepoint of its own: a write that fails is rolled back to its savepoint alone and answered with its error;
//! the others are answered once the one commit has made them durable. One commit, one WAL flush, and one hold of
//! the rows every write of a network locks (its ticket generation, its registration total) carry the whole group,
//! where a transaction per call would wait for those rows and flush the WAL once per call.
//!
//! Ticket creates of one network next to each other in a group are inserted by one statement (in one savepoint),
//! each answered as it would be alone; where the network limits its tickets, or that statement fails, they run one
//! by one.
//!
//! **Creates alone.** A group of nothing but ticket creates (a script provisioning an event, an import) needs no
//! transaction around it: each network's creates are one statement that takes the network's limits row with a share
//! lock, inserts them, and raises the network's generation with their change set
//! ([`insert_alone`](super::ticket::insert_alone)), committed on its own, one round trip. Where it cannot (the
//! network limits its tickets, a productId is a duplicate, the statement failed), nothing was written and the creates
//! run in a transaction as above. The writer that took such a group gathers the next one only once it is committed,
//! so the creates queued meanwhile make one statement: two writers would take them in small groups, each waiting on
//! the other's commit for the network's generation row (`ticket.create` on PostgreSQL: 7 calls a commit and 29 to 35
//! µs of PostgreSQL's CPU a call with two, 13 and 18 µs with one).
//!
//! **One lock order.** Two groups run at once (one is run while the other's commit is flushed), so they must never wait
//! for each other in a circle: PostgreSQL finds a deadlock only after its `deadlock_timeout` (a second), and the group
//! it chose then waits that second and runs the write again in a later group. Groups that ran their writes in the order
//! they came did so whenever they updated the same tickets in other orders (the load benchmark's `ticket.update`, 32
//! connections on 100 tickets: 250 to 370 calls a second, p99 of one to two seconds, four to six deadlocks in its five
//! seconds). So a group runs its writes in one order: by network; within one, first the writes that name no row of
//! their own ([`Write::row`]: creates, which lock the network's limits row, and writes whose rows are known only as
//! they run), then those that lock one ticket's or one record's row first, by that row; the generation rows last, by
//! network. The sort is stable, so the writes of one row keep their order (two updates of a ticket with `sysVersion`
//! depend on it). Writes of other rows have no order among them to keep: they are concurrent calls, none answered
//! before the others were queued. A write that locks more than the row it names (an edit of several tickets; a
//! registration change that moves a seat or counts a status) can still meet another group in a circle, which PostgreSQL
//! breaks as below.
//!
//! A write that PostgreSQL could not serialize, or chose as the victim of a deadlock (two servers' groups locking
//! the same tickets in another order, or a circle the order above leaves open), is rolled back to its savepoint
//! and run again in a later group; a write is a function of the transaction it runs in, so running it again is
//! running it on the database as it is then.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use super::ticket::Alone;
use super::{Failure, Tx, internal, retryable};
use crate::domain::ids::NetworkId;
use crate::domain::limits::NetworkLimits;
use crate::domain::ticket::StoredTicket;
use crate::error::{Conflict, Error, Result};
use crate::store::CALL_DEADLINE;

/// Most writes one transaction takes.
pub const MAX_GROUP: usize = 256;

/// How many writer tasks (each with a connection of its own while it commits) take groups at once: one gathers and
/// runs a group while the other waits for its commit to be flushed. More make smaller groups that wait on each
/// other's network rows; one leaves the writes waiting through every flush (`ticket.create`, before creates ran
/// alone, measured 4,000, 5,600 and 5,000 calls a second with 4, 2 and 1).
pub const WRITERS: usize = 2;

/// How many times a write is run again after PostgreSQL could not serialize it.
const ATTEMPTS: usize = 8;

/// What a write leaves to its group, taken in only if the write is kept (a write rolled back to its savepoint
/// released its locks and changed nothing).
#[derive(Debug, Default)]
pub(super) struct Notes {
    /// Networks whose limits row the write locked, with the limits read under the lock.
    pub limits: Vec<(String, NetworkLimits)>,
    /// Tickets the write changed, by network.
    pub changed: Vec<(String, String)>,
}

/// The write being run, and what its group holds already.
struct Running {
    /// The limits rows the group's kept writes locked: the locks are the transaction's until the commit.
    held: HashMap<String, NetworkLimits>,
    notes: Mutex<Notes>,
}

tokio::task_local! {
    static RUNNING: Arc<Running>;
}

/// Adds to the notes of the write being run; an internal error outside a writer's group.
pub(super) fn note(add: impl FnOnce(&mut Notes)) -> std::result::Result<(), Failure> {
    RUNNING
        .try_with(|running| running.notes.lock().map(|mut notes| add(&mut notes)).is_ok())
        .ok()
        .filter(|noted| *noted)
        .map(|_| ())
        .ok_or_else(|| Failure::Rule(Error::Internal("a write outside the writer's group".into())))
}

/// The limits of a network whose row the group holds locked already, if it does.
pub(super) fn held_limits(network: &NetworkId) -> Option<NetworkLimits> {
    RUNNING.try_with(|running| running.held.get(network.as_str()).copied()).ok().flatten()
}

/// Makes a [`Body`] of a closure (where the closure's signature is inferred).
pub fn body<T, F>(f: F) -> Body<T>
where
    F: for<'t> Fn(&'t Tx<'t>) -> BoxFuture<'t, std::result::Result<T, Failure>> + Send + Sync + 'static,
{
    Box::new(f)
}

/// Queues the write `$body` (using the transaction `$tx` and owned copies of the `$scope` and the `$capture`d
/// values, made afresh for each run) on `$store`'s writer, as a write of the scope's network, and waits for its
/// answer. With `locking $row`, the write first locks the row `$row` names (see [`Write::row`]), by which its group
/// orders it.
macro_rules! write {
    ($store:expr, ($scope:ident $(, $capture:ident)*), |$tx:ident| $body:expr) => {
        $crate::store::postgres::writer::write!($store, locking None, ($scope $(, $capture)*), |$tx| $body)
    };
    ($store:expr, locking $row:expr, ($scope:ident $(, $capture:ident)*), |$tx:ident| $body:expr) => {
        $store
            .writer
            .write($scope.network().clone(), $row, $crate::store::postgres::writer::body(move |$tx| {
                let $scope = $scope.clone();
                $(let $capture = $capture.clone();)*
                Box::pin(async move { $body })
            }))
            .await
    };
}
pub(crate) use write;

/// A queued write, its answer kept until the commit.
trait Write: Send {
    /// Runs the write in `tx`, keeping its answer.
    fn run<'t>(&'t mut self, tx: &'t Tx<'t>) -> BoxFuture<'t, std::result::Result<(), Failure>>;
    /// Answers the caller: the kept answer when `outcome` is `Ok`, else the error.
    fn answer(self: Box<Self>, outcome: Result<()>);
    /// Counts an attempt; whether another is allowed.
    fn again(&mut self) -> bool;
    /// The network it writes in.
    fn network(&self) -> &NetworkId;
    /// The row of its network it locks first and mostly alone (a ticket's, a record's), named so that its group
    /// orders the writes of a network by it; `None` for a write that locks the network's own rows (its limits
    /// row) or rows it cannot name before it runs, which its group runs first.
    fn row(&self) -> Option<&str>;
    /// Whether its caller is gone (out of time, or disconnected): a write not begun is then not run at all, as
    /// the SQLite store's writer does.
    fn abandoned(&self) -> bool;
    /// The ticket it creates, when it is a ticket create that its group may insert together with others.
    fn created_ticket(&self) -> Option<&StoredTicket> {
        None
    }
    /// Keeps the ticket as its answer, once inserted together with others.
    fn keep_created(&mut self) {}
}

/// What a write does, given the transaction: a function that can run again (its inputs are its own).
pub type Body<T> = Box<dyn for<'t> Fn(&'t Tx<'t>) -> BoxFuture<'t, std::result::Result<T, Failure>> + Send + Sync>;

/// What every queued write keeps: where its answer goes, and what its group orders and retries it by.
struct Pending<T> {
    reply: oneshot::Sender<Result<T>>,
    attempts: usize,
    /// When the call that queued it runs out of time ([`CALL_DEADLINE`]).
    deadline: Option<std::time::Instant>,
    network: NetworkId,
    row: Option<String>,
}

impl<T> Pending<T> {
    /// A write of `network` that locks `row` first, and where its answer comes.
    fn new(network: NetworkId, row: Option<String>) -> (Pending<T>, oneshot::Receiver<Result<T>>) {
        let (reply, answer) = oneshot::channel();
        let deadline = CALL_DEADLINE.try_with(|d| *d).ok();
        (Pending { reply, attempts: 0, deadline, network, row }, answer)
    }

    /// Answers: the write's result when `outcome` is `Ok` and it made one.
    fn answer(self, outcome: Result<()>, made: Option<T>) {
        let answer = outcome.and_then(|()| made.ok_or_else(|| Error::Internal("a write without its answer".into())));
        let _ = self.reply.send(answer);
    }

    fn again(&mut self) -> bool {
        self.attempts += 1;
        self.attempts < ATTEMPTS
    }

    fn abandoned(&self) -> bool {
        self.reply.is_closed() || self.deadline.is_some_and(|d| std::time::Instant::now() >= d)
    }
}

/// A write whose body makes its answer.
struct Queued<T> {
    pending: Pending<T>,
    body: Body<T>,
    kept: Option<T>,
}

impl<T: Send + 'static> Write for Queued<T> {
    fn run<'t>(&'t mut self, tx: &'t Tx<'t>) -> BoxFuture<'t, std::result::Result<(), Failure>> {
        Box::pin(async move {
            self.kept = Some((self.body)(tx).await?);
            Ok(())
        })
    }

    fn answer(self: Box<Self>, outcome: Result<()>) {
        self.pending.answer(outcome, self.kept)
    }

    fn again(&mut self) -> bool {
        self.pending.again()
    }

    fn network(&self) -> &NetworkId {
        &self.pending.network
    }

    fn row(&self) -> Option<&str> {
        self.pending.row.as_deref()
    }

    fn abandoned(&self) -> bool {
        self.pending.abandoned()
    }
}

/// A ticket create: queued with its ticket, so that its group can insert it together with others; answered with
/// that ticket once inserted.
struct Create {
    pending: Pending<StoredTicket>,
    ticket: StoredTicket,
    inserted: bool,
}

impl Write for Create {
    fn run<'t>(&'t mut self, tx: &'t Tx<'t>) -> BoxFuture<'t, std::result::Result<(), Failure>> {
        Box::pin(async move {
            super::ticket::create(tx, &self.pending.network, &self.ticket).await?;
            self.inserted = true;
            Ok(())
        })
    }

    fn answer(self: Box<Self>, outcome: Result<()>) {
        let Create { pending, ticket, inserted } = *self;
        pending.answer(outcome, inserted.then_some(ticket))
    }

    fn again(&mut self) -> bool {
        self.pending.again()
    }

    fn network(&self) -> &NetworkId {
        &self.pending.network
    }

    fn row(&self) -> Option<&str> {
        self.pending.row.as_deref()
    }

    fn abandoned(&self) -> bool {
        self.pending.abandoned()
    }

    fn created_ticket(&self) -> Option<&StoredTicket> {
        Some(&self.ticket)
    }

    fn keep_created(&mut self) {
        self.inserted = true;
    }
}

/// The queue of writes, and the tasks that commit them.
pub struct Writer {
    queue: mpsc::UnboundedSender<Box<dyn Write>>,
    tasks: Vec<tokio::task::AbortHandle>,
    /// The writer's own connections, one per task.
    pub(super) pool: deadpool_postgres::Pool,
}

impl Writer {
    /// Starts the writer tasks on `pool` (of their own, [`WRITERS`] connections); `committed` is told of each
    /// commit and the writes it carried.
    pub fn start(pool: deadpool_postgres::Pool, committed: Arc<dyn Fn(usize) + Send + Sync>) -> Writer {
        let (queue, receiver) = mpsc::unbounded_channel::<Box<dyn Write>>();
        let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
        let tasks = (0..WRITERS)
            .map(|_| {
                let (pool, receiver, queue, committed) =
                    (pool.clone(), receiver.clone(), queue.clone(), committed.clone());
                tokio::spawn(async move {
                    loop {
                        // One writer gathers a group while the others commit theirs.
                        let mut receiver = receiver.lock().await;
                        let Some(first) = receiver.recv().await else { return };
                        let mut group = vec![first];
                        while group.len() < MAX_GROUP {
                            match receiver.try_recv() {
                                Ok(write) => group.push(write),
                                Err(_) => break,
                            }
                        }
                        // Ticket creates alone are committed before the next group is gathered: the creates queued
                        // meanwhile then make one group, where a second writer would take them as soon as they came,
                        // in small groups that wait for each other's commit on the network's generation row.
                        if group.iter().all(|write| write.created_ticket().is_some()) {
                            let creating = AssertUnwindSafe(create_alone(&pool, group, committed.as_ref()));
                            let Ok(rest) = creating.catch_unwind().await else {
                                tracing::error!("a ticket create panicked; its group was not run");
                                continue;
                            };
                            group = rest;
                        }
                        drop(receiver);
                        if group.is_empty() {
                            continue;
                        }
                        // A write that panics ends its group (its callers are told the store closed), not the task.
                        let committing = AssertUnwindSafe(commit(&pool, group, committed.as_ref())).catch_unwind();
                        let Ok(again) = committing.await else {
                            tracing::error!("a write panicked; its group was rolled back");
                            continue;
                        };
                        for write in again {
                            // Run again in a later group (the queue outlives the writers, which hold it).
                            let _ = queue.send(write);
                        }
                    }
                })
                .abort_handle()
            })
            .collect();
        Writer { queue, tasks, pool }
    }

    /// Queues a write that locks `row` first (see [`Write::row`]) and waits for its answer, given once the group it
    /// ran in has committed.
    pub async fn write<T: Send + 'static>(&self, network: NetworkId, row: Option<String>, body: Body<T>) -> Result<T> {
        let (pending, answer) = Pending::new(network, row);
        self.queue(Box::new(Queued { pending, body, kept: None }), answer).await
    }

    /// Queues the create of `ticket` and waits for its answer.
    pub async fn create_ticket(&self, network: NetworkId, ticket: StoredTicket) -> Result<StoredTicket> {
        // A create locks the network's limits row: it runs with the writes that name no row of their own.
        let (pending, answer) = Pending::new(network, None);
        self.queue(Box::new(Create { pending, ticket, inserted: false }), answer).await
    }

    async fn queue<T>(&self, write: Box<dyn Write>, answer: oneshot::Receiver<Result<T>>) -> Result<T> {
        self.queue.send(write).map_err(|_| Error::Internal("the store is closed".into()))?;
        answer.await.map_err(|_| Error::Internal("the store closed before the write was done".into()))?
    }

    /// Stops the writer tasks (writes still queued are answered with an error when their callers' channels drop).
    pub fn stop(&self) {
        for task in &self.tasks {
            task.abort();
        }
        self.pool.close();
    }
}

/// What a group has done so far: its kept writes (answered after the commit), those to run again in a later
/// group, and what the kept ones left to it.
#[derive(Default)]
struct Done {
    /// The limits rows the kept writes locked: the locks are the transaction's until the commit.
    held: HashMap<String, NetworkLimits>,
    /// The tickets the kept writes changed, by network.
    changed: Vec<(String, String)>,
    kept: Vec<Box<dyn Write>>,
    again: Vec<Box<dyn Write>>,
}

impl Done {
    fn running(&self) -> Arc<Running> {
        Arc::new(Running { held: self.held.clone(), notes: Mutex::new(Notes::default()) })
    }

    /// Takes in the notes of what was kept.
    fn noted(&mut self, running: &Running) {
        let notes = std::mem::take(&mut *running.notes.lock().unwrap_or_else(|e| e.into_inner()));
        self.held.extend(notes.limits);
        self.changed.extend(notes.changed);
    }
}

/// Runs a group in one transaction, each write in a savepoint (a run of ticket creates of one network in one);
/// answers the writes that are done (kept ones after the commit) and hands back those to run again.
async fn commit(
    pool: &deadpool_postgres::Pool,
    mut group: Vec<Box<dyn Write>>,
    committed: &(dyn Fn(usize) + Send + Sync),
) -> Vec<Box<dyn Write>> {
    in_lock_order(&mut group);
    let fail_all = |group: Vec<Box<dyn Write>>, error: Error| {
        let message = error.to_string();
        for write in group {
            write.answer(Err(Error::Internal(message.clone())));
        }
    };
    let mut client = match pool.get().await {
        Ok(client) => client,
        Err(e) => {
            fail_all(group, Error::Internal(format!("postgres pool: {e}")));
            return Vec::new();
        }
    };
    let mut tx = match client.transaction().await {
        Ok(tx) => tx,
        Err(e) => {
            fail_all(group, internal(&e));
            return Vec::new();
        }
    };
    let mut done = Done::default();
    for mut run_of in runs(group) {
        match run_of.len() {
            1 => run(&mut tx, &mut done, run_of.remove(0)).await,
            _ => create_tickets(&mut tx, &mut done, run_of).await,
        }
    }
    let Done { changed, kept, mut again, .. } = done;
    if kept.is_empty() {
        let _ = tx.rollback().await;
        return again;
    }
    let committing = match super::raise_generations(&tx, changed).await {
        Ok(()) => tx.commit().await,
        Err(e) => Err(e),
    };
    match committing {
        Ok(()) => {
            committed(kept.len());
            for write in kept {
                write.answer(Ok(()));
            }
        }
        Err(e) if retryable(&e) => {
            for mut write in kept {
                match write.again() {
                    true => again.push(write),
                    false => write.answer(Err(internal(&e))),
                }
            }
        }
        Err(e) => fail_all(kept, internal(&e)),
    }
    again
}

/// Puts a group's writes in the order that takes their row locks in one order (see the module's doc), so two groups
/// running at once never wait for each other in a circle: by network, then the writes that name no row (those that
/// lock the network's limits row among them), then by the row each locks. The sort is stable: writes of one row
/// keep their order.
fn in_lock_order<W: Write + ?Sized>(group: &mut [Box<W>]) {
    group.sort_by(|a, b| (a.network().as_str(), a.row()).cmp(&(b.network().as_str(), b.row())));
}

/// The writes to run, in their order, each alone but for ticket creates of one network next to each other, which
/// make one run. A write whose caller is gone is answered (for whoever still listens) and left out.
fn runs(group: Vec<Box<dyn Write>>) -> Vec<Vec<Box<dyn Write>>> {
    let mut runs: Vec<Vec<Box<dyn Write>>> = Vec::new();
    for write in group {
        if write.abandoned() {
            write.answer(Err(Error::TimedOut));
            continue;
        }
        let joins = |last: &Vec<Box<dyn Write>>| {
            last.last().is_some_and(|l| {
                l.created_ticket().is_some() && write.created_ticket().is_some() && l.network() == write.network()
            })
        };
        match runs.last_mut() {
            Some(last) if joins(last) => last.push(write),
            _ => runs.push(vec![write]),
        }
    }
    runs
}

/// Runs one write in a savepoint of its own.
async fn run(tx: &mut Tx<'_>, done: &mut Done, mut write: Box<dyn Write>) {
    let running = done.running();
    let outcome = match tx.savepoint("write").await {
        Ok(savepoint) => match RUNNING.scope(running.clone(), write.run(&savepoint)).await {
            Ok(()) => savepoint.commit().await.map_err(Failure::Db),
            Err(failure) => {
                let _ = savepoint.rollback().await;
                Err(failure)
            }
        },
        Err(e) => Err(Failure::Db(e)),
    };
    match outcome {
        Ok(()) => {
            done.noted(&running);
            done.kept.push(write);
        }
        Err(Failure::Db(e)) if retryable(&e) && write.again() => done.again.push(write),
        Err(failure) => write.answer(Err(failure.into())),
    }
}

/// Runs ticket creates of one network, in their order, as one INSERT in one savepoint: each answered as it would
/// be alone (the first of two with one productId is created, the other is a duplicate). Where the network limits
/// its tickets (each create then counts them first), or the INSERT fails, they run one by one instead.
async fn create_tickets(tx: &mut Tx<'_>, done: &mut Done, creates: Vec<Box<dyn Write>>) {
    let network = creates[0].network().clone();
    let network = &network;
    let running = done.running();
    // `None` when the savepoint was rolled back (nothing it did, its notes included, is kept).
    let released = match tx.savepoint("creates").await {
        Ok(savepoint) => {
            let tickets: Vec<&StoredTicket> = creates.iter().filter_map(|w| w.created_ticket()).collect();
            match RUNNING.scope(running.clone(), super::ticket::insert_all(&savepoint, network, &tickets)).await {
                Ok(inserted) => savepoint.commit().await.ok().map(|()| inserted),
                Err(_) => {
                    let _ = savepoint.rollback().await;
                    None
                }
            }
        }
        Err(_) => None,
    };
    if released.is_some() {
        done.noted(&running);
    }
    let Some(Some(mut inserted)) = released else {
        for write in creates {
            run(tx, done, write).await;
        }
        return;
    };
    for mut write in creates {
        let product = write.created_ticket().map(|t| t.ticket.product_id.clone());
        match product {
            // Taken out of the set: a second create of the same productId in the run is a duplicate.
            Some(product) if inserted.remove(product.as_str()) => {
                write.keep_created();
                done.changed.push((network.as_str().to_owned(), product.as_str().to_owned()));
                done.kept.push(write);
            }
            Some(product) => {
                write.answer(Err(Conflict::Duplicate { resource: "ticket", id: product.to_string() }.into()))
            }
            None => write.answer(Err(Error::Internal("a ticket create without its ticket".into()))),
        }
    }
}

/// Runs a group of ticket creates alone: each network's run of them as one statement that also raises the network's
/// generation ([`insert_alone`](super::ticket::insert_alone)), committed on its own, the statements of all networks
/// sent at once. Answers the creates done; hands back those still to run in a transaction, one by one (a run whose
/// network limits its tickets, or whose statement failed and so did nothing).
async fn create_alone(
    pool: &deadpool_postgres::Pool,
    mut group: Vec<Box<dyn Write>>,
    committed: &(dyn Fn(usize) + Send + Sync),
) -> Vec<Box<dyn Write>> {
    // Without a connection, they are handed back, to be answered as any write is then.
    let Ok(db) = pool.get().await else { return group };
    let db = &db;
    in_lock_order(&mut group);
    let runs = runs(group);
    let tickets: Vec<Vec<&StoredTicket>> =
        runs.iter().map(|run| run.iter().filter_map(|w| w.created_ticket()).collect()).collect();
    let statements =
        runs.iter().zip(&tickets).map(|(run, tickets)| super::ticket::insert_alone(db, run[0].network(), tickets));
    let outcomes = futures_util::future::join_all(statements).await;
    let mut rest = Vec::new();
    for (run, outcome) in runs.into_iter().zip(outcomes) {
        match outcome {
            Ok(Alone::Inserted) => {
                committed(run.len());
                for mut write in run {
                    write.keep_created();
                    write.answer(Ok(()));
                }
            }
            Ok(Alone::Limited) | Err(_) => rest.extend(run),
        }
    }
    rest
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A write that is only ordered, never run.
    struct Placed {
        network: NetworkId,
        row: Option<String>,
        arrived: usize,
    }

    impl Write for Placed {
        fn run<'t>(&'t mut self, _: &'t Tx<'t>) -> BoxFuture<'t, std::result::Result<(), Failure>> {
            Box::pin(async { Ok(()) })
        }
        fn answer(self: Box<Self>, _: Result<()>) {}
        fn again(&mut self) -> bool {
            false
        }
        fn network(&self) -> &NetworkId {
            &self.network
        }
        fn row(&self) -> Option<&str> {
            self.row.as_deref()
        }
        fn abandoned(&self) -> bool {
            false
        }
    }

    #[test]
    fn a_group_runs_by_network_then_the_writes_naming_no_row_then_by_row_keeping_each_rows_order() {
        let arrivals = [("b", Some("ticket x")), ("a", Some("ticket z")), ("a", None), ("a", Some("ticket y"))];
        let arrivals = arrivals.iter().chain(&[("a", None), ("a", Some("ticket y")), ("a", Some("ticket x"))]);
        let mut group: Vec<Box<Placed>> = arrivals
            .enumerate()
            .map(|(arrived, (network, row))| {
                let network = NetworkId::parse(network).expect("a network id");
                Box::new(Placed { network, row: row.map(str::to_owned), arrived })
            })
            .collect();
        in_lock_order(&mut group);
        let order: Vec<usize> = group.iter().map(|w| w.arrived).collect();
        assert_eq!(order, [2, 4, 6, 3, 5, 1, 0]);
    }
}
