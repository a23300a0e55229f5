//! The SQLite store: opening (lock, pragmas, migrations), the one writer thread, and the read-only readers. The only
//! module of the server that names `rusqlite`, SQL or a column; it implements [`Store`](super::Store).
//!
//! No SQLite call runs on an async worker thread. Writes are closures sent to the writer thread, which owns the
//! only write connection; reads are closures run by a few reader threads, each owning a read-only connection.
//!
//! **Group commit.** The writer takes every write that is queued when it wakes up (up to [`MAX_GROUP`]) and runs
//! them in one transaction, each inside its own savepoint: a call that fails rolls back its savepoint only, so it
//! never fails its neighbours. Replies are held until the transaction's `COMMIT` returns, so an acknowledged write
//! is durable (with `synchronous=FULL`, also across power loss). Under load one fsync serves many calls; a lone
//! call pays exactly one, as it would without grouping.

/// Implements [`Records`](crate::store::Records) for `$kind` by the functions of the calling module: `create`,
/// `get`, `replace`, `delete` (each on a connection, within one network), its `LISTED` and its `column` of a key.
macro_rules! record_store {
    ($kind:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::Records<$kind> for $crate::store::SqliteStore {
            async fn create(
                &self,
                scope: &$crate::auth::NetworkScope,
                record: <$kind as $crate::store::RecordKind>::Record,
            ) -> $crate::error::Result<<$kind as $crate::store::RecordKind>::Stored> {
                let (network, actor) = (scope.network().clone(), scope.actor().clone());
                self.write(move |c| create(c, &network, record, &actor)).await
            }

            async fn get(
                &self,
                scope: &$crate::auth::NetworkScope,
                id: &$crate::domain::ids::RecordId<<$kind as $crate::store::RecordKind>::Record>,
            ) -> $crate::error::Result<<$kind as $crate::store::RecordKind>::Stored> {
                let (network, id) = (scope.network().clone(), id.clone());
                self.read(move |c| get(c, &network, id.as_str())).await
            }

            async fn replace(
                &self,
                scope: &$crate::auth::NetworkScope,
                id: &$crate::domain::ids::RecordId<<$kind as $crate::store::RecordKind>::Record>,
                record: <$kind as $crate::store::RecordKind>::Record,
                expected: Option<i64>,
            ) -> $crate::error::Result<<$kind as $crate::store::RecordKind>::Stored> {
                let (network, actor, id) = (scope.network().clone(), scope.actor().clone(), id.clone());
                self.write(move |c| replace(c, &network, id.as_str(), record, expected, &actor)).await
            }

            async fn change(
                &self,
                scope: &$crate::auth::NetworkScope,
                id: &$crate::domain::ids::RecordId<<$kind as $crate::store::RecordKind>::Record>,
                expected: Option<i64>,
                change: $crate::store::Change<
                    <$kind as $crate::store::RecordKind>::Stored,
                    <$kind as $crate::store::RecordKind>::Record,
                >,
            ) -> $crate::error::Result<<$kind as $crate::store::RecordKind>::Stored> {
                let (network, actor, id) = (scope.network().clone(), scope.actor().clone(), id.clone());
                self.write(move |c| {
                    let next = change(&get(c, &network, id.as_str())?)?;
                    replace(c, &network, id.as_str(), next, expected, &actor)
                })
                .await
            }

            async fn delete(
                &self,
                scope: &$crate::auth::NetworkScope,
                id: &$crate::domain::ids::RecordId<<$kind as $crate::store::RecordKind>::Record>,
            ) -> $crate::error::Result<()> {
                let (network, id) = (scope.network().clone(), id.clone());
                self.write(move |c| delete(c, &network, id.as_str())).await
            }

            async fn list_by(
                &self,
                scope: &$crate::auth::NetworkScope,
                keys: Vec<(<$kind as $crate::store::RecordKind>::Key, String)>,
                window: $crate::store::Window,
            ) -> $crate::error::Result<$crate::store::Found<<$kind as $crate::store::RecordKind>::Stored>> {
                let network = scope.network().clone();
                let equal: Vec<(&str, String)> = keys.into_iter().map(|(k, v)| (column(k), v)).collect();
                self.read(move |c| list::page_equal(c, &LISTED, &network, &equal, window)).await
            }
        }
    };
}

pub(crate) mod copy;
mod feed;
mod function_ticket;
#[cfg(test)]
mod interface_tests;
mod limits;
mod list;
mod mail;
mod order;
mod registration;
mod template;
mod ticket;
mod token;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use super::CALL_DEADLINE;
use crate::error::{Error, Result};

/// The whole schema, split into numbered migrations.
pub const SCHEMA: &str = include_str!("../../../schema.sql");

/// Most calls one transaction takes.
pub const MAX_GROUP: usize = 512;

/// How durably a commit is written; `Full` survives power loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synchronous {
    Full,
    Normal,
}

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("database {path} is in use by another ticket-admin process (lock file {lock})")]
    Locked { path: String, lock: String },
    #[error("cannot open database {path}: {cause}")]
    Io { path: String, cause: String },
    #[error("database {path}: {cause}")]
    Sqlite { path: String, cause: String },
    #[error("database {path} has schema version {found}, newer than this server's {supported}")]
    TooNew { path: String, found: i64, supported: i64 },
}

type WriteJob = Box<dyn FnOnce(&Connection) -> Finished + Send>;
type ReadJob = Box<dyn FnOnce(&Connection) + Send>;

/// What a write job hands back to the writer: whether to keep its savepoint, and how to answer once committed.
struct Finished {
    ok: bool,
    answer: Box<dyn FnOnce(Result<()>) + Send>,
}

/// Counters of the writer, for the benchmark's calls-per-commit figure.
#[derive(Debug, Default)]
pub struct WriterStats {
    pub commits: AtomicU64,
    pub calls: AtomicU64,
}

/// A handle on the database; cheap to clone.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    writes: Mutex<Option<crossbeam_channel::Sender<WriteJob>>>,
    reads: Mutex<Option<crossbeam_channel::Sender<ReadJob>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    stats: Arc<WriterStats>,
    /// What changed in each network's tickets, for the kept ticket lists of the RPC layer.
    tickets: Arc<feed::TicketFeed>,
    /// Held for the life of the store: a second process on the same file is refused.
    _lock: File,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, takes its lock, applies migrations, starts the threads.
    pub fn open(path: &Path, synchronous: Synchronous, readers: usize) -> Result<SqliteStore, OpenError> {
        let display = path.display().to_string();
        let lock_path = lock_path(path);
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| OpenError::Io { path: display.clone(), cause: e.to_string() })?;
        if lock.try_lock().is_err() {
            return Err(OpenError::Locked { path: display, lock: lock_path.display().to_string() });
        }
        let sqlite = |e: rusqlite::Error| OpenError::Sqlite { path: display.clone(), cause: e.to_string() };
        let conn = Connection::open(path).map_err(sqlite)?;
        let sync = match synchronous {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        };
        conn.execute_batch(&format!(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous={sync}; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000; \
             PRAGMA cache_size=-32768; PRAGMA temp_store=MEMORY;"
        ))
        .map_err(sqlite)?;
        migrate(&conn).map_err(|e| match e {
            MigrateError::TooNew { found, supported } => OpenError::TooNew { path: display.clone(), found, supported },
            MigrateError::Sqlite(e) => sqlite(e),
        })?;

        add_functions(&conn).map_err(sqlite)?;
        conn.set_prepared_statement_cache_capacity(STATEMENTS_KEPT);
        let stats = Arc::new(WriterStats::default());
        let tickets = Arc::new(feed::TicketFeed::default());
        let (write_tx, write_rx) = crossbeam_channel::unbounded::<WriteJob>();
        let (writer_stats, writer_tickets) = (stats.clone(), tickets.clone());
        let mut threads = vec![
            std::thread::Builder::new()
                .name("store-writer".into())
                .spawn(move || run_writer(conn, write_rx, &writer_stats, &writer_tickets))
                .map_err(|e| OpenError::Io { path: display.clone(), cause: e.to_string() })?,
        ];

        let (read_tx, read_rx) = crossbeam_channel::unbounded::<ReadJob>();
        for i in 0..readers.max(1) {
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
            )
            .map_err(sqlite)?;
            conn.execute_batch("PRAGMA busy_timeout=5000; PRAGMA query_only=ON;").map_err(sqlite)?;
            add_functions(&conn).map_err(sqlite)?;
            conn.set_prepared_statement_cache_capacity(STATEMENTS_KEPT);
            let rx = read_rx.clone();
            let handle = std::thread::Builder::new()
                .name(format!("store-reader-{i}"))
                .spawn(move || {
                    while let Ok(job) = rx.recv() {
                        job(&conn);
                    }
                })
                .map_err(|e| OpenError::Io { path: display.clone(), cause: e.to_string() })?;
            threads.push(handle);
        }

        Ok(SqliteStore {
            inner: Arc::new(Inner {
                writes: Mutex::new(Some(write_tx)),
                reads: Mutex::new(Some(read_tx)),
                threads: Mutex::new(threads),
                stats,
                tickets,
                _lock: lock,
            }),
        })
    }

    /// Runs `f` in the writer's transaction (in a savepoint of its own) and answers once the commit is durable.
    ///
    /// An `Err` from `f` rolls back everything `f` did and nothing else.
    pub(crate) async fn write<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<R>>();
        let deadline = CALL_DEADLINE.try_with(|d| *d).ok();
        let job: WriteJob = Box::new(move |conn| {
            let outcome = match deadline {
                Some(deadline) if std::time::Instant::now() >= deadline => Err(Error::TimedOut),
                _ => f(conn),
            };
            Finished {
                ok: outcome.is_ok(),
                answer: Box::new(move |committed| {
                    let _ = tx.send(committed.and(outcome));
                }),
            }
        });
        self.sender(&self.inner.writes)?.send(job).map_err(|_| stopped())?;
        rx.await.map_err(|_| Error::Internal("the writer dropped a call".into()))?
    }

    /// Runs `f` on a read-only connection on a reader thread.
    ///
    /// A read queued by a call whose deadline ([`CALL_DEADLINE`]) has passed is not run, and one that runs past it is
    /// interrupted, so that a caller who has been told `-32000` holds no reader thread.
    pub(crate) async fn read<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<R>>();
        let deadline = CALL_DEADLINE.try_with(|d| *d).ok();
        let job: ReadJob = Box::new(move |conn| {
            let outcome = match deadline {
                None => f(conn),
                Some(deadline) if std::time::Instant::now() >= deadline => Err(Error::TimedOut),
                Some(deadline) => {
                    conn.progress_handler(PROGRESS_STEPS, Some(move || std::time::Instant::now() >= deadline));
                    let outcome = f(conn);
                    conn.progress_handler(PROGRESS_STEPS, None::<fn() -> bool>);
                    // An interrupted statement fails; past the deadline that failure is the timeout.
                    outcome.map_err(|e| if std::time::Instant::now() >= deadline { Error::TimedOut } else { e })
                }
            };
            let _ = tx.send(outcome);
        });
        self.sender(&self.inner.reads)?.send(job).map_err(|_| stopped())?;
        rx.await.map_err(|_| Error::Internal("a reader dropped a call".into()))?
    }

    fn sender<T>(&self, slot: &Mutex<Option<crossbeam_channel::Sender<T>>>) -> Result<crossbeam_channel::Sender<T>> {
        let guard = slot.lock().map_err(|_| stopped())?;
        guard.clone().ok_or_else(stopped)
    }
}

#[async_trait::async_trait]
impl super::Store for SqliteStore {
    async fn ping(&self) -> Result<()> {
        self.read(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0)).map(|_| ())?)).await
    }

    fn stats(&self) -> super::WriteStats {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        super::WriteStats { commits: load(&self.inner.stats.commits), calls: load(&self.inner.stats.calls) }
    }

    /// Stops taking work, lets queued work finish, checkpoints the WAL and closes every connection.
    fn close(&self) {
        if let Ok(mut w) = self.inner.writes.lock() {
            w.take();
        }
        if let Ok(mut r) = self.inner.reads.lock() {
            r.take();
        }
        let threads = self.inner.threads.lock().map(|mut t| std::mem::take(&mut *t)).unwrap_or_default();
        for t in threads {
            let _ = t.join();
        }
    }
}

pub(super) use crate::store::rows::Row;
use crate::store::rows::{Cell, Columns};

impl rusqlite::ToSql for Cell {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Cell::Null => ValueRef::Null,
            Cell::Int(v) => ValueRef::Integer(*v),
            Cell::Real(v) => ValueRef::Real(*v),
            Cell::Text(v) => ValueRef::Text(v.as_bytes()),
        }))
    }
}

/// A SQLite row read by column name ([`Columns`]).
pub(super) struct Named<'a, 'b>(pub &'a rusqlite::Row<'b>);

impl Columns for Named<'_, '_> {
    fn int(&self, name: &str) -> Result<Option<i64>> {
        Ok(self.0.get(name)?)
    }

    fn text(&self, name: &str) -> Result<Option<String>> {
        Ok(self.0.get(name)?)
    }

    fn json<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T> {
        let text = self.0.get_ref(name)?.as_str().map_err(|e| Error::Internal(format!("{name}: {e}")))?;
        serde_json::from_str(text).map_err(|e| Error::Internal(format!("{name}: {e}")))
    }
}

/// A reading of a row by [`Columns`] as rusqlite's row mappers want it.
pub(super) fn read<'a, 'b, T>(
    row: &'a rusqlite::Row<'b>,
    f: impl FnOnce(&Named<'a, 'b>) -> Result<T>,
) -> rusqlite::Result<T> {
    f(&Named(row)).map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))
}

/// Inserts a row into `table`; its rowid.
pub(super) fn insert(conn: &Connection, table: &'static str, row: &Row) -> Result<i64> {
    thread_local! {
        /// Each table's INSERT statement, written once: a table's rows always name the same columns.
        static INSERTS: std::cell::RefCell<std::collections::HashMap<&'static str, std::rc::Rc<str>>> =
            Default::default();
    }
    let sql = INSERTS.with_borrow_mut(|inserts| {
        inserts
            .entry(table)
            .or_insert_with(|| {
                let names: Vec<&str> = row.iter().map(|(name, _)| *name).collect();
                let holes = vec!["?"; row.len()].join(", ");
                format!("INSERT INTO {table} ({}) VALUES ({holes})", names.join(", ")).into()
            })
            .clone()
    });
    conn.prepare_cached(&sql)?.execute(rusqlite::params_from_iter(row.iter().map(|(_, v)| v)))?;
    Ok(conn.last_insert_rowid())
}

/// Writes the columns of `after` that differ from `before` into the row `key` names (the key columns first in
/// both). SQLite rewrites the entries of only those indexes (and runs only those triggers) that involve a column
/// the UPDATE sets, so a change of one field touches one or two indexes rather than all of them.
pub(super) fn update(conn: &Connection, table: &str, key: &[&str], before: &Row, after: &Row) -> Result<()> {
    if let Some((sql, args)) = crate::store::rows::update_statement(table, key, before, after, |i| format!("?{i}"))? {
        conn.prepare_cached(&sql)?.execute(rusqlite::params_from_iter(args))?;
    }
    Ok(())
}

/// A failure of SQLite is the server's, never the caller's: an internal error whose cause goes to the log. (Every
/// refusal a caller can cause is checked before SQL is run, or read from a constraint by the store function.)
impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Internal(format!("sqlite: {e}"))
    }
}

fn stopped() -> Error {
    Error::Internal("the store is closed".into())
}

/// The lock file beside the database: `<db>.lock`.
pub fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Adds this server's SQL functions to a connection: `casefold(text)`, the case folding of the trigram index
/// ([`fold`](crate::domain::fold::fold)), which text filters too short for that index compare with.
pub fn add_functions(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    use rusqlite::types::ValueRef;
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC | FunctionFlags::SQLITE_INNOCUOUS;
    conn.create_scalar_function("casefold", 1, flags, |ctx| {
        // The searched columns hold text or NULL; anything else has no text to fold and matches nothing.
        Ok(match ctx.get_raw(0) {
            ValueRef::Text(bytes) => Some(crate::domain::fold::fold(&String::from_utf8_lossy(bytes))),
            _ => None,
        })
    })
}

/// SQLite virtual-machine steps between two looks at a read's deadline.
const PROGRESS_STEPS: std::ffi::c_int = 10_000;

/// Prepared statements kept per connection: searches and partial updates make one SQL text per combination of
/// filters or changed columns.
const STATEMENTS_KEPT: usize = 256;

/// How many commits pass between two `PRAGMA optimize` runs, which keep the planner's statistics current.
const OPTIMIZE_EVERY: u64 = 2_000;

thread_local! {
    /// The tickets the writer's transaction changed so far, as (network, productId): noted by every write to the
    /// tickets table ([`touch`]), cut back with a failed call's savepoint, handed to the feed after `COMMIT`.
    static TOUCHED: std::cell::RefCell<Vec<(String, String)>> = std::cell::RefCell::default();
}

/// Notes that the current write changed a ticket. Every write to the tickets table calls it (ticket.rs, and the
/// holdings of registration.rs), so the kept ticket lists learn of the change.
pub(super) fn touch(network: &crate::domain::ids::NetworkId, product_id: &str) {
    TOUCHED.with_borrow_mut(|t| t.push((network.as_str().to_owned(), product_id.to_owned())));
}

/// The tickets the transaction changed, by network; forgets them.
fn take_touched() -> Vec<(String, Vec<String>)> {
    let mut touched = TOUCHED.take();
    touched.sort_unstable();
    touched.dedup();
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for (network, product) in touched {
        match out.last_mut() {
            Some((n, products)) if *n == network => products.push(product),
            _ => out.push((network, vec![product])),
        }
    }
    out
}

/// Brings the planner's statistics up to date. It keeps per-index row estimates (sqlite_stat1) but no value samples
/// (sqlite_stat4): with samples, SQLite prepares a statement again every time a sampled column is bound to a new
/// value.
fn optimize(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch("PRAGMA analysis_limit = 1000; PRAGMA optimize;")?;
    let sampled: bool =
        conn.query_row("SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat4')", [], |r| r.get(0))?;
    if sampled { conn.execute_batch("DELETE FROM sqlite_stat4; ANALYZE sqlite_schema;") } else { Ok(()) }
}

fn run_writer(
    conn: Connection,
    jobs: crossbeam_channel::Receiver<WriteJob>,
    stats: &WriterStats,
    tickets: &feed::TicketFeed,
) {
    let analyse = || {
        if let Err(e) = optimize(&conn) {
            tracing::warn!(cause = %e, "PRAGMA optimize failed");
        }
    };
    analyse();
    let mut commits: u64 = 0;
    while let Ok(first) = jobs.recv() {
        commits += 1;
        if commits.is_multiple_of(OPTIMIZE_EVERY) {
            analyse();
        }
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        stats.commits.fetch_add(1, Ordering::Relaxed);
        stats.calls.fetch_add(group.len() as u64, Ordering::Relaxed);
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            // Dropping the jobs drops their reply channels: each caller gets an internal error.
            tracing::error!(cause = %e, calls = group.len(), "cannot begin a write transaction");
            continue;
        }
        let mut answers = Vec::with_capacity(group.len());
        for job in group {
            answers.push(run_in_savepoint(&conn, job));
        }
        let committed = conn.execute_batch("COMMIT").map_err(|e| {
            let _ = conn.execute_batch("ROLLBACK");
            e.to_string()
        });
        // After the commit and before any answer: no caller can read a ticket list from before its own change. A
        // failed commit changed nothing.
        let touched = take_touched();
        if committed.is_ok() {
            for (network, products) in touched {
                tickets.record(&network, products);
            }
        }
        for answer in answers {
            answer(committed.clone().map_err(|e| Error::Internal(format!("sqlite commit: {e}"))));
        }
    }
    analyse();
    let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
}

fn run_in_savepoint(conn: &Connection, job: WriteJob) -> Box<dyn FnOnce(Result<()>) + Send> {
    if let Err(e) = conn.execute_batch("SAVEPOINT call") {
        let cause = format!("sqlite savepoint: {e}");
        drop(job);
        return Box::new(move |_| tracing::error!(%cause, "write not run"));
    }
    let touched_before = TOUCHED.with_borrow(Vec::len);
    let rolled_back = || {
        let _ = conn.execute_batch("ROLLBACK TO call; RELEASE call");
        TOUCHED.with_borrow_mut(|t| t.truncate(touched_before));
    };
    let finished = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(conn)));
    match finished {
        Ok(Finished { ok: true, answer }) => {
            let _ = conn.execute_batch("RELEASE call");
            answer
        }
        Ok(Finished { ok: false, answer }) => {
            rolled_back();
            answer
        }
        Err(_) => {
            // The job panicked: its answer channel is gone, so its caller sees an internal error.
            rolled_back();
            Box::new(|_| {})
        }
    }
}

enum MigrateError {
    TooNew { found: i64, supported: i64 },
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for MigrateError {
    fn from(e: rusqlite::Error) -> Self {
        MigrateError::Sqlite(e)
    }
}

fn migrate(conn: &Connection) -> Result<(), MigrateError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let all = crate::store::rows::migrations(SCHEMA);
    let supported = all.last().map(|(n, _)| *n).unwrap_or(0);
    if current > supported {
        return Err(MigrateError::TooNew { found: current, supported });
    }
    for (number, sql) in all.into_iter().filter(|(n, _)| *n > current) {
        conn.execute_batch(&format!("BEGIN IMMEDIATE; {sql}; PRAGMA user_version = {number}; COMMIT;"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_keep_row_estimates_and_no_value_samples() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE t (a INTEGER, b TEXT); CREATE INDEX t_a ON t (a);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
             INSERT INTO t SELECT i % 7, 'x' || i FROM n; ANALYZE;",
        )
        .unwrap();
        let samples = |conn: &Connection| -> i64 {
            conn.query_row("SELECT count(*) FROM sqlite_stat4", [], |r| r.get(0)).unwrap()
        };
        assert!(samples(&conn) > 0, "this SQLite keeps value samples when it analyses");
        super::optimize(&conn).unwrap();
        assert_eq!(samples(&conn), 0);
        let estimates: i64 = conn.query_row("SELECT count(*) FROM sqlite_stat1", [], |r| r.get(0)).unwrap();
        assert!(estimates > 0, "the row estimates stay");
    }

    #[test]
    fn a_second_store_on_the_same_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let first = SqliteStore::open(&path, Synchronous::Normal, 1).unwrap();
        let second = SqliteStore::open(&path, Synchronous::Normal, 1);
        assert!(matches!(second, Err(OpenError::Locked { .. })));
        crate::store::Store::close(&first);
    }
}
