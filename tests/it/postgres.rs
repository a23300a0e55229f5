//! The PostgreSQL store end to end: the whole black-box suite run again on it (the same tests, not a copy), and
//! three servers on one database keeping capacity, uniqueness, numbering, versions, tokens and the ticket list exact
//! across each other, one of them killed mid-load. Skipped where PostgreSQL is not installed (see
//! [`common::postgres_available`]).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::{Value, json};
use ticket_admin::config::{Config, Db, RateLimits};

use crate::common::{self, ADMIN, Client, RpcError, network, registration, ticket};
use crate::process::{Server, ticket_admin};

/// How long a token made or revoked on one server may go unseen by the others.
const TOKEN_SEEN: Duration = Duration::from_secs(1);

#[test]
fn the_black_box_suite_passes_on_postgres() {
    if common::on_postgres() || !common::postgres_available() {
        return;
    }
    // This binary again, every server of it on PostgreSQL; the process tests are about the binary and its SQLite
    // file, and this module runs here.
    let run = std::process::Command::new(std::env::current_exe().expect("the test binary"))
        .env("TICKET_ADMIN_TEST_STORE", "postgres")
        .args(["--skip", "process::", "--skip", "postgres::"])
        .output()
        .expect("the suite runs");
    let out = String::from_utf8_lossy(&run.stdout);
    let lines: Vec<&str> = out.lines().collect();
    let tail = lines[lines.len().saturating_sub(80)..].join("\n");
    assert!(run.status.success(), "the suite on PostgreSQL failed:\n{tail}\n{}", String::from_utf8_lossy(&run.stderr));
    assert!(out.contains("test result: ok"), "{tail}");
}

/// Three servers of this process on one new database; `None` where PostgreSQL is not installed.
async fn three_servers() -> Option<Vec<ticket_admin::Running>> {
    if !common::postgres_available() {
        return None;
    }
    let url = tokio::task::spawn_blocking(common::postgres_database).await.expect("a database");
    let config = Config {
        addr: "127.0.0.1:0".into(),
        db: Db::Postgres(url),
        bootstrap_token: Some(ADMIN.into()),
        rates: RateLimits::OFF,
        ..Config::default()
    };
    // All three start at once on the empty database: one migrates it and makes the admin token.
    let started = join_all((0..3).map(|_| ticket_admin::start(config.clone()))).await;
    Some(started.into_iter().map(|s| s.expect("a server starts")).collect())
}

fn clients(servers: &[ticket_admin::Running], token: &str, net: &str) -> Vec<Client> {
    servers.iter().map(|s| Client::of(s.local_addr()).with_token(token).on(net)).collect()
}

/// Calls `method` with each params on the clients in turn, all at once; each outcome, in the order given.
async fn spread(clients: &[Client], method: &str, params: Vec<Value>) -> Vec<Result<Value, RpcError>> {
    let calls = params.into_iter().enumerate().map(|(i, p)| {
        let client = clients[i % clients.len()].clone();
        let method = method.to_owned();
        tokio::spawn(async move { client.call(&method, p).await })
    });
    join_all(calls).await.into_iter().map(|r| r.expect("the call ran")).collect()
}

fn reasons(outcomes: &[Result<Value, RpcError>]) -> Vec<String> {
    outcomes.iter().filter_map(|o| o.as_ref().err()).map(|e| format!("{} {}", e.code, e.reason())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_servers_sell_exactly_the_allocation() {
    let Some(servers) = three_servers().await else { return };
    let all = clients(&servers, ADMIN, &network("pg-capacity"));
    let mut limited = ticket("seat");
    limited["allocation"] = json!(100);
    all[0].call("ticket.createPurchasableTicket", json!({"ticket": limited})).await.unwrap();
    let buyers = (0..300)
        .map(|i| {
            let mut r = registration(&format!("c{i}"));
            r["productId"] = json!("seat");
            json!({"registration": r})
        })
        .collect();
    let outcomes = spread(&all, "registration.create", buyers).await;
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 100, "{:?}", reasons(&outcomes));
    assert!(reasons(&outcomes).iter().all(|r| r == "-32009 soldOut"), "{:?}", reasons(&outcomes));
    for client in &all {
        let seat = client.call("ticket.getPurchasableTickets", json!({"productIds": ["seat"]})).await.unwrap();
        assert_eq!(seat["tickets"][0]["sold"], 100, "every server sees the seats taken");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_servers_make_one_ticket_per_product_id_and_never_repeat_a_number() {
    let Some(servers) = three_servers().await else { return };
    let all = clients(&servers, ADMIN, &network("pg-unique"));
    let same = (0..30).map(|_| json!({"ticket": ticket("only")})).collect();
    let outcomes = spread(&all, "ticket.createPurchasableTicket", same).await;
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1, "{:?}", reasons(&outcomes));
    assert!(reasons(&outcomes).iter().all(|r| r == "-32009 duplicate"), "{:?}", reasons(&outcomes));

    let people = (0..150).map(|i| json!({"registration": registration(&format!("c{i}"))})).collect();
    let made = spread(&all, "registration.create", people).await;
    let numbers: HashSet<i64> =
        made.iter().map(|r| r.as_ref().expect("registered")["registration"]["number"].as_i64().unwrap()).collect();
    assert_eq!(numbers, (1..=150).collect::<HashSet<i64>>(), "each number once, none skipped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_servers_take_one_change_per_version() {
    let Some(servers) = three_servers().await else { return };
    let all = clients(&servers, ADMIN, &network("pg-version"));
    all[0].call("ticket.createPurchasableTicket", json!({"ticket": ticket("t")})).await.unwrap();
    let changes = (0..30)
        .map(|i| {
            let mut changed = ticket("t");
            changed["ticketName"] = json!(format!("name {i}"));
            changed["sysVersion"] = json!(1);
            json!({"ticket": changed})
        })
        .collect();
    let outcomes = spread(&all, "ticket.updatePurchasableTicket", changes).await;
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1, "{:?}", reasons(&outcomes));
    assert!(reasons(&outcomes).iter().all(|r| r == "-32009 staleVersion"), "{:?}", reasons(&outcomes));
    for client in &all {
        let listed = client.call("ticket.getPurchasableTickets", json!({})).await.unwrap();
        assert_eq!(listed["tickets"][0]["sysVersion"], 2);
    }
}

/// Many updates of a few tickets at once on one server, each round going through them in another order. The
/// writer's groups take the tickets' row locks in one order, so PostgreSQL never finds a deadlock among them: each
/// would stall its writes for `deadlock_timeout` (a second) before one of them ran again in a later group.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_servers_updates_of_the_same_tickets_in_any_order_never_deadlock() {
    if !common::postgres_available() {
        return;
    }
    const TICKETS: usize = 6;
    const ROUNDS: usize = 50;
    const WAVES: usize = 4;
    let url = tokio::task::spawn_blocking(common::postgres_database).await.expect("a database");
    let config = Config {
        addr: "127.0.0.1:0".into(),
        db: Db::Postgres(url.clone()),
        bootstrap_token: Some(ADMIN.into()),
        rates: RateLimits::OFF,
        ..Config::default()
    };
    let server = ticket_admin::start(config).await.expect("a server starts");
    let net = network("pg-deadlock");
    let callers: Vec<Client> = (0..4).map(|_| Client::of(server.local_addr()).with_token(ADMIN).on(&net)).collect();
    let client = &callers[0];
    for t in 0..TICKETS {
        client.call("ticket.createPurchasableTicket", json!({"ticket": ticket(&format!("t{t}"))})).await.unwrap();
    }
    // In each wave, all at once, round r updates every ticket in an order of its own (a rotation, every other one
    // reversed).
    let mut outcomes = Vec::new();
    for wave in 0..WAVES {
        let updates = (0..ROUNDS)
            .flat_map(|r| {
                (0..TICKETS).map(move |k| {
                    let t = match r % 2 {
                        0 => (k + r) % TICKETS,
                        _ => (TICKETS - 1 - k + r) % TICKETS,
                    };
                    let mut changed = ticket(&format!("t{t}"));
                    changed["ticketName"] = json!(format!("wave {wave} round {r}"));
                    json!({"ticket": changed})
                })
            })
            .collect();
        outcomes.extend(spread(&callers, "ticket.updatePurchasableTicket", updates).await);
    }
    let listed = client.call("ticket.getPurchasableTickets", json!({})).await.unwrap();

    // PostgreSQL counts a deadlock in the statistics of the backend that found it, which it hands on at the latest
    // when that backend ends: the server is stopped and its backends waited for before the count is read.
    let backends = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()";
    let pids = {
        let url = url.clone();
        tokio::task::spawn_blocking(move || common::postgres_query(&url, backends)).await.expect("the backends")
    };
    server.shutdown().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    for pid in pids.lines() {
        while std::path::Path::new(&format!("/proc/{pid}")).exists() {
            assert!(Instant::now() < deadline, "backend {pid} still runs after the server stopped");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let count = "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()";
    let deadlocks = tokio::task::spawn_blocking(move || common::postgres_query(&url, count)).await.expect("a count");
    assert_eq!(deadlocks, "0", "PostgreSQL broke deadlocks between the server's own writes");
    let failed: Vec<String> =
        outcomes.iter().filter_map(|o| o.as_ref().err()).map(|e| format!("{} {}", e.code, e.message)).collect();
    assert!(failed.is_empty(), "{} of {} updates failed, as {:?}", failed.len(), outcomes.len(), failed.first());
    let versions: Vec<&Value> =
        listed["tickets"].as_array().expect("tickets").iter().map(|t| &t["sysVersion"]).collect();
    assert_eq!(versions, vec![&json!(1 + WAVES * ROUNDS); TICKETS], "every update taken, one version each");
}

/// Waits until `client`'s `admin.whoami` succeeds (`accepted`) or is refused; how long that took, `None` past
/// [`TOKEN_SEEN`].
async fn seen_within(client: &Client, accepted: bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() <= TOKEN_SEEN {
        if client.call("admin.whoami", json!({})).await.is_ok() == accepted {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_made_or_revoked_on_one_server_is_seen_by_every_server_within_a_second() {
    let Some(servers) = three_servers().await else { return };
    let admins = clients(&servers, ADMIN, "pg-tokens");
    let made = admins[0].call("admin.createToken", json!({"name": "ops", "grants": ["network.manage@n1"]})).await;
    let made = made.unwrap();
    let holders = clients(&servers, made["token"].as_str().unwrap(), "n1");
    for holder in &holders[1..] {
        assert!(seen_within(holder, true).await.is_some(), "a new token is accepted everywhere within a second");
    }
    admins[1].call("admin.revokeToken", json!({"tokenId": made["tokenInfo"]["id"]})).await.unwrap();
    for holder in [&holders[0], &holders[2]] {
        assert!(seen_within(holder, false).await.is_some(), "a revoked token is refused everywhere within a second");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ticket_list_is_never_stale_on_any_server() {
    let Some(servers) = three_servers().await else { return };
    let all = clients(&servers, ADMIN, &network("pg-list"));
    all[0].call("ticket.createPurchasableTicket", json!({"ticket": ticket("t")})).await.unwrap();
    for i in 0..30 {
        let mut changed = ticket("t");
        changed["price"] = json!(i);
        all[i % 3].call("ticket.updatePurchasableTicket", json!({"ticket": changed})).await.unwrap();
        // Each server answers its list from what it keeps, asking the database only whether that is current.
        for client in &all {
            let listed = client.call("ticket.getPurchasableTickets", json!({})).await.unwrap();
            assert_eq!(listed["tickets"][0]["price"], i, "the change acknowledged by server {} is listed", i % 3);
        }
    }
}

/// Creates tickets `{prefix}-0`, `{prefix}-1`, ... one after another until `count` or the first call that gets no
/// answer (its server is gone); the productIds acknowledged, each also counted in `progress`.
async fn create_until_gone(
    client: Client,
    prefix: String,
    count: usize,
    progress: tokio::sync::watch::Sender<usize>,
) -> Vec<String> {
    let mut acknowledged = Vec::new();
    for i in 0..count {
        let id = format!("{prefix}-{i}");
        let call = json!({"jsonrpc": "2.0", "id": 1, "method": "ticket.createPurchasableTicket",
                          "params": {"ticket": ticket(&id)}});
        let Ok(answer) = client.request("/jsonRpc").body(call.to_string()).send().await else { break };
        let Ok(answer) = answer.json::<Value>().await else { break };
        assert!(answer["error"].is_null(), "{id}: {answer}");
        acknowledged.push(id);
        progress.send_replace(acknowledged.len());
    }
    acknowledged
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_load_loses_nothing_and_the_others_carry_on() {
    if !common::postgres_available() {
        return;
    }
    let url = tokio::task::spawn_blocking(common::postgres_database).await.expect("a database");
    let mut servers = Vec::new();
    for _ in 0..3 {
        let mut command = ticket_admin();
        command.args(["serve", "--addr", "127.0.0.1:0", "--db", &url]).env("TICKET_ADMIN_BOOTSTRAP_TOKEN", ADMIN);
        servers.push(Server::start(command).await);
    }
    let net = network("pg-kill");
    let mut progress = Vec::new();
    let loads: Vec<_> = servers
        .iter()
        .enumerate()
        .map(|(n, server)| {
            let (sender, receiver) = tokio::sync::watch::channel(0);
            progress.push(receiver);
            tokio::spawn(create_until_gone(server.client(ADMIN, &net), format!("s{n}"), 300, sender))
        })
        .collect();
    // Server 0 is killed (SIGKILL) in the middle of its load.
    progress[0].wait_for(|made| *made >= 50).await.expect("the first server's load runs");
    drop(servers.remove(0));
    let acknowledged: Vec<Vec<String>> = join_all(loads).await.into_iter().map(|l| l.expect("a load")).collect();
    assert!(acknowledged[0].len() < 300, "the killed server's load was cut short");
    assert!(acknowledged[1..].iter().all(|a| a.len() == 300), "the others carry on to the end");

    let survivor = servers[0].client(ADMIN, &net);
    let listed = survivor.call("ticket.getPurchasableTickets", json!({})).await.expect("the list");
    let kept: HashSet<&str> =
        listed["tickets"].as_array().expect("tickets").iter().map(|t| t["productId"].as_str().unwrap()).collect();
    for id in acknowledged.iter().flatten() {
        assert!(kept.contains(id.as_str()), "{id} was acknowledged and is kept");
    }
    // At most the one create the killed server had begun and not answered is kept beyond what was acknowledged.
    assert!(kept.len() <= acknowledged.iter().map(Vec::len).sum::<usize>() + 1, "{}", kept.len());
}
