//! The server's one configuration value: defaults here, then `TICKET_ADMIN_*` environment, then flags (both read
//! in `main.rs`). It is passed down, never global, so a test starts a server with exactly the settings it names.

use std::path::PathBuf;
use std::time::Duration;

use crate::store::Synchronous;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Where the store is, as `--db` names it: a `postgres://` (or `postgresql://`) URL is PostgreSQL, anything else the
/// path of a SQLite file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Db {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Db {
    pub fn parse(text: &str) -> Db {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Db::Postgres(text.to_owned())
        } else {
            Db::Sqlite(PathBuf::from(text))
        }
    }
}

impl From<PathBuf> for Db {
    fn from(path: PathBuf) -> Db {
        Db::Sqlite(path)
    }
}

/// Shown in logs: a file's path, or a URL without its password.
impl std::fmt::Display for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Db::Sqlite(path) => write!(f, "{}", path.display()),
            Db::Postgres(url) => f.write_str(&without_password(url)),
        }
    }
}

/// A URL with the password of its user info, if any, shown as `***`.
pub fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let Some((user_info, host)) = rest.split_once('@') else { return url.to_owned() };
    match user_info.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// Everything a server needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen; port 0 picks a free one.
    pub addr: String,
    /// The store: a SQLite file (created on first start) or a PostgreSQL database.
    pub db: Db,
    /// Origins allowed by CORS; none by default.
    pub cors_origins: Vec<String>,
    pub log_format: LogFormat,
    /// A log line for every call (else only the slow and the failed ones).
    pub access_log: bool,
    /// Largest request body (HTTP 413 beyond).
    pub max_body_bytes: usize,
    /// Most entries in one batch (`-32600` beyond).
    pub max_batch: usize,
    /// Most HTTP requests in flight (counted once the body is read); beyond, HTTP 429.
    pub max_in_flight: usize,
    /// The bounds of every door: connections, time, memory.
    pub bounds: Bounds,
    /// Calls per second per token, per network and per client address without a token.
    pub rates: RateLimits,
    /// `FULL` by default: an acknowledged write survives power loss.
    pub synchronous: Synchronous,
    /// Read-only connections, each on its own thread (SQLite).
    pub readers: usize,
    /// Connections in the pool (PostgreSQL): the most calls that reach the database at once; the writer has two
    /// more of its own.
    pub db_connections: usize,
    /// The budget of tickets the kept ticket lists hold, all networks together (`--kept-tickets`; what happens beyond
    /// it: [`crate::rpc::ticket_list`]).
    pub kept_tickets: usize,
    /// The admin token to make on first start instead of a random one.
    pub bootstrap_token: Option<String>,
    /// Where the outbox is delivered; without it, messages are kept `held`.
    pub smtp: Option<crate::mail::sender::Smtp>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: "127.0.0.1:8080".into(),
            db: Db::Sqlite(PathBuf::from("./ticket-admin.db")),
            cors_origins: Vec::new(),
            log_format: LogFormat::Text,
            access_log: false,
            max_body_bytes: 1024 * 1024,
            max_batch: 100,
            max_in_flight: 10_000,
            bounds: Bounds::default(),
            rates: RateLimits::default(),
            synchronous: Synchronous::Full,
            readers: 4,
            db_connections: 16,
            kept_tickets: crate::rpc::ticket_list::KEPT_TICKETS,
            bootstrap_token: None,
            smtp: None,
        }
    }
}

impl Config {
    /// Refuses settings that could never serve a call.
    pub fn check(&self) -> Result<(), String> {
        let at_least_one = [
            ("--max-batch", self.max_batch),
            ("--max-in-flight", self.max_in_flight),
            ("--max-connections", self.bounds.max_connections),
            ("--max-body-bytes", self.max_body_bytes),
            ("--db-connections", self.db_connections),
        ];
        if let Some(smtp) = &self.smtp {
            smtp.transport()?;
        }
        if let Some(problem) = self.cors_origins.iter().find_map(|origin| origin_problem(origin)) {
            return Err(problem);
        }
        if let Some((flag, _)) = at_least_one.iter().find(|(_, n)| *n == 0) {
            return Err(format!("{flag} must be at least 1"));
        }
        let most = [
            ("--max-in-flight", self.max_in_flight),
            ("--max-connections", self.bounds.max_connections),
            ("--max-batch", self.max_batch),
        ];
        if let Some((flag, _)) = most.iter().find(|(_, n)| *n > 1_000_000) {
            return Err(format!("{flag} must be at most 1000000"));
        }
        // A share of the budget is kept for requests without a token; a largest body must fit in the rest.
        let (for_tokens, _) = self.bounds.body_budgets();
        if for_tokens < self.max_body_bytes {
            return Err(format!(
                "--max-body-memory ({}) must be at least 4/3 of --max-body-bytes ({}): a quarter of it is kept for \
                 requests without a token, and a body of the largest size must fit in the rest",
                self.bounds.max_body_memory, self.max_body_bytes
            ));
        }
        Ok(())
    }
}

/// Why `origin` could never match a browser's `Origin` header, which is exactly `scheme://host[:port]`, lowercase,
/// with no path and no trailing slash (the server compares the two byte for byte); `None` when it could.
fn origin_problem(origin: &str) -> Option<String> {
    let shape = "an Origin header is scheme://host[:port], lowercase, with no path and no trailing slash";
    let Some((scheme, rest)) = origin.split_once("://") else {
        return Some(format!("--cors-origin '{origin}' is not an origin: {shape}, e.g. https://dash.example.com"));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_lowercase())
        && scheme.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+.-".contains(c));
    let authority_ok = !authority.is_empty()
        && !authority.contains('@')
        && authority.chars().all(|c| c.is_ascii_graphic() && !c.is_ascii_uppercase());
    if scheme_ok && authority_ok && authority == rest {
        return None;
    }
    let suggestion = format!("{}://{}", scheme.to_ascii_lowercase(), authority.to_ascii_lowercase());
    Some(format!("--cors-origin '{origin}' would never match: {shape}; write '{suggestion}'"))
}

/// How long and how much each door of the server may be held. Every one is a bound an attacker cannot lift: none
/// of them needs a token to reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounds {
    /// A request head must arrive whole within this of its first byte (a connection's first head, within this of
    /// the connection's opening).
    pub header_timeout: Duration,
    /// The whole request body must arrive within this, counted from the end of its head (HTTP 408 beyond).
    pub body_timeout: Duration,
    /// A keep-alive connection with no request and no byte moving for this long is closed.
    pub idle_timeout: Duration,
    /// A call (or a whole batch) running longer gets `-32000`; a write it queued and had not begun is dropped.
    pub call_timeout: Duration,
    /// Open connections at most; at the cap the server stops accepting until one closes.
    pub max_connections: usize,
    /// Bytes of request bodies buffered at once, over all connections; beyond, HTTP 429.
    pub max_body_memory: usize,
    /// How long a graceful shutdown waits for open connections before closing them.
    pub shutdown_timeout: Duration,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            call_timeout: Duration::from_secs(30),
            max_connections: 4_096,
            max_body_memory: 256 * 1024 * 1024,
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

/// Requests without a valid token may hold one part in this many of the body-memory budget.
const ANONYMOUS_SHARE: usize = 4;

impl Bounds {
    /// The body-memory budget, split: what requests with a valid token may hold, and what those without one may.
    pub fn body_budgets(&self) -> (usize, usize) {
        let anonymous = self.max_body_memory / ANONYMOUS_SHARE;
        (self.max_body_memory - anonymous, anonymous)
    }
}

/// Token-bucket rates in calls per second (the burst is twice the rate); 0 turns a limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Per token.
    pub token: u32,
    /// Per network (the tenant), over all its callers.
    pub network: u32,
    /// Per client address, for calls without a valid token.
    pub anonymous: u32,
}

impl RateLimits {
    /// Every limit off (the load benchmark measures the server, not its limits).
    pub const OFF: RateLimits = RateLimits { token: 0, network: 0, anonymous: 0 };
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits { token: 2_000, network: 5_000, anonymous: 50 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_url_names_postgres_and_anything_else_a_file() {
        assert_eq!(Db::parse("postgres://u@h/db"), Db::Postgres("postgres://u@h/db".into()));
        assert_eq!(Db::parse("postgresql://h/db"), Db::Postgres("postgresql://h/db".into()));
        assert_eq!(Db::parse("./postgres.db"), Db::Sqlite("./postgres.db".into()));
        assert_eq!(Db::parse("postgres://u:secret@h:5432/db").to_string(), "postgres://u:***@h:5432/db");
        assert_eq!(Db::parse("postgres://u@h/db").to_string(), "postgres://u@h/db");
    }

    #[test]
    fn settings_that_could_never_serve_are_refused_by_name() {
        assert!(Config::default().check().is_ok());
        let zero_batch = Config { max_batch: 0, ..Config::default() };
        assert!(zero_batch.check().unwrap_err().contains("--max-batch"));
        let huge = Config { max_in_flight: 10_000_000, ..Config::default() };
        assert!(huge.check().unwrap_err().contains("--max-in-flight"));
        // A quarter of the budget is kept for requests without a token: a largest body must fit in the rest.
        let tight = Config {
            max_body_bytes: 1000,
            bounds: Bounds { max_body_memory: 1000, ..Bounds::default() },
            ..Config::default()
        };
        assert!(tight.check().unwrap_err().contains("--max-body-memory"));
        let fits = Config { max_body_bytes: 750, ..tight };
        assert!(fits.check().is_ok());
    }

    #[test]
    fn a_cors_origin_that_could_never_match_is_refused_with_the_one_that_would() {
        let check = |origin: &str| Config { cors_origins: vec![origin.into()], ..Config::default() }.check();
        for good in ["https://dash.example", "http://localhost:3000", "http://127.0.0.1:8081", "app+x://h"] {
            assert_eq!(check(good), Ok(()), "{good}");
        }
        for (bad, write) in [
            ("http://x/", "'http://x'"),
            ("https://dash.example/app", "'https://dash.example'"),
            ("https://Dash.Example", "'https://dash.example'"),
            ("HTTPS://dash.example", "'https://dash.example'"),
            ("https://dash.example?x=1", "'https://dash.example'"),
        ] {
            let refused = check(bad).unwrap_err();
            assert!(refused.contains(&format!("--cors-origin '{bad}'")) && refused.contains(write), "{refused}");
            assert!(refused.contains("no trailing slash"), "{refused}");
        }
        for bad in ["dash.example", "*", "https://", "https://u@dash.example"] {
            assert!(check(bad).unwrap_err().contains(&format!("--cors-origin '{bad}'")), "{bad}");
        }
    }
}
