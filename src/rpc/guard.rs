//! The RPC layer: the guard middleware and the dispatcher beneath it.
//!
//! The guard runs for every call, before any handler reads data: it authenticates the caller, works out the
//! network the call acts on, checks the grant, and only then puts the capability ([`auth::NetworkScope`] or
//! [`auth::AdminAccess`], which only `auth` makes) into the call's extensions. A method that does not exist
//! passes through untouched so that the dispatcher answers `-32601`, as the specification says.
//!
//! Batches reach the guard one entry at a time: `rpc::jsonrpc` frames every request itself and hands each entry of a
//! batch, and each notification, to [`Guard`]'s `call` (with `Caller::in_batch` set for batch entries). The `batch`
//! and `notification` methods of the middleware trait route through the same `call` too, so no path reaches a
//! handler unchecked.
//!
//! The guard also charges each call to its rate limits (the caller's bucket, then, once admitted, its network's)
//! and holds it to the request's deadline: past it the caller gets `-32000`, and a write the call queued and the
//! writer had not yet begun is dropped ([`crate::store::CALL_DEADLINE`]).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use jsonrpsee::core::middleware::{Batch, BatchEntry, Notification, RpcServiceT};
use jsonrpsee::server::{BatchResponseBuilder, MethodCallback, MethodResponse, Methods};
use jsonrpsee::types::{ErrorCode, ErrorObject, ErrorObjectOwned, Id, Params, Request};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::limits::RateLimiter;
use crate::auth::{self, Requirement, TokenInfo};
use crate::domain::ids::NetworkId;
use crate::error::{Error, FieldError};
use crate::metrics::Metrics;
use crate::store::CALL_DEADLINE;

/// Who is calling, as the HTTP layer found it; one per HTTP request, copied into every call.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// The token the request carried, if it is known and active.
    pub token: Option<Arc<TokenInfo>>,
    /// The raw `X-Network-Id` header.
    pub network_header: Option<String>,
    /// Whether this call is an entry of a batch (then a `networkId` member wins over the header).
    pub in_batch: bool,
    /// The client's address: the key of the rate limit of calls without a valid token.
    pub peer: Option<IpAddr>,
    /// Set on the one call of a request that the HTTP front already charged to the caller's bucket (the request's
    /// call, or a batch's first call): it pays nothing more.
    pub prepaid: bool,
    /// When the request's calls run out of time.
    pub deadline: Option<tokio::time::Instant>,
}

impl Caller {
    /// Charges one call of this caller to its rate limit: its token's, or else its address's.
    pub fn charge(&self, limits: &RateLimiter) -> Result<(), Error> {
        limits.charge(self.token.as_ref().map(|t| t.id.as_str()), self.peer)
    }
}

/// The longest method name a log line shows whole; a longer one is cut, so that a caller cannot fill the log.
const LOGGED_NAME: usize = 200;

/// A call this slow is logged whether or not every call is.
const SLOW_CALL: std::time::Duration = std::time::Duration::from_secs(1);

/// `text` cut to `max` characters, marked with an ellipsis when cut.
pub fn cut(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => text.into(),
        Some((end, _)) => format!("{}…", &text[..end]).into(),
    }
}

/// The guard middleware; wraps the dispatcher.
#[derive(Clone)]
pub struct Guard<S> {
    inner: S,
    /// The served methods, so that an unknown one reaches the dispatcher's `-32601` instead of a permission error.
    methods: Methods,
    limits: Arc<RateLimiter>,
    metrics: Arc<Metrics>,
}

impl<S> Guard<S> {
    /// A guard in front of `inner` for the given methods, charging calls to `limits` and counting them in `metrics`.
    pub fn new(inner: S, methods: Methods, limits: Arc<RateLimiter>, metrics: Arc<Metrics>) -> Self {
        Guard { inner, methods, limits, metrics }
    }
}

#[derive(Deserialize)]
struct NetworkMember<'a> {
    #[serde(rename = "networkId", borrow)]
    network_id: Option<&'a RawValue>,
}

/// The `networkId` member of the params object: `Ok(None)` when absent. By-position params holding one object are
/// read as that object, as the handlers read them.
fn network_member(params: Option<&RawValue>) -> Result<Option<String>, Error> {
    let Some(params) = params else { return Ok(None) };
    let object = match params.get().trim_start().as_bytes().first() {
        Some(b'{') => params,
        Some(b'[') => match serde_json::from_str::<Vec<&RawValue>>(params.get()).ok().as_deref() {
            Some([one]) if one.get().trim_start().starts_with('{') => one,
            _ => return Ok(None),
        },
        _ => return Ok(None),
    };
    let raw = object;
    let member: NetworkMember<'_> = serde_json::from_str(raw.get()).unwrap_or(NetworkMember { network_id: None });
    match member.network_id {
        None => Ok(None),
        Some(v) => match serde_json::from_str::<String>(v.get()) {
            Ok(s) => Ok(Some(s)),
            Err(_) => Err(Error::invalid("networkId", "must be a string")),
        },
    }
}

/// The network a call acts on: the `networkId` member or the `X-Network-Id` header.
fn network_of(caller: &Caller, params: Option<&RawValue>) -> Result<NetworkId, Error> {
    let member = network_member(params)?;
    let chosen = match (member, &caller.network_header) {
        (Some(m), Some(h)) if m != *h && !caller.in_batch => {
            return Err(Error::InvalidParams(vec![FieldError {
                field: "networkId".into(),
                message: format!("differs from the X-Network-Id header '{h}'"),
                value: Some(m.into()),
            }]));
        }
        (Some(m), _) => m,
        (None, Some(h)) => h.clone(),
        (None, None) => {
            return Err(Error::invalid("networkId", "is required: send an X-Network-Id header or a networkId member"));
        }
    };
    NetworkId::parse(&chosen)
        .map_err(|m| Error::InvalidParams(vec![FieldError::with_value("networkId", m, &chosen.into())]))
}

/// Charges a call to its rate limits, checks it, and hands out its capability; the error is the call's answer.
fn admit(methods: &Methods, limits: &RateLimiter, req: &mut Request<'_>) -> Result<Option<String>, Error> {
    let caller = req.extensions().get::<Caller>().cloned().unwrap_or_default();
    if !caller.prepaid {
        caller.charge(limits)?;
    }
    if methods.method(req.method_name()).is_none() {
        return Ok(None);
    }
    let requirement = super::methods::required(req.method_name())
        .ok_or_else(|| Error::Internal(format!("method {} has no guard entry", cut(req.method_name(), LOGGED_NAME))))?;
    let token = || caller.token.clone().ok_or(Error::NotAuthenticated);
    match requirement {
        Requirement::Public => Ok(None),
        Requirement::Authenticated => {
            req.extensions_mut().insert(token()?);
            Ok(None)
        }
        Requirement::All => {
            let admin = auth::admit_admin(&*token()?)?;
            req.extensions_mut().insert(admin);
            Ok(None)
        }
        Requirement::NetworkManage => {
            let scope = auth::admit_network(&*token()?, network_of(&caller, req.params.as_deref())?)?;
            limits.charge_network(scope.network().as_str())?;
            let shown = scope.network().to_string();
            req.extensions_mut().insert(scope);
            Ok(Some(shown))
        }
    }
}

impl<S> RpcServiceT for Guard<S>
where
    S: RpcServiceT<
            MethodResponse = MethodResponse,
            BatchResponse = MethodResponse,
            NotificationResponse = MethodResponse,
        > + Clone
        + Send
        + Sync
        + 'static,
{
    type MethodResponse = MethodResponse;
    type NotificationResponse = MethodResponse;
    type BatchResponse = MethodResponse;

    fn call<'a>(&self, mut req: Request<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let (inner, metrics) = (self.inner.clone(), self.metrics.clone());
        let admitted = admit(&self.methods, &self.limits, &mut req);
        async move {
            let started = Instant::now();
            let method = cut(req.method_name(), LOGGED_NAME).into_owned();
            let caller = req.extensions().get::<Caller>();
            let caller_id = caller.and_then(|c| c.token.as_ref()).map(|t| t.id.clone());
            let deadline = caller.and_then(|c| c.deadline);
            let (response, network) = match (admitted, deadline) {
                (Ok(network), None) => (inner.call(req).await, network),
                (Ok(network), Some(deadline)) => {
                    let id = req.id().into_owned();
                    let call = CALL_DEADLINE.scope(deadline.into_std(), inner.call(req));
                    match tokio::time::timeout_at(deadline, call).await {
                        Ok(response) => (response, network),
                        Err(_) => (MethodResponse::error(id, ErrorObjectOwned::from(Error::TimedOut)), network),
                    }
                }
                (Err(e), _) => (MethodResponse::error(req.id(), ErrorObjectOwned::from(e)), None),
            };
            let (outcome, elapsed) = (response.as_error_code().unwrap_or(0), started.elapsed());
            metrics.call(&method, outcome, elapsed);
            let network = network.as_deref().unwrap_or("-");
            let caller = caller_id.as_deref().unwrap_or("-");
            let micros = elapsed.as_micros() as u64;
            // Every call with `--access-log`; the slow ones always.
            tracing::info!(target: "ticket_admin::call", method, network, caller, outcome, micros);
            if elapsed >= SLOW_CALL {
                tracing::warn!(target: "ticket_admin::slow", method, network, caller, outcome, micros, "slow call");
            }
            response
        }
    }

    fn batch<'a>(&self, batch: Batch<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let this = self.clone();
        async move {
            let mut responses = BatchResponseBuilder::new_with_limit(usize::MAX);
            let mut answered = false;
            for entry in batch {
                let response = match entry {
                    Ok(BatchEntry::Call(req)) => this.call(req).await,
                    Ok(BatchEntry::Notification(n)) => {
                        this.notification(n).await;
                        continue;
                    }
                    Err(e) => {
                        let (err, id) = e.into_parts();
                        MethodResponse::error(id, err)
                    }
                };
                answered = true;
                if let Err(too_large) = responses.append(response) {
                    return too_large;
                }
            }
            if answered { MethodResponse::from_batch(responses.finish()) } else { MethodResponse::notification() }
        }
    }

    fn notification<'a>(&self, n: Notification<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        // A notification is executed like a call; only its answer is dropped.
        let mut req =
            Request::owned(n.method_name().to_owned(), n.params().as_ref().map(|p| p.clone().into_owned()), Id::Null);
        *req.extensions_mut() = n.extensions().clone();
        let call = self.call(req);
        async move {
            call.await;
            MethodResponse::notification()
        }
    }
}

/// The innermost service: finds the method and runs it.
#[derive(Clone)]
pub struct Dispatcher {
    methods: Methods,
    max_response_size: usize,
}

/// `-32601` naming the method asked for (cut to a bounded length) and the described methods nearest to it.
fn method_not_found(method: &str) -> ErrorObjectOwned {
    let shown = cut(method, LOGGED_NAME);
    let nearest = super::methods::nearest(method);
    let message = match nearest.first() {
        Some(first) => format!("Method not found: {shown} (did you mean {first}?)"),
        None => format!("Method not found: {shown}"),
    };
    ErrorObject::owned(
        ErrorCode::MethodNotFound.code(),
        message,
        Some(serde_json::json!({ "method": shown, "didYouMean": nearest })),
    )
}

impl Dispatcher {
    /// A dispatcher over `methods`; answers above `max_response_size` bytes become errors.
    pub fn new(methods: Methods, max_response_size: usize) -> Self {
        Dispatcher { methods, max_response_size }
    }
}

impl RpcServiceT for Dispatcher {
    type MethodResponse = MethodResponse;
    type NotificationResponse = MethodResponse;
    type BatchResponse = MethodResponse;

    fn call<'a>(&self, req: Request<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let max = self.max_response_size;
        let Request { id, method, params, extensions, .. } = req;
        let params = Params::new(params.as_ref().map(|p| p.get())).into_owned();
        let id = id.into_owned();
        let callback = self.methods.method(&method).cloned();
        async move {
            match callback {
                Some(MethodCallback::Async(cb)) => cb(id, params, jsonrpsee::ConnectionId(0), max, extensions).await,
                Some(MethodCallback::Sync(cb)) => cb(id, params, max, extensions),
                Some(_) => MethodResponse::error(id, ErrorObject::from(ErrorCode::InternalError)),
                None => MethodResponse::error(id, method_not_found(&method)),
            }
        }
    }

    // The guard splits batches and turns notifications into calls; these paths are never taken.
    #[allow(clippy::manual_async_fn)]
    fn batch<'a>(&self, _batch: Batch<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        async { MethodResponse::error(Id::Null, ErrorObject::from(ErrorCode::InternalError)) }
    }

    #[allow(clippy::manual_async_fn)]
    fn notification<'a>(&self, _n: Notification<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        async { MethodResponse::notification() }
    }
}
