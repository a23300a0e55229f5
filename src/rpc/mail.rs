//! `mail.*` and the registration methods that queue e-mail: `registration.resendConfirmationEmail`,
//! `registration.previewEmail`, and the confirmation `registration.transfer` queues on request ([`composer`]).
//! Each message is written to the outbox in the transaction that asks for it; the sender delivers it
//! ([`crate::mail`]).

use jsonrpsee::RpcModule;
use serde_json::{Value, json};

use super::records::{id_param, required_id};
use super::{Ctx, cursor, params};
use crate::auth::NetworkScope;
use crate::domain::input::{self, Input};
use crate::domain::mail::MailStatus;
use crate::domain::registration::{Registration, RegistrationId, StoredRegistration};
use crate::domain::template::{self, MAX_BODY, MAX_SUBJECT, Template, TemplateKind, Text};
use crate::domain::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::error::{Error, Result};
use crate::mail::Composer;
use crate::store::{MessageFilter, Window};

type Registered = std::result::Result<(), jsonrpsee::core::RegisterMethodError>;

/// The subject prefix of a preview.
pub const PREVIEW_PREFIX: &str = "[Preview] ";

/// Registers the mail methods.
pub fn register(module: &mut RpcModule<Ctx>) -> Registered {
    module.register_async_method("registration.resendConfirmationEmail", |p, ctx, ext| async move {
        let scope = params::network(&ext)?;
        let id = id_param::<Registration>(&params::json(&p)?)?;
        let (registration, composer) = composer(&ctx, &scope, &id, None, None).await?;
        let message = composer.compose(&registration)?;
        let stored = ctx.store.queue_message(&scope, message, ctx.mail.held()).await?;
        ctx.mail.queued();
        Ok::<_, Error>(json!({ "message": stored.to_json() }))
    })?;
    module.register_async_method("registration.previewEmail", |p, ctx, ext| async move {
        let scope = params::network(&ext)?;
        let value = params::json(&p)?;
        let mut input = params::object(&value)?;
        let id = required_id::<Registration>(&mut input, "registrationId");
        let to = input.required("destinationEmailAddress", |v| {
            crate::domain::record::email(v.as_str().ok_or("must be a string")?)
        });
        input.optional("type", |v| match v.as_str() {
            Some("confirmationEmail") => Ok(TemplateKind::ConfirmationEmail),
            _ => Err("must be confirmationEmail, the one kind of e-mail template".to_owned()),
        });
        let given = input.optional("emailTemplate", |v| email_template(v).map_err(|e| e.to_string()));
        for ignored in ["reviewId", "abstractId"] {
            input.optional(ignored, |v| v.as_str().map(str::to_owned).ok_or_else(|| "must be a string".to_owned()));
        }
        let mut problems = Vec::new();
        if let Some(Err(checked)) = &given {
            problems.extend(checked.iter().cloned());
        }
        params::finish(input, problems)?;
        let (Some(id), Some(to)) = (id, to) else {
            return Err(Error::invalid("params", "registrationId and destinationEmailAddress are required"));
        };
        let given = given.and_then(|g| g.ok());
        let (registration, composer) = composer(&ctx, &scope, &id, given, Some(to)).await?;
        let message = composer.compose(&registration)?;
        let stored = ctx.store.queue_message(&scope, message, ctx.mail.held()).await?;
        ctx.mail.queued();
        Ok::<_, Error>(json!({ "message": stored.to_json() }))
    })?;
    module.register_async_method("mail.list", |p, ctx, ext| async move {
        let scope = params::network(&ext)?;
        let value = params::json(&p)?;
        let mut input = params::object(&value)?;
        let statuses = any_of(&mut input, "status", MailStatus::parse);
        let registration_ids = any_of(&mut input, "registrationId", crate::domain::record::reference);
        let limit = input.optional_int("limit", 1, MAX_LIMIT).map_or(DEFAULT_LIMIT, |n| n as usize);
        let cursor = input.optional("cursor", |v| input::text(v, 1024, false));
        params::finish(input, Vec::new())?;
        let filter = MessageFilter { statuses, registration_ids };
        let window = Window { limit: Some(limit), after: cursor::record_position(cursor.as_deref())? };
        let found = ctx.store.list_messages(&scope, filter, window).await?;
        let items: Vec<Value> = found.items.iter().map(|(_, m)| Value::Object(m.to_json())).collect();
        Ok::<_, Error>(json!({
            "count": found.count,
            "items": items,
            "nextCursor": found.next.map(cursor::record),
        }))
    })?;
    module.register_async_method("mail.get", |p, ctx, ext| async move {
        let scope = params::network(&ext)?;
        let id = id_param(&params::json(&p)?)?;
        let stored = ctx.store.message(&scope, &id).await?;
        Ok::<_, Error>(json!({ "message": stored.to_json() }))
    })?;
    module.register_async_method("mail.retry", |p, ctx, ext| async move {
        let scope = params::network(&ext)?;
        let id = id_param(&params::json(&p)?)?;
        let stored = ctx.store.retry_message(&scope, &id, ctx.mail.held()).await?;
        ctx.mail.queued();
        Ok::<_, Error>(json!({ "message": stored.to_json() }))
    })?;
    Ok(())
}

/// A filter member that is one value or a list of them (any of); empty when absent.
fn any_of<T>(input: &mut Input<'_>, name: &'static str, item: impl Fn(&str) -> Result<T, String>) -> Vec<T> {
    match input.raw(name) {
        None => Vec::new(),
        Some(Value::String(one)) => match item(one) {
            Ok(t) => vec![t],
            Err(message) => {
                input.fail(name, message);
                Vec::new()
            }
        },
        Some(_) => input.strings(name, false, item).unwrap_or_default(),
    }
}

/// `emailTemplate: {subject, body}`, each checked as `template.put` checks it; every problem, named under
/// `emailTemplate`.
/// A template given with a call: checked, or the problems found.
type Given = std::result::Result<Template, Vec<crate::error::FieldError>>;

fn email_template(value: &Value) -> std::result::Result<Given, String> {
    let Some(object) = value.as_object() else { return Err("must be an object {subject, body}".into()) };
    let mut problems = Vec::new();
    let mut text = |name: &str, max: usize, kind: Text| -> Option<String> {
        let field = format!("emailTemplate.{name}");
        let Some(v) = object.get(name) else {
            problems.push(crate::error::FieldError::new(field, "is required"));
            return None;
        };
        match input::text(v, max, false).and_then(|t| {
            if kind == Text::Plain && t.contains(['\r', '\n']) { Err("must be one line".into()) } else { Ok(t) }
        }) {
            Err(message) => {
                problems.push(crate::error::FieldError::new(field, message));
                None
            }
            Ok(t) => match template::check(&t, kind) {
                Ok(()) => Some(t),
                Err(e) => {
                    problems.push(e.at(&field));
                    None
                }
            },
        }
    };
    let subject = text("subject", MAX_SUBJECT, Text::Plain);
    let body = text("body", MAX_BODY, Text::Html);
    if let Some(unknown) = object.keys().find(|k| *k != "subject" && *k != "body") {
        problems.push(crate::error::FieldError::new(format!("emailTemplate.{unknown}"), "is not a member"));
    }
    match (subject, body) {
        (Some(subject), Some(body)) if problems.is_empty() => {
            Ok(Ok(Template { kind: TemplateKind::ConfirmationEmail, subject: Some(subject), body }))
        }
        _ => Ok(Err(problems)),
    }
}

/// The registration `id` (read once, with its order) and the composer of its confirmation: `given` or else the
/// network's template (or the built-in one), with the ticket the registration holds and its order, to `to` or else
/// the registration's address.
pub async fn composer(
    ctx: &Ctx,
    scope: &NetworkScope,
    id: &RegistrationId,
    given: Option<Template>,
    to: Option<String>,
) -> Result<(StoredRegistration, Composer)> {
    let (registration, order) = ctx.store.registration_order(scope, id).await?;
    let preview = given.is_some() || to.is_some();
    let template = match given {
        Some(given) => given,
        None => match ctx.store.template(scope, TemplateKind::ConfirmationEmail).await? {
            Some(stored) => stored.template,
            None => Template::default_for(TemplateKind::ConfirmationEmail),
        },
    };
    let ticket = match &registration.registration.product_id {
        None => None,
        Some(product) => match ctx.store.ticket(scope, product).await {
            Ok(ticket) => Some(ticket),
            Err(Error::NotFound { .. }) => None,
            Err(e) => return Err(e),
        },
    };
    let composer = Composer {
        network: scope.network().clone(),
        subject: template.subject.unwrap_or_else(|| template::DEFAULT_CONFIRMATION_SUBJECT.to_owned()),
        body: template.body,
        ticket,
        order,
        to,
        prefix: if preview { PREVIEW_PREFIX } else { "" },
    };
    Ok((registration, composer))
}
