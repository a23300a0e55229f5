//! `admin.*`: token management and the writer's counters (permission `all@*`), and `admin.whoami` (any valid
//! token).

use jsonrpsee::RpcModule;
use serde_json::{Value, json};

use super::{Ctx, params};
use crate::auth::token::{self as tokens, Grant, TokenInfo};
use crate::domain::{ids, time};
use crate::error::{Error, Result};
use crate::store;

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
        let (secret, info) = create_token(&ctx, name, grants, expires_at).await?;
        Ok::<_, Error>(json!({ "token": secret, "tokenInfo": info.to_json() }))
    })?;
    module.register_async_method("admin.listTokens", |p, ctx, ext| async move {
        params::admin(&ext)?;
        params::finish(params::object(&params::json(&p)?)?, Vec::new())?;
        let all = ctx.store.read(store::token::all).await?;
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
        let revoked_id = id.clone();
        let at = ctx.store.write(move |c| store::token::revoke(c, &revoked_id)).await?;
        ctx.tokens.revoke(&id, at);
        Ok::<_, Error>(json!({}))
    })?;
    module.register_async_method("admin.stats", |p, ctx, ext| async move {
        params::admin(&ext)?;
        params::finish(params::object(&params::json(&p)?)?, Vec::new())?;
        let stats = ctx.store.stats();
        let load = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
        Ok::<_, Error>(json!({ "writer": { "commits": load(&stats.commits), "calls": load(&stats.calls) } }))
    })?;
    module.register_async_method("admin.whoami", |p, _ctx, ext| async move {
        let token = params::token(&ext)?;
        params::finish(params::object(&params::json(&p)?)?, Vec::new())?;
        Ok::<_, Error>(json!({ "tokenInfo": token.to_json() }))
    })?;
    Ok(())
}

/// Makes a token, stores its hash, and makes it usable at once; returns the secret (shown only here) and the token.
///
/// `expires_at` is taken as given: the edges that read it from a client (`admin.createToken`, `token create`)
/// refuse a time that has passed ([`tokens::expires_at`]).
pub async fn create_token(
    ctx: &Ctx,
    name: String,
    grants: Vec<Grant>,
    expires_at: Option<time::Timestamp>,
) -> Result<(String, TokenInfo)> {
    let secret = tokens::new_secret();
    let info = TokenInfo { id: ids::new_id(), name, grants, created_at: time::now(), expires_at, revoked_at: None };
    let hash = tokens::hash(&secret);
    let stored = info.clone();
    ctx.store.write(move |c| store::token::insert(c, &stored, &hash)).await?;
    ctx.tokens.insert(hash, info.clone());
    Ok((secret, info))
}
