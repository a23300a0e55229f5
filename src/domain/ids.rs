//! Identifier newtypes, so that a network id and a product id are never mixed up.

use std::fmt;
use std::marker::PhantomData;

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

/// The id of a purchasable ticket within its network: `^[A-Za-z0-9._:-]{1,128}$`. Read from JSON (a
/// registration's `productId`, stored or sent) it is checked as [`ProductId::parse`] checks it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct ProductId(String);

impl ProductId {
    /// Checks the pattern; the error says what a valid id looks like.
    pub fn parse(s: &str) -> Result<ProductId, String> {
        ProductId::try_from(s.to_owned())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ProductId {
    type Error = String;

    fn try_from(s: String) -> Result<ProductId, String> {
        let valid = !s.is_empty()
            && s.len() <= 128
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
        if valid { Ok(ProductId(s)) } else { Err("must match ^[A-Za-z0-9._:-]{1,128}$".into()) }
    }
}

impl fmt::Display for ProductId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The id of an event, as a registration or a function ticket names it (the platform's event: this server keeps
/// no events). Its pattern is the record's: the field table checks it when the record is read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct EventId(String);

impl EventId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The id of a contact: who holds a registration or a function ticket, and whose `maxPerAttendee` a holding counts
/// against. Its pattern is the record's: the field table checks it when the record is read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ContactId(String);

impl ContactId {
    /// Checks the pattern of a reference (`^[A-Za-z0-9_|:.-]{1,128}$`), which every contact id matches: a transfer's
    /// new contact.
    pub fn parse(s: &str) -> Result<ContactId, String> {
        super::record::reference(s).map(ContactId)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The server-made id of a record of type `T` (a registration, a function ticket): a reference
/// (`^[A-Za-z0-9_|:.-]{1,128}$`), so that an id of one kind is never taken for one of another.
pub struct RecordId<T>(String, PhantomData<fn() -> T>);

impl<T> RecordId<T> {
    /// Checks the pattern of a reference.
    pub fn parse(s: &str) -> Result<Self, String> {
        super::record::reference(s).map(|s| RecordId(s, PhantomData))
    }

    /// A new id, made by the server.
    pub fn new() -> Self {
        RecordId(new_id(), PhantomData)
    }

    /// An id read back from storage, where only valid ids are written.
    pub fn stored(s: String) -> Self {
        RecordId(s, PhantomData)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<T> Default for RecordId<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for RecordId<T> {
    fn clone(&self) -> Self {
        RecordId(self.0.clone(), PhantomData)
    }
}

impl<T> PartialEq for RecordId<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<T> Eq for RecordId<T> {}

impl<T> fmt::Debug for RecordId<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl<T> fmt::Display for RecordId<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<T> serde::Serialize for RecordId<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// The id of the token that made or changed something: `sysCreatedById`, `sysLastModifiedById`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct ActorId(String);

impl ActorId {
    /// The token id as the actor of its calls.
    pub fn new(token_id: &str) -> Self {
        ActorId(token_id.to_owned())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ActorId {
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
            assert!(serde_json::from_value::<ProductId>(serde_json::json!(bad)).is_err(), "{bad} read from JSON");
        }
        let read: ProductId = serde_json::from_value(serde_json::json!("vip-1")).unwrap();
        assert_eq!((read.as_str(), serde_json::to_string(&read).unwrap().as_str()), ("vip-1", r#""vip-1""#));
    }
}
