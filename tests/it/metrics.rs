//! `GET /metrics`, black-box over HTTP (API.md section 13): Prometheus's text format with calls by method and
//! outcome code, latency histograms by method, the writer's transactions and the calls they carried, open
//! connections, rate-limit refusals and HTTP refusals. A server of the test's own, so that every count is its calls'.

use crate::common;

use std::time::Duration;

use common::Client;
use serde_json::json;
use ticket_admin::config::RateLimits;

/// The value of the sample whose name and labels are `series`, as rendered; `None` when there is none.
pub(crate) fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// `GET /metrics` with the client's token, checked to be Prometheus's text format.
pub(crate) async fn scrape(client: &Client) -> String {
    let mut request = client.http.get(format!("{}/metrics", client.base));
    if let Some(token) = &client.token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("GET /metrics");
    assert_eq!(response.status(), 200);
    let kind = response.headers()["content-type"].to_str().expect("content type").to_owned();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    response.text().await.expect("body")
}

/// Scrapes until the value of `series` passes `wanted` (a connection is counted once the listener has taken it and
/// uncounted once its task has ended), or fails after ten seconds.
async fn until(client: &Client, series: &str, wanted: impl Fn(f64) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = scrape(client).await;
        if sample(&text, series).is_some_and(&wanted) {
            return text;
        }
        assert!(tokio::time::Instant::now() < deadline, "{series} never came to what was awaited:\n{text}");
        tokio::task::yield_now().await;
    }
}

/// Every line is a comment (`# HELP`/`# TYPE` naming a family) or a sample: a name, labels, and a number.
fn assert_exposition_format(text: &str) {
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(comment) = line.strip_prefix("# ") {
            let mut words = comment.split(' ');
            assert!(matches!(words.next(), Some("HELP" | "TYPE")), "{line}");
            assert!(words.next().is_some_and(|name| name.starts_with("ticket_admin_")), "{line}");
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("a sample line: {line}"));
        assert!(value.parse::<f64>().is_ok() || value == "+Inf", "{line}");
        let name = series.split('{').next().unwrap_or_default();
        assert!(name.starts_with("ticket_admin_") && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        if let Some(labels) = series.strip_prefix(name) {
            assert!(labels.is_empty() || (labels.starts_with('{') && labels.ends_with('}')), "{line}");
        }
    }
}

#[tokio::test]
async fn metrics_count_calls_outcomes_latency_writes_connections_and_refusals() {
    let server = common::launch(|c| c.rates = RateLimits { anonymous: 1, ..c.rates }).await;
    let admin = server.admin();
    let network = common::network("metrics");
    let manager = admin.clone().on(&network);

    manager.call("ticket.createPurchasableTicket", json!({"ticket": common::ticket("m-1")})).await.expect("created");
    for _ in 0..2 {
        manager.call("ticket.getPurchasableTickets", json!({})).await.expect("listed");
    }
    let refused = manager.call("ticket.createPurchasableTicket", json!({"ticket": {}})).await.expect_err("invalid");
    assert_eq!(refused.code, -32602);
    let misspelt = manager.call("ticket.getPurchasableTikcets", json!({})).await.expect_err("no such method");
    assert_eq!(misspelt.code, -32601);
    // Bodies refused before any method runs: one unparsable in each wire form, and a batch of one valid call and
    // two entries that are not requests.
    assert_eq!(admin.post_raw("/jsonRpc", "{").await.0, 200);
    assert_eq!(admin.post_raw("/jsonRpc/ticket.getPurchasableTickets", "{").await.0, 200);
    let batch = r#"[{"jsonrpc":"2.0","method":"admin.whoami","id":1},{"jsonrpc":"1.0","id":2},7]"#;
    assert_eq!(admin.post_raw("/jsonRpc", batch).await.0, 200);
    assert_eq!(admin.post_raw("/jsonRpc", "[]").await.0, 200);
    assert_eq!(admin.post_raw("/nowhere", "{}").await.0, 404);
    assert_eq!(admin.post_raw("/health", "{}").await.0, 405);
    // The anonymous bucket holds a burst of two: GETs in a row are refused once it is empty (however slowly they go,
    // one in twenty is refused at a rate of one a second).
    let anonymous = Client::of(server.addr);
    let mut over = 0;
    for _ in 0..20 {
        let response = anonymous.http.get(format!("{}/health", anonymous.base)).send().await.expect("GET");
        if response.status() == 429 {
            over += 1;
            break;
        }
    }
    assert_eq!(over, 1, "the anonymous limit refused a GET");
    let text = scrape(&admin).await;
    assert_exposition_format(&text);
    for family in [
        "ticket_admin_calls_total counter",
        "ticket_admin_call_duration_seconds histogram",
        "ticket_admin_writer_transactions_total counter",
        "ticket_admin_writer_calls_total counter",
        "ticket_admin_open_connections gauge",
        "ticket_admin_rate_limit_refusals_total counter",
        "ticket_admin_http_refusals_total counter",
        "ticket_admin_kept_list_tickets gauge",
        "ticket_admin_kept_lists gauge",
    ] {
        assert!(text.contains(&format!("# TYPE {family}\n")), "{family}:\n{text}");
    }
    let calls = |method: &str, code: i32| format!(r#"ticket_admin_calls_total{{method="{method}",code="{code}"}}"#);
    assert_eq!(sample(&text, &calls("ticket.createPurchasableTicket", 0)), Some(1.0), "{text}");
    assert_eq!(sample(&text, &calls("ticket.createPurchasableTicket", -32602)), Some(1.0));
    assert_eq!(sample(&text, &calls("ticket.getPurchasableTickets", 0)), Some(2.0));
    assert_eq!(sample(&text, &calls("unknown", -32601)), Some(1.0), "a misspelt name is counted as unknown");
    assert_eq!(sample(&text, &calls("unknown", -32700)), Some(2.0), "unparsable bodies, counted as unknown");
    assert_eq!(sample(&text, &calls("unknown", -32600)), Some(3.0), "entries that are not requests, an empty batch");
    assert_eq!(sample(&text, &calls("admin.whoami", 0)), Some(1.0), "the batch's valid call");
    assert!(!text.contains("Tikcets"), "a caller's name never becomes a label");
    let listed = r#"{method="ticket.getPurchasableTickets"}"#;
    assert_eq!(sample(&text, &format!("ticket_admin_call_duration_seconds_count{listed}")), Some(2.0));
    let slowest = r#"ticket_admin_call_duration_seconds_bucket{method="ticket.getPurchasableTickets",le="+Inf"}"#;
    assert_eq!(sample(&text, slowest), Some(2.0));
    let transactions = sample(&text, "ticket_admin_writer_transactions_total").expect("transactions");
    let carried = sample(&text, "ticket_admin_writer_calls_total").expect("calls");
    assert!(transactions >= 1.0 && carried >= transactions, "{transactions} transactions, {carried} calls");
    for (status, count) in [(404, 1.0), (405, 1.0), (429, f64::from(over))] {
        let series = format!(r#"ticket_admin_http_refusals_total{{status="{status}"}}"#);
        assert_eq!(sample(&text, &series), Some(count), "{series}:\n{text}");
    }
    assert_eq!(sample(&text, r#"ticket_admin_rate_limit_refusals_total{limit="anonymous"}"#), Some(1.0));
    // The one network listed: its list of one ticket is kept.
    assert_eq!(sample(&text, "ticket_admin_kept_list_tickets"), Some(1.0), "{text}");
    assert_eq!(sample(&text, "ticket_admin_kept_lists"), Some(1.0));

    // Open connections: three more held open are counted while open, and no more once closed.
    let open = sample(&text, "ticket_admin_open_connections").expect("open connections");
    let held: Vec<_> = futures_util::future::join_all((0..3).map(|_| tokio::net::TcpStream::connect(server.addr)))
        .await
        .into_iter()
        .map(|c| c.expect("connected"))
        .collect();
    // The clients' own pooled connections may come and go meanwhile: the three held are counted on top of those.
    until(&admin, "ticket_admin_open_connections", |n| n >= open + 3.0).await;
    drop(held);
    until(&admin, "ticket_admin_open_connections", |n| n <= open).await;

    // The writes the server made after the first scrape are counted too.
    manager.call("ticket.createPurchasableTicket", json!({"ticket": common::ticket("m-2")})).await.expect("created");
    let text = scrape(&admin).await;
    assert_eq!(sample(&text, &calls("ticket.createPurchasableTicket", 0)), Some(2.0));
    assert!(sample(&text, "ticket_admin_writer_calls_total").expect("calls") > carried);
    assert_eq!(admin.post_raw("/metrics", "{}").await.0, 405, "metrics are read with GET");
    server.stop().await;
}

#[tokio::test]
async fn the_kept_lists_stay_within_the_servers_budget_and_a_list_let_go_answers_as_before() {
    let server = common::launch(|c| c.kept_tickets = 2).await;
    let admin = server.admin();
    let managers: Vec<Client> = ["kept-a", "kept-b"].map(|n| admin.clone().on(&common::network(n))).into();
    for (m, manager) in managers.iter().enumerate() {
        for t in 0..2 {
            let ticket = common::ticket(&format!("k-{m}-{t}"));
            manager.call("ticket.createPurchasableTicket", json!({"ticket": ticket})).await.expect("created");
        }
    }
    let first = managers[0].call("ticket.getPurchasableTickets", json!({})).await.expect("listed");
    managers[1].call("ticket.getPurchasableTickets", json!({})).await.expect("listed");
    // Two lists of two tickets against a budget of two: only the one read last is kept.
    let text = scrape(&admin).await;
    assert_eq!(sample(&text, "ticket_admin_kept_list_tickets"), Some(2.0), "{text}");
    assert_eq!(sample(&text, "ticket_admin_kept_lists"), Some(1.0));
    assert_eq!(managers[0].call("ticket.getPurchasableTickets", json!({})).await.expect("listed again"), first);
    server.stop().await;
}
