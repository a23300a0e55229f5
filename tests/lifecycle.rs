//! The server as a process and as a file: restarts keep the data, one process per database, graceful shutdown on
//! SIGTERM, offline token management, and the examples run against a live server.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{ADMIN, Client, ticket};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_ticket-admin");

/// A server child process; killed if the test ends before it stops.
struct Process {
    child: Child,
    addr: String,
    /// What the server wrote on standard error before it listened.
    early: Vec<String>,
    /// The rest of the server's standard error, line by line.
    log: mpsc::Receiver<String>,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `ticket-admin serve` on a free port and waits for its `listening` line.
fn serve(db: &Path, bootstrap: Option<&str>) -> Process {
    let mut command = Command::new(BIN);
    command.args(["serve", "--addr", "127.0.0.1:0", "--log-format", "json", "--db"]).arg(db);
    command.env_remove("TICKET_ADMIN_BOOTSTRAP_TOKEN").env("RUST_LOG", "info").stderr(Stdio::piped());
    if let Some(token) = bootstrap {
        command.env("TICKET_ADMIN_BOOTSTRAP_TOKEN", token);
    }
    let mut child = command.spawn().expect("the server starts");
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut early = Vec::new();
    let addr = loop {
        let line = rx.recv_timeout(Duration::from_secs(30)).expect("a listening line");
        if let Ok(log) = serde_json::from_str::<Value>(&line)
            && log["fields"]["message"] == "listening"
        {
            break log["fields"]["addr"].as_str().expect("addr").to_owned();
        }
        early.push(line);
    };
    Process { child, addr, early, log: rx }
}

fn token_command(db: &Path, args: &[&str]) -> Output {
    Command::new(BIN).arg("token").args(args).arg("--db").arg(db).env_remove("TICKET_ADMIN_DB").output().expect("runs")
}

fn client(addr: &str, token: &str, network: &str) -> Client {
    Client::of(addr.parse().expect("addr")).with_token(token).on(network)
}

#[tokio::test]
async fn tickets_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let running = ticket_admin::start(common::config(dir.path())).await.unwrap();
    let admin = Client::of(running.local_addr()).with_token(ADMIN).on("keep");
    for id in ["a", "b", "c"] {
        admin.call("ticket.createPurchasableTicket", json!({"ticket": ticket(id)})).await.unwrap();
    }
    admin.call("ticket.updatePurchasableTicket", json!({"ticket": ticket("b")})).await.unwrap();
    let before = admin.call("ticket.getPurchasableTickets", json!({})).await.unwrap();
    running.shutdown().await;

    let again = ticket_admin::start(common::config(dir.path())).await.unwrap();
    let admin = Client::of(again.local_addr()).with_token(ADMIN).on("keep");
    let after = admin.call("ticket.getPurchasableTickets", json!({})).await.unwrap();
    assert_eq!(after, before);
    assert_eq!(after["count"], 3);
    again.shutdown().await;
}

#[tokio::test]
async fn the_binary_offline_tokens_one_process_per_file_and_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");

    // Offline, before any server: a token for network "cli".
    let made = token_command(&db, &["create", "--name", "ops", "--grant", "network.manage@cli"]);
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let secret = String::from_utf8(made.stdout).unwrap().trim().to_owned();
    assert!(secret.starts_with("ta_") && secret.len() == 67, "{secret}");
    let bad = token_command(&db, &["create", "--name", "x", "--grant", "root@everything"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("root"));

    let server = serve(&db, None);
    let user = client(&server.addr, &secret, "cli");
    user.call("ticket.createPurchasableTicket", json!({"ticket": ticket("offline")})).await.unwrap();
    let me = user.call("admin.whoami", json!({})).await.unwrap()["tokenInfo"]["id"].as_str().unwrap().to_owned();

    // While it runs, the file belongs to it: a second server and the token command are refused.
    let second = Command::new(BIN).args(["serve", "--addr", "127.0.0.1:0", "--db"]).arg(&db).output().unwrap();
    assert!(!second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("in use"), "{}", String::from_utf8_lossy(&second.stderr));
    let listing = token_command(&db, &["list"]);
    assert!(!listing.status.success());
    assert!(String::from_utf8_lossy(&listing.stderr).contains("in use"));

    // SIGTERM: a clean stop.
    let killed = Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let mut server = server;
    let status = server.child.wait().unwrap();
    assert!(status.success(), "exit {status:?}");
    let log: Vec<String> = server.log.try_iter().collect();
    assert!(log.iter().any(|l| l.contains("database closed")), "{log:?}");

    // Offline again: list (no secrets), revoke; after a restart the token is refused.
    let listed = token_command(&db, &["list"]);
    assert!(listed.status.success());
    let text = String::from_utf8(listed.stdout).unwrap();
    assert!(text.contains(&me) && !text.contains(&secret));
    assert!(token_command(&db, &["revoke", &me]).status.success());
    let server = serve(&db, None);
    let refused = client(&server.addr, &secret, "cli").call("admin.whoami", json!({})).await.unwrap_err();
    assert_eq!(refused.code, -32001);
}

#[tokio::test]
async fn the_first_start_prints_an_admin_token_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("first.db");
    let server = serve(&db, None);
    let secret = server.early.iter().find(|l| l.starts_with("ta_")).expect("the admin token on standard error").clone();
    let me = client(&server.addr, &secret, "any").call("admin.whoami", json!({})).await.unwrap();
    assert_eq!(me["tokenInfo"]["grants"], json!(["all@*"]));
    drop(server);
    let again = serve(&db, None);
    assert!(again.early.iter().all(|l| !l.starts_with("ta_")), "printed only on the first start");
}

fn example(name: &str) -> PathBuf {
    // Integration tests run from target/<profile>/deps; examples are built beside it.
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().unwrap().parent().unwrap().join("examples").join(name);
    if !path.exists() {
        let built = Command::new(env!("CARGO")).args(["build", "--example", name]).status().unwrap();
        assert!(built.success());
    }
    path
}

fn provision(addr: &str, token: &str, file: &Path) -> String {
    let out = Command::new(example("provision"))
        .args(["--url", &format!("http://{addr}"), "--token", token, "--network", "prov"])
        .arg(file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

// The example runs as a blocking child process while this runtime serves it: two worker threads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_provisioning_example_converges() {
    let dir = tempfile::tempdir().unwrap();
    let running = ticket_admin::start(common::config(dir.path())).await.unwrap();
    let addr = running.local_addr().to_string();
    let admin = Client::of(running.local_addr()).with_token(ADMIN);
    let token = admin.make_token(&["network.manage@prov"]).await;
    let user = client(&addr, &token, "prov");
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/tickets.json");

    let first = provision(&addr, &token, &file);
    assert!(first.ends_with("created 3, updated 0, unchanged 0, deleted 0\n"), "{first}");
    let before = user.call("ticket.getPurchasableTickets", json!({})).await.unwrap();
    let second = provision(&addr, &token, &file);
    assert!(second.ends_with("created 0, updated 0, unchanged 3, deleted 0\n"), "{second}");
    assert_eq!(
        user.call("ticket.getPurchasableTickets", json!({})).await.unwrap(),
        before,
        "the second run changed nothing"
    );

    let mut tickets: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    tickets[0]["price"] = json!(549);
    tickets.pop();
    let edited = dir.path().join("edited.json");
    std::fs::write(&edited, serde_json::to_string(&tickets).unwrap()).unwrap();
    let third = provision(&addr, &token, &edited);
    assert!(third.ends_with("created 0, updated 1, unchanged 1, deleted 1\n"), "{third}");
    let now = user.call("ticket.getPurchasableTickets", json!({"orderBy": "productId"})).await.unwrap();
    assert_eq!(now["count"], 2);
    assert_eq!(now["tickets"][1]["price"], 549);

    // A bad file changes nothing.
    std::fs::write(&edited, r#"[{"productId": "x", "price": -1}]"#).unwrap();
    let out = Command::new(example("provision"))
        .args(["--url", &format!("http://{addr}"), "--token", &token, "--network", "prov"])
        .arg(&edited)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("price"));
    assert_eq!(user.call("ticket.getPurchasableTickets", json!({})).await.unwrap()["count"], 2);
    running.shutdown().await;
}

#[tokio::test]
async fn the_curl_walk_through_runs_clean() {
    let dir = tempfile::tempdir().unwrap();
    let running = ticket_admin::start(common::config(dir.path())).await.unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/curl.sh");
    let out = tokio::process::Command::new("bash")
        .arg(script)
        .env("URL", format!("http://{}", running.local_addr()))
        .env("ADMIN_TOKEN", ADMIN)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.ends_with("all answers as expected\n"));
    running.shutdown().await;
}
