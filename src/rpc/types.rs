//! The params and results of every method as types. Their JSON Schemas (schemars) are the OpenRPC document's
//! ([`super::openrpc`]); the method table names one params type and one result type per method.
//!
//! The values inside them are the domain's own types: a ticket is [`Ticket`], a registration's fields are
//! [`Registration`], whose schemas come from what reads them. A params type lists the members its handler reads
//! (the guard's `networkId` aside: the document adds it to every method that acts on a network); a result type
//! is what the handler answers, which a test holds every method's live answer to.

use std::borrow::Cow;
use std::marker::PhantomData;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Value, json};

use crate::domain::command::{COMMANDS, CommandInfo};
use crate::domain::function_ticket::FunctionTicket;
use crate::domain::ids::{ActorId, ContactId, EventId, NetworkId, ProductId, RecordId};
use crate::domain::money::Cents;
use crate::domain::registration::{OrderStatus, Registration};
use crate::domain::schema::{RegistrationSearch, Time};
use crate::domain::sys::Sys;
use crate::domain::ticket::{Ticket, TicketType};
use crate::domain::time::Timestamp;

/// An object as a get or a list answers it: whole, or only the members its `fields` names (and its id, always).
/// Its schema is `T`'s with every member but the id optional.
pub struct Trimmed<T>(PhantomData<T>);

/// An object shown with an id member.
pub trait Identified {
    /// The member that names it.
    const ID: &'static str;
}

impl<T: JsonSchema + Identified> JsonSchema for Trimmed<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("{}Trimmed", T::schema_name()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut schema = T::json_schema(generator);
        schema.insert("required".into(), json!([T::ID]));
        let description = format!("Whole, or only the members `fields` names and {}", T::ID);
        schema.insert("description".into(), description.into());
        schema
    }
}

/// No params: `{}` (or none at all).
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct NoParams {}

/// An empty answer, `{}`.
#[derive(JsonSchema)]
pub struct Empty {}

// ---- tickets ----

/// Members the server makes that a record read, changed and sent back whole still carries: accepted and ignored
/// (`input::READ_ONLY` but `sysVersion`, which each record's schema gives its own meaning). Anything else a record
/// does not name is refused, by the schema as by the server.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct SentBack {
    /// Made by the server: ignored when sent.
    pub sys_created_at: Option<Value>,
    /// Made by the server: ignored when sent.
    pub sys_last_modified_at: Option<Value>,
    /// Made by the server: ignored when sent.
    pub sys_created_by_id: Option<Value>,
    /// Made by the server: ignored when sent.
    pub sys_last_modified_by_id: Option<Value>,
    /// Counted by the server: ignored when sent.
    pub sold: Option<Value>,
}

/// A ticket as a create or a whole replacement sends it.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase", deny_unknown_fields)]
pub struct TicketIn {
    #[schemars(flatten)]
    pub ticket: Ticket,
    /// The version the change was made from: checked on update when present (`-32009 staleVersion`).
    pub sys_version: Option<i64>,
    #[schemars(flatten)]
    pub sent_back: SentBack,
}

/// `{ticket}`.
#[derive(JsonSchema)]
pub struct TicketParams {
    pub ticket: TicketIn,
}

/// `{productId}`.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct ProductIdParams {
    pub product_id: ProductId,
}

/// A ticket as answers show it: its fields, how many are sold, and the system fields.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct TicketShown {
    #[schemars(flatten)]
    pub ticket: Ticket,
    /// Active registrations that hold this ticket.
    pub sold: i64,
    #[schemars(flatten)]
    pub sys: Sys,
}

impl Identified for TicketShown {
    const ID: &'static str = "productId";
}

/// `{ticket}`.
#[derive(JsonSchema)]
pub struct TicketResult {
    pub ticket: TicketShown,
}

/// How `getPurchasableTickets` orders the tickets.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub enum TicketOrderBy {
    DisplayOrder,
    EventStartDate,
    Price,
    ProductId,
    SysLastModifiedAt,
}

/// A direction.
#[derive(JsonSchema)]
#[schemars(rename_all = "lowercase")]
pub enum Direction {
    Asc,
    Desc,
}

/// The filters, ordering and paging of `getPurchasableTickets`; none at all answers every ticket.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct TicketListParams {
    /// Only these tickets.
    #[schemars(length(max = 1000))]
    pub product_ids: Option<Vec<ProductId>>,
    /// Only the tickets of the event of this name.
    #[schemars(length(min = 1, max = 512))]
    pub event_name: Option<String>,
    pub ticket_type: Option<TicketType>,
    pub visible: Option<bool>,
    /// On sale now: visible, not sold out, and the event not yet ended.
    pub on_sale: Option<bool>,
    /// Events starting at or after this.
    #[schemars(with = "Option<Time>")]
    pub starts_from: Option<Timestamp>,
    /// Events starting at or before this.
    #[schemars(with = "Option<Time>")]
    pub starts_to: Option<Timestamp>,
    /// displayOrder when absent; ties are broken by productId.
    pub order_by: Option<TicketOrderBy>,
    /// asc when absent.
    pub order: Option<Direction>,
    /// Most tickets in the page (every one when absent).
    #[schemars(range(min = 1, max = 1000))]
    pub limit: Option<i64>,
    /// The previous page's nextCursor.
    pub cursor: Option<String>,
    /// The members each ticket keeps (productId always).
    pub fields: Option<Vec<String>>,
}

/// `{tickets, count, nextCursor}`.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct TicketList {
    /// The page's tickets: whole, or only the members `fields` names and productId.
    pub tickets: Vec<Trimmed<TicketShown>>,
    /// Every ticket the filters pass, on every page.
    pub count: i64,
    /// The cursor of the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// `{productId, patch, sysVersion?}`: a change of some members of a ticket; the result is validated whole.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct TicketPatchParams {
    pub product_id: ProductId,
    /// At most 1000 operations; none changes nothing.
    #[schemars(length(max = 1000))]
    pub patch: Vec<PatchOperation>,
    /// The version the change was made from (`-32009 staleVersion` when it is not the stored one).
    #[schemars(range(min = 1))]
    pub sys_version: Option<i64>,
}

/// `{commands}`.
#[derive(JsonSchema)]
pub struct CommandList {
    pub commands: Vec<CommandInfo>,
}

/// `{key, productIds, parameters?}`.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct RunCommandParams {
    /// A command's `key`, as `ticket.listCommands` lists them.
    #[schemars(extend("enum" = COMMANDS.iter().map(|c| c.key).collect::<Vec<_>>()))]
    pub key: String,
    /// The tickets, each once; exactly one for a command that applies to one.
    #[schemars(length(min = 1, max = 1000))]
    pub product_ids: Vec<ProductId>,
    /// The command's parameters by name.
    pub parameters: Option<serde_json::Map<String, Value>>,
}

/// `{wasSuccessful, message, tickets}`.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct CommandResult {
    /// Always true: a command that fails is an error and changes nothing.
    pub was_successful: bool,
    pub message: String,
    /// The tickets written, in the order named (a duplicate: the new ticket).
    pub tickets: Vec<TicketShown>,
}

// ---- records: registrations and function tickets ----

/// A new registration: no `id` (the server makes it).
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegistrationNew {
    /// Its number in its event, 1 to 2147483647: made by the server when absent, never repeated.
    #[schemars(range(min = 1, max = 2147483647))]
    pub number: Option<i64>,
    /// Ignored on create (a new record's version is 1).
    #[schemars(range(min = 1))]
    pub sys_version: Option<i64>,
    #[schemars(flatten)]
    pub registration: Registration,
    #[schemars(flatten)]
    pub sent_back: SentBack,
}

/// A registration replacing the stored one of its `id`.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegistrationReplacement {
    /// The registration to replace.
    pub id: RecordId<Registration>,
    /// Its number in its event, 1 to 2147483647: kept when absent.
    #[schemars(range(min = 1, max = 2147483647))]
    pub number: Option<i64>,
    /// The version the change was made from, checked when present (`-32009 staleVersion`).
    pub sys_version: Option<i64>,
    #[schemars(flatten)]
    pub registration: Registration,
    #[schemars(flatten)]
    pub sent_back: SentBack,
}

/// `{registration}` without an id.
#[derive(JsonSchema)]
pub struct RegistrationCreateParams {
    pub registration: RegistrationNew,
}

/// `{registration}` with its id.
#[derive(JsonSchema)]
pub struct RegistrationUpdateParams {
    pub registration: RegistrationReplacement,
}

/// A registration as answers show it.
#[derive(JsonSchema)]
pub struct RegistrationShown {
    pub id: RecordId<Registration>,
    /// Its number in its event.
    pub number: i64,
    #[schemars(flatten)]
    pub registration: Registration,
    #[schemars(flatten)]
    pub sys: Sys,
}

impl Identified for RegistrationShown {
    const ID: &'static str = "id";
}

/// `{registration}`.
#[derive(JsonSchema)]
pub struct RegistrationResult {
    pub registration: RegistrationShown,
}

/// `{registration}`, trimmed to `fields` when they are given.
#[derive(JsonSchema)]
pub struct RegistrationFound {
    pub registration: Trimmed<RegistrationShown>,
}

/// A function ticket replacing the stored one of its `id`.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase", deny_unknown_fields)]
pub struct FunctionTicketReplacement {
    /// The function ticket to replace.
    pub id: RecordId<FunctionTicket>,
    /// The version the change was made from, checked when present (`-32009 staleVersion`).
    pub sys_version: Option<i64>,
    #[schemars(flatten)]
    pub function_ticket: FunctionTicket,
    #[schemars(flatten)]
    pub sent_back: SentBack,
}

/// A new function ticket: no `id` (the server makes it).
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase", deny_unknown_fields)]
pub struct FunctionTicketNew {
    /// Ignored on create (a new record's version is 1).
    #[schemars(range(min = 1))]
    pub sys_version: Option<i64>,
    #[schemars(flatten)]
    pub function_ticket: FunctionTicket,
    #[schemars(flatten)]
    pub sent_back: SentBack,
}

/// `{functionTicket}` without an id (the server makes it).
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct FunctionTicketCreateParams {
    pub function_ticket: FunctionTicketNew,
}

/// `{functionTicket}` with its id.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct FunctionTicketUpdateParams {
    pub function_ticket: FunctionTicketReplacement,
}

/// A function ticket as answers show it.
#[derive(JsonSchema)]
pub struct FunctionTicketShown {
    pub id: RecordId<FunctionTicket>,
    #[schemars(flatten)]
    pub function_ticket: FunctionTicket,
    #[schemars(flatten)]
    pub sys: Sys,
}

impl Identified for FunctionTicketShown {
    const ID: &'static str = "id";
}

/// `{functionTicket}`.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct FunctionTicketResult {
    pub function_ticket: FunctionTicketShown,
}

/// `{functionTicket}`, trimmed to `fields` when they are given.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct FunctionTicketFound {
    pub function_ticket: Trimmed<FunctionTicketShown>,
}

/// `{id, fields?}`: one record, whole or trimmed.
#[derive(JsonSchema)]
pub struct GetParams {
    pub id: RecordId<()>,
    /// The members to keep (and the id).
    pub fields: Option<Vec<String>>,
}

/// `{id}`.
#[derive(JsonSchema)]
pub struct IdParams {
    pub id: RecordId<()>,
}

// ---- templates and certificates ----

/// A kind of template.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub enum TemplateKindName {
    /// A registration's printable certificate.
    Certificate,
    /// The e-mail that confirms a registration.
    ConfirmationEmail,
}

/// `{kind, subject?, body}`: the network's template of a kind.
#[derive(JsonSchema)]
pub struct TemplatePutParams {
    pub kind: TemplateKindName,
    /// Only for `confirmationEmail` (the default subject when left out): one line of plain text, a template too.
    #[schemars(length(min = 1, max = crate::domain::template::MAX_SUBJECT))]
    pub subject: Option<String>,
    /// The template's HTML (minijinja), checked against a sample registration before it is stored.
    #[schemars(length(min = 1, max = crate::domain::template::MAX_BODY))]
    pub body: String,
}

/// `{kind}`.
#[derive(JsonSchema)]
pub struct TemplateKindParams {
    pub kind: TemplateKindName,
}

/// A template as answers show it: the network's own, with its sys fields, or the built-in default, without.
#[derive(JsonSchema)]
pub struct TemplateShown {
    pub kind: TemplateKindName,
    /// An e-mail's subject; null for a certificate.
    pub subject: Option<String>,
    pub body: String,
    /// Whether this is the built-in default, which serves while the network keeps no template of the kind.
    pub default: bool,
    #[schemars(flatten)]
    pub sys: Option<Sys>,
}

/// `{template}`.
#[derive(JsonSchema)]
pub struct TemplateResult {
    pub template: TemplateShown,
}

/// `{registrationId, certificateTemplate}`: a certificate template's text tried on a registration.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct PreviewCertificateParams {
    pub registration_id: RecordId<()>,
    /// The template's HTML, checked as `template.put` checks it; nothing is stored.
    #[schemars(length(min = 1, max = crate::domain::template::MAX_BODY))]
    pub certificate_template: String,
}

/// `{html}`: a complete HTML page, one A4 landscape sheet when printed.
#[derive(JsonSchema)]
pub struct CertificateHtml {
    pub html: String,
}

// ---- mail ----

/// Where a message is on its way.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub enum MailStatusName {
    /// Waiting for the sender, maybe for a retry's time.
    Queued,
    /// Claimed by the sender, which is speaking SMTP for it.
    Sending,
    /// Accepted by the SMTP server.
    Sent,
    /// Refused for good, retried for a day in vain, or interrupted by a crash during delivery.
    Failed,
    /// Kept unsent: the server has no SMTP URL.
    Held,
}

/// A message of the outbox.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct MessageShown {
    pub id: String,
    /// The recipient's address.
    pub to: String,
    pub subject: String,
    /// The HTML part.
    pub html: String,
    /// The plain-text part, derived from the HTML.
    pub text: String,
    pub status: MailStatusName,
    /// SMTP exchanges begun for it.
    pub attempts: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When the SMTP server accepted it.
    pub sent_at: Option<Time>,
    /// The registration it is about.
    pub registration_id: Option<String>,
    #[schemars(flatten)]
    pub sys: Sys,
}

/// `{message}`.
#[derive(JsonSchema)]
pub struct MessageResult {
    pub message: MessageShown,
}

/// `{subject, body}`: an e-mail template's texts, tried without being stored.
#[derive(JsonSchema)]
pub struct EmailTemplateText {
    /// One line of plain text, a template too.
    #[schemars(length(min = 1, max = crate::domain::template::MAX_SUBJECT))]
    pub subject: String,
    /// The template's HTML (minijinja), checked as `template.put` checks it.
    #[schemars(length(min = 1, max = crate::domain::template::MAX_BODY))]
    pub body: String,
}

/// The one kind of e-mail template.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub enum EmailTemplateKind {
    ConfirmationEmail,
}

/// `{registrationId, destinationEmailAddress, type?, emailTemplate?, reviewId?, abstractId?}`.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct PreviewEmailParams {
    pub registration_id: RecordId<()>,
    /// Where the preview goes (not the registration's address).
    #[schemars(length(min = 3, max = 254))]
    pub destination_email_address: String,
    /// The network's template of this kind serves when no `emailTemplate` is given.
    #[schemars(rename = "type")]
    pub kind: Option<EmailTemplateKind>,
    pub email_template: Option<EmailTemplateText>,
    /// Accepted for compatibility; not used.
    pub review_id: Option<String>,
    /// Accepted for compatibility; not used.
    pub abstract_id: Option<String>,
}

/// One status, or a list of them (any of).
#[derive(JsonSchema)]
#[schemars(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

/// `{status?, registrationId?, limit?, cursor?}`.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct MailListParams {
    pub status: Option<OneOrMany<MailStatusName>>,
    pub registration_id: Option<OneOrMany<RecordId<()>>>,
    #[schemars(range(min = 1, max = 1000))]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// `{count, items, nextCursor}` of messages.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct MailList {
    pub count: i64,
    pub items: Vec<MessageShown>,
    pub next_cursor: Option<String>,
}

/// One operation of JSON Patch (RFC 6902).
#[derive(JsonSchema)]
pub struct PatchOperation {
    pub op: PatchOp,
    /// A JSON Pointer (RFC 6901) into the record.
    pub path: String,
    /// The value of add, replace and test.
    pub value: Option<Value>,
    /// The source of move and copy.
    pub from: Option<String>,
}

/// What a JSON Patch operation does.
#[derive(JsonSchema)]
#[schemars(rename_all = "lowercase")]
pub enum PatchOp {
    Add,
    Remove,
    Replace,
    Move,
    Copy,
    Test,
}

/// `{id, patch, sysVersion?}`: a change of some members; the result is validated whole.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct PatchParams {
    pub id: RecordId<()>,
    /// At most 1000 operations; none changes nothing.
    #[schemars(length(max = 1000))]
    pub patch: Vec<PatchOperation>,
    pub sys_version: Option<i64>,
}

/// One operation of a batch.
#[derive(JsonSchema)]
#[schemars(tag = "op", rename_all = "lowercase")]
pub enum BatchOperation {
    /// A JSON Patch of one record.
    Patch {
        id: RecordId<()>,
        patch: Vec<PatchOperation>,
        #[schemars(rename = "sysVersion")]
        sys_version: Option<i64>,
    },
    /// The delete of one record.
    Delete { id: RecordId<()> },
}

/// `{operations}`: up to 100, each done or refused on its own.
#[derive(JsonSchema)]
pub struct BatchParams {
    #[schemars(length(max = 100))]
    pub operations: Vec<BatchOperation>,
}

/// A JSON-RPC error object, as a batch result carries it.
#[derive(JsonSchema)]
pub struct ErrorObject {
    pub code: i32,
    pub message: String,
    pub data: Option<Value>,
}

/// The outcome of one batch operation on a registration.
#[derive(JsonSchema)]
pub struct RegistrationOutcome {
    /// The operation's id as it was sent (null when it sent none).
    pub id: Value,
    pub ok: bool,
    /// The registration after a patch.
    pub registration: Option<RegistrationShown>,
    pub error: Option<ErrorObject>,
}

/// The outcome of one batch operation on a function ticket.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct FunctionTicketOutcome {
    /// The operation's id as it was sent (null when it sent none).
    pub id: Value,
    pub ok: bool,
    /// The function ticket after a patch.
    pub function_ticket: Option<FunctionTicketShown>,
    pub error: Option<ErrorObject>,
}

/// `{successCount, errorCount, results}`, the results in the order of the operations.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase", rename = "BatchReport_{T}")]
pub struct BatchReport<T> {
    pub success_count: u32,
    pub error_count: u32,
    pub results: Vec<T>,
}

/// A page of records: `{count, items, nextCursor}`.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase", rename = "{T}List", bound = "T: JsonSchema + Identified")]
pub struct RecordList<T> {
    /// Every record the filters pass, on every page.
    pub count: i64,
    /// The page's records: whole, or only the members `fields` names and the id.
    pub items: Vec<Trimmed<T>>,
    /// The cursor of the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// The params of `registration.search`: made from the search's own tables of filters.
pub type SearchParams = RegistrationSearch;

/// `{id, contactId, sendConfirmationEmail?}`.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct TransferParams {
    pub id: RecordId<Registration>,
    /// The contact the registration, with its function tickets, moves to.
    pub contact_id: ContactId,
    /// Queue the confirmation e-mail to the registration's address, in the transfer's transaction (a registration
    /// without one: `-32602`, and nothing moves).
    pub send_confirmation_email: Option<bool>,
}

/// A session or function entry with its times, as scheduling conflicts read them.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct TimedEntry {
    pub id: Option<Value>,
    /// An entry without both dates is left out of the comparison.
    #[schemars(with = "Option<Time>")]
    pub start_date: Option<Timestamp>,
    #[schemars(with = "Option<Time>")]
    pub end_date: Option<Timestamp>,
}

/// The registration whose sessions and functions are compared.
#[derive(JsonSchema)]
pub struct ScheduledRegistration {
    #[schemars(default)]
    pub sessions: Vec<TimedEntry>,
    #[schemars(default)]
    pub functions: Vec<TimedEntry>,
}

/// `{registration}`.
#[derive(JsonSchema)]
pub struct ScheduleParams {
    pub registration: ScheduledRegistration,
}

/// One side of a conflict.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct Slot {
    /// session or function.
    pub kind: SlotKind,
    pub id: Value,
    #[schemars(with = "Time")]
    pub start_date: Timestamp,
    #[schemars(with = "Time")]
    pub end_date: Timestamp,
}

/// What a slot is.
#[derive(JsonSchema)]
#[schemars(rename_all = "lowercase")]
pub enum SlotKind {
    Session,
    Function,
}

/// Two slots that overlap in time.
#[derive(JsonSchema)]
pub struct SlotConflict {
    pub first: Slot,
    pub second: Slot,
}

/// `{conflicts}`.
#[derive(JsonSchema)]
pub struct Conflicts {
    pub conflicts: Vec<SlotConflict>,
}

/// Generates the params type of a look-up by some members plus paging.
macro_rules! lookup {
    ($(#[$doc:meta])* $name:ident { $($member:ident: $ty:ty),+ }) => {
        $(#[$doc])*
        #[derive(JsonSchema)]
        #[schemars(rename_all = "camelCase")]
        pub struct $name {
            $(pub $member: $ty,)+
            #[schemars(range(min = 1, max = 1000))]
            /// Most records in the page (100 when absent).
            pub limit: Option<i64>,
            /// The previous page's nextCursor.
            pub cursor: Option<String>,
            /// The members each record keeps (and its id).
            pub fields: Option<Vec<String>>,
        }
    };
}

lookup!(
    /// A contact's registrations.
    ByContact { contact_id: ContactId }
);
lookup!(
    /// A contact's records at one event.
    ByEventContact { event_id: EventId, contact_id: ContactId }
);
lookup!(
    /// The registrations under a parent registration.
    ByParent { parent_registration_id: RecordId<Registration> }
);
lookup!(
    /// The registrations of an order.
    ByOrder { order_id: RecordId<()> }
);
lookup!(
    /// The registrations of a group.
    ByGroup { group_id: RecordId<()> }
);
lookup!(
    /// An organization's registrations at one event.
    ByEventOrganization { event_id: EventId, organization_id: RecordId<()> }
);
lookup!(
    /// The seats at one function.
    ByFunction { function_id: RecordId<()> }
);

// ---- orders ----

/// One value, or a list of them: any of.
pub struct AnyOf<T>(PhantomData<T>);

impl<T: JsonSchema> JsonSchema for AnyOf<T> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        format!("AnyOf{}", T::schema_name()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let one = generator.subschema_for::<T>().to_value();
        let list = json!({"type": "array", "items": one, "minItems": 1, "maxItems": crate::domain::MAX_LIST_VALUES});
        schemars::json_schema!({"description": "This value, or any of these", "anyOf": [one, list]})
    }
}

/// `{id}` (a saved registration: its order) or `{registration}` (an unsaved one: a quote), exactly one of them.
#[derive(JsonSchema)]
pub struct GenerateOrderParams {
    /// A saved registration: makes its order, or answers the one it has (unchanged, so a retry is safe).
    pub id: Option<RecordId<Registration>>,
    /// An unsaved registration, without an id: priced as its order would be, nothing stored.
    pub registration: Option<RegistrationNew>,
}

/// A priced line: a product, how many, at what price.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct QuoteLine {
    /// The ticket the registration holds, or one an add-on names.
    pub product_id: ProductId,
    /// The ticket's event and name.
    pub description: String,
    #[schemars(range(min = 1, max = crate::domain::order::MAX_QUANTITY))]
    pub quantity: i64,
    /// The ticket's price when the order was made.
    pub unit_price: Cents,
    /// unitPrice × quantity.
    pub total: Cents,
}

/// A line of an order: a priced line for one of its registrations.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct OrderLineShown {
    /// The line's own id (a registration's `orderLineItemId` is its first line's).
    pub line_item_id: RecordId<()>,
    pub registration_id: RecordId<Registration>,
    #[schemars(flatten)]
    pub line: QuoteLine,
}

/// An order as answers show it.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct OrderShown {
    pub order_id: RecordId<()>,
    /// Per network, from 1, never reused.
    #[schemars(range(min = 1, max = 2147483647))]
    pub order_number: i64,
    /// `awaiting payment` when made (`completed` when it owes nothing), `completed` once paid, or `cancelled`.
    pub status: OrderStatus,
    #[schemars(extend("const" = "USD"))]
    pub currency_code: String,
    #[schemars(extend("const" = "$"))]
    pub currency_symbol: String,
    pub lines: Vec<OrderLineShown>,
    /// The sum of the lines' totals.
    pub total: Cents,
    /// The payments recorded.
    pub amount_paid: Cents,
    /// total − amountPaid.
    pub balance_due: Cents,
    /// The registrations it is the order of.
    pub registration_ids: Vec<RecordId<Registration>>,
    #[schemars(flatten)]
    pub sys: Sys,
}

impl Identified for OrderShown {
    const ID: &'static str = "orderId";
}

/// A quote: an unsaved registration priced as its order would be; nothing stored, so no id, number or state.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct OrderQuote {
    #[schemars(extend("const" = "USD"))]
    pub currency_code: String,
    #[schemars(extend("const" = "$"))]
    pub currency_symbol: String,
    pub lines: Vec<QuoteLine>,
    pub total: Cents,
    /// Always 0.
    pub amount_paid: Cents,
    pub balance_due: Cents,
}

/// An order made (or the one the registration has), or a quote.
#[derive(JsonSchema)]
#[schemars(untagged)]
pub enum OrderOrQuote {
    Order(OrderShown),
    Quote(OrderQuote),
}

/// `{order, registration}`; a quote: `{order}`.
#[derive(JsonSchema)]
pub struct GeneratedOrder {
    pub order: OrderOrQuote,
    /// The registration with its order fields (absent for a quote).
    pub registration: Option<RegistrationShown>,
}

/// `{groupId}`.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct GroupOrderParams {
    pub group_id: RecordId<()>,
}

/// `{order, registrations}`.
#[derive(JsonSchema)]
pub struct GroupOrder {
    pub order: OrderShown,
    /// The registrations ordered, with their order fields.
    pub registrations: Vec<RegistrationShown>,
}

/// `{registration}`: the body `registration.update` takes (the order fields left out once the server has made the
/// registration's order: they are the order's).
#[derive(JsonSchema)]
pub struct ModificationPayload {
    pub registration: RegistrationReplacement,
}

/// `{orderId}`.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct OrderIdParams {
    pub order_id: RecordId<()>,
}

/// `{order}`.
#[derive(JsonSchema)]
pub struct OrderResult {
    pub order: OrderShown,
}

/// The filters and paging of `order.list`.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct OrderListParams {
    pub status: Option<AnyOf<OrderStatus>>,
    /// The orders that hold any of these registrations (a cancelled one included).
    pub registration_id: Option<AnyOf<RecordId<Registration>>>,
    /// Most orders in the page (100 when absent).
    #[schemars(range(min = 1, max = 1000))]
    pub limit: Option<i64>,
    /// The previous page's nextCursor.
    pub cursor: Option<String>,
    /// The members each order keeps (and its orderId).
    #[schemars(extend("items" = {"type": "string", "enum": crate::domain::order::MEMBERS}))]
    pub fields: Option<Vec<String>>,
}

/// `{orderId, amount, sysVersion?}`.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct PaymentParams {
    pub order_id: RecordId<()>,
    /// More than 0, at most the balance due.
    pub amount: Cents,
    /// The version the payment was decided from (`-32009 staleVersion` when it is not the stored one).
    #[schemars(range(min = 1))]
    pub sys_version: Option<i64>,
}

/// `{orderId, sysVersion?}`.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct CancelParams {
    pub order_id: RecordId<()>,
    #[schemars(range(min = 1))]
    pub sys_version: Option<i64>,
}

// ---- administration ----

/// A grant: `permission@scope`, e.g. `network.manage@net1` or `all@*`.
#[derive(JsonSchema)]
pub struct Grant(#[schemars(regex(pattern = "^(network\\.manage|all)@.+$"))] pub String);

/// `{name, grants, expiresAt?}`.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct CreateTokenParams {
    #[schemars(length(min = 1, max = 200))]
    pub name: String,
    #[schemars(length(min = 1))]
    pub grants: Vec<Grant>,
    /// In the future; never expires when absent.
    #[schemars(with = "Option<Time>")]
    pub expires_at: Option<Timestamp>,
}

/// A token, without its secret.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct TokenInfo {
    pub id: ActorId,
    pub name: String,
    pub grants: Vec<Grant>,
    #[schemars(with = "Time")]
    pub created_at: Timestamp,
    #[schemars(with = "Option<Time>")]
    pub expires_at: Option<Timestamp>,
    #[schemars(with = "Option<Time>")]
    pub revoked_at: Option<Timestamp>,
}

/// `{token, tokenInfo}`: the secret is answered only here.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct CreatedToken {
    /// The secret, sent as `Authorization: Bearer <token>`.
    pub token: String,
    pub token_info: TokenInfo,
}

/// `{tokens}`.
#[derive(JsonSchema)]
pub struct TokenList {
    pub tokens: Vec<TokenInfo>,
}

/// `{tokenInfo}`.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct Whoami {
    pub token_info: TokenInfo,
}

/// `{tokenId}`.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct RevokeParams {
    #[schemars(length(min = 1, max = 100))]
    pub token_id: String,
}

/// The store's write counters.
#[derive(JsonSchema)]
pub struct WriterStats {
    /// Transactions committed.
    pub commits: u64,
    /// Calls those transactions carried.
    pub calls: u64,
}

/// `{writer}`.
#[derive(JsonSchema)]
pub struct Stats {
    pub writer: WriterStats,
}

/// `{networkId}`.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct NetworkParams {
    pub network_id: NetworkId,
}

/// `{networkId, maxTickets?, ...}`: a member sent sets its limit, null removes it, one left out keeps it.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct SetLimitsParams {
    pub network_id: NetworkId,
    #[schemars(range(min = 0, max = crate::domain::limits::MAX_SETTABLE))]
    pub max_tickets: Option<i64>,
    #[schemars(range(min = 0, max = crate::domain::limits::MAX_SETTABLE))]
    pub max_registrations: Option<i64>,
    #[schemars(range(min = 0, max = crate::domain::limits::MAX_SETTABLE))]
    pub max_function_tickets: Option<i64>,
}

/// A network's limits; null is none.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct Limits {
    pub network_id: NetworkId,
    pub max_tickets: Option<i64>,
    pub max_registrations: Option<i64>,
    pub max_function_tickets: Option<i64>,
}

/// What a network holds.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct Usage {
    pub tickets: i64,
    pub registrations: i64,
    pub function_tickets: i64,
}

/// `{limits, usage}`.
#[derive(JsonSchema)]
pub struct LimitsResult {
    pub limits: Limits,
    pub usage: Usage,
}

/// The OpenRPC 1.3 document of every method.
#[derive(JsonSchema)]
pub struct OpenRpcDocument {
    #[schemars(regex(pattern = "^1\\.3\\.[0-9]+$"))]
    pub openrpc: String,
    pub info: Value,
    pub methods: Vec<Value>,
    pub components: Option<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::input::READ_ONLY;

    #[test]
    fn sent_back_names_every_read_only_member_but_the_version() {
        let schema = schemars::generate::SchemaSettings::draft07().into_generator().into_root_schema_for::<SentBack>();
        let mut names: Vec<&str> =
            schema.as_value()["properties"].as_object().unwrap().keys().map(|k| k.as_str()).collect();
        let mut expected: Vec<&str> = READ_ONLY.iter().copied().filter(|n| *n != "sysVersion").collect();
        names.sort_unstable();
        expected.sort_unstable();
        assert_eq!(names, expected);
    }
}
