//! The one error type of the domain and the store: what went wrong and why, in domain terms.
//!
//! No wire code lives here: `rpc::errors` alone maps an [`Error`] to a JSON-RPC error object (its code, message and
//! `data`). An internal error carries its cause for the log; the client sees a generic message.

use serde::Serialize;
use serde_json::Value;

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

/// Why a change conflicts with what is stored; each reason carries what a client needs to act on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    /// The id is taken.
    #[error("{resource} {id} already exists")]
    Duplicate { resource: &'static str, id: String },
    /// The registration number is taken in its event.
    #[error("registration number {number} is taken in event {event_id}")]
    NumberTaken { event_id: String, number: i64 },
    /// The `sysVersion` sent is not the stored one.
    #[error("sysVersion {expected} is stale; the stored version is {current}")]
    StaleVersion { expected: i64, current: i64 },
    /// The change refers, by `field`, to an object of the network that does not exist.
    #[error("{resource} {id} does not exist in this network")]
    MissingReference { resource: &'static str, id: String, field: &'static str },
    /// The ticket is held by active registrations.
    #[error("ticket {product_id} is held by {}", counted(*.sold, "active registration", "active registrations"))]
    TicketHeld { product_id: String, sold: i64 },
    /// The registration is the parent of guest registrations.
    #[error("registration {registration_id} is the parent of {}", counted(*.guests, "guest registration", "guest registrations"))]
    GuestsHeld { registration_id: String, guests: i64 },
    /// Function tickets refer to the registration, which cannot therefore be `change`d (deleted, moved).
    #[error(
        "registration {registration_id} cannot be {change}: {} to it",
        counted(*.count, "function ticket refers", "function tickets refer")
    )]
    FunctionTicketsHeld { registration_id: String, count: i64, change: &'static str },
    /// The ticket's allocation is used up.
    #[error("ticket {product_id} is sold out ({sold} of {allocation})")]
    SoldOut { product_id: String, allocation: i64, sold: i64 },
    /// A ticket's new allocation is below what it has sold.
    #[error("allocation {allocation} is below the {sold} already sold")]
    AllocationBelowSold { allocation: i64, sold: i64 },
    /// The contact holds as many of the ticket as allowed.
    #[error("contact {contact_id} already holds {holding} of ticket {product_id} (at most {max})")]
    MaxPerAttendee { product_id: String, contact_id: String, holding: i64, max: i64 },
    /// The order's state takes no such change (a payment of a completed or cancelled order, the cancellation of a
    /// completed one).
    #[error("order {order_id} is {status}: it takes no {action}")]
    OrderClosed { order_id: String, status: &'static str, action: &'static str },
    /// A JSON Patch `test` operation failed.
    #[error("test operation {operation} failed at {path}")]
    TestFailed { operation: usize, path: String },
    /// The registration is not in the state the call needs: a certificate is only for an `active` one, and a
    /// cancelled one is not ordered.
    #[error("registration {registration_id} is {status}, not active: it cannot be {action}")]
    NotActive { registration_id: String, status: &'static str, action: &'static str },
    /// `mail.retry` of a message that is not `failed` or `held` (queued, being sent, or sent already).
    #[error("message {id} is {status}: only a failed or held message is sent again")]
    NotRetryable { id: String, status: &'static str },
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
    #[error("forbidden: {}", needed(.permission, .network_id))]
    Forbidden { permission: &'static str, network_id: String },
    /// The resource does not exist (in this network).
    #[error("{resource} {id} not found")]
    NotFound { resource: &'static str, id: String },
    /// A group order of a group whose active registrations are each in an order already: no registration to order
    /// is found, and `order_ids` names the orders that hold them (the group itself exists, unlike `NotFound`).
    #[error("group {group} has no registration to order: {}", all_ordered(*.active))]
    GroupOrdered { group: String, active: i64, order_ids: Vec<String> },
    /// The change conflicts with the stored state.
    #[error(transparent)]
    Conflict(#[from] Conflict),
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
}

/// `n` and the noun phrase that reads right after it: `1 active registration`, `2 active registrations`.
fn counted(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Why a group with `active` active registrations has none to order.
fn all_ordered(active: i64) -> String {
    if active == 1 {
        "its one active registration is in an order already".to_owned()
    } else {
        format!("each of its {active} active registrations is in an order already")
    }
}

/// What a forbidden call lacks, in words that say which token to use: the admin token for `all@*`.
fn needed(permission: &str, network_id: &str) -> String {
    if permission == "all" && network_id == "*" {
        "this method needs an admin token (one with the grant all@*)".to_owned()
    } else {
        format!("this token lacks {permission} on network {network_id} (a grant {permission}@{network_id} or all@*)")
    }
}

/// The result type of the domain and the store.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_right_in_the_singular_and_the_plural() {
        let held = |sold| Conflict::TicketHeld { product_id: "vip".into(), sold }.to_string();
        assert_eq!(held(1), "ticket vip is held by 1 active registration");
        assert_eq!(held(2), "ticket vip is held by 2 active registrations");
        let guests = |guests| Conflict::GuestsHeld { registration_id: "r1".into(), guests }.to_string();
        assert_eq!(guests(1), "registration r1 is the parent of 1 guest registration");
        assert_eq!(guests(3), "registration r1 is the parent of 3 guest registrations");
        let seats = |count| {
            Conflict::FunctionTicketsHeld { registration_id: "r1".into(), count, change: "deleted" }.to_string()
        };
        assert_eq!(seats(1), "registration r1 cannot be deleted: 1 function ticket refers to it");
        assert_eq!(seats(2), "registration r1 cannot be deleted: 2 function tickets refer to it");
    }

    #[test]
    fn a_spent_group_says_its_registrations_are_ordered() {
        let spent = |active| Error::GroupOrdered { group: "g1".into(), active, order_ids: vec![] }.to_string();
        assert_eq!(
            spent(1),
            "group g1 has no registration to order: its one active registration is in an order already"
        );
        assert_eq!(
            spent(3),
            "group g1 has no registration to order: each of its 3 active registrations is in an order already"
        );
    }

    #[test]
    fn forbidden_names_the_token_that_is_needed() {
        let admin = Error::Forbidden { permission: "all", network_id: "*".into() };
        assert_eq!(admin.to_string(), "forbidden: this method needs an admin token (one with the grant all@*)");
        let manage = Error::Forbidden { permission: "network.manage", network_id: "net1".into() };
        assert_eq!(
            manage.to_string(),
            "forbidden: this token lacks network.manage on network net1 (a grant network.manage@net1 or all@*)"
        );
    }
}
