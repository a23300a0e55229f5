//! `functionTicket.*`: seats at an event's functions (create, get, update, patch, delete and batch come from
//! [`records`](super::records)), and their look-ups by function and by event and contact.

use jsonrpsee::RpcModule;

use super::Ctx;
use super::records::{self, Lookup, Names};
use crate::domain::function_ticket::{self, FunctionTicketKey};
use crate::store::FunctionTicketKind;

/// Function tickets as a record resource.
pub struct FunctionTickets;

crate::records!(FunctionTickets, "functionTicket", FunctionTicketKind, function_ticket::field_names);

/// The look-ups: method, and the members that must all match.
const LOOKUPS: &[Lookup<FunctionTicketKey>] = &[
    ("functionTicket.listByFunction", &[("functionId", FunctionTicketKey::FunctionId)]),
    (
        "functionTicket.listByEventContact",
        &[("eventId", FunctionTicketKey::EventId), ("contactId", FunctionTicketKey::ContactId)],
    ),
];

/// Registers the function-ticket methods.
pub fn register(module: &mut RpcModule<Ctx>) -> std::result::Result<(), jsonrpsee::core::RegisterMethodError> {
    records::register::<FunctionTickets>(
        module,
        &Names {
            create: "functionTicket.create",
            get: "functionTicket.get",
            update: "functionTicket.update",
            patch: "functionTicket.patch",
            delete: "functionTicket.delete",
            batch: "functionTicket.batch",
        },
    )?;
    records::register_lookups::<FunctionTickets>(module, LOOKUPS)
}
