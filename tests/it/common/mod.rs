//! The test harness, shared by every test module: one real server for the whole binary (a real SQLite file in a
//! temporary directory, or a real PostgreSQL database when [`on_postgres`]; a real HTTP listener on 127.0.0.1:0),
//! and a small client that speaks both wire forms.
//!
//! Tests share the server and stay apart by using networks of their own ([`network`]). The shared server runs
//! without rate limits, so that the whole suite calling it at once from one address never trips them; the limits
//! are shown in `limits.rs`, on servers of their own.

#![allow(dead_code)]

pub mod cluster;

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use ticket_admin::config::Config;
use ticket_admin::store::Synchronous;

/// The admin token (`all@*`) every shared server is bootstrapped with.
pub const ADMIN: &str = "ta_test_admin_0123456789abcdef0123456789abcdef";

/// The shared server of this test binary.
pub struct Shared {
    pub addr: SocketAddr,
    /// The secret of a token (`all@*`) whose `expiresAt` has passed.
    pub expired_token: String,
    /// Its `tokenInfo`, as made.
    pub expired_info: Value,
    _dir: tempfile::TempDir,
}

/// Whether this run of the suite is on PostgreSQL: `TICKET_ADMIN_TEST_STORE=postgres`, as `postgres.rs` runs the
/// whole binary again. Every server of the suite then keeps its data in a database of its own on one throwaway
/// cluster, and the same tests hold it to the same contract.
pub fn on_postgres() -> bool {
    std::env::var("TICKET_ADMIN_TEST_STORE").is_ok_and(|store| store == "postgres")
}

/// The PostgreSQL cluster of this test binary, started on first use and stopped when the binary ends.
fn cluster() -> &'static cluster::Cluster {
    static CLUSTER: OnceLock<cluster::Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| cluster::Cluster::start(false).expect("a PostgreSQL cluster for the suite"))
}

/// Whether the tests that need PostgreSQL can run: its server binaries are installed. Where they are not, those
/// tests are skipped, unless `TICKET_ADMIN_REQUIRE_POSTGRES` is set (as CI sets it): then they fail.
pub fn postgres_available() -> bool {
    if cluster::Cluster::binaries().is_some() {
        return true;
    }
    assert!(
        std::env::var_os("TICKET_ADMIN_REQUIRE_POSTGRES").is_none(),
        "TICKET_ADMIN_REQUIRE_POSTGRES is set but PostgreSQL's server binaries are not installed"
    );
    eprintln!("PostgreSQL is not installed: skipped");
    false
}

/// A new empty database on this binary's cluster; its URL.
pub fn postgres_database() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    cluster().create_database(&format!("db_{}", NEXT.fetch_add(1, Ordering::Relaxed))).expect("a database")
}

/// What `sql` answers in the database of `url` (one made by [`postgres_database`]), unaligned and without headers.
pub fn postgres_query(url: &str, sql: &str) -> String {
    let database = url.rsplit('/').next().expect("a database in the URL");
    cluster().query(database, sql).expect("the query runs")
}

/// The store of the server whose directory is `dir`: a SQLite file in it, or (on PostgreSQL) a database of its own,
/// made on first use and named in a file in `dir`, so that a server started again on `dir` finds its data.
pub fn db_in(dir: &std::path::Path) -> ticket_admin::config::Db {
    if !on_postgres() {
        return dir.join("ticket-admin.db").into();
    }
    let named = dir.join("postgres-url");
    if let Ok(url) = std::fs::read_to_string(&named) {
        return ticket_admin::config::Db::Postgres(url);
    }
    let url = postgres_database();
    std::fs::write(&named, &url).expect("the database named");
    ticket_admin::config::Db::Postgres(url)
}

/// A config for a test server on a fresh port with its database in `dir`.
pub fn config(dir: &std::path::Path) -> Config {
    Config {
        addr: "127.0.0.1:0".into(),
        db: db_in(dir),
        bootstrap_token: Some(ADMIN.into()),
        synchronous: Synchronous::Normal,
        ..Config::default()
    }
}

/// The shared server, started on first use on a runtime of its own that lives as long as the test binary.
///
/// The server refuses to make a token whose time has passed, so the expired token is made while the server is
/// stopped, after a first start has made the admin token.
pub fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temporary directory");
        let config = Config {
            cors_origins: vec!["https://dash.example".into()],
            rates: ticket_admin::config::RateLimits::OFF,
            ..config(dir.path())
        };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            runtime.block_on(async move {
                ticket_admin::start(config.clone()).await.expect("first start").shutdown().await;
                let expired = token_made_long_ago(&config.db, "expired", &["all@*"], "2001-01-01T00:00:00Z").await;
                let running = ticket_admin::start(config).await.expect("server starts");
                tx.send((running.local_addr(), expired)).unwrap();
                std::future::pending::<()>().await;
            });
        });
        let (addr, (expired_token, expired_info)) = rx.recv().expect("server address");
        Shared { addr, expired_token, expired_info, _dir: dir }
    })
}

/// A server of a test's own (bounds, limits or a restart the shared one cannot have), on a database of its own.
pub struct Launched {
    pub running: ticket_admin::Running,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
}

/// Starts a server of a test's own with `adjust` applied to [`config`].
pub async fn launch(adjust: impl FnOnce(&mut Config)) -> Launched {
    launch_in(tempfile::tempdir().expect("temporary directory"), adjust).await
}

/// [`launch`] on the database in `dir` (one a stopped server left).
pub async fn launch_in(dir: tempfile::TempDir, adjust: impl FnOnce(&mut Config)) -> Launched {
    let mut config = config(dir.path());
    adjust(&mut config);
    let running = ticket_admin::start(config).await.expect("server starts");
    let addr = running.local_addr();
    Launched { running, addr, dir }
}

impl Launched {
    /// A client of this server with the admin token.
    pub fn admin(&self) -> Client {
        Client::of(self.addr).with_token(ADMIN)
    }

    /// Shuts the server down and hands back its database directory.
    pub async fn stop(self) -> tempfile::TempDir {
        self.running.shutdown().await;
        self.dir
    }
}

/// A network id no other test uses.
pub fn network(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("{prefix}-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A JSON-RPC error as the client sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Value,
}

impl RpcError {
    /// The `reason` of a `-32009`.
    pub fn reason(&self) -> &str {
        self.data["reason"].as_str().unwrap_or_default()
    }

    /// The `field`s of a `-32602`'s `data.errors`.
    pub fn fields(&self) -> Vec<String> {
        self.data["errors"]
            .as_array()
            .map(|e| e.iter().filter_map(|x| x["field"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }
}

/// A client of one server, with an optional token and `X-Network-Id` header.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub token: Option<String>,
    pub network: Option<String>,
}

impl Client {
    /// A client of the shared server, without a token.
    pub fn anonymous() -> Client {
        Client::of(shared().addr)
    }

    /// A client of the server at `addr`, without a token.
    pub fn of(addr: SocketAddr) -> Client {
        Client { http: reqwest::Client::new(), base: format!("http://{addr}"), token: None, network: None }
    }

    /// The shared server's admin.
    pub fn admin() -> Client {
        Client::anonymous().with_token(ADMIN)
    }

    pub fn with_token(mut self, token: &str) -> Client {
        self.token = Some(token.to_owned());
        self
    }

    pub fn on(mut self, network: &str) -> Client {
        self.network = Some(network.to_owned());
        self
    }

    /// A POST to `path` with this client's JSON content type, token and network header, to be given its body.
    pub fn request(&self, path: &str) -> reqwest::RequestBuilder {
        let mut req = self.http.post(format!("{}{path}", self.base)).header("content-type", "application/json");
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(n) = &self.network {
            req = req.header("x-network-id", n);
        }
        req
    }

    /// POSTs a raw body to a path; the HTTP status and the body as text.
    pub async fn post_raw(&self, path: &str, body: &str) -> (u16, String) {
        let resp = self.request(path).body(body.to_owned()).send().await.expect("request sent");
        let status = resp.status().as_u16();
        (status, resp.text().await.expect("body read"))
    }

    /// POSTs JSON to `/jsonRpc`; the parsed answer (Null for an empty body) and the HTTP status.
    pub async fn post(&self, body: &Value) -> (u16, Value) {
        let (status, text) = self.post_raw("/jsonRpc", &body.to_string()).await;
        let value = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("JSON answer") };
        (status, value)
    }

    /// A plain JSON-RPC 2.0 call; the result or the error.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        let (status, answer) = self.post(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["jsonrpc"], "2.0");
        assert_eq!(answer["id"], 1);
        from_parts(&answer["result"], &answer["error"])
    }

    /// A bare-params call on `/jsonRpc/{method}`; the envelope as JSON.
    pub async fn bare_envelope(&self, method: &str, params: &Value) -> Value {
        let (status, text) = self.post_raw(&format!("/jsonRpc/{method}"), &params.to_string()).await;
        assert_eq!(status, 200, "{text}");
        serde_json::from_str(&text).expect("JSON envelope")
    }

    /// A bare-params call, its envelope checked for shape; the data or the error.
    pub async fn bare(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        let envelope = self.bare_envelope(method, &params).await;
        let error = &envelope["error"];
        if error["status"] == false {
            assert_eq!(error["code"], 0);
            assert_eq!(error["message"], "");
            Ok(envelope["data"].clone())
        } else {
            assert_eq!(error["status"], true, "{envelope}");
            assert!(envelope["data"].is_null());
            Err(RpcError {
                code: error["code"].as_i64().expect("code"),
                message: error["message"].as_str().unwrap_or_default().to_owned(),
                data: error.get("details").cloned().unwrap_or(Value::Null),
            })
        }
    }

    /// Makes a token with the given grants (needs an admin client); its secret.
    pub async fn make_token(&self, grants: &[&str]) -> String {
        let made = self.call("admin.createToken", json!({"name": "test", "grants": grants})).await.expect("token made");
        made["token"].as_str().expect("secret").to_owned()
    }
}

/// The result or error of a JSON-RPC response's members.
pub fn from_parts(result: &Value, error: &Value) -> Result<Value, RpcError> {
    if error.is_null() {
        Ok(result.clone())
    } else {
        Err(RpcError {
            code: error["code"].as_i64().expect("code"),
            message: error["message"].as_str().unwrap_or_default().to_owned(),
            data: error.get("data").cloned().unwrap_or(Value::Null),
        })
    }
}

/// A valid ticket with this productId.
pub fn ticket(product_id: &str) -> Value {
    json!({
        "productId": product_id,
        "eventName": "Summit 2027",
        "eventStartDate": "2027-05-01T09:00:00Z",
        "eventEndDate": "2027-05-03T18:00:00Z",
        "ticketType": "single",
        "ticketName": "Standard",
        "price": 99.5
    })
}

/// The two wire forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// A JSON-RPC 2.0 request object on `/jsonRpc`.
    Plain,
    /// Bare params on `/jsonRpc/{method}`, answered in the `{data, error}` envelope.
    Bare,
}

pub const WIRES: [Wire; 2] = [Wire::Plain, Wire::Bare];

/// One call in one wire form.
pub async fn rpc(client: &Client, wire: Wire, method: &str, params: Value) -> Result<Value, RpcError> {
    match wire {
        Wire::Plain => client.call(method, params).await,
        Wire::Bare => client.bare(method, params).await,
    }
}

/// One call that must succeed.
pub async fn ok(client: &Client, wire: Wire, method: &str, params: Value) -> Value {
    let what = format!("{wire:?} {method} {params}");
    rpc(client, wire, method, params).await.unwrap_or_else(|e| panic!("{what}: {e:?}"))
}

/// One call that must fail; its error.
pub async fn refused(client: &Client, wire: Wire, method: &str, params: Value) -> RpcError {
    let what = format!("{wire:?} {method} {params}");
    match rpc(client, wire, method, params).await {
        Ok(v) => panic!("{what}: succeeded with {v}"),
        Err(e) => e,
    }
}

/// A `-32602` naming `field`, its message holding each of `words`.
pub fn assert_problem(e: &RpcError, field: &str, words: &[&str]) {
    assert_eq!(e.code, -32602, "{e:?}");
    let problem = e.data["errors"].as_array().and_then(|all| all.iter().find(|p| p["field"] == field));
    let message = problem.unwrap_or_else(|| panic!("no problem with {field}: {e:?}"))["message"].as_str().unwrap_or("");
    for word in words {
        assert!(message.contains(word), "{field}: {message:?} lacks {word:?}");
    }
}

/// Makes a token straight in the store `db` (no server may run on it), as if it had been made before its
/// `expires_at` passed: the server refuses to make a token whose time has passed, so a test meets one only so.
/// Its secret, and its `tokenInfo` as the API shows it.
pub async fn token_made_long_ago(
    db: &ticket_admin::config::Db,
    name: &str,
    grants: &[&str],
    expires_at: &str,
) -> (String, Value) {
    use ticket_admin::auth::{self, TokenTable, token::Grant};
    let config = Config { db: db.clone(), ..Config::default() };
    let store = ticket_admin::open_store(&config).await.expect("the database opens");
    let grants = grants.iter().map(|g| Grant::parse(g).expect("a grant")).collect();
    let at = ticket_admin::domain::time::parse(&json!(expires_at)).expect("a timestamp");
    let (secret, info) =
        auth::issue(&*store, &TokenTable::default(), name.to_owned(), grants, Some(at)).await.expect("token made");
    tokio::task::spawn_blocking(move || store.close()).await.expect("the database closes");
    (secret, info.to_json())
}

/// A client holding `network.manage@<network>`, sending the network as a header.
pub async fn manager(network: &str) -> Client {
    let token = Client::admin().make_token(&[&format!("network.manage@{network}")]).await;
    Client::anonymous().with_token(&token).on(network)
}

/// A valid registration of `contact` at event `ev1`.
pub fn registration(contact: &str) -> Value {
    json!({"eventId": "ev1", "name": "Ada Lovelace", "contactId": contact, "typeId": "attendee", "packageId": "full"})
}

/// A valid function ticket: `contact`'s seat at `function` of event `ev1`.
pub fn seat(function: &str, contact: &str) -> Value {
    json!({"name": "Gala dinner seat", "eventId": "ev1", "functionId": function, "contactId": contact, "status": "active"})
}

/// `registration.create`; the registration made.
pub async fn create_registration(client: &Client, registration: Value) -> Result<Value, RpcError> {
    client.call("registration.create", json!({ "registration": registration })).await.map(|r| r["registration"].clone())
}

/// `functionTicket.create`; the function ticket made.
pub async fn create_seat(client: &Client, seat: Value) -> Result<Value, RpcError> {
    client.call("functionTicket.create", json!({ "functionTicket": seat })).await.map(|r| r["functionTicket"].clone())
}

/// Calls `method` once per params in JSON-RPC batches of 100; the results in the order given (each must succeed).
pub async fn call_many(client: &Client, method: &str, params: Vec<Value>) -> Vec<Value> {
    let mut out = Vec::new();
    for chunk in params.chunks(100) {
        let batch: Vec<Value> = chunk
            .iter()
            .enumerate()
            .map(|(i, p)| json!({"jsonrpc": "2.0", "id": i, "method": method, "params": p}))
            .collect();
        let (status, answers) = client.post(&Value::Array(batch)).await;
        assert_eq!(status, 200);
        let mut answers = answers.as_array().expect("a batch answer").clone();
        answers.sort_by_key(|a| a["id"].as_u64());
        for a in answers {
            assert!(a["error"].is_null(), "{a}");
            out.push(a["result"].clone());
        }
    }
    out
}

/// The ids of records made at once (the calls of a batch run concurrently, so their order is the server's) in the
/// order the server made them: as one read of `method` with `params` lists them, checked to hold exactly `made`,
/// in the order of their `sysCreatedAt`.
pub async fn creation_order(client: &Client, method: &str, mut params: Value, made: &[String]) -> Vec<String> {
    params["limit"] = json!(1000);
    let listed = client.call(method, params).await.expect("the list");
    let items = listed["items"].as_array().expect("items");
    let ids: Vec<String> = items.iter().map(|r| r["id"].as_str().expect("id").to_owned()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    let mut expected = made.to_vec();
    expected.sort();
    assert_eq!(sorted, expected, "{method} lists exactly the records made");
    let times: Vec<&str> = items.iter().map(|r| r["sysCreatedAt"].as_str().expect("sysCreatedAt")).collect();
    assert!(times.is_sorted(), "{method} lists in creation order: {times:?}");
    ids
}
