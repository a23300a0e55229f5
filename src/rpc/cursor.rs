//! Cursors: where a page ended, handed to clients as opaque text that only this server reads back. One codec for
//! every list: a versioned JSON object, base64url without padding.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::domain::ticket::{TicketPlace, TicketQuery};
use crate::error::{Error, FieldError, Result};
use crate::store::Position;

/// The version of the cursor format; a cursor of another version is refused as not handed out.
const VERSION: u32 = 1;

/// Where a page ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
enum At {
    /// A record list, in creation order: after the record at this position.
    Record(i64),
    /// The ticket list: after the ticket with this sort key and productId, in the ordering named.
    Ticket { ordering: String, key: i64, id: String },
}

#[derive(Serialize, Deserialize)]
struct Wire {
    v: u32,
    at: At,
}

fn encode(at: At) -> String {
    let text = serde_json::to_vec(&Wire { v: VERSION, at }).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

fn decode(text: &str) -> Result<At> {
    let bad = || Error::InvalidParams(bad_cursor());
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
    match serde_json::from_slice::<Wire>(&bytes) {
        Ok(Wire { v: VERSION, at }) => Ok(at),
        _ => Err(bad()),
    }
}

/// The cursor after a record.
pub fn record(after: Position) -> String {
    encode(At::Record(after.0))
}

/// Where a record list resumes, from the cursor a client sent.
pub fn record_position(cursor: Option<&str>) -> Result<Option<Position>> {
    match cursor.map(decode).transpose()? {
        None => Ok(None),
        Some(At::Record(p)) => Ok(Some(Position(p))),
        Some(_) => Err(Error::InvalidParams(bad_cursor())),
    }
}

/// The cursor after a ticket, in a query's ordering.
pub fn ticket(query: &TicketQuery, after: TicketPlace) -> String {
    encode(At::Ticket { ordering: query.ordering(), key: after.key, id: after.product_id })
}

/// Where the ticket list resumes, from the cursor a client sent; one of another ordering is refused.
pub fn ticket_place(query: &TicketQuery) -> Result<Option<TicketPlace>> {
    let Some(text) = query.page.cursor.as_deref() else { return Ok(None) };
    match decode(text)? {
        At::Ticket { ordering, key, id } if ordering == query.ordering() => {
            Ok(Some(TicketPlace { key, product_id: id }))
        }
        At::Ticket { .. } => Err(Error::InvalidParams(vec![FieldError::new(
            "cursor",
            "belongs to another ordering; send the same orderBy and order as for the first page",
        )])),
        At::Record(_) => Err(Error::InvalidParams(bad_cursor())),
    }
}

/// A problem with the `cursor` member.
fn bad_cursor() -> Vec<FieldError> {
    vec![FieldError::new("cursor", "is not a cursor this list handed out")]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_as_made_and_nothing_else_reads() {
        assert_eq!(record_position(Some(&record(Position(42)))).unwrap(), Some(Position(42)));
        assert_eq!(record_position(None).unwrap(), None);
        let query = TicketQuery::from_json(&serde_json::json!({"orderBy": "price"})).unwrap();
        let place = TicketPlace { key: 995, product_id: "vip".into() };
        let made = ticket(&query, place.clone());
        let mut sent = query.clone();
        sent.page.cursor = Some(made.clone());
        assert_eq!(ticket_place(&sent).unwrap(), Some(place));
        // A ticket cursor is no record cursor, nor one of another ordering, and garbage or another version is none.
        assert!(record_position(Some(&made)).is_err());
        let mut other = TicketQuery::from_json(&serde_json::json!({"orderBy": "price", "order": "desc"})).unwrap();
        other.page.cursor = Some(made);
        let Err(Error::InvalidParams(e)) = ticket_place(&other) else { panic!("refused") };
        assert!(e[0].message.contains("another ordering"));
        let old = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"v":0,"at":{"record":1}}"#);
        for bad in ["", "!!", "czox", old.as_str()] {
            assert!(record_position(Some(bad)).is_err(), "{bad}");
        }
    }
}
