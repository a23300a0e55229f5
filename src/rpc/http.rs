//! The HTTP middleware in front of jsonrpsee: tower layers handed to its `TowerServiceBuilder`, outermost first.
//!
//! - [`RequestIdLayer`]: every request has an id (the client's `X-Request-Id` when sane, else a new one), echoed on
//!   the answer and on every log line of the request; every answer's status is counted for `GET /metrics`.
//! - [`CorsGateLayer`]: tower-http's `CorsLayer` for the origins `--cors-origin` allows, behind a gate that refuses
//!   a preflight from any other origin with `403`, naming the origin and the flag (tower-http would answer it,
//!   only without the allow headers), and answers an allowed one `204`.
//! - [`FrontLayer`]: the routes and the door of a POST. `GET /health` (200 once the database answers, 503 otherwise),
//!   `GET /openrpc.json` (the document `rpc.discover` answers) and `GET /metrics` are answered here; `POST /`, `POST
//!   /jsonRpc` and `POST /jsonRpc/{method}` go on; anything else is 404 or 405. A POST is checked in the order that
//!   keeps a caller without a token from holding anything: its media type (415), the caller's rate-limit bucket (429
//!   before a byte of the body is read), the body under its time bound and a server-wide memory budget (408, 413, 429),
//!   and only then, with the body whole and the token known, a call slot (429 when every slot is busy). What it learnt
//!   goes on as a [`Caller`] in the request's extensions, which jsonrpsee hands to every call.
//! - [`super::path_form::PathFormLayer`]: `POST /jsonRpc/{method}` made plain JSON-RPC, bare params enveloped.
//! - [`super::gaps::GapsLayer`]: what jsonrpsee does not do to the letter of JSON-RPC 2.0.
//!
//! HTTP-level refusals keep their status (404, 405, 408, 413, 415, 429) and carry a JSON-RPC error object saying
//! why; every JSON-RPC answer is HTTP 200. tower's own limits do not fit the front: jsonrpsee's service calls its
//! HTTP middleware without `poll_ready`, which `ConcurrencyLimit` and `LoadShed` need, and the body's bounds
//! (the whole body within a time, a budget per byte that arrived, a smaller one without a token) are not those of
//! tower-http's body limit and timeout.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use jsonrpsee::core::BoxError;
use jsonrpsee::server::HttpBody;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower_http::cors::{AllowHeaders, AllowMethods, AllowOrigin, Cors, CorsLayer};
use tracing::Instrument;

use super::gaps::{self, INVALID_REQUEST};
use super::guard::{Caller, cut};
use super::limits::RateLimiter;
use super::listener::Peer;
use super::path_form::PathMethod;
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
    /// Largest answer, of one call or a whole batch (a call's error beyond).
    pub max_response_bytes: u32,
    /// Most entries in one batch.
    pub max_batch: usize,
    /// Origins allowed by CORS; empty allows none.
    pub cors_origins: Vec<String>,
    /// Most requests in flight at once, counted once their body is read; beyond, HTTP 429.
    pub max_in_flight: usize,
    /// The body and call timeouts and the body-memory budget (the listener keeps the others).
    pub bounds: Bounds,
}

/// The future of every HTTP layer here: an answer, boxed.
pub type BoxFuture = Pin<Box<dyn Future<Output = Result<Response<HttpBody>, BoxError>> + Send>>;

const JSON: &str = "application/json; charset=utf-8";

/// An answer with a JSON body.
pub fn respond(status: StatusCode, body: impl Into<HttpBody>) -> Response<HttpBody> {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    response
}

/// `204 No Content`.
pub fn no_content() -> Response<HttpBody> {
    let mut response = Response::new(HttpBody::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

/// An HTTP-level refusal: its status, and a JSON-RPC error object saying why; logged once, with the reason.
fn refuse(status: StatusCode, message: &str) -> Response<HttpBody> {
    tracing::info!(target: "ticket_admin::refused", status = status.as_u16(), reason = message, "refused");
    respond(status, gaps::error_response(None, INVALID_REQUEST, message))
}

/// HTTP 429 with `Retry-After` (whole seconds, rounded up) and the `-32029` error saying which limit and how long.
fn too_many(refusal: Error) -> Response<HttpBody> {
    let retry_after_ms = match refusal {
        Error::RateLimited { retry_after_ms, .. } | Error::Busy { retry_after_ms, .. } => retry_after_ms,
        _ => 1000,
    };
    let error = jsonrpsee::types::ErrorObjectOwned::from(refusal);
    tracing::info!(target: "ticket_admin::refused", status = 429, reason = error.message(), "refused");
    let text = serde_json::to_string(&error).unwrap_or_else(|_| gaps::error_object(error.code(), error.message()));
    let mut response =
        respond(StatusCode::TOO_MANY_REQUESTS, format!(r#"{{"jsonrpc":"2.0","id":null,"error":{text}}}"#));
    let seconds = retry_after_ms.div_ceil(1000).max(1);
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// A refusal after which the connection is closed: the rest of the body is not read.
fn closing(mut response: Response<HttpBody>) -> Response<HttpBody> {
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

fn method_not_allowed(allow: &'static str) -> Response<HttpBody> {
    let mut response = refuse(StatusCode::METHOD_NOT_ALLOWED, &format!("HTTP method not allowed here; use {allow}"));
    response.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

fn ready(response: Response<HttpBody>) -> BoxFuture {
    Box::pin(async move { Ok(response) })
}

// ---------------------------------------------------------------------------------------------------------------
// Request ids
// ---------------------------------------------------------------------------------------------------------------

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

/// Gives every request an id, a log span that carries it, and the id on the answer; and, being outermost, counts
/// every answer's HTTP status (the refusals of every layer behind included).
#[derive(Clone)]
pub struct RequestIdLayer {
    metrics: Arc<Metrics>,
}

impl RequestIdLayer {
    /// Request ids, with answers counted in `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        RequestIdLayer { metrics }
    }
}

impl<S> tower::Layer<S> for RequestIdLayer {
    type Service = RequestIds<S>;

    fn layer(&self, inner: S) -> RequestIds<S> {
        RequestIds { inner, metrics: self.metrics.clone() }
    }
}

/// See [`RequestIdLayer`].
#[derive(Clone)]
pub struct RequestIds<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S, B> tower::Service<Request<B>> for RequestIds<S>
where
    S: tower::Service<Request<B>, Response = Response<HttpBody>, Error = BoxError>,
    S::Future: Send + 'static,
{
    type Response = Response<HttpBody>;
    type Error = BoxError;
    type Future = BoxFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> BoxFuture {
        let id = request_id(req.headers());
        let span = tracing::info_span!("request", request_id = %id.to_str().unwrap_or("-"));
        let answer = span.in_scope(|| self.inner.call(req));
        let metrics = self.metrics.clone();
        Box::pin(
            async move {
                let mut response = answer.await?;
                metrics.http_status(response.status().as_u16());
                response.headers_mut().insert(REQUEST_ID, id);
                Ok(response)
            }
            .instrument(span),
        )
    }
}

// ---------------------------------------------------------------------------------------------------------------
// CORS
// ---------------------------------------------------------------------------------------------------------------

/// tower-http's `CorsLayer` for the allowed origins, behind a gate for preflights from any other. Without an allowed
/// origin (no `--cors-origin`, the default) there is no `CorsLayer` at all: it would add nothing to an answer but a
/// `Vary` header, and jsonrpsee builds the HTTP layers anew for every request.
#[derive(Clone)]
pub struct CorsGateLayer {
    origins: Arc<[HeaderValue]>,
    cors: Option<CorsLayer>,
}

impl CorsGateLayer {
    /// CORS for `origins` (exactly as the configuration checked them); none allows no origin.
    pub fn new(origins: &[String]) -> Self {
        let origins: Arc<[HeaderValue]> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
        let allowed = origins.clone();
        let cors = (!origins.is_empty()).then(|| {
            CorsLayer::new()
                .allow_origin(AllowOrigin::predicate(move |origin, _| allowed.contains(origin)))
                .allow_methods(AllowMethods::list([Method::POST, Method::GET, Method::OPTIONS]))
                .allow_headers(AllowHeaders::list([
                    header::AUTHORIZATION,
                    header::CONTENT_TYPE,
                    HeaderName::from_static("x-session-id"),
                    HeaderName::from_static("x-network-id"),
                ]))
                .max_age(std::time::Duration::from_secs(600))
        });
        CorsGateLayer { origins, cors }
    }
}

impl<S> tower::Layer<S> for CorsGateLayer {
    type Service = CorsGate<S>;

    fn layer(&self, inner: S) -> CorsGate<S> {
        let inner = match &self.cors {
            Some(cors) => Crossing::Cors(Box::new(cors.layer(inner))),
            None => Crossing::Closed(inner),
        };
        CorsGate { origins: self.origins.clone(), inner }
    }
}

/// See [`CorsGateLayer`].
#[derive(Clone)]
pub struct CorsGate<S> {
    origins: Arc<[HeaderValue]>,
    inner: Crossing<S>,
}

/// What is behind the gate: tower-http's CORS for the allowed origins, or, with none, the service itself.
#[derive(Clone)]
enum Crossing<S> {
    Cors(Box<Cors<S>>),
    Closed(S),
}

impl<S, B> tower::Service<Request<B>> for CorsGate<S>
where
    S: tower::Service<Request<B>, Response = Response<HttpBody>, Error = BoxError>,
    S::Future: Send + 'static,
{
    type Response = Response<HttpBody>;
    type Error = BoxError;
    type Future = BoxFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        match &mut self.inner {
            Crossing::Cors(cors) => cors.poll_ready(cx),
            Crossing::Closed(inner) => inner.poll_ready(cx),
        }
    }

    fn call(&mut self, req: Request<B>) -> BoxFuture {
        if req.method() != Method::OPTIONS {
            return match &mut self.inner {
                Crossing::Cors(cors) => Box::pin(cors.call(req)),
                Crossing::Closed(inner) => Box::pin(inner.call(req)),
            };
        }
        let origin = req.headers().get(header::ORIGIN);
        let Crossing::Cors(cors) = &mut self.inner else { return ready(cross_origin_refused(origin)) };
        if !origin.is_some_and(|o| self.origins.contains(o)) {
            return ready(cross_origin_refused(origin));
        }
        let preflight = cors.call(req);
        Box::pin(async move {
            let mut response = preflight.await?;
            *response.status_mut() = StatusCode::NO_CONTENT;
            Ok(response)
        })
    }
}

/// `403` for a preflight from an origin not allowed, naming it and the flag that would allow it.
fn cross_origin_refused(origin: Option<&HeaderValue>) -> Response<HttpBody> {
    let origin = origin.map_or("(none)".into(), |o| String::from_utf8_lossy(o.as_bytes()));
    let origin = cut(&origin, 200);
    refuse(
        StatusCode::FORBIDDEN,
        &format!("origin {origin} not allowed: start the server with --cors-origin {origin} to allow it"),
    )
}

// ---------------------------------------------------------------------------------------------------------------
// Routes and the door of a POST
// ---------------------------------------------------------------------------------------------------------------

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

/// Largest body of a request without a valid token: its calls can only be refused (or discover the API).
const ANONYMOUS_BODY_BYTES: usize = 64 * 1024;

/// Most bytes of a refused body read and dropped.
const DRAIN_BYTES: usize = 64 * 1024 * 1024;
/// Longest time spent reading a refused body.
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(2);

/// What the front shares across requests and connections.
struct FrontState {
    tokens: Arc<TokenTable>,
    store: SharedStore,
    config: HttpConfig,
    in_flight: Arc<Semaphore>,
    /// The body-memory budget of requests with a valid token, one permit a byte.
    bodies: Arc<Semaphore>,
    /// The share of the budget that requests without one may use, so that they can never take it all.
    anonymous_bodies: Arc<Semaphore>,
    limits: Arc<RateLimiter>,
    metrics: Arc<Metrics>,
}

/// The routes and the door of a POST; see the [module](self).
#[derive(Clone)]
pub struct FrontLayer(Arc<FrontState>);

impl FrontLayer {
    /// The front of one server.
    pub fn new(
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
        let state = FrontState { tokens, store, config, in_flight, bodies, anonymous_bodies, limits, metrics };
        FrontLayer(Arc::new(state))
    }
}

impl<S> tower::Layer<S> for FrontLayer {
    type Service = Front<S>;

    fn layer(&self, inner: S) -> Front<S> {
        Front { state: self.0.clone(), inner }
    }
}

/// See [`FrontLayer`].
#[derive(Clone)]
pub struct Front<S> {
    state: Arc<FrontState>,
    inner: S,
}

impl FrontState {
    /// Who sends a request with these headers: its token, if valid, its network header and its address.
    fn caller<B>(&self, req: &Request<B>) -> Caller {
        let headers = req.headers();
        Caller {
            token: bearer(headers).and_then(|t| self.tokens.authenticate(t, time::now())),
            network_header: headers.get("x-network-id").and_then(|v| v.to_str().ok()).map(str::to_owned),
            peer: req.extensions().get::<Peer>().map(|p| p.0),
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
        B::Error: Into<BoxError>,
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
}

/// Reads and drops what is left of a refused body, so that a client still uploading it can read the refusal
/// (a socket closed with unread data resets the connection, and the client sees a broken pipe instead of 413).
/// Draining is bounded: at most [`DRAIN_BYTES`] and [`DRAIN_TIME`], past which the connection is closed.
async fn drain<B>(mut body: Pin<&mut B>)
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

impl<S, B> tower::Service<Request<B>> for Front<S>
where
    S: tower::Service<Request<Full<Bytes>>, Response = Response<HttpBody>, Error = BoxError> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<HttpBody>;
    type Error = BoxError;
    type Future = BoxFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> BoxFuture {
        let state = self.state.clone();
        let route = route(req.uri().path());
        match (route, req.method()) {
            (Route::NotFound, _) => ready(refuse(StatusCode::NOT_FOUND, "no such path; POST JSON-RPC to /jsonRpc")),
            (Route::Health, &Method::GET) => match state.caller(&req).charge(&state.limits) {
                Ok(()) => Box::pin(async move { Ok(state.health().await) }),
                Err(refusal) => ready(too_many(refusal)),
            },
            (Route::OpenRpc, &Method::GET) => match state.caller(&req).charge(&state.limits) {
                Ok(()) => ready(respond(StatusCode::OK, super::openrpc::document().get().to_owned())),
                Err(refusal) => ready(too_many(refusal)),
            },
            (Route::Metrics, &Method::GET) => match state.caller(&req).charge(&state.limits) {
                Ok(()) => Box::pin(async move { Ok(state.metrics().await) }),
                Err(refusal) => ready(too_many(refusal)),
            },
            (Route::Health | Route::OpenRpc | Route::Metrics, _) => ready(method_not_allowed("GET")),
            (route, &Method::POST) => Box::pin(post(state, self.inner.clone(), req, route)),
            _ => ready(method_not_allowed("POST")),
        }
    }
}

/// A POST, through the door: media type, rate charge, body, call slot; then the JSON-RPC service behind.
async fn post<S, B>(
    state: Arc<FrontState>,
    mut inner: S,
    req: Request<B>,
    route: Route,
) -> Result<Response<HttpBody>, BoxError>
where
    S: tower::Service<Request<Full<Bytes>>, Response = Response<HttpBody>, Error = BoxError>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    if !is_json(req.headers()) {
        let message = "the body must be JSON (Content-Type: application/json)";
        return Ok(refuse(StatusCode::UNSUPPORTED_MEDIA_TYPE, message));
    }
    let mut caller = state.caller(&req);
    if let Err(refusal) = caller.charge(&state.limits) {
        return Ok(closing(too_many(refusal)));
    }
    caller.prepaid = true;
    let (mut parts, body) = req.into_parts();
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    let mut body = std::pin::pin!(body);
    let reading = state.read_body(body.as_mut(), declared, caller.token.is_none());
    let (body, _budget) = match tokio::time::timeout(state.config.bounds.body_timeout, reading).await {
        Ok(Ok(read)) => read,
        Ok(Err(refusal)) => {
            drain(body.as_mut()).await;
            return Ok(refusal);
        }
        Err(_) => {
            let message = format!("the body did not arrive within {:?}", state.config.bounds.body_timeout);
            return Ok(closing(refuse(StatusCode::REQUEST_TIMEOUT, &message)));
        }
    };
    let Ok(_slot) = state.in_flight.clone().try_acquire_owned() else {
        state.metrics.rate_limited("inFlight");
        return Ok(too_many(Error::Busy { limit: "inFlight", retry_after_ms: 1000 }));
    };
    caller.deadline = Some(tokio::time::Instant::now() + state.config.bounds.call_timeout);
    parts.extensions.insert(caller);
    if let Route::MethodPath(method) = route {
        parts.extensions.insert(PathMethod(method));
    }
    // jsonrpsee takes only a few exact spellings of the JSON media type; the front has accepted the request's.
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    // The layers behind may rewrite the body: its length is no longer the client's.
    parts.headers.remove(header::CONTENT_LENGTH);
    // A POST is a JSON-RPC call whatever it asks to upgrade to: jsonrpsee, serving HTTP only, would refuse one that
    // asks for a WebSocket with a bare 403 after the front took its charge, body and call slot.
    parts.headers.remove(header::UPGRADE);
    // The body memory and the call slot are held until the answer is made.
    inner.call(Request::from_parts(parts, Full::new(body))).await
}
