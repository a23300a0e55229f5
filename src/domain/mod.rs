//! Plain domain types and their validation: no I/O, no JSON-RPC, no SQL.
//!
//! Input arrives as JSON objects; [`input::Input`] reads them member by member and collects every problem, so a
//! client learns all that is wrong with a request at once. What passes is a typed value, valid by construction.

pub mod command;
pub mod fold;
pub mod function_ticket;
pub mod ids;
pub mod input;
pub mod limits;
pub mod mail;
pub mod money;
pub mod order;
pub mod patch;
pub mod record;
pub mod registration;
pub mod schema;
pub mod sys;
pub mod template;
pub mod ticket;
pub mod time;

use input::Input;

/// Most items one page may hold.
pub const MAX_LIMIT: i64 = 1000;

/// Items a page of registrations or function tickets holds when the call gives no `limit`.
pub const DEFAULT_LIMIT: usize = 100;

/// Most values one list filter (`ids`, `contactId`, `productIds`, ...) or `fields` list may hold: a search stays
/// one statement of bounded size, well within SQLite's 32,766 bound values however many filters it combines.
pub const MAX_LIST_VALUES: usize = 1000;

/// Paging and trimming of a list: `limit`, `cursor`, `fields`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    /// Most items to return; `None` is all (the ticket list without a `limit`).
    pub limit: Option<usize>,
    /// Where the previous page ended, as the server handed it out.
    pub cursor: Option<String>,
    /// Top-level members to keep in each item; `None` keeps all.
    pub fields: Option<Vec<String>>,
}

impl Page {
    /// Reads `limit`, `cursor` and `fields`; `allowed` lists the names `fields` may use; `default_limit` is the
    /// limit when none is given (`None`: every item).
    pub fn read(input: &mut Input<'_>, allowed: &[&str], default_limit: Option<usize>) -> Page {
        let limit = input.optional_int("limit", 1, MAX_LIMIT).map(|n| n as usize).or(default_limit);
        let cursor = input.optional("cursor", |v| input::text(v, 1024, false));
        let fields = input.strings("fields", false, |s| {
            if allowed.contains(&s) { Ok(s.to_owned()) } else { Err(format!("'{s}' is not a field")) }
        });
        Page { limit, cursor, fields }
    }

    /// Which members of an item are kept, when a `fields` list was sent (`None`: every member).
    pub fn trimming<'a>(&'a self, id_field: &'a str) -> Option<impl Fn(&str) -> bool + 'a> {
        self.fields.as_ref().map(|fields| move |name: &str| name == id_field || fields.iter().any(|f| f == name))
    }
}

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;
