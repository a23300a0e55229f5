//! The transport and the RPC layer: jsonrpsee's HTTP service with the server's HTTP middleware in front and the
//! guard as its RPC middleware, and one file per namespace registering its methods.
//!
//! A request flows `listener` (connections, their bounds) → `http` (request id, CORS, routes, the door of a
//! POST) → `path_form` (the `{data, error}` form) → `gaps` (what jsonrpsee misses of JSON-RPC 2.0) → jsonrpsee
//! (framing, batches) → `guard` (rate, permission, capability, deadline) → jsonrpsee's `RpcService` → a
//! namespace's handler → domain → store.

pub mod admin;
pub mod cursor;
pub mod errors;
pub mod examples;
pub mod function_ticket;
pub mod gaps;
pub mod guard;
pub mod http;
pub mod limits;
pub mod listener;
pub mod mail;
pub mod methods;
pub mod openrpc;
pub mod order;
pub mod params;
pub mod path_form;
pub mod records;
pub mod registration;
pub mod template;
pub mod ticket;
pub mod ticket_edit;
pub mod ticket_list;
pub mod types;

use std::sync::Arc;

use jsonrpsee::core::middleware::RpcServiceBuilder;
use jsonrpsee::server::{BatchRequestConfig, Server, ServerConfig, StopHandle, TowerService, TowerServiceBuilder};
use jsonrpsee::{Methods, RpcModule};
use tower::layer::util::{Identity, Stack};

use crate::auth::TokenTable;
use crate::store::SharedStore;

/// What every handler shares.
pub struct Ctx {
    pub store: SharedStore,
    /// Each network's ticket list, kept between calls.
    pub ticket_lists: ticket_list::TicketLists,
    /// Authenticates calls without a database read; updated by the admin methods.
    pub tokens: Arc<TokenTable>,
    /// Whether messages are delivered or held, and the sender's wake-up.
    pub mail: Arc<crate::mail::Mailer>,
}

/// Why the methods could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum AssemblyError {
    #[error("method registered twice: {0}")]
    Register(#[from] jsonrpsee::core::RegisterMethodError),
    #[error("method {0} has no entry in the method table")]
    Unguarded(&'static str),
    #[error("method {0} is in the method table but not served")]
    Unserved(&'static str),
}

/// Every method the server serves; each must have a guard entry (deny by default).
pub fn methods(ctx: Ctx) -> Result<RpcModule<Ctx>, AssemblyError> {
    let mut module = RpcModule::new(ctx);
    ticket::register(&mut module)?;
    ticket_edit::register(&mut module)?;
    registration::register(&mut module)?;
    order::register(&mut module)?;
    function_ticket::register(&mut module)?;
    template::register(&mut module)?;
    mail::register(&mut module)?;
    admin::register(&mut module)?;
    module.register_method("rpc.discover", |p, _, _| {
        params::finish(params::object(&params::json(&p)?)?, Vec::new())?;
        Ok::<_, crate::error::Error>(openrpc::document())
    })?;
    every_method_guarded(&module)?;
    Ok(module)
}

/// Deny by default: a served method that the method table does not describe stops the server before it listens,
/// and so does a described one that is not served (its description would promise a method that is not there).
fn every_method_guarded<C>(module: &RpcModule<C>) -> Result<(), AssemblyError> {
    if let Some(unguarded) = module.method_names().find(|m| methods::find(m).is_none()) {
        return Err(AssemblyError::Unguarded(unguarded));
    }
    match methods::METHODS.iter().find(|m| !module.method_names().any(|served| served == m.name)) {
        Some(unserved) => Err(AssemblyError::Unserved(unserved.name)),
        None => Ok(()),
    }
}

/// The HTTP middleware as tower stacks it (innermost, `gaps`, first); in the order a request meets them, see [`http`].
pub type HttpLayers = Stack<
    gaps::GapsLayer,
    Stack<
        path_form::PathFormLayer,
        Stack<http::FrontLayer, Stack<http::CorsGateLayer, Stack<http::RequestIdLayer, Identity>>>,
    >,
>;

/// The RPC middleware: the guard.
pub type RpcLayers = Stack<guard::GuardLayer, Identity>;

/// What every connection of one server is served by: jsonrpsee's `TowerService`, built per connection.
pub struct Connections {
    builder: TowerServiceBuilder<RpcLayers, HttpLayers>,
    methods: Methods,
    stop: StopHandle,
}

impl Connections {
    /// The service of a new connection.
    pub fn service(&self) -> TowerService<RpcLayers, HttpLayers> {
        self.builder.clone().build(self.methods.clone(), self.stop.clone())
    }
}

/// The services of one server: jsonrpsee with the HTTP layers in front and the guard behind.
pub fn connections(
    module: RpcModule<Ctx>,
    tokens: Arc<TokenTable>,
    store: SharedStore,
    config: http::HttpConfig,
    limits: Arc<limits::RateLimiter>,
    metrics: Arc<crate::metrics::Metrics>,
    stop: StopHandle,
) -> Connections {
    // jsonrpsee's own bounds are set out of the way: the listener caps connections, the front bounds bodies and
    // calls in flight, `gaps` the batch length.
    let server = ServerConfig::builder()
        .http_only()
        .max_connections(u32::MAX)
        .max_request_body_size(u32::MAX)
        .max_response_body_size(config.max_response_bytes)
        .set_batch_request_config(BatchRequestConfig::Unlimited)
        .build();
    let http = tower::ServiceBuilder::new()
        .layer(http::RequestIdLayer::new(metrics.clone()))
        .layer(http::CorsGateLayer::new(&config.cors_origins))
        .layer(http::FrontLayer::new(tokens, store, config.clone(), limits.clone(), metrics.clone()))
        .layer(path_form::PathFormLayer::new(metrics.clone()))
        .layer(gaps::GapsLayer::new(config.max_batch, metrics.clone()));
    let rpc =
        RpcServiceBuilder::new().layer(guard::GuardLayer::new(limits, metrics, config.max_response_bytes as usize));
    let builder =
        Server::builder().set_config(server).set_http_middleware(http).set_rpc_middleware(rpc).to_service_builder();
    Connections { builder, methods: module.into(), stop }
}

/// `value` written as JSON text, to be returned as a result as it is.
pub(crate) fn json_text(value: &impl serde::Serialize) -> crate::error::Result<Box<serde_json::value::RawValue>> {
    serde_json::value::to_raw_value(value).map_err(|e| crate::error::Error::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_served_method_is_guarded_and_an_unguarded_one_stops_the_start() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = crate::store::SqliteStore::open(&dir.path().join("t.db"), crate::store::Synchronous::Normal, 1)
            .expect("store");
        let ctx = Ctx {
            store: Arc::new(store.clone()),
            ticket_lists: Default::default(),
            tokens: Default::default(),
            mail: Default::default(),
        };
        let module = methods(ctx).expect("assembled");
        let names: Vec<&str> = module.method_names().collect();
        assert_eq!(names.len(), methods::METHODS.len(), "every entry of the table is served: {names:?}");
        assert!(names.iter().all(|m| methods::required(m).is_some()));

        // A new method in a namespace the table knows has no entry of its own, and stops the start.
        let mut more = module;
        more.register_method("ticket.exportAll", |_, _, _| "x").expect("registered");
        match every_method_guarded(&more) {
            Err(AssemblyError::Unguarded(name)) => assert_eq!(name, "ticket.exportAll"),
            other => panic!("an unguarded method must stop the start: {other:?}"),
        }

        // A described method that is not served stops it too.
        let ctx = Ctx {
            store: Arc::new(store.clone()),
            ticket_lists: Default::default(),
            tokens: Default::default(),
            mail: Default::default(),
        };
        let mut fewer = RpcModule::new(ctx);
        ticket::register(&mut fewer).expect("registered");
        ticket_edit::register(&mut fewer).expect("registered");
        match every_method_guarded(&fewer) {
            Err(AssemblyError::Unserved(name)) => assert!(name.starts_with("registration."), "{name}"),
            other => panic!("a described method not served must stop the start: {other:?}"),
        }
        crate::store::Store::close(&store);
    }
}
