//! The command line: `serve` (the default), offline token management, `migrate` from SQLite to PostgreSQL, and
//! `call`, one call to a running server ([`call`]). Everything else lives in the library.

mod call;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use ticket_admin::auth::{TokenInfo, TokenTable, token::Grant};
use ticket_admin::config::{Bounds, Config, Db, LogFormat, RateLimits};
use ticket_admin::store::{Store, Synchronous};

/// mimalloc for the server's many small, short-lived allocations (a request's buffers, its JSON, its futures): under
/// load glibc's malloc and free took an eighth of the server's CPU. It keeps more memory in hand (see the README's
/// Performance for both figures).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "ticket-admin", version, about = "JSON-RPC 2.0 admin server for purchasable event tickets")]
#[command(after_help = SERVE_ENV)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    #[command(after_help = SERVE_ENV)]
    Serve(ServeArgs),
    /// Manage tokens offline, on an existing database (while no server runs on it).
    Token {
        #[command(subcommand)]
        action: TokenAction,
        /// The store: a SQLite file (it must exist: a server's first start makes it), or a postgres:// URL.
        #[arg(long, env = "TICKET_ADMIN_DB", default_value = "./ticket-admin.db", global = true, value_parser = db)]
        db: Db,
    },
    /// Copy a SQLite store (while no server runs on it) into an empty PostgreSQL database: every record, counter
    /// and token, checked by counting; all or nothing.
    Migrate {
        /// The SQLite file to copy; it must exist.
        #[arg(long)]
        from: PathBuf,
        /// The PostgreSQL database to copy into, a postgres:// URL; it must hold no record and no token.
        #[arg(long)]
        to: String,
    },
    /// Send one call to a running server and print its result; for scripts and people.
    #[command(after_help = call::AFTER_HELP)]
    Call(call::CallArgs),
}

/// What `serve --help` adds: the settings read from the environment that have no flag.
const SERVE_ENV: &str = "Also read from the environment:
  TICKET_ADMIN_BOOTSTRAP_TOKEN  the admin token (all@*) to make on first start, at least 32 characters, instead of
                                a random one printed on standard error
  RUST_LOG                      the log filter (default: info)";

#[derive(Subcommand)]
enum TokenAction {
    /// Make a token and print its secret (shown only this once).
    Create {
        #[arg(long)]
        name: String,
        /// permission@scope, e.g. network.manage@net1 or all@*; repeatable.
        #[arg(long = "grant", required = true)]
        grants: Vec<String>,
        /// RFC 3339 time after which the token no longer works.
        #[arg(long)]
        expires_at: Option<String>,
        /// Make the database when it is not there (a token made before the server's first start); without it a
        /// missing database is refused, as a typo in --db would otherwise make a database no server reads.
        #[arg(long)]
        new_database: bool,
    },
    /// List tokens (never their secrets) as a table.
    List {
        /// One JSON object per token and line instead of the table, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by id.
    Revoke { id: String },
}

#[derive(Clone, Copy, ValueEnum)]
enum LogArg {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum SyncArg {
    Full,
    Normal,
}

#[derive(Args, Clone)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "TICKET_ADMIN_ADDR", default_value = "127.0.0.1:8080")]
    addr: String,
    /// The store: a SQLite file (created on first start), or a postgres:// URL of a database that several servers
    /// may share.
    #[arg(long, env = "TICKET_ADMIN_DB", default_value = "./ticket-admin.db", value_parser = db)]
    db: Db,
    /// An origin allowed by CORS; repeatable (none by default).
    #[arg(long = "cors-origin", env = "TICKET_ADMIN_CORS_ORIGINS", value_delimiter = ',')]
    cors_origins: Vec<String>,
    /// Log line format.
    #[arg(long, env = "TICKET_ADMIN_LOG_FORMAT", value_enum, default_value = "text")]
    log_format: LogArg,
    /// Log a line for every call (method, network, caller, outcome, time); without it INFO keeps start, stop,
    /// refusals, errors and calls slower than a second.
    #[arg(long, env = "TICKET_ADMIN_ACCESS_LOG")]
    access_log: bool,
    /// Largest request body in bytes (HTTP 413 beyond).
    #[arg(long, env = "TICKET_ADMIN_MAX_BODY_BYTES", default_value_t = Config::default().max_body_bytes)]
    max_body_bytes: usize,
    /// Most calls in one batch.
    #[arg(long, env = "TICKET_ADMIN_MAX_BATCH", default_value_t = Config::default().max_batch)]
    max_batch: usize,
    /// Most HTTP requests in flight, counted once their body is read (HTTP 429 beyond).
    #[arg(long, env = "TICKET_ADMIN_MAX_IN_FLIGHT", default_value_t = Config::default().max_in_flight)]
    max_in_flight: usize,
    /// A request head must arrive within this of its first byte (a new connection's, of its opening).
    #[arg(long, env = "TICKET_ADMIN_HEADER_TIMEOUT", default_value_t = Wait(Bounds::default().header_timeout))]
    header_timeout: Wait,
    /// The whole request body must arrive within this (HTTP 408 beyond).
    #[arg(long, env = "TICKET_ADMIN_BODY_TIMEOUT", default_value_t = Wait(Bounds::default().body_timeout))]
    body_timeout: Wait,
    /// A keep-alive connection idle this long between requests is closed.
    #[arg(long, env = "TICKET_ADMIN_IDLE_TIMEOUT", default_value_t = Wait(Bounds::default().idle_timeout))]
    idle_timeout: Wait,
    /// A call (or batch) running longer is answered -32000 "timed out".
    #[arg(long, env = "TICKET_ADMIN_CALL_TIMEOUT", default_value_t = Wait(Bounds::default().call_timeout))]
    call_timeout: Wait,
    /// Most open connections; at the cap the server stops accepting until one closes.
    #[arg(long, env = "TICKET_ADMIN_MAX_CONNECTIONS", default_value_t = Bounds::default().max_connections)]
    max_connections: usize,
    /// Bytes of request bodies buffered at once over all connections (HTTP 429 beyond).
    #[arg(long, env = "TICKET_ADMIN_MAX_BODY_MEMORY", default_value_t = Bounds::default().max_body_memory)]
    max_body_memory: usize,
    /// How long a graceful shutdown waits for open connections before closing them.
    #[arg(long, env = "TICKET_ADMIN_SHUTDOWN_TIMEOUT", default_value_t = Wait(Bounds::default().shutdown_timeout))]
    shutdown_timeout: Wait,
    /// Calls per second per token (burst twice that); 0 is no limit.
    #[arg(long, env = "TICKET_ADMIN_RATE_LIMIT_TOKEN", default_value_t = RateLimits::default().token)]
    rate_limit_token: u32,
    /// Calls per second per network, over all its callers (burst twice that); 0 is no limit.
    #[arg(long, env = "TICKET_ADMIN_RATE_LIMIT_NETWORK", default_value_t = RateLimits::default().network)]
    rate_limit_network: u32,
    /// Calls per second per client address without a valid token (burst twice that); 0 is no limit.
    #[arg(long, env = "TICKET_ADMIN_RATE_LIMIT_ANONYMOUS", default_value_t = RateLimits::default().anonymous)]
    rate_limit_anonymous: u32,
    /// SQLite synchronous mode: full survives power loss, normal only a crash of the process.
    #[arg(long, env = "TICKET_ADMIN_SYNCHRONOUS", value_enum, default_value = "full")]
    synchronous: SyncArg,
    /// PostgreSQL: connections in the pool, the most calls that reach the database at once; the writer has two more
    /// of its own.
    #[arg(long, env = "TICKET_ADMIN_DB_CONNECTIONS", default_value_t = Config::default().db_connections)]
    db_connections: usize,
    /// The budget of tickets the ticket lists kept in memory hold, all networks together; beyond it the lists read
    /// longest ago are let go (never the one just kept), and read whole from the store when next asked for.
    #[arg(long, env = "TICKET_ADMIN_KEPT_TICKETS", default_value_t = Config::default().kept_tickets)]
    kept_tickets: usize,
    /// Where e-mail is delivered: smtp://user:password@host:port (STARTTLS when the server offers it) or
    /// smtps://... (implicit TLS). Without it, messages are kept `held` until mail.retry after a start with one.
    #[arg(long, env = "TICKET_ADMIN_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// A PEM file of CA certificates to trust for the SMTP server's TLS, besides the built-in roots (a relay whose
    /// certificate a private CA signed, or a self-signed one); used with --smtp-url.
    #[arg(long, env = "TICKET_ADMIN_SMTP_CA_FILE")]
    smtp_ca_file: Option<PathBuf>,
    /// The sender's address of every message, as `events@example.org` or `Events <events@example.org>`;
    /// required with --smtp-url.
    #[arg(long, env = "TICKET_ADMIN_MAIL_FROM")]
    mail_from: Option<String>,
}

impl ServeArgs {
    /// The flags given that do nothing without `--smtp-url`, each said at start.
    fn ignored(&self) -> Vec<&'static str> {
        if self.smtp_url.as_deref().is_some_and(|url| !url.is_empty()) {
            return Vec::new();
        }
        let given = [
            (self.smtp_ca_file.is_some(), "--smtp-ca-file (TICKET_ADMIN_SMTP_CA_FILE) is ignored without --smtp-url"),
            (
                self.mail_from.as_deref().is_some_and(|from| !from.is_empty()),
                "--mail-from (TICKET_ADMIN_MAIL_FROM) is ignored without --smtp-url: messages are kept held",
            ),
        ];
        given.into_iter().filter(|(given, _)| *given).map(|(_, note)| note).collect()
    }

    fn config(self) -> Config {
        Config {
            addr: self.addr,
            db: self.db,
            cors_origins: self.cors_origins.into_iter().filter(|o| !o.is_empty()).collect(),
            access_log: self.access_log,
            log_format: match self.log_format {
                LogArg::Text => LogFormat::Text,
                LogArg::Json => LogFormat::Json,
            },
            max_body_bytes: self.max_body_bytes,
            max_batch: self.max_batch,
            max_in_flight: self.max_in_flight,
            bounds: Bounds {
                header_timeout: self.header_timeout.0,
                body_timeout: self.body_timeout.0,
                idle_timeout: self.idle_timeout.0,
                call_timeout: self.call_timeout.0,
                max_connections: self.max_connections,
                max_body_memory: self.max_body_memory,
                shutdown_timeout: self.shutdown_timeout.0,
            },
            rates: RateLimits {
                token: self.rate_limit_token,
                network: self.rate_limit_network,
                anonymous: self.rate_limit_anonymous,
            },
            synchronous: match self.synchronous {
                SyncArg::Full => Synchronous::Full,
                SyncArg::Normal => Synchronous::Normal,
            },
            db_connections: self.db_connections,
            kept_tickets: self.kept_tickets,
            bootstrap_token: std::env::var("TICKET_ADMIN_BOOTSTRAP_TOKEN").ok().filter(|t| !t.is_empty()),
            smtp: self.smtp_url.filter(|u| !u.is_empty()).map(|url| ticket_admin::mail::sender::Smtp {
                ca_file: self.smtp_ca_file.clone(),
                ..ticket_admin::mail::sender::Smtp::new(url, self.mail_from.clone().unwrap_or_default())
            }),
            ..Config::default()
        }
    }
}

/// The store `--db` names ([`Db::parse`]).
fn db(text: &str) -> Result<Db, String> {
    if text.is_empty() { Err("must name a file or a postgres:// URL".into()) } else { Ok(Db::parse(text)) }
}

/// A duration on the command line, such as `10s`, `500ms` or `2m`; it must be more than zero. Shown the same way,
/// so that `--help` prints each default from [`Bounds::default`].
#[derive(Clone, Copy)]
struct Wait(Duration);

impl std::str::FromStr for Wait {
    type Err = String;

    fn from_str(text: &str) -> Result<Wait, String> {
        match humantime::parse_duration(text) {
            Ok(d) if d.is_zero() => Err("must be more than zero".into()),
            Ok(d) => Ok(Wait(d)),
            Err(e) => Err(format!("{e} (write it as 10s, 500ms or 2m)")),
        }
    }
}

impl std::fmt::Display for Wait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

/// Logs at INFO (or as `RUST_LOG` says); the line of every call (target `ticket_admin::call`) only with
/// `access_log`, or when `RUST_LOG` names that target itself.
fn init_logging(format: LogFormat, access_log: bool) {
    const CALLS: &str = "ticket_admin::call";
    let asked = std::env::var("RUST_LOG").ok();
    let mut filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    if access_log {
        filter = filter.add_directive(format!("{CALLS}=info").parse().expect("a directive"));
    } else if !asked.is_some_and(|a| a.contains(CALLS)) {
        filter = filter.add_directive(format!("{CALLS}=off").parse().expect("a directive"));
    }
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ticket-admin: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = match cli.command {
        None => runtime.block_on(serve(cli.serve)),
        Some(Command::Serve(args)) => runtime.block_on(serve(args)),
        Some(Command::Token { action, db }) => runtime.block_on(token(action, db)),
        Some(Command::Migrate { from, to }) => runtime.block_on(migrate(from, to)),
        Some(Command::Call(args)) => return runtime.block_on(call::run(args)),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("ticket-admin: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let ignored = args.ignored();
    let config = args.config();
    config.check().map_err(|e| format!("configuration: {e}"))?;
    init_logging(config.log_format, config.access_log);
    for note in ignored {
        tracing::warn!("{note}");
    }
    // Listened to before the server starts: a stop signal sent once it serves is always a clean stop, never the
    // signal's default (death) in the moment between the first answer and a handler put in place after it.
    let stopped = stop_signals().map_err(|e| format!("cannot listen for stop signals: {e}"))?;
    let running = ticket_admin::start(config.clone()).await.map_err(|e| match e {
        ticket_admin::StartError::Bind { .. } => format!(
            "{e}; nothing was started and the database was not opened (an admin token, if one is ever lost, is made \
             again while no server runs: ticket-admin token create --name admin --grant 'all@*' --db {})",
            config.db
        ),
        other => other.to_string(),
    })?;
    tracing::info!(addr = %running.local_addr(), db = %config.db, "listening");
    stopped.await;
    tracing::info!("shutting down: finishing in-flight calls");
    running.shutdown().await;
    Ok(())
}

/// Resolves at the first SIGTERM or SIGINT (Ctrl-C) from now on: the handlers are in place when this returns.
#[cfg(unix)]
fn stop_signals() -> std::io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let (mut term, mut interrupt) = (signal(SignalKind::terminate())?, signal(SignalKind::interrupt())?);
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = interrupt.recv() => {}
        }
    })
}

/// Resolves at the first Ctrl-C from now on: the handler is in place when this returns.
#[cfg(windows)]
fn stop_signals() -> std::io::Result<impl Future<Output = ()>> {
    let mut interrupt = tokio::signal::windows::ctrl_c()?;
    Ok(async move {
        interrupt.recv().await;
    })
}

async fn token(action: TokenAction, db: Db) -> Result<(), String> {
    // Opening a SQLite file that is not there would make an empty database: a typo in --db would list no token
    // and make tokens nobody's server reads. Only `token create --new-database` makes one, on purpose.
    let may_make = matches!(action, TokenAction::Create { new_database: true, .. });
    if let Db::Sqlite(path) = &db
        && !path.exists()
        && !may_make
    {
        return Err(format!(
            "no database at {}: check --db (or TICKET_ADMIN_DB); nothing was created. A server's first start makes \
             the database (ticket-admin serve --db {}), as does token create --new-database",
            path.display(),
            path.display()
        ));
    }
    let config = Config { db, ..Config::default() };
    let store = ticket_admin::open_store(&config).await.map_err(|e| e.to_string())?;
    let outcome = run_token(action, store.as_ref()).await;
    let closing = store.clone();
    let _ = tokio::task::spawn_blocking(move || closing.close()).await;
    outcome
}

/// Copies the store and prints the rows of each table copied, one line each (`tickets 1234`).
async fn migrate(from: PathBuf, to: String) -> Result<(), String> {
    let copied = ticket_admin::store::copy::copy(&from, &to).await.map_err(|e| e.to_string())?;
    for (table, rows) in copied {
        println!("{table} {rows}");
    }
    Ok(())
}

async fn run_token(action: TokenAction, store: &dyn Store) -> Result<(), String> {
    match action {
        TokenAction::Create { name, grants, expires_at, .. } => {
            let grants = grants
                .iter()
                .map(|g| Grant::parse(g).map_err(|e| format!("grant '{g}' {e}")))
                .collect::<Result<Vec<_>, _>>()?;
            let now = ticket_admin::domain::time::now();
            let expires_at = expires_at
                .map(|t| ticket_admin::auth::token::expires_at(&serde_json::Value::String(t), now))
                .transpose()
                .map_err(|e| format!("--expires-at {e}"))?;
            // No server runs on the store: the token table the issue fills is this command's own.
            let (secret, info) = ticket_admin::auth::issue(store, &TokenTable::default(), name, grants, expires_at)
                .await
                .map_err(|e| e.to_string())?;
            println!("{secret}");
            eprintln!("token {} created; the secret above is shown only this once", info.id);
        }
        TokenAction::List { json } => {
            let all: Vec<TokenInfo> =
                store.tokens().await.map_err(|e| e.to_string())?.into_iter().map(|(_, t)| t).collect();
            if json {
                for info in all {
                    println!("{}", info.to_json());
                }
            } else {
                print!("{}", token_table(&all, ticket_admin::domain::time::now()));
            }
        }
        TokenAction::Revoke { id } => {
            store.revoke_token(id.clone()).await.map_err(|e| e.to_string())?;
            eprintln!("token {id} revoked");
        }
    }
    Ok(())
}

/// The tokens as a table for people: one line each, columns padded to their widest cell, the state spelled out.
fn token_table(tokens: &[TokenInfo], now: ticket_admin::domain::time::Timestamp) -> String {
    let header = ["ID", "NAME", "GRANTS", "STATE", "CREATED", "EXPIRES"].map(str::to_owned);
    let rows = tokens.iter().map(|token| {
        let shown = token.to_json();
        let text = |member: &str| shown[member].as_str().unwrap_or("-").to_owned();
        let state = if token.revoked_at.is_some() {
            "revoked"
        } else if token.is_active(now) {
            "active"
        } else {
            "expired"
        };
        let grants = token.grants.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
        [token.id.clone(), token.name.clone(), grants, state.to_owned(), text("createdAt"), text("expiresAt")]
    });
    let table: Vec<[String; 6]> = std::iter::once(header).chain(rows).collect();
    let widths: Vec<usize> =
        (0..6).map(|c| table.iter().map(|row| row[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for row in &table {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}
