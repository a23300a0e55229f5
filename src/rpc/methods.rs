//! The method table: every method the server serves, described once. The guard's requirements, the start-up check
//! that every served method is guarded (and every described one served), the nearest names offered for a
//! misspelt method, and the method reference in `docs/api.md` are all read from it.

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::Value;

use super::errors::{CONFLICT, LOCKED, NOT_FOUND};
use super::examples;
use super::types::*;
use crate::auth::Requirement;

/// One method, as its callers need to know it.
#[derive(Debug, Clone, Copy)]
pub struct Method {
    pub name: &'static str,
    /// What the caller's token must hold.
    pub requires: Requirement,
    /// One line: what the method does.
    pub summary: &'static str,
    /// The params it takes, in brief (`API.md` has every field).
    pub params: &'static str,
    /// What it answers, and its particular errors.
    pub result: &'static str,
    /// The JSON Schema of its params object, from its params type ([`super::types`]).
    pub params_type: fn(&mut SchemaGenerator) -> Schema,
    /// The JSON Schema of its result, from its result type.
    pub result_type: fn(&mut SchemaGenerator) -> Schema,
    /// The codes of the errors particular to it (those every method can answer aside).
    pub errors: &'static [i32],
    /// A call and its answer, which a test makes against a live server.
    pub example: fn() -> Example,
}

/// A method's example: its params and the answer they get.
pub struct Example {
    pub params: Value,
    pub result: Value,
}

/// A method's words, until its types are named ([`Described::typed`]): an entry cannot be left without them.
pub struct Described {
    name: &'static str,
    requires: Requirement,
    summary: &'static str,
    params: &'static str,
    result: &'static str,
}

const fn method(
    name: &'static str,
    requires: Requirement,
    summary: &'static str,
    params: &'static str,
    result: &'static str,
) -> Described {
    Described { name, requires, summary, params, result }
}

impl Described {
    /// The entry, with its params type `P`, its result type `R`, its particular errors and its example.
    const fn typed<P: JsonSchema, R: JsonSchema>(self, errors: &'static [i32], example: fn() -> Example) -> Method {
        let Described { name, requires, summary, params, result } = self;
        Method {
            name,
            requires,
            summary,
            params,
            result,
            params_type: P::json_schema,
            result_type: SchemaGenerator::subschema_for::<R>,
            errors,
            example,
        }
    }
}

use Requirement::{All, Authenticated, NetworkManage, Public};

const RECORD_LIST: &str = "`{count, items, nextCursor}` (empty when none)";
const PAGE: &str = "`limit` (1..1000, 100 when absent), `cursor`, `fields`";

/// Every served method by its exact name. A served method missing here stops the server at start-up
/// ([`crate::rpc::methods`]), and one the guard meets without an entry is refused: deny by default.
pub const METHODS: &[Method] = &[
    method(
        "ticket.createPurchasableTicket",
        NetworkManage,
        "Creates a purchasable ticket.",
        "`{ticket}`: productId, eventName, eventStartDate, eventEndDate, ticketType, ticketName, price required",
        "`{ticket}`; a productId the network holds: `-32009 duplicate`",
    )
    .typed::<TicketParams, TicketResult>(&[CONFLICT], examples::ticket_create_purchasable_ticket),
    method(
        "ticket.updatePurchasableTicket",
        NetworkManage,
        "Replaces a ticket whole, found by its productId (omitted optional fields reset).",
        "`{ticket}`, its `sysVersion` checked when present",
        "`{ticket}`; `-32004`; allocation below `sold`: `-32009`",
    )
    .typed::<TicketParams, TicketResult>(&[NOT_FOUND, CONFLICT], examples::ticket_update_purchasable_ticket),
    method(
        "ticket.deletePurchasableTicket",
        NetworkManage,
        "Deletes a ticket no active registration holds.",
        "`{productId}`",
        "`{}`; `-32004`; held by active registrations: `-32009 referenced`",
    )
    .typed::<ProductIdParams, Empty>(&[NOT_FOUND, CONFLICT], examples::ticket_delete_purchasable_ticket),
    method("ticket.getPurchasableTicket", NetworkManage, "One ticket.", "`{productId}`", "`{ticket}`; `-32004`")
        .typed::<ProductIdParams, TicketResult>(&[NOT_FOUND], examples::ticket_get_purchasable_ticket),
    method(
        "ticket.getPurchasableTickets",
        NetworkManage,
        "The network's tickets: every one, or those a filter selects, in pages when asked.",
        "none or `{}`; optional `productIds`, `eventName`, `ticketType`, `visible`, `onSale`, `startsFrom`/`startsTo`, \
         `orderBy`, `order`, `limit`, `cursor`, `fields`",
        "`{tickets, count, nextCursor}`",
    )
    .typed::<TicketListParams, TicketList>(&[], examples::ticket_get_purchasable_tickets),
    method(
        "ticket.patchPurchasableTicket",
        NetworkManage,
        "Changes some members of a ticket by JSON Patch (RFC 6902); the others keep their values.",
        "`{productId, patch, sysVersion?}`; `productId`, `sold` and the sys fields cannot be patched",
        "`{ticket}`; `-32004`; a failed `test`, a stale `sysVersion` or an allocation below `sold`: `-32009`",
    )
    .typed::<TicketPatchParams, TicketResult>(&[NOT_FOUND, CONFLICT], examples::ticket_patch_purchasable_ticket),
    method(
        "ticket.listCommands",
        NetworkManage,
        "The commands `ticket.runCommand` runs, with the tickets and parameters each takes.",
        "none or `{}`",
        "`{commands: [{key, name, appliesTo, order, parameters}]}`",
    )
    .typed::<NoParams, CommandList>(&[], examples::ticket_list_commands),
    method(
        "ticket.runCommand",
        NetworkManage,
        "Runs a command on one ticket or many: every ticket changes, or none.",
        "`{key, productIds, parameters?}`",
        "`{wasSuccessful, message, tickets}`; a missing ticket: `-32004`; a taken productId or an allocation below \
         `sold`: `-32009`; past the network's `maxTickets`: `-32029`",
    )
    .typed::<RunCommandParams, CommandResult>(&[NOT_FOUND, CONFLICT], examples::ticket_run_command),
    method(
        "registration.create",
        NetworkManage,
        "Registers a contact at an event, numbered per event when no number is given.",
        "`{registration}`: eventId, name, contactId, typeId, packageId required; no `id`",
        "`{registration}`; past the ticket's capacity: `-32009 soldOut`; past its per-attendee limit: \
         `-32009 maxPerAttendee`",
    )
    .typed::<RegistrationCreateParams, RegistrationResult>(&[CONFLICT], examples::registration_create),
    method("registration.get", NetworkManage, "One registration.", "`{id, fields?}`", "`{registration}`; `-32004`")
        .typed::<GetParams, RegistrationFound>(&[NOT_FOUND], examples::registration_get),
    method(
        "registration.update",
        NetworkManage,
        "Replaces a registration whole.",
        "`{registration}` with its `id`; `sysVersion` checked when present",
        "`{registration}`; `-32004`; a stale `sysVersion`: `-32009 staleVersion`",
    )
    .typed::<RegistrationUpdateParams, RegistrationResult>(
        &[NOT_FOUND, CONFLICT, LOCKED],
        examples::registration_update,
    ),
    method(
        "registration.patch",
        NetworkManage,
        "Changes a registration with JSON Patch (RFC 6902); the result is validated whole.",
        "`{id, patch, sysVersion?}`",
        "`{registration}`; `-32004`; `-32009 staleVersion`",
    )
    .typed::<PatchParams, RegistrationResult>(&[NOT_FOUND, CONFLICT, LOCKED], examples::registration_patch),
    method(
        "registration.delete",
        NetworkManage,
        "Deletes a registration nothing refers to.",
        "`{id}`",
        "`{}`; function tickets or guests refer to it: `-32009 referenced`",
    )
    .typed::<IdParams, Empty>(&[NOT_FOUND, CONFLICT, LOCKED], examples::registration_delete),
    method(
        "registration.batch",
        NetworkManage,
        "Up to 100 patches and deletes, each done or refused on its own.",
        "`{operations: [{op: \"patch\", id, patch, sysVersion?} | {op: \"delete\", id}]}`",
        "`{successCount, errorCount, results: [{id, ok, registration?, error?}]}`",
    )
    .typed::<BatchParams, BatchReport<RegistrationOutcome>>(&[], examples::registration_batch),
    method(
        "registration.search",
        NetworkManage,
        "Registrations by any of their fields: contains filters on names and addresses, lists, ranges.",
        "any of `ids`, `eventId`; contains (any case) `firstName`, `lastName`, `name`, `emailAddress`, `city`, \
         `state`, `country`, `jobTitle`; any of a list `organizationId`, `orderId`, `orderNumber`, `orderStatus`, \
         `contactId`, `status`, `isGuestRegistration`, `typeId`, `packageId`, `groupId`, `deadlineId`, \
         `parentRegistrationId`; ranges `{from, to}` `date`, `orderBalanceDue`, `orderAmountPaid`, `orderTotal`; \
         paging",
        RECORD_LIST,
    )
    .typed::<SearchParams, RecordList<RegistrationShown>>(&[], examples::registration_search),
    method(
        "registration.transfer",
        NetworkManage,
        "Moves a registration, with its function tickets, to another contact; on request queues its confirmation \
         e-mail in the same transaction.",
        "`{id, contactId, sendConfirmationEmail?}`",
        "`{registration}`; `sendConfirmationEmail` for a registration without an `emailAddress`: `-32602`, and \
         nothing moves",
    )
    .typed::<TransferParams, RegistrationResult>(&[NOT_FOUND, CONFLICT, LOCKED], examples::registration_transfer),
    method(
        "registration.detectSchedulingConflicts",
        NetworkManage,
        "The sessions and functions of a registration that overlap in time.",
        "`{registration}` with `sessions` and `functions` entries holding `startDate`/`endDate`",
        "`{conflicts: [{first, second}]}`",
    )
    .typed::<ScheduleParams, Conflicts>(&[], examples::registration_detect_scheduling_conflicts),
    method(
        "registration.getCertificate",
        NetworkManage,
        "A registration's certificate: the network's certificate template (or the built-in one) rendered for it.",
        "`{id}`",
        "`{html}`: a complete HTML page, one A4 landscape sheet when printed; `-32004`; a registration that is not \
         `active`: `-32009 notActive`",
    )
    .typed::<IdParams, CertificateHtml>(&[NOT_FOUND, CONFLICT], examples::registration_get_certificate),
    method(
        "registration.previewCertificate",
        NetworkManage,
        "A certificate template's text rendered for a registration, as getCertificate would answer it; nothing is \
         stored.",
        "`{registrationId, certificateTemplate}`; a template that does not parse or names a variable that does not \
         exist: `-32602` naming the line",
        "`{html}`; `-32004`",
    )
    .typed::<PreviewCertificateParams, CertificateHtml>(&[NOT_FOUND], examples::registration_preview_certificate),
    method(
        "registration.resendConfirmationEmail",
        NetworkManage,
        "Queues the confirmation e-mail to the registration's address, from the network's template (or the \
         built-in one).",
        "`{id}`",
        "`{message}`: `queued`, or `held` while the server has no SMTP URL; `-32004`; a registration without an \
         `emailAddress`: `-32602`",
    )
    .typed::<IdParams, MessageResult>(&[NOT_FOUND], examples::registration_resend_confirmation_email),
    method(
        "registration.previewEmail",
        NetworkManage,
        "Queues an e-mail rendered for a registration to another address, its subject prefixed `[Preview] `.",
        "`{registrationId, destinationEmailAddress, type?, emailTemplate?: {subject, body}, reviewId?, abstractId?}`: \
         the given template, or else the network's of `type` (`confirmationEmail`); a template that does not parse \
         or names a variable that does not exist: `-32602` naming the line",
        "`{message}`; `-32004`",
    )
    .typed::<PreviewEmailParams, MessageResult>(&[NOT_FOUND], examples::registration_preview_email),
    method(
        "registration.listByContact",
        NetworkManage,
        "A contact's registrations.",
        "`{contactId}` and paging",
        RECORD_LIST,
    )
    .typed::<ByContact, RecordList<RegistrationShown>>(&[], examples::registration_list_by_contact),
    method(
        "registration.listByEventContact",
        NetworkManage,
        "A contact's registrations at one event.",
        "`{eventId, contactId}` and paging",
        RECORD_LIST,
    )
    .typed::<ByEventContact, RecordList<RegistrationShown>>(&[], examples::registration_list_by_event_contact),
    method(
        "registration.listByParent",
        NetworkManage,
        "The registrations under a parent registration (its guests).",
        "`{parentRegistrationId}` and paging",
        RECORD_LIST,
    )
    .typed::<ByParent, RecordList<RegistrationShown>>(&[], examples::registration_list_by_parent),
    method(
        "registration.listByOrder",
        NetworkManage,
        "The registrations of an order.",
        "`{orderId}` and paging",
        RECORD_LIST,
    )
    .typed::<ByOrder, RecordList<RegistrationShown>>(&[], examples::registration_list_by_order),
    method(
        "registration.listByGroup",
        NetworkManage,
        "The registrations of a group.",
        "`{groupId}` and paging",
        RECORD_LIST,
    )
    .typed::<ByGroup, RecordList<RegistrationShown>>(&[], examples::registration_list_by_group),
    method(
        "registration.listByEventOrganization",
        NetworkManage,
        "An organization's registrations at one event.",
        "`{eventId, organizationId}` and paging",
        RECORD_LIST,
    )
    .typed::<ByEventOrganization, RecordList<RegistrationShown>>(
        &[],
        examples::registration_list_by_event_organization,
    ),
    method(
        "registration.generateOrder",
        NetworkManage,
        "Makes and stores the order of a saved registration, priced by the server (a registration that has one gets \
         it back unchanged), or quotes an unsaved registration.",
        "`{id}`, or `{registration}` without an id (a quote: nothing stored)",
        "`{order, registration}` (a quote: `{order}` without id, number or state); a ticket that no longer exists: \
         `-32009 missingReference`; a cancelled registration: `-32009 notActive`; a locked one: `-32023`",
    )
    .typed::<GenerateOrderParams, GeneratedOrder>(
        &[NOT_FOUND, CONFLICT, LOCKED],
        examples::registration_generate_order,
    ),
    method(
        "registration.generateGroupOrder",
        NetworkManage,
        "Makes one order for every active registration of a group that has none yet.",
        "`{groupId}`",
        "`{order, registrations}`; no active registration in the group: `-32004 {resource: group, id}`; every \
         active one in an order already: `-32004` with `activeRegistrations` and the `orderIds` that hold them; a \
         ticket that no longer exists: `-32009 missingReference`; a locked registration: `-32023`",
    )
    .typed::<GroupOrderParams, GroupOrder>(&[NOT_FOUND, CONFLICT, LOCKED], examples::registration_generate_group_order),
    method(
        "registration.getModificationPayload",
        NetworkManage,
        "The body `registration.update` takes to change a registration; sent back unchanged it changes nothing.",
        "`{id}`",
        "`{registration}`: its id, every writable field (the order fields left out once the server has made its \
         order) and its sysVersion; `-32004`",
    )
    .typed::<IdParams, ModificationPayload>(&[NOT_FOUND], examples::registration_get_modification_payload),
    method("order.get", NetworkManage, "One order.", "`{orderId}`", "`{order}`; `-32004`")
        .typed::<OrderIdParams, OrderResult>(&[NOT_FOUND], examples::order_get),
    method(
        "order.list",
        NetworkManage,
        "The network's orders, by state and by the registrations they hold.",
        "any of `status`, `registrationId` (a value or a list), and paging",
        RECORD_LIST,
    )
    .typed::<OrderListParams, RecordList<OrderShown>>(&[], examples::order_list),
    method(
        "order.recordPayment",
        NetworkManage,
        "Records a payment of an order and its registrations' order fields; `completed` once nothing is due.",
        "`{orderId, amount, sysVersion?}`: amount more than 0, at most the balance due",
        "`{order}`; `-32004`; an amount of 0 or over the balance: `-32602`; a completed or cancelled order: \
         `-32009 orderClosed`; a stale `sysVersion`: `-32009 staleVersion`; a locked registration: `-32023`",
    )
    .typed::<PaymentParams, OrderResult>(&[NOT_FOUND, CONFLICT, LOCKED], examples::order_record_payment),
    method(
        "order.cancel",
        NetworkManage,
        "Cancels an order (its payments stay recorded); its registrations keep their place and may be ordered again.",
        "`{orderId, sysVersion?}`",
        "`{order}`, `cancelled` (a cancelled one: unchanged); `-32004`; a completed order: `-32009 orderClosed`; \
         a stale `sysVersion`: `-32009 staleVersion`; a locked registration: `-32023`",
    )
    .typed::<CancelParams, OrderResult>(&[NOT_FOUND, CONFLICT, LOCKED], examples::order_cancel),
    method(
        "functionTicket.create",
        NetworkManage,
        "Gives a contact a seat at one function of an event.",
        "`{functionTicket}`: name, eventId, functionId, contactId, status required; no `id`",
        "`{functionTicket}`; a registrationId that does not exist: `-32009 missingReference`",
    )
    .typed::<FunctionTicketCreateParams, FunctionTicketResult>(&[CONFLICT], examples::function_ticket_create),
    method(
        "functionTicket.get",
        NetworkManage,
        "One function ticket.",
        "`{id, fields?}`",
        "`{functionTicket}`; `-32004`",
    )
    .typed::<GetParams, FunctionTicketFound>(&[NOT_FOUND], examples::function_ticket_get),
    method(
        "functionTicket.update",
        NetworkManage,
        "Replaces a function ticket whole.",
        "`{functionTicket}` with its `id`; `sysVersion` checked when present",
        "`{functionTicket}`; `-32004`; `-32009 staleVersion`",
    )
    .typed::<FunctionTicketUpdateParams, FunctionTicketResult>(
        &[NOT_FOUND, CONFLICT, LOCKED],
        examples::function_ticket_update,
    ),
    method(
        "functionTicket.patch",
        NetworkManage,
        "Changes a function ticket with JSON Patch (RFC 6902).",
        "`{id, patch, sysVersion?}`",
        "`{functionTicket}`; `-32004`; `-32009 staleVersion`",
    )
    .typed::<PatchParams, FunctionTicketResult>(&[NOT_FOUND, CONFLICT, LOCKED], examples::function_ticket_patch),
    method("functionTicket.delete", NetworkManage, "Deletes a function ticket.", "`{id}`", "`{}`; `-32004`")
        .typed::<IdParams, Empty>(&[NOT_FOUND, LOCKED], examples::function_ticket_delete),
    method(
        "functionTicket.batch",
        NetworkManage,
        "Up to 100 patches and deletes, each done or refused on its own.",
        "as `registration.batch`",
        "as `registration.batch`",
    )
    .typed::<BatchParams, BatchReport<FunctionTicketOutcome>>(&[], examples::function_ticket_batch),
    method(
        "functionTicket.listByFunction",
        NetworkManage,
        "The seats at one function.",
        "`{functionId}` and paging",
        RECORD_LIST,
    )
    .typed::<ByFunction, RecordList<FunctionTicketShown>>(&[], examples::function_ticket_list_by_function),
    method(
        "functionTicket.listByEventContact",
        NetworkManage,
        "A contact's function tickets at one event.",
        "`{eventId, contactId}` and paging",
        RECORD_LIST,
    )
    .typed::<ByEventContact, RecordList<FunctionTicketShown>>(&[], examples::function_ticket_list_by_event_contact),
    method(
        "template.put",
        NetworkManage,
        "Makes a template the network's own for its kind (`certificate`, `confirmationEmail`), checked first.",
        "`{kind, subject?, body}`: `subject` only for `confirmationEmail` (the default's when left out); a template \
         that does not parse or names a variable that does not exist: `-32602` naming the line",
        "`{template}`: version 1 when new, the next when changed, the same when equal",
    )
    .typed::<TemplatePutParams, TemplateResult>(&[], examples::template_put),
    method(
        "template.get",
        NetworkManage,
        "The network's template of a kind, or the built-in default it is served while it keeps none.",
        "`{kind}`",
        "`{template}`: the default with `\"default\": true`",
    )
    .typed::<TemplateKindParams, TemplateResult>(&[], examples::template_get),
    method(
        "template.delete",
        NetworkManage,
        "Removes the network's template of a kind: the built-in default serves again.",
        "`{kind}`",
        "`{}`, also when the network kept none",
    )
    .typed::<TemplateKindParams, Empty>(&[], examples::template_delete),
    method(
        "mail.list",
        NetworkManage,
        "The network's messages, in the order they were queued.",
        "`status`, `registrationId` (each one value or a list: any of), `limit` (1..1000, 100 when absent), `cursor`",
        "`{count, items, nextCursor}`",
    )
    .typed::<MailListParams, MailList>(&[], examples::mail_list),
    method(
        "mail.get",
        NetworkManage,
        "One message: its parts, status, attempts and last error.",
        "`{id}`",
        "`{message}`; `-32004`",
    )
    .typed::<IdParams, MessageResult>(&[NOT_FOUND], examples::mail_get),
    method(
        "mail.retry",
        NetworkManage,
        "Queues a `failed` or `held` message again (still `held` while the server has no SMTP URL).",
        "`{id}`",
        "`{message}`; `-32004`; a message queued, being sent or sent: `-32009 notRetryable`",
    )
    .typed::<IdParams, MessageResult>(&[NOT_FOUND, CONFLICT], examples::mail_retry),
    method(
        "admin.createToken",
        All,
        "Makes a token; its secret is answered only here.",
        "`{name, grants, expiresAt?}`",
        "`{token, tokenInfo}`",
    )
    .typed::<CreateTokenParams, CreatedToken>(&[], examples::admin_create_token),
    method("admin.listTokens", All, "Every token, without secrets.", "`{}`", "`{tokens}`")
        .typed::<NoParams, TokenList>(&[], examples::admin_list_tokens),
    method("admin.revokeToken", All, "Revokes a token, at once on every server.", "`{tokenId}`", "`{}`")
        .typed::<RevokeParams, Empty>(&[NOT_FOUND], examples::admin_revoke_token),
    method("admin.stats", All, "The store's write counters.", "`{}`", "`{writer: {commits, calls}}`")
        .typed::<NoParams, Stats>(&[], examples::admin_stats),
    method(
        "admin.setNetworkLimits",
        All,
        "Sets or removes a network's tenant limits.",
        "`{networkId, maxTickets?, maxRegistrations?, maxFunctionTickets?}` (null removes a limit)",
        "`{limits, usage}`",
    )
    .typed::<SetLimitsParams, LimitsResult>(&[], examples::admin_set_network_limits),
    method("admin.getNetworkLimits", All, "A network's tenant limits and usage.", "`{networkId}`", "`{limits, usage}`")
        .typed::<NetworkParams, LimitsResult>(&[], examples::admin_get_network_limits),
    method("admin.whoami", Authenticated, "The calling token.", "`{}`", "`{tokenInfo}`")
        .typed::<NoParams, Whoami>(&[], examples::admin_whoami),
    method(
        "rpc.discover",
        Public,
        "The OpenRPC 1.3 document of every method (also `GET /openrpc.json`); no token needed.",
        "none or `{}`",
        "the document: `{openrpc, info, methods, components}`",
    )
    .typed::<NoParams, OpenRpcDocument>(&[], examples::rpc_discover),
];

/// The entry of a method; `None` for a name the table does not hold. Asked on every call (by the guard), so
/// found in a map made once rather than by a walk of the table.
pub fn find(name: &str) -> Option<&'static Method> {
    static BY_NAME: std::sync::LazyLock<std::collections::HashMap<&'static str, &'static Method>> =
        std::sync::LazyLock::new(|| METHODS.iter().map(|m| (m.name, m)).collect());
    BY_NAME.get(name).copied()
}

/// What a method needs; `None` for a name the table does not hold.
pub fn required(name: &str) -> Option<Requirement> {
    find(name).map(|m| m.requires)
}

/// The described methods nearest to a name that is none of them, nearest first: those a few edits away (a typo)
/// and those whose name differs only in case or namespace. At most three.
pub fn nearest(name: &str) -> Vec<&'static str> {
    let wanted = name.to_ascii_lowercase();
    let bare = |n: &str| n.rsplit('.').next().unwrap_or(n).to_ascii_lowercase();
    let mut scored: Vec<(usize, &'static str)> = METHODS
        .iter()
        .filter_map(|m| {
            let whole = edits(&wanted, &m.name.to_ascii_lowercase());
            // The right method in the wrong namespace, or without one.
            let same_bare = bare(name) == bare(m.name);
            let allowed = 2 + m.name.len() / 8;
            match (whole <= allowed, same_bare) {
                (_, true) => Some((whole.min(1), m.name)),
                (true, false) => Some((whole, m.name)),
                (false, false) => None,
            }
        })
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, n)| n).collect()
}

/// The Levenshtein distance between two names (short, ASCII in practice; counted in chars).
fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// The method reference of `docs/api.md`, written from the table.
pub fn reference() -> String {
    let mut out = String::from(
        "## Methods\n\n<!-- Written from the method table (src/rpc/methods.rs) by `cargo run -- docs`; a test fails \
         when it is stale. -->\n\n",
    );
    out.push_str(&format!("Every list below takes {PAGE}, and answers `nextCursor` (null at the end).\n\n"));
    let mut namespace = "";
    for m in METHODS {
        let this = m.name.split('.').next().unwrap_or(m.name);
        if this != namespace {
            namespace = this;
            out.push_str(&format!("### `{namespace}.*`\n\n| method | needs | params | result |\n|---|---|---|---|\n"));
        }
        let needs = match m.requires {
            Public => "no token",
            Authenticated => "any valid token",
            NetworkManage => "`network.manage` on the network",
            All => "`all@*` (an admin token)",
        };
        let row = |s: &str| s.replace('|', "\\|");
        out.push_str(&format!(
            "| `{}`: {} | {needs} | {} | {} |\n",
            m.name,
            row(m.summary),
            row(m.params),
            row(m.result)
        ));
        if METHODS.iter().skip_while(|n| n.name != m.name).nth(1).is_none_or(|n| !n.name.starts_with(this)) {
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_names_methods_exactly() {
        assert_eq!(required("ticket.createPurchasableTicket"), Some(Requirement::NetworkManage));
        assert_eq!(required("registration.create"), Some(Requirement::NetworkManage));
        assert_eq!(required("functionTicket.get"), Some(Requirement::NetworkManage));
        assert_eq!(required("admin.createToken"), Some(Requirement::All));
        assert_eq!(required("admin.whoami"), Some(Requirement::Authenticated));
        // A new method of a known namespace has no entry until one is written: no prefix grants it anything.
        for unknown in ["ticket.exportAll", "admin.dropEverything", "other.thing", "nodot", ""] {
            assert_eq!(required(unknown), None, "{unknown}");
        }
    }

    #[test]
    fn names_are_unique_and_each_has_its_words() {
        let mut names: Vec<&str> = METHODS.iter().map(|m| m.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), METHODS.len(), "a method described twice");
        for m in METHODS {
            assert!(!m.summary.is_empty() && !m.params.is_empty() && !m.result.is_empty(), "{}", m.name);
        }
    }

    #[test]
    fn a_misspelt_name_is_offered_the_nearest_ones() {
        assert_eq!(nearest("ticket.createPurchaseableTicket")[0], "ticket.createPurchasableTicket");
        assert_eq!(nearest("registration.serach")[0], "registration.search");
        assert_eq!(nearest("REGISTRATION.GET")[0], "registration.get");
        // The right method name in the wrong namespace.
        assert!(nearest("ticket.whoami").contains(&"admin.whoami"), "{:?}", nearest("ticket.whoami"));
        assert!(nearest("whoami").contains(&"admin.whoami"));
        assert!(nearest("completely.unrelated").is_empty(), "{:?}", nearest("completely.unrelated"));
        assert!(nearest("registration.get").len() <= 3);
    }

    /// `docs/api.md` is its hand-written part followed by [`reference`]; `TICKET_ADMIN_WRITE_DOCS=1` rewrites it.
    #[test]
    fn docs_api_md_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/api.md");
        let text = std::fs::read_to_string(path).expect("docs/api.md");
        let written = text.find("## Methods\n").map_or(text.as_str(), |at| &text[..at]);
        let current = format!("{written}{}", reference());
        if std::env::var_os("TICKET_ADMIN_WRITE_DOCS").is_some() {
            std::fs::write(path, &current).expect("docs/api.md written");
            return;
        }
        assert!(text == current, "docs/api.md is stale: run TICKET_ADMIN_WRITE_DOCS=1 cargo test docs_api_md");
    }

    #[test]
    fn the_reference_names_every_method_once() {
        let reference = reference();
        for m in METHODS {
            assert_eq!(reference.matches(&format!("| `{}`:", m.name)).count(), 1, "{}", m.name);
        }
    }
}
