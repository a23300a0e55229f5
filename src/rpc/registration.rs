//! `registration.*`: registrations, their look-ups, search, transfers and scheduling conflicts (create, get,
//! update, patch, delete and batch come from [`records`](super::records)).

use jsonrpsee::RpcModule;
use serde_json::{Value, json};

use super::records::{self, Lookup, Names, required_id};
use super::{Ctx, params};
use crate::domain::ids::ContactId;
use crate::domain::registration::{self, RegistrationKey, RegistrationQuery};
use crate::error::Error;
use crate::store::RegistrationKind;

/// Registrations as a record resource.
pub struct Registrations;

crate::records!(Registrations, "registration", RegistrationKind, registration::field_names);

/// The look-ups: method, and the members that must all match.
const LOOKUPS: &[Lookup<RegistrationKey>] = &[
    ("registration.listByContact", &[("contactId", RegistrationKey::ContactId)]),
    (
        "registration.listByEventContact",
        &[("eventId", RegistrationKey::EventId), ("contactId", RegistrationKey::ContactId)],
    ),
    ("registration.listByParent", &[("parentRegistrationId", RegistrationKey::ParentRegistrationId)]),
    ("registration.listByOrder", &[("orderId", RegistrationKey::OrderId)]),
    ("registration.listByGroup", &[("groupId", RegistrationKey::GroupId)]),
    (
        "registration.listByEventOrganization",
        &[("eventId", RegistrationKey::EventId), ("organizationId", RegistrationKey::OrganizationId)],
    ),
];

type Registered = std::result::Result<(), jsonrpsee::core::RegisterMethodError>;

/// Registers the registration methods.
pub fn register(module: &mut RpcModule<Ctx>) -> Registered {
    records::register::<Registrations>(
        module,
        &Names {
            create: "registration.create",
            get: "registration.get",
            update: "registration.update",
            patch: "registration.patch",
            delete: "registration.delete",
            batch: "registration.batch",
        },
    )?;
    records::register_lookups::<Registrations>(module, LOOKUPS)?;
    module.register_async_method("registration.search", |p, ctx, ext| async move {
        let scope = params::network(&ext)?;
        let value = params::json(&p)?;
        let mut input = params::object(&value)?;
        let query = RegistrationQuery::from_json(&mut input);
        params::finish(input, Vec::new())?;
        let page = query.page.clone();
        let found = ctx.store.search_registrations(&scope, query, records::window(&page)?).await?;
        records::listing::<Registrations>(found, &page)
    })?;
    module.register_async_method("registration.transfer", |p, ctx, ext| async move {
        let scope = params::network(&ext)?;
        let value = params::json(&p)?;
        let mut input = params::object(&value)?;
        let id = required_id(&mut input, "id");
        let contact = input.required("contactId", |v| ContactId::parse(v.as_str().ok_or("must be a string")?));
        let send = input.optional_bool("sendConfirmationEmail").unwrap_or(false);
        params::finish(input, Vec::new())?;
        let (Some(id), Some(contact)) = (id, contact) else {
            return Err(Error::invalid("params", "id and contactId are required"));
        };
        // The confirmation is composed for the registration as the transfer leaves it, in the transfer's
        // transaction; the template and the ticket are read before.
        let confirmation = match send {
            false => None,
            true => {
                let (_, composer) = super::mail::composer(&ctx, &scope, &id, None, None).await?;
                let composer = std::sync::Arc::new(composer);
                Some(crate::store::Confirmation {
                    compose: std::sync::Arc::new(move |moved| composer.compose(moved)),
                    held: ctx.mail.held(),
                })
            }
        };
        let moved = ctx.store.transfer_registration(&scope, &id, contact, confirmation).await?;
        if send {
            ctx.mail.queued();
        }
        Ok::<_, Error>(json!({ "registration": moved.to_json() }))
    })?;
    module.register_async_method("registration.detectSchedulingConflicts", |p, _ctx, ext| async move {
        params::network(&ext)?;
        let value = params::json(&p)?;
        let mut input = params::object(&value)?;
        let record = input.raw("registration");
        if record.is_none_or(|r| !r.is_object()) {
            input.fail("registration", "is required and must be an object");
        }
        params::finish(input, Vec::new())?;
        let slots = registration::slots(record.unwrap_or(&Value::Null)).map_err(Error::InvalidParams)?;
        let conflicts: Vec<Value> = registration::conflicts(&slots, registration::MAX_CONFLICTS)
            .map_err(|e| Error::InvalidParams(vec![e]))?
            .into_iter()
            .map(|(a, b)| json!({ "first": slots[a], "second": slots[b] }))
            .collect();
        Ok::<_, Error>(json!({ "conflicts": conflicts }))
    })?;
    Ok(())
}
