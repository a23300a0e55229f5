//! `ticket-admin call METHOD [PARAMS]`: one call to a running server, for scripts and people. It sends the params
//! bare to `POST <url>/jsonRpc/<method>` and reads the `{data, error}` envelope back: the `data` printed as indented
//! JSON on standard output, an error on standard error, and the outcome in the exit code.
//!
//! The client is hyper-util's, already in the tree for the server's own HTTP; it speaks plain HTTP only.

use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use clap::Args;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// Exit code: the server answered with an error (or refused the request at the HTTP level).
const CALL_FAILED: u8 = 1;
/// Exit code: the command line is wrong (the same code clap uses for its own usage errors).
const USAGE: u8 = 2;
/// Exit code: the server could not be reached, or did not answer in time or in the envelope.
const NO_ANSWER: u8 = 3;

/// What `call --help` adds: the exit codes.
pub const AFTER_HELP: &str = "Exit codes: 0 the call succeeded (its result on standard output); 1 the server answered \
with an error (on standard error); 2 the command line is wrong; 3 the server could not be reached or gave no answer.

Example:
  TICKET_ADMIN_TOKEN=ta_... TICKET_ADMIN_NETWORK=demo ticket-admin call ticket.getPurchasableTickets '{\"limit\": 5}'";

#[derive(Args)]
pub struct CallArgs {
    /// The method, e.g. ticket.getPurchasableTickets or admin.whoami.
    method: String,
    /// Its params, as JSON (usually an object); none when left out; `-` reads them from standard input.
    params: Option<String>,
    /// The server's base URL (without /jsonRpc).
    #[arg(long, env = "TICKET_ADMIN_URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    /// The token, sent as `Authorization: Bearer`; prefer the environment variable, which `ps` does not show.
    #[arg(long, env = "TICKET_ADMIN_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The network the call acts on, sent as `X-Network-Id`.
    #[arg(long, env = "TICKET_ADMIN_NETWORK")]
    network: Option<String>,
    /// Print the result on one line instead of indented.
    #[arg(long)]
    compact: bool,
    /// How long to wait for the answer, e.g. 30s or 500ms.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    timeout: Duration,
}

/// Why the call printed no result, and the exit code that says so.
struct Stop {
    code: u8,
    message: String,
}

fn stop(code: u8, message: impl Into<String>) -> Stop {
    Stop { code, message: message.into() }
}

/// Runs the call; prints the result or the reason it has none.
pub async fn run(args: CallArgs) -> ExitCode {
    match call(&args).await {
        Ok(data) => {
            let shown = if args.compact { serde_json::to_string(&data) } else { serde_json::to_string_pretty(&data) };
            println!("{}", shown.unwrap_or_else(|_| data.to_string()));
            ExitCode::SUCCESS
        }
        Err(Stop { code, message }) => {
            eprintln!("ticket-admin call: {message}");
            ExitCode::from(code)
        }
    }
}

/// The base URL as given, checked: plain `http://host[:port]`, with no path (a trailing `/` is allowed).
fn base(url: &str) -> Result<String, Stop> {
    let uri: http::Uri = url.parse().map_err(|e| stop(USAGE, format!("--url {url}: {e}")))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err(stop(USAGE, format!("--url {url}: https is not supported here; call the server over http")));
        }
        _ => return Err(stop(USAGE, format!("--url {url}: write it as http://host:port, e.g. http://127.0.0.1:8080"))),
    }
    if uri.path() != "/" || uri.query().is_some() {
        let root = format!("http://{}", uri.authority().map(|a| a.as_str()).unwrap_or_default());
        return Err(stop(
            USAGE,
            format!("--url {url}: give the server's base URL, e.g. {root}, without a path such as /jsonRpc"),
        ));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// The params to send, read and checked as JSON before anything is sent.
fn params(given: Option<&str>) -> Result<Vec<u8>, Stop> {
    let text = match given {
        None => return Ok(Vec::new()),
        Some("-") => std::io::read_to_string(std::io::stdin())
            .map_err(|e| stop(USAGE, format!("cannot read the params from standard input: {e}")))?,
        Some(text) => text.to_owned(),
    };
    serde_json::from_str::<Value>(&text).map_err(|e| stop(USAGE, format!("the params are not JSON: {e}")))?;
    Ok(text.into_bytes())
}

async fn call(args: &CallArgs) -> Result<Value, Stop> {
    let method = &args.method;
    if method.is_empty() || !method.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        return Err(stop(USAGE, format!("'{method}' is not a method name (e.g. ticket.getPurchasableTickets)")));
    }
    let base = base(&args.url)?;
    let body = params(args.params.as_deref())?;
    let mut request =
        http::Request::post(format!("{base}/jsonRpc/{method}")).header("content-type", "application/json");
    if let Some(token) = &args.token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    if let Some(network) = &args.network {
        request = request.header("x-network-id", network);
    }
    let request = request
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| stop(USAGE, format!("the token or network cannot be sent as a header: {e}")))?;

    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let exchange = async {
        let response = client.request(request).await.map_err(|e| {
            let mut cause = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(inner) = source {
                cause = format!("{cause}: {inner}");
                source = inner.source();
            }
            stop(NO_ANSWER, format!("cannot reach the server at {base} (is it running there?): {cause}"))
        })?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| stop(NO_ANSWER, format!("the answer from {base} broke off: {e}")))?
            .to_bytes();
        Ok::<_, Stop>((status, body))
    };
    let (status, body) = tokio::time::timeout(args.timeout, exchange).await.map_err(|_| {
        stop(NO_ANSWER, format!("no answer from {base} within {}", humantime::format_duration(args.timeout)))
    })??;
    let text = String::from_utf8_lossy(&body);
    if !status.is_success() {
        return Err(stop(
            CALL_FAILED,
            format!("{method}: the server refused the request: HTTP {status}: {}", text.trim()),
        ));
    }
    let envelope: Value = serde_json::from_str(&text)
        .map_err(|_| stop(NO_ANSWER, format!("{base} answered something other than JSON: {}", text.trim())))?;
    let error = &envelope["error"];
    match error["status"].as_bool() {
        Some(false) => Ok(envelope["data"].clone()),
        Some(true) => {
            let mut message =
                format!("{method} failed: error {}: {}", error["code"], error["message"].as_str().unwrap_or(""));
            if let Some(details) = error.get("details") {
                let details = serde_json::to_string_pretty(details).unwrap_or_else(|_| details.to_string());
                message.push('\n');
                message.push_str(&details);
            }
            Err(stop(CALL_FAILED, message))
        }
        None => Err(stop(NO_ANSWER, format!("{base} did not answer in the {{data, error}} envelope: {}", text.trim()))),
    }
}
