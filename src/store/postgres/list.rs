//! Paged lists on PostgreSQL: a filter, the count of all that match, and one page in creation order (`seq`), after
//! the position of the last item seen, as the SQLite store pages (`store/sqlite/list.rs`).

use deadpool_postgres::GenericClient;
use tokio_postgres::Row as PgRow;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use super::Failure;
use crate::domain::ids::NetworkId;
use crate::error::Result;
use crate::store::rows::Cell;
use crate::store::{Found, Position, Window};

/// A statement parameter: one value, or a list of them for `= ANY($n)` (one statement for any number of values,
/// so the prepared-statement cache does not grow with the length of a list).
#[derive(Debug, Clone)]
pub(super) enum Arg {
    One(Cell),
    Texts(Vec<String>),
    Ints(Vec<i64>),
}

impl ToSql for Arg {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Arg::One(cell) => cell.to_sql(ty, out),
            Arg::Texts(values) => values.to_sql(ty, out),
            Arg::Ints(values) => values.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <Cell as ToSql>::accepts(ty) || <Vec<String> as ToSql>::accepts(ty) || <Vec<i64> as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

/// The WHERE clauses of a list and their parameters, the first always the network.
#[derive(Debug, Clone)]
pub(super) struct Filter {
    pub clauses: Vec<String>,
    pub args: Vec<Arg>,
    /// The filter is selective by an index of its own (a trigram index): the matches are found through it, once
    /// for the count and the page ([`page_found`]), and then put in creation order, never found by walking the
    /// network in creation order and testing each row.
    /// PostgreSQL cannot estimate how few rows a `LIKE '%text%'` matches, and with a page's `LIMIT` it would
    /// choose the walk, which reads the whole network when the text matches a handful.
    pub selective: bool,
}

impl Filter {
    pub fn new(network: &NetworkId) -> Filter {
        Filter {
            clauses: vec!["network_id = $1".to_owned()],
            args: vec![Arg::One(network.as_str().into())],
            selective: false,
        }
    }

    /// Adds a parameter; its placeholder.
    pub fn arg(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }

    /// Adds `<column> = <value>`.
    pub fn equal(&mut self, column: &str, value: Cell) {
        let hole = self.arg(Arg::One(value));
        self.clauses.push(format!("{column} = {hole}"));
    }
}

/// How a table's items are read for a list.
pub(super) struct Listed<T> {
    /// `SELECT <columns> FROM <table>`, the columns as `from_row` reads them.
    pub select: &'static str,
    /// The table.
    pub table: &'static str,
    /// A kept total per network (`$1`), used when the only filter is the network.
    pub total: Option<&'static str>,
    pub from_row: fn(&PgRow) -> Result<(Position, T)>,
}

/// How a list's statements are planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Plan {
    /// Prepared once per connection and kept: for filters whose best plan does not depend on the values.
    Kept,
    /// Planned for the values of each call: a text filter's selectivity decides between its trigram index and a
    /// walk in creation order, and a kept generic plan cannot tell (it walked all of a network's rows for a name
    /// that matches 11 of them).
    EachCall,
}

fn params(args: &[Arg]) -> Vec<&(dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}

/// Runs a statement, prepared and kept or planned for these values (an unnamed statement is planned when its
/// values are bound).
async fn query(
    db: &impl GenericClient,
    sql: &str,
    args: &[Arg],
    plan: Plan,
) -> std::result::Result<Vec<PgRow>, Failure> {
    Ok(match plan {
        Plan::Kept => db.query(&db.prepare_cached(sql).await?, &params(args)).await?,
        Plan::EachCall => db.query(sql, &params(args)).await?,
    })
}

/// One page of the items matching `filter`, and their count, unless the caller has it without counting rows
/// (`counted`).
pub(super) async fn page<T>(
    db: &impl GenericClient,
    listed: &Listed<T>,
    mut filter: Filter,
    window: Window,
    counted: Option<i64>,
    plan: Plan,
) -> std::result::Result<Found<T>, Failure> {
    let condition = filter.clauses.join(" AND ");
    if filter.selective && counted.is_none() {
        return page_found(db, listed, filter, window, plan).await;
    }
    let count: i64 = match (counted, listed.total) {
        (Some(counted), _) => counted,
        (None, Some(total)) if filter.clauses.len() == 1 => {
            let statement = db.prepare_cached(total).await?;
            db.query_opt(&statement, &params(&filter.args)).await?.map_or(0, |r| r.get(0))
        }
        (None, _) => {
            let sql = format!("SELECT count(*) FROM {} WHERE {condition}", listed.table);
            query(db, &sql, &filter.args, plan).await?.first().map_or(0, |r| r.get(0))
        }
    };
    let after = filter.arg(Arg::One(window.after.map_or(0, |p| p.0).into()));
    let limit = match window.limit {
        Some(l) => format!(" LIMIT {}", filter.arg(Arg::One((l as i64 + 1).into()))),
        None => String::new(),
    };
    let sql = format!("{} WHERE {condition} AND seq > {after} ORDER BY seq{limit}", listed.select);
    let rows = query(db, &sql, &filter.args, plan).await?;
    let items = rows.iter().map(listed.from_row).collect::<Result<Vec<_>>>()?;
    Ok(Found::page(count, items, window.limit))
}

/// [`page`] for a [`Filter::selective`] filter, in one statement: the matches found once through their index
/// (materialized), counted, and the page read from them, so the index is searched once and not once for the count
/// and again for the page. The count comes on every row, and alone (the item's columns NULL) when the page is empty.
async fn page_found<T>(
    db: &impl GenericClient,
    listed: &Listed<T>,
    mut filter: Filter,
    window: Window,
    plan: Plan,
) -> std::result::Result<Found<T>, Failure> {
    let condition = filter.clauses.join(" AND ");
    let after = filter.arg(Arg::One(window.after.map_or(0, |p| p.0).into()));
    let limit = match window.limit {
        Some(l) => format!(" LIMIT {}", filter.arg(Arg::One((l as i64 + 1).into()))),
        None => String::new(),
    };
    let sql = format!(
        "WITH found AS MATERIALIZED (SELECT seq FROM {table} WHERE {condition}) \
         SELECT counted.found_count, page.* FROM (SELECT count(*) AS found_count FROM found) counted \
         LEFT JOIN LATERAL ({select} WHERE seq IN (SELECT seq FROM found WHERE seq > {after} ORDER BY seq{limit})) \
         page ON true ORDER BY page.seq",
        table = listed.table,
        select = listed.select,
    );
    let rows = query(db, &sql, &filter.args, plan).await?;
    let count: i64 = rows.first().map_or(0, |r| r.get("found_count"));
    let items = rows
        .iter()
        .filter(|row| row.get::<_, Option<i64>>("seq").is_some())
        .map(listed.from_row)
        .collect::<Result<Vec<_>>>()?;
    Ok(Found::page(count, items, window.limit))
}
