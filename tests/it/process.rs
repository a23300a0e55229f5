//! Real processes and restarts: the data and the tokens outlive a restart, the binary's offline token commands,
//! one process per database file, graceful stops on SIGTERM and SIGINT, and the two examples (`provision`,
//! `curl.sh`) run against a live server.
//!
//! No sleeps: a server child is ready when its `listening` line appears on standard error, and it has stopped when
//! its standard error closes and it is reaped; every wait is bounded. Every child is killed when its test ends,
//! whether the test passed or not.

use crate::common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Output, Stdio};
use std::time::Duration;

use common::{ADMIN, Client, ticket};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStderr, Command};

const BIN: &str = env!("CARGO_BIN_EXE_ticket-admin");

/// The longest any child may take to start, answer or stop.
const BOUND: Duration = Duration::from_secs(60);

/// The binary, with no `TICKET_ADMIN_*` setting inherited from whoever runs the tests.
pub(crate) fn ticket_admin() -> Command {
    scrubbed(BIN)
}

/// `program` (the binary, or a command that runs it), with no `TICKET_ADMIN_*` setting inherited.
fn scrubbed(program: &str) -> Command {
    let mut command = Command::new(program);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("TICKET_ADMIN_") {
            command.env_remove(name);
        }
    }
    command.env("RUST_LOG", "info").stdin(Stdio::null());
    command
}

/// Runs a command to its end within [`BOUND`]; killed if it overruns or the test fails meanwhile.
pub(crate) async fn finish(command: Command) -> Output {
    finish_within(command, BOUND).await
}

async fn finish_within(mut command: Command, bound: Duration) -> Output {
    command.kill_on_drop(true).stdin(Stdio::null());
    tokio::time::timeout(bound, command.output()).await.expect("the command ends in time").expect("the command runs")
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `ticket-admin token ARGS --db DB`.
pub(crate) async fn token(db: &Path, args: &[&str]) -> Output {
    let mut command = ticket_admin();
    command.arg("token").args(args).arg("--db").arg(db);
    finish(command).await
}

/// The tokens `token list` prints, one JSON object per line.
async fn token_list(db: &Path) -> Vec<Value> {
    let listed = token(db, &["list", "--json"]).await;
    assert!(listed.status.success(), "token list: {}", text(&listed.stderr));
    text(&listed.stdout)
        .lines()
        .map(|line| {
            let info: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: not JSON: {line}"));
            assert!(info.is_object(), "{line}");
            info
        })
        .collect()
}

/// Makes the database file `db` with no token in it, as the library opens it, and closes it.
pub(crate) async fn empty_database(db: &Path) {
    let config =
        ticket_admin::config::Config { db: db.to_path_buf().into(), ..ticket_admin::config::Config::default() };
    let store = ticket_admin::open_store(&config).await.expect("the database is made");
    tokio::task::spawn_blocking(move || store.close()).await.expect("the database closes");
    assert!(db.exists());
}

/// A server child process. Dropping it kills the process.
pub(crate) struct Server {
    child: Child,
    stderr: Lines<BufReader<ChildStderr>>,
    pub(crate) addr: SocketAddr,
    /// What the server wrote on standard error before its `listening` line.
    pub(crate) early: Vec<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// The address of a `listening` log line, in the text format (`... listening addr=1.2.3.4:5 db=...`) or JSON.
fn listening(line: &str) -> Option<SocketAddr> {
    if let Ok(log) = serde_json::from_str::<Value>(line) {
        return if log["fields"]["message"] == "listening" {
            log["fields"]["addr"].as_str()?.parse().ok()
        } else {
            None
        };
    }
    let rest = &line[line.find(" listening ")?..];
    rest.split_whitespace().find_map(|word| word.strip_prefix("addr="))?.parse().ok()
}

impl Server {
    /// Spawns `command` (a `serve`) and reads its standard error until the `listening` line.
    pub(crate) async fn start(mut command: Command) -> Server {
        command.stdout(Stdio::null()).stderr(Stdio::piped()).kill_on_drop(true);
        let mut child = command.spawn().expect("the server spawns");
        let stderr = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
        let mut server = Server { child, stderr, addr: SocketAddr::from(([0, 0, 0, 0], 0)), early: Vec::new() };
        let found = tokio::time::timeout(BOUND, async {
            while let Some(line) = server.stderr.next_line().await.expect("stderr readable") {
                if let Some(addr) = listening(&line) {
                    return Some(addr);
                }
                server.early.push(line);
            }
            None
        })
        .await
        .expect("the listening line in time");
        server.addr = found.unwrap_or_else(|| panic!("the server ended before listening: {:?}", server.early));
        server
    }

    /// Kills the process at once (SIGKILL): no shutdown, no last write.
    pub(crate) async fn kill_now(&mut self) {
        self.child.kill().await.expect("the server is killed");
    }

    pub(crate) fn client(&self, token: &str, network: &str) -> Client {
        Client::of(self.addr).with_token(token).on(network)
    }

    /// Sends `signal` (`TERM`, `INT`) and waits, bounded, until the process has closed its standard error and
    /// exited; its exit status and the lines it logged after `listening`.
    async fn stop(&mut self, signal: &str) -> (ExitStatus, Vec<String>) {
        self.stop_within(signal, BOUND).await
    }

    /// [`Server::stop`], the process given at most `bound` from the signal to its exit.
    pub(crate) async fn stop_within(&mut self, signal: &str, bound: Duration) -> (ExitStatus, Vec<String>) {
        let deadline = tokio::time::Instant::now() + bound;
        let pid = self.child.id().expect("still running").to_string();
        let mut kill = Command::new("kill");
        kill.args([format!("-{signal}"), pid]);
        let sent = finish(kill).await;
        assert!(sent.status.success(), "kill -{signal}: {}", text(&sent.stderr));
        let mut log = Vec::new();
        tokio::time::timeout_at(deadline, async {
            while let Some(line) = self.stderr.next_line().await.expect("stderr readable") {
                log.push(line);
            }
        })
        .await
        .unwrap_or_else(|_| panic!("standard error closes within {bound:?} of SIG{signal}; so far: {log:?}"));
        let status =
            tokio::time::timeout_at(deadline, self.child.wait()).await.expect("exits in time").expect("reaped");
        (status, log)
    }
}

pub(crate) fn serve_args(db: &Path) -> Command {
    let mut command = ticket_admin();
    command.args(["serve", "--addr", "127.0.0.1:0", "--db"]).arg(db);
    command
}

/// Each ticket's productId with its sysVersion and sysLastModifiedAt.
async fn versions(client: &Client) -> BTreeMap<String, (i64, String)> {
    let listed = client.call("ticket.getPurchasableTickets", json!({})).await.expect("the list");
    listed["tickets"]
        .as_array()
        .expect("tickets")
        .iter()
        .map(|t| {
            let id = t["productId"].as_str().expect("productId").to_owned();
            let version = t["sysVersion"].as_i64().expect("sysVersion");
            (id, (version, t["sysLastModifiedAt"].as_str().expect("sysLastModifiedAt").to_owned()))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_and_tokens_survive_a_restart_and_the_file_is_locked_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let running = ticket_admin::start(common::config(dir.path())).await.expect("first start");
    let admin = Client::of(running.local_addr()).with_token(ADMIN);
    let keeper = admin.make_token(&["network.manage@keep"]).await;
    let dropped = admin.make_token(&["network.manage@keep"]).await;
    let dropped_id =
        admin.clone().with_token(&dropped).call("admin.whoami", json!({})).await.unwrap()["tokenInfo"]["id"].clone();
    admin.call("admin.revokeToken", json!({"tokenId": dropped_id})).await.expect("revoked");
    let user = Client::of(running.local_addr()).with_token(&keeper).on("keep");
    for id in ["a", "b", "c"] {
        user.call("ticket.createPurchasableTicket", json!({"ticket": ticket(id)})).await.unwrap();
    }
    let mut changed = ticket("b");
    changed["price"] = json!(12.34);
    changed["allocation"] = json!(7);
    changed["discount"] = json!("early");
    let updated = user.call("ticket.updatePurchasableTicket", json!({"ticket": changed})).await.unwrap();
    assert_eq!(updated["ticket"]["sysVersion"], 2);
    user.call("ticket.deletePurchasableTicket", json!({"productId": "c"})).await.unwrap();
    let before = user.call("ticket.getPurchasableTickets", json!({})).await.unwrap();
    assert_eq!(before["count"], 2);

    // While it runs, the file is its own: a second server in another process is refused.
    let second = finish(serve_args(&dir.path().join("ticket-admin.db"))).await;
    assert!(!second.status.success());
    assert!(text(&second.stderr).contains("in use"), "{}", text(&second.stderr));
    running.shutdown().await;

    let again = ticket_admin::start(common::config(dir.path())).await.expect("the lock is released on shutdown");
    let user = Client::of(again.local_addr()).with_token(&keeper).on("keep");
    let after = user.call("ticket.getPurchasableTickets", json!({})).await.expect("the token survives");
    assert_eq!(after, before, "every field, sysVersion and timestamps included");
    assert_eq!(after["tickets"].as_array().unwrap().iter().map(|t| &t["sysVersion"]).collect::<Vec<_>>(), [1, 2]);
    let b = user.call("ticket.getPurchasableTicket", json!({"productId": "b"})).await.unwrap();
    assert_eq!((&b["ticket"]["price"], &b["ticket"]["allocation"]), (&json!(12.34), &json!(7)));
    let gone = user.call("ticket.getPurchasableTicket", json!({"productId": "c"})).await.unwrap_err();
    assert_eq!(gone.code, -32004);
    let refused = Client::of(again.local_addr()).with_token(&dropped).on("keep");
    assert_eq!(refused.call("admin.whoami", json!({})).await.unwrap_err().code, -32001, "revoked stays revoked");
    // New data continues where the old left off.
    let updated = user.call("ticket.updatePurchasableTicket", json!({"ticket": ticket("b")})).await.unwrap();
    assert_eq!(updated["ticket"]["sysVersion"], 3);
    again.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_offline_tokens_one_process_per_file_and_graceful_signals() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");

    // Offline, on a file that does not exist yet (asked for): the secret alone on standard output.
    let made = token(&db, &["create", "--name", "ops", "--grant", "network.manage@net1", "--new-database"]).await;
    assert!(made.status.success(), "{}", text(&made.stderr));
    let stdout = text(&made.stdout);
    let secret = stdout.strip_suffix('\n').expect("one line").to_owned();
    assert!(!secret.contains(char::is_whitespace), "the secret alone: {stdout:?}");
    let random = secret.strip_prefix("ta_").expect("ta_ prefix");
    assert!(random.len() >= 64 && random.chars().all(|c| c.is_ascii_hexdigit()), "256 random bits: {secret}");
    assert!(db.exists());
    let refused = token(
        &db,
        &["create", "--name", "old", "--grant", "network.manage@net1", "--expires-at", "2001-02-03T04:05:06Z"],
    )
    .await;
    assert!(!refused.status.success() && refused.stdout.is_empty(), "a token is never made already expired");
    assert!(text(&refused.stderr).contains("--expires-at must be in the future"), "{}", text(&refused.stderr));
    // A token whose time has passed was made before it passed; the library makes one so, offline.
    let (expired, _) =
        common::token_made_long_ago(&db.clone().into(), "old", &["network.manage@net1"], "2001-02-03T04:05:06Z").await;
    let all = token(&db, &["create", "--name", "root", "--grant", "all@*"]).await;
    assert!(all.status.success(), "{}", text(&all.stderr));
    let root = text(&all.stdout).trim().to_owned();
    let refused = token(&db, &["create", "--name", "x", "--grant", "network.manage"]).await;
    assert!(!refused.status.success() && refused.stdout.is_empty(), "a grant without a scope is refused");

    // `token create` makes only the tokens asked for; it does not bootstrap an admin token.
    let listed = token_list(&db).await;
    let names: Vec<&str> = listed.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 3, "{listed:?}");
    assert!(["ops", "old", "root"].iter().all(|n| names.contains(n)), "{names:?}");
    let lines = text(&token(&db, &["list", "--json"]).await.stdout);
    for s in [&secret, &expired, &root] {
        assert!(!lines.contains(s.as_str()) && !lines.contains(&s[3..]), "no secret in the list");
    }
    let ops = listed.iter().find(|t| t["name"] == "ops").unwrap();
    let ops_id = ops["id"].as_str().unwrap().to_owned();
    assert_eq!(ops["grants"], json!(["network.manage@net1"]));
    assert_eq!(ops["revokedAt"], Value::Null);
    let old = listed.iter().find(|t| t["name"] == "old").unwrap();
    assert_eq!(old["expiresAt"], "2001-02-03T04:05:06.000Z");

    // The first start on a file that has tokens makes no admin token (and prints none).
    let mut server = Server::start(serve_args(&db)).await;
    assert!(server.early.iter().all(|l| !l.contains("ta_")), "{:?}", server.early);
    let user = server.client(&secret, "net1");
    let me = user.call("admin.whoami", json!({})).await.expect("the offline token works");
    assert_eq!(me["tokenInfo"]["id"], ops_id.as_str());
    let made = user.call("ticket.createPurchasableTicket", json!({"ticket": ticket("offline")})).await.unwrap();
    assert_eq!(made["ticket"]["sysVersion"], 1);
    let elsewhere = server.client(&secret, "net2").call("ticket.getPurchasableTickets", json!({})).await;
    assert_eq!(elsewhere.unwrap_err().code, -32003, "the grant's scope was kept");
    let late = server.client(&expired, "net1").call("admin.whoami", json!({})).await.unwrap_err();
    assert_eq!(late.code, -32001, "an expired token is refused");

    // While it runs, the file belongs to it: the token commands and a second server are refused.
    let listing = token(&db, &["list"]).await;
    assert!(!listing.status.success());
    assert!(text(&listing.stderr).contains("in use"), "{}", text(&listing.stderr));
    let second = finish(serve_args(&db)).await;
    assert!(!second.status.success(), "a second server on the same file");
    assert!(text(&second.stderr).contains("in use"), "{}", text(&second.stderr));
    let revoking = token(&db, &["revoke", &ops_id]).await;
    assert!(!revoking.status.success() && text(&revoking.stderr).contains("in use"), "{}", text(&revoking.stderr));
    // ...and the refusals took nothing from the running server: it serves and still holds the file.
    assert_eq!(user.call("ticket.getPurchasableTickets", json!({})).await.unwrap()["count"], 1);
    assert!(!token(&db, &["list"]).await.status.success());

    // SIGTERM: a clean stop, exit status 0.
    let (status, log) = server.stop("TERM").await;
    assert!(status.success(), "exit {status:?}; log {log:?}");
    assert!(log.iter().any(|l| l.contains("stopped; database closed")), "{log:?}");

    // Offline again: revoke; the list shows it.
    let revoked = token(&db, &["revoke", &ops_id]).await;
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    let ops = token_list(&db).await.into_iter().find(|t| t["id"] == ops_id.as_str()).unwrap();
    assert!(ops["revokedAt"].is_string(), "{ops}");
    let unknown = token(&db, &["revoke", "no-such-token"]).await;
    assert!(!unknown.status.success(), "revoking an unknown id is an error");

    // A restart configured from the environment alone (no subcommand, JSON logs): the revoked token is refused,
    // the data is there.
    let mut command = ticket_admin();
    command
        .env("TICKET_ADMIN_ADDR", "127.0.0.1:0")
        .env("TICKET_ADMIN_DB", &db)
        .env("TICKET_ADMIN_LOG_FORMAT", "json")
        .env("TICKET_ADMIN_BOOTSTRAP_TOKEN", ADMIN);
    let mut again = Server::start(command).await;
    assert!(again.early.iter().all(|l| !l.contains("ta_")), "{:?}", again.early);
    let refused = again.client(&secret, "net1").call("admin.whoami", json!({})).await.unwrap_err();
    assert_eq!(refused.code, -32001, "revoked offline, refused after the restart");
    let unused = again.client(ADMIN, "net1").call("admin.whoami", json!({})).await.unwrap_err();
    assert_eq!(unused.code, -32001, "the bootstrap token only applies to a database without tokens");
    let kept = again.client(&root, "net1").call("ticket.getPurchasableTicket", json!({"productId": "offline"})).await;
    assert_eq!(kept.expect("the ticket survived")["ticket"]["sysVersion"], 1);

    // SIGINT: the same clean stop.
    let (status, log) = again.stop("INT").await;
    assert!(status.success(), "exit {status:?}; log {log:?}");
    assert!(log.iter().any(|l| l.contains("stopped; database closed")), "{log:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_start_prints_an_admin_token_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("first.db");
    let mut command = serve_args(&db);
    command.env_remove("TICKET_ADMIN_BOOTSTRAP_TOKEN");
    let mut server = Server::start(command).await;
    let secret = server.early.iter().find(|l| l.starts_with("ta_")).expect("the admin token on standard error").clone();
    let me = server.client(&secret, "any").call("admin.whoami", json!({})).await.unwrap();
    assert_eq!(me["tokenInfo"]["grants"], json!(["all@*"]));
    let (status, log) = server.stop("TERM").await;
    assert!(status.success(), "exit {status:?}; log {log:?}");
    let again = Server::start(serve_args(&db)).await;
    assert!(again.early.iter().all(|l| !l.contains("ta_")), "printed only on the first start: {:?}", again.early);
    let still = again.client(&secret, "any").call("admin.whoami", json!({})).await;
    assert!(still.is_ok(), "the first token keeps working");
}

/// The `provision` example, as Cargo builds it beside this test binary (`target/<profile>/examples/`). `cargo test
/// --test process` does not build examples, and one left from an earlier build may be stale, so it is built here
/// every time (a no-op when it is up to date).
pub(crate) async fn provision_example() -> PathBuf {
    // This binary is target/<profile>/deps/process-<hash>.
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>");
    let mut build = Command::new(env!("CARGO"));
    build.args(["build", "--example", "provision"]).current_dir(env!("CARGO_MANIFEST_DIR"));
    // What Cargo sets for running this test would reach build scripts (ring's reads CARGO_MANIFEST_DIR) and make
    // them, and all that depends on them, rebuild on every run.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let per_crate =
            ["CARGO_MANIFEST_", "CARGO_PKG_", "CARGO_BIN_", "CARGO_CRATE_", "CARGO_PRIMARY_", "CARGO_TARGET_TMPDIR"];
        if per_crate.iter().any(|prefix| name.starts_with(prefix)) {
            build.env_remove(name.as_ref());
        }
    }
    match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => {}
        Some("release") => {
            build.arg("--release");
        }
        Some(other) => {
            build.args(["--profile", other]);
        }
    }
    let built = finish_within(build, Duration::from_secs(600)).await;
    assert!(built.status.success(), "cargo build --example provision: {}", text(&built.stderr));
    let path = profile_dir.join("examples").join(format!("provision{}", std::env::consts::EXE_SUFFIX));
    assert!(path.exists(), "no example at {}", path.display());
    path
}

/// A run of the example: its exit status, its report (`(what, productId)` per ticket, then the summary line) and
/// its standard error.
struct Run {
    status: ExitStatus,
    lines: Vec<(String, String)>,
    summary: String,
    stderr: String,
}

async fn provision(example: &Path, addr: SocketAddr, token: &str, network: &str, file: &Path) -> Run {
    let mut command = Command::new(example);
    command.args(["--url", &format!("http://{addr}"), "--token", token, "--network", network]).arg(file);
    let out = finish(command).await;
    let stdout = text(&out.stdout);
    let mut all: Vec<&str> = stdout.lines().collect();
    let summary = all.pop().unwrap_or_default().to_owned();
    let lines = all
        .iter()
        .map(|line| match line.split_whitespace().collect::<Vec<_>>()[..] {
            [what, id] => (what.to_owned(), id.to_owned()),
            _ => panic!("not a report line: {line:?} in {stdout}"),
        })
        .collect();
    Run { status: out.status, lines, summary, stderr: text(&out.stderr) }
}

fn report(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    pairs.sort_by(|a, b| a.1.cmp(&b.1));
    pairs
}

fn sorted(mut lines: Vec<(String, String)>) -> Vec<(String, String)> {
    lines.sort_by(|a, b| a.1.cmp(&b.1));
    lines
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_provision_example_converges_and_changes_nothing_when_in_step() {
    let example = provision_example().await;
    let dir = tempfile::tempdir().unwrap();
    let running = ticket_admin::start(common::config(dir.path())).await.unwrap();
    let addr = running.local_addr();
    let token = Client::of(addr).with_token(ADMIN).make_token(&["network.manage@prov"]).await;
    let user = Client::of(addr).with_token(&token).on("prov");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/tickets.json");
    let mut tickets: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&sample).unwrap()).unwrap();
    assert_eq!(tickets.len(), 3, "the sample holds 3 tickets");
    let ids: Vec<String> = tickets.iter().map(|t| t["productId"].as_str().unwrap().to_owned()).collect();
    let [full, day, vip] = [ids[0].as_str(), ids[1].as_str(), ids[2].as_str()];

    let first = provision(&example, addr, &token, "prov", &sample).await;
    assert!(first.status.success(), "{}", first.stderr);
    assert_eq!(first.summary, "created 3, updated 0, unchanged 0, deleted 0");
    assert_eq!(sorted(first.lines), report(&[("created", full), ("created", day), ("created", vip)]));
    let before = user.call("ticket.getPurchasableTickets", json!({})).await.unwrap();
    assert_eq!(before["count"], 3);
    let versions_before = versions(&user).await;
    assert!(versions_before.values().all(|(v, _)| *v == 1), "{versions_before:?}");
    let vip_now = user.call("ticket.getPurchasableTicket", json!({"productId": vip})).await.unwrap();
    assert_eq!(vip_now["ticket"]["grants"], tickets[2]["grants"], "the file's fields were sent");
    assert_eq!(vip_now["ticket"]["visible"], false);

    let second = provision(&example, addr, &token, "prov", &sample).await;
    assert!(second.status.success(), "{}", second.stderr);
    assert_eq!(second.summary, "created 0, updated 0, unchanged 3, deleted 0");
    assert_eq!(sorted(second.lines), report(&[("unchanged", full), ("unchanged", day), ("unchanged", vip)]));
    assert_eq!(versions(&user).await, versions_before, "the second run changed nothing");
    assert_eq!(user.call("ticket.getPurchasableTickets", json!({})).await.unwrap(), before);

    // A copy with one ticket edited, one removed, and one written differently but meaning the same: its dates as
    // an offset time and as epoch milliseconds.
    tickets[0]["price"] = json!(549);
    tickets[1]["eventStartDate"] = json!("2027-05-01T11:00:00+02:00");
    tickets[1]["eventEndDate"] = json!(1_809_367_200_000_i64); // 2027-05-03T18:00:00Z
    tickets.pop();
    let edited = dir.path().join("edited.json");
    std::fs::write(&edited, serde_json::to_string_pretty(&tickets).unwrap()).unwrap();
    let third = provision(&example, addr, &token, "prov", &edited).await;
    assert!(third.status.success(), "{}", third.stderr);
    assert_eq!(third.summary, "created 0, updated 1, unchanged 1, deleted 1");
    assert_eq!(sorted(third.lines), report(&[("updated", full), ("unchanged", day), ("deleted", vip)]));
    let now = versions(&user).await;
    assert_eq!(now.keys().map(String::as_str).collect::<Vec<_>>(), {
        let mut left = vec![full, day];
        left.sort();
        left
    });
    assert_eq!(now[day], versions_before[day], "the unchanged ticket was not written");
    assert_eq!(now[full].0, 2);
    let full_now = user.call("ticket.getPurchasableTicket", json!({"productId": full})).await.unwrap();
    assert_eq!(full_now["ticket"]["price"], 549);
    let gone = user.call("ticket.getPurchasableTicket", json!({"productId": vip})).await.unwrap_err();
    assert_eq!(gone.code, -32004);

    // Failures: a non-zero exit with a clear message, and nothing changed.
    let refused = provision(&example, addr, "ta_not_a_token", "prov", &sample).await;
    assert!(!refused.status.success());
    assert!(refused.stderr.contains("-32001"), "{}", refused.stderr);
    let elsewhere = provision(&example, addr, &token, "other", &sample).await;
    assert!(!elsewhere.status.success());
    assert!(elsewhere.stderr.contains("-32003"), "{}", elsewhere.stderr);
    std::fs::write(&edited, r#"[{"productId": "bad", "price": -1}]"#).unwrap();
    let invalid = provision(&example, addr, &token, "prov", &edited).await;
    assert!(!invalid.status.success());
    assert!(invalid.stderr.contains("price"), "{}", invalid.stderr);
    assert_eq!(versions(&user).await, now);
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_curl_walk_through_exits_zero() {
    let curl = Command::new("curl").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().await;
    if !curl.is_ok_and(|s| s.success()) {
        eprintln!("note: curl is not installed; examples/curl.sh was not run");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let running = ticket_admin::start(common::config(dir.path())).await.unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/curl.sh");
    let walk = |admin_token: Option<&str>, network: &str| {
        let mut command = Command::new("bash");
        command.arg(&script).env("URL", format!("http://{}", running.local_addr())).env("NETWORK", network);
        match admin_token {
            Some(t) => command.env("ADMIN_TOKEN", t),
            None => command.env_remove("ADMIN_TOKEN"),
        };
        finish(command)
    };

    let out = walk(Some(ADMIN), "walk").await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.ends_with("all answers as expected\n"), "{stdout}");
    let admin = Client::of(running.local_addr()).with_token(ADMIN);
    let tokens = admin.call("admin.listTokens", json!({})).await.unwrap();
    let made_for = |tokens: &Value, network: &str| -> Vec<Value> {
        let grants = json!([format!("network.manage@{network}")]);
        tokens["tokens"].as_array().unwrap().iter().filter(|t| t["grants"] == grants).cloned().collect()
    };
    let made = made_for(&tokens, "walk");
    assert_eq!(made.len(), 1, "the walk-through made its token: {tokens}");
    assert!(made[0]["revokedAt"].is_string(), "and revoked it at the end: {tokens}");
    assert!(text(&out.stderr).contains("revoked"), "{}", text(&out.stderr));
    let left = admin.clone().on("walk").call("ticket.getPurchasableTickets", json!({})).await.unwrap();
    assert_eq!(left["count"], 0, "and left no ticket behind");

    // A run that stops half-way, after making its token (the network already holds the ticket it creates), still
    // revokes that token.
    let stuck = admin.clone().on("walk-stuck");
    stuck.call("ticket.createPurchasableTicket", json!({"ticket": ticket("vip-2027")})).await.unwrap();
    let out = walk(Some(ADMIN), "walk-stuck").await;
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("unexpected answer"), "{}", text(&out.stderr));
    let tokens = admin.call("admin.listTokens", json!({})).await.unwrap();
    let made = made_for(&tokens, "walk-stuck");
    assert_eq!(made.len(), 1, "{tokens}");
    assert!(made[0]["revokedAt"].is_string(), "revoked on the way out of a failed run: {tokens}");

    // The checks bite: a wrong token stops it at the first step.
    let out = walk(Some("ta_wrong"), "walk").await;
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("unexpected answer"), "{}", text(&out.stderr));
    let out = walk(None, "walk").await;
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("ADMIN_TOKEN"), "{}", text(&out.stderr));
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_within_the_shutdown_timeout_while_a_body_stalls() {
    // Finding 3: SIGTERM never finished while one client held a partly sent body.
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let mut command = serve_args(&dir.path().join("stall.db"));
    command.args(["--shutdown-timeout", "500ms", "--body-timeout", "5m"]).env("TICKET_ADMIN_BOOTSTRAP_TOKEN", ADMIN);
    let mut server = Server::start(command).await;
    let mut stalled = tokio::net::TcpStream::connect(server.addr).await.expect("connect");
    stalled
        .write_all(b"POST /jsonRpc HTTP/1.1\r\nHost: localhost\r\nContent-Length: 200\r\n\r\n{")
        .await
        .expect("a partly sent body");
    let me = server.client(ADMIN, "any").call("admin.whoami", json!({})).await.expect("served meanwhile");
    assert_eq!(me["tokenInfo"]["name"], "bootstrap");
    let (status, log) = server.stop("TERM").await;
    assert!(status.success(), "exit {status:?}; log {log:?}");
    assert!(log.iter().any(|l| l.contains("shutdown timeout reached")), "{log:?}");
    assert!(log.iter().any(|l| l.contains("stopped; database closed")), "{log:?}");
    drop(stalled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_method_name_is_cut_in_the_log() {
    // Finding 7: a method name of 1 MB was logged in full, by a caller with no token.
    let dir = tempfile::tempdir().unwrap();
    let mut command = serve_args(&dir.path().join("log.db"));
    // The line of every call, where the method is named.
    command.args(["--max-body-bytes", "2000000", "--access-log"]).env("TICKET_ADMIN_BOOTSTRAP_TOKEN", ADMIN);
    let mut server = Server::start(command).await;
    let method = "m".repeat(1_000_000);
    // Without a token such a body is not even read now (at most 64 KiB); with one, the call is answered -32601.
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method}).to_string();
    let (status, _) = Client::of(server.addr).post_raw("/jsonRpc", &body).await;
    assert_eq!(status, 413);
    let (status, answer) = server.client(ADMIN, "any").post_raw("/jsonRpc", &body).await;
    assert_eq!(status, 200);
    assert!(answer.len() < 1000, "the answer does not echo the name whole either: {} bytes", answer.len());
    let answer: Value = serde_json::from_str(&answer).expect("a JSON-RPC answer");
    assert_eq!(answer["error"]["code"], -32601, "{answer}");
    let (_, log) = server.stop("TERM").await;
    let longest = log.iter().map(String::len).max().unwrap_or(0);
    assert!(longest < 1000, "no log line near the name's length: {longest} bytes");
    assert!(log.iter().any(|l| l.contains("mmmm…")), "the cut name is logged: {log:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_cannot_exhaust_the_file_table() {
    // Finding 2: with a 1,024 file limit, 1,004 idle connections left no file for anything else; every new client
    // timed out and the log got ~100 `accept failed` lines a second. Here the limit is 256 files (hard and soft),
    // and 300 idle connections are opened against a server asked for 4,096.
    let dir = tempfile::tempdir().unwrap();
    let mut command = scrubbed("prlimit");
    command.args(["--nofile=256:256", "--"]).arg(BIN).args(["serve", "--addr", "127.0.0.1:0", "--db"]);
    command.arg(dir.path().join("files.db")).args(["--header-timeout", "1s", "--max-connections", "4096"]);
    command.env("TICKET_ADMIN_BOOTSTRAP_TOKEN", ADMIN);
    let mut server = Server::start(command).await;
    assert!(server.early.iter().any(|l| l.contains("--max-connections lowered")), "{:?}", server.early);
    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(tokio::net::TcpStream::connect(server.addr).await.expect("connect"));
    }
    // A real client is served: the idle ones are closed past the header bound, and their slots go to the waiting.
    let me = tokio::time::timeout(BOUND, server.client(ADMIN, "any").call("admin.whoami", json!({})))
        .await
        .expect("served in time");
    assert_eq!(me.expect("whoami")["tokenInfo"]["name"], "bootstrap");
    drop(idle);
    let (status, log) = server.stop("TERM").await;
    assert!(status.success(), "exit {status:?}");
    let failures = log.iter().filter(|l| l.contains("accept failed")).count();
    assert_eq!(failures, 0, "the cap keeps accept from ever running out of files: {log:?}");
}

#[tokio::test]
async fn an_unreachable_postgres_database_stops_the_start_with_the_reason() {
    let out = finish(serve_args(Path::new("postgres://someone:secret@127.0.0.1:1/none"))).await;
    assert!(!out.status.success());
    let said = text(&out.stderr);
    assert!(said.contains("cannot connect to PostgreSQL"), "{said}");
    assert!(!said.contains("secret"), "the password is never shown: {said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_has_a_line_per_call_only_when_asked_and_each_line_names_its_request() {
    for access_log in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let mut command = serve_args(&dir.path().join("quiet.db"));
        command.env("TICKET_ADMIN_BOOTSTRAP_TOKEN", ADMIN);
        if access_log {
            command.arg("--access-log");
        }
        let mut server = Server::start(command).await;
        let client = server.client(ADMIN, "logs");
        for _ in 0..50 {
            client.call("admin.whoami", json!({})).await.expect("whoami");
        }
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "admin.whoami"}).to_string();
        let named = client.request("/jsonRpc").header("x-request-id", "call-7").body(body).send().await.unwrap();
        assert_eq!(named.status(), 200);
        let refused = client.request("/nowhere").header("x-request-id", "lost-404").body("{}").send().await.unwrap();
        assert_eq!(refused.status(), 404);
        let (_, log) = server.stop("TERM").await;

        let calls: Vec<&String> = log.iter().filter(|l| l.contains("ticket_admin::call")).collect();
        assert_eq!(calls.len(), if access_log { 51 } else { 0 }, "{access_log}: {log:?}");
        assert!(calls.iter().all(|l| l.contains("request_id=")), "each call line names its request: {calls:?}");
        if access_log {
            assert_eq!(calls.iter().filter(|l| l.contains("request_id=call-7")).count(), 1, "{calls:?}");
        }
        // The refusal: once, with its reason and its request.
        let refusals: Vec<&String> = log.iter().filter(|l| l.contains("ticket_admin::refused")).collect();
        assert_eq!(refusals.len(), 1, "{refusals:?}");
        assert!(refusals[0].contains("request_id=lost-404") && refusals[0].contains("404"), "{refusals:?}");
        assert!(refusals[0].contains("no such path"), "{refusals:?}");
        if !access_log {
            assert!(log.len() < 10, "52 calls write a few lines, not one each: {log:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_flags_without_an_smtp_url_are_said_to_be_ignored_and_the_server_serves() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = serve_args(&dir.path().join("flags.db"));
    // The CA file is not read without a URL (with one, a missing file stops the start).
    command.args(["--smtp-ca-file", "/nonexistent/ca.pem", "--mail-from", "events@example.org"]);
    command.env("TICKET_ADMIN_BOOTSTRAP_TOKEN", ADMIN);
    let mut server = Server::start(command).await;
    let said = |flag: &str| server.early.iter().any(|l| l.contains(flag) && l.contains("ignored without --smtp-url"));
    assert!(said("--smtp-ca-file") && said("--mail-from"), "{:?}", server.early);
    let me = server.client(ADMIN, "any").call("admin.whoami", json!({})).await.expect("served");
    assert_eq!(me["tokenInfo"]["name"], "bootstrap");
    let (status, _) = server.stop_within("TERM", BOUND).await;
    assert!(status.success(), "{status:?}");

    // With a URL, neither is said to be ignored.
    let mut command = serve_args(&dir.path().join("flags.db"));
    command.args(["--smtp-url", "smtp://127.0.0.1:2525", "--mail-from", "events@example.org"]);
    let server = Server::start(command).await;
    assert!(server.early.iter().all(|l| !l.contains("ignored without")), "{:?}", server.early);
}
