//! ticket-admin: a JSON-RPC 2.0 admin server for purchasable event tickets, on SQLite, behind a per-network
//! permission guard.
//!
//! Map of the modules, in the order a request passes through them:
//! - [`rpc`]: the transport (jsonrpsee's HTTP service with the server's HTTP middleware: routing, limits, CORS,
//!   both wire forms, what jsonrpsee misses of JSON-RPC 2.0), the guard as its RPC middleware, and one file per
//!   namespace registering its methods;
//! - [`auth`]: tokens and grants, the in-memory token table, which permission each method needs;
//! - [`domain`]: plain types and their validation, no I/O;
//! - [`store`]: SQLite, with one group-committing writer thread and read-only reader threads;
//! - [`error`]: the one domain error and its one mapping to JSON-RPC errors;
//! - [`config`]: the one configuration value.
//!
//! [`start`] opens the store, binds the listener and serves until [`Running::shutdown`].

pub mod auth;
pub mod config;
pub mod domain;
pub mod error;
pub mod mail;
pub mod metrics;
pub mod rpc;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;

use jsonrpsee::server::{ServerHandle, stop_channel};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::auth::{TokenTable, token::Grant};
use crate::config::{Config, Db};
use crate::rpc::Ctx;
use crate::store::{PostgresStore, SharedStore, SqliteStore};

/// Largest response body the RPC layer writes.
const MAX_RESPONSE_BYTES: u32 = 64 * 1024 * 1024;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] store::OpenError),
    #[error(transparent)]
    Postgres(#[from] store::postgres::OpenError),

    #[error("cannot listen on {addr}: {cause}")]
    Bind { addr: String, cause: std::io::Error },
    #[error("TICKET_ADMIN_BOOTSTRAP_TOKEN must be at least 32 characters")]
    WeakBootstrapToken,
    #[error("cannot prepare the database: {0}")]
    Setup(#[from] error::Error),
    #[error(transparent)]
    Assembly(#[from] rpc::AssemblyError),
    #[error("configuration: {0}")]
    Config(String),
}

/// A server that is serving.
pub struct Running {
    addr: SocketAddr,
    handle: ServerHandle,
    task: JoinHandle<()>,
}

impl Running {
    /// The address the server is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting and sending mail, lets in-flight calls and an SMTP exchange under way finish (each within the
    /// shutdown timeout), then closes the database cleanly.
    pub async fn shutdown(self) {
        let _ = self.handle.stop();
        let _ = self.task.await;
    }
}

/// Opens the store `--db` names: SQLite in a blocking thread (SQLite never runs on an async worker), or PostgreSQL.
pub async fn open_store(config: &Config) -> Result<SharedStore, StartError> {
    match &config.db {
        Db::Sqlite(path) => {
            let (path, sync, readers) = (path.clone(), config.synchronous, config.readers);
            let store = tokio::task::spawn_blocking(move || SqliteStore::open(&path, sync, readers))
                .await
                .map_err(|e| StartError::Setup(error::Error::Internal(e.to_string())))??;
            Ok(Arc::new(store))
        }
        Db::Postgres(url) => Ok(Arc::new(PostgresStore::open(url, config.db_connections).await?)),
    }
}

/// Starts a server with `config`: the listener bound, then the database opened (and made on first start).
pub async fn start(config: Config) -> Result<Running, StartError> {
    config.check().map_err(StartError::Config)?;
    // The port first: a start that cannot listen opens no database and makes no first admin token (one printed by
    // a start that then failed would be the only copy of a secret nobody could use).
    let listener =
        TcpListener::bind(&config.addr).await.map_err(|cause| StartError::Bind { addr: config.addr.clone(), cause })?;
    let store = open_store(&config).await?;
    let tokens = Arc::new(TokenTable::default());
    let mailer = Arc::new(mail::Mailer::new(config.smtp.is_some()));
    let metrics = Arc::new(metrics::Metrics::new());
    let ticket_lists = rpc::ticket_list::TicketLists::new(config.kept_tickets).counted_by(metrics.kept_lists());
    let ctx = Ctx { store: store.clone(), ticket_lists, tokens: tokens.clone(), mail: mailer.clone() };
    bootstrap(&ctx, config.bootstrap_token.clone()).await?;
    for (hash, info) in store.tokens().await? {
        tokens.insert(hash, info);
    }
    let module = rpc::methods(ctx)?;
    let addr = listener.local_addr().map_err(|cause| StartError::Bind { addr: config.addr.clone(), cause })?;
    let bounds = config::Bounds { max_connections: connection_cap(config.bounds.max_connections), ..config.bounds };
    let http = rpc::http::HttpConfig {
        max_body_bytes: config.max_body_bytes,
        max_response_bytes: MAX_RESPONSE_BYTES,
        max_batch: config.max_batch,
        cors_origins: config.cors_origins.clone(),
        max_in_flight: config.max_in_flight,
        bounds: bounds.clone(),
    };
    let limits = Arc::new(rpc::limits::RateLimiter::new(config.rates, metrics.clone()));
    let syncing =
        store.token_changes().map(|changed| tokio::spawn(sync_tokens(store.clone(), tokens.clone(), changed)));
    let sender = match &config.smtp {
        None => None,
        Some(smtp) => {
            tracing::info!(smtp = %smtp.shown(), from = %smtp.from, "delivering the outbox");
            Some(mail::sender::Sender::start(store.clone(), smtp.clone(), mailer).map_err(StartError::Config)?)
        }
    };
    let (stop, handle) = stop_channel();
    let connections =
        rpc::connections(module, tokens, store.clone(), http, limits.clone(), metrics.clone(), stop.clone());
    let shutdown_timeout = bounds.shutdown_timeout;
    // The sender stops when the listener does, with the same deadline: a shutdown ends within its timeout however
    // long an SMTP server takes to answer.
    let sending = {
        let stopping = stop.clone();
        async move {
            if let Some(sender) = sender {
                stopping.shutdown().await;
                sender.stop(tokio::time::Instant::now() + shutdown_timeout).await;
            }
        }
    };
    let task = tokio::spawn(async move {
        let pruning = tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                every.tick().await;
                limits.forget_idle();
            }
        });
        let summing = tokio::spawn({
            let metrics = metrics.clone();
            async move {
                let mut every = tokio::time::interval(metrics::UPKEEP);
                loop {
                    every.tick().await;
                    metrics.upkeep();
                }
            }
        });
        let serving = rpc::listener::serve(listener, move || connections.service(), bounds, metrics, stop);
        tokio::join!(serving, sending);
        pruning.abort();
        summing.abort();
        if let Some(syncing) = syncing {
            syncing.abort();
        }
        let _ = tokio::task::spawn_blocking(move || store.close()).await;
        tracing::info!("stopped; database closed");
    });
    Ok(Running { addr, handle, task })
}

/// The longest a token made or revoked on another server sharing the store goes unseen here, when its
/// announcement was missed.
const TOKEN_RELOAD: std::time::Duration = std::time::Duration::from_secs(1);

/// Keeps the token table in step with a store that other servers share: reloaded when any server announces a
/// change, and at least every [`TOKEN_RELOAD`] in case an announcement was missed.
async fn sync_tokens(store: SharedStore, tokens: Arc<TokenTable>, changed: Arc<tokio::sync::Notify>) {
    loop {
        let _ = tokio::time::timeout(TOKEN_RELOAD, changed.notified()).await;
        match store.tokens().await {
            Ok(all) => tokens.refresh(all),
            Err(e) => tracing::warn!(error = %e, "cannot reload the tokens"),
        }
    }
}

/// Open files kept free for the database, its WAL, the log and the listener.
const FILES_KEPT: u64 = 64;

/// The connection cap the process's open-file limit allows: the soft limit is raised towards the hard one first,
/// and a cap that would still not fit is lowered (with a warning) so that `accept` never fails for want of a file.
fn connection_cap(wanted: usize) -> usize {
    let needed = wanted as u64 + FILES_KEPT;
    let limit = match rlimit::increase_nofile_limit(needed) {
        Ok(limit) => limit,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the open-file limit; keeping --max-connections as given");
            return wanted;
        }
    };
    if limit >= needed {
        return wanted;
    }
    let cap = limit.saturating_sub(FILES_KEPT).max(1) as usize;
    tracing::warn!(wanted, cap, open_file_limit = limit, "--max-connections lowered to fit the open-file limit");
    cap
}

/// On first start (no token at all), makes the admin token `all@*` and prints it once on standard error.
async fn bootstrap(ctx: &Ctx, supplied: Option<String>) -> Result<(), StartError> {
    let admin = vec![Grant { permission: auth::Permission::All, scope: auth::Scope::Any }];
    let (secret, generated) = match supplied {
        Some(secret) if secret.len() < 32 => return Err(StartError::WeakBootstrapToken),
        Some(secret) => (secret, false),
        None => (auth::token::new_secret(), true),
    };
    if auth::issue_first(ctx.store.as_ref(), &ctx.tokens, &secret, admin).await? && generated {
        eprintln!("ticket-admin: first start: admin token (all@*), shown only this once:\n{secret}");
    }
    Ok(())
}
