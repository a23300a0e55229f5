//! The one error type of the domain and its single mapping to JSON-RPC error objects.
//!
//! Everything below the RPC layer speaks [`Error`]; only [`From<Error> for ErrorObjectOwned`] knows the wire codes.
//! An internal error carries its cause for the log; the client sees a generic message.

use jsonrpsee::types::{ErrorObject, ErrorObjectOwned};
use serde::Serialize;
use serde_json::{Value, json};

/// Wire code: invalid params.
pub const INVALID_PARAMS: i32 = -32602;
/// Wire code: internal error.
pub const INTERNAL_ERROR: i32 = -32603;
/// Wire code: the caller is not authenticated.
pub const NOT_AUTHENTICATED: i32 = -32001;
/// Wire code: the caller lacks the permission.
pub const FORBIDDEN: i32 = -32003;
/// Wire code: the resource does not exist.
pub const NOT_FOUND: i32 = -32004;
/// Wire code: a conflict with the stored state.
pub const CONFLICT: i32 = -32009;
/// Wire code: the record is locked.
pub const LOCKED: i32 = -32023;
/// Wire code: a rate limit or a tenant limit is exceeded.
pub const LIMIT_EXCEEDED: i32 = -32029;
/// Wire code: the call ran past the server's call timeout.
pub const TIMED_OUT: i32 = -32000;

/// One problem found in a request's params.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldError {
    /// The dotted path of the offending member, e.g. `ticket.price`.
    pub field: String,
    /// What is wrong, in words a client can show.
    pub message: String,
    /// The value that was sent, when there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

impl FieldError {
    /// A problem with a member, without echoing its value.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), message: message.into(), value: None }
    }

    /// A problem with a member, echoing the value that was sent when it is small enough to echo.
    pub fn with_value(field: impl Into<String>, message: impl Into<String>, value: &Value) -> Self {
        FieldError { field: field.into(), message: message.into(), value: crate::domain::input::echo(value) }
    }
}

/// Why a change conflicts with what is stored; the `reason` of a `-32009`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictReason {
    /// The id is taken.
    Duplicate,
    /// The `sysVersion` sent is not the stored one.
    StaleVersion,
    /// The change refers to an object that does not exist.
    MissingReference,
    /// The object is still referred to by others.
    Referenced,
    /// The ticket's allocation is used up.
    SoldOut,
    /// The contact holds as many of the ticket as allowed.
    MaxPerAttendee,
    /// A JSON Patch `test` operation failed.
    TestFailed,
}

impl ConflictReason {
    /// The wire name of the reason.
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictReason::Duplicate => "duplicate",
            ConflictReason::StaleVersion => "staleVersion",
            ConflictReason::MissingReference => "missingReference",
            ConflictReason::Referenced => "referenced",
            ConflictReason::SoldOut => "soldOut",
            ConflictReason::MaxPerAttendee => "maxPerAttendee",
            ConflictReason::TestFailed => "testFailed",
        }
    }
}

/// The domain's one error type.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The params are malformed; every problem found is listed.
    #[error("invalid params")]
    InvalidParams(Vec<FieldError>),
    /// No token, or an unknown, expired or revoked one.
    #[error("not authenticated")]
    NotAuthenticated,
    /// The token lacks the permission on the network.
    #[error("forbidden: {permission} on {network_id} is required")]
    Forbidden { permission: &'static str, network_id: String },
    /// The resource does not exist (in this network).
    #[error("{resource} {id} not found")]
    NotFound { resource: &'static str, id: String },
    /// The change conflicts with the stored state.
    #[error("{message}")]
    Conflict { reason: ConflictReason, message: String, details: serde_json::Map<String, Value> },
    /// The record has `sysLocked: true`.
    #[error("{resource} {id} is locked")]
    Locked { resource: &'static str, id: String },
    /// Too many calls on one bucket (`token`, `network`, `anonymous`); try again after `retry_after_ms`.
    #[error("rate limit exceeded: too many calls per {limit}; retry in {retry_after_ms} ms")]
    RateLimited { limit: &'static str, retry_after_ms: u64 },
    /// The server is at one of its own bounds (`inFlight`, `bodyMemory`), whoever calls; try again shortly.
    #[error("server busy: {limit} is used up; retry in {retry_after_ms} ms")]
    Busy { limit: &'static str, retry_after_ms: u64 },
    /// The network holds as many records of a kind as its tenant limit (`maxTickets`, ...) allows.
    #[error("limit exceeded: the network may hold at most {value} ({limit}, based on tenant limits)")]
    TenantLimit { limit: &'static str, value: i64 },
    /// The call ran past the call timeout; a write it queued was either committed whole or not at all.
    #[error("timed out")]
    TimedOut,
    /// Something failed inside the server; the cause is for the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// One invalid member.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidParams(vec![FieldError::new(field, message)])
    }

    /// A conflict with its reason and extra data members.
    pub fn conflict(reason: ConflictReason, message: impl Into<String>, details: Value) -> Self {
        let details = match details {
            Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        Error::Conflict { reason, message: message.into(), details }
    }

    /// The wire code of this error.
    pub fn code(&self) -> i32 {
        match self {
            Error::InvalidParams(_) => INVALID_PARAMS,
            Error::NotAuthenticated => NOT_AUTHENTICATED,
            Error::Forbidden { .. } => FORBIDDEN,
            Error::NotFound { .. } => NOT_FOUND,
            Error::Conflict { .. } => CONFLICT,
            Error::Locked { .. } => LOCKED,
            Error::RateLimited { .. } | Error::Busy { .. } | Error::TenantLimit { .. } => LIMIT_EXCEEDED,
            Error::TimedOut => TIMED_OUT,
            Error::Internal(_) => INTERNAL_ERROR,
        }
    }
}

impl From<Error> for ErrorObjectOwned {
    fn from(e: Error) -> Self {
        let code = e.code();
        match e {
            Error::InvalidParams(errors) => {
                let message = match errors.as_slice() {
                    [one] => format!("invalid params: {}: {}", one.field, one.message),
                    many => format!("invalid params: {} problems", many.len()),
                };
                ErrorObject::owned(code, message, Some(json!({ "errors": errors })))
            }
            Error::NotAuthenticated => ErrorObject::owned(
                code,
                "not authenticated: send a valid token as 'Authorization: Bearer <token>'",
                None::<()>,
            ),
            Error::Forbidden { permission, ref network_id } => ErrorObject::owned(
                code,
                e.to_string(),
                Some(json!({ "permission": permission, "networkId": network_id })),
            ),
            Error::NotFound { resource, ref id } => {
                ErrorObject::owned(code, e.to_string(), Some(json!({ "resource": resource, "id": id })))
            }
            Error::Conflict { reason, message, mut details } => {
                details.insert("reason".into(), Value::from(reason.as_str()));
                ErrorObject::owned(code, message, Some(Value::Object(details)))
            }
            Error::Locked { resource, ref id } => {
                ErrorObject::owned(code, e.to_string(), Some(json!({ "resource": resource, "id": id })))
            }
            Error::RateLimited { limit, retry_after_ms } | Error::Busy { limit, retry_after_ms } => {
                ErrorObject::owned(code, e.to_string(), Some(json!({ "limit": limit, "retryAfterMs": retry_after_ms })))
            }
            Error::TenantLimit { limit, value } => {
                ErrorObject::owned(code, e.to_string(), Some(json!({ "limit": limit, "value": value })))
            }
            Error::TimedOut => ErrorObject::owned(
                code,
                "timed out: the call ran past the server's call timeout; a write it started was committed whole \
                 or not at all",
                None::<()>,
            ),
            Error::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                ErrorObject::owned(code, "internal error", None::<()>)
            }
        }
    }
}

/// The result type of the domain and the store.
pub type Result<T, E = Error> = std::result::Result<T, E>;
