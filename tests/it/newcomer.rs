//! What a newcomer following the README met, each fixed and kept fixed: the first start's admin token kept when the
//! port is taken, offline commands that refuse a missing database, settings that could never work refused at start,
//! error messages that say which token is needed and count in the singular, `ticket-admin call` and the Python
//! client, the token table, `--help` naming the environment, and the `provision` example's dry run and failures.
//!
//! The tests that run the binary or the examples are about the binary and its SQLite file; like `process`, they do
//! nothing when the suite runs again on PostgreSQL. The message tests run on both stores.

use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};
use tokio::process::Command;

use crate::common::{self, ADMIN, Client, create_registration, manager, network, registration, ticket};
use crate::process::{Server, empty_database, finish, provision_example, serve_args, text, ticket_admin, token};

/// Whether this run is the PostgreSQL re-run, where the binary-level tests are left to the SQLite run.
fn binary_tests_skipped() -> bool {
    common::on_postgres()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_start_on_a_port_in_use_makes_no_token_and_the_next_start_prints_it() {
    if binary_tests_skipped() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("first.db");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let mut command = ticket_admin();
    command.args(["serve", "--addr", &addr, "--db"]).arg(&db);
    let refused = finish(command).await;
    let said = text(&refused.stderr);
    assert!(!refused.status.success());
    assert!(said.contains(&format!("cannot listen on {addr}")), "the address is named: {said}");
    assert!(!said.contains("ta_"), "no admin token was made, so none is lost: {said}");
    assert!(!db.exists(), "the database was not even opened");
    drop(taken);

    // The next start, on a free port, is the first start: it makes and prints the admin token.
    let server = Server::start(serve_args(&db)).await;
    let secret = server.early.iter().find(|l| l.starts_with("ta_")).expect("the admin token on standard error");
    let me = server.client(secret, "any").call("admin.whoami", json!({})).await.expect("the admin token works");
    assert_eq!(me["tokenInfo"]["grants"], json!(["all@*"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_commands_refuse_a_missing_database_and_make_none() {
    if binary_tests_skipped() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("typo.db");
    let commands: [&[&str]; 5] = [
        &["list"],
        &["list", "--json"],
        &["create", "--name", "ops", "--grant", "all@*"],
        &["create", "--name", "ops", "--grant", "network.manage@net1"],
        &["revoke", "some-id"],
    ];
    for args in commands {
        let out = token(&typo, args).await;
        let said = text(&out.stderr);
        assert!(!out.status.success(), "token {args:?} on a missing file");
        assert!(out.stdout.is_empty(), "token {args:?}: {}", text(&out.stdout));
        assert!(said.contains(&format!("no database at {}", typo.display())), "token {args:?}: {said}");
        assert!(said.contains("--db"), "the flag to check is named: {said}");
    }
    // The file named by the environment is refused the same way.
    let mut command = ticket_admin();
    command.args(["token", "list"]).env("TICKET_ADMIN_DB", &typo);
    let out = finish(command).await;
    assert!(!out.status.success() && text(&out.stderr).contains("no database at"), "{}", text(&out.stderr));
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "nothing was created: {left:?}");

    // An existing database is used as before.
    empty_database(&typo).await;
    let made = token(&typo, &["create", "--name", "ops", "--grant", "all@*"]).await;
    assert!(made.status.success(), "{}", text(&made.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_refuses_an_origin_that_never_matches_and_a_zero_batch() {
    if binary_tests_skipped() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("config.db");
    let refusals: [(&[&str], &str); 4] = [
        (&["--cors-origin", "http://x/"], "--cors-origin 'http://x/' would never match"),
        (&["--cors-origin", "https://ok.example,https://Dash.example/app"], "write 'https://dash.example'"),
        (&["--max-batch", "0"], "--max-batch must be at least 1"),
        (&["--max-batch", "2000000"], "--max-batch must be at most 1000000"),
    ];
    for (flags, expected) in refusals {
        let mut command = serve_args(&db);
        command.args(flags);
        let out = finish(command).await;
        let said = text(&out.stderr);
        assert!(!out.status.success(), "{flags:?} is refused");
        assert!(said.contains(expected), "{flags:?}: {said}");
    }
    let mut command = serve_args(&db);
    command.env("TICKET_ADMIN_CORS_ORIGINS", "http://x/");
    let out = finish(command).await;
    assert!(!out.status.success() && text(&out.stderr).contains("'http://x'"), "{}", text(&out.stderr));
    assert!(!db.exists(), "a refused configuration opens no database");

    // A well-formed origin is served: its preflight is answered.
    let mut command = serve_args(&db);
    command.args(["--cors-origin", "http://x"]).env("TICKET_ADMIN_BOOTSTRAP_TOKEN", ADMIN);
    let server = Server::start(command).await;
    let preflight = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, format!("http://{}/jsonRpc", server.addr))
        .header("origin", "http://x")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(preflight.headers()["access-control-allow-origin"], "http://x");
}

#[tokio::test]
async fn a_forbidden_admin_call_says_an_admin_token_is_needed() {
    let net = network("wording");
    let user = manager(&net).await;
    let refused = user.call("admin.listTokens", json!({})).await.unwrap_err();
    assert_eq!(refused.code, -32003);
    assert_eq!(refused.message, "forbidden: this method needs an admin token (one with the grant all@*)");
    let elsewhere = user.clone().on(&network("wording-other"));
    let refused = elsewhere.call("ticket.getPurchasableTickets", json!({})).await.unwrap_err();
    assert_eq!(refused.code, -32003);
    assert!(
        refused.message.starts_with("forbidden: this token lacks network.manage on network "),
        "{}",
        refused.message
    );
}

#[tokio::test]
async fn a_held_ticket_counts_its_registrations_in_the_singular_and_the_plural() {
    let net = network("held");
    let user = manager(&net).await;
    user.call("ticket.createPurchasableTicket", json!({"ticket": ticket("seat")})).await.unwrap();
    let delete = || user.call("ticket.deletePurchasableTicket", json!({"productId": "seat"}));
    let mut holder = registration("c1");
    holder["productId"] = json!("seat");
    create_registration(&user, holder.clone()).await.unwrap();
    let refused = delete().await.unwrap_err();
    assert_eq!((refused.code, refused.reason()), (-32009, "referenced"));
    assert_eq!(refused.message, "ticket seat is held by 1 active registration");
    holder["contactId"] = json!("c2");
    create_registration(&user, holder).await.unwrap();
    assert_eq!(delete().await.unwrap_err().message, "ticket seat is held by 2 active registrations");
}

/// Three tokens in a new database, one revoked; the database's path.
async fn three_tokens(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("tokens.db");
    empty_database(&db).await;
    for (name, grant) in [("ops", "network.manage@net1"), ("root", "all@*"), ("gone", "network.manage@net2")] {
        let made = token(&db, &["create", "--name", name, "--grant", grant]).await;
        assert!(made.status.success(), "{}", text(&made.stderr));
    }
    let listed = token(&db, &["list", "--json"]).await;
    let gone = text(&listed.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|t| t["name"] == "gone")
        .expect("the token gone");
    let revoked = token(&db, &["revoke", gone["id"].as_str().unwrap()]).await;
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    db
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_list_prints_a_table_for_people_and_json_lines_for_scripts() {
    if binary_tests_skipped() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = three_tokens(dir.path()).await;

    let json_out = token(&db, &["list", "--json"]).await;
    assert!(json_out.status.success());
    let tokens: Vec<Value> = text(&json_out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(tokens.len(), 3, "one JSON object a line: {}", text(&json_out.stdout));

    let table = token(&db, &["list"]).await;
    assert!(table.status.success(), "{}", text(&table.stderr));
    let table = text(&table.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "a header and a line per token:\n{table}");
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(header, ["ID", "NAME", "GRANTS", "STATE", "CREATED", "EXPIRES"], "{table}");
    assert!(serde_json::from_str::<Value>(lines[1]).is_err(), "not JSON:\n{table}");
    let column = |name: &str| lines[0].find(name).unwrap();
    for token in &tokens {
        let line = lines.iter().find(|l| l.starts_with(token["id"].as_str().unwrap())).expect("a line per token");
        let words: Vec<&str> = line.split_whitespace().collect();
        let state = if token["revokedAt"].is_null() { "active" } else { "revoked" };
        assert_eq!(words[1..4], [token["name"].as_str().unwrap(), token["grants"][0].as_str().unwrap(), state]);
        assert_eq!(words[5], "-", "no expiry: {line}");
        assert_eq!(line.find(words[3]), Some(column("STATE")), "the columns line up:\n{table}");
    }
    assert_eq!(lines.iter().filter(|l| l.contains(" revoked ")).count(), 1, "{table}");
}

/// `ticket-admin ARGS --help`, its standard output.
async fn help(args: &[&str]) -> String {
    let mut command = ticket_admin();
    command.args(args).arg("--help");
    let out = finish(command).await;
    assert!(out.status.success(), "{args:?} --help: {}", text(&out.stderr));
    text(&out.stdout)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_subcommand_help_names_the_environment_it_reads() {
    if binary_tests_skipped() {
        return;
    }
    let serve_env =
        ["TICKET_ADMIN_ADDR", "TICKET_ADMIN_DB", "TICKET_ADMIN_CORS_ORIGINS", "TICKET_ADMIN_MAX_BATCH"].as_slice();
    let serve_extra = ["TICKET_ADMIN_BOOTSTRAP_TOKEN", "RUST_LOG"].as_slice();
    let expected: [(&[&str], &[&[&str]]); 7] = [
        (&[], &[serve_env, serve_extra]),
        (&["serve"], &[serve_env, serve_extra]),
        (&["token"], &[&["TICKET_ADMIN_DB"]]),
        (&["token", "create"], &[&["TICKET_ADMIN_DB"]]),
        (&["token", "list"], &[&["TICKET_ADMIN_DB"]]),
        (&["token", "revoke"], &[&["TICKET_ADMIN_DB"]]),
        (&["call"], &[&["TICKET_ADMIN_URL", "TICKET_ADMIN_TOKEN", "TICKET_ADMIN_NETWORK"]]),
    ];
    for (args, groups) in expected {
        let shown = help(args).await;
        for name in groups.iter().flat_map(|g| g.iter()) {
            assert!(shown.contains(name), "ticket-admin {args:?} --help names {name}:\n{shown}");
        }
    }
    // A token in the environment is named by `--help`, never shown.
    let mut command = ticket_admin();
    command.args(["call", "--help"]).env("TICKET_ADMIN_TOKEN", "ta_secret_in_the_environment");
    let out = text(&finish(command).await.stdout);
    assert!(out.contains("TICKET_ADMIN_TOKEN") && !out.contains("ta_secret"), "{out}");
}

/// `ticket-admin call ARGS` against `url` with the token and network in the environment.
async fn call(url: &str, token: Option<&str>, network: Option<&str>, args: &[&str]) -> Output {
    let mut command = ticket_admin();
    command.arg("call").args(args).env("TICKET_ADMIN_URL", url);
    if let Some(token) = token {
        command.env("TICKET_ADMIN_TOKEN", token);
    }
    if let Some(network) = network {
        command.env("TICKET_ADMIN_NETWORK", network);
    }
    finish(command).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_prints_the_result_and_exits_by_the_outcome() {
    if binary_tests_skipped() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let running = ticket_admin::start(common::config(dir.path())).await.unwrap();
    let url = format!("http://{}", running.local_addr());
    let user = Client::of(running.local_addr()).with_token(ADMIN).on("calls");

    // The token and the network from the environment; the result's data, indented.
    let params = json!({"ticket": ticket("by-call")}).to_string();
    let made = call(&url, Some(ADMIN), Some("calls"), &["ticket.createPurchasableTicket", &params]).await;
    assert!(made.status.success(), "{}", text(&made.stderr));
    let shown = text(&made.stdout);
    assert!(shown.lines().count() > 10, "indented for people: {shown}");
    let result: Value = serde_json::from_str(&shown).expect("the result as JSON");
    assert_eq!(result["ticket"]["productId"], "by-call");
    let stored = user.call("ticket.getPurchasableTicket", json!({"productId": "by-call"})).await.unwrap();
    assert_eq!(result, stored, "the data of the envelope, whole");
    // Flags override the environment; no params is no params.
    let listed = call(
        &url,
        Some("ta_wrong"),
        Some("elsewhere"),
        &["ticket.getPurchasableTickets", "--token", ADMIN, "--network", "calls", "--compact"],
    )
    .await;
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    assert_eq!(text(&listed.stdout).lines().count(), 1, "--compact is one line");
    assert_eq!(serde_json::from_str::<Value>(&text(&listed.stdout)).unwrap()["count"], 1);

    // The server's error: on standard error with its details, exit code 1, nothing on standard output.
    let again = call(&url, Some(ADMIN), Some("calls"), &["ticket.createPurchasableTicket", &params]).await;
    assert_eq!(again.status.code(), Some(1));
    assert!(again.stdout.is_empty());
    let said = text(&again.stderr);
    assert!(said.contains("ticket.createPurchasableTicket failed: error -32009"), "{said}");
    assert!(said.contains("\"reason\": \"duplicate\""), "the details: {said}");
    let anonymous = call(&url, None, None, &["admin.whoami"]).await;
    assert_eq!(anonymous.status.code(), Some(1));
    assert!(text(&anonymous.stderr).contains("-32001"), "{}", text(&anonymous.stderr));
    let typo = call(&url, Some(ADMIN), None, &["admin.whoamii"]).await;
    assert_eq!(typo.status.code(), Some(1));
    assert!(text(&typo.stderr).contains("-32601"), "{}", text(&typo.stderr));

    // Usage: exit code 2, nothing sent.
    let jsonrpc = call(&format!("{url}/jsonRpc"), Some(ADMIN), None, &["admin.whoami"]).await;
    assert_eq!(jsonrpc.status.code(), Some(2));
    assert!(text(&jsonrpc.stderr).contains(&format!("give the server's base URL, e.g. {url}")));
    let not_json = call(&url, Some(ADMIN), Some("calls"), &["ticket.deletePurchasableTicket", "{productId: x}"]).await;
    assert_eq!(not_json.status.code(), Some(2));
    assert!(text(&not_json.stderr).contains("the params are not JSON"), "{}", text(&not_json.stderr));
    assert_eq!(user.call("ticket.getPurchasableTickets", json!({})).await.unwrap()["count"], 1);
    running.shutdown().await;

    // No server: exit code 3, the URL named.
    let gone = call(&url, Some(ADMIN), None, &["admin.whoami"]).await;
    assert_eq!(gone.status.code(), Some(3));
    assert!(text(&gone.stderr).contains(&format!("cannot reach the server at {url}")), "{}", text(&gone.stderr));
}

/// Whether `python3` runs here; when it does not, the test says so, and fails if TICKET_ADMIN_REQUIRE_PYTHON is set.
async fn python_available() -> bool {
    let version = Command::new("python3").arg("--version").output().await;
    if version.is_ok_and(|v| v.status.success()) {
        return true;
    }
    assert!(
        std::env::var_os("TICKET_ADMIN_REQUIRE_PYTHON").is_none(),
        "python3 is not installed and TICKET_ADMIN_REQUIRE_PYTHON is set"
    );
    eprintln!("note: python3 is not installed; examples/client.py was not run");
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_client_calls_a_live_server() {
    if binary_tests_skipped() || !python_available().await {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let running = ticket_admin::start(common::config(dir.path())).await.unwrap();
    let url = format!("http://{}", running.local_addr());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/client.py");
    let client = |args: &[&str], url: &str| {
        let mut command = Command::new("python3");
        command.arg(&script).args(args);
        command.env("TICKET_ADMIN_URL", url).env("TICKET_ADMIN_TOKEN", ADMIN).env("TICKET_ADMIN_NETWORK", "py");
        finish(command)
    };

    let params = json!({"ticket": ticket("by-python")}).to_string();
    let made = client(&["ticket.createPurchasableTicket", &params], &url).await;
    assert!(made.status.success(), "{}", text(&made.stderr));
    let result: Value = serde_json::from_str(&text(&made.stdout)).expect("the result as JSON");
    assert_eq!(result["ticket"]["productId"], "by-python");
    let user = Client::of(running.local_addr()).with_token(ADMIN).on("py");
    let listed = user.call("ticket.getPurchasableTickets", json!({})).await.unwrap();
    assert_eq!(listed["count"], 1, "made in the network of TICKET_ADMIN_NETWORK");
    let whoami = client(&["admin.whoami"], &url).await;
    assert!(whoami.status.success(), "{}", text(&whoami.stderr));
    assert_eq!(serde_json::from_str::<Value>(&text(&whoami.stdout)).unwrap()["tokenInfo"]["grants"], json!(["all@*"]));

    let again = client(&["ticket.createPurchasableTicket", &params], &url).await;
    assert_eq!(again.status.code(), Some(1));
    assert!(again.stdout.is_empty());
    assert!(text(&again.stderr).contains("error -32009"), "{}", text(&again.stderr));
    let wrong = client(&["admin.whoami"], &format!("{url}/jsonRpc")).await;
    assert_eq!(wrong.status.code(), Some(2));
    assert!(text(&wrong.stderr).contains("base URL"), "{}", text(&wrong.stderr));
    running.shutdown().await;
    let gone = client(&["admin.whoami"], &url).await;
    assert_eq!(gone.status.code(), Some(3));
    assert!(text(&gone.stderr).contains(&format!("cannot reach the server at {url}")), "{}", text(&gone.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provision_dry_runs_takes_its_token_from_the_environment_and_names_what_failed() {
    if binary_tests_skipped() {
        return;
    }
    let example = provision_example().await;
    let dir = tempfile::tempdir().unwrap();
    let running = ticket_admin::start(common::config(dir.path())).await.unwrap();
    let url = format!("http://{}", running.local_addr());
    let token = Client::of(running.local_addr()).with_token(ADMIN).make_token(&["network.manage@dry"]).await;
    let user = Client::of(running.local_addr()).with_token(&token).on("dry");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/tickets.json");
    user.call("ticket.createPurchasableTicket", json!({"ticket": ticket("stray")})).await.unwrap();
    let before = user.call("ticket.getPurchasableTickets", json!({})).await.unwrap();
    let run = |url: &str, token: Option<&str>, extra: &[&str]| {
        let mut command = Command::new(&example);
        command.args(["--url", url, "--network", "dry"]).args(extra).arg(&sample).env_remove("TICKET_ADMIN_TOKEN");
        if let Some(token) = token {
            command.env("TICKET_ADMIN_TOKEN", token);
        }
        command.kill_on_drop(true);
        finish(command)
    };

    // A dry run, the token from the environment: what it would do, and nothing changed.
    let dry = run(&url, Some(&token), &["--dry-run"]).await;
    let out = text(&dry.stdout);
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    let mut lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines.pop(),
        Some("dry run: would create 3, update 0, leave 0 unchanged, delete 1; nothing was changed")
    );
    assert_eq!(lines.iter().filter(|l| l.starts_with("would-create ")).count(), 3, "{out}");
    assert_eq!(lines.iter().filter(|l| l.starts_with("would-delete ")).count(), 1, "{out}");
    assert_eq!(user.call("ticket.getPurchasableTickets", json!({})).await.unwrap(), before, "nothing changed");

    // No token anywhere: the variable is named.
    let none = run(&url, None, &[]).await;
    assert!(!none.status.success());
    assert!(text(&none.stderr).contains("TICKET_ADMIN_TOKEN"), "{}", text(&none.stderr));
    // The URL of the RPC endpoint instead of the server's: the base it should be.
    let endpoint = run(&format!("{url}/jsonRpc"), Some(&token), &[]).await;
    assert!(!endpoint.status.success());
    let said = text(&endpoint.stderr);
    assert!(said.contains(&format!("give the server's base URL, {url}, without /jsonRpc")), "{said}");

    // A ticket the server refuses (the network may hold 2): the run stops there, names it, and sums up.
    let admin = Client::of(running.local_addr()).with_token(ADMIN);
    admin.call("admin.setNetworkLimits", json!({"networkId": "dry", "maxTickets": 2})).await.unwrap();
    let failed = run(&url, Some(&token), &[]).await;
    assert!(!failed.status.success());
    let out = text(&failed.stdout);
    assert_eq!(out.lines().last(), Some("created 1, updated 0, unchanged 0, deleted 0"), "{out}");
    let said = text(&failed.stderr);
    let created = out.lines().next().and_then(|l| l.strip_prefix("created   ")).expect("one ticket made").to_owned();
    let tickets: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&sample).unwrap()).unwrap();
    let mut ids: Vec<&str> = tickets.iter().map(|t| t["productId"].as_str().unwrap()).collect();
    ids.sort();
    assert_eq!(created, ids[0]);
    assert!(
        said.contains(&format!("ticket {}: ticket.createPurchasableTicket failed: error -32029", ids[1])),
        "{said}"
    );
    assert!(said.contains("2 other change(s) not tried"), "{said}");
    running.shutdown().await;

    // No server: its URL is named.
    let gone = run(&url, Some(&token), &["--dry-run"]).await;
    assert!(!gone.status.success());
    assert!(text(&gone.stderr).contains(&format!("cannot reach the server at {url}")), "{}", text(&gone.stderr));
}
