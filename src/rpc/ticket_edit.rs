//! The ticket changes made through [`crate::store::Tickets::edit_tickets`], in one transaction each:
//! `ticket.patchPurchasableTicket` (JSON Patch, so that a dashboard changes one member without resending the ticket)
//! and the commands, `ticket.listCommands` and `ticket.runCommand`.

use std::sync::Arc;

use jsonrpsee::RpcModule;
use serde_json::{Value, json};

use super::{Ctx, params};
use crate::domain::command::{COMMANDS, Run, TicketWrite};
use crate::domain::ids::ProductId;
use crate::domain::input::MAX_SAFE_INTEGER;
use crate::domain::patch;
use crate::domain::sys::check_version;
use crate::domain::ticket::{StoredTicket, Ticket};
use crate::error::{Error, Result};
use crate::store::TicketEdit;

/// Members of a ticket a patch may not change: its key, and what the server keeps.
const PROTECTED: &[&str] =
    &["productId", "sold", "sysVersion", "sysCreatedAt", "sysLastModifiedAt", "sysCreatedById", "sysLastModifiedById"];

/// Registers the patch and the commands.
pub fn register(module: &mut RpcModule<Ctx>) -> std::result::Result<(), jsonrpsee::core::RegisterMethodError> {
    module.register_async_method("ticket.patchPurchasableTicket", |p, ctx, ext| async move {
        let scope = params::network(&ext)?;
        let (id, edit) = patch_param(&params::json(&p)?)?;
        let written = ctx.store.edit_tickets(&scope, vec![id], edit).await?;
        let ticket = written.first().ok_or_else(|| Error::Internal("a patch wrote no ticket".into()))?;
        super::ticket::one(ticket.shown())
    })?;
    module.register_method("ticket.listCommands", |p, _, ext| {
        params::network(ext)?;
        params::finish(params::object(&params::json(&p)?)?, Vec::new())?;
        Ok::<_, Error>(json!({ "commands": COMMANDS }))
    })?;
    module.register_async_method("ticket.runCommand", |p, ctx, ext| async move {
        let scope = params::network(&ext)?;
        let value = params::json(&p)?;
        let mut input = params::object(&value)?;
        let run = Run::read(&mut input);
        params::finish(input, run.as_ref().err().cloned().unwrap_or_default())?;
        let Run { command, product_ids } = run.map_err(Error::InvalidParams)?;
        let edit: TicketEdit = {
            let command = command.clone();
            Arc::new(move |tickets: &[StoredTicket]| command.apply(tickets))
        };
        let written = ctx.store.edit_tickets(&scope, product_ids, edit).await?;
        let tickets: Vec<_> = written.iter().map(StoredTicket::to_json).collect();
        Ok::<_, Error>(json!({ "wasSuccessful": true, "message": command.done(written.len()), "tickets": tickets }))
    })?;
    Ok(())
}

/// Reads `{productId, patch, sysVersion?}`: the ticket, and the edit that patches it (the version checked, the
/// patched ticket validated whole, as a replacement is).
fn patch_param(value: &Value) -> Result<(ProductId, TicketEdit)> {
    let mut input = params::object(value)?;
    let id = input.required("productId", |v| ProductId::parse(v.as_str().ok_or("must be a string")?));
    let operations = input.required("patch", patch::parse);
    let version = input.optional_int("sysVersion", 1, MAX_SAFE_INTEGER);
    params::finish(input, Vec::new())?;
    let (Some(id), Some(operations)) = (id, operations) else {
        return Err(Error::invalid("patch", "is required"));
    };
    let edit: TicketEdit = Arc::new(move |tickets: &[StoredTicket]| {
        tickets
            .iter()
            .map(|current| {
                check_version(version, current.sys.version)?;
                let patched = patch::apply(&Value::Object(current.to_json()), &operations, PROTECTED)?;
                let ticket = Ticket::from_json("ticket", &patched).map_err(Error::InvalidParams)?.ticket;
                Ok(TicketWrite::Replace(ticket))
            })
            .collect()
    });
    Ok((id, edit))
}
