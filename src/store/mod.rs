//! The store: what the server keeps, behind one interface in domain types.
//!
//! Handlers call the [`Store`] trait with a [`NetworkScope`] (the guard's capability, which only the guard makes)
//! and domain values, and get domain values or an [`Error`] with its reason back. No connection, SQL or column name
//! crosses this line: [`sqlite`] is the one implementation today, and the only module that names `rusqlite`.
//!
//! **Guarantees under concurrent calls.** Every method is atomic: a change is whole or absent, and a failed call
//! changes nothing. Each method's doc states what else it keeps however many calls race it; a second backend keeps
//! the same with its own locks (the SQLite one runs every write on one writer thread, in a transaction of its own
//! savepoint, so two writes never interleave).
//!
//! **Rules.** The store reads the facts a rule needs inside its transaction and asks the domain for the decision
//! (capacity, `maxPerAttendee`, `sysLocked`, `sysVersion`, references, numbering): the rules live in `domain/`,
//! the store only makes them atomic.

pub mod copy;
pub mod postgres;
pub mod rows;
pub mod sqlite;

use async_trait::async_trait;

use crate::auth::{NetworkScope, TokenInfo};
use crate::domain::command::TicketWrite;
use crate::domain::function_ticket::{FunctionTicket, FunctionTicketKey, StoredFunctionTicket};
use crate::domain::ids::{ContactId, NetworkId, ProductId, RecordId};
use crate::domain::limits::{Held, NetworkLimits, Usage};
use crate::domain::mail::{MailStatus, Message, MessageId, StoredMessage};
use crate::domain::order::{OrderAction, OrderId, OrderQuery, StoredOrder};
use crate::domain::registration::{
    Registration, RegistrationId, RegistrationKey, RegistrationQuery, StoredRegistration,
};
use crate::domain::template::{StoredTemplate, Template, TemplateKind};
use crate::domain::ticket::{StoredTicket, Ticket};
use crate::domain::time::Timestamp;
use crate::error::Result;

pub use postgres::PostgresStore;
pub use sqlite::{OpenError, SqliteStore, Synchronous};

tokio::task_local! {
    /// When the current call runs out of time. A write queued by a call whose deadline has passed before the store
    /// reaches it is not run at all (its caller has been told `-32000` already); one the store has begun is
    /// committed whole. Either way no write is ever half done. A read past it is abandoned.
    pub static CALL_DEADLINE: std::time::Instant;
}

/// Where a page of a record list starts: after the item with this position, in creation order. Handed to clients
/// only inside an opaque cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position(pub i64);

/// A page request of a record list: at most `limit` items (`None`: all), after `after`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub limit: Option<usize>,
    pub after: Option<Position>,
}

/// One page of items, the count of all that match, and where the next page starts (none after the last).
#[derive(Debug)]
pub struct Found<T> {
    pub count: i64,
    pub items: Vec<(Position, T)>,
    pub next: Option<Position>,
}

impl<T> Found<T> {
    /// A page of `items`, read with one more than `limit` asked for: that one only tells that a next page exists.
    pub fn page(count: i64, mut items: Vec<(Position, T)>, limit: Option<usize>) -> Found<T> {
        let next = match limit {
            Some(l) if items.len() > l => {
                items.truncate(l);
                items.last().map(|(position, _)| *position)
            }
            _ => None,
        };
        Found { count, items, next }
    }
}

/// What changed in a network's tickets since a generation the caller holds.
#[derive(Debug)]
pub enum TicketChanges {
    /// Nothing changed since.
    Unchanged,
    /// Each ticket changed since, once, by productId, as it is now (or gone): applied to the tickets as they were
    /// at the caller's generation, they give the tickets at `generation` or later.
    Changed { generation: u64, changes: Vec<TicketChange> },
    /// Every ticket of the network as of `generation` (or later), by productId: the changes since are not kept.
    Whole { generation: u64, tickets: Vec<StoredTicket> },
}

/// One ticket as a change left it.
#[derive(Debug, Clone)]
pub enum TicketChange {
    /// Made or changed: the ticket as it is after the change.
    Upserted(Box<StoredTicket>),
    Removed(ProductId),
}

/// A change computed from a record as stored, inside the transaction that writes it (again, from the record as it
/// is then, when a store runs the transaction again).
pub type Change<S, R> = Box<dyn Fn(&S) -> Result<R> + Send + Sync>;

/// Purchasable tickets of a network.
#[async_trait]
pub trait Tickets: Send + Sync {
    /// Creates a ticket. One winner per productId: of racing creates of one id, one succeeds and the others get
    /// `Conflict::Duplicate`. Refused past the network's `maxTickets`, counted exactly however many race.
    async fn create_ticket(&self, scope: &NetworkScope, ticket: Ticket) -> Result<StoredTicket>;
    /// Replaces a ticket as a whole; `Conflict::StaleVersion` unless `expected` (when given) is the stored version
    /// at the moment of the write; `allocation` never drops below what is sold. An equal ticket changes nothing.
    async fn update_ticket(&self, scope: &NetworkScope, ticket: Ticket, expected: Option<i64>) -> Result<StoredTicket>;
    /// Deletes a ticket no active registration holds (checked in the same transaction as the delete).
    async fn delete_ticket(&self, scope: &NetworkScope, id: &ProductId) -> Result<()>;
    /// One ticket.
    async fn ticket(&self, scope: &NetworkScope, id: &ProductId) -> Result<StoredTicket>;
    /// The network's ticket generation: it moves whenever one of its tickets changes (a registration moving `sold`
    /// included), never back. Cheap: a caller holding a list of this generation needs nothing more.
    async fn ticket_generation(&self, scope: &NetworkScope) -> Result<u64>;
    /// The network's tickets changed since `since` (`None`: all of them). Never stale: a change acknowledged to any
    /// caller before this call began is in the answer.
    async fn ticket_changes(&self, scope: &NetworkScope, since: Option<u64>) -> Result<TicketChanges>;
    /// Reads the tickets `ids` names (in that order; a missing one is `NotFound`), asks `edit` what to write, and
    /// writes it, all in one transaction: every write happens or none does. Each replacement keeps the rule of
    /// [`update_ticket`](Tickets::update_ticket) (an equal ticket changes nothing, `allocation` never below what is
    /// sold, counted at the moment of the write) and each create the rule of
    /// [`create_ticket`](Tickets::create_ticket); two edits racing on one ticket come one after the other, the second
    /// seeing the first's writes. Answers the tickets written, in `edit`'s order.
    async fn edit_tickets(
        &self,
        scope: &NetworkScope,
        ids: Vec<ProductId>,
        edit: TicketEdit,
    ) -> Result<Vec<StoredTicket>>;
}

/// What [`Tickets::edit_tickets`] writes, decided from the tickets as they are inside its transaction. A `Fn`, as a
/// store may run it again when its transaction is retried.
pub type TicketEdit = std::sync::Arc<dyn Fn(&[StoredTicket]) -> Result<Vec<TicketWrite>> + Send + Sync>;

/// A kind of record kept with the shared record methods (create, get, replace, change, delete, look-ups).
pub trait RecordKind: Send + Sync + 'static {
    /// The record as a client sends it.
    type Record: Send + Sync + 'static;
    /// The record as stored, with its id and sys fields.
    type Stored: Send + Sync + 'static;
    /// What a look-up may match on.
    type Key: Send + Sync + Copy + std::fmt::Debug + 'static;
}

/// Registrations as records.
pub enum RegistrationKind {}
impl RecordKind for RegistrationKind {
    type Record = Registration;
    type Stored = StoredRegistration;
    type Key = RegistrationKey;
}

/// Function tickets as records.
pub enum FunctionTicketKind {}
impl RecordKind for FunctionTicketKind {
    type Record = FunctionTicket;
    type Stored = StoredFunctionTicket;
    type Key = FunctionTicketKey;
}

/// The shared methods of a kind of record, always within the scope's network.
#[async_trait]
pub trait Records<K: RecordKind>: Send + Sync {
    /// Stores a new record; the store makes its id (unique) and, for a registration, its number (never repeated
    /// within an event, however many race), and takes what it holds (never oversold: see `domain::registration`).
    async fn create(&self, scope: &NetworkScope, record: K::Record) -> Result<K::Stored>;
    /// One record.
    async fn get(&self, scope: &NetworkScope, id: &RecordId<K::Record>) -> Result<K::Stored>;
    /// Replaces a record as a whole, the version checked at the moment of the write when `expected` is given.
    async fn replace(
        &self,
        scope: &NetworkScope,
        id: &RecordId<K::Record>,
        record: K::Record,
        expected: Option<i64>,
    ) -> Result<K::Stored>;
    /// Replaces a record by what `change` makes of the stored one, read and written in one transaction, so no
    /// other change comes between.
    async fn change(
        &self,
        scope: &NetworkScope,
        id: &RecordId<K::Record>,
        expected: Option<i64>,
        change: Change<K::Stored, K::Record>,
    ) -> Result<K::Stored>;
    /// Deletes a record nothing refers to (checked in the same transaction).
    async fn delete(&self, scope: &NetworkScope, id: &RecordId<K::Record>) -> Result<()>;
    /// The records whose keys all equal the given values, in creation order.
    async fn list_by(
        &self,
        scope: &NetworkScope,
        keys: Vec<(K::Key, String)>,
        window: Window,
    ) -> Result<Found<K::Stored>>;
}

/// What registrations have beyond the shared record methods.
#[async_trait]
pub trait RegistrationsExtra: Send + Sync {
    /// The registrations matching a query, in creation order.
    async fn search_registrations(
        &self,
        scope: &NetworkScope,
        query: RegistrationQuery,
        window: Window,
    ) -> Result<Found<StoredRegistration>>;
    /// Moves a registration to another contact, with its function tickets, in one transaction; the new contact's
    /// `maxPerAttendee` is checked as a create would. A `confirmation` is composed for the registration as the
    /// transfer leaves it and queued in the same transaction: a refusal to compose it undoes the transfer.
    async fn transfer_registration(
        &self,
        scope: &NetworkScope,
        id: &RegistrationId,
        contact_id: ContactId,
        confirmation: Option<Confirmation>,
    ) -> Result<StoredRegistration>;
}

/// Whom an order is made for.
#[derive(Debug, Clone)]
pub enum OrderFor {
    /// One saved registration.
    Registration(RegistrationId),
    /// Every active registration of the group (`groupId`) that has no order yet.
    Group(String),
}

/// An order made, or the one a registration has already, with its registrations as they are after the call.
#[derive(Debug, Clone)]
pub struct MadeOrder {
    pub order: StoredOrder,
    pub registrations: Vec<StoredRegistration>,
}

/// Orders, and the order fields of the registrations they hold (see `domain::order`), always within the scope's
/// network. Every write of an order writes its registrations' order fields in the same transaction, so the two
/// never disagree, however many calls race.
#[async_trait]
pub trait Orders: Send + Sync {
    /// Makes one order for the registrations `of` names that have none (a registration's order is the latest that
    /// holds it; a cancelled one is none), priced from the network's tickets as they are in the transaction,
    /// numbered from the network's counter (from 1, each number once, no gap between committed orders, however many
    /// servers race), and writes their order fields. A registration that has an order gets it back unchanged,
    /// nothing written. Racing calls for one registration come one after the other: one makes the order and the
    /// others answer it; racing calls for one group likewise, the later ones finding nothing left to order. A group
    /// without a registration to order is `NotFound` (resource `group`); no registration is ever in two orders
    /// that are not cancelled.
    async fn make_order(&self, scope: &NetworkScope, of: OrderFor) -> Result<MadeOrder>;
    /// One order.
    async fn order(&self, scope: &NetworkScope, id: &OrderId) -> Result<StoredOrder>;
    /// The orders matching a query, in creation order.
    async fn list_orders(&self, scope: &NetworkScope, query: OrderQuery, window: Window) -> Result<Found<StoredOrder>>;
    /// Applies a payment or a cancellation to an order by the domain's rule, its version checked against
    /// `expected` at the moment of the write, and writes its registrations' order fields with it; two changes of
    /// one order come one after the other, the second seeing the first (so payments never sum past the total). An
    /// action that changes nothing (cancelling a cancelled order) writes nothing.
    async fn change_order(
        &self,
        scope: &NetworkScope,
        id: &OrderId,
        expected: Option<i64>,
        action: OrderAction,
    ) -> Result<StoredOrder>;
    /// A registration and its order (the latest that holds it, cancelled or not), read together.
    async fn registration_order(
        &self,
        scope: &NetworkScope,
        id: &RegistrationId,
    ) -> Result<(StoredRegistration, Option<StoredOrder>)>;
}

/// Tokens and their grants (the hash of each secret, never the secret).
#[async_trait]
pub trait Tokens: Send + Sync {
    async fn insert_token(&self, info: TokenInfo, secret_hash: [u8; 32]) -> Result<()>;
    /// Stores the first token of the store; `false`, storing nothing, when it holds a token already (however many
    /// servers starting at once on a shared store try: one makes it).
    async fn insert_first_token(&self, info: TokenInfo, secret_hash: [u8; 32]) -> Result<bool>;
    /// Every token with the hash of its secret, oldest first.
    async fn tokens(&self) -> Result<Vec<([u8; 32], TokenInfo)>>;
    /// Revokes a token; revoking twice keeps the first time, which is answered.
    async fn revoke_token(&self, token_id: String) -> Result<Timestamp>;
}

/// Tenant limits.
#[async_trait]
pub trait Limits: Send + Sync {
    /// A network's limits and what it holds.
    async fn network_limits(&self, scope: &NetworkScope) -> Result<(NetworkLimits, Usage)>;
    /// Sets (`Some`) or removes (`None`) the given limits, keeping the others, in one transaction.
    async fn change_network_limits(
        &self,
        scope: &NetworkScope,
        changes: Vec<(Held, Option<i64>)>,
    ) -> Result<(NetworkLimits, Usage)>;
}

/// Each network's own templates (a certificate, a confirmation e-mail), one of each kind at most.
#[async_trait]
pub trait Templates: Send + Sync {
    /// The network's template of `kind`; `None` when it keeps none (the built-in default serves).
    async fn template(&self, scope: &NetworkScope, kind: TemplateKind) -> Result<Option<StoredTemplate>>;
    /// Makes `template` the network's template of its kind, by the rule of [`StoredTemplate::put`] applied to the
    /// one stored at the moment of the write: version 1 when none was kept, the next version when it changes, and
    /// no new version when it is the same. Puts racing on one kind come one after the other (the last one stays),
    /// each answered with what it wrote.
    async fn put_template(&self, scope: &NetworkScope, template: Template) -> Result<StoredTemplate>;
    /// Removes the network's template of `kind`, so the default serves again; whether one was kept.
    async fn delete_template(&self, scope: &NetworkScope, kind: TemplateKind) -> Result<bool>;
}

/// Composes a message for a registration.
pub type Compose = std::sync::Arc<dyn Fn(&StoredRegistration) -> Result<Message> + Send + Sync>;

/// A message a change queues with it, composed inside the change's transaction from the registration as the
/// change leaves it (again when a store runs the transaction again).
#[derive(Clone)]
pub struct Confirmation {
    pub compose: Compose,
    /// Queued `held` (no SMTP URL is configured) rather than `queued`.
    pub held: bool,
}

/// Which messages a list of the outbox holds: any of `statuses` and any of `registration_ids` (an empty list
/// does not filter).
#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    pub statuses: Vec<MailStatus>,
    pub registration_ids: Vec<String>,
}

/// How the sender's attempt at a message ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// The SMTP server accepted it.
    Sent,
    /// A temporary failure: queued again, to be taken at `at`.
    Retry { error: String, at: Timestamp },
    /// Refused for good, or retried for a day in vain.
    Failed { error: String },
    /// Never begun: claimed with others and handed back at a shutdown before its SMTP exchange opened. It is
    /// `queued` again as it was, due when it was, the attempt the claim counted taken back.
    Released,
}

/// The outbox: messages written in the transaction of the change that asks for them, and the sender's claims.
///
/// **At most once.** The sender claims a message ([`claim_due`](Outbox::claim_due): `queued` → `sending`, one
/// attempt more) in a transaction committed before it speaks SMTP, and settles it after
/// ([`settle_message`](Outbox::settle_message), which changes only a message still `sending`). Claims racing on
/// one message, on any number of servers, give it to one claimer. A message left `sending` by a claimer that died
/// is never claimed again: [`interrupt_sending`](Outbox::interrupt_sending) marks it `failed` for an operator.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Writes a message into the outbox, `queued`, or `held` when `held`.
    async fn queue_message(&self, scope: &NetworkScope, message: Message, held: bool) -> Result<StoredMessage>;
    /// One message of the network.
    async fn message(&self, scope: &NetworkScope, id: &MessageId) -> Result<StoredMessage>;
    /// The network's messages matching `filter`, in the order they were queued.
    async fn list_messages(
        &self,
        scope: &NetworkScope,
        filter: MessageFilter,
        window: Window,
    ) -> Result<Found<StoredMessage>>;
    /// Queues a `failed` or `held` message again (`held` again when `held`), its error cleared and its day of
    /// retries begun anew; any other state is `Conflict::NotRetryable`, decided at the moment of the write.
    async fn retry_message(&self, scope: &NetworkScope, id: &MessageId, held: bool) -> Result<StoredMessage>;
    /// How many messages of every network are in each state.
    async fn outbox_counts(&self) -> Result<Vec<(MailStatus, i64)>>;
    /// Claims at most `limit` `queued` messages due at `now` for the sender: each becomes `sending` with one
    /// attempt more, committed before this answers. A message is claimed by one caller only.
    async fn claim_due(&self, now: Timestamp, limit: usize) -> Result<Vec<(NetworkId, StoredMessage)>>;
    /// Records how the attempt at a claimed message ended; `false` (nothing written) when it is no longer
    /// `sending`.
    async fn settle_message(&self, network: &NetworkId, id: &MessageId, delivery: Delivery) -> Result<bool>;
    /// Marks `failed` (with [`crate::domain::mail::INTERRUPTED`]) every message claimed before `claimed_before` and
    /// still `sending`: its claimer died or lost its way, maybe after the SMTP server took the message. How many.
    async fn interrupt_sending(&self, claimed_before: Timestamp) -> Result<u64>;
}

/// Counters of the store's writes, for `admin.stats` and the benchmark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Transactions committed.
    pub commits: u64,
    /// Calls they carried.
    pub calls: u64,
}

/// Everything the server keeps.
#[async_trait]
pub trait Store:
    Tickets
    + Records<RegistrationKind>
    + Records<FunctionTicketKind>
    + RegistrationsExtra
    + Orders
    + Tokens
    + Limits
    + Templates
    + Outbox
{
    /// Whether the store answers.
    async fn ping(&self) -> Result<()>;
    fn stats(&self) -> WriteStats;
    /// On a store that several servers share, a signal that wakes when any of them changes a token (made or
    /// revoked), so that each server reloads its token table; `None` on a store only this server writes.
    fn token_changes(&self) -> Option<std::sync::Arc<tokio::sync::Notify>> {
        None
    }
    /// Stops taking work, lets queued work finish, and closes.
    fn close(&self);
}

/// The store as handlers share it.
pub type SharedStore = std::sync::Arc<dyn Store>;
