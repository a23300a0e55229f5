//! `cargo bench --bench search`: how long `registration.search` and the look-ups take on 100,000 registrations.
//!
//! Starts a real server (release build) on a temporary database, seeds it over HTTP in JSON-RPC batches, then
//! times each query sequentially and prints the median and the 99th percentile per query. `SEARCH_BENCH_DB=path`
//! keeps the seeded database there. `-- --store postgres` runs the same on PostgreSQL: a cluster of its own (with
//! PostgreSQL's durable defaults) in a temporary directory, from the machine's server binaries; after the seeding it
//! runs `VACUUM (ANALYZE)` and `CHECKPOINT`, as autovacuum would before long, unless `--unsettled` is given (then the
//! queries run on statistics that do not know the rows yet, as they would in the first minute after a bulk load).

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use ticket_admin::config::{Config, Db};

// Its unit test is compiled out in a benchmark, which leaves the test's imports unused.
#[allow(unused_imports)]
#[path = "../tests/it/common/cluster.rs"]
mod cluster;
mod common;
use common::registration;

const ADMIN: &str = "ta_bench_admin_0123456789abcdef0123456789abcdef";
const REGISTRATIONS: usize = 100_000;
const RUNS: usize = 200;

async fn rpc(http: &reqwest::Client, url: &str, body: Value) -> Value {
    let resp = http
        .post(url)
        .bearer_auth(ADMIN)
        .header("x-network-id", "bench")
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("request");
    serde_json::from_str(&resp.text().await.expect("body")).expect("json")
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        // SEARCH_BENCH_DB keeps the seeded database at that path, for looking into query plans afterwards.
        let db: std::path::PathBuf =
            std::env::var_os("SEARCH_BENCH_DB").map_or_else(|| dir.path().join("bench.db"), Into::into);
        let on_postgres = std::env::args().skip(1).collect::<Vec<_>>().windows(2).any(|w| w == ["--store", "postgres"]);
        let cluster = on_postgres.then(|| cluster::Cluster::start(true).expect("a PostgreSQL cluster"));
        let store = match &cluster {
            Some(cluster) => Db::Postgres(cluster.create_database("search").expect("a database")),
            None => db.clone().into(),
        };
        println!("store: {store}");
        let config = Config {
            addr: "127.0.0.1:0".into(),
            db: store,
            bootstrap_token: Some(ADMIN.into()),
            ..Config::default()
        };
        let running = ticket_admin::start(config).await.expect("server");
        let url = format!("http://{}/jsonRpc", running.local_addr());
        let http = reqwest::Client::new();

        let seeding = Instant::now();
        let mut batches = Vec::new();
        for chunk in (0..REGISTRATIONS).collect::<Vec<_>>().chunks(100) {
            let batch: Vec<Value> = chunk
                .iter()
                .map(|&i| json!({"jsonrpc": "2.0", "id": i, "method": "registration.create", "params": {"registration": registration(i)}}))
                .collect();
            batches.push(Value::Array(batch));
        }
        for group in batches.chunks(8) {
            let sent = group.iter().map(|b| rpc(&http, &url, b.clone()));
            for answer in futures_util::future::join_all(sent).await {
                assert!(answer.as_array().is_some_and(|a| a.iter().all(|r| r["error"].is_null())), "seeding failed");
            }
        }
        println!("seeded {REGISTRATIONS} registrations in {:.1} s", seeding.elapsed().as_secs_f64());
        // On PostgreSQL, settled as the load benchmark settles its database, unless --unsettled.
        let unsettled = std::env::args().any(|a| a == "--unsettled");
        if let Some(cluster) = cluster.as_ref().filter(|_| !unsettled) {
            common::settle_postgres(cluster, "search");
        }

        let queries = [
            ("search eventId, limit 50", "registration.search", json!({"eventId": "event-7", "limit": 50})),
            ("search eventId+status+orderStatus", "registration.search", json!({"eventId": "event-3", "status": ["active"], "orderStatus": ["open"], "limit": 50})),
            ("search lastName contains", "registration.search", json!({"lastName": "son4242", "limit": 50})),
            ("search city contains + eventId", "registration.search", json!({"city": "pari", "eventId": "event-1", "limit": 50})),
            ("search orderTotal range", "registration.search", json!({"orderTotal": {"from": 100, "to": 110}, "limit": 50})),
            ("search organizationId", "registration.search", json!({"organizationId": ["org-42"], "limit": 50})),
            ("search no filter, limit 50", "registration.search", json!({"limit": 50})),
            ("listByContact", "registration.listByContact", json!({"contactId": "contact-4711"})),
            ("listByEventOrganization", "registration.listByEventOrganization", json!({"eventId": "event-2", "organizationId": "org-42"})),
            ("listByGroup", "registration.listByGroup", json!({"groupId": "group-999"})),
        ];
        println!("{:<38} {:>8} {:>10} {:>10}", "query", "count", "p50 ms", "p99 ms");
        for (label, method, params) in queries {
            let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
            let mut count = Value::Null;
            for _ in 0..RUNS {
                let started = Instant::now();
                let answer = rpc(&http, &url, json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})).await;
                times.push(started.elapsed());
                assert!(answer["error"].is_null(), "{label}: {answer}");
                count = answer["result"]["count"].clone();
            }
            times.sort();
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            println!("{label:<38} {count:>8} {:>10.2} {:>10.2}", ms(times[RUNS / 2]), ms(times[RUNS * 99 / 100]));
        }
        if cluster.is_none() {
            let size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
            println!("database file: {:.1} MB, {} bytes per registration", size as f64 / 1e6, size / REGISTRATIONS as u64);
        }
        running.shutdown().await;
    });
}
