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
//!
//! Flags: `--connections N` (32), `--seconds S` (5), `--scenario NAME` (repeatable; all by default),
//! `--registrations N` (100000), `--limits` (rate limits on, at a million calls a second, so that every check runs
//! and none refuses: the cost of the limits; without it they are off, so that the figures are the server's and not
//! its limits'). Prints a table and writes the same as JSON to `target/bench/load.json`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpStream;

mod common;
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

struct Options {
    connections: usize,
    seconds: u64,
    scenarios: Vec<String>,
    registrations: usize,
    limits: bool,
}

fn options() -> Options {
    let mut o = Options { connections: 32, seconds: 5, scenarios: Vec::new(), registrations: 100_000, limits: false };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--connections" => o.connections = value().parse().expect("--connections N"),
            "--seconds" => o.seconds = value().parse().expect("--seconds S"),
            "--scenario" => o.scenarios.push(value()),
            "--registrations" => o.registrations = value().parse().expect("--registrations N"),
            "--limits" => o.limits = true,
            _ => {} // cargo passes --bench; anything else is ignored
        }
    }
    o
}

/// The server as a child process; killed when dropped.
struct Server {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(limits: bool) -> Server {
        // Rate limits off, or on at a rate no scenario reaches.
        let dir = tempfile::tempdir().expect("temp dir");
        let mut command = Command::new(env!("CARGO_BIN_EXE_ticket-admin"));
        command
            .args(["serve", "--addr", "127.0.0.1:0", "--log-format", "json", "--db"])
            .arg(dir.path().join("load.db"));
        let rate = if limits { "1000000" } else { "0" };
        command.args(["--rate-limit-token", rate, "--rate-limit-network", rate, "--rate-limit-anonymous", rate]);
        let mut child = command
            .env("TICKET_ADMIN_BOOTSTRAP_TOKEN", ADMIN)
            .env("RUST_LOG", "warn,ticket_admin=info,ticket_admin::call=warn")
            .stderr(Stdio::piped())
            .spawn()
            .expect("server binary starts");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let addr = loop {
            let line = lines.next().expect("server exited before listening").expect("stderr line");
            let Ok(log) = serde_json::from_str::<Value>(&line) else { continue };
            if log["fields"]["message"] == "listening" {
                break log["fields"]["addr"].as_str().expect("addr").to_owned();
            }
        };
        // Keep draining the server's log so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server { child, addr, _dir: dir }
    }

    /// The size of the database file and its write-ahead log, in bytes.
    fn database_bytes(&self) -> u64 {
        ["load.db", "load.db-wal"]
            .iter()
            .filter_map(|name| std::fs::metadata(self._dir.path().join(name)).ok())
            .map(|m| m.len())
            .sum()
    }

    /// The server's CPU time so far, user and system, in microseconds (from `/proc/<pid>/stat`, in 10 ms ticks).
    fn cpu_us(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // The fields after the command name (which is in parentheses and may hold spaces): utime and stime are the
        // 12th and 13th of them.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let ticks: f64 = rest.split_whitespace().skip(11).take(2).filter_map(|t| t.parse::<f64>().ok()).sum();
        ticks * 10_000.0
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

/// One keep-alive HTTP/1.1 connection.
struct Conn {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    addr: String,
}

impl Conn {
    async fn open(addr: &str) -> Conn {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("handshake");
        tokio::spawn(connection);
        Conn { sender, addr: addr.to_owned() }
    }

    /// POSTs a body with a token and a network; the status and the answer.
    async fn post(&mut self, token: &str, network: &str, body: Bytes) -> (u16, Bytes) {
        let req = hyper::Request::post(format!("http://{}/jsonRpc", self.addr))
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {token}"))
            .header("x-network-id", network)
            .body(Full::new(body))
            .expect("request");
        let resp = self.sender.send_request(req).await.expect("response");
        let status = resp.status().as_u16();
        (status, resp.into_body().collect().await.expect("body").to_bytes())
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
    json!({
        "productId": format!("ticket-{i}"),
        "eventName": format!("Event {}", i % EVENTS),
        "eventStartDate": "2027-05-01T09:00:00Z",
        "eventEndDate": "2027-05-03T18:00:00Z",
        "ticketType": "single",
        "ticketName": format!("Ticket {i}"),
        "price": (i % 300) as f64 + 0.5,
        "allocation": allocation,
        "displayOrder": i,
    })
}

/// Sends JSON-RPC batches of `method` calls, 8 requests in flight; the results in order.
async fn seed(addr: &str, network: &str, method: &str, params: Vec<Value>) -> Vec<Value> {
    let chunks: Vec<Vec<Value>> = params.chunks(100).map(<[Value]>::to_vec).collect();
    let mut results = Vec::with_capacity(params.len());
    for group in chunks.chunks(8) {
        let sent = group.iter().map(|chunk| {
            let addr = addr.to_owned();
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
    calls_per_commit: Option<f64>,
    /// The server's peak RSS at the end of the scenario, in MB.
    peak_rss_mb: f64,
    /// The server's CPU time (user and system) per call, in microseconds: its cost, which drifts less with the
    /// machine than throughput does.
    server_us_per_call: Option<f64>,
    /// The latencies of the scenario's part, if it has one.
    part: Option<PartOutcome>,
}

/// A latency quantile of a histogram of microseconds, in milliseconds.
fn ms(histogram: &Histogram<u64>, quantile: f64) -> f64 {
    histogram.value_at_quantile(quantile) as f64 / 1000.0
}

/// Drives one scenario on `connections` connections for `seconds`; latency per request from a histogram, and the
/// latency of the calls of `part` from one of their own.
async fn drive(
    name: &str,
    addr: &str,
    token: &str,
    network: &str,
    o: &Options,
    make: MakeBody,
    part: Option<Part>,
) -> Outcome {
    let errors = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(o.seconds);
    let started = Instant::now();
    let workers = (0..o.connections).map(|w| {
        let (make, errors) = (make.clone(), errors.clone());
        let (addr, token, network) = (addr.to_owned(), token.to_owned(), network.to_owned());
        tokio::spawn(async move {
            let mut conn = Conn::open(&addr).await;
            let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
            let mut part_histogram = histogram.clone();
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
                let failed = status != 200 || !succeeded(&answer);
                if failed {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
                n += 1;
                calls += carried;
            }
            (histogram, part_histogram, n, calls)
        })
    });
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
    let mut part_histogram = histogram.clone();
    let (mut requests, mut calls) = (0u64, 0u64);
    for worker in futures_util::future::join_all(workers).await {
        let (h, p, n, c) = worker.expect("worker");
        histogram.add(&h).expect("merge");
        part_histogram.add(&p).expect("merge");
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
        errors: errors.load(Ordering::Relaxed),
        calls_per_commit: None,
        peak_rss_mb: 0.0,
        server_us_per_call: None,
        part: part.map(|p| PartOutcome {
            label: p.label,
            calls: part_histogram.len(),
            p50_ms: ms(&part_histogram, 0.5),
            p99_ms: ms(&part_histogram, 0.99),
            p999_ms: ms(&part_histogram, 0.999),
        }),
    }
}

/// Whether an answer carries no error: a single call's result is known by its first bytes (the server writes
/// `result` right after the id), so a large result is not scanned; a batch's answer is.
fn succeeded(answer: &[u8]) -> bool {
    answer.starts_with(br#"{"jsonrpc":"2.0","id":1,"result":"#)
        || (answer.starts_with(b"[") && !answer.windows(8).any(|w| w == br#""error":"#))
}

fn rpc_body(method: &str, params: Value) -> String {
    json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string()
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

/// The writer's commits and calls so far, on a connection of its own (a kept one may have been closed while idle).
async fn writer_stats(addr: &str) -> (u64, u64) {
    let s = call(&mut Conn::open(addr).await, ADMIN, "bench-a", "admin.stats", json!({})).await;
    (s["writer"]["commits"].as_u64().unwrap_or(0), s["writer"]["calls"].as_u64().unwrap_or(0))
}

fn main() {
    let o = options();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async move {
        let server = Server::start(o.limits);
        let addr = server.addr.clone();
        let mut admin = Conn::open(&addr).await;
        // a: the seeded network every scenario reads and changes; b: a second seeded network; c: where
        // ticket.create and batch add their tickets, so that a's list stays the 100 tickets ticket.list is about;
        // d: the 25,000 tickets of ticket.list@25k.
        let (a, b, c, d) = ("bench-a", "bench-b", "bench-c", "bench-d");
        let selected = |name: &str| o.scenarios.is_empty() || o.scenarios.iter().any(|s| s == name);
        let token = call(&mut admin, ADMIN, a, "admin.createToken", json!({"name": "load", "grants": [format!("network.manage@{a}"), format!("network.manage@{c}"), format!("network.manage@{d}")]}))
            .await["token"]
            .as_str()
            .expect("token")
            .to_owned();

        let seeding = Instant::now();
        for network in [a, b] {
            let tickets = (0..TICKETS).map(|i| json!({"ticket": ticket(i, Some(10_000_000))})).collect();
            seed(&addr, network, "ticket.createPurchasableTicket", tickets).await;
        }
        let registrations: Vec<Value> = (0..o.registrations)
            .map(|i| {
                let mut r = registration(i);
                r["productId"] = json!(format!("ticket-{}", i % TICKETS));
                json!({ "registration": r })
            })
            .collect();
        let made = seed(&addr, a, "registration.create", registrations).await;
        let registration_ids: Arc<Vec<String>> =
            Arc::new(made.iter().map(|r| r["registration"]["id"].as_str().expect("id").to_owned()).collect());
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
        seed(&addr, a, "functionTicket.create", seats).await;
        println!(
            "seeded 2 networks x {TICKETS} tickets, {} registrations, {seat_count} function tickets in {:.1} s; \
             server peak RSS {:.1} MB",
            o.registrations,
            seeding.elapsed().as_secs_f64(),
            server.peak_rss_mb()
        );
        if selected(LIST_AT_SCALE) || selected(LIST_AT_SCALE_QUIET) {
            let seeding = Instant::now();
            let tickets = (0..TICKETS_AT_SCALE).map(|i| json!({"ticket": ticket(i, Some(10_000_000))})).collect();
            seed(&addr, d, "ticket.createPurchasableTicket", tickets).await;
            println!("seeded {d} x {TICKETS_AT_SCALE} tickets in {:.1} s", seeding.elapsed().as_secs_f64());
        }
        // The seeding left the kernel with dirty pages to write back; flushed now, not during the measurements.
        let _ = Command::new("sync").status();
        let db_bytes = server.database_bytes();
        println!(
            "database: {:.1} MB (file and WAL), {:.0} bytes per registration",
            db_bytes as f64 / 1e6,
            db_bytes as f64 / o.registrations.max(1) as f64
        );

        let listed = call(&mut Conn::open(&addr).await, &token, a, "ticket.getPurchasableTickets", json!({})).await;
        let list = serde_json::value::to_raw_value(&listed).expect("the list as text");
        println!("ticket.list answers {} tickets in {} bytes", listed["count"], list.get().len());
        let (floor_addr, floor_handle) = floor_server(list).await;
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
                Arc::new(|w, n| (rpc_body("ticket.getPurchasableTicket", json!({"productId": format!("ticket-{}", (w as u64 + n) % TICKETS as u64)})), 1)),
            ),
            ("ticket.create", true, {
                let next = next.clone();
                Arc::new(move |_, _| {
                    let i = next.fetch_add(1, Ordering::Relaxed) as usize + 1_000_000;
                    (rpc_body("ticket.createPurchasableTicket", json!({"ticket": ticket(i, None)})), 1)
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
            ("mixed", true, {
                let ids = ids.clone();
                Arc::new(move |w, n| {
                    let id = &ids[(w * 7919 + n as usize * 31) % ids.len()];
                    let body = match n % 10 {
                        0 => rpc_body("registration.patch", json!({"id": id, "patch": [{"op": "replace", "path": "/notes", "value": format!("n{n}")}]})),
                        1..=3 => rpc_body("ticket.getPurchasableTickets", json!({"visible": true, "limit": 50})),
                        4..=5 => rpc_body("registration.get", json!({"id": id})),
                        6..=7 => rpc_body("registration.search", json!({"eventId": format!("event-{}", n % EVENTS as u64), "limit": 20})),
                        _ => rpc_body("ticket.getPurchasableTicket", json!({"productId": format!("ticket-{}", n % TICKETS as u64)})),
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

        let mut outcomes = Vec::new();
        for (name, writes, make) in scenarios {
            let before = writer_stats(&addr).await;
            let target = if name.starts_with("floor") { &floor_addr } else { &addr };
            let network = match name {
                "ticket.create" | "batch" => c,
                LIST_AT_SCALE | LIST_AT_SCALE_QUIET => d,
                _ => a,
            };
            let part = (name == LIST_AT_SCALE).then_some(LIST_AT_SCALE_READS);
            let cpu_before = server.cpu_us();
            let mut outcome = drive(name, target, &token, network, &o, make, part).await;
            if !name.starts_with("floor") {
                outcome.server_us_per_call = Some((server.cpu_us() - cpu_before) / outcome.calls.max(1) as f64);
            }
            if writes {
                let after = writer_stats(&addr).await;
                let commits = after.0.saturating_sub(before.0).max(1);
                outcome.calls_per_commit = Some(after.1.saturating_sub(before.1) as f64 / commits as f64);
            }
            outcome.peak_rss_mb = server.peak_rss_mb();
            outcomes.push(outcome);
        }
        let _ = floor_handle.stop();
        let peak = server.peak_rss_mb();
        let whoami = outcomes.iter().find(|x| x.name == "whoami").map_or(1.0, |x| x.requests_per_s);

        println!(
            "\n{} connections, {} s per scenario, {} registrations\n",
            o.connections, o.seconds, o.registrations
        );
        println!(
            "{:<20} {:>10} {:>10} {:>8} {:>8} {:>8} {:>7} {:>9} {:>12} {:>8} {:>11}",
            "scenario", "req/s", "calls/s", "p50 ms", "p99 ms", "p99.9 ms", "errors", "x whoami", "calls/commit", "peak MB",
            "server us/call"
        );
        let mut rows = Vec::new();
        for x in &outcomes {
            let per_commit = x.calls_per_commit.map_or("-".to_owned(), |c| format!("{c:.1}"));
            let cpu = x.server_us_per_call.map_or("-".to_owned(), |c| format!("{c:.1}"));
            println!(
                "{:<20} {:>10.0} {:>10.0} {:>8.2} {:>8.2} {:>8.2} {:>7} {:>9.2} {:>12} {:>8.1} {:>11}",
                x.name, x.requests_per_s, x.calls_per_s, x.p50_ms, x.p99_ms, x.p999_ms, x.errors, x.requests_per_s / whoami, per_commit, x.peak_rss_mb, cpu
            );
            rows.push(json!({
                "scenario": x.name, "requestsPerSecond": x.requests_per_s, "callsPerSecond": x.calls_per_s,
                "p50Ms": x.p50_ms, "p99Ms": x.p99_ms, "p999Ms": x.p999_ms, "errors": x.errors,
                "ratioToWhoami": x.requests_per_s / whoami, "callsPerCommit": x.calls_per_commit,
                "peakRssMbAfter": x.peak_rss_mb, "serverMicrosPerCall": x.server_us_per_call,
                "part": x.part.as_ref().map(|p| json!({
                    "label": p.label, "calls": p.calls, "p50Ms": p.p50_ms, "p99Ms": p.p99_ms, "p999Ms": p.p999_ms,
                })),
            }));
        }
        for (name, p) in outcomes.iter().filter_map(|x| Some((&x.name, x.part.as_ref()?))) {
            println!(
                "\n{name}: {}: p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms ({} calls)",
                p.label, p.p50_ms, p.p99_ms, p.p999_ms, p.calls
            );
        }
        println!("\nserver peak RSS: {peak:.1} MB");
        let report = json!({
            "connections": o.connections, "seconds": o.seconds, "registrations": o.registrations,
            "databaseBytesAfterSeeding": db_bytes,
            "peakRssMb": peak, "scenarios": rows,
        });
        let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
        std::fs::create_dir_all(&out).expect("target/bench");
        std::fs::write(out.join("load.json"), serde_json::to_string_pretty(&report).expect("json")).expect("write");
        println!("written to target/bench/load.json");
    });
}
