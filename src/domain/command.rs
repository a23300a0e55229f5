//! Commands on tickets (the event-product commands of the source documents): named actions run on one ticket or on
//! many at once. Each is a pure rule from the tickets as they are to what is written; the store runs it inside one
//! transaction, so every ticket named changes or none does, and the replacement rule of a ticket
//! ([`StoredTicket::replaced`]: never an allocation below what is sold) holds for each.

use serde_json::{Map, Value};

use super::MAX_LIST_VALUES;
use super::ids::ProductId;
use super::input::{self, Input};
use super::ticket::{MAX_SHORT, StoredTicket, Ticket};
use crate::error::{Error, FieldError};

/// How many tickets a command takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum AppliesTo {
    /// Exactly one ticket.
    One,
    /// One or more tickets.
    Many,
}

/// The type of a command's parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ParameterType {
    Integer,
    String,
}

/// One parameter of a command.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Parameter {
    pub name: &'static str,
    #[serde(rename = "type")]
    pub kind: ParameterType,
    pub required: bool,
}

/// A command as `ticket.listCommands` describes it.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommandInfo {
    pub key: &'static str,
    pub name: &'static str,
    pub applies_to: AppliesTo,
    /// Where a dashboard lists it, ascending.
    pub order: u32,
    pub parameters: &'static [Parameter],
}

const fn parameter(name: &'static str, kind: ParameterType, required: bool) -> Parameter {
    Parameter { name, kind, required }
}

/// Every command, in the order a dashboard lists them.
pub const COMMANDS: &[CommandInfo] = &[
    CommandInfo { key: "hide", name: "Hide from sale", applies_to: AppliesTo::Many, order: 1, parameters: &[] },
    CommandInfo { key: "show", name: "Show for sale", applies_to: AppliesTo::Many, order: 2, parameters: &[] },
    CommandInfo {
        key: "closeSales",
        name: "Close sales (allocation set to what is sold)",
        applies_to: AppliesTo::Many,
        order: 3,
        parameters: &[],
    },
    CommandInfo {
        key: "setAllocation",
        name: "Set the allocation",
        applies_to: AppliesTo::Many,
        order: 4,
        parameters: &[parameter("allocation", ParameterType::Integer, true)],
    },
    CommandInfo {
        key: "shiftDates",
        name: "Move the event dates by a number of days",
        applies_to: AppliesTo::Many,
        order: 5,
        parameters: &[parameter("days", ParameterType::Integer, true)],
    },
    CommandInfo {
        key: "reorder",
        name: "Order as listed (displayOrder 1, 2, 3...)",
        applies_to: AppliesTo::Many,
        order: 6,
        parameters: &[],
    },
    CommandInfo {
        key: "duplicate",
        name: "Duplicate as a new ticket",
        applies_to: AppliesTo::One,
        order: 7,
        parameters: &[
            parameter("newProductId", ParameterType::String, true),
            parameter("ticketName", ParameterType::String, false),
        ],
    },
];

/// The most days `shiftDates` moves a ticket by, either way (ten years).
pub const MAX_SHIFT_DAYS: i64 = 3653;

/// A command read from `ticket.runCommand`'s params.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Hide,
    Show,
    CloseSales,
    SetAllocation { allocation: i64 },
    ShiftDates { days: i64 },
    Reorder,
    Duplicate { new_product_id: ProductId, ticket_name: Option<String> },
}

/// What a command writes for one ticket.
#[derive(Debug, Clone, PartialEq)]
pub enum TicketWrite {
    /// The ticket replaced by this one (same productId), by the replacement rule.
    Replace(Ticket),
    /// A new ticket, by the create rule (its productId not taken, the network's `maxTickets`).
    Create(Ticket),
}

/// `ticket.runCommand`'s params, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub command: Command,
    /// The tickets it runs on, in the order sent (`reorder` numbers them so).
    pub product_ids: Vec<ProductId>,
}

impl Run {
    /// Reads `{key, productIds, parameters?}` from a params reader; every problem is named.
    pub fn read(input: &mut Input<'_>) -> Result<Run, Vec<FieldError>> {
        let mut errors = Vec::new();
        let info = input.required("key", |v| {
            let key = v.as_str().ok_or("must be a string")?;
            COMMANDS.iter().find(|c| c.key == key).ok_or_else(|| {
                let keys: Vec<&str> = COMMANDS.iter().map(|c| c.key).collect();
                format!("is not a command; one of {}", keys.join(", "))
            })
        });
        let product_ids = input.required("productIds", |v| {
            let ids = input::string_list(v, ProductId::parse)?;
            if ids.is_empty() {
                return Err("must name at least one ticket".to_owned());
            }
            if ids.len() > MAX_LIST_VALUES {
                return Err(input::too_many_values());
            }
            let mut seen = std::collections::HashSet::new();
            match ids.iter().find(|id| !seen.insert(id.as_str())) {
                Some(twice) => Err(format!("names {twice} twice")),
                None => Ok(ids),
            }
        });
        let parameters = input.optional("parameters", |v| v.as_object().cloned().ok_or("must be an object".to_owned()));
        let (Some(info), Some(product_ids)) = (info, product_ids) else {
            return Err(errors);
        };
        if info.applies_to == AppliesTo::One && product_ids.len() != 1 {
            errors.push(FieldError::new("productIds", format!("must name exactly one ticket for {}", info.key)));
        }
        match Command::read(info, &parameters.unwrap_or_default()) {
            Ok(command) if errors.is_empty() => Ok(Run { command, product_ids }),
            Ok(_) => Err(errors),
            Err(more) => {
                errors.extend(more);
                Err(errors)
            }
        }
    }
}

impl Command {
    /// Reads a command's parameters by its description: required ones present, each of its type and range, no
    /// others.
    fn read(info: &CommandInfo, parameters: &Map<String, Value>) -> Result<Command, Vec<FieldError>> {
        let params = Value::Object(parameters.clone());
        let mut input = Input::new("parameters", &params).map_err(|e| vec![e])?;
        let command = match info.key {
            "hide" => Some(Command::Hide),
            "show" => Some(Command::Show),
            "closeSales" => Some(Command::CloseSales),
            "reorder" => Some(Command::Reorder),
            "setAllocation" => input
                .required("allocation", |v| input::int_in(v, 0, i64::from(u32::MAX)))
                .map(|allocation| Command::SetAllocation { allocation }),
            "shiftDates" => input
                .required("days", |v| input::int_in(v, -MAX_SHIFT_DAYS, MAX_SHIFT_DAYS))
                .map(|days| Command::ShiftDates { days }),
            "duplicate" => {
                let id = input.required("newProductId", |v| ProductId::parse(v.as_str().ok_or("must be a string")?));
                let name = input.optional("ticketName", |v| input::text(v, MAX_SHORT, false));
                id.map(|new_product_id| Command::Duplicate { new_product_id, ticket_name: name })
            }
            other => unreachable!("command {other} is described but not read"),
        };
        input.finish()?;
        command.ok_or_else(|| vec![FieldError::new("parameters", "are incomplete")])
    }

    /// What the command writes, given the tickets it names as they are now (in the order named).
    pub fn apply(&self, tickets: &[StoredTicket]) -> Result<Vec<TicketWrite>, Error> {
        let replace = |change: &dyn Fn(&mut Ticket, usize, &StoredTicket) -> Result<(), Error>| {
            tickets
                .iter()
                .enumerate()
                .map(|(position, stored)| {
                    let mut ticket = stored.ticket.clone();
                    change(&mut ticket, position, stored)?;
                    Ok(TicketWrite::Replace(ticket))
                })
                .collect()
        };
        match self {
            Command::Hide => replace(&|t, _, _| {
                t.visible = false;
                Ok(())
            }),
            Command::Show => replace(&|t, _, _| {
                t.visible = true;
                Ok(())
            }),
            Command::CloseSales => replace(&|t, _, stored| {
                t.allocation = Some(stored.sold);
                Ok(())
            }),
            Command::SetAllocation { allocation } => replace(&|t, _, _| {
                t.allocation = Some(*allocation);
                Ok(())
            }),
            Command::ShiftDates { days } => replace(&|t, _, _| {
                let by = chrono::Duration::days(*days);
                match (t.event_start_date.checked_add_signed(by), t.event_end_date.checked_add_signed(by)) {
                    (Some(start), Some(end)) if start.year_in_range() && end.year_in_range() => {
                        (t.event_start_date, t.event_end_date) = (start, end);
                        Ok(())
                    }
                    _ => Err(Error::invalid(
                        "parameters.days",
                        format!("moves {} out of the years 1 to 9999", t.product_id),
                    )),
                }
            }),
            Command::Reorder => replace(&|t, position, _| {
                t.display_order = position as i64 + 1;
                Ok(())
            }),
            Command::Duplicate { new_product_id, ticket_name } => Ok(tickets
                .iter()
                .map(|stored| {
                    let mut ticket = stored.ticket.clone();
                    ticket.product_id = new_product_id.clone();
                    if let Some(name) = ticket_name {
                        ticket.ticket_name = name.clone();
                    }
                    TicketWrite::Create(ticket)
                })
                .collect()),
        }
    }

    /// What an answer says the command did to `count` tickets.
    pub fn done(&self, count: usize) -> String {
        let tickets = if count == 1 { "1 ticket".to_owned() } else { format!("{count} tickets") };
        match self {
            Command::Hide => format!("{tickets} hidden"),
            Command::Show => format!("{tickets} shown"),
            Command::CloseSales => format!("sales closed on {tickets}"),
            Command::SetAllocation { allocation } => format!("allocation set to {allocation} on {tickets}"),
            Command::ShiftDates { days } => format!("{tickets} moved by {days} days"),
            Command::Reorder => format!("{tickets} ordered as listed"),
            Command::Duplicate { new_product_id, .. } => format!("duplicated as {new_product_id}"),
        }
    }
}

/// Years a timestamp can be written in (RFC 3339 holds four digits).
trait YearInRange {
    fn year_in_range(&self) -> bool;
}

impl YearInRange for super::time::Timestamp {
    fn year_in_range(&self) -> bool {
        (1..=9999).contains(&chrono::Datelike::year(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures;
    use crate::domain::ids::ActorId;
    use crate::domain::sys::Sys;
    use serde_json::json;

    fn stored(product_id: &str) -> StoredTicket {
        let actor = ActorId::new("tester");
        StoredTicket { ticket: fixtures::ticket(product_id, json!({})), sold: 0, sys: Sys::new(&actor) }
    }

    fn run(params: Value) -> Result<Run, Vec<FieldError>> {
        let mut input = Input::new("", &params).expect("an object");
        let run = Run::read(&mut input);
        match input.finish() {
            Ok(()) => run,
            Err(more) => Err(run.err().unwrap_or_default().into_iter().chain(more).collect()),
        }
    }

    fn fields(result: Result<Run, Vec<FieldError>>) -> Vec<String> {
        result.expect_err("refused").into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn reads_each_command_and_names_each_bad_parameter() {
        let ok = run(json!({"key": "setAllocation", "productIds": ["a", "b"], "parameters": {"allocation": 5}}));
        assert_eq!(ok.expect("read").command, Command::SetAllocation { allocation: 5 });
        assert_eq!(fields(run(json!({"key": "setAllocation", "productIds": ["a"]}))), ["parameters.allocation"]);
        let negative = run(json!({"key": "setAllocation", "productIds": ["a"], "parameters": {"allocation": -1}}));
        assert_eq!(fields(negative), ["parameters.allocation"]);
        let stranger = run(json!({"key": "hide", "productIds": ["a"], "parameters": {"colour": "red"}}));
        assert_eq!(fields(stranger), ["parameters.colour"]);
        assert_eq!(fields(run(json!({"key": "explode", "productIds": ["a"]}))), ["key"]);
        assert_eq!(fields(run(json!({"key": "hide", "productIds": []}))), ["productIds"]);
        assert_eq!(fields(run(json!({"key": "hide", "productIds": ["a", "a"]}))), ["productIds"]);
        let two = json!({"key": "duplicate", "productIds": ["a", "b"], "parameters": {"newProductId": "c"}});
        assert_eq!(fields(run(two)), ["productIds"]);
        let days = run(json!({"key": "shiftDates", "productIds": ["a"], "parameters": {"days": 1.5}}));
        assert_eq!(fields(days), ["parameters.days"]);
        let unknown_member = run(json!({"key": "hide", "productIds": ["a"], "force": true}));
        assert_eq!(fields(unknown_member), ["force"]);
    }

    #[test]
    fn every_described_command_is_read_and_applied() {
        let stored = stored("a");
        for info in COMMANDS {
            let parameters: Map<String, Value> = info
                .parameters
                .iter()
                .map(|p| (p.name.to_owned(), if p.kind == ParameterType::Integer { json!(1) } else { json!("x-1") }))
                .collect();
            let read = run(json!({"key": info.key, "productIds": ["a"], "parameters": parameters}));
            let command = read.unwrap_or_else(|e| panic!("{}: {e:?}", info.key)).command;
            assert_eq!(command.apply(std::slice::from_ref(&stored)).expect("applied").len(), 1, "{}", info.key);
        }
    }

    #[test]
    fn each_rule_writes_what_it_names() {
        let mut sold = stored("a");
        sold.sold = 3;
        let other = stored("b");
        let both = [sold.clone(), other.clone()];
        let replaced = |command: Command| -> Vec<Ticket> {
            command
                .apply(&both)
                .expect("applied")
                .into_iter()
                .map(|w| match w {
                    TicketWrite::Replace(t) => t,
                    TicketWrite::Create(t) => panic!("a create of {}", t.product_id),
                })
                .collect()
        };
        assert!(replaced(Command::Hide).iter().all(|t| !t.visible));
        assert!(replaced(Command::Show).iter().all(|t| t.visible));
        let closed = replaced(Command::CloseSales);
        assert_eq!((closed[0].allocation, closed[1].allocation), (Some(3), Some(0)));
        let ordered = replaced(Command::Reorder);
        assert_eq!((ordered[0].display_order, ordered[1].display_order), (1, 2));
        let moved = replaced(Command::ShiftDates { days: -2 });
        assert_eq!(moved[0].event_start_date, sold.ticket.event_start_date - chrono::Duration::days(2));
        assert_eq!(moved[0].event_end_date, sold.ticket.event_end_date - chrono::Duration::days(2));
        let far = Command::ShiftDates { days: MAX_SHIFT_DAYS }.apply(&[StoredTicket {
            ticket: Ticket {
                event_end_date: chrono::DateTime::parse_from_rfc3339("9998-06-01T00:00:00Z").expect("date").into(),
                ..other.ticket.clone()
            },
            ..other.clone()
        }]);
        assert!(matches!(far, Err(Error::InvalidParams(_))), "{far:?}");
        let copy = Command::Duplicate { new_product_id: ProductId::parse("c").expect("id"), ticket_name: None };
        match copy.apply(std::slice::from_ref(&sold)).expect("applied").as_slice() {
            [TicketWrite::Create(t)] => {
                assert_eq!(t.product_id.as_str(), "c");
                assert_eq!(Ticket { product_id: sold.ticket.product_id.clone(), ..t.clone() }, sold.ticket);
            }
            other => panic!("one create: {other:?}"),
        }
    }
}
