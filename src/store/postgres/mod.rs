//! The PostgreSQL store: a database that several servers share. It keeps the same guarantees as the SQLite store
//! with PostgreSQL's own means, so that they hold across processes and not only within one:
//!
//! - every call runs in one transaction, retried inside the server (a few times) when PostgreSQL reports a
//!   serialization failure or a deadlock, never shown to the caller as an internal error;
//! - what must not race is decided under a row lock taken in that transaction (`SELECT ... FOR UPDATE` on the ticket
//!   whose seats are taken, the network's limits row, the event's number counter), and uniqueness by constraints;
//! - each network's ticket generation is a row raised in the transaction that changes a ticket, as its last
//!   statement, so generations commit in order and a server asks the database, not its own memory, whether its kept
//!   list is current.
//!
//! Rows are written and read with the one codec of [`rows`](super::rows), from the schema in `schema.postgres.sql`.

/// The shared record methods of a kind, from the functions its module defines alike (`create`, `get`, `replace`,
/// `delete`, `LISTED`, `column`); each write in a transaction of its own.
macro_rules! records {
    ($kind:ty) => {
        /// The record's row as its writer names it, to order its group's writes by it.
        fn locked_row(id: &$crate::domain::ids::RecordId<<$kind as $crate::store::RecordKind>::Record>) -> Option<String> {
            Some(format!("{} {}", stringify!($kind), id.as_str()))
        }

        #[async_trait::async_trait]
        impl $crate::store::Records<$kind> for $crate::store::PostgresStore {
            async fn create(
                &self,
                scope: &$crate::auth::NetworkScope,
                record: <$kind as $crate::store::RecordKind>::Record,
            ) -> $crate::error::Result<<$kind as $crate::store::RecordKind>::Stored> {
                let scope = scope.clone();
                super::writer::write!(self, (scope, record), |tx| create(tx, scope.network(), record, scope.actor())
                    .await)
            }

            async fn get(
                &self,
                scope: &$crate::auth::NetworkScope,
                id: &$crate::domain::ids::RecordId<<$kind as $crate::store::RecordKind>::Record>,
            ) -> $crate::error::Result<<$kind as $crate::store::RecordKind>::Stored> {
                let db = self.client().await?;
                Ok(get(&db, scope.network(), id.as_str(), super::Lock::None).await?)
            }

            async fn replace(
                &self,
                scope: &$crate::auth::NetworkScope,
                id: &$crate::domain::ids::RecordId<<$kind as $crate::store::RecordKind>::Record>,
                record: <$kind as $crate::store::RecordKind>::Record,
                expected: Option<i64>,
            ) -> $crate::error::Result<<$kind as $crate::store::RecordKind>::Stored> {
                let (scope, id, row) = (scope.clone(), id.clone(), locked_row(&id));
                super::writer::write!(self, locking row, (scope, id, record), |tx| {
                    let current = get(tx, scope.network(), id.as_str(), super::Lock::Update).await?;
                    replace(tx, scope.network(), current, record, expected, scope.actor()).await
                })
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
                let (scope, id, change) = (scope.clone(), id.clone(), std::sync::Arc::new(change));
                let row = locked_row(&id);
                super::writer::write!(self, locking row, (scope, id, change), |tx| {
                    let current = get(tx, scope.network(), id.as_str(), super::Lock::Update).await?;
                    let next = change(&current)?;
                    replace(tx, scope.network(), current, next, expected, scope.actor()).await
                })
            }

            async fn delete(
                &self,
                scope: &$crate::auth::NetworkScope,
                id: &$crate::domain::ids::RecordId<<$kind as $crate::store::RecordKind>::Record>,
            ) -> $crate::error::Result<()> {
                let (scope, id, row) = (scope.clone(), id.clone(), locked_row(&id));
                super::writer::write!(self, locking row, (scope, id), |tx| delete(tx, scope.network(), id.as_str())
                    .await)
            }

            async fn list_by(
                &self,
                scope: &$crate::auth::NetworkScope,
                keys: Vec<(<$kind as $crate::store::RecordKind>::Key, String)>,
                window: $crate::store::Window,
            ) -> $crate::error::Result<$crate::store::Found<<$kind as $crate::store::RecordKind>::Stored>> {
                let mut filter = super::list::Filter::new(scope.network());
                for (key, value) in keys {
                    filter.equal(column(key), value.into());
                }
                // The count and the page in one snapshot.
                super::snapshot!(self, |tx| super::list::page(
                    &tx,
                    &LISTED,
                    filter.clone(),
                    window,
                    None,
                    super::list::Plan::Kept
                )
                .await)
            }
        }
    };
}

pub(crate) mod copy;
mod function_ticket;
mod limits;
mod list;
mod mail;
mod order;
mod registration;
mod template;
mod ticket;
pub mod token;
mod writer;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use futures_util::StreamExt;
use tokio::sync::Notify;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{AsyncMessage, NoTls, Row as PgRow};

use super::rows::{Cell, Columns, Row};
use crate::domain::ids::NetworkId;
use crate::error::{Error, Result};

/// The schema, split into numbered migrations.
pub const SCHEMA: &str = include_str!("../../../schema.postgres.sql");

/// How many times a transaction PostgreSQL could not serialize is run again before the caller is told.
const RETRIES: usize = 8;

/// The changes of this many latest generations are kept per network; a server further behind reads the list whole.
const KEPT_GENERATIONS: i64 = 4096;

/// Why a PostgreSQL store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot connect to PostgreSQL: {0}")]
    Connect(String),
    #[error("cannot migrate the PostgreSQL schema: {0}")]
    Migrate(String),
    #[error("the database has schema version {found}, newer than this server's {supported}; upgrade the server")]
    TooNew { found: i64, supported: i64 },
}

/// A store on a PostgreSQL database.
pub struct PostgresStore {
    pool: Pool,
    /// The group commit of the calls' writes.
    writer: writer::Writer,
    /// Write transactions committed, and the calls they carried.
    stats: Arc<(AtomicU64, AtomicU64)>,
    /// Wakes when any server announces a change of the tokens.
    token_changes: Arc<Notify>,
    /// The task listening for those announcements.
    listener: tokio::task::AbortHandle,
}

/// How a statement inside a transaction failed: the database (maybe worth a retry) or a rule.
pub(super) enum Failure {
    Db(tokio_postgres::Error),
    Rule(Error),
}

impl From<tokio_postgres::Error> for Failure {
    fn from(e: tokio_postgres::Error) -> Self {
        Failure::Db(e)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Rule(e)
    }
}

impl From<crate::error::Conflict> for Failure {
    fn from(e: crate::error::Conflict) -> Self {
        Failure::Rule(e.into())
    }
}

impl From<Failure> for Error {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Db(e) => internal(&e),
            Failure::Rule(e) => e,
        }
    }
}

/// A failure of PostgreSQL is the server's, never the caller's.
fn internal(e: &tokio_postgres::Error) -> Error {
    match e.as_db_error() {
        Some(db) => Error::Internal(format!("postgres: {} ({})", db.message(), db.code().code())),
        None => Error::Internal(format!("postgres: {e}")),
    }
}

/// Whether running the transaction again may succeed.
fn retryable(e: &tokio_postgres::Error) -> bool {
    matches!(e.code(), Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED)
}

pub(super) type Tx<'a> = deadpool_postgres::Transaction<'a>;

/// The lock a read takes on the rows it returns, until its transaction ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lock {
    None,
    /// The row is about to change: other changes and `KEY SHARE` holders wait.
    Update,
}

impl Lock {
    fn clause(self) -> &'static str {
        match self {
            Lock::None => "",
            Lock::Update => " FOR UPDATE",
        }
    }
}

/// Runs `$body` (an expression of `Result<T, Failure>` using the transaction `$tx`) in a transaction of its own on
/// `$store`, committed when it succeeds and run again when PostgreSQL could not serialize it. A write counts in
/// the store's [`WriteStats`](crate::store::WriteStats).
macro_rules! transaction {
    ($store:expr, |$tx:ident| $body:expr) => {
        $crate::store::postgres::transaction!(@run $store, None, true, |$tx| $body)
    };
    (@run $store:expr, $start:expr, $write:expr, |$tx:ident| $body:expr) => {{
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut client = $store.client().await?;
            let $tx = client.transaction().await.map_err(|e| $crate::store::postgres::Failure::Db(e))?;
            let outcome: std::result::Result<_, $crate::store::postgres::Failure> = async {
                let start: Option<&str> = $start;
                if let Some(start) = start {
                    $tx.batch_execute(start).await?;
                }
                $body
            }
            .await;
            match outcome {
                Ok(value) => match $tx.commit().await {
                    Ok(()) => {
                        if $write {
                            $store.committed();
                        }
                        break Ok(value);
                    }
                    Err(e) if $crate::store::postgres::retryable(&e) && attempt < $crate::store::postgres::RETRIES => {}
                    Err(e) => break Err($crate::store::postgres::Failure::Db(e).into()),
                },
                Err($crate::store::postgres::Failure::Db(e))
                    if $crate::store::postgres::retryable(&e) && attempt < $crate::store::postgres::RETRIES => {}
                Err(failure) => break Err(failure.into()),
            }
        }
    }};
}
pub(super) use transaction;

/// Runs `$body` as [`transaction!`] does, in a read-only transaction that sees one snapshot throughout (`REPEATABLE
/// READ`): a count and a page, or a generation and the tickets, agree.
macro_rules! snapshot {
    ($store:expr, |$tx:ident| $body:expr) => {
        $crate::store::postgres::transaction!(
            @run $store,
            Some("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"),
            false,
            |$tx| $body
        )
    };
}
pub(super) use snapshot;

impl From<deadpool_postgres::PoolError> for Failure {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        Failure::Rule(Error::Internal(format!("postgres pool: {e}")))
    }
}

/// A pool of `size` connections, each of which runs `session` (SQL) once when it is made.
fn connect_pool(
    config: tokio_postgres::Config,
    size: usize,
    session: Option<&'static str>,
) -> std::result::Result<Pool, OpenError> {
    let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
    let mut pool = Pool::builder(manager)
        .max_size(size.max(1))
        .wait_timeout(Some(Duration::from_secs(30)))
        .runtime(deadpool_postgres::Runtime::Tokio1);
    if let Some(sql) = session {
        pool = pool.post_create(deadpool_postgres::Hook::async_fn(move |client, _| {
            Box::pin(async move { client.batch_execute(sql).await.map_err(deadpool_postgres::HookError::Backend) })
        }));
    }
    pool.build().map_err(|e| OpenError::Connect(e.to_string()))
}

/// The writer's connections run every prepared statement on its generic plan.
///
/// PostgreSQL plans a prepared statement for its values (a custom plan) on its first five runs, and from then on
/// uses the generic plan only while its estimated cost is below theirs with the cost of planning added. After a bulk
/// load it estimated the creates-alone statement's generic plan above that and planned the statement again on every
/// run: a third of PostgreSQL's CPU per create at 100,000 registrations, against 2% on a small database. The
/// writer's statements find their rows by key, or count one network's rows through an index led by the network, so
/// a generic plan is the one a custom plan would choose (but for a count in a network far smaller than the average,
/// where a custom plan could know it is small). The searches, whose best plan does depend on their values
/// ([`list::Plan::EachCall`]), run on the other pool. A `SET` when each connection is made, rather than an option
/// in the URL, so that a pooler in between (PgBouncer checks the options of a connection) passes it.
const WRITER_SESSION: &str = "SET plan_cache_mode = force_generic_plan";

impl PostgresStore {
    /// Connects a pool of `size` connections to the database at `url` and brings its schema up to date (one server
    /// at a time, under an advisory lock).
    pub async fn open(url: &str, size: usize) -> std::result::Result<PostgresStore, OpenError> {
        let config: tokio_postgres::Config = url.parse().map_err(|e| OpenError::Connect(format!("{e}")))?;
        let pool = connect_pool(config.clone(), size, None)?;
        let writer_pool = connect_pool(config.clone(), writer::WRITERS, Some(WRITER_SESSION))?;
        // One of the writer's connections now, so that a server that refuses its session (PostgreSQL before 12 has
        // no plan_cache_mode) stops the start rather than every write.
        drop(writer_pool.get().await.map_err(|e| OpenError::Connect(format!("the writer's connection: {e}")))?);
        let token_changes = Arc::new(Notify::new());
        let listener = tokio::spawn(listen(config, token_changes.clone())).abort_handle();
        let stats = Arc::new((AtomicU64::new(0), AtomicU64::new(0)));
        let counted = stats.clone();
        let committed = Arc::new(move |calls: usize| {
            counted.0.fetch_add(1, Ordering::Relaxed);
            counted.1.fetch_add(calls as u64, Ordering::Relaxed);
        });
        let writer = writer::Writer::start(writer_pool, committed);
        let store = PostgresStore { pool, writer, stats, token_changes, listener };
        store.migrate().await?;
        Ok(store)
    }

    fn committed(&self) {
        self.stats.0.fetch_add(1, Ordering::Relaxed);
        self.stats.1.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) async fn client(&self) -> std::result::Result<deadpool_postgres::Object, Failure> {
        Ok(self.pool.get().await?)
    }

    async fn migrate(&self) -> std::result::Result<(), OpenError> {
        let failed = |e: tokio_postgres::Error| OpenError::Migrate(internal(&e).to_string());
        let mut client = self.pool.get().await.map_err(|e| OpenError::Connect(e.to_string()))?;
        let tx = client.transaction().await.map_err(failed)?;
        // One server migrates at a time; the others wait here and then find nothing left to do.
        tx.execute("SELECT pg_advisory_xact_lock(7256340012)", &[]).await.map_err(failed)?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version bigint NOT NULL)")
            .await
            .map_err(failed)?;
        let current: i64 =
            tx.query_opt("SELECT version FROM schema_version", &[]).await.map_err(failed)?.map_or(0, |r| r.get(0));
        let all = super::rows::migrations(SCHEMA);
        let supported = all.last().map_or(0, |(n, _)| *n);
        if current > supported {
            return Err(OpenError::TooNew { found: current, supported });
        }
        for (number, sql) in all.into_iter().filter(|(n, _)| *n > current) {
            tx.batch_execute(sql).await.map_err(failed)?;
            tx.execute("DELETE FROM schema_version", &[]).await.map_err(failed)?;
            tx.execute("INSERT INTO schema_version (version) VALUES ($1)", &[&number]).await.map_err(failed)?;
        }
        tx.commit().await.map_err(failed)
    }
}

/// How long the listener waits before connecting again after its connection failed.
const LISTEN_RETRY: Duration = Duration::from_secs(1);

/// Listens for announcements of token changes ([`token::CHANNEL`]) on a connection of its own and wakes
/// `changed` for each; on a new connection too, since announcements made while there was none are missed (the
/// server's periodic reload catches those as well). Runs until aborted.
async fn listen(config: tokio_postgres::Config, changed: Arc<Notify>) {
    loop {
        match config.connect(NoTls).await {
            Ok((client, mut connection)) => {
                let signal = changed.clone();
                let driver = tokio::spawn(async move {
                    let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
                    while let Some(Ok(message)) = messages.next().await {
                        if let AsyncMessage::Notification(_) = message {
                            signal.notify_one();
                        }
                    }
                });
                match client.batch_execute(&format!("LISTEN {}", token::CHANNEL)).await {
                    Ok(()) => {
                        changed.notify_one();
                        let _ = driver.await;
                    }
                    Err(e) => {
                        tracing::warn!(error = %internal(&e), "cannot listen for token changes");
                        driver.abort();
                    }
                }
                tracing::debug!("the connection listening for token changes ended");
            }
            Err(e) => tracing::warn!(error = %internal(&e), "cannot connect to listen for token changes"),
        }
        tokio::time::sleep(LISTEN_RETRY).await;
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        self.listener.abort();
        self.writer.stop();
    }
}

impl ToSql for Cell {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        // A value goes only into a column of its own kind: an integer's bytes read as a float would be a silent
        // corruption, so a mismatch is an error.
        let fits = match self {
            Cell::Null => true,
            Cell::Int(_) => *ty == Type::INT8,
            Cell::Real(_) => *ty == Type::FLOAT8,
            Cell::Text(_) => <String as ToSql>::accepts(ty),
        };
        if !fits {
            return Err(format!("{self:?} does not fit a column of type {ty}").into());
        }
        match self {
            Cell::Null => Ok(IsNull::Yes),
            Cell::Int(v) => v.to_sql(ty, out),
            Cell::Real(v) => v.to_sql(ty, out),
            Cell::Text(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <i64 as ToSql>::accepts(ty) || <f64 as ToSql>::accepts(ty) || <String as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

/// A PostgreSQL row read by column name ([`Columns`]).
pub(super) struct Named<'a>(pub &'a PgRow);

impl Columns for Named<'_> {
    fn int(&self, name: &str) -> Result<Option<i64>> {
        self.0.try_get(name).map_err(|e| internal(&e))
    }

    fn text(&self, name: &str) -> Result<Option<String>> {
        self.0.try_get(name).map_err(|e| internal(&e))
    }

    fn json<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T> {
        let text: &str = self.0.try_get(name).map_err(|e| internal(&e))?;
        serde_json::from_str(text).map_err(|e| Error::Internal(format!("{name}: {e}")))
    }
}

/// The parameters of a statement as tokio-postgres takes them.
fn params<'a>(cells: &'a [&'a Cell]) -> Vec<&'a (dyn ToSql + Sync)> {
    cells.iter().map(|c| *c as &(dyn ToSql + Sync)).collect()
}

/// Inserts a row into `table`; `false` when a unique constraint refused it (nothing is written then, and the
/// transaction goes on).
pub(super) async fn insert(tx: &Tx<'_>, table: &str, row: &Row) -> std::result::Result<bool, Failure> {
    insert_with(tx, table, row, "").await
}

/// [`insert`] of a row that gives its own value to a column the database always generates (an identity column, as
/// the outbox's `seq`): `migrate` keeps each message's place so.
pub(super) async fn insert_generated(tx: &Tx<'_>, table: &str, row: &Row) -> std::result::Result<bool, Failure> {
    insert_with(tx, table, row, " OVERRIDING SYSTEM VALUE").await
}

async fn insert_with(tx: &Tx<'_>, table: &str, row: &Row, overriding: &str) -> std::result::Result<bool, Failure> {
    let names: Vec<&str> = row.iter().map(|(name, _)| *name).collect();
    let holes: Vec<String> = (1..=row.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "INSERT INTO {table} ({}){overriding} VALUES ({}) ON CONFLICT DO NOTHING",
        names.join(", "),
        holes.join(", ")
    );
    let cells: Vec<&Cell> = row.iter().map(|(_, v)| v).collect();
    let statement = tx.prepare_cached(&sql).await?;
    Ok(tx.execute(&statement, &params(&cells)).await? == 1)
}

/// Writes the columns of `after` that differ from `before` into the row `key` names.
pub(super) async fn update(
    tx: &Tx<'_>,
    table: &str,
    key: &[&str],
    before: &Row,
    after: &Row,
) -> std::result::Result<(), Failure> {
    if let Some((sql, args)) = super::rows::update_statement(table, key, before, after, |i| format!("${i}"))? {
        let statement = tx.prepare_cached(&sql).await?;
        tx.execute(&statement, &params(&args)).await?;
    }
    Ok(())
}

/// Notes that a write changed these tickets of a network. Their network's ticket generation is raised once for
/// the whole group, as its last statement before the commit ([`raise_generations`]), if the write is kept.
pub(super) fn record_changes(network: &NetworkId, products: &[impl AsRef<str>]) -> std::result::Result<(), Failure> {
    writer::note(|notes| {
        notes.changed.extend(products.iter().map(|p| (network.as_str().to_owned(), p.as_ref().to_owned())));
    })
}

/// Raises the ticket generation of each network whose tickets a group changed, and notes which tickets each
/// changed. The last statements of the group's transaction: a generation's row stays locked from its raise to the
/// commit, so generations commit in order, and the networks are taken in one order, so two groups never wait for
/// each other's.
pub(super) async fn raise_generations(
    tx: &Tx<'_>,
    mut changed: Vec<(String, String)>,
) -> std::result::Result<(), tokio_postgres::Error> {
    changed.sort();
    changed.dedup();
    static RAISE: LazyLock<String> =
        LazyLock::new(|| format!("WITH {} SELECT 1", raise_sql("VALUES ($1, 1)", "$2::text[]")));
    let raise = tx.prepare_cached(&RAISE).await?;
    for network in changed.chunk_by(|a, b| a.0 == b.0) {
        let products: Vec<&str> = network.iter().map(|(_, p)| p.as_str()).collect();
        tx.execute(&raise, &[&network[0].0, &products]).await?;
    }
    Ok(())
}

/// The statement that raises the generation of the network `$1` (inserting `row`, its first generation, when it has
/// none), notes the change set `products` (a `text[]`) under the new generation, and, once the changes kept reach
/// [`KEPT_GENERATIONS`] and a quarter, forgets those no server still needs (one that far behind reads the list whole):
/// all in one statement: common table expressions, the statement's own query after them may name `raised` (the new
/// generation and `kept_after`). `row` may be a `SELECT` that yields no row: nothing is raised then.
pub(super) fn raise_sql(row: &str, products: &str) -> String {
    format!(
        "raised AS (INSERT INTO ticket_generations (network_id, generation) {row} \
         ON CONFLICT (network_id) DO UPDATE SET generation = ticket_generations.generation + 1, \
         kept_after = CASE WHEN ticket_generations.generation + 1 - {kept} > ticket_generations.kept_after + {slack} \
         THEN ticket_generations.generation + 1 - {kept} ELSE ticket_generations.kept_after END \
         RETURNING generation, kept_after), \
         noted AS (INSERT INTO ticket_change_sets (network_id, generation, product_ids) \
         SELECT $1, generation, {products} FROM raised), \
         forgot AS (DELETE FROM ticket_change_sets c USING raised \
         WHERE raised.kept_after = raised.generation - {kept} \
         AND c.network_id = $1 AND c.generation <= raised.kept_after)",
        kept = KEPT_GENERATIONS,
        slack = KEPT_GENERATIONS / 4,
    )
}

#[async_trait::async_trait]
impl super::Store for PostgresStore {
    async fn ping(&self) -> Result<()> {
        let db = self.client().await?;
        db.simple_query("SELECT 1").await.map_err(|e| internal(&e))?;
        Ok(())
    }

    fn stats(&self) -> super::WriteStats {
        super::WriteStats { commits: self.stats.0.load(Ordering::Relaxed), calls: self.stats.1.load(Ordering::Relaxed) }
    }

    fn close(&self) {
        self.listener.abort();
        self.writer.stop();
        self.pool.close();
    }

    fn token_changes(&self) -> Option<Arc<Notify>> {
        Some(self.token_changes.clone())
    }
}

#[cfg(test)]
pub(crate) mod shared_tests;
