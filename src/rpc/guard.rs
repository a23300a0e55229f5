//! The guard: jsonrpsee RPC middleware in front of jsonrpsee's own `RpcService`, which finds and runs the method.
//!
//! The guard runs for every call, before any handler reads data: it charges the call to its rate limits, answers
//! a method that does not exist with `-32601` naming the nearest ones, authenticates the caller, works out the
//! network the call acts on, checks the grant, and only then puts the capability ([`auth::NetworkScope`] or
//! [`auth::AdminAccess`], which only `auth` makes) into the call's extensions. A call it admits runs under the
//! request's deadline: past it the caller gets `-32000`, and a write the call queued and the writer had not yet
//! begun is dropped ([`crate::store::CALL_DEADLINE`]).
//!
//! jsonrpsee hands the middleware three kinds of work, and the guard handles all three itself:
//! - `call`: one request object, as above;
//! - `batch`: the entries of a batch, each through `call` (so each is admitted on its own, a `networkId` member
//!   winning over the header), all at once, so that the writes of one batch share a commit;
//! - `notification`: run through `call` like any other request, its answer dropped. jsonrpsee's own service
//!   ignores notifications (see [`super::gaps`]); JSON-RPC 2.0 says they are executed.
//!
//! When nothing is answered (a notification, or a batch of notifications), the response carries
//! [`super::gaps::Unanswered`], which the HTTP layer turns into `204 No Content`.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use futures_util::future::join_all;
use jsonrpsee::core::middleware::{Batch, BatchEntry, Notification, RpcServiceT};
use jsonrpsee::server::{BatchResponseBuilder, MethodResponse};
use jsonrpsee::types::{ErrorCode, ErrorObject, ErrorObjectOwned, Id, Request, TwoPointZero};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::gaps::Unanswered;
use super::limits::RateLimiter;
use crate::auth::{self, Requirement, TokenInfo};
use crate::domain::ids::NetworkId;
use crate::error::{Error, FieldError};
use crate::metrics::Metrics;
use crate::store::CALL_DEADLINE;

/// Who is calling, as the HTTP layer found it; one per HTTP request, copied by jsonrpsee into every call of it.
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
    /// call, or a batch's first entry): it pays nothing more.
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

/// The guard as a layer of jsonrpsee's `RpcServiceBuilder`.
#[derive(Clone)]
pub struct GuardLayer {
    limits: Arc<RateLimiter>,
    metrics: Arc<Metrics>,
    max_response_size: usize,
}

impl GuardLayer {
    /// A guard charging calls to `limits` and counting them in `metrics`; a batch's answer is held to
    /// `max_response_size`.
    pub fn new(limits: Arc<RateLimiter>, metrics: Arc<Metrics>, max_response_size: usize) -> Self {
        GuardLayer { limits, metrics, max_response_size }
    }
}

impl<S> tower::Layer<S> for GuardLayer {
    type Service = Guard<S>;

    fn layer(&self, inner: S) -> Guard<S> {
        let (limits, metrics) = (self.limits.clone(), self.metrics.clone());
        Guard { inner, limits, metrics, max_response_size: self.max_response_size }
    }
}

/// The guard middleware; wraps jsonrpsee's `RpcService`.
#[derive(Clone)]
pub struct Guard<S> {
    inner: S,
    limits: Arc<RateLimiter>,
    metrics: Arc<Metrics>,
    /// Largest batch answer, as jsonrpsee holds single answers to it.
    max_response_size: usize,
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
    let member: NetworkMember<'_> = serde_json::from_str(object.get()).unwrap_or(NetworkMember { network_id: None });
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

/// Charges a call to its rate limits, checks it, and hands out its capability; the error is the call's answer.
/// `Ok` names the network the call acts on, when it acts on one.
fn admit(limits: &RateLimiter, req: &mut Request<'_>) -> Result<Option<String>, ErrorObjectOwned> {
    let caller = req.extensions().get::<Caller>().cloned().unwrap_or_default();
    if !caller.prepaid {
        caller.charge(limits)?;
    }
    // The method table names exactly the served methods (checked at start-up), so it alone says what exists.
    let Some(requirement) = super::methods::required(req.method_name()) else {
        return Err(method_not_found(req.method_name()));
    };
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

/// A response that answers nothing: what a notification, or a batch of notifications, comes to.
fn unanswered() -> MethodResponse {
    let mut response = MethodResponse::notification();
    response.extensions_mut().insert(Unanswered);
    response
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
        let admitted = admit(&self.limits, &mut req);
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
                (Err(e), _) => (MethodResponse::error(req.id(), e), None),
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
            // The call charged before the body was read is the batch's first entry's; the others pay as they come.
            let mut first = true;
            let entries = batch.into_iter().map(|entry| {
                let entry = entry.map(|mut entry| {
                    if let Some(caller) = entry.extensions_mut().get_mut::<Caller>() {
                        caller.in_batch = true;
                        caller.prepaid &= first;
                    }
                    first = false;
                    entry
                });
                let this = this.clone();
                async move {
                    match entry {
                        Ok(BatchEntry::Call(req)) => Some(this.call(req).await),
                        Ok(BatchEntry::Notification(n)) => {
                            this.notification(n).await;
                            None
                        }
                        Err(e) => {
                            let (err, id) = e.into_parts();
                            Some(MethodResponse::error(id, err))
                        }
                    }
                }
            });
            let answers: Vec<MethodResponse> = join_all(entries).await.into_iter().flatten().collect();
            if answers.is_empty() {
                return unanswered();
            }
            let mut responses = BatchResponseBuilder::new_with_limit(this.max_response_size);
            for answer in answers {
                if let Err(too_large) = responses.append(answer) {
                    return too_large;
                }
            }
            MethodResponse::from_batch(responses.finish())
        }
    }

    fn notification<'a>(&self, n: Notification<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let call = self.call(as_call(n));
        async move {
            call.await;
            unanswered()
        }
    }
}

/// A notification as the call it is, with a null id that nobody will see.
fn as_call(n: Notification<'_>) -> Request<'_> {
    let Notification { method, params, extensions, .. } = n;
    Request { jsonrpc: TwoPointZero, id: Id::Null, method, params, extensions }
}
