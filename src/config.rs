//! The server's one configuration value: defaults here, then `TICKET_ADMIN_*` environment, then flags (both read
//! in `main.rs`). It is passed down, never global, so a test starts a server with exactly the settings it names.

use std::path::PathBuf;

use crate::store::Synchronous;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Everything a server needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen; port 0 picks a free one.
    pub addr: String,
    /// The SQLite file; created on first start.
    pub db: PathBuf,
    /// Origins allowed by CORS; none by default.
    pub cors_origins: Vec<String>,
    pub log_format: LogFormat,
    /// Largest request body (HTTP 413 beyond).
    pub max_body_bytes: usize,
    /// Most entries in one batch (`-32600` beyond).
    pub max_batch: usize,
    /// Most HTTP requests in flight; beyond, HTTP 429.
    pub max_in_flight: usize,
    /// `FULL` by default: an acknowledged write survives power loss.
    pub synchronous: Synchronous,
    /// Read-only connections, each on its own thread.
    pub readers: usize,
    /// The admin token to make on first start instead of a random one.
    pub bootstrap_token: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: "127.0.0.1:8080".into(),
            db: PathBuf::from("./ticket-admin.db"),
            cors_origins: Vec::new(),
            log_format: LogFormat::Text,
            max_body_bytes: 1024 * 1024,
            max_batch: 100,
            max_in_flight: 10_000,
            synchronous: Synchronous::Full,
            readers: 4,
            bootstrap_token: None,
        }
    }
}
