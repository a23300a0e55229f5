//! Identity and permission: tokens and their grants, the in-memory token table, the method table, and the
//! capabilities.
//!
//! The guard (in `rpc::guard`) asks [`required`] what a method needs and has [`admit_network`] or [`admit_admin`]
//! check the caller's grants; only those make a [`NetworkScope`] or an [`AdminAccess`], whose fields are private to
//! this module. The store accepts nothing but a `NetworkScope`, so a handler cannot read or change a network that
//! the guard did not admit its caller to.

pub mod token;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::domain::ids::{ActorId, NetworkId};
use crate::domain::time::Timestamp;
pub use token::{Grant, Permission, Scope, TokenInfo};

use crate::error::{Error, Result};
use crate::store::Store;

/// Makes a token with a new secret, stores its hash, and makes it usable at once; returns the secret (shown only
/// here) and the token.
///
/// `expires_at` is taken as given: the edges that read it from a client (`admin.createToken`, `token create`)
/// refuse a time that has passed ([`token::expires_at`]).
pub async fn issue(
    store: &dyn Store,
    tokens: &TokenTable,
    name: String,
    grants: Vec<Grant>,
    expires_at: Option<Timestamp>,
) -> Result<(String, TokenInfo)> {
    let secret = token::new_secret();
    let info = issue_with_secret(store, tokens, &secret, name, grants, expires_at).await?;
    Ok((secret, info))
}

/// Makes a token whose secret is given, stores its hash, and makes it usable.
pub async fn issue_with_secret(
    store: &dyn Store,
    tokens: &TokenTable,
    secret: &str,
    name: String,
    grants: Vec<Grant>,
    expires_at: Option<Timestamp>,
) -> Result<TokenInfo> {
    let info = new_token(name, grants, expires_at);
    let hash = token::hash(secret);
    store.insert_token(info.clone(), hash).await?;
    tokens.insert(hash, info.clone());
    Ok(info)
}

/// Makes the store's first token (the bootstrap token) with the given secret, unless the store holds a token
/// already (another server sharing the store may have made it a moment ago); whether it was made.
pub async fn issue_first(store: &dyn Store, tokens: &TokenTable, secret: &str, grants: Vec<Grant>) -> Result<bool> {
    let info = new_token("bootstrap".into(), grants, None);
    let hash = token::hash(secret);
    let made = store.insert_first_token(info.clone(), hash).await?;
    if made {
        tokens.insert(hash, info);
    }
    Ok(made)
}

fn new_token(name: String, grants: Vec<Grant>, expires_at: Option<Timestamp>) -> TokenInfo {
    let created_at = crate::domain::time::now();
    TokenInfo { id: crate::domain::ids::new_id(), name, grants, created_at, expires_at, revoked_at: None }
}

/// What a method needs from its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    /// No token: the method describes the server (`rpc.discover`) and touches no network.
    Public,
    /// Any valid token (e.g. `admin.whoami`).
    Authenticated,
    /// `network.manage` on the network the call acts on (or `all`).
    NetworkManage,
    /// `all` on every network (`all@*`).
    All,
}

/// The capability to act on one network: every read and write of the call is confined to it, and the changes are
/// recorded as the actor's. Made only by [`admit_network`] (and by [`AdminAccess::scope`] for `all@*`).
#[derive(Debug, Clone)]
pub struct NetworkScope {
    network: NetworkId,
    actor: ActorId,
}

impl NetworkScope {
    /// The network the call is confined to.
    pub fn network(&self) -> &NetworkId {
        &self.network
    }

    /// The token acting, recorded in `sysCreatedById`/`sysLastModifiedById`.
    pub fn actor(&self) -> &ActorId {
        &self.actor
    }

    /// A scope for the store's own unit tests, which run without a guard.
    #[cfg(test)]
    pub fn for_tests(network: &str, actor: &str) -> NetworkScope {
        NetworkScope { network: NetworkId::parse(network).expect("a network id"), actor: ActorId::new(actor) }
    }
}

/// The capability for `admin.*` methods: the caller holds `all@*`.
#[derive(Debug, Clone)]
pub struct AdminAccess {
    actor: ActorId,
}

impl AdminAccess {
    /// `all@*` may act on any network: the scope of the one an admin method names.
    pub fn scope(&self, network: NetworkId) -> NetworkScope {
        NetworkScope { network, actor: self.actor.clone() }
    }
}

/// Admits a token to a network: the scope when it holds `network.manage` there (or `all`), `Forbidden` otherwise.
pub fn admit_network(token: &TokenInfo, network: NetworkId) -> Result<NetworkScope> {
    if !token.may_manage(&network) {
        return Err(Error::Forbidden { permission: "network.manage", network_id: network.to_string() });
    }
    Ok(NetworkScope { network, actor: ActorId::new(&token.id) })
}

/// Admits a token to the `admin.*` methods: when it holds `all@*`.
pub fn admit_admin(token: &TokenInfo) -> Result<AdminAccess> {
    if !token.is_admin() {
        return Err(Error::Forbidden { permission: "all", network_id: "*".into() });
    }
    Ok(AdminAccess { actor: ActorId::new(&token.id) })
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

    /// Takes in the tokens as the store holds them now (another server sharing the store may have made or revoked
    /// some): new ones are added and revocations applied. A revocation is never undone, not even by a read of the
    /// store that began before it.
    pub fn refresh(&self, tokens: Vec<([u8; 32], TokenInfo)>) {
        if let Ok(mut map) = self.by_hash.write() {
            for (hash, info) in tokens {
                let revoked_here = map.get(&hash).is_some_and(|known| known.revoked_at.is_some());
                if !revoked_here {
                    map.insert(hash, Arc::new(info));
                }
            }
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
    fn only_a_grant_on_the_network_admits_to_it() {
        let token = |grants: &[&str]| TokenInfo {
            id: "t1".into(),
            name: "t".into(),
            grants: grants.iter().map(|g| Grant::parse(g).unwrap()).collect(),
            created_at: crate::domain::time::now(),
            expires_at: None,
            revoked_at: None,
        };
        let net = |s: &str| NetworkId::parse(s).unwrap();
        let scope = admit_network(&token(&["network.manage@a"]), net("a")).unwrap();
        assert_eq!((scope.network().as_str(), scope.actor().as_str()), ("a", "t1"));
        assert!(matches!(admit_network(&token(&["network.manage@a"]), net("b")), Err(Error::Forbidden { .. })));
        assert!(admit_network(&token(&["all@*"]), net("b")).is_ok());
        assert!(matches!(admit_admin(&token(&["network.manage@*"])), Err(Error::Forbidden { .. })));
        let admin = admit_admin(&token(&["all@*"])).unwrap();
        assert_eq!(admin.scope(net("c")).network().as_str(), "c");
    }
}
