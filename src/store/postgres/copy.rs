//! The PostgreSQL side of `migrate` ([`store::copy`](crate::store::copy)): one transaction that locks the tables it
//! fills, refuses a database holding any row of them, writes rows exactly as this store writes them (the folded
//! copies of a registration's searched text included; the trigger-kept counts follow), counts what it wrote, and
//! commits only when asked to.

use deadpool_postgres::Object;
use futures_util::future::try_join_all;

use super::{Failure, PostgresStore, Tx, insert, insert_generated};
use crate::domain::function_ticket::StoredFunctionTicket;
use crate::domain::ids::NetworkId;
use crate::domain::limits::NetworkLimits;
use crate::domain::mail::StoredMessage;
use crate::domain::order::StoredOrder;
use crate::domain::registration::StoredRegistration;
use crate::error::{Error, Result};
use crate::store::copy::{Counts, EventNumber, RecordRow, TABLES, TemplateRow, TicketRow, TokenRow};
use crate::store::rows::{Cell, Row, function_ticket_row, mail_row, order_row, template_row, ticket_row};

/// A connection of the store's pool, held for the copy's transaction.
pub(crate) struct Connection(Object);

impl Connection {
    pub(crate) async fn of(store: &PostgresStore) -> Result<Connection> {
        Ok(Connection(store.client().await?))
    }
}

/// The copy's transaction. Dropped without [`Target::commit`], it is rolled back and leaves the database as it was.
pub(crate) struct Target<'a> {
    tx: Tx<'a>,
}

/// A row with its `seq` kept, so that creation order (and the cursors that name a place in it) stays.
fn with_seq(mut row: Row, seq: i64) -> Row {
    row.push(("seq", Cell::Int(seq)));
    row
}

/// Writes rows into `table`, all sent at once (pipelined on the one connection); every one must be written.
async fn insert_all(tx: &Tx<'_>, table: &'static str, rows: Vec<Row>) -> std::result::Result<(), Failure> {
    let written = try_join_all(rows.iter().map(|row| insert(tx, table, row))).await?;
    all_written(table, &written)
}

/// [`insert_all`] into a table whose `seq` the database always generates: the rows' own `seq` is kept.
async fn insert_all_generated(tx: &Tx<'_>, table: &'static str, rows: Vec<Row>) -> std::result::Result<(), Failure> {
    let written = try_join_all(rows.iter().map(|row| insert_generated(tx, table, row))).await?;
    all_written(table, &written)
}

fn all_written(table: &'static str, written: &[bool]) -> std::result::Result<(), Failure> {
    if written.iter().all(|w| *w) {
        Ok(())
    } else {
        Err(Error::Internal(format!("a row of {table} repeats a unique key")).into())
    }
}

impl<'a> Target<'a> {
    /// Begins the transaction and locks every table copied into: until it ends, servers on the database may read
    /// them but not write them.
    pub(crate) async fn begin(connection: &'a mut Connection) -> Result<Target<'a>> {
        let tx = connection.0.transaction().await.map_err(Failure::from)?;
        tx.batch_execute(&format!("LOCK TABLE {} IN EXCLUSIVE MODE", TABLES.join(", ")))
            .await
            .map_err(Failure::from)?;
        Ok(Target { tx })
    }

    /// The first table copied into that holds rows, and how many.
    pub(crate) async fn occupied(&self) -> Result<Option<(&'static str, i64)>> {
        for table in TABLES {
            let rows: i64 = self.count(&format!("SELECT count(*) FROM {table}")).await?;
            if rows > 0 {
                return Ok(Some((table, rows)));
            }
        }
        Ok(None)
    }

    async fn count(&self, sql: &str) -> Result<i64> {
        Ok(self.tx.query_one(sql, &[]).await.map_err(Failure::from)?.get(0))
    }

    /// Tokens with their grants, each with the hash of its secret, as made or revoked.
    pub(crate) async fn tokens(&self, tokens: &[TokenRow]) -> Result<()> {
        for (hash, info) in tokens {
            super::token::insert(&self.tx, info, hash).await?;
        }
        Ok(())
    }

    /// Each network's limits row.
    pub(crate) async fn network_limits(&self, limits: &[(NetworkId, NetworkLimits)]) -> Result<()> {
        for (network, limits) in limits {
            super::limits::set(&self.tx, network, limits).await?;
        }
        Ok(())
    }

    /// Each event's registration counter, so that numbers continue where they were and are never reused.
    pub(crate) async fn event_numbers(&self, numbers: &[EventNumber]) -> Result<()> {
        let statement = self
            .tx
            .prepare_cached("INSERT INTO event_numbers (network_id, event_id, last_number) VALUES ($1, $2, $3)")
            .await
            .map_err(Failure::from)?;
        for n in numbers {
            self.tx
                .execute(&statement, &[&n.network.as_str(), &n.event_id, &n.last_number])
                .await
                .map_err(Failure::from)?;
        }
        Ok(())
    }

    /// Each network's templates, with their versions.
    pub(crate) async fn templates(&self, templates: &[TemplateRow]) -> Result<()> {
        let rows = templates.iter().map(|(network, template)| template_row(network, template)).collect();
        Ok(insert_all(&self.tx, "templates", rows).await?)
    }

    /// Tickets, `sold` included.
    pub(crate) async fn tickets(&self, tickets: &[TicketRow]) -> Result<()> {
        let rows = tickets.iter().map(|(network, ticket)| ticket_row(network, ticket)).collect::<Result<_>>()?;
        Ok(insert_all(&self.tx, "tickets", rows).await?)
    }

    /// Registrations, with their `seq` and their folded copies as [`super::registration::row`] makes them.
    pub(crate) async fn registrations(&self, registrations: &[RecordRow<StoredRegistration>]) -> Result<()> {
        let rows = registrations
            .iter()
            .map(|(network, position, r)| Ok(with_seq(super::registration::row(network, r)?, position.0)))
            .collect::<Result<_>>()?;
        Ok(insert_all(&self.tx, "registrations", rows).await?)
    }

    /// Function tickets, with their `seq`.
    pub(crate) async fn function_tickets(&self, tickets: &[RecordRow<StoredFunctionTicket>]) -> Result<()> {
        let rows = tickets
            .iter()
            .map(|(network, position, t)| Ok(with_seq(function_ticket_row(network, t)?, position.0)))
            .collect::<Result<_>>()?;
        Ok(insert_all(&self.tx, "function_tickets", rows).await?)
    }

    /// Each network's order counter, so that order numbers continue where they were and are never reused.
    pub(crate) async fn order_numbers(&self, numbers: &[(NetworkId, i64)]) -> Result<()> {
        let statement = self
            .tx
            .prepare_cached("INSERT INTO order_numbers (network_id, last_number) VALUES ($1, $2)")
            .await
            .map_err(Failure::from)?;
        for (network, last) in numbers {
            self.tx.execute(&statement, &[&network.as_str(), last]).await.map_err(Failure::from)?;
        }
        Ok(())
    }

    /// Orders, with their `seq`, and the rows that find each by the registrations it holds (made from its
    /// `registrationIds`, as the store makes them; the counts check them against the source's).
    pub(crate) async fn orders(&self, orders: &[RecordRow<StoredOrder>]) -> Result<()> {
        let rows = orders
            .iter()
            .map(|(network, position, o)| Ok(with_seq(order_row(network, o)?, position.0)))
            .collect::<Result<_>>()?;
        insert_all(&self.tx, "orders", rows).await?;
        let held = orders
            .iter()
            .flat_map(|(network, _, o)| {
                o.order.registration_ids.iter().map(move |id| {
                    vec![
                        ("network_id", Cell::from(network.as_str())),
                        ("registration_id", Cell::from(id.as_str())),
                        ("order_number", Cell::Int(o.order.number)),
                    ]
                })
            })
            .collect();
        Ok(insert_all(&self.tx, "order_registrations", held).await?)
    }

    /// Messages of the outbox, with their `seq` (their place in each network's list) and their state as it was: a
    /// message `sending` in the source (its server died during the SMTP exchange) stays so, and is marked failed as
    /// interrupted by the first server's sweep, never sent again by itself.
    pub(crate) async fn messages(&self, messages: &[RecordRow<StoredMessage>]) -> Result<()> {
        let rows = messages.iter().map(|(network, position, m)| with_seq(mail_row(network, m), position.0)).collect();
        Ok(insert_all_generated(&self.tx, "mail_outbox", rows).await?)
    }

    /// The rows of every table copied into, and the registrations of each network and of each event and status as
    /// the triggers keep them.
    pub(crate) async fn counts(&self) -> Result<Counts> {
        let mut counts = Counts::default();
        for table in TABLES {
            counts.tables.push((table, self.count(&format!("SELECT count(*) FROM {table}")).await?));
        }
        let db = |e| Error::from(Failure::Db(e));
        let totals = self.tx.query("SELECT network_id, total FROM registration_totals WHERE total <> 0", &[]).await;
        counts.registrations_by_network = totals.map_err(db)?.iter().map(|r| (r.get(0), r.get(1))).collect();
        let by_event = self
            .tx
            .query("SELECT network_id, event_id, status, n FROM registration_event_counts WHERE n <> 0", &[])
            .await
            .map_err(db)?;
        counts.registrations_by_event = by_event.iter().map(|r| ((r.get(0), r.get(1), r.get(2)), r.get(3))).collect();
        Ok(counts)
    }

    /// Sets each `seq` sequence past the highest value copied, so new records follow the copied ones, and commits.
    pub(crate) async fn commit(self) -> Result<()> {
        self.tx
            .batch_execute(
                "SELECT setval(pg_get_serial_sequence('registrations', 'seq'), \
                 (SELECT coalesce(max(seq), 0) + 1 FROM registrations), false); \
                 SELECT setval(pg_get_serial_sequence('function_tickets', 'seq'), \
                 (SELECT coalesce(max(seq), 0) + 1 FROM function_tickets), false); \
                 SELECT setval(pg_get_serial_sequence('orders', 'seq'), \
                 (SELECT coalesce(max(seq), 0) + 1 FROM orders), false); \
                 SELECT setval(pg_get_serial_sequence('mail_outbox', 'seq'), \
                 (SELECT coalesce(max(seq), 0) + 1 FROM mail_outbox), false);",
            )
            .await
            .map_err(Failure::from)?;
        Ok(self.tx.commit().await.map_err(Failure::from)?)
    }
}
