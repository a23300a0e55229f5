//! What `GET /metrics` answers: the server's counters in Prometheus's text format, through the `metrics` crate and
//! its Prometheus exporter.
//!
//! Each server keeps a recorder of its own (never the process-wide one), so that two servers in one process (the
//! tests run many) count apart. The families, all prefixed `ticket_admin_`:
//!
//! | family | kind | labels |
//! |---|---|---|
//! | `calls_total` | counter | `method` (a method of the table, or `unknown`), `code` (0 for a result, else the error code) |
//! | `call_duration_seconds` | histogram | `method` |
//! | `writer_transactions_total`, `writer_calls_total` | counter | none: the store's commits and the calls they carried |
//! | `open_connections` | gauge | none |
//! | `outbox_messages` | gauge | `status` (`queued`, `sending`, `sent`, `failed`, `held`): the outbox, read from the store at each scrape |
//! | `kept_list_tickets`, `kept_lists` | gauge | none: the tickets the kept ticket lists hold (within `--kept-tickets`), and of how many networks |
//! | `rate_limit_refusals_total` | counter | `limit` (`token`, `network`, `anonymous`, `inFlight`, `bodyMemory`) |
//! | `http_refusals_total` | counter | `status` (every answer of 400 or more) |
//!
//! A histogram's samples wait in the recorder until they are summed into its buckets; [`Metrics::upkeep`], run every
//! few seconds by the server, sums them, so that memory stays bounded when nobody scrapes.

use std::sync::Arc;
use std::time::Duration;

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Label, Level, Metadata, Recorder, SharedString, Unit};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

use crate::domain::mail::MailStatus;
use crate::rpc::methods::METHODS;
use crate::store::WriteStats;

const CALLS: &str = "ticket_admin_calls_total";
const CALL_DURATION: &str = "ticket_admin_call_duration_seconds";
const WRITER_TRANSACTIONS: &str = "ticket_admin_writer_transactions_total";
const WRITER_CALLS: &str = "ticket_admin_writer_calls_total";
const OPEN_CONNECTIONS: &str = "ticket_admin_open_connections";
const RATE_LIMIT_REFUSALS: &str = "ticket_admin_rate_limit_refusals_total";
const HTTP_REFUSALS: &str = "ticket_admin_http_refusals_total";
const OUTBOX_MESSAGES: &str = "ticket_admin_outbox_messages";
const KEPT_LIST_TICKETS: &str = "ticket_admin_kept_list_tickets";
const KEPT_LISTS: &str = "ticket_admin_kept_lists";

/// The method label of a name the method table does not hold: a caller cannot grow the label set.
pub const UNKNOWN_METHOD: &str = "unknown";

/// The latency buckets, in seconds: from half a millisecond (a read) to the call timeout's order.
const BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// How often the server sums the histograms' waiting samples.
pub const UPKEEP: Duration = Duration::from_secs(5);

static METADATA: Metadata<'static> = Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

/// A method's own handles, made once: its histogram and its count of results.
struct PerMethod {
    name: &'static str,
    duration: Histogram,
    succeeded: Counter,
}

/// One server's metrics.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    /// One per entry of the method table, by name (looked up on every call).
    methods: std::collections::HashMap<&'static str, PerMethod>,
    /// The one for names the table does not hold.
    unknown: PerMethod,
    connections: Gauge,
    writer_transactions: Counter,
    writer_calls: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A recorder with every family described and every method's handles made.
    pub fn new() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(metrics_exporter_prometheus::Matcher::Full(CALL_DURATION.into()), BUCKETS)
            .expect("the latency buckets are not empty")
            .build_recorder();
        let describe = |name: &'static str, unit: Option<Unit>, help: &'static str| {
            let (name, help) = (KeyName::from_const_str(name), SharedString::const_str(help));
            match name.as_str() {
                CALL_DURATION => recorder.describe_histogram(name, unit, help),
                OPEN_CONNECTIONS | OUTBOX_MESSAGES | KEPT_LIST_TICKETS | KEPT_LISTS => {
                    recorder.describe_gauge(name, unit, help)
                }
                _ => recorder.describe_counter(name, unit, help),
            }
        };
        describe(CALLS, None, "Calls answered, by method and outcome code (0: a result).");
        describe(CALL_DURATION, Some(Unit::Seconds), "Time from a call's admission to its answer, by method.");
        describe(WRITER_TRANSACTIONS, None, "Transactions the store's writer committed.");
        describe(
            WRITER_CALLS,
            None,
            "Calls those transactions carried (divide by the transactions for the group size).",
        );
        describe(OPEN_CONNECTIONS, None, "Client connections open now.");
        describe(RATE_LIMIT_REFUSALS, None, "Calls refused by a rate limit or a full server, by limit.");
        describe(HTTP_REFUSALS, None, "HTTP answers of status 400 or more, by status.");
        describe(OUTBOX_MESSAGES, None, "Messages in the outbox (of every network), by status.");
        describe(KEPT_LIST_TICKETS, None, "Tickets the ticket lists kept in memory hold, all networks together.");
        describe(KEPT_LISTS, None, "Networks whose ticket list is kept in memory.");
        let handle = recorder.handle();
        let per_method = |name: &'static str| PerMethod {
            name,
            duration: recorder
                .register_histogram(&key(CALL_DURATION, vec![Label::from_static_parts("method", name)]), &METADATA),
            succeeded: recorder.register_counter(&calls_key(name, 0), &METADATA),
        };
        let methods = METHODS.iter().map(|m| (m.name, per_method(m.name))).collect();
        let unknown = per_method(UNKNOWN_METHOD);
        let connections = recorder.register_gauge(&Key::from_static_name(OPEN_CONNECTIONS), &METADATA);
        let writer_transactions = recorder.register_counter(&Key::from_static_name(WRITER_TRANSACTIONS), &METADATA);
        let writer_calls = recorder.register_counter(&Key::from_static_name(WRITER_CALLS), &METADATA);
        Metrics { recorder, handle, methods, unknown, connections, writer_transactions, writer_calls }
    }

    /// The gauges of the kept ticket lists: the tickets they hold, and how many lists.
    pub fn kept_lists(&self) -> (Gauge, Gauge) {
        let gauge = |name| self.recorder.register_gauge(&Key::from_static_name(name), &METADATA);
        (gauge(KEPT_LIST_TICKETS), gauge(KEPT_LISTS))
    }

    /// Counts one answered call of `method` (any name a caller sent) with its outcome `code` and time.
    pub fn call(&self, method: &str, code: i32, elapsed: Duration) {
        let per = self.methods.get(method).unwrap_or(&self.unknown);
        per.duration.record(elapsed.as_secs_f64());
        if code == 0 {
            per.succeeded.increment(1);
        } else {
            self.recorder.register_counter(&calls_key(per.name, code), &METADATA).increment(1);
        }
    }

    /// Counts a request answered before any method could run, as a call of the unknown method: a body that is not
    /// JSON (`-32700`), or an entry that is not a request or a batch over the limit (`-32600`).
    pub fn malformed(&self, code: i32) {
        self.recorder.register_counter(&calls_key(UNKNOWN_METHOD, code), &METADATA).increment(1);
    }

    /// Counts an open connection until the returned value is dropped.
    pub fn connection(self: &Arc<Self>) -> OpenConnection {
        self.connections.increment(1.0);
        OpenConnection(self.connections.clone())
    }

    /// Counts a refusal by the rate limit or server bound named `limit`.
    pub fn rate_limited(&self, limit: &'static str) {
        let key = key(RATE_LIMIT_REFUSALS, vec![Label::from_static_parts("limit", limit)]);
        self.recorder.register_counter(&key, &METADATA).increment(1);
    }

    /// Counts an HTTP answer of `status` when it is a refusal (400 or more).
    pub fn http_status(&self, status: u16) {
        if status >= 400 {
            let key = key(HTTP_REFUSALS, vec![Label::new("status", status.to_string())]);
            self.recorder.register_counter(&key, &METADATA).increment(1);
        }
    }

    /// Sums the histograms' waiting samples.
    pub fn upkeep(&self) {
        self.handle.run_upkeep();
    }

    /// The text of `GET /metrics`, with the store's write counters and the outbox's counts by status as they are
    /// now (no outbox family when the store could not count it).
    pub fn render(&self, writes: WriteStats, outbox: &[(MailStatus, i64)]) -> String {
        self.writer_transactions.absolute(writes.commits);
        self.writer_calls.absolute(writes.calls);
        for (status, count) in outbox {
            let key = key(OUTBOX_MESSAGES, vec![Label::from_static_parts("status", status.as_str())]);
            self.recorder.register_gauge(&key, &METADATA).set(*count as f64);
        }
        self.handle.render()
    }
}

fn key(name: &'static str, labels: Vec<Label>) -> Key {
    Key::from_parts(name, labels)
}

fn calls_key(method: &'static str, code: i32) -> Key {
    key(CALLS, vec![Label::from_static_parts("method", method), Label::new("code", code.to_string())])
}

/// An open connection, counted until dropped.
pub struct OpenConnection(Gauge);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of the sample line that starts with `series` (name and labels, as rendered).
    fn sample(text: &str, series: &str) -> Option<f64> {
        text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    }

    #[test]
    fn counts_calls_by_method_and_code_and_names_strangers_unknown() {
        let metrics = Metrics::new();
        metrics.call("ticket.getPurchasableTickets", 0, Duration::from_millis(2));
        metrics.call("ticket.getPurchasableTickets", 0, Duration::from_millis(3));
        metrics.call("ticket.getPurchasableTickets", -32602, Duration::from_millis(1));
        metrics.call("no.such.method", -32601, Duration::from_micros(100));
        metrics.upkeep();
        let text = metrics.render(WriteStats { commits: 4, calls: 9 }, &[(MailStatus::Held, 2)]);
        let list = r#"method="ticket.getPurchasableTickets""#;
        assert_eq!(sample(&text, &format!(r#"ticket_admin_calls_total{{{list},code="0"}}"#)), Some(2.0), "{text}");
        assert_eq!(sample(&text, &format!(r#"ticket_admin_calls_total{{{list},code="-32602"}}"#)), Some(1.0));
        assert_eq!(sample(&text, r#"ticket_admin_calls_total{method="unknown",code="-32601"}"#), Some(1.0));
        assert!(!text.contains("no.such.method"), "a caller's name never becomes a label");
        assert_eq!(sample(&text, &format!("ticket_admin_call_duration_seconds_count{{{list}}}")), Some(3.0));
        let under_2_5ms = format!(r#"ticket_admin_call_duration_seconds_bucket{{{list},le="0.0025"}}"#);
        assert_eq!(sample(&text, &under_2_5ms), Some(2.0), "1 ms and 2 ms fall in the 2.5 ms bucket, 3 ms does not");
        assert_eq!(sample(&text, "ticket_admin_writer_transactions_total"), Some(4.0));
        assert_eq!(sample(&text, "ticket_admin_writer_calls_total"), Some(9.0));
        assert_eq!(sample(&text, r#"ticket_admin_outbox_messages{status="held"}"#), Some(2.0), "{text}");
        assert!(text.contains("# TYPE ticket_admin_call_duration_seconds histogram"), "{text}");
    }

    #[test]
    fn counts_connections_while_open_and_refusals_by_reason() {
        let metrics = Arc::new(Metrics::new());
        let (first, second) = (metrics.connection(), metrics.connection());
        drop(first);
        metrics.rate_limited("token");
        metrics.rate_limited("token");
        metrics.http_status(429);
        metrics.http_status(200);
        let text = metrics.render(WriteStats::default(), &[]);
        assert_eq!(sample(&text, "ticket_admin_open_connections"), Some(1.0), "{text}");
        assert_eq!(sample(&text, r#"ticket_admin_rate_limit_refusals_total{limit="token"}"#), Some(2.0));
        assert_eq!(sample(&text, r#"ticket_admin_http_refusals_total{status="429"}"#), Some(1.0));
        assert!(!text.contains(r#"status="200""#), "only refusals are counted");
        drop(second);
        assert_eq!(sample(&metrics.render(WriteStats::default(), &[]), "ticket_admin_open_connections"), Some(0.0));
    }
}
