//! `functionTicket.*`: seats at an event's functions (create, get, update, patch, delete and batch come from
//! [`records`](super::records)), and their look-ups by function and by event and contact.

use jsonrpsee::RpcModule;
use rusqlite::Connection;
use serde_json::{Map, Value};

use super::Ctx;
use super::records::{self, Names, Parsed, Records};
use crate::domain::Page;
use crate::domain::function_ticket::{self, FunctionTicket};
use crate::domain::ids::NetworkId;
use crate::error::{FieldError, Result};
use crate::store::function_ticket::{self as stored, StoredFunctionTicket};
use crate::store::list::Found;

/// Function tickets as a record resource.
pub struct FunctionTickets;

impl Records for FunctionTickets {
    const MEMBER: &'static str = "functionTicket";
    type Record = FunctionTicket;
    type Stored = StoredFunctionTicket;

    fn parse(value: &Value) -> std::result::Result<Parsed<FunctionTicket>, Vec<FieldError>> {
        let parsed = FunctionTicket::from_json("functionTicket", value)?;
        Ok(Parsed { record: parsed.ticket, id: parsed.id, version: parsed.expected_version })
    }
    fn to_json(stored: &StoredFunctionTicket) -> Map<String, Value> {
        stored.to_json()
    }
    fn field_names() -> Vec<&'static str> {
        function_ticket::field_names()
    }
    fn create(
        conn: &Connection,
        network: &NetworkId,
        record: FunctionTicket,
        actor: &str,
    ) -> Result<StoredFunctionTicket> {
        stored::create(conn, network, record, actor)
    }
    fn get(conn: &Connection, network: &NetworkId, id: &str) -> Result<StoredFunctionTicket> {
        stored::get(conn, network, id)
    }
    fn replace(
        conn: &Connection,
        network: &NetworkId,
        id: &str,
        record: FunctionTicket,
        version: Option<i64>,
        actor: &str,
    ) -> Result<StoredFunctionTicket> {
        stored::replace(conn, network, id, record, version, actor)
    }
    fn delete(conn: &Connection, network: &NetworkId, id: &str) -> Result<()> {
        stored::delete(conn, network, id)
    }
    fn list_by(
        conn: &Connection,
        network: &NetworkId,
        equal: &[(&str, String)],
        page: &Page,
    ) -> Result<Found<StoredFunctionTicket>> {
        stored::list_by(conn, network, equal, page)
    }
}

/// The look-ups: method, and the members that must all match (member, column).
const LOOKUPS: &[(&str, &[(&str, &str)])] = &[
    ("functionTicket.listByFunction", &[("functionId", "function_id")]),
    ("functionTicket.listByEventContact", &[("eventId", "event_id"), ("contactId", "contact_id")]),
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
