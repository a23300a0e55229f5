//! Brings a network's purchasable tickets to exactly the set in a JSON file: creates what is missing, updates what
//! differs, deletes what the file does not list, and reports what it did.
//!
//! ```sh
//! cargo run --example provision -- --url http://127.0.0.1:8080 --token TOKEN --network NET tickets.json
//! ```
//!
//! The file holds an array of ticket objects as `ticket.createPurchasableTicket` takes them. Every ticket is
//! validated before anything is sent, so a bad file changes nothing. A second run with the same file changes
//! nothing and reports every ticket unchanged.

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
}

const USAGE: &str = "usage: provision --url URL --token TOKEN --network NETWORK FILE.json

Brings NETWORK to exactly the tickets of FILE.json (an array of ticket objects): creates what is missing,
updates what differs, and DELETES the tickets of the network that the file does not list. Prints one line per
ticket (created, updated, unchanged, deleted) and a summary; a second run with the same file changes nothing.
TOKEN needs network.manage on NETWORK. The whole file is validated before anything is sent.";

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

fn args() -> Result<Args, Stop> {
    let (mut url, mut token, mut network, mut file) = (None, None, None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let slot = match arg.as_str() {
            "--url" => &mut url,
            "--token" => &mut token,
            "--network" => &mut network,
            "-h" | "--help" => return Err(Stop::Help),
            other if !other.starts_with('-') && file.is_none() => {
                file = Some(other.to_owned());
                continue;
            }
            other => return Err(format!("unknown argument {other}\n\n{USAGE}").into()),
        };
        *slot = Some(args.next().ok_or_else(|| format!("{arg} needs a value\n\n{USAGE}"))?);
    }
    match (url, token, network, file) {
        (Some(url), Some(token), Some(network), Some(file)) => Ok(Args { url, token, network, file }),
        _ => Err(format!("--url, --token, --network and a file are all needed\n\n{USAGE}").into()),
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

/// A call's failure as one readable line: the JSON-RPC error's code, message and data, or the transport's error.
fn failure(method: &str, error: jsonrpsee::core::client::Error) -> String {
    match error {
        jsonrpsee::core::client::Error::Call(e) => match e.data() {
            Some(data) => format!("{method} failed: error {}: {} {}", e.code(), e.message(), data.get()),
            None => format!("{method} failed: error {}: {}", e.code(), e.message()),
        },
        other => format!("{method} failed: {other}"),
    }
}

async fn call(client: &HttpClient, method: &str, member: &str, value: Value) -> Result<Value, String> {
    let mut params = ObjectParams::new();
    params.insert(member, value).map_err(|e| e.to_string())?;
    client.request(method, params).await.map_err(|e| failure(method, e))
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
        .build(format!("{}/jsonRpc", args.url.trim_end_matches('/')))
        .map_err(|e| format!("--url {}: {e}", args.url))?;

    let listed: Value = client
        .request("ticket.getPurchasableTickets", ObjectParams::new())
        .await
        .map_err(|e| failure("ticket.getPurchasableTickets", e))?;
    let current: BTreeMap<String, Map<String, Value>> = listed["tickets"]
        .as_array()
        .ok_or("the server answered no ticket list")?
        .iter()
        .filter_map(|t| Some((t["productId"].as_str()?.to_owned(), settable(t.as_object()?))))
        .collect();

    let (mut created, mut updated, mut unchanged, mut deleted) = (0, 0, 0, 0);
    for (id, ticket) in &wanted {
        match current.get(id) {
            None => {
                call(&client, "ticket.createPurchasableTicket", "ticket", Value::Object(ticket.clone())).await?;
                println!("created   {id}");
                created += 1;
            }
            Some(now) if now != ticket => {
                call(&client, "ticket.updatePurchasableTicket", "ticket", Value::Object(ticket.clone())).await?;
                println!("updated   {id}");
                updated += 1;
            }
            Some(_) => {
                println!("unchanged {id}");
                unchanged += 1;
            }
        }
    }
    for id in current.keys().filter(|id| !wanted.contains_key(*id)) {
        call(&client, "ticket.deletePurchasableTicket", "productId", Value::String(id.clone())).await?;
        println!("deleted   {id}");
        deleted += 1;
    }
    println!("created {created}, updated {updated}, unchanged {unchanged}, deleted {deleted}");
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
