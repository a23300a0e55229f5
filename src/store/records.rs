//! The tables of records that the shared record methods reach (registrations, function tickets), behind one trait,
//! and the store's async methods over it: callers hand in domain values and get domain values back, and never see a
//! connection. Each method runs in one transaction of the writer (or on one reader), so a change is whole or absent.

use crate::domain::Page;
use crate::domain::ids::NetworkId;
use crate::error::Result;
use crate::store::Store;
use crate::store::list::Found;
use rusqlite::Connection;

/// A table of records: its types, and the SQL functions of its store module.
pub trait RecordTable: Send + Sync + 'static {
    type Record: Send + 'static;
    type Stored: Send + 'static;
    /// A record as lists read it.
    type Listed: Send + 'static;
    fn create(conn: &Connection, network: &NetworkId, record: Self::Record, actor: &str) -> Result<Self::Stored>;
    fn get(conn: &Connection, network: &NetworkId, id: &str) -> Result<Self::Stored>;
    fn replace(
        conn: &Connection,
        network: &NetworkId,
        id: &str,
        record: Self::Record,
        version: Option<i64>,
        actor: &str,
    ) -> Result<Self::Stored>;
    fn delete(conn: &Connection, network: &NetworkId, id: &str) -> Result<()>;
    /// The records whose columns equal the given values.
    fn list_by(
        conn: &Connection,
        network: &NetworkId,
        equal: &[(&str, String)],
        page: &Page,
    ) -> Result<Found<Self::Listed>>;
}

/// Implements [`RecordTable`] for `$table` by the functions of the store module `$module`.
macro_rules! record_table {
    ($table:ident, $module:ident, $record:ty, $stored:ty, $listed:ty) => {
        impl $crate::store::records::RecordTable for $table {
            type Record = $record;
            type Stored = $stored;
            type Listed = $listed;
            fn create(conn: &Connection, network: &NetworkId, record: $record, actor: &str) -> Result<$stored> {
                $module::create(conn, network, record, actor)
            }
            fn get(conn: &Connection, network: &NetworkId, id: &str) -> Result<$stored> {
                $module::get(conn, network, id)
            }
            fn replace(
                conn: &Connection,
                network: &NetworkId,
                id: &str,
                record: $record,
                version: Option<i64>,
                actor: &str,
            ) -> Result<$stored> {
                $module::replace(conn, network, id, record, version, actor)
            }
            fn delete(conn: &Connection, network: &NetworkId, id: &str) -> Result<()> {
                $module::delete(conn, network, id)
            }
            fn list_by(
                conn: &Connection,
                network: &NetworkId,
                equal: &[(&str, String)],
                page: &Page,
            ) -> Result<Found<$listed>> {
                $module::list_by(conn, network, equal, page)
            }
        }
    };
}

/// The registrations table.
pub struct Registrations;
/// The function tickets table.
pub struct FunctionTickets;

use crate::domain::function_ticket::FunctionTicket;
use crate::domain::registration::Registration;
use crate::store::function_ticket::{self, StoredFunctionTicket};
use crate::store::registration::{self, ListedRegistration, StoredRegistration};

record_table!(Registrations, registration, Registration, StoredRegistration, ListedRegistration);
record_table!(FunctionTickets, function_ticket, FunctionTicket, StoredFunctionTicket, StoredFunctionTicket);

impl Store {
    /// Stores a new record.
    pub async fn create_record<T: RecordTable>(
        &self,
        network: &NetworkId,
        record: T::Record,
        actor: &str,
    ) -> Result<T::Stored> {
        let (network, actor) = (network.clone(), actor.to_owned());
        self.write(move |c| T::create(c, &network, record, &actor)).await
    }

    /// One record, or `-32004`.
    pub async fn get_record<T: RecordTable>(&self, network: &NetworkId, id: &str) -> Result<T::Stored> {
        let (network, id) = (network.clone(), id.to_owned());
        self.read(move |c| T::get(c, &network, &id)).await
    }

    /// Replaces a record as a whole, `sysVersion` checked when given.
    pub async fn replace_record<T: RecordTable>(
        &self,
        network: &NetworkId,
        id: &str,
        record: T::Record,
        version: Option<i64>,
        actor: &str,
    ) -> Result<T::Stored> {
        let (network, id, actor) = (network.clone(), id.to_owned(), actor.to_owned());
        self.write(move |c| T::replace(c, &network, &id, record, version, &actor)).await
    }

    /// Replaces a record by what `change` makes of the stored one, read and written in the same transaction (so no
    /// other change can come between), `sysVersion` checked when given.
    pub async fn change_record<T, F>(
        &self,
        network: &NetworkId,
        id: &str,
        version: Option<i64>,
        actor: &str,
        change: F,
    ) -> Result<T::Stored>
    where
        T: RecordTable,
        F: FnOnce(&T::Stored) -> Result<T::Record> + Send + 'static,
    {
        let (network, id, actor) = (network.clone(), id.to_owned(), actor.to_owned());
        self.write(move |c| {
            let next = change(&T::get(c, &network, &id)?)?;
            T::replace(c, &network, &id, next, version, &actor)
        })
        .await
    }

    /// Deletes a record.
    pub async fn delete_record<T: RecordTable>(&self, network: &NetworkId, id: &str) -> Result<()> {
        let (network, id) = (network.clone(), id.to_owned());
        self.write(move |c| T::delete(c, &network, &id)).await
    }

    /// A page of the records whose columns equal the given values.
    pub async fn list_records<T: RecordTable>(
        &self,
        network: &NetworkId,
        equal: Vec<(&'static str, String)>,
        page: Page,
    ) -> Result<Found<T::Listed>> {
        let network = network.clone();
        self.read(move |c| T::list_by(c, &network, &equal, &page)).await
    }
}
