//! The one mapping of the domain's [`Error`] to JSON-RPC error objects: the wire codes, the messages a client sees,
//! and each error's `data` with the API's camelCase member names.

use jsonrpsee::types::{ErrorObject, ErrorObjectOwned};
use serde_json::{Value, json};

use crate::error::{Conflict, Error};

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
/// Wire code: the answer would be larger than the server sends (jsonrpsee's code for an oversized response).
pub const RESPONSE_TOO_LARGE: i32 = jsonrpsee::types::error::OVERSIZED_RESPONSE_CODE;

/// Every error code a method answers, with what it means: the OpenRPC document's error catalogue.
pub const CATALOGUE: &[(i32, &str, &str)] = &[
    (
        INVALID_PARAMS,
        "InvalidParams",
        "invalid params: data.errors lists every problem found, each {field, message, value?}",
    ),
    (NOT_AUTHENTICATED, "NotAuthenticated", "not authenticated: no token, or an unknown, expired or revoked one"),
    (FORBIDDEN, "Forbidden", "forbidden: the token lacks the permission on the network, data {permission, networkId}"),
    (NOT_FOUND, "NotFound", "not found: data {resource, id}"),
    (
        CONFLICT,
        "Conflict",
        "conflict with the stored state: data.reason says which (duplicate, staleVersion, soldOut, ...)",
    ),
    (LOCKED, "Locked", "locked: the record has sysLocked true"),
    (LIMIT_EXCEEDED, "LimitExceeded", "a rate limit or a tenant limit: data {limit, retryAfterMs} or {limit, value}"),
    (TIMED_OUT, "TimedOut", "timed out: a write the call started is committed whole or not at all"),
    (
        RESPONSE_TOO_LARGE,
        "ResponseTooLarge",
        "the answer would exceed the server's largest response (data: the limit in bytes): ask for a smaller page",
    ),
    (INTERNAL_ERROR, "InternalError", "internal error: the cause is in the server's log"),
];

/// The wire code of an error.
fn code(e: &Error) -> i32 {
    match e {
        Error::InvalidParams(_) => INVALID_PARAMS,
        Error::NotAuthenticated => NOT_AUTHENTICATED,
        Error::Forbidden { .. } => FORBIDDEN,
        Error::NotFound { .. } | Error::GroupOrdered { .. } => NOT_FOUND,
        Error::Conflict(_) => CONFLICT,
        Error::Locked { .. } => LOCKED,
        Error::RateLimited { .. } | Error::Busy { .. } | Error::TenantLimit { .. } => LIMIT_EXCEEDED,
        Error::TimedOut => TIMED_OUT,
        Error::Internal(_) => INTERNAL_ERROR,
    }
}

/// The wire name of a conflict's reason, `data.reason`.
fn reason(c: &Conflict) -> &'static str {
    match c {
        Conflict::Duplicate { .. } | Conflict::NumberTaken { .. } => "duplicate",
        Conflict::StaleVersion { .. } => "staleVersion",
        Conflict::MissingReference { .. } => "missingReference",
        Conflict::TicketHeld { .. } | Conflict::GuestsHeld { .. } | Conflict::FunctionTicketsHeld { .. } => {
            "referenced"
        }
        Conflict::SoldOut { .. } | Conflict::AllocationBelowSold { .. } => "soldOut",
        Conflict::MaxPerAttendee { .. } => "maxPerAttendee",
        Conflict::TestFailed { .. } => "testFailed",
        Conflict::OrderClosed { .. } => "orderClosed",
        Conflict::NotActive { .. } => "notActive",
        Conflict::NotRetryable { .. } => "notRetryable",
    }
}

/// A conflict's `data`: its reason and what the client needs to act on it.
fn conflict_data(c: &Conflict) -> Value {
    let mut data = match c {
        Conflict::Duplicate { resource, id } => json!({ "resource": resource, "id": id }),
        Conflict::NumberTaken { number, .. } => {
            json!({ "resource": "registration", "field": "number", "number": number })
        }
        Conflict::StaleVersion { expected, current } => json!({ "expected": expected, "actual": current }),
        Conflict::MissingReference { resource, id, field } => json!({ "resource": resource, "id": id, "field": field }),
        Conflict::TicketHeld { product_id, sold } => json!({ "resource": "ticket", "id": product_id, "sold": sold }),
        Conflict::GuestsHeld { registration_id, guests } => json!({
            "resource": "registration", "id": registration_id, "referencedBy": "registration", "count": guests
        }),
        Conflict::FunctionTicketsHeld { registration_id, count, .. } => json!({
            "resource": "registration", "id": registration_id, "referencedBy": "functionTicket", "count": count
        }),
        Conflict::SoldOut { product_id, allocation, sold } => {
            json!({ "productId": product_id, "allocation": allocation, "sold": sold })
        }
        Conflict::AllocationBelowSold { allocation, sold } => json!({ "sold": sold, "allocation": allocation }),
        Conflict::MaxPerAttendee { product_id, contact_id, max, .. } => {
            json!({ "productId": product_id, "contactId": contact_id, "maxPerAttendee": max })
        }
        Conflict::TestFailed { operation, path } => json!({ "operation": operation, "path": path }),
        Conflict::OrderClosed { order_id, status, .. } => {
            json!({ "resource": "order", "id": order_id, "status": status })
        }
        Conflict::NotActive { registration_id, status, .. } => {
            json!({ "resource": "registration", "id": registration_id, "status": status })
        }
        Conflict::NotRetryable { id, status } => json!({ "resource": "mail", "id": id, "status": status }),
    };
    data["reason"] = Value::from(reason(c));
    data
}

impl From<Error> for ErrorObjectOwned {
    fn from(e: Error) -> Self {
        let code = code(&e);
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
            Error::NotFound { resource, ref id } | Error::Locked { resource, ref id } => {
                ErrorObject::owned(code, e.to_string(), Some(json!({ "resource": resource, "id": id })))
            }
            Error::GroupOrdered { ref group, active, ref order_ids } => ErrorObject::owned(
                code,
                e.to_string(),
                Some(json!({ "resource": "group", "id": group, "activeRegistrations": active, "orderIds": order_ids })),
            ),
            Error::Conflict(ref conflict) => ErrorObject::owned(code, e.to_string(), Some(conflict_data(conflict))),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conflict_names_its_reason_and_keeps_the_wire_names() {
        let e = ErrorObjectOwned::from(Error::from(Conflict::MaxPerAttendee {
            product_id: "vip".into(),
            contact_id: "c1".into(),
            holding: 2,
            max: 2,
        }));
        assert_eq!(e.code(), CONFLICT);
        assert_eq!(e.message(), "contact c1 already holds 2 of ticket vip (at most 2)");
        let data: Value = serde_json::from_str(e.data().unwrap().get()).unwrap();
        assert_eq!(
            data,
            json!({"productId": "vip", "contactId": "c1", "maxPerAttendee": 2, "reason": "maxPerAttendee"})
        );
        let stale = ErrorObjectOwned::from(Error::from(Conflict::StaleVersion { expected: 1, current: 3 }));
        let data: Value = serde_json::from_str(stale.data().unwrap().get()).unwrap();
        assert_eq!(data, json!({"expected": 1, "actual": 3, "reason": "staleVersion"}));
    }
}
