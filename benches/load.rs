//! `cargo bench --bench load`: throughput and latency of the server, per scenario, as ratios to its ceilings.
//!
//! Starts the release server binary as a child process on a fresh temporary database, seeds it (2 networks, 100
//! tickets each, 100,000 registrations over 20 events, function tickets for a tenth of them), then drives each
//! scenario over keep-alive HTTP/1.1 connections for a fixed time, every call authenticated as a `network.manage`
//! token. `floor` is a bare jsonrpsee server inside this process (one no-op method, no auth): the transport's own
//! ceiling on this machine; `floor.list` is the same server answering the bytes of the real ticket list, a reference
//! for an answer of that size (jsonrpsee parses each result it sends again; the server hands its own past that);
//! `whoami` is the server's ceiling (transport, auth and guard, no store). `ticket.list@25k` runs on a network of its
//! own, 25,000 tickets seeded only when that scenario is selected: nine calls in ten are the list's first page
//! (`limit: 50`), one in ten changes one of its tickets; the list calls' own latencies are printed apart.
//! `ticket.list@25k.quiet` sends only those list calls, to the same network: the difference is what the writes cost.
//! `registration.generateOrder` orders the seeded registrations one after the other, each call making a new order.
//! `mail` queues the confirmation e-mail of a seeded registration per call (`registration.resendConfirmationEmail`):
//! the server runs without `--smtp-url`, so each message is written `held` and no sender runs; the figures are the
//! server's own cost of queueing (the registration, its ticket, its order and the template read, the message
//! rendered, one outbox row written), not an SMTP server's nor a sender's, which on this machine would share its
//! two cores with the calls measured.
//!
//! Flags: `--connections N` (32), `--seconds S` (5), `--scenario NAME` (repeatable; all by default),
//! `--registrations N` (100000), `--limits` (rate limits on, at a million calls a second, so that every check runs
//! and none refuses: the cost of the limits; without it they are off, so that the figures are the server's and not
//! its limits'). Prints a table and writes the same as JSON to `target/bench/load.json`.
//!
//! The store: `--store sqlite|postgres|both` (sqlite). `postgres` starts a PostgreSQL cluster of the benchmark's own
//! (`tests/it/common/cluster.rs`, durable: fsync and `synchronous_commit` on, PostgreSQL's defaults), makes a
//! database and serves it with `--db-connections N` (16) pooled connections per server; `--servers N` (1) starts N
//! servers on that one database, and connection `i` of every scenario (and batch `i` of the seeding) goes to server
//! `i % N`. After the scenarios, `pgbench` on the same cluster inserts single rows shaped like a ticket, one per
//! transaction, on as many connections as the scenarios use: what the database alone commits, beside
//! `ticket.create`. It runs in `--rounds N` (3) rounds, each followed at once by `ticket.create` on the servers, so
//! each pair is measured in the same moment of a machine whose cores the two share; the comparison is the median of
//! the rounds' ratios (one round, pgbench alone, when `ticket.create` is not selected). `both` runs the selected
//! scenarios on SQLite, then on PostgreSQL, and prints them side by side.
//! Each call's error (its HTTP status, code and message) is counted, and the servers' warnings and errors are
//! printed after each store's table.
//!
//! The client speaks HTTP/1.1 itself, one task per connection (`Conn`), and its own CPU per call is the table's
//! last column: it shares the machine's cores with the server and PostgreSQL, as pgbench's client does with
//! PostgreSQL. Beside pgbench's rate the benchmark prints each side's CPU per insert: PostgreSQL's and pgbench's per
//! transaction, and the server's, PostgreSQL's and the client's per `ticket.create`.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The client's allocator is the server's: it shares the machine's two cores with the server (and with PostgreSQL),
/// so the less of them it takes, the more the figures are the server's own.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "../tests/it/common/cluster.rs"]
mod cluster;
mod common;
use cluster::Cluster;
use common::{EVENTS, registration};

const ADMIN: &str = "ta_bench_admin_0123456789abcdef0123456789abcdef";
const TICKETS: usize = 100;
/// The scenario that reads a large ticket list while its tickets change.
const LIST_AT_SCALE: &str = "ticket.list@25k";
/// The same list calls on the same network with no writes: what the writes add to them.
const LIST_AT_SCALE_QUIET: &str = "ticket.list@25k.quiet";
/// The tickets of its network.
const TICKETS_AT_SCALE: usize = 25_000;
/// Its list calls, whose latencies are kept apart from those of its writes.
const LIST_AT_SCALE_READS: Part =
    Part { label: "list {limit: 50} under 10% writes", takes: |w, n| !(w as u64 + n).is_multiple_of(10) };
/// The database the PostgreSQL servers share, and the one pgbench writes to, on the benchmark's cluster.
const PG_DATABASE: &str = "load";
const PGBENCH_DATABASE: &str = "pgbench_reference";
/// pgbench's worker threads (the machine this is built on has two cores).
const PGBENCH_THREADS: usize = 2;
/// How long every server may take to accept the benchmark's token made on the first (they learn of it by NOTIFY).
const TOKEN_SPREAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Most distinct errors a scenario's worker counts apart; the rest are counted together.
const FAILURES_KEPT: usize = 20;
/// Most distinct messages kept of a server's log.
const LOG_MESSAGES_KEPT: usize = 50;

struct Options {
    connections: usize,
    seconds: u64,
    scenarios: Vec<String>,
    registrations: usize,
    limits: bool,
    stores: Stores,
    /// Servers on the one PostgreSQL database.
    servers: usize,
    /// Each PostgreSQL server's pool.
    db_connections: usize,
    /// Rounds of pgbench, each followed by `ticket.create`, after the scenarios on PostgreSQL.
    rounds: usize,
}

/// The stores a run measures (`--store`).
#[derive(Clone, Copy, PartialEq)]
enum Stores {
    Sqlite,
    Postgres,
    Both,
}

impl Stores {
    fn kinds(self) -> &'static [StoreKind] {
        match self {
            Stores::Sqlite => &[StoreKind::Sqlite],
            Stores::Postgres => &[StoreKind::Postgres],
            Stores::Both => &[StoreKind::Sqlite, StoreKind::Postgres],
        }
    }
}

/// One store a run measures.
#[derive(Clone, Copy, PartialEq)]
enum StoreKind {
    Sqlite,
    Postgres,
}

impl StoreKind {
    fn name(self) -> &'static str {
        match self {
            StoreKind::Sqlite => "sqlite",
            StoreKind::Postgres => "postgres",
        }
    }
}

fn options() -> Options {
    let mut o = Options {
        connections: 32,
        seconds: 5,
        scenarios: Vec::new(),
        registrations: 100_000,
        limits: false,
        stores: Stores::Sqlite,
        servers: 1,
        db_connections: 16,
        rounds: 3,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--connections" => o.connections = value().parse().expect("--connections N"),
            "--seconds" => o.seconds = value().parse().expect("--seconds S"),
            "--scenario" => o.scenarios.push(value()),
            "--registrations" => o.registrations = value().parse().expect("--registrations N"),
            "--limits" => o.limits = true,
            "--store" => {
                o.stores = match value().as_str() {
                    "sqlite" => Stores::Sqlite,
                    "postgres" => Stores::Postgres,
                    "both" => Stores::Both,
                    other => panic!("--store sqlite|postgres|both, not {other:?}"),
                }
            }
            "--servers" => o.servers = value().parse().expect("--servers N"),
            "--db-connections" => o.db_connections = value().parse().expect("--db-connections N"),
            "--rounds" => o.rounds = value().parse().expect("--rounds N"),
            _ => {} // cargo passes --bench; anything else is ignored
        }
    }
    assert!(o.servers >= 1, "--servers is at least 1");
    assert!(o.rounds >= 1, "--rounds is at least 1");
    assert!(o.servers == 1 || o.stores != Stores::Sqlite, "--servers is for PostgreSQL: add --store postgres or both");
    o
}

/// The server as a child process; killed when dropped.
struct Server {
    child: Child,
    addr: String,
    /// The warnings and errors of its log.
    log: Arc<Mutex<LogIssues>>,
}

/// A server's warnings and errors, by message and cause: how many, and the first whole line of each.
#[derive(Default)]
struct LogIssues {
    by_message: HashMap<String, (u64, String)>,
    /// Lines whose message came after the most kept.
    others: u64,
}

impl LogIssues {
    /// Notes `line` if it is a warning or an error.
    fn note(&mut self, line: &str) {
        let Ok(log) = serde_json::from_str::<Value>(line) else { return };
        if !matches!(log["level"].as_str(), Some("WARN" | "ERROR")) {
            return;
        }
        let fields = &log["fields"];
        let mut message = fields["message"].as_str().unwrap_or(line).to_owned();
        // An internal error's message is always the same; its cause tells them apart.
        for cause in ["cause", "error"].iter().filter_map(|key| fields[key].as_str()) {
            message = format!("{message} ({cause})");
        }
        let kept = self.by_message.len();
        match self.by_message.get_mut(&message) {
            Some((count, _)) => *count += 1,
            None if kept < LOG_MESSAGES_KEPT => {
                self.by_message.insert(message, (1, line.to_owned()));
            }
            None => self.others += 1,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts the server on `db` (a SQLite file or a postgres:// URL), with a pool of `db_connections` when it is
    /// PostgreSQL's.
    fn start(db: &OsString, db_connections: Option<usize>, limits: bool) -> Server {
        // TICKET_ADMIN_BENCH_BINARY runs another build of the server under the same client, to compare two builds.
        let binary =
            std::env::var_os("TICKET_ADMIN_BENCH_BINARY").unwrap_or_else(|| env!("CARGO_BIN_EXE_ticket-admin").into());
        let mut command = Command::new(binary);
        command.args(["serve", "--addr", "127.0.0.1:0", "--log-format", "json", "--db"]).arg(db);
        if let Some(n) = db_connections {
            command.args(["--db-connections", &n.to_string()]);
        }
        // Rate limits off, or on at a rate no scenario reaches.
        let rate = if limits { "1000000" } else { "0" };
        command.args(["--rate-limit-token", rate, "--rate-limit-network", rate, "--rate-limit-anonymous", rate]);
        // No SMTP URL from the environment either: the `mail` scenario measures queueing alone.
        let mut child = command
            .env_remove("TICKET_ADMIN_SMTP_URL")
            .env("TICKET_ADMIN_BOOTSTRAP_TOKEN", ADMIN)
            .env("RUST_LOG", "warn,ticket_admin=info,ticket_admin::call=warn")
            .stderr(Stdio::piped())
            .spawn()
            .expect("server binary starts");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let log = Arc::new(Mutex::new(LogIssues::default()));
        let addr = loop {
            let line = lines.next().expect("server exited before listening").expect("stderr line");
            log.lock().expect("log issues").note(&line);
            let Ok(parsed) = serde_json::from_str::<Value>(&line) else { continue };
            if parsed["fields"]["message"] == "listening" {
                break parsed["fields"]["addr"].as_str().expect("addr").to_owned();
            }
        };
        // Keep draining the server's log so it never blocks on a full pipe, noting its warnings and errors.
        let issues = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                issues.lock().expect("log issues").note(&line);
            }
        });
        Server { child, addr, log }
    }

    /// The server's CPU time so far, user and system, in microseconds.
    fn cpu_us(&self) -> f64 {
        proc_cpu_us(self.child.id(), false)
    }

    /// The server's peak resident set size so far (VmHWM), in MB.
    fn peak_rss_mb(&self) -> f64 {
        self.status_mb("VmHWM:")
    }

    /// A size from the server's `/proc/<pid>/status`, in MB.
    fn status_mb(&self, field: &str) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }
}

/// The fields of `/proc/<pid>/stat` after the command name (which is in parentheses and may hold spaces): the
/// state is the first, the parent's id the second, utime, stime, cutime and cstime the 12th to 15th.
fn proc_stat(pid: u32) -> Vec<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(')').map_or(Vec::new(), |(_, rest)| rest.split_whitespace().map(str::to_owned).collect())
}

/// A process's CPU time so far, user and system, in microseconds (in 10 ms ticks); with `children`, that of its
/// ended children it waited for too.
fn proc_cpu_us(pid: u32, children: bool) -> f64 {
    ticks_us(pid, 11..if children { 15 } else { 13 })
}

/// The sum of some of a process's `stat` fields (counted after its command name) that are clock ticks, in
/// microseconds.
fn ticks_us(pid: u32, fields: std::ops::Range<usize>) -> f64 {
    let stat = proc_stat(pid);
    stat.get(fields).unwrap_or_default().iter().filter_map(|t| t.parse::<f64>().ok()).sum::<f64>() * 10_000.0
}

/// This process's own CPU time so far (the benchmark's client, with its in-process floor server), in microseconds.
fn client_cpu_us() -> f64 {
    proc_cpu_us(std::process::id(), false)
}

/// The CPU time of this process's ended children it waited for (cutime and cstime), in microseconds.
fn children_cpu_us() -> f64 {
    ticks_us(std::process::id(), 13..15)
}

/// The running children of a process.
fn children(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| proc_stat(*child).get(1).is_some_and(|parent| *parent == pid.to_string()))
        .collect()
}

/// The CPU time so far of a process and of all its children, ended or running, in microseconds: a PostgreSQL
/// cluster's, whose postmaster starts a process per connection and waits for each. (A child that ends while this
/// reads would be counted twice, running and then ended: read it while none is ending.)
fn tree_cpu_us(pid: u32) -> f64 {
    proc_cpu_us(pid, true) + children(pid).into_iter().map(|child| proc_cpu_us(child, true)).sum::<f64>()
}

/// Where one store's servers keep their data.
enum Backing<'c> {
    /// A SQLite file in a temporary directory.
    Sqlite(tempfile::TempDir),
    /// The database of the benchmark's PostgreSQL cluster.
    Postgres { cluster: &'c Cluster, url: String },
}

impl Backing<'_> {
    /// The server's `--db`.
    fn db(&self) -> OsString {
        match self {
            Backing::Sqlite(dir) => dir.path().join("load.db").into_os_string(),
            Backing::Postgres { url, .. } => url.into(),
        }
    }

    /// After the seeding: PostgreSQL's statistics and visibility map brought up to date, as autovacuum would
    /// before long (rather than during a scenario), and its dirty buffers written; then the kernel's dirty pages
    /// flushed, so that the measurements do not pay for the seeding's writes.
    fn settle(&self) {
        if let Backing::Postgres { cluster, .. } = self {
            common::settle_postgres(cluster, PG_DATABASE);
        }
        let _ = Command::new("sync").status();
    }

    /// The database's size in bytes, and what it counts.
    fn size(&self) -> Result<(u64, &'static str), String> {
        match self {
            Backing::Sqlite(dir) => Ok((
                ["load.db", "load.db-wal"]
                    .iter()
                    .filter_map(|name| std::fs::metadata(dir.path().join(name)).ok())
                    .map(|m| m.len())
                    .sum(),
                "file and WAL",
            )),
            Backing::Postgres { cluster, .. } => cluster
                .query(PG_DATABASE, "SELECT pg_database_size(current_database())")
                .map_err(|e| e.to_string())?
                .parse()
                .map(|bytes| (bytes, "pg_database_size: tables, indexes and TOAST, not the WAL"))
                .map_err(|e| format!("pg_database_size: {e}")),
        }
    }

    /// The database server's own CPU time so far, in microseconds: PostgreSQL's (SQLite runs inside the server).
    fn cpu_us(&self) -> Option<f64> {
        match self {
            Backing::Sqlite(_) => None,
            Backing::Postgres { cluster, .. } => Some(tree_cpu_us(cluster.server_pid())),
        }
    }
}

/// One keep-alive HTTP/1.1 connection, spoken by hand: a call is one write of its head and body, and its answer is
/// read on the same task. (hyper's client hands each request to a connection task of its own and back, which on the
/// two cores the benchmark shares with the server cost about as much as the server's own transport.)
struct Conn {
    stream: tokio::io::BufReader<TcpStream>,
    addr: String,
    /// The request being written, kept between calls.
    out: Vec<u8>,
    /// The answer's head line being read, kept between calls.
    line: Vec<u8>,
}

impl Conn {
    async fn open(addr: &str) -> Conn {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Conn { stream: tokio::io::BufReader::new(stream), addr: addr.to_owned(), out: Vec::new(), line: Vec::new() }
    }

    /// POSTs a body with a token and a network; the status and the answer.
    async fn post(&mut self, token: &str, network: &str, body: Bytes) -> (u16, Bytes) {
        use std::io::Write as _;
        self.out.clear();
        write!(
            self.out,
            "POST /jsonRpc HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\nauthorization: Bearer {token}\r\n\
             x-network-id: {network}\r\ncontent-length: {}\r\n\r\n",
            self.addr,
            body.len()
        )
        .expect("a request head");
        self.out.extend_from_slice(&body);
        self.stream.get_mut().write_all(&self.out).await.expect("request written");
        self.answer().await
    }

    /// Reads one answer: its status line, its head (a length, or chunks), and its body.
    async fn answer(&mut self) -> (u16, Bytes) {
        self.head_line().await;
        let status = std::str::from_utf8(&self.line)
            .ok()
            .and_then(|l| l.strip_prefix("HTTP/1.1 "))
            .and_then(|l| l.get(..3))
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP/1.1 status line: {:?}", String::from_utf8_lossy(&self.line)));
        let (mut length, mut chunked) = (None, false);
        while self.head_line().await > 0 {
            let line = std::str::from_utf8(&self.line).expect("a header in UTF-8");
            let (name, value) = line.split_once(':').expect("a header");
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.trim().parse::<usize>().expect("a length"));
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.trim().eq_ignore_ascii_case("chunked");
            }
        }
        let mut body = Vec::with_capacity(length.unwrap_or(0));
        match (length, chunked) {
            (Some(n), false) => self.append(&mut body, n).await,
            (_, true) => loop {
                self.head_line().await;
                let size = std::str::from_utf8(&self.line).ok().and_then(|s| s.split(';').next());
                let size = size.and_then(|s| usize::from_str_radix(s.trim(), 16).ok()).expect("a chunk size");
                if size == 0 {
                    // The last chunk: trailers, if any, up to an empty line.
                    while self.head_line().await > 0 {}
                    break;
                }
                self.append(&mut body, size).await;
                assert_eq!(self.head_line().await, 0, "a chunk ends with CRLF");
            },
            (None, false) => panic!("an answer with neither a length nor chunks"),
        }
        (status, Bytes::from(body))
    }

    /// Reads one line of the answer's head into `line`, without its CRLF; its length.
    async fn head_line(&mut self) -> usize {
        self.line.clear();
        let read = self.stream.read_until(b'\n', &mut self.line).await.expect("answer read");
        assert!(read > 0, "the server closed the connection");
        assert!(self.line.ends_with(b"\r\n"), "the server closed the connection in the middle of a line");
        self.line.truncate(self.line.len() - 2);
        self.line.len()
    }

    /// Reads `n` more bytes of the body onto `body`.
    async fn append(&mut self, body: &mut Vec<u8>, n: usize) {
        let start = body.len();
        body.resize(start + n, 0);
        self.stream.read_exact(&mut body[start..]).await.expect("answer body");
    }
}

async fn call(conn: &mut Conn, token: &str, network: &str, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let (_, answer) = conn.post(token, network, Bytes::from(body)).await;
    let answer: Value = serde_json::from_slice(&answer).expect("json");
    assert!(answer["error"].is_null(), "{method}: {answer}");
    answer["result"].clone()
}

fn ticket(i: usize, allocation: Option<u64>) -> Value {
    serde_json::to_value(NewTicket::new(i, allocation)).expect("a ticket")
}

/// Ticket `i` as the client sends it: serialized straight into a call's text, with no JSON object built first.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct NewTicket {
    product_id: String,
    event_name: String,
    event_start_date: &'static str,
    event_end_date: &'static str,
    ticket_type: &'static str,
    ticket_name: String,
    price: f64,
    allocation: Option<u64>,
    display_order: usize,
}

impl NewTicket {
    fn new(i: usize, allocation: Option<u64>) -> NewTicket {
        NewTicket {
            product_id: format!("ticket-{i}"),
            event_name: format!("Event {}", i % EVENTS),
            event_start_date: "2027-05-01T09:00:00Z",
            event_end_date: "2027-05-03T18:00:00Z",
            ticket_type: "single",
            ticket_name: format!("Ticket {i}"),
            price: (i % 300) as f64 + 0.5,
            allocation,
            display_order: i,
        }
    }
}

/// `{ticket}`, the params of a create.
#[derive(serde::Serialize)]
struct TicketParams {
    ticket: NewTicket,
}

/// Sends JSON-RPC batches of `method` calls, 8 requests in flight, batch `i` to server `i % servers`; the results in
/// order.
async fn seed(addrs: &[String], network: &str, method: &str, params: Vec<Value>) -> Vec<Value> {
    let chunks: Vec<Vec<Value>> = params.chunks(100).map(<[Value]>::to_vec).collect();
    let mut results = Vec::with_capacity(params.len());
    for (g, group) in chunks.chunks(8).enumerate() {
        let sent = group.iter().enumerate().map(|(k, chunk)| {
            let addr = addrs[(g * 8 + k) % addrs.len()].clone();
            let network = network.to_owned();
            let batch: Vec<Value> = chunk
                .iter()
                .enumerate()
                .map(|(i, p)| json!({"jsonrpc": "2.0", "id": i, "method": method, "params": p}))
                .collect();
            async move {
                let mut conn = Conn::open(&addr).await;
                let (_, answer) = conn.post(ADMIN, &network, Bytes::from(Value::Array(batch).to_string())).await;
                let mut answers: Vec<Value> = serde_json::from_slice(&answer).expect("batch answer");
                answers.sort_by_key(|a| a["id"].as_u64());
                answers
            }
        });
        for answers in futures_util::future::join_all(sent).await {
            for a in answers {
                assert!(a["error"].is_null(), "seeding {method}: {a}");
                results.push(a["result"].clone());
            }
        }
    }
    results
}

/// What a scenario sends: the body of call `n` of worker `w`, and how many calls it carries.
type MakeBody = Arc<dyn Fn(usize, u64) -> (String, u64) + Send + Sync>;

/// A part of a scenario's calls whose latencies are also measured on their own.
#[derive(Clone, Copy)]
struct Part {
    label: &'static str,
    /// Whether call `n` of worker `w` belongs to the part.
    takes: fn(usize, u64) -> bool,
}

/// The latencies of a part's calls.
struct PartOutcome {
    label: &'static str,
    calls: u64,
    p50_ms: f64,
    p99_ms: f64,
    p999_ms: f64,
}

struct Outcome {
    name: String,
    requests_per_s: f64,
    /// The calls made, and per second.
    calls: u64,
    calls_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    p999_ms: f64,
    errors: u64,
    /// The failed requests by what they were answered (HTTP status, JSON-RPC code and message), most first.
    failures: Vec<(String, u64)>,
    calls_per_commit: Option<f64>,
    /// The servers' peak RSS at the end of the scenario (the largest of one server), in MB.
    peak_rss_mb: f64,
    /// The servers' CPU time (user and system) per call, in microseconds: their cost, which drifts less with the
    /// machine than throughput does.
    server_us_per_call: Option<f64>,
    /// PostgreSQL's CPU time per call (every process of the cluster), in microseconds; none on SQLite, whose cost
    /// is the server's.
    database_us_per_call: Option<f64>,
    /// This benchmark's own CPU time per call (its client, on the same cores), in microseconds.
    client_us_per_call: Option<f64>,
    /// The latencies of the scenario's part, if it has one.
    part: Option<PartOutcome>,
}

/// A latency quantile of a histogram of microseconds, in milliseconds.
fn ms(histogram: &Histogram<u64>, quantile: f64) -> f64 {
    histogram.value_at_quantile(quantile) as f64 / 1000.0
}

/// Drives one scenario on `connections` connections for `seconds`, connection `i` to `addrs[i % addrs.len()]`;
/// latency per request from a histogram, and the latency of the calls of `part` from one of their own.
async fn drive(
    name: &str,
    addrs: &[String],
    token: &str,
    network: &str,
    o: &Options,
    make: MakeBody,
    part: Option<Part>,
) -> Outcome {
    let deadline = Instant::now() + Duration::from_secs(o.seconds);
    let started = Instant::now();
    let workers = (0..o.connections).map(|w| {
        let make = make.clone();
        let (addr, token, network) = (addrs[w % addrs.len()].clone(), token.to_owned(), network.to_owned());
        tokio::spawn(async move {
            let mut conn = Conn::open(&addr).await;
            let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
            let mut part_histogram = histogram.clone();
            let mut failures = Failures::default();
            let (mut n, mut calls) = (0u64, 0u64);
            while Instant::now() < deadline {
                let (body, carried) = make(w, n);
                let sent = Instant::now();
                let (status, answer) = conn.post(&token, &network, Bytes::from(body)).await;
                let us = sent.elapsed().as_micros().max(1) as u64;
                histogram.record(us).expect("record");
                if part.is_some_and(|p| (p.takes)(w, n)) {
                    part_histogram.record(us).expect("record");
                }
                if status != 200 || !succeeded(&answer) {
                    failures.note(failure(status, &answer));
                }
                n += 1;
                calls += carried;
            }
            (histogram, part_histogram, failures, n, calls)
        })
    });
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
    let mut part_histogram = histogram.clone();
    let mut failures = Failures::default();
    let (mut requests, mut calls) = (0u64, 0u64);
    for worker in futures_util::future::join_all(workers).await {
        let (h, p, f, n, c) = worker.expect("worker");
        histogram.add(&h).expect("merge");
        part_histogram.add(&p).expect("merge");
        failures.merge(f);
        requests += n;
        calls += c;
    }
    let elapsed = started.elapsed().as_secs_f64();
    Outcome {
        name: name.to_owned(),
        requests_per_s: requests as f64 / elapsed,
        calls,
        calls_per_s: calls as f64 / elapsed,
        p50_ms: ms(&histogram, 0.5),
        p99_ms: ms(&histogram, 0.99),
        p999_ms: ms(&histogram, 0.999),
        errors: failures.total,
        failures: failures.most_first(),
        calls_per_commit: None,
        peak_rss_mb: 0.0,
        server_us_per_call: None,
        database_us_per_call: None,
        client_us_per_call: None,
        part: part.map(|p| PartOutcome {
            label: p.label,
            calls: part_histogram.len(),
            p50_ms: ms(&part_histogram, 0.5),
            p99_ms: ms(&part_histogram, 0.99),
            p999_ms: ms(&part_histogram, 0.999),
        }),
    }
}

/// Failed requests counted by what they were answered.
#[derive(Default)]
struct Failures {
    total: u64,
    by_answer: HashMap<String, u64>,
}

impl Failures {
    fn note(&mut self, answer: String) {
        self.total += 1;
        let kept = self.by_answer.len();
        match self.by_answer.get_mut(&answer) {
            Some(count) => *count += 1,
            None if kept < FAILURES_KEPT => {
                self.by_answer.insert(answer, 1);
            }
            None => *self.by_answer.entry("(other answers)".to_owned()).or_default() += 1,
        }
    }

    fn merge(&mut self, other: Failures) {
        self.total += other.total;
        for (answer, count) in other.by_answer {
            *self.by_answer.entry(answer).or_default() += count;
        }
    }

    fn most_first(self) -> Vec<(String, u64)> {
        let mut all: Vec<(String, u64)> = self.by_answer.into_iter().collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        all
    }
}

/// What a failed request was answered: its HTTP status and the JSON-RPC code and message of its (first) error, or
/// the start of a body that is not JSON-RPC.
fn failure(status: u16, answer: &[u8]) -> String {
    let parsed: Option<Value> = serde_json::from_slice(answer).ok();
    let error = match &parsed {
        Some(Value::Array(entries)) => entries.iter().map(|e| &e["error"]).find(|e| !e.is_null()),
        Some(single) => Some(&single["error"]).filter(|e| !e.is_null()),
        None => None,
    };
    match error {
        Some(error) => format!("HTTP {status}, code {}: {}", error["code"], error["message"]),
        None => {
            let text = String::from_utf8_lossy(answer);
            format!("HTTP {status}: {}", text.chars().take(200).collect::<String>())
        }
    }
}

/// Whether an answer carries no error: a single call's result is known by its first bytes (the server writes
/// `result` right after the id), so a large result is not scanned; a batch's answer is.
fn succeeded(answer: &[u8]) -> bool {
    answer.starts_with(br#"{"jsonrpc":"2.0","id":1,"result":"#)
        || (answer.starts_with(b"[") && !answer.windows(8).any(|w| w == br#""error":"#))
}

/// A call's text, written straight from `params` (no JSON object built for the call around them).
fn rpc_body(method: &str, params: impl serde::Serialize) -> String {
    #[derive(serde::Serialize)]
    struct Call<'a, P> {
        jsonrpc: &'static str,
        id: u32,
        method: &'a str,
        params: P,
    }
    serde_json::to_string(&Call { jsonrpc: "2.0", id: 1, method, params }).expect("a call")
}

/// A bare jsonrpsee server with no auth: `noop`, the transport's ceiling, and `list`, which answers `list` (the real
/// server's ticket list, kept as text), a reference for an answer of that size.
async fn floor_server(list: Box<serde_json::value::RawValue>) -> (String, jsonrpsee::server::ServerHandle) {
    let config = jsonrpsee::server::ServerConfig::builder().max_connections(10_000).build();
    let server =
        jsonrpsee::server::Server::builder().set_config(config).build("127.0.0.1:0").await.expect("floor server");
    let addr = server.local_addr().expect("addr").to_string();
    let mut module = jsonrpsee::RpcModule::new(());
    module.register_method("noop", |_, _, _| "ok").expect("register");
    module
        .register_method("list", move |_, _, _| Ok::<_, jsonrpsee::types::ErrorObjectOwned>(list.clone()))
        .expect("register");
    (addr, server.start(module))
}

/// The writers' commits and calls so far over every server, each asked on a connection of its own (a kept one may
/// have been closed while idle).
async fn writer_stats(addrs: &[String]) -> (u64, u64) {
    let mut total = (0, 0);
    for addr in addrs {
        let s = call(&mut Conn::open(addr).await, ADMIN, "bench-a", "admin.stats", json!({})).await;
        total.0 += s["writer"]["commits"].as_u64().unwrap_or(0);
        total.1 += s["writer"]["calls"].as_u64().unwrap_or(0);
    }
    total
}

/// Waits until every server admits `token`, made on the first: the others learn of it by NOTIFY (or within a
/// second, should they miss it).
async fn wait_for_token(addrs: &[String], token: &str, network: &str) {
    for addr in addrs {
        let deadline = Instant::now() + TOKEN_SPREAD_TIMEOUT;
        loop {
            let body = Bytes::from(rpc_body("admin.whoami", json!({})));
            let (status, answer) = Conn::open(addr).await.post(token, network, body).await;
            if status == 200 && succeeded(&answer) {
                break;
            }
            let answer = String::from_utf8_lossy(&answer);
            assert!(Instant::now() < deadline, "the server at {addr} does not admit the token: HTTP {status} {answer}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// What one store's run measured.
struct Run {
    store: StoreKind,
    /// Which setting ran, in words.
    setting: String,
    servers: usize,
    /// Seeding the two networks, the registrations and the function tickets, and (when selected) the 25,000
    /// tickets of the list at scale.
    seeding_s: f64,
    list_seeding_s: Option<f64>,
    /// The database's size after seeding and what the size counts, or why it is unknown.
    database: Result<(u64, &'static str), String>,
    outcomes: Vec<Outcome>,
    /// The largest peak RSS of one server, in MB.
    peak_rss_mb: f64,
    /// The servers' warnings and errors: message, how many, the first whole line.
    log: Vec<(String, u64, String)>,
    /// From starting the servers (and the cluster) to the last scenario's end, pgbench's rounds included.
    elapsed_s: f64,
    /// On PostgreSQL: pgbench's rounds, each with `ticket.create` when it is selected, or why pgbench could not run.
    reference: Option<Result<Vec<Round>, String>>,
}

/// Seeds the servers' database and drives every selected scenario on it, then prints the store's table.
async fn run(o: &Options, store: StoreKind, setting: String, servers: &[Server], backing: &Backing<'_>) -> Run {
    let started = Instant::now();
    println!("\n{setting}");
    let addrs: Vec<String> = servers.iter().map(|s| s.addr.clone()).collect();
    let mut admin = Conn::open(&addrs[0]).await;
    // a: the seeded network every scenario reads and changes; b: a second seeded network; c: where
    // ticket.create and batch add their tickets, so that a's list stays the 100 tickets ticket.list is about;
    // d: the 25,000 tickets of ticket.list@25k.
    let (a, b, c, d) = ("bench-a", "bench-b", "bench-c", "bench-d");
    let selected = |name: &str| o.scenarios.is_empty() || o.scenarios.iter().any(|s| s == name);
    let grants = [format!("network.manage@{a}"), format!("network.manage@{c}"), format!("network.manage@{d}")];
    let token =
        call(&mut admin, ADMIN, a, "admin.createToken", json!({"name": "load", "grants": grants})).await["token"]
            .as_str()
            .expect("token")
            .to_owned();
    wait_for_token(&addrs, &token, a).await;

    let seeding = Instant::now();
    for network in [a, b] {
        let tickets = (0..TICKETS).map(|i| json!({"ticket": ticket(i, Some(10_000_000))})).collect();
        seed(&addrs, network, "ticket.createPurchasableTicket", tickets).await;
    }
    let registrations: Vec<Value> = (0..o.registrations)
        .map(|i| {
            let mut r = registration(i);
            r["productId"] = json!(format!("ticket-{}", i % TICKETS));
            json!({ "registration": r })
        })
        .collect();
    let made = seed(&addrs, a, "registration.create", registrations).await;
    let registration_ids: Arc<Vec<String>> =
        Arc::new(made.iter().map(|r| r["registration"]["id"].as_str().expect("id").to_owned()).collect());
    // The registrations an order may be made for: the seeding cancels one in ten.
    let orderable: Arc<Vec<String>> = Arc::new(
        made.iter()
            .filter(|r| r["registration"]["status"] == "active")
            .map(|r| r["registration"]["id"].as_str().expect("id").to_owned())
            .collect(),
    );
    let seats: Vec<Value> = made
        .iter()
        .step_by(10)
        .map(|r| {
            let r = &r["registration"];
            json!({"functionTicket": {"name": "Gala seat", "eventId": r["eventId"], "functionId": "gala",
                "contactId": r["contactId"], "status": "active", "registrationId": r["id"]}})
        })
        .collect();
    let seat_count = seats.len();
    seed(&addrs, a, "functionTicket.create", seats).await;
    let seeding_s = seeding.elapsed().as_secs_f64();
    let peak = servers.iter().map(Server::peak_rss_mb).fold(0.0, f64::max);
    println!(
        "seeded 2 networks x {TICKETS} tickets, {} registrations, {seat_count} function tickets in {seeding_s:.1} s; \
         server peak RSS {peak:.1} MB",
        o.registrations,
    );
    let mut list_seeding_s = None;
    if selected(LIST_AT_SCALE) || selected(LIST_AT_SCALE_QUIET) {
        let seeding = Instant::now();
        let tickets = (0..TICKETS_AT_SCALE).map(|i| json!({"ticket": ticket(i, Some(10_000_000))})).collect();
        seed(&addrs, d, "ticket.createPurchasableTicket", tickets).await;
        list_seeding_s = Some(seeding.elapsed().as_secs_f64());
        println!("seeded {d} x {TICKETS_AT_SCALE} tickets in {:.1} s", seeding.elapsed().as_secs_f64());
    }
    backing.settle();
    let database = backing.size();
    match &database {
        Ok((bytes, counts)) => println!(
            "database: {:.1} MB ({counts}), {:.0} bytes per registration",
            *bytes as f64 / 1e6,
            *bytes as f64 / o.registrations.max(1) as f64
        ),
        Err(why) => println!("database: size unknown ({why})"),
    }

    let listed = call(&mut Conn::open(&addrs[0]).await, &token, a, "ticket.getPurchasableTickets", json!({})).await;
    let list = serde_json::value::to_raw_value(&listed).expect("the list as text");
    println!("ticket.list answers {} tickets in {} bytes", listed["count"], list.get().len());
    let (floor_addr, floor_handle) = floor_server(list).await;
    let floor = [floor_addr];
    let registrations = o.registrations;
    let next = Arc::new(AtomicU64::new(0));
    let ids = registration_ids.clone();
    let mut scenarios: Vec<(&str, bool, MakeBody)> = vec![
        ("floor", false, Arc::new(|_, _| (rpc_body("noop", json!([])), 1))),
        ("whoami", false, Arc::new(|_, _| (rpc_body("admin.whoami", json!({})), 1))),
        ("floor.list", false, Arc::new(|_, _| (rpc_body("list", json!([])), 1))),
        ("ticket.list", false, Arc::new(|_, _| (rpc_body("ticket.getPurchasableTickets", json!({})), 1))),
        (
            "ticket.get",
            false,
            Arc::new(|w, n| {
                (
                    rpc_body(
                        "ticket.getPurchasableTicket",
                        json!({"productId": format!("ticket-{}", (w as u64 + n) % TICKETS as u64)}),
                    ),
                    1,
                )
            }),
        ),
        ("ticket.create", true, {
            let next = next.clone();
            Arc::new(move |_, _| {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize + 1_000_000;
                (rpc_body("ticket.createPurchasableTicket", TicketParams { ticket: NewTicket::new(i, None) }), 1)
            })
        }),
        (
            "ticket.update",
            true,
            Arc::new(|w, n| {
                let mut t = ticket((w * 7 + n as usize) % TICKETS, Some(10_000_000));
                t["ticketDescription"] = json!(format!("revision {n}"));
                (rpc_body("ticket.updatePurchasableTicket", json!({"ticket": t})), 1)
            }),
        ),
        ("registration.create", true, {
            let next = next.clone();
            Arc::new(move |_, _| {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize + 2_000_000;
                let mut r = registration(i);
                r["productId"] = json!("ticket-7");
                (rpc_body("registration.create", json!({"registration": r})), 1)
            })
        }),
        (
            "registration.search",
            false,
            Arc::new(|w, n| {
                let event = format!("event-{}", (w as u64 + n) % EVENTS as u64);
                (rpc_body("registration.search", json!({"eventId": event, "status": ["active"], "limit": 20})), 1)
            }),
        ),
        (
            "registration.lookup",
            false,
            Arc::new(move |w, n| {
                let i = (w * 7919 + n as usize * 31) % registrations;
                let body = if n % 2 == 0 {
                    rpc_body("registration.listByContact", json!({"contactId": format!("contact-{i}")}))
                } else {
                    rpc_body("registration.listByGroup", json!({"groupId": format!("group-{}", i / 10), "limit": 20}))
                };
                (body, 1)
            }),
        ),
        ("registration.patch", true, {
            let ids = ids.clone();
            Arc::new(move |w, n| {
                let id = &ids[(w * 7919 + n as usize * 31) % ids.len()];
                let patch = json!([{"op": "replace", "path": "/jobTitle", "value": format!("Title {n}")}]);
                (rpc_body("registration.patch", json!({"id": id, "patch": patch})), 1)
            })
        }),
        ("registration.generateOrder", true, {
            // Each call orders the next active seeded registration (its ticket at its price): a new order, its
            // number and the registration's order fields, until every one has one (then each call answers it).
            let (ids, next) = (orderable.clone(), Arc::new(AtomicU64::new(0)));
            Arc::new(move |_, _| {
                let id = &ids[next.fetch_add(1, Ordering::Relaxed) as usize % ids.len()];
                (rpc_body("registration.generateOrder", json!({"id": id})), 1)
            })
        }),
        ("mail", true, {
            let ids = ids.clone();
            Arc::new(move |w, n| {
                let id = &ids[(w * 7919 + n as usize * 31) % ids.len()];
                (rpc_body("registration.resendConfirmationEmail", json!({"id": id})), 1)
            })
        }),
        ("mixed", true, {
            let ids = ids.clone();
            Arc::new(move |w, n| {
                let id = &ids[(w * 7919 + n as usize * 31) % ids.len()];
                let body = match n % 10 {
                    0 => rpc_body(
                        "registration.patch",
                        json!({"id": id, "patch": [{"op": "replace", "path": "/notes", "value": format!("n{n}")}]}),
                    ),
                    1..=3 => rpc_body("ticket.getPurchasableTickets", json!({"visible": true, "limit": 50})),
                    4..=5 => rpc_body("registration.get", json!({"id": id})),
                    6..=7 => rpc_body(
                        "registration.search",
                        json!({"eventId": format!("event-{}", n % EVENTS as u64), "limit": 20}),
                    ),
                    _ => rpc_body(
                        "ticket.getPurchasableTicket",
                        json!({"productId": format!("ticket-{}", n % TICKETS as u64)}),
                    ),
                };
                (body, 1)
            })
        }),
        (
            LIST_AT_SCALE,
            true,
            Arc::new(|w, n| {
                if (LIST_AT_SCALE_READS.takes)(w, n) {
                    return (rpc_body("ticket.getPurchasableTickets", json!({"limit": 50})), 1);
                }
                let mut t = ticket((w * 7 + n as usize) % TICKETS_AT_SCALE, Some(10_000_000));
                t["ticketDescription"] = json!(format!("revision {n}"));
                (rpc_body("ticket.updatePurchasableTicket", json!({"ticket": t})), 1)
            }),
        ),
        (
            LIST_AT_SCALE_QUIET,
            false,
            Arc::new(|_, _| (rpc_body("ticket.getPurchasableTickets", json!({"limit": 50})), 1)),
        ),
        ("batch", true, {
            let next = next.clone();
            Arc::new(move |_, _| {
                let calls: Vec<Value> = (0..100)
                    .map(|k| {
                        let i = next.fetch_add(1, Ordering::Relaxed) as usize + 3_000_000;
                        json!({"jsonrpc": "2.0", "id": k, "method": "ticket.createPurchasableTicket", "params": {"ticket": ticket(i, None)}})
                    })
                    .collect();
                (Value::Array(calls).to_string(), 100)
            })
        }),
    ];
    scenarios.retain(|(name, _, _)| selected(name) || *name == "whoami");
    let create = scenarios.iter().find(|(name, _, _)| *name == "ticket.create").map(|(_, _, make)| make.clone());

    let measure = async |name: &str, writes: bool, make: MakeBody| {
        let before = writer_stats(&addrs).await;
        let on_floor = name.starts_with("floor");
        let targets: &[String] = if on_floor { &floor } else { &addrs };
        let network = match name {
            "ticket.create" | "batch" => c,
            LIST_AT_SCALE | LIST_AT_SCALE_QUIET => d,
            _ => a,
        };
        let part = (name == LIST_AT_SCALE).then_some(LIST_AT_SCALE_READS);
        let servers_cpu = || servers.iter().map(Server::cpu_us).sum::<f64>();
        let (cpu_before, database_cpu_before, client_cpu_before) = (servers_cpu(), backing.cpu_us(), client_cpu_us());
        let mut outcome = drive(name, targets, &token, network, o, make, part).await;
        if !on_floor {
            let calls = outcome.calls.max(1) as f64;
            outcome.client_us_per_call = Some((client_cpu_us() - client_cpu_before) / calls);
            outcome.server_us_per_call = Some((servers_cpu() - cpu_before) / calls);
            outcome.database_us_per_call =
                backing.cpu_us().zip(database_cpu_before).map(|(after, before)| (after - before) / calls);
        }
        if writes {
            let after = writer_stats(&addrs).await;
            let commits = after.0.saturating_sub(before.0).max(1);
            outcome.calls_per_commit = Some(after.1.saturating_sub(before.1) as f64 / commits as f64);
        }
        outcome.peak_rss_mb = servers.iter().map(Server::peak_rss_mb).fold(0.0, f64::max);
        outcome
    };
    let mut outcomes = Vec::new();
    for (name, writes, make) in scenarios {
        outcomes.push(measure(name, writes, make).await);
    }
    let _ = floor_handle.stop();
    // On PostgreSQL, pgbench in rounds, each followed by ticket.create when it is selected (once without it).
    let reference = match backing {
        Backing::Postgres { cluster, .. } => {
            let pgbench = Pgbench::prepare(cluster, o);
            let mut rounds = Vec::new();
            if let Ok(pgbench) = &pgbench {
                for _ in 0..if create.is_some() { o.rounds } else { 1 } {
                    let measured = tokio::task::block_in_place(|| pgbench.run());
                    let create = match &create {
                        Some(make) => Some(measure("ticket.create", true, make.clone()).await),
                        None => None,
                    };
                    rounds.push(Round { pgbench: measured, create });
                }
            }
            Some(pgbench.map(|_| rounds))
        }
        Backing::Sqlite(_) => None,
    };
    let mut log: Vec<(String, u64, String)> = Vec::new();
    for server in servers {
        let issues = server.log.lock().expect("log issues");
        for (message, (count, line)) in &issues.by_message {
            match log.iter_mut().find(|(m, _, _)| m == message) {
                Some((_, total, _)) => *total += count,
                None => log.push((message.clone(), *count, line.clone())),
            }
        }
        if issues.others > 0 {
            log.push(("(other messages)".to_owned(), issues.others, String::new()));
        }
    }
    log.sort_by_key(|(_, count, _)| std::cmp::Reverse(*count));
    let run = Run {
        store,
        setting,
        servers: servers.len(),
        seeding_s,
        list_seeding_s,
        database,
        outcomes,
        peak_rss_mb: servers.iter().map(Server::peak_rss_mb).fold(0.0, f64::max),
        log,
        elapsed_s: started.elapsed().as_secs_f64(),
        reference,
    };
    print_run(o, &run);
    run
}

/// The store's table, the latencies of the scenarios' parts, the errors the calls were answered and the servers'
/// warnings and errors.
fn print_run(o: &Options, run: &Run) {
    let whoami = run.outcomes.iter().find(|x| x.name == "whoami").map_or(1.0, |x| x.requests_per_s);
    let on_postgres = run.store == StoreKind::Postgres;
    println!("\n{} connections, {} s per scenario, {} registrations\n", o.connections, o.seconds, o.registrations);
    print!(
        "{:<26} {:>10} {:>10} {:>8} {:>8} {:>8} {:>7} {:>9} {:>12} {:>8} {:>11}",
        "scenario",
        "req/s",
        "calls/s",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "errors",
        "x whoami",
        "calls/commit",
        "peak MB",
        "server us/call"
    );
    let database_column = if on_postgres { format!(" {:>14}", "postgres us/call") } else { String::new() };
    println!("{database_column} {:>14}", "client us/call");
    for x in &run.outcomes {
        let per_commit = x.calls_per_commit.map_or("-".to_owned(), |c| format!("{c:.1}"));
        let cpu = x.server_us_per_call.map_or("-".to_owned(), |c| format!("{c:.1}"));
        print!(
            "{:<26} {:>10.0} {:>10.0} {:>8.2} {:>8.2} {:>8.2} {:>7} {:>9.2} {:>12} {:>8.1} {:>11}",
            x.name,
            x.requests_per_s,
            x.calls_per_s,
            x.p50_ms,
            x.p99_ms,
            x.p999_ms,
            x.errors,
            x.requests_per_s / whoami,
            per_commit,
            x.peak_rss_mb,
            cpu
        );
        let database_cpu = x.database_us_per_call.map_or("-".to_owned(), |c| format!("{c:.1}"));
        let client_cpu = x.client_us_per_call.map_or("-".to_owned(), |c| format!("{c:.1}"));
        let database_cpu = if on_postgres { format!(" {database_cpu:>16}") } else { String::new() };
        println!("{database_cpu} {client_cpu:>14}");
    }
    for (name, p) in run.outcomes.iter().filter_map(|x| Some((&x.name, x.part.as_ref()?))) {
        println!(
            "\n{name}: {}: p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms ({} calls)",
            p.label, p.p50_ms, p.p99_ms, p.p999_ms, p.calls
        );
    }
    for x in run.outcomes.iter().filter(|x| x.errors > 0) {
        println!("\n{}: {} failed requests, answered:", x.name, x.errors);
        for (answer, count) in &x.failures {
            println!("  {count} x {answer}");
        }
    }
    if !run.log.is_empty() {
        println!("\nthe servers' warnings and errors:");
        for (message, count, line) in &run.log {
            println!("  {count} x {message}: {}", line.chars().take(400).collect::<String>());
        }
    }
    println!("\nserver peak RSS: {:.1} MB", run.peak_rss_mb);
}

/// What a scenario measured, as JSON.
fn outcome_json(x: &Outcome) -> Value {
    json!({
        "scenario": x.name, "requestsPerSecond": x.requests_per_s, "callsPerSecond": x.calls_per_s,
        "p50Ms": x.p50_ms, "p99Ms": x.p99_ms, "p999Ms": x.p999_ms, "errors": x.errors,
        "callsPerCommit": x.calls_per_commit,
        "peakRssMbAfter": x.peak_rss_mb, "serverMicrosPerCall": x.server_us_per_call,
        "postgresMicrosPerCall": x.database_us_per_call,
        "clientMicrosPerCall": x.client_us_per_call,
        "failures": x.failures.iter().map(|(answer, count)| json!({"answer": answer, "count": count}))
            .collect::<Vec<_>>(),
        "part": x.part.as_ref().map(|p| json!({
            "label": p.label, "calls": p.calls, "p50Ms": p.p50_ms, "p99Ms": p.p99_ms, "p999Ms": p.p999_ms,
        })),
    })
}

/// One store's run as JSON: the fields the benchmark has always written, and its store and setting.
fn run_json(o: &Options, run: &Run) -> Value {
    let whoami = run.outcomes.iter().find(|x| x.name == "whoami").map_or(1.0, |x| x.requests_per_s);
    let rows: Vec<Value> = run
        .outcomes
        .iter()
        .map(|x| {
            let mut row = outcome_json(x);
            row["ratioToWhoami"] = json!(x.requests_per_s / whoami);
            row
        })
        .collect();
    json!({
        "store": run.store.name(), "setting": run.setting, "servers": run.servers,
        "dbConnections": (run.store == StoreKind::Postgres).then_some(o.db_connections),
        "connections": o.connections, "seconds": o.seconds, "registrations": o.registrations,
        "seedingSeconds": run.seeding_s, "listSeedingSeconds": run.list_seeding_s,
        "databaseBytesAfterSeeding": run.database.as_ref().ok().map(|(bytes, _)| bytes),
        "databaseBytesCount": run.database.as_ref().map_or_else(|why| why.clone(), |(_, counts)| (*counts).to_owned()),
        "peakRssMb": run.peak_rss_mb, "scenarios": rows, "runSeconds": run.elapsed_s,
        "serverLog": run.log.iter().map(|(message, count, line)| json!({"message": message, "count": count, "first": line}))
            .collect::<Vec<_>>(),
    })
}

/// The stores' runs side by side: requests per second, p50, p99 and errors of each scenario on each store.
fn print_side_by_side(runs: &[Run]) {
    let label = |run: &Run| match run.servers {
        1 => run.store.name().to_owned(),
        n => format!("{} ({n} servers)", run.store.name()),
    };
    print!("\n{:<26}", "");
    for run in runs {
        print!(" | {:<35}", label(run));
    }
    print!("\n{:<26}", "scenario");
    for _ in runs {
        print!(" | {:>9} {:>8} {:>8} {:>7}", "req/s", "p50 ms", "p99 ms", "errors");
    }
    println!();
    for name in runs[0].outcomes.iter().map(|x| &x.name) {
        print!("{name:<26}");
        for run in runs {
            match run.outcomes.iter().find(|x| &x.name == name) {
                Some(x) => print!(" | {:>9.0} {:>8.2} {:>8.2} {:>7}", x.requests_per_s, x.p50_ms, x.p99_ms, x.errors),
                None => print!(" | {:>35}", "-"),
            }
        }
        println!();
    }
    let seeding: Vec<String> = runs.iter().map(|run| format!("{} {:.1} s", label(run), run.seeding_s)).collect();
    println!("\nseeding: {}", seeding.join(", "));
    let sizes: Vec<String> = runs
        .iter()
        .map(|run| match &run.database {
            Ok((bytes, counts)) => format!("{} {:.1} MB ({counts})", label(run), *bytes as f64 / 1e6),
            Err(why) => format!("{} unknown ({why})", label(run)),
        })
        .collect();
    println!("database after seeding: {}", sizes.join(", "));
}

/// pgbench on the benchmark's cluster, ready to run: its database, with the table its single-row INSERTs (like a
/// ticket's, one per transaction) go to, and the script that makes them.
struct Pgbench<'c> {
    cluster: &'c Cluster,
    /// pgbench's arguments, the script's path last.
    args: Vec<OsString>,
    /// Holds the script, `insert.sql`.
    _dir: tempfile::TempDir,
}

/// What one pgbench run measured.
struct PgbenchRun {
    /// Transactions per second, or why there are none.
    transactions_per_s: Result<f64, String>,
    /// pgbench's own report.
    report: String,
    /// PostgreSQL's CPU time per transaction (every process of the cluster), and pgbench's own, in microseconds.
    cpu_us_per_transaction: Option<(f64, f64)>,
}

/// The table pgbench inserts into: a ticket's keys and the JSON of its fields, one key index.
const PGBENCH_TABLE: &str = "CREATE TABLE bench_inserts (id bigserial PRIMARY KEY, network_id text NOT NULL, \
                             product_id text NOT NULL, payload text NOT NULL)";

impl<'c> Pgbench<'c> {
    /// Makes pgbench's database on `cluster`, for runs on as many clients as the scenarios' connections, each as
    /// long as a scenario (with the cluster's `synchronous_commit=on`).
    fn prepare(cluster: &'c Cluster, o: &Options) -> Result<Pgbench<'c>, String> {
        cluster.create_database(PGBENCH_DATABASE).map_err(|e| e.to_string())?;
        cluster.query(PGBENCH_DATABASE, PGBENCH_TABLE).map_err(|e| e.to_string())?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        // A ticket's JSON as the row's payload; a random productId, as ticket.create sends a new one each time.
        let payload = ticket(1_000_000, None).to_string().replace('\'', "''");
        let sql = format!(
            "\\set n random(1, 1000000000000)\n\
             INSERT INTO bench_inserts (network_id, product_id, payload) VALUES ('bench-c', 'ticket-' || :n, '{payload}');\n"
        );
        let script = dir.path().join("insert.sql");
        std::fs::write(&script, sql).map_err(|e| e.to_string())?;
        let (clients, threads, seconds) =
            (pgbench_clients(o).to_string(), pgbench_threads(o).to_string(), o.seconds.to_string());
        let mut args: Vec<OsString> =
            ["-n", "-c", &clients, "-j", &threads, "-T", &seconds, "-f"].map(OsString::from).into();
        args.push(script.into_os_string());
        Ok(Pgbench { cluster, args, _dir: dir })
    }

    /// Runs pgbench once.
    fn run(&self) -> PgbenchRun {
        let cluster = self.cluster;
        let (mut report, mut cpu) = (String::new(), None);
        let mut once = || -> Result<f64, String> {
            // pgbench is this process's child, waited for: its CPU time is what this process's children's grows by.
            let (database_before, pgbench_before) = (tree_cpu_us(cluster.server_pid()), children_cpu_us());
            let processes = children(cluster.server_pid()).len();
            let output = cluster.pgbench(PGBENCH_DATABASE, self.args.clone()).map_err(|e| e.to_string())?;
            // pgbench's connections end with it: their processes are waited for before the cluster's CPU is read.
            let deadline = Instant::now() + Duration::from_secs(10);
            while children(cluster.server_pid()).len() > processes && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            let (database, pgbench) =
                (tree_cpu_us(cluster.server_pid()) - database_before, children_cpu_us() - pgbench_before);
            report = String::from_utf8_lossy(&output.stdout).into_owned();
            if let Some(done) = report_fact(&report, "number of transactions actually processed:").filter(|n| *n > 0.0)
            {
                cpu = Some((database / done, pgbench / done));
            }
            report_fact(&report, "tps =").ok_or_else(|| "no \"tps = \" line in pgbench's report".to_owned())
        };
        let transactions_per_s = once();
        PgbenchRun { transactions_per_s, report, cpu_us_per_transaction: cpu }
    }
}

/// pgbench's clients: as many as the scenarios' connections.
fn pgbench_clients(o: &Options) -> usize {
    o.connections.max(1)
}

/// pgbench's worker threads.
fn pgbench_threads(o: &Options) -> usize {
    PGBENCH_THREADS.min(pgbench_clients(o))
}

/// A number from pgbench's report: the first word after `fact` on the line that starts with it.
fn report_fact(report: &str, fact: &str) -> Option<f64> {
    report.lines().find_map(|line| line.strip_prefix(fact)?.split_whitespace().next()?.parse().ok())
}

/// One round of the comparison: pgbench, then `ticket.create` right after it on the same cluster.
struct Round {
    pgbench: PgbenchRun,
    create: Option<Outcome>,
}

impl Round {
    /// `ticket.create`'s rate over pgbench's.
    fn ratio(&self) -> Option<f64> {
        let tps = *self.pgbench.transactions_per_s.as_ref().ok().filter(|tps| **tps > 0.0)?;
        Some(self.create.as_ref()?.requests_per_s / tps)
    }
}

/// The median of the rounds' ratios: each pair measured in the same minute of a machine whose cores the two share,
/// so that one slow or fast moment moves one round, not the comparison.
fn median_ratio(rounds: &[Round]) -> Option<f64> {
    let mut ratios: Vec<f64> = rounds.iter().filter_map(Round::ratio).collect();
    ratios.sort_by(f64::total_cmp);
    let middle = ratios.len() / 2;
    match ratios.len() {
        0 => None,
        n if n % 2 == 1 => Some(ratios[middle]),
        _ => Some((ratios[middle - 1] + ratios[middle]) / 2.0),
    }
}

/// A line of facts about the PostgreSQL cluster: its version and the settings that decide durability.
fn postgres_settings(cluster: &Cluster) -> String {
    let sql = "SELECT concat_ws(', ', 'PostgreSQL ' || current_setting('server_version'), \
               'fsync=' || current_setting('fsync'), 'synchronous_commit=' || current_setting('synchronous_commit'), \
               'full_page_writes=' || current_setting('full_page_writes'), \
               'shared_buffers=' || current_setting('shared_buffers'))";
    cluster.query("postgres", sql).unwrap_or_else(|error| format!("settings unknown ({error})"))
}

/// pgbench's rounds beside ticket.create's, and their JSON.
fn print_reference(o: &Options, run: &Run, reference: &Result<Vec<Round>, String>) -> Value {
    let (clients, threads, seconds) = (pgbench_clients(o), pgbench_threads(o), o.seconds);
    let with_create = reference.as_ref().is_ok_and(|rounds| rounds.iter().any(|round| round.create.is_some()));
    println!(
        "\npgbench on the same cluster, one single-row INSERT per transaction (bench_inserts: id bigserial, \
         network_id, product_id, payload text), {clients} clients, {threads} threads, {seconds} s{}:",
        if with_create { ", each run followed by ticket.create for as long" } else { "" }
    );
    let servers = if run.servers == 1 { "1 server".to_owned() } else { format!("{} servers", run.servers) };
    let rounds = match reference {
        Ok(rounds) => rounds,
        Err(why) => {
            println!("  pgbench failed: {why}");
            return json!({ "clients": clients, "threads": threads, "seconds": seconds, "error": why });
        }
    };
    let mut json_rounds = Vec::new();
    for (i, round) in rounds.iter().enumerate() {
        let p = &round.pgbench;
        match &p.transactions_per_s {
            Ok(tps) => {
                print!("  round {}: pgbench {tps:.0} transactions/s", i + 1);
                // Older pgbench reports no failed transactions.
                if let Some(failed) = report_fact(&p.report, "number of failed transactions:") {
                    print!(", {failed} failed");
                }
                if let Some(latency) = report_fact(&p.report, "latency average =") {
                    print!(", latency average {latency} ms");
                }
                match p.cpu_us_per_transaction {
                    Some((database, client)) => println!(
                        "; CPU per transaction: postgres {database:.1} us, pgbench {client:.1} us, {:.1} us in all",
                        database + client
                    ),
                    None => println!(),
                }
            }
            Err(why) => println!("  round {}: pgbench failed: {why}\n{}", i + 1, p.report),
        }
        if let Some(x) = &round.create {
            print!(
                "           ticket.create ({servers}, {} connections): {:.0} req/s, {} errors",
                o.connections, x.requests_per_s, x.errors
            );
            if let [Some(server), Some(database), Some(client)] =
                [x.server_us_per_call, x.database_us_per_call, x.client_us_per_call]
            {
                print!(
                    "; CPU per call: server {server:.1} us, postgres {database:.1} us, client {client:.1} us, {:.1} us \
                     in all",
                    server + database + client
                );
            }
            match round.ratio() {
                Some(ratio) => println!(": {ratio:.2} x pgbench"),
                None => println!(),
            }
        }
        json_rounds.push(json!({
            "transactionsPerSecond": p.transactions_per_s.as_ref().ok(),
            "error": p.transactions_per_s.as_ref().err(),
            "postgresMicrosPerTransaction": p.cpu_us_per_transaction.map(|c| c.0),
            "pgbenchMicrosPerTransaction": p.cpu_us_per_transaction.map(|c| c.1),
            "ticketCreate": round.create.as_ref().map(outcome_json),
            "ticketCreateRatio": round.ratio(),
            "report": p.report,
        }));
    }
    let median = median_ratio(rounds);
    if let Some(median) = median {
        let ratios: Vec<String> = rounds.iter().filter_map(Round::ratio).map(|x| format!("{x:.2}")).collect();
        println!(
            "  ticket.create on postgres ({servers}, {} connections): {median:.2} x pgbench, the median of {} rounds \
             ({})",
            o.connections,
            ratios.len(),
            ratios.join(", ")
        );
    }
    json!({
        "clients": clients, "threads": threads, "seconds": seconds,
        "rounds": json_rounds,
        "ticketCreateRatio": median,
    })
}

fn main() {
    let o = options();
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let runs = runtime.block_on(async {
        let mut runs = Vec::new();
        for &store in o.stores.kinds() {
            match store {
                StoreKind::Sqlite => {
                    let store_started = Instant::now();
                    let backing = Backing::Sqlite(tempfile::tempdir().expect("temp dir"));
                    let servers = [Server::start(&backing.db(), None, o.limits)];
                    let setting = "store: sqlite, one server, a file in a temporary directory (synchronous=FULL)";
                    let mut measured = run(&o, store, setting.to_owned(), &servers, &backing).await;
                    measured.elapsed_s = store_started.elapsed().as_secs_f64();
                    runs.push(measured);
                }
                StoreKind::Postgres => {
                    let cluster_started = Instant::now();
                    let cluster = Cluster::start(true).expect("a PostgreSQL cluster of the benchmark's own");
                    let url = cluster.create_database(PG_DATABASE).expect("the benchmark's database");
                    let backing = Backing::Postgres { cluster: &cluster, url };
                    let servers: Vec<Server> = (0..o.servers)
                        .map(|_| Server::start(&backing.db(), Some(o.db_connections), o.limits))
                        .collect();
                    let spread = match o.servers {
                        1 => "one server".to_owned(),
                        n => format!("{n} servers on one database, connection i to server i % {n}"),
                    };
                    let setting = format!(
                        "store: postgres, {spread}, {} database connections per server; a cluster of the \
                         benchmark's own started in {:.1} s: {}",
                        o.db_connections,
                        cluster_started.elapsed().as_secs_f64(),
                        postgres_settings(&cluster)
                    );
                    let mut measured = run(&o, store, setting, &servers, &backing).await;
                    measured.elapsed_s = cluster_started.elapsed().as_secs_f64();
                    runs.push(measured);
                }
            }
        }
        runs
    });

    if runs.len() > 1 {
        print_side_by_side(&runs);
    }
    let postgres = runs.iter().find(|run| run.store == StoreKind::Postgres);
    let pgbench = postgres.and_then(|run| Some(print_reference(&o, run, run.reference.as_ref()?)));
    for run in &runs {
        println!("{} run: {:.0} s", run.store.name(), run.elapsed_s);
    }
    println!("the whole benchmark: {:.0} s", started.elapsed().as_secs_f64());

    // One store: its object, as always (and pgbench's beside it); both: one of each under "stores".
    let mut report = match runs.as_slice() {
        [only] => run_json(&o, only),
        all => json!({ "stores": all.iter().map(|run| run_json(&o, run)).collect::<Vec<_>>() }),
    };
    if let Some(pgbench) = pgbench {
        report["pgbench"] = pgbench;
    }
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&out).expect("target/bench");
    std::fs::write(out.join("load.json"), serde_json::to_string_pretty(&report).expect("json")).expect("write");
    println!("written to target/bench/load.json");
}
