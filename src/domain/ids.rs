//! Identifier newtypes, so that a network id and a product id are never mixed up.

use std::fmt;

/// The id of a network: `^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NetworkId(String);

impl NetworkId {
    /// Checks the pattern; the error says what a valid id looks like.
    pub fn parse(s: &str) -> Result<NetworkId, String> {
        let bytes = s.as_bytes();
        let valid_first = bytes.first().is_some_and(|b| b.is_ascii_alphanumeric());
        let valid_rest = bytes.iter().skip(1).all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if valid_first && valid_rest && bytes.len() <= 64 {
            Ok(NetworkId(s.to_owned()))
        } else {
            Err("must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$".into())
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NetworkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The id of a purchasable ticket within its network: `^[A-Za-z0-9._:-]{1,128}$`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProductId(String);

impl ProductId {
    /// Checks the pattern; the error says what a valid id looks like.
    pub fn parse(s: &str) -> Result<ProductId, String> {
        let valid = !s.is_empty()
            && s.len() <= 128
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
        if valid { Ok(ProductId(s.to_owned())) } else { Err("must match ^[A-Za-z0-9._:-]{1,128}$".into()) }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProductId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new server-made id: a UUIDv7, so ids sort by creation time.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_ids_follow_the_pattern() {
        for ok in ["a", "A1", "net-1.eu_west", &"x".repeat(64)] {
            assert!(NetworkId::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", ".a", "a b", "a/b", &"x".repeat(65), "né"] {
            assert!(NetworkId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn product_ids_follow_the_pattern() {
        for ok in ["a", "ticket:vip-2026.1_a", &"x".repeat(128)] {
            assert!(ProductId::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "a/b", &"x".repeat(129)] {
            assert!(ProductId::parse(bad).is_err(), "{bad}");
        }
    }
}
