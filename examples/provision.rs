//! Brings a network's purchasable tickets to exactly the set in a JSON file: creates what is missing, updates what
//! differs, deletes what the file does not list, and reports what it did.
//!
//! ```sh
//! TICKET_ADMIN_TOKEN=ta_... cargo run --example provision -- --url http://127.0.0.1:8080 --network NET tickets.json
//! ```
//!
//! The file holds an array of ticket objects as `ticket.createPurchasableTicket` takes them. Every ticket is
//! validated before anything is sent, so a bad file changes nothing. A second run with the same file changes
//! nothing and reports every ticket unchanged; `--dry-run` only reads, and reports what a run would do. The token
//! comes from `TICKET_ADMIN_TOKEN` (or `--token`, which `ps` and cargo's "Running" line show to anyone). A call the
//! server refuses stops the run there, naming the ticket; the summary of what was done is printed all the same.

use std::collections::BTreeMap;
use std::process::ExitCode;

use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::params::ObjectParams;
use jsonrpsee::http_client::{HeaderMap, HeaderValue, HttpClient, HttpClientBuilder};
use serde_json::{Map, Value};
use ticket_admin::domain::sys::Sys;
use ticket_admin::domain::ticket::{StoredTicket, TICKET_FIELDS, Ticket};

/// Whether a client sets the member `name` of a ticket; the rest (`sold`, `sys*`) the server makes.
fn settable_member(name: &str) -> bool {
    TICKET_FIELDS.contains(&name) && name != "sold" && !name.starts_with("sys")
}

struct Args {
    url: String,
    token: String,
    network: String,
    file: String,
    dry_run: bool,
}

const USAGE: &str = "usage: provision --url URL --network NETWORK [--dry-run] [--token TOKEN] FILE.json

Brings NETWORK to exactly the tickets of FILE.json (an array of ticket objects): creates what is missing,
updates what differs, and DELETES the tickets of the network that the file does not list. Prints one line per
ticket (created, updated, unchanged, deleted) and a summary; a second run with the same file changes nothing.
The whole file is validated before anything is sent; a call the server refuses stops the run, naming the ticket.

  --url URL        the server's base URL, e.g. http://127.0.0.1:8080 (without /jsonRpc)
  --network NET    the network to provision (or TICKET_ADMIN_NETWORK)
  --dry-run        read the network and report what a run would do (would-create, would-update,
                   unchanged, would-delete); change nothing
  --token TOKEN    a token with network.manage on NETWORK; better given as TICKET_ADMIN_TOKEN in the
                   environment, since ps (and cargo run) show the command line to anyone on the machine";

/// Why the program stops: the usage asked for, or an error.
enum Stop {
    Help,
    Error(String),
}

impl From<String> for Stop {
    fn from(message: String) -> Stop {
        Stop::Error(message)
    }
}

/// A variable of the environment, when set and not empty.
fn from_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn args() -> Result<Args, Stop> {
    let (mut url, mut token, mut network, mut file) = (None, None, None, None);
    let mut dry_run = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let slot = match arg.as_str() {
            "--url" => &mut url,
            "--token" => &mut token,
            "--network" => &mut network,
            "--dry-run" => {
                dry_run = true;
                continue;
            }
            "-h" | "--help" => return Err(Stop::Help),
            other if !other.starts_with('-') && file.is_none() => {
                file = Some(other.to_owned());
                continue;
            }
            other => return Err(format!("unknown argument {other}\n\n{USAGE}").into()),
        };
        *slot = Some(args.next().ok_or_else(|| format!("{arg} needs a value\n\n{USAGE}"))?);
    }
    let token = token.or_else(|| from_env("TICKET_ADMIN_TOKEN"));
    let network = network.or_else(|| from_env("TICKET_ADMIN_NETWORK"));
    match (url, token, network, file) {
        (Some(url), Some(token), Some(network), Some(file)) => {
            Ok(Args { url: base_url(&url)?, token, network, file, dry_run })
        }
        (_, None, ..) => Err(format!("no token: set TICKET_ADMIN_TOKEN (or give --token)\n\n{USAGE}").into()),
        _ => Err(format!("--url, --network and a file are all needed\n\n{USAGE}").into()),
    }
}

/// The server's base URL as given, without a trailing `/`; a URL with a path (such as `.../jsonRpc`, which this
/// program adds itself) is refused with the base it should be.
fn base_url(url: &str) -> Result<String, String> {
    let trimmed = url.trim_end_matches('/');
    let Some((scheme, rest)) = trimmed.split_once("://") else {
        return Err(format!("--url {url}: write the server's base URL, e.g. http://127.0.0.1:8080"));
    };
    match rest.split_once('/') {
        None => Ok(trimmed.to_owned()),
        Some((host, path)) => Err(format!(
            "--url {url}: give the server's base URL, {scheme}://{host}, without /{path} (provision adds /jsonRpc \
             itself)"
        )),
    }
}

/// A ticket's settable members as the server answers them.
fn settable(ticket: &Map<String, Value>) -> Map<String, Value> {
    ticket.iter().filter(|(k, _)| settable_member(k)).map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// The file's tickets, validated and written as the server would answer them, by productId.
fn desired(text: &str) -> Result<BTreeMap<String, Map<String, Value>>, String> {
    let list: Vec<Value> = serde_json::from_str(text).map_err(|e| format!("the file is not a JSON array: {e}"))?;
    let mut out = BTreeMap::new();
    let mut problems = Vec::new();
    for (i, raw) in list.iter().enumerate() {
        match Ticket::from_json(&format!("[{i}]"), raw) {
            Ok(input) => {
                let shown = StoredTicket {
                    ticket: input.ticket,
                    sold: 0,
                    sys: Sys::new(&ticket_admin::domain::ids::ActorId::new("")),
                }
                .to_json();
                let id = shown["productId"].as_str().unwrap_or_default().to_owned();
                if out.insert(id.clone(), settable(&shown)).is_some() {
                    problems.push(format!("[{i}].productId: {id} is listed twice"));
                }
            }
            Err(errors) => problems.extend(errors.into_iter().map(|e| format!("{}: {}", e.field, e.message))),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(format!("the file is invalid; nothing was changed:\n  {}", problems.join("\n  ")))
    }
}

/// A call's failure as one readable line: the JSON-RPC error's code, message and data, or, when the server could
/// not be reached, which server.
fn failure(url: &str, method: &str, error: jsonrpsee::core::client::Error) -> String {
    use jsonrpsee::core::client::Error;
    match error {
        Error::Call(e) => match e.data() {
            Some(data) => format!("{method} failed: error {}: {} {}", e.code(), e.message(), data.get()),
            None => format!("{method} failed: error {}: {}", e.code(), e.message()),
        },
        Error::Transport(e) => format!("cannot reach the server at {url} (is it running there?): {e}"),
        Error::RequestTimeout => format!("{method}: no answer from the server at {url} in time"),
        other => format!("{method} failed: {other}"),
    }
}

async fn call(client: &HttpClient, url: &str, method: &str, member: &str, value: Value) -> Result<Value, String> {
    let mut params = ObjectParams::new();
    params.insert(member, value).map_err(|e| e.to_string())?;
    client.request(method, params).await.map_err(|e| failure(url, method, e))
}

/// What a run did (or, in a dry run, would do), ticket by ticket.
#[derive(Default)]
struct Tally {
    created: usize,
    updated: usize,
    unchanged: usize,
    deleted: usize,
}

impl Tally {
    fn summary(&self, dry_run: bool) -> String {
        let Tally { created, updated, unchanged, deleted } = self;
        if dry_run {
            format!(
                "dry run: would create {created}, update {updated}, leave {unchanged} unchanged, delete {deleted}; \
                 nothing was changed"
            )
        } else {
            format!("created {created}, updated {updated}, unchanged {unchanged}, deleted {deleted}")
        }
    }
}

/// One change to make: the word reported for it, the method, and its params member.
struct Change {
    done: &'static str,
    planned: &'static str,
    method: &'static str,
    member: &'static str,
    value: Value,
}

async fn run(args: Args) -> Result<(), String> {
    let text = std::fs::read_to_string(&args.file).map_err(|e| format!("cannot read {}: {e}", args.file))?;
    let wanted = desired(&text)?;
    let mut headers = HeaderMap::new();
    let bearer = HeaderValue::from_str(&format!("Bearer {}", args.token)).map_err(|e| format!("--token: {e}"))?;
    headers.insert("authorization", bearer);
    headers.insert("x-network-id", HeaderValue::from_str(&args.network).map_err(|e| format!("--network: {e}"))?);
    let client = HttpClientBuilder::default()
        .set_headers(headers)
        .build(format!("{}/jsonRpc", args.url))
        .map_err(|e| format!("--url {}: {e}", args.url))?;

    let listed: Value = client
        .request("ticket.getPurchasableTickets", ObjectParams::new())
        .await
        .map_err(|e| failure(&args.url, "ticket.getPurchasableTickets", e))?;
    let current: BTreeMap<String, Map<String, Value>> = listed["tickets"]
        .as_array()
        .ok_or("the server answered no ticket list")?
        .iter()
        .filter_map(|t| Some((t["productId"].as_str()?.to_owned(), settable(t.as_object()?))))
        .collect();

    // Every change, in order: creates and updates by productId, then deletes.
    let mut tally = Tally::default();
    let mut changes = Vec::new();
    for (id, ticket) in &wanted {
        let ticket = Value::Object(ticket.clone());
        match current.get(id) {
            None => changes.push((
                id,
                Change {
                    done: "created",
                    planned: "would-create",
                    method: "ticket.createPurchasableTicket",
                    member: "ticket",
                    value: ticket,
                },
            )),
            Some(now) if Some(now) != ticket.as_object() => changes.push((
                id,
                Change {
                    done: "updated",
                    planned: "would-update",
                    method: "ticket.updatePurchasableTicket",
                    member: "ticket",
                    value: ticket,
                },
            )),
            Some(_) => {
                println!("unchanged {id}");
                tally.unchanged += 1;
            }
        }
    }
    for id in current.keys().filter(|id| !wanted.contains_key(*id)) {
        changes.push((
            id,
            Change {
                done: "deleted",
                planned: "would-delete",
                method: "ticket.deletePurchasableTicket",
                member: "productId",
                value: Value::String(id.clone()),
            },
        ));
    }

    let total = changes.len();
    for (done, (id, change)) in changes.into_iter().enumerate() {
        if !args.dry_run
            && let Err(e) = call(&client, &args.url, change.method, change.member, change.value).await
        {
            println!("{}", tally.summary(false));
            let left = total - done - 1;
            return Err(format!("ticket {id}: {e}\nstopped there: {left} other change(s) not tried"));
        }
        println!("{:<9} {id}", if args.dry_run { change.planned } else { change.done });
        match change.done {
            "created" => tally.created += 1,
            "updated" => tally.updated += 1,
            _ => tally.deleted += 1,
        }
    }
    println!("{}", tally.summary(args.dry_run));
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let outcome = match args() {
        Ok(args) => run(args).await.map_err(Stop::Error),
        Err(stop) => Err(stop),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Stop::Help) => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Err(Stop::Error(message)) => {
            eprintln!("provision: {message}");
            ExitCode::FAILURE
        }
    }
}
