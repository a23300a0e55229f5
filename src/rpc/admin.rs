//! `admin.*`: token management and the writer's counters (permission `all@*`), and `admin.whoami` (any valid
//! token).

use jsonrpsee::RpcModule;
use serde_json::{Value, json};

use super::{Ctx, params};
use crate::auth::{
    self,
    token::{self as tokens, Grant},
};
use crate::domain::limits::{self, Held, NetworkLimits, Usage};
use crate::domain::{ids, time};
use crate::error::Error;

/// Registers the admin methods.
pub fn register(module: &mut RpcModule<Ctx>) -> std::result::Result<(), jsonrpsee::core::RegisterMethodError> {
    module.register_async_method("admin.createToken", |p, ctx, ext| async move {
        params::admin(&ext)?;
        let value = params::json(&p)?;
        let mut input = params::object(&value)?;
        let name = input.required_text("name", 200);
        let grants = input.strings("grants", true, Grant::parse);
        let expires_at = input.optional("expiresAt", |v| tokens::expires_at(v, time::now()));
        params::finish(input, Vec::new())?;
        let (Some(name), Some(grants)) = (name, grants) else {
            return Err(Error::invalid("params", "name and grants are required"));
        };
        let (secret, info) = auth::issue(ctx.store.as_ref(), &ctx.tokens, name, grants, expires_at).await?;
        Ok::<_, Error>(json!({ "token": secret, "tokenInfo": info.to_json() }))
    })?;
    module.register_async_method("admin.listTokens", |p, ctx, ext| async move {
        params::admin(&ext)?;
        params::finish(params::object(&params::json(&p)?)?, Vec::new())?;
        let all = ctx.store.tokens().await?;
        let list: Vec<Value> = all.iter().map(|(_, info)| info.to_json()).collect();
        Ok::<_, Error>(json!({ "tokens": list }))
    })?;
    module.register_async_method("admin.revokeToken", |p, ctx, ext| async move {
        params::admin(&ext)?;
        let value = params::json(&p)?;
        let mut input = params::object(&value)?;
        let id = input.required_text("tokenId", 100);
        params::finish(input, Vec::new())?;
        let id = id.ok_or_else(|| Error::invalid("tokenId", "is required"))?;
        let at = ctx.store.revoke_token(id.clone()).await?;
        ctx.tokens.revoke(&id, at);
        Ok::<_, Error>(json!({}))
    })?;
    module.register_async_method("admin.stats", |p, ctx, ext| async move {
        params::admin(&ext)?;
        params::finish(params::object(&params::json(&p)?)?, Vec::new())?;
        let stats = ctx.store.stats();
        Ok::<_, Error>(json!({ "writer": { "commits": stats.commits, "calls": stats.calls } }))
    })?;
    module.register_async_method("admin.setNetworkLimits", |p, ctx, ext| async move {
        let admin = params::admin(&ext)?;
        let value = params::json(&p)?;
        let mut input = params::object(&value)?;
        let network = input.required("networkId", network_id);
        // A member sent sets its limit (null removes it); one left out keeps what is set.
        let mut sent = Vec::new();
        for held in Held::ALL {
            if input.has(held.limit_name()) {
                sent.push((held, input.optional_int(held.limit_name(), 0, limits::MAX_SETTABLE)));
            }
        }
        params::finish(input, Vec::new())?;
        let network = network.ok_or_else(|| Error::invalid("networkId", "is required"))?;
        let (limits, usage) = ctx.store.change_network_limits(&admin.scope(network.clone()), sent).await?;
        Ok::<_, Error>(limits_json(&network, &limits, &usage))
    })?;
    module.register_async_method("admin.getNetworkLimits", |p, ctx, ext| async move {
        let admin = params::admin(&ext)?;
        let value = params::json(&p)?;
        let mut input = params::object(&value)?;
        let network = input.required("networkId", network_id);
        params::finish(input, Vec::new())?;
        let network = network.ok_or_else(|| Error::invalid("networkId", "is required"))?;
        let (limits, usage) = ctx.store.network_limits(&admin.scope(network.clone())).await?;
        Ok::<_, Error>(limits_json(&network, &limits, &usage))
    })?;
    module.register_async_method("admin.whoami", |p, _ctx, ext| async move {
        let token = params::token(&ext)?;
        params::finish(params::object(&params::json(&p)?)?, Vec::new())?;
        Ok::<_, Error>(json!({ "tokenInfo": token.to_json() }))
    })?;
    Ok(())
}

/// A network id given as a param (the admin methods name the network they act on; the guard does not).
fn network_id(v: &Value) -> std::result::Result<ids::NetworkId, String> {
    v.as_str().ok_or_else(|| "must be a string".to_owned()).and_then(ids::NetworkId::parse)
}

/// A network's limits and what it holds, as `admin.*NetworkLimits` answer them.
fn limits_json(network: &ids::NetworkId, limits: &NetworkLimits, usage: &Usage) -> Value {
    let mut shown = limits.to_json();
    shown["networkId"] = Value::from(network.as_str());
    json!({ "limits": shown, "usage": usage.to_json() })
}
