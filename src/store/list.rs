//! Paged lists: a filter, the count of all that match, and one page in creation order (`seq`), from a cursor that
//! names the last item seen, so a page walk skips and repeats nothing while others are inserted.

use base64::Engine as _;
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, Row, params_from_iter};

use crate::domain::Page;
use crate::domain::ids::NetworkId;
use crate::error::{Error, Result};

/// A page of items matching a filter, with the count of all that match and the cursor of the next page.
pub struct Found<T> {
    pub count: i64,
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// How a table's items are read for a list.
pub struct Listed<T> {
    /// `SELECT <columns> FROM <table>`, the columns as `from_row` reads them.
    pub select: &'static str,
    /// `SELECT count(*) FROM <table>`.
    pub count: &'static str,
    /// A kept total per network (`?1`), used when the only filter is the network.
    pub total: Option<&'static str>,
    pub from_row: fn(&Row<'_>) -> rusqlite::Result<T>,
    /// The paging key of an item.
    pub seq: fn(&T) -> i64,
}

/// Encodes the paging key of the last item on a page.
pub fn encode_cursor(seq: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("s:{seq}"))
}

/// Decodes a cursor made by [`encode_cursor`].
pub fn decode_cursor(text: &str) -> Result<i64> {
    let bad = || Error::InvalidParams(crate::domain::bad_cursor());
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    text.strip_prefix("s:").and_then(|n| n.parse().ok()).ok_or_else(bad)
}

/// The items of a network whose columns equal the given values.
pub fn page_equal<T>(
    conn: &Connection,
    listed: &Listed<T>,
    network: &NetworkId,
    equal: &[(&str, String)],
    page: &Page,
) -> Result<Found<T>> {
    let mut clauses = vec!["network_id = ?".to_owned()];
    let mut args: Vec<Sql> = vec![network.as_str().to_owned().into()];
    for (column, value) in equal {
        clauses.push(format!("{column} = ?"));
        args.push(value.clone().into());
    }
    self::page(conn, listed, &clauses, args, page)
}

/// One page of the items matching `clauses` (the first is always the network), and their count.
pub fn page<T>(
    conn: &Connection,
    listed: &Listed<T>,
    clauses: &[String],
    args: Vec<Sql>,
    page: &Page,
) -> Result<Found<T>> {
    page_counted(conn, listed, clauses, args, page, None)
}

/// [`page`], with the count when the caller has it without counting rows.
pub fn page_counted<T>(
    conn: &Connection,
    listed: &Listed<T>,
    clauses: &[String],
    mut args: Vec<Sql>,
    page: &Page,
    counted: Option<i64>,
) -> Result<Found<T>> {
    let filter = clauses.join(" AND ");
    let count: i64 = match (counted, listed.total) {
        (Some(counted), _) => counted,
        (None, Some(total)) if clauses.len() == 1 => {
            conn.prepare_cached(total)?.query_row(params_from_iter(args.iter()), |r| r.get(0)).optional()?.unwrap_or(0)
        }
        (None, _) => conn
            .prepare_cached(&format!("{} WHERE {filter}", listed.count))?
            .query_row(params_from_iter(args.iter()), |r| r.get(0))?,
    };
    let after = page.cursor.as_deref().map(decode_cursor).transpose()?.unwrap_or(0);
    args.push(after.into());
    let limit = page.limit.map_or(-1, |l| l as i64 + 1);
    args.push(limit.into());
    let sql = format!("{} WHERE {filter} AND seq > ? ORDER BY seq LIMIT ?", listed.select);
    let mut items = conn
        .prepare_cached(&sql)?
        .query_map(params_from_iter(args.iter()), listed.from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let next_cursor = match page.limit {
        Some(l) if items.len() > l => {
            items.truncate(l);
            items.last().map(|item| encode_cursor((listed.seq)(item)))
        }
        _ => None,
    };
    Ok(Found { count, items, next_cursor })
}
