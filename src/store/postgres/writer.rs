//! Group commit on PostgreSQL: the writes of many calls in one transaction, as the SQLite store's writer does.
//!
//! A write is queued, and a writer task takes every write waiting (up to [`MAX_GROUP`]) into one transaction, each
//! in a savepoint of its own: a write that fails is rolled back to its savepoint alone and answered with its error;
//! the others are answered once the one commit has made them durable. One commit, one WAL flush, and one hold of
//! the rows every write of a network locks (its ticket generation, its registration total) carry the whole group,
//! where a transaction per call would wait for those rows and flush the WAL once per call.
//!
//! A write that PostgreSQL could not serialize, or chose as the victim of a deadlock (two servers' groups locking
//! the same tickets in another order), is rolled back to its savepoint and run again in a later group; a write is
//! a function of the transaction it runs in, so running it again is running it on the database as it is then.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use super::{Failure, Tx, internal, retryable};
use crate::domain::ids::NetworkId;
use crate::domain::limits::NetworkLimits;
use crate::error::{Error, Result};
use crate::store::CALL_DEADLINE;

/// Most writes one transaction takes.
pub const MAX_GROUP: usize = 256;

/// How many writer tasks (each with a connection of its own while it commits) take groups at once.
pub const WRITERS: usize = 4;

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
/// answer.
macro_rules! write {
    ($store:expr, ($scope:ident $(, $capture:ident)*), |$tx:ident| $body:expr) => {
        $store
            .writer
            .write($scope.network().clone(), $crate::store::postgres::writer::body(move |$tx| {
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
    fn network(&self) -> &str;
    /// Whether its caller is gone (out of time, or disconnected): a write not begun is then not run at all, as
    /// the SQLite store's writer does.
    fn abandoned(&self) -> bool;
}

/// What a write does, given the transaction: a function that can run again (its inputs are its own).
pub type Body<T> = Box<dyn for<'t> Fn(&'t Tx<'t>) -> BoxFuture<'t, std::result::Result<T, Failure>> + Send + Sync>;

struct Queued<T> {
    body: Body<T>,
    kept: Option<T>,
    reply: oneshot::Sender<Result<T>>,
    attempts: usize,
    /// When the call that queued it runs out of time ([`CALL_DEADLINE`]).
    deadline: Option<std::time::Instant>,
    network: String,
}

impl<T: Send + 'static> Write for Queued<T> {
    fn run<'t>(&'t mut self, tx: &'t Tx<'t>) -> BoxFuture<'t, std::result::Result<(), Failure>> {
        Box::pin(async move {
            self.kept = Some((self.body)(tx).await?);
            Ok(())
        })
    }

    fn answer(self: Box<Self>, outcome: Result<()>) {
        let Queued { kept, reply, .. } = *self;
        let answer = outcome.and_then(|()| kept.ok_or_else(|| Error::Internal("a write without its answer".into())));
        let _ = reply.send(answer);
    }

    fn again(&mut self) -> bool {
        self.attempts += 1;
        self.attempts < ATTEMPTS
    }

    fn network(&self) -> &str {
        &self.network
    }

    fn abandoned(&self) -> bool {
        self.reply.is_closed() || self.deadline.is_some_and(|d| std::time::Instant::now() >= d)
    }
}

/// The queue of writes, and the tasks that commit them.
pub struct Writer {
    queue: mpsc::UnboundedSender<Box<dyn Write>>,
    tasks: Vec<tokio::task::AbortHandle>,
}

impl Writer {
    /// Starts the writer tasks on `pool`; `committed` is told of each commit and the writes it carried.
    pub fn start(pool: deadpool_postgres::Pool, committed: Arc<dyn Fn(usize) + Send + Sync>) -> Writer {
        let (queue, receiver) = mpsc::unbounded_channel();
        let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
        let tasks = (0..WRITERS)
            .map(|_| {
                let (pool, receiver, queue, committed) =
                    (pool.clone(), receiver.clone(), queue.clone(), committed.clone());
                tokio::spawn(async move {
                    loop {
                        // One writer gathers a group while the others commit theirs.
                        let group = {
                            let mut receiver = receiver.lock().await;
                            let Some(first) = receiver.recv().await else { return };
                            let mut group = vec![first];
                            while group.len() < MAX_GROUP {
                                match receiver.try_recv() {
                                    Ok(write) => group.push(write),
                                    Err(_) => break,
                                }
                            }
                            group
                        };
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
        Writer { queue, tasks }
    }

    /// Queues a write and waits for its answer, given once the group it ran in has committed.
    pub async fn write<T: Send + 'static>(&self, network: NetworkId, body: Body<T>) -> Result<T> {
        let (reply, answer) = oneshot::channel();
        let deadline = CALL_DEADLINE.try_with(|d| *d).ok();
        let network = network.as_str().to_owned();
        let queued = Box::new(Queued { body, kept: None, reply, attempts: 0, deadline, network });
        self.queue.send(queued).map_err(|_| Error::Internal("the store is closed".into()))?;
        answer.await.map_err(|_| Error::Internal("the store closed before the write was done".into()))?
    }

    /// Stops the writer tasks (writes still queued are answered with an error when their callers' channels drop).
    pub fn stop(&self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Runs a group in one transaction, each write in a savepoint; answers the writes that are done (kept ones after
/// the commit) and hands back those to run again.
async fn commit(
    pool: &deadpool_postgres::Pool,
    mut group: Vec<Box<dyn Write>>,
    committed: &(dyn Fn(usize) + Send + Sync),
) -> Vec<Box<dyn Write>> {
    // Every group takes the rows its networks share (the limits row) in one order, so two groups running at once
    // never wait for each other in a circle.
    group.sort_by(|a, b| a.network().cmp(b.network()));
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
    let (mut kept, mut again) = (Vec::with_capacity(group.len()), Vec::new());
    let (mut held, mut changed) = (HashMap::new(), Vec::new());
    for mut write in group {
        if write.abandoned() {
            write.answer(Err(Error::TimedOut));
            continue;
        }
        let running = Arc::new(Running { held: held.clone(), notes: Mutex::new(Notes::default()) });
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
                let notes = std::mem::take(&mut *running.notes.lock().unwrap_or_else(|e| e.into_inner()));
                held.extend(notes.limits);
                changed.extend(notes.changed);
                kept.push(write);
            }
            Err(Failure::Db(e)) if retryable(&e) && write.again() => again.push(write),
            Err(failure) => write.answer(Err(failure.into())),
        }
    }
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
