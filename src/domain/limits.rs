//! Tenant limits: how many records of each kind a network may hold. They are checked inside the writer's
//! transaction, beside the insert they guard, so that no number of concurrent creates can pass one.

use serde_json::{Value, json};

/// Largest limit that can be set; far above any network, and within what JSON carries exactly.
pub const MAX_SETTABLE: i64 = 1_000_000_000;

/// A kind of record a network holds, each with its own limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    Tickets,
    Registrations,
    FunctionTickets,
}

impl Held {
    /// Every kind, in the order the API lists them.
    pub const ALL: [Held; 3] = [Held::Tickets, Held::Registrations, Held::FunctionTickets];

    /// The name of the limit on the wire (`-32029`'s `data.limit`).
    pub fn limit_name(self) -> &'static str {
        match self {
            Held::Tickets => "maxTickets",
            Held::Registrations => "maxRegistrations",
            Held::FunctionTickets => "maxFunctionTickets",
        }
    }
}

/// A network's limits; `None` is no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetworkLimits {
    pub max_tickets: Option<i64>,
    pub max_registrations: Option<i64>,
    pub max_function_tickets: Option<i64>,
}

impl NetworkLimits {
    /// The limit on one kind of record.
    pub fn of(&self, held: Held) -> Option<i64> {
        match held {
            Held::Tickets => self.max_tickets,
            Held::Registrations => self.max_registrations,
            Held::FunctionTickets => self.max_function_tickets,
        }
    }

    /// Sets (or, with `None`, removes) the limit on one kind of record.
    pub fn set(&mut self, held: Held, max: Option<i64>) {
        match held {
            Held::Tickets => self.max_tickets = max,
            Held::Registrations => self.max_registrations = max,
            Held::FunctionTickets => self.max_function_tickets = max,
        }
    }

    /// The limits as the API shows them.
    pub fn to_json(&self) -> Value {
        json!({
            "maxTickets": self.max_tickets,
            "maxRegistrations": self.max_registrations,
            "maxFunctionTickets": self.max_function_tickets,
        })
    }
}

/// How many records of each kind a network holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub tickets: i64,
    pub registrations: i64,
    pub function_tickets: i64,
}

impl Usage {
    /// The usage as the API shows it.
    pub fn to_json(&self) -> Value {
        json!({ "tickets": self.tickets, "registrations": self.registrations, "functionTickets": self.function_tickets })
    }
}

/// Whether one more record of `held` fits under `limits` when the network holds `count`: the error names the limit.
pub fn check_room(limits: &NetworkLimits, held: Held, count: i64) -> Result<(), crate::error::Error> {
    match limits.of(held) {
        Some(max) if count >= max => Err(crate::error::Error::TenantLimit { limit: held.limit_name(), value: max }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn room_is_refused_at_the_limit_and_names_it() {
        let limits = NetworkLimits { max_registrations: Some(2), ..NetworkLimits::default() };
        assert!(check_room(&limits, Held::Registrations, 1).is_ok());
        match check_room(&limits, Held::Registrations, 2) {
            Err(Error::TenantLimit { limit, value }) => assert_eq!((limit, value), ("maxRegistrations", 2)),
            other => panic!("{other:?}"),
        }
        assert!(check_room(&limits, Held::Tickets, 1_000_000).is_ok(), "no limit set");
        let none = NetworkLimits { max_tickets: Some(0), ..NetworkLimits::default() };
        assert!(check_room(&none, Held::Tickets, 0).is_err(), "a limit of 0 allows none");
    }

    #[test]
    fn each_kind_has_its_own_limit() {
        let mut limits = NetworkLimits::default();
        for (i, held) in Held::ALL.into_iter().enumerate() {
            limits.set(held, Some(i as i64));
        }
        assert_eq!(limits.to_json(), json!({"maxTickets": 0, "maxRegistrations": 1, "maxFunctionTickets": 2}));
        limits.set(Held::Registrations, None);
        assert_eq!(limits.of(Held::Registrations), None);
        assert_eq!(limits.of(Held::FunctionTickets), Some(2));
    }
}
