//! Tokens: 256-bit random secrets, shown once, kept only as SHA-256; and their grants, `permission@scope`.

use rand::RngCore;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::domain::ids::NetworkId;
use crate::domain::time::{self, Timestamp};

/// Prefix of every secret this server makes, so a leaked one is recognisable.
pub const SECRET_PREFIX: &str = "ta_";

/// A new secret: the prefix and 256 random bits in hex.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{SECRET_PREFIX}{}", hex::encode(bytes))
}

/// The SHA-256 of a secret: all the database keeps.
pub fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Reads a token's `expiresAt`: a timestamp after `now`, since a token made already expired could never be used.
pub fn expires_at(value: &Value, now: Timestamp) -> Result<Timestamp, String> {
    let at = time::parse(value)?;
    if at <= now {
        return Err(format!("must be in the future (it is now {})", time::format(&now)));
    }
    Ok(at)
}

/// What a grant permits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Every ticket, registration and function-ticket method on the scope's network(s).
    NetworkManage,
    /// Everything; on `*`, also the `admin.*` methods.
    All,
}

impl Permission {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::NetworkManage => "network.manage",
            Permission::All => "all",
        }
    }
}

/// Where a grant applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Network(NetworkId),
    /// `*`: every network.
    Any,
}

/// One `permission@scope`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub permission: Permission,
    pub scope: Scope,
}

impl Grant {
    /// Reads `network.manage@net1`, `all@*` and the like.
    pub fn parse(s: &str) -> Result<Grant, String> {
        let (permission, scope) = s.split_once('@').ok_or("must be 'permission@scope', e.g. network.manage@net1")?;
        let permission = match permission {
            "network.manage" => Permission::NetworkManage,
            "all" => Permission::All,
            other => return Err(format!("has unknown permission '{other}' (network.manage or all)")),
        };
        let scope = match scope {
            "*" => Scope::Any,
            id => Scope::Network(NetworkId::parse(id).map_err(|e| format!("scope {e}, or be '*'"))?),
        };
        Ok(Grant { permission, scope })
    }

    fn covers(&self, network: &NetworkId) -> bool {
        match &self.scope {
            Scope::Any => true,
            Scope::Network(n) => n == network,
        }
    }
}

impl std::fmt::Display for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.scope {
            Scope::Any => write!(f, "{}@*", self.permission.as_str()),
            Scope::Network(n) => write!(f, "{}@{}", self.permission.as_str(), n),
        }
    }
}

/// A token as the server knows it (never its secret).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenInfo {
    pub id: String,
    pub name: String,
    pub grants: Vec<Grant>,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl TokenInfo {
    /// Usable now: not revoked, not expired.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }

    /// Whether the token may manage `network`.
    pub fn may_manage(&self, network: &NetworkId) -> bool {
        self.grants.iter().any(|g| g.covers(network))
    }

    /// Whether the token holds `all@*`.
    pub fn is_admin(&self) -> bool {
        self.grants.iter().any(|g| g.permission == Permission::All && g.scope == Scope::Any)
    }

    /// The token as `admin.*` methods and `token list` show it.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "grants": self.grants.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "createdAt": time::format(&self.created_at),
            "expiresAt": self.expires_at.as_ref().map(time::format),
            "revokedAt": self.revoked_at.as_ref().map(time::format),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_hash_stably() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), SECRET_PREFIX.len() + 64);
        assert_eq!(hash(&a), hash(&a));
        assert_ne!(hash(&a), hash(&b));
    }

    #[test]
    fn a_token_expires_in_the_future() {
        let now = time::parse(&json!("2026-05-01T12:00:00Z")).unwrap();
        assert_eq!(
            time::format(&expires_at(&json!("2026-05-01T12:00:00.001Z"), now).unwrap()),
            "2026-05-01T12:00:00.001Z"
        );
        for past in [json!("2026-05-01T12:00:00Z"), json!("2020-01-01T00:00:00Z"), json!(0)] {
            assert!(expires_at(&past, now).unwrap_err().contains("in the future"), "{past}");
        }
        assert!(expires_at(&json!("soon"), now).is_err());
    }

    #[test]
    fn grants_parse_and_cover() {
        let net = |s| NetworkId::parse(s).unwrap();
        let g = Grant::parse("network.manage@A").unwrap();
        assert!(g.covers(&net("A")) && !g.covers(&net("B")));
        assert!(Grant::parse("all@*").unwrap().covers(&net("B")));
        assert_eq!(Grant::parse("all@*").unwrap().to_string(), "all@*");
        for bad in ["network.manage", "read@A", "all@", "all@bad id"] {
            assert!(Grant::parse(bad).is_err(), "{bad}");
        }
    }
}
