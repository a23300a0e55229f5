//! Paged lists: a filter, the count of all that match, and one page in creation order (`seq`), after the position
//! of the last item seen, so a page walk skips and repeats nothing while others are inserted.

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, Row, params_from_iter};

use crate::domain::ids::NetworkId;
use crate::error::Result;
use crate::store::{Found, Position, Window};

/// How a table's items are read for a list.
pub struct Listed<T> {
    /// `SELECT <columns> FROM <table>`, the columns as `from_row` reads them.
    pub select: &'static str,
    /// `SELECT count(*) FROM <table>`.
    pub count: &'static str,
    /// A kept total per network (`?1`), used when the only filter is the network.
    pub total: Option<&'static str>,
    pub from_row: fn(&Row<'_>) -> rusqlite::Result<(Position, T)>,
}

/// The items of a network whose columns equal the given values.
pub fn page_equal<T>(
    conn: &Connection,
    listed: &Listed<T>,
    network: &NetworkId,
    equal: &[(&str, String)],
    window: Window,
) -> Result<Found<T>> {
    let mut clauses = vec!["network_id = ?".to_owned()];
    let mut args: Vec<Sql> = vec![network.as_str().to_owned().into()];
    for (column, value) in equal {
        clauses.push(format!("{column} = ?"));
        args.push(value.clone().into());
    }
    page_counted(conn, listed, &clauses, args, window, None)
}

/// One page of the items matching `clauses` (the first is always the network), and their count, unless the caller
/// has it without counting rows (`counted`).
pub fn page_counted<T>(
    conn: &Connection,
    listed: &Listed<T>,
    clauses: &[String],
    mut args: Vec<Sql>,
    window: Window,
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
    args.push(window.after.map_or(0, |p| p.0).into());
    let limit = window.limit.map_or(-1, |l| l as i64 + 1);
    args.push(limit.into());
    let sql = format!("{} WHERE {filter} AND seq > ? ORDER BY seq LIMIT ?", listed.select);
    let items = conn
        .prepare_cached(&sql)?
        .query_map(params_from_iter(args.iter()), listed.from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Found::page(count, items, window.limit))
}
