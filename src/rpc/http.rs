//! The HTTP layer: routing, limits, CORS, load shedding, authentication, and the two wire forms.
//!
//! - `POST /` and `POST /jsonRpc`: JSON-RPC 2.0, single or batch.
//! - `POST /jsonRpc/{method}`: a JSON-RPC request object for `{method}`, or bare params answered in the
//!   Adminserver's `{data, error}` envelope.
//! - `GET /health`: 200 once the database answers, 503 otherwise.
//! - `GET /openrpc.json`: the OpenRPC document of every method, as `rpc.discover` answers it (no token needed).
//!
//! HTTP-level refusals keep their status (404, 405, 408, 413, 415, 429); every JSON-RPC answer is HTTP 200.
//!
//! The order of a POST is what keeps a caller without a token from holding anything: the caller's rate-limit
//! bucket is charged first (429 before a byte of the body is read), the body is read under its time bound and a
//! server-wide memory budget (408, 429), and only then, with the body whole and the token known, is a call slot
//! taken (429 when every slot is busy).

use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::future::join_all;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use jsonrpsee::core::middleware::RpcServiceT;
use jsonrpsee::server::{HttpBody, MethodResponse};
use serde_json::value::RawValue;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::Instrument;

use super::guard::Caller;
use super::jsonrpc::{self, Entry, INVALID_REQUEST, Outcome, PARSE_ERROR};
use super::limits::RateLimiter;
use crate::auth::TokenTable;
use crate::config::Bounds;
use crate::domain::time;
use crate::error::Error;
use crate::metrics::Metrics;
use crate::store::SharedStore;

/// The limits and allowances of the HTTP layer.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Largest request body accepted (HTTP 413 beyond).
    pub max_body_bytes: usize,
    /// Most entries in one batch.
    pub max_batch: usize,
    /// Origins allowed by CORS; empty allows none.
    pub cors_origins: Vec<String>,
    /// Most requests in flight at once, counted once their body is read; beyond, HTTP 429.
    pub max_in_flight: usize,
    /// The body and call timeouts and the body-memory budget (the listener keeps the others).
    pub bounds: Bounds,
}

/// The front service: one per server, cloned per connection.
pub struct Front<S> {
    rpc: S,
    tokens: Arc<TokenTable>,
    store: SharedStore,
    config: Arc<HttpConfig>,
    in_flight: Arc<Semaphore>,
    /// The body-memory budget of requests with a valid token, one permit a byte.
    bodies: Arc<Semaphore>,
    /// The share of the budget that requests without one may use, so that they can never take it all.
    anonymous_bodies: Arc<Semaphore>,
    limits: Arc<RateLimiter>,
    metrics: Arc<Metrics>,
    /// The client's address, the key of its anonymous rate limit; `None` until a connection names it.
    peer: Option<IpAddr>,
}

impl<S: Clone> Clone for Front<S> {
    fn clone(&self) -> Self {
        Front {
            rpc: self.rpc.clone(),
            tokens: self.tokens.clone(),
            store: self.store.clone(),
            config: self.config.clone(),
            in_flight: self.in_flight.clone(),
            bodies: self.bodies.clone(),
            anonymous_bodies: self.anonymous_bodies.clone(),
            limits: self.limits.clone(),
            metrics: self.metrics.clone(),
            peer: self.peer,
        }
    }
}

impl<S> Front<S> {
    /// The front service over an RPC service stack.
    pub fn new(
        rpc: S,
        tokens: Arc<TokenTable>,
        store: SharedStore,
        config: HttpConfig,
        limits: Arc<RateLimiter>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let in_flight = Arc::new(Semaphore::new(config.max_in_flight));
        let (for_tokens, anonymous) = config.bounds.body_budgets();
        let anonymous_bodies = Arc::new(Semaphore::new(anonymous.min(Semaphore::MAX_PERMITS)));
        let bodies = Arc::new(Semaphore::new(for_tokens.min(Semaphore::MAX_PERMITS)));
        let config = Arc::new(config);
        Front { rpc, tokens, store, config, in_flight, bodies, anonymous_bodies, limits, metrics, peer: None }
    }
}

impl<S> super::listener::PerConnection for Front<S>
where
    S: RpcServiceT<MethodResponse = MethodResponse> + Clone + Send + Sync + 'static,
{
    type Service = Front<S>;

    fn for_peer(&self, peer: IpAddr) -> Front<S> {
        Front { peer: Some(peer), ..self.clone() }
    }
}

const JSON: &str = "application/json; charset=utf-8";

/// The header that names a request: taken from the client, or made; echoed on the answer and on every log line.
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest request id taken from a client.
const MAX_REQUEST_ID: usize = 128;

/// The client's `X-Request-Id` when it is 1 to 128 visible ASCII characters, else a new one (a UUID v7).
fn request_id(headers: &HeaderMap) -> HeaderValue {
    let sane = |v: &&HeaderValue| {
        let bytes = v.as_bytes();
        (1..=MAX_REQUEST_ID).contains(&bytes.len()) && bytes.iter().all(|b| b.is_ascii_graphic())
    };
    match headers.get(REQUEST_ID).filter(sane) {
        Some(id) => id.clone(),
        None => HeaderValue::from_str(&uuid::Uuid::now_v7().to_string()).unwrap_or(HeaderValue::from_static("-")),
    }
}

fn respond(status: StatusCode, body: impl Into<HttpBody>) -> Response<HttpBody> {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    response
}

/// An HTTP-level refusal: its status, and a JSON-RPC error object saying why; logged once, with the reason.
fn refuse(status: StatusCode, message: &str) -> Response<HttpBody> {
    tracing::info!(target: "ticket_admin::refused", status = status.as_u16(), reason = message, "refused");
    respond(status, jsonrpc::error_response(INVALID_REQUEST, message))
}

/// HTTP 429 with `Retry-After` (whole seconds, rounded up) and the `-32029` error saying which limit and how long.
fn too_many(refusal: Error) -> Response<HttpBody> {
    let retry_after_ms = match refusal {
        Error::RateLimited { retry_after_ms, .. } | Error::Busy { retry_after_ms, .. } => retry_after_ms,
        _ => 1000,
    };
    let error = jsonrpsee::types::ErrorObjectOwned::from(refusal);
    tracing::info!(target: "ticket_admin::refused", status = 429, reason = error.message(), "refused");
    let text = serde_json::to_string(&error).unwrap_or_else(|_| jsonrpc::error_object(error.code(), error.message()));
    let mut response = respond(StatusCode::TOO_MANY_REQUESTS, Outcome::Error(text).response(None));
    let seconds = retry_after_ms.div_ceil(1000).max(1);
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// A refusal after which the connection is closed: the rest of the body is not read.
fn closing(mut response: Response<HttpBody>) -> Response<HttpBody> {
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

fn no_content() -> Response<HttpBody> {
    let mut response = Response::new(HttpBody::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

fn method_not_allowed(allow: &'static str) -> Response<HttpBody> {
    let mut response = refuse(StatusCode::METHOD_NOT_ALLOWED, &format!("HTTP method not allowed here; use {allow}"));
    response.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

/// The token a request carries: `Authorization: Bearer <token>`, or `X-Session-Id: <token>`.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    if let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let (scheme, token) = value.trim().split_once(' ')?;
        return scheme.eq_ignore_ascii_case("bearer").then(|| token.trim());
    }
    headers.get("x-session-id").and_then(|v| v.to_str().ok()).map(str::trim)
}

fn is_json(headers: &HeaderMap) -> bool {
    match headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(ct) => {
            let mime = ct.split(';').next().unwrap_or_default().trim();
            mime.eq_ignore_ascii_case("application/json") || mime.eq_ignore_ascii_case("application/json-rpc")
        }
    }
}

enum Route {
    Rpc,
    MethodPath(String),
    Health,
    OpenRpc,
    Metrics,
    NotFound,
}

fn route(path: &str) -> Route {
    match path {
        "/" | "/jsonRpc" | "/jsonRpc/" => Route::Rpc,
        "/health" => Route::Health,
        "/openrpc.json" => Route::OpenRpc,
        "/metrics" => Route::Metrics,
        _ => match path.strip_prefix("/jsonRpc/") {
            Some(method) if !method.is_empty() && !method.contains('/') => Route::MethodPath(method.to_owned()),
            _ => Route::NotFound,
        },
    }
}

impl<S> Front<S>
where
    S: RpcServiceT<MethodResponse = MethodResponse> + Clone + Send + Sync + 'static,
{
    async fn handle<B>(self, req: Request<B>) -> Response<HttpBody>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let request_id = request_id(req.headers());
        let span = tracing::info_span!("request", request_id = %request_id.to_str().unwrap_or("-"));
        let metrics = self.metrics.clone();
        let mut response = self.cross_origin(req).instrument(span).await;
        metrics.http_status(response.status().as_u16());
        response.headers_mut().insert(REQUEST_ID, request_id);
        response
    }

    /// Answers a preflight, or the request, with the CORS headers of an allowed origin.
    async fn cross_origin<B>(self, req: Request<B>) -> Response<HttpBody>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let origin = req.headers().get(header::ORIGIN).cloned();
        let allowed = |o: &HeaderValue| self.config.cors_origins.iter().any(|a| a.as_bytes() == o.as_bytes());
        let allowed_origin = origin.clone().filter(allowed);
        let mut response = match (req.method() == Method::OPTIONS, &allowed_origin) {
            (true, Some(_)) => preflight(),
            (true, None) => {
                let origin = origin.as_ref().map_or("(none)".into(), |o| String::from_utf8_lossy(o.as_bytes()));
                let origin = super::guard::cut(&origin, 200);
                let message =
                    format!("origin {origin} not allowed: start the server with --cors-origin {origin} to allow it");
                refuse(StatusCode::FORBIDDEN, &message)
            }
            (false, _) => self.route(req).await,
        };
        if let Some(origin) = allowed_origin {
            let h = response.headers_mut();
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            h.insert(header::VARY, HeaderValue::from_static("origin"));
        }
        response
    }

    async fn route<B>(self, req: Request<B>) -> Response<HttpBody>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let route = route(req.uri().path());
        match (route, req.method()) {
            (Route::NotFound, _) => refuse(StatusCode::NOT_FOUND, "no such path; POST JSON-RPC to /jsonRpc"),
            (Route::Health, &Method::GET) => match self.caller(req.headers()).charge(&self.limits) {
                Ok(()) => self.health().await,
                Err(refusal) => too_many(refusal),
            },
            (Route::OpenRpc, &Method::GET) => match self.caller(req.headers()).charge(&self.limits) {
                Ok(()) => respond(StatusCode::OK, super::openrpc::document().get().to_owned()),
                Err(refusal) => too_many(refusal),
            },
            (Route::Metrics, &Method::GET) => match self.caller(req.headers()).charge(&self.limits) {
                Ok(()) => self.metrics().await,
                Err(refusal) => too_many(refusal),
            },
            (Route::Health | Route::OpenRpc | Route::Metrics, _) => method_not_allowed("GET"),
            (route, &Method::POST) => self.post(req, route).await,
            _ => method_not_allowed("POST"),
        }
    }

    /// Who sends a request with these headers: its token, if valid, its network header and its address.
    fn caller(&self, headers: &HeaderMap) -> Caller {
        Caller {
            token: bearer(headers).and_then(|t| self.tokens.authenticate(t, time::now())),
            network_header: headers.get("x-network-id").and_then(|v| v.to_str().ok()).map(str::to_owned),
            peer: self.peer,
            ..Caller::default()
        }
    }

    async fn health(&self) -> Response<HttpBody> {
        match self.store.ping().await {
            Ok(_) => respond(StatusCode::OK, r#"{"status":"ok"}"#),
            Err(_) => respond(StatusCode::SERVICE_UNAVAILABLE, r#"{"status":"unavailable"}"#),
        }
    }

    /// `GET /metrics`: the counters in Prometheus's text format.
    async fn metrics(&self) -> Response<HttpBody> {
        let outbox = match self.store.outbox_counts().await {
            Ok(counts) => counts,
            Err(e) => {
                tracing::warn!(error = %e, "cannot count the outbox for /metrics");
                Vec::new()
            }
        };
        let mut response = Response::new(HttpBody::from(self.metrics.render(self.store.stats(), &outbox)));
        let kind = HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8");
        response.headers_mut().insert(header::CONTENT_TYPE, kind);
        response
    }

    async fn post<B>(self, req: Request<B>, route: Route) -> Response<HttpBody>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        if !is_json(req.headers()) {
            return refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the body must be JSON (Content-Type: application/json)",
            );
        }
        let mut caller = self.caller(req.headers());
        if let Err(refusal) = caller.charge(&self.limits) {
            return closing(too_many(refusal));
        }
        caller.prepaid = true;
        let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        let mut body = std::pin::pin!(req.into_body());
        let reading = self.read_body(body.as_mut(), declared, caller.token.is_none());
        let read = tokio::time::timeout(self.config.bounds.body_timeout, reading).await;
        let (body, _budget) = match read {
            Ok(Ok(read)) => read,
            Ok(Err(refusal)) => {
                drain(body.as_mut()).await;
                return refusal;
            }
            Err(_) => {
                let message = format!("the body did not arrive within {:?}", self.config.bounds.body_timeout);
                return closing(refuse(StatusCode::REQUEST_TIMEOUT, &message));
            }
        };
        let Ok(_slot) = self.in_flight.clone().try_acquire_owned() else {
            self.metrics.rate_limited("inFlight");
            return too_many(Error::Busy { limit: "inFlight", retry_after_ms: 1000 });
        };
        caller.deadline = Some(tokio::time::Instant::now() + self.config.bounds.call_timeout);
        match route {
            Route::MethodPath(method) => self.method_path(caller, method, &body).await,
            _ => self.rpc(caller, &body).await,
        }
    }

    /// Reads a whole body within the size limit, holding its bytes against the body-memory budget (the permit comes
    /// back with the body and is to be kept as long as the body is). A request without a valid token may send a
    /// small body only (every method it could reach takes small params) and draws on a share of the budget of its
    /// own. The error is the response to send once the rest of the body is drained.
    async fn read_body<B>(
        &self,
        mut body: Pin<&mut B>,
        declared: Option<usize>,
        anonymous: bool,
    ) -> Result<(Bytes, Option<OwnedSemaphorePermit>), Response<HttpBody>>
    where
        B: http_body::Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (max, pool) = match anonymous {
            false => (self.config.max_body_bytes, &self.bodies),
            true => (self.config.max_body_bytes.min(ANONYMOUS_BODY_BYTES), &self.anonymous_bodies),
        };
        let too_large = || {
            let whose = if anonymous { " for a request without a valid token" } else { "" };
            refuse(StatusCode::PAYLOAD_TOO_LARGE, &format!("the body exceeds {max} bytes{whose}"))
        };
        if declared.is_some_and(|n| n > max) {
            return Err(too_large());
        }
        // Memory follows the bytes that arrive, never the length a client declares: the frames are kept as they
        // come (each counted against the budget) and joined once at the end.
        let mut frames: Vec<Bytes> = Vec::new();
        let mut length = 0;
        let mut budget: Option<OwnedSemaphorePermit> = None;
        while let Some(frame) = body.as_mut().frame().await {
            let data = match frame {
                Ok(frame) => frame.into_data().unwrap_or_default(),
                Err(e) => return Err(refuse(StatusCode::BAD_REQUEST, &format!("cannot read the body: {}", e.into()))),
            };
            if length + data.len() > max {
                return Err(too_large());
            }
            if data.is_empty() {
                continue;
            }
            let Ok(bytes) = pool.clone().try_acquire_many_owned(data.len() as u32) else {
                tracing::debug!(
                    budget = self.config.bounds.max_body_memory,
                    "request bodies use all of their memory budget"
                );
                self.metrics.rate_limited("bodyMemory");
                return Err(too_many(Error::Busy { limit: "bodyMemory", retry_after_ms: 1000 }));
            };
            match &mut budget {
                Some(held) => held.merge(bytes),
                None => budget = Some(bytes),
            }
            length += data.len();
            frames.push(data);
        }
        let body = match frames.len() {
            0 => Bytes::new(),
            1 => frames.swap_remove(0),
            _ => Bytes::from(frames.concat()),
        };
        Ok((body, budget))
    }

    /// `POST /jsonRpc` and `POST /`: a request object or a batch.
    async fn rpc(&self, caller: Caller, body: &[u8]) -> Response<HttpBody> {
        let Ok(text) = std::str::from_utf8(body) else {
            return answer(Some(jsonrpc::error_response(PARSE_ERROR, "the body is not UTF-8")));
        };
        let Ok(parsed) = serde_json::from_str::<&RawValue>(text) else {
            return answer(Some(jsonrpc::error_response(PARSE_ERROR, "the body is not valid JSON")));
        };
        if !parsed.get().trim_start().starts_with('[') {
            return answer(jsonrpc::answer(&self.rpc, caller, jsonrpc::check(parsed)).await);
        }
        let Ok(entries) = serde_json::from_str::<Vec<&RawValue>>(parsed.get()) else {
            return answer(Some(jsonrpc::error_response(PARSE_ERROR, "the body is not valid JSON")));
        };
        if entries.is_empty() {
            return answer(Some(jsonrpc::error_response(INVALID_REQUEST, "a batch must not be empty")));
        }
        if entries.len() > self.config.max_batch {
            let message = format!("a batch of {} exceeds the limit of {}", entries.len(), self.config.max_batch);
            return answer(Some(jsonrpc::error_response(INVALID_REQUEST, &message)));
        }
        // The call charged before the body was read is the batch's first call; the others pay as they come.
        let entries: Vec<_> = entries.into_iter().map(jsonrpc::check).collect();
        let first_call = entries.iter().position(|e| matches!(e, jsonrpc::Entry::Call { .. }));
        let answers = join_all(entries.into_iter().enumerate().map(|(i, entry)| {
            let caller = Caller { in_batch: true, prepaid: caller.prepaid && Some(i) == first_call, ..caller.clone() };
            jsonrpc::answer(&self.rpc, caller, entry)
        }))
        .await;
        let answers: Vec<String> = answers.into_iter().flatten().collect();
        if answers.is_empty() { no_content() } else { respond(StatusCode::OK, format!("[{}]", answers.join(","))) }
    }

    /// `POST /jsonRpc/{method}`: a JSON-RPC request for `{method}`, or bare params answered in the envelope.
    async fn method_path(&self, caller: Caller, method: String, body: &[u8]) -> Response<HttpBody> {
        let text = match std::str::from_utf8(body) {
            Ok(t) if t.trim().is_empty() => None,
            Ok(t) => Some(t),
            Err(_) => return envelope_error(PARSE_ERROR, "the body is not UTF-8"),
        };
        let Some(text) = text else {
            return respond(StatusCode::OK, jsonrpc::run(&self.rpc, caller, method, None).await.envelope());
        };
        let Ok(params) = serde_json::from_str::<&RawValue>(text) else {
            return envelope_error(PARSE_ERROR, "the body is not valid JSON");
        };
        let is_request = serde_json::from_str::<jsonrpc::RawRequest<'_>>(params.get())
            .is_ok_and(|r| r.jsonrpc.map(RawValue::get) == Some("\"2.0\""));
        if !is_request {
            return respond(StatusCode::OK, jsonrpc::run(&self.rpc, caller, method, Some(params)).await.envelope());
        }
        let entry = match jsonrpc::check_with(params, Some(&method)) {
            Entry::Call { method: named, id, .. } if named != method => {
                Entry::Invalid { id, message: format!("method '{named}' differs from the path's '{method}'") }
            }
            other => other,
        };
        answer(jsonrpc::answer(&self.rpc, caller, entry).await)
    }
}

/// Reads and drops what is left of a refused body, so that a client still uploading it can read the refusal
/// (a socket closed with unread data resets the connection, and the client sees a broken pipe instead of 413).
/// Draining is bounded: at most [`DRAIN_BYTES`] and [`DRAIN_TIME`], past which the connection is closed.
async fn drain<B>(mut body: std::pin::Pin<&mut B>)
where
    B: http_body::Body<Data = Bytes>,
{
    let mut left = DRAIN_BYTES;
    let draining = async {
        while let Some(Ok(frame)) = body.as_mut().frame().await {
            let len = frame.data_ref().map_or(0, Bytes::len);
            if len >= left {
                break;
            }
            left -= len;
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, draining).await;
}

/// Largest body of a request without a valid token: its calls can only be refused (or, later, discover the API).
const ANONYMOUS_BODY_BYTES: usize = 64 * 1024;

/// Most bytes of a refused body read and dropped.
const DRAIN_BYTES: usize = 64 * 1024 * 1024;
/// Longest time spent reading a refused body.
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(2);

fn answer(response: Option<String>) -> Response<HttpBody> {
    match response {
        Some(body) => respond(StatusCode::OK, body),
        None => no_content(),
    }
}

fn envelope_error(code: i32, message: &str) -> Response<HttpBody> {
    respond(StatusCode::OK, Outcome::Error(jsonrpc::error_object(code, message)).envelope())
}

fn preflight() -> Response<HttpBody> {
    let mut response = no_content();
    let h = response.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("POST, GET, OPTIONS"));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("authorization, content-type, x-session-id, x-network-id"),
    );
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    response
}

impl<S, B> tower::Service<Request<B>> for Front<S>
where
    S: RpcServiceT<MethodResponse = MethodResponse> + Clone + Send + Sync + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<HttpBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.handle(req).await) })
    }
}
