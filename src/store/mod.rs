//! SQLite storage: opening (lock, pragmas, migrations), the one writer thread, and the read-only readers.
//!
//! No SQLite call runs on an async worker thread. Writes are closures sent to the writer thread, which owns the
//! only write connection; reads are closures run by a few reader threads, each owning a read-only connection.
//!
//! **Group commit.** The writer takes every write that is queued when it wakes up (up to [`MAX_GROUP`]) and runs
//! them in one transaction, each inside its own savepoint: a call that fails rolls back its savepoint only, so it
//! never fails its neighbours. Replies are held until the transaction's `COMMIT` returns, so an acknowledged write
//! is durable (with `synchronous=FULL`, also across power loss). Under load one fsync serves many calls; a lone
//! call pays exactly one, as it would without grouping.

pub mod cache;
pub mod function_ticket;
pub mod limits;
pub mod list;
pub mod records;
pub mod registration;
pub mod ticket;
pub mod token;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use crate::error::{Error, Result};

/// The whole schema, split into numbered migrations.
pub const SCHEMA: &str = include_str!("../../schema.sql");

/// Most calls one transaction takes.
pub const MAX_GROUP: usize = 512;

tokio::task_local! {
    /// When the current call runs out of time. A write queued by a call whose deadline has passed before the writer
    /// reaches it is not run at all (its caller has been told `-32000` already); one the writer has begun is
    /// committed whole. Either way no write is ever half done.
    pub static CALL_DEADLINE: std::time::Instant;
}

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

/// A handle on the database; cheap to clone, shared by every handler.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    writes: Mutex<Option<crossbeam_channel::Sender<WriteJob>>>,
    reads: Mutex<Option<crossbeam_channel::Sender<ReadJob>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    stats: Arc<WriterStats>,
    /// Each network's ticket list between changes.
    tickets: Arc<cache::TicketCache>,
    /// Taken to read a ticket list from SQL: callers that missed the same change wait for one read, not one each.
    rebuilding: tokio::sync::Mutex<()>,
    /// Held for the life of the store: a second process on the same file is refused.
    _lock: File,
}

impl Store {
    /// Opens (creating if needed) the database at `path`, takes its lock, applies migrations, starts the threads.
    pub fn open(path: &Path, synchronous: Synchronous, readers: usize) -> Result<Store, OpenError> {
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
        conn.execute_batch(TOUCHED).map_err(sqlite)?;
        conn.set_prepared_statement_cache_capacity(STATEMENTS_KEPT);
        let stats = Arc::new(WriterStats::default());
        let tickets = Arc::new(cache::TicketCache::default());
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

        Ok(Store {
            inner: Arc::new(Inner {
                writes: Mutex::new(Some(write_tx)),
                reads: Mutex::new(Some(read_tx)),
                threads: Mutex::new(threads),
                stats,
                tickets,
                rebuilding: tokio::sync::Mutex::new(()),
                _lock: lock,
            }),
        })
    }

    /// Runs `f` in the writer's transaction (in a savepoint of its own) and answers once the commit is durable.
    ///
    /// An `Err` from `f` rolls back everything `f` did and nothing else.
    pub async fn write<R, F>(&self, f: F) -> Result<R>
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
    pub async fn read<R, F>(&self, f: F) -> Result<R>
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

    /// A network's tickets, from memory when nothing changed since they were last read.
    pub async fn ticket_list(&self, network: &crate::domain::ids::NetworkId) -> Result<Arc<cache::TicketList>> {
        let cache = &self.inner.tickets;
        if let Some(list) = cache.get(network.as_str()) {
            return Ok(list);
        }
        let _rebuilding = self.inner.rebuilding.lock().await;
        if let Some(list) = cache.get(network.as_str()) {
            return Ok(list);
        }
        let generation = cache.generation(network.as_str());
        let read = network.clone();
        let list = Arc::new(self.read(move |c| Ok(cache::TicketList::new(ticket::all(c, &read)?))).await?);
        cache.put(network.as_str(), generation, list.clone());
        Ok(list)
    }

    /// Whether the database answers a query.
    pub async fn ping(&self) -> Result<()> {
        self.read(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0)).map(|_| ())?)).await
    }

    /// The writer's counters.
    pub fn stats(&self) -> &WriterStats {
        &self.inner.stats
    }

    /// Stops taking work, lets queued work finish, checkpoints the WAL and closes every connection.
    pub fn close(&self) {
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

/// A column value as a bound parameter.
pub fn as_sql(value: &rusqlite::types::Value) -> &dyn rusqlite::ToSql {
    value
}

/// The values of the five sys columns, in the order [`sys_from_row`] reads them.
pub fn sys_values(sys: &crate::domain::sys::Sys) -> [rusqlite::types::Value; 5] {
    [
        sys.version.into(),
        sys.created_at.timestamp_millis().into(),
        sys.last_modified_at.timestamp_millis().into(),
        sys.created_by.clone().into(),
        sys.last_modified_by.clone().into(),
    ]
}

/// A record's stored fields: the JSON object in column `i` of a row.
pub fn fields_from_row(
    row: &rusqlite::Row<'_>,
    i: usize,
) -> rusqlite::Result<serde_json::Map<String, serde_json::Value>> {
    let text: String = row.get(i)?;
    serde_json::from_str(&text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e)))
}

/// The five sys columns (`sys_version`, `sys_created_at`, `sys_last_modified_at`, `sys_created_by`,
/// `sys_last_modified_by`) of a row, starting at column `first`.
pub fn sys_from_row(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<crate::domain::sys::Sys> {
    use crate::domain::time::from_millis;
    Ok(crate::domain::sys::Sys {
        version: row.get(first)?,
        created_at: from_millis(row.get(first + 1)?),
        last_modified_at: from_millis(row.get(first + 2)?),
        created_by: row.get(first + 3)?,
        last_modified_by: row.get(first + 4)?,
    })
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

/// Connection-local triggers that note which networks' tickets a transaction changed; rolled back with it.
const TOUCHED: &str = "
    CREATE TEMP TABLE touched_networks (network_id TEXT PRIMARY KEY) WITHOUT ROWID;
    CREATE TEMP TRIGGER tickets_inserted AFTER INSERT ON main.tickets
        BEGIN INSERT OR IGNORE INTO touched_networks VALUES (new.network_id); END;
    CREATE TEMP TRIGGER tickets_updated AFTER UPDATE ON main.tickets
        BEGIN INSERT OR IGNORE INTO touched_networks VALUES (new.network_id); END;
    CREATE TEMP TRIGGER tickets_deleted AFTER DELETE ON main.tickets
        BEGIN INSERT OR IGNORE INTO touched_networks VALUES (old.network_id); END;
";

/// The networks whose tickets the last transaction changed; forgets them.
fn take_touched(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let touched = conn
        .prepare_cached("SELECT network_id FROM touched_networks")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    if !touched.is_empty() {
        conn.execute_batch("DELETE FROM touched_networks")?;
    }
    Ok(touched)
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
    tickets: &cache::TicketCache,
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
        // After the commit and before any answer: no caller can read a ticket list from before its own change.
        match take_touched(&conn) {
            Ok(touched) => tickets.bump(&touched),
            Err(e) => {
                tracing::error!(cause = %e, "cannot read which tickets changed; dropping every kept list");
                tickets.bump(&tickets.all_networks());
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
    let finished = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(conn)));
    match finished {
        Ok(Finished { ok: true, answer }) => {
            let _ = conn.execute_batch("RELEASE call");
            answer
        }
        Ok(Finished { ok: false, answer }) => {
            let _ = conn.execute_batch("ROLLBACK TO call; RELEASE call");
            answer
        }
        Err(_) => {
            // The job panicked: its answer channel is gone, so its caller sees an internal error.
            let _ = conn.execute_batch("ROLLBACK TO call; RELEASE call");
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

/// The schema's migrations, numbered from 1, as (number, SQL).
pub fn migrations() -> Vec<(i64, &'static str)> {
    SCHEMA
        .split("-- migration: ")
        .skip(1)
        .filter_map(|section| {
            let (number, sql) = section.split_once('\n')?;
            Some((number.trim().parse().ok()?, sql))
        })
        .collect()
}

fn migrate(conn: &Connection) -> Result<(), MigrateError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let all = migrations();
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
    fn migrations_are_numbered_from_one_without_gaps() {
        let numbers: Vec<i64> = migrations().iter().map(|(n, _)| *n).collect();
        assert!(!numbers.is_empty());
        assert_eq!(numbers, (1..=numbers.len() as i64).collect::<Vec<_>>());
    }

    /// Waits (bounded) until `ready` holds, yielding to the runtime in between.
    async fn until(ready: impl Fn() -> bool) {
        for _ in 0..100_000 {
            if ready() {
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!("the condition never held");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_group_shares_one_commit_and_a_call_that_fails_after_writing_rolls_back_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db"), Synchronous::Normal, 1).unwrap();
        store.write(|c| Ok(c.execute_batch("CREATE TABLE t (x INTEGER UNIQUE)")?)).await.unwrap();
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);

        // Hold the writer in a call of its own, so that the next four queue up and are taken as one group.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let calls_before = load(&store.stats().calls);
        let blocker = {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .write(move |_| {
                        let _ = held.recv();
                        Ok(())
                    })
                    .await
            })
        };
        until(|| load(&store.stats().calls) == calls_before + 1).await;
        let commits_before = load(&store.stats().commits);
        let queued = || store.inner.writes.lock().unwrap().as_ref().map_or(0, |s| s.len());
        let mut calls = Vec::new();
        for x in [1, 101, 2, 3] {
            let store = store.clone();
            calls.push(tokio::spawn(async move {
                store
                    .write(move |c| {
                        c.execute("INSERT INTO t VALUES (?1)", [x])?;
                        // This one fails after it has written: its savepoint alone is rolled back.
                        if x == 101 { Err(Error::Internal("fails after writing".into())) } else { Ok(()) }
                    })
                    .await
            }));
        }
        until(|| queued() == 4).await;
        release.send(()).unwrap();
        blocker.await.unwrap().unwrap();
        let outcomes: Vec<bool> =
            futures_util::future::join_all(calls).await.into_iter().map(|r| r.unwrap().is_ok()).collect();
        assert_eq!(outcomes, [true, false, true, true]);
        assert_eq!(load(&store.stats().commits), commits_before + 1, "the four shared one transaction");
        assert_eq!(load(&store.stats().calls), calls_before + 5);
        let kept: Vec<i64> = store
            .read(|c| {
                let mut stmt = c.prepare("SELECT x FROM t ORDER BY x")?;
                let rows = stmt.query_map([], |r| r.get(0))?;
                Ok(rows.collect::<rusqlite::Result<Vec<i64>>>()?)
            })
            .await
            .unwrap();
        assert_eq!(kept, [1, 2, 3], "the failed call's own write is gone, its neighbours' are kept");
        store.close();
    }

    #[test]
    fn a_second_store_on_the_same_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let first = Store::open(&path, Synchronous::Normal, 1).unwrap();
        let second = Store::open(&path, Synchronous::Normal, 1);
        assert!(matches!(second, Err(OpenError::Locked { .. })));
        first.close();
    }
}
