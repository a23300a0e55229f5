//! Identity and permission: tokens and their grants, the in-memory token table, and the guard's method table.
//!
//! The guard (in `rpc::guard`) asks [`required`] what a method needs, checks the caller's grants against the
//! network the call acts on, and only then hands the handler a [`NetworkAccess`]: a handler has no way to name a
//! network without one.

pub mod token;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::domain::ids::NetworkId;
use crate::domain::time::Timestamp;
pub use token::{Grant, Permission, Scope, TokenInfo};

use crate::error::Result;
use crate::store::Store;

/// Makes a token with a new secret, stores its hash, and makes it usable at once; returns the secret (shown only
/// here) and the token.
///
/// `expires_at` is taken as given: the edges that read it from a client (`admin.createToken`, `token create`)
/// refuse a time that has passed ([`token::expires_at`]).
pub async fn issue(
    store: &Store,
    tokens: &TokenTable,
    name: String,
    grants: Vec<Grant>,
    expires_at: Option<Timestamp>,
) -> Result<(String, TokenInfo)> {
    let secret = token::new_secret();
    let info = issue_with_secret(store, tokens, &secret, name, grants, expires_at).await?;
    Ok((secret, info))
}

/// Makes a token whose secret is given (the operator's bootstrap token), stores its hash, and makes it usable.
pub async fn issue_with_secret(
    store: &Store,
    tokens: &TokenTable,
    secret: &str,
    name: String,
    grants: Vec<Grant>,
    expires_at: Option<Timestamp>,
) -> Result<TokenInfo> {
    let now = crate::domain::time::now();
    let info =
        TokenInfo { id: crate::domain::ids::new_id(), name, grants, created_at: now, expires_at, revoked_at: None };
    let hash = token::hash(secret);
    let stored = info.clone();
    store.write(move |c| crate::store::token::insert(c, &stored, &hash)).await?;
    tokens.insert(hash, info.clone());
    Ok(info)
}

/// What a method needs from its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    /// Any valid token (e.g. `admin.whoami`).
    Authenticated,
    /// `network.manage` on the network the call acts on (or `all`).
    NetworkManage,
    /// `all` on every network (`all@*`).
    All,
}

/// The guard's table: every served method and what it needs. A method missing here is refused at start-up.
pub fn required(method: &str) -> Option<Requirement> {
    let namespace = method.split_once('.').map(|(ns, _)| ns)?;
    match (namespace, method) {
        (_, "admin.whoami") => Some(Requirement::Authenticated),
        ("admin", _) => Some(Requirement::All),
        ("ticket" | "registration" | "functionTicket", _) => Some(Requirement::NetworkManage),
        _ => None,
    }
}

/// The capability the guard hands to a handler: this caller may act on this network.
#[derive(Debug, Clone)]
pub struct NetworkAccess {
    /// The network every read and write of the call is confined to.
    pub network: NetworkId,
    /// The id of the token, recorded in `sysCreatedById`/`sysLastModifiedById`.
    pub actor: String,
}

/// The capability for `admin.*` methods: the caller holds `all@*`.
#[derive(Debug, Clone)]
pub struct AdminAccess {
    pub actor: String,
}

/// The active tokens by the SHA-256 of their secret, so a call is authenticated without touching the database.
///
/// Loaded at start; every token change goes through the store and then updates this table after its commit.
#[derive(Default)]
pub struct TokenTable {
    by_hash: RwLock<HashMap<[u8; 32], Arc<TokenInfo>>>,
}

impl TokenTable {
    /// A table holding `tokens` (with their secret hashes).
    pub fn new(tokens: Vec<([u8; 32], TokenInfo)>) -> TokenTable {
        let table = TokenTable::default();
        for (hash, info) in tokens {
            table.insert(hash, info);
        }
        table
    }

    /// Adds or replaces a token.
    pub fn insert(&self, hash: [u8; 32], info: TokenInfo) {
        if let Ok(mut map) = self.by_hash.write() {
            map.insert(hash, Arc::new(info));
        }
    }

    /// Marks a token revoked.
    pub fn revoke(&self, token_id: &str, at: Timestamp) {
        if let Ok(mut map) = self.by_hash.write() {
            for info in map.values_mut() {
                if info.id == token_id {
                    let mut revoked = (**info).clone();
                    revoked.revoked_at = Some(at);
                    *info = Arc::new(revoked);
                }
            }
        }
    }

    /// The token a secret belongs to, if it is known, not revoked and not expired at `now`.
    pub fn authenticate(&self, secret: &str, now: Timestamp) -> Option<Arc<TokenInfo>> {
        let hash = token::hash(secret);
        let map = self.by_hash.read().ok()?;
        map.get(&hash).filter(|t| t.is_active(now)).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_namespace_has_a_requirement() {
        assert_eq!(required("ticket.createPurchasableTicket"), Some(Requirement::NetworkManage));
        assert_eq!(required("registration.create"), Some(Requirement::NetworkManage));
        assert_eq!(required("functionTicket.get"), Some(Requirement::NetworkManage));
        assert_eq!(required("admin.createToken"), Some(Requirement::All));
        assert_eq!(required("admin.whoami"), Some(Requirement::Authenticated));
        assert_eq!(required("other.thing"), None);
        assert_eq!(required("nodot"), None);
    }
}
