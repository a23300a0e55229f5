//! `template.*` and the certificates: each network's own templates (`template.put`, `template.get`,
//! `template.delete`), a registration's certificate rendered from the network's template or the built-in one
//! (`registration.getCertificate`), and a template's text tried on a registration without storing it
//! (`registration.previewCertificate`), each with the registration's order when it has one. The rules are
//! [`crate::domain::template`]'s.

use jsonrpsee::RpcModule;
use serde_json::{Value, json};

use super::records::{id_param, required_id};
use super::{Ctx, params};
use crate::auth::NetworkScope;
use crate::domain::input;
use crate::domain::registration::{Registration, StoredRegistration};
use crate::domain::template::{self, MAX_BODY, Template, TemplateKind, Text, Variables};
use crate::error::{Error, Result};

type Registered = std::result::Result<(), jsonrpsee::core::RegisterMethodError>;

/// Registers the template methods and the certificate methods.
pub fn register(module: &mut RpcModule<Ctx>) -> Registered {
    module.register_async_method("template.put", |p, ctx, ext| async move {
        let scope = params::network(&ext)?;
        let value = params::json(&p)?;
        let mut input = params::object(&value)?;
        let template = Template::read(&mut input);
        params::finish(input, Vec::new())?;
        let template = template.ok_or_else(|| Error::invalid("params", "are incomplete"))?;
        let stored = ctx.store.put_template(&scope, template).await?;
        Ok::<_, Error>(json!({ "template": stored.to_json() }))
    })?;
    module.register_async_method("template.get", |p, ctx, ext| async move {
        let scope = params::network(&ext)?;
        let kind = kind_param(&params::json(&p)?)?;
        let shown = match ctx.store.template(&scope, kind).await? {
            Some(stored) => stored.to_json(),
            None => template::default_json(kind),
        };
        Ok::<_, Error>(json!({ "template": shown }))
    })?;
    module.register_async_method("template.delete", |p, ctx, ext| async move {
        let scope = params::network(&ext)?;
        let kind = kind_param(&params::json(&p)?)?;
        // Back to the default, whether or not the network kept one: the same answer, so a retry is safe.
        ctx.store.delete_template(&scope, kind).await?;
        Ok::<_, Error>(json!({}))
    })?;
    module.register_async_method("registration.getCertificate", |p, ctx, ext| async move {
        let scope = params::network(&ext)?;
        let id = id_param::<Registration>(&params::json(&p)?)?;
        let (registration, order) = ctx.store.registration_order(&scope, &id).await?;
        template::check_certifiable(&registration)?;
        let body = match ctx.store.template(&scope, TemplateKind::Certificate).await? {
            Some(stored) => stored.template.body,
            None => template::DEFAULT_CERTIFICATE.to_owned(),
        };
        let variables = variables(&ctx, &scope, &registration).await?.with_order(order.as_ref());
        // The stored template passed its check; what can still fail is this registration's data in it.
        let html =
            template::certificate(&body, &variables).map_err(|e| Error::InvalidParams(vec![e.at("template")]))?;
        Ok::<_, Error>(json!({ "html": html }))
    })?;
    module.register_async_method("registration.previewCertificate", |p, ctx, ext| async move {
        let scope = params::network(&ext)?;
        let value = params::json(&p)?;
        let mut input = params::object(&value)?;
        let id = required_id::<Registration>(&mut input, "registrationId");
        let body = input.required("certificateTemplate", |v| input::text(v, MAX_BODY, false));
        let checked = body.as_deref().map(|body| template::check(body, Text::Html));
        let mut problems = Vec::new();
        if let Some(Err(e)) = &checked {
            problems.push(e.at("certificateTemplate"));
        }
        params::finish(input, problems)?;
        let (Some(id), Some(body)) = (id, body) else {
            return Err(Error::invalid("params", "registrationId and certificateTemplate are required"));
        };
        let (registration, order) = ctx.store.registration_order(&scope, &id).await?;
        let variables = variables(&ctx, &scope, &registration).await?.with_order(order.as_ref());
        let html = template::certificate(&body, &variables)
            .map_err(|e| Error::InvalidParams(vec![e.at("certificateTemplate")]))?;
        Ok::<_, Error>(json!({ "html": html }))
    })?;
    Ok(())
}

/// Reads `{kind}`.
fn kind_param(value: &Value) -> Result<TemplateKind> {
    let mut input = params::object(value)?;
    let kind = TemplateKind::read(&mut input);
    params::finish(input, Vec::new())?;
    kind.ok_or_else(|| Error::invalid("kind", "is required"))
}

/// A registration's variables: with the ticket it holds, when that ticket still exists (a cancelled registration's
/// ticket may have been deleted since).
async fn variables(ctx: &Ctx, scope: &NetworkScope, registration: &StoredRegistration) -> Result<Variables> {
    let ticket = match &registration.registration.product_id {
        None => None,
        Some(product) => match ctx.store.ticket(scope, product).await {
            Ok(ticket) => Some(ticket),
            Err(Error::NotFound { .. }) => None,
            Err(e) => return Err(e),
        },
    };
    Ok(Variables::of(scope.network(), registration, ticket.as_ref()))
}
