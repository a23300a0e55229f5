//! Purchasable tickets: the Adminserver's fields plus capacity (`allocation`, `maxPerAttendee`), visibility and
//! display order.

use serde_json::{Map, Value};

use super::ids::{ActorId, ProductId};
use super::input::{self, Input, MAX_SAFE_INTEGER};
use super::money::Cents;
use super::sys::Sys;
use super::time::{self, Timestamp};
use crate::error::{Conflict, FieldError};

/// Most grants a ticket may carry.
pub const MAX_GRANTS: usize = 32;
/// Longest name or description accepted.
const MAX_TEXT: usize = 10_000;
/// Longest short string (names, ids) accepted.
pub const MAX_SHORT: usize = 512;

/// How many days of the event a ticket admits to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketType {
    /// The whole event.
    Single,
    /// `days:NofM`: N of the event's M days.
    Days { n: u16, of: u16 },
}

impl TicketType {
    /// Reads `single` or `days:NofM` with 1 ≤ N ≤ M ≤ 366.
    pub fn parse(s: &str) -> Result<TicketType, String> {
        const EXPECTED: &str = "must be 'single' or 'days:NofM' with 1 <= N <= M <= 366";
        if s == "single" {
            return Ok(TicketType::Single);
        }
        let (n, of) = s.strip_prefix("days:").and_then(|rest| rest.split_once("of")).ok_or(EXPECTED)?;
        let digits = |d: &str| !d.is_empty() && d.len() <= 3 && d.bytes().all(|b| b.is_ascii_digit());
        if !digits(n) || !digits(of) {
            return Err(EXPECTED.into());
        }
        let (n, of): (u16, u16) = (n.parse().map_err(|_| EXPECTED)?, of.parse().map_err(|_| EXPECTED)?);
        if n >= 1 && n <= of && of <= 366 { Ok(TicketType::Days { n, of }) } else { Err(EXPECTED.into()) }
    }
}

impl std::fmt::Display for TicketType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TicketType::Single => f.write_str("single"),
            TicketType::Days { n, of } => write!(f, "days:{n}of{of}"),
        }
    }
}

impl serde::Serialize for TicketType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A reward the ticket grants, e.g. a user role.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TicketGrant {
    /// Always `userRole` in the Adminserver.
    #[schemars(extend("const" = "userRole"))]
    pub grant_type: String,
    /// `roleId:roleTarget`.
    #[schemars(regex(pattern = "^[^:]+:.+$"), length(max = 512))]
    pub grant_target: String,
}

fn parse_grants(v: &Value) -> Result<Vec<TicketGrant>, String> {
    let list = v.as_array().ok_or("must be an array")?;
    if list.len() > MAX_GRANTS {
        return Err(format!("must have at most {MAX_GRANTS} entries"));
    }
    list.iter()
        .enumerate()
        .map(|(i, g)| {
            let obj = g.as_object().ok_or_else(|| format!("entry {i} must be an object"))?;
            if let Some(extra) = obj.keys().find(|k| *k != "grantType" && *k != "grantTarget") {
                return Err(format!("entry {i} has an unknown field '{extra}'"));
            }
            if obj.get("grantType").and_then(Value::as_str) != Some("userRole") {
                return Err(format!("entry {i}: grantType must be 'userRole'"));
            }
            let target = obj.get("grantTarget").and_then(Value::as_str).unwrap_or_default();
            match target.split_once(':') {
                Some((role, scope)) if !role.is_empty() && !scope.is_empty() && target.len() <= MAX_SHORT => {
                    Ok(TicketGrant { grant_type: "userRole".into(), grant_target: target.to_owned() })
                }
                _ => Err(format!("entry {i}: grantTarget must be 'roleId:roleTarget'")),
            }
        })
        .collect()
}

/// A valid purchasable ticket as a client describes it (no server-made fields). Its JSON Schema (`rpc.discover`)
/// is derived from it, with the sizes [`Ticket::from_json`] checks.
#[derive(Debug, Clone, PartialEq, schemars::JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub struct Ticket {
    pub product_id: ProductId,
    #[schemars(length(min = 1, max = 512))]
    pub event_name: String,
    #[schemars(with = "super::schema::Time")]
    pub event_start_date: Timestamp,
    /// Not before `eventStartDate`.
    #[schemars(with = "super::schema::Time")]
    pub event_end_date: Timestamp,
    pub ticket_type: TicketType,
    #[schemars(length(min = 1, max = 512))]
    pub ticket_name: String,
    #[schemars(default, length(max = 10000))]
    pub ticket_description: String,
    pub price: Cents,
    #[schemars(default, length(max = 512))]
    pub thumbnail_id: String,
    /// A marketing label; it changes no price.
    #[schemars(default, length(max = 512))]
    pub discount: String,
    #[schemars(default, length(max = 32))]
    pub grants: Vec<TicketGrant>,
    /// Capacity; null is unlimited.
    #[schemars(range(min = 0, max = 4294967295u32))]
    pub allocation: Option<i64>,
    /// Most tickets one contact may hold; null is unlimited.
    #[schemars(range(min = 1, max = 4294967295u32))]
    pub max_per_attendee: Option<i64>,
    #[schemars(default = "shown")]
    pub visible: bool,
    #[schemars(default, range(min = -2147483648, max = 2147483647))]
    pub display_order: i64,
}

/// A ticket is visible unless it says otherwise.
fn shown() -> bool {
    true
}

/// A ticket as stored: the client's fields, how many are sold, and the system fields.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTicket {
    pub ticket: Ticket,
    /// Active registrations that hold this ticket.
    pub sold: i64,
    pub sys: Sys,
}

/// A ticket read from a create or update request, with the `sysVersion` the client expects, if it sent one.
pub struct TicketInput {
    pub ticket: Ticket,
    pub expected_version: Option<i64>,
}

impl Ticket {
    /// Validates a `ticket` object; `path` names it in errors.
    pub fn from_json(path: &str, value: &Value) -> Result<TicketInput, Vec<FieldError>> {
        let mut input = Input::new(path, value).map_err(|e| vec![e])?;
        let product_id = input.required("productId", |v| ProductId::parse(v.as_str().ok_or("must be a string")?));
        let event_name = input.required_text("eventName", MAX_SHORT);
        let start = input.required_time("eventStartDate");
        let end = input.required_time("eventEndDate");
        if let (Some(start), Some(end)) = (start, end)
            && end < start
        {
            input.fail("eventEndDate", "must not be before eventStartDate");
        }
        let ticket_type = input.required("ticketType", |v| TicketType::parse(v.as_str().ok_or("must be a string")?));
        let ticket_name = input.required_text("ticketName", MAX_SHORT);
        let ticket_description = input.optional_text("ticketDescription", MAX_TEXT);
        let price = input.required("price", Cents::parse);
        let thumbnail_id = input.optional_text("thumbnailId", MAX_SHORT);
        let discount = input.optional_text("discount", MAX_SHORT);
        let grants = input.optional("grants", parse_grants).unwrap_or_default();
        let allocation = input.optional_int("allocation", 0, i64::from(u32::MAX));
        let max_per_attendee = input.optional_int("maxPerAttendee", 1, i64::from(u32::MAX));
        let visible = input.optional_bool("visible").unwrap_or(true);
        let display_order = input.optional_int("displayOrder", i64::from(i32::MIN), i64::from(i32::MAX)).unwrap_or(0);
        let expected_version = input.optional_int("sysVersion", 1, MAX_SAFE_INTEGER);
        input.finish()?;
        // finish() returned Ok, so every required member parsed.
        match (product_id, event_name, start, end, ticket_type, ticket_name, price) {
            (
                Some(product_id),
                Some(event_name),
                Some(event_start_date),
                Some(event_end_date),
                Some(ticket_type),
                Some(ticket_name),
                Some(price),
            ) => Ok(TicketInput {
                ticket: Ticket {
                    product_id,
                    event_name,
                    event_start_date,
                    event_end_date,
                    ticket_type,
                    ticket_name,
                    ticket_description,
                    price,
                    thumbnail_id,
                    discount,
                    grants,
                    allocation,
                    max_per_attendee,
                    visible,
                    display_order,
                },
                expected_version,
            }),
            _ => Err(vec![FieldError::new(path, "is incomplete")]),
        }
    }
}

/// A stored ticket as the API shows it ([`StoredTicket::shown`]): its fields, `sold`, then the sys fields.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Shown<'a> {
    product_id: &'a str,
    event_name: &'a str,
    #[serde(serialize_with = "time::serialize")]
    event_start_date: &'a Timestamp,
    #[serde(serialize_with = "time::serialize")]
    event_end_date: &'a Timestamp,
    ticket_type: TicketType,
    ticket_name: &'a str,
    ticket_description: &'a str,
    price: Cents,
    thumbnail_id: &'a str,
    discount: &'a str,
    grants: &'a [TicketGrant],
    allocation: Option<i64>,
    max_per_attendee: Option<i64>,
    visible: bool,
    display_order: i64,
    sold: i64,
    #[serde(flatten)]
    sys: &'a Sys,
}

impl StoredTicket {
    /// The ticket as the API shows it.
    pub fn to_json(&self) -> Map<String, Value> {
        super::record::to_object(&self.shown())
    }

    /// The ticket as the API shows it, to serialize straight into an answer (no JSON object built first).
    pub fn shown(&self) -> Shown<'_> {
        let t = &self.ticket;
        Shown {
            product_id: t.product_id.as_str(),
            event_name: &t.event_name,
            event_start_date: &t.event_start_date,
            event_end_date: &t.event_end_date,
            ticket_type: t.ticket_type,
            ticket_name: &t.ticket_name,
            ticket_description: &t.ticket_description,
            price: t.price,
            thumbnail_id: &t.thumbnail_id,
            discount: &t.discount,
            grants: &t.grants,
            allocation: t.allocation,
            max_per_attendee: t.max_per_attendee,
            visible: t.visible,
            display_order: t.display_order,
            sold: self.sold,
            sys: &self.sys,
        }
    }

    /// The rule of a replacement: the stored ticket if `next` changes nothing (no new version), else the ticket as
    /// `next` makes it, its sold count kept, unless the new `allocation` is below what is sold.
    pub fn replaced(&self, next: Ticket, actor: &ActorId) -> Result<Option<StoredTicket>, Conflict> {
        if next == self.ticket {
            return Ok(None);
        }
        if let Some(allocation) = next.allocation
            && allocation < self.sold
        {
            return Err(Conflict::AllocationBelowSold { allocation, sold: self.sold });
        }
        Ok(Some(StoredTicket { ticket: next, sold: self.sold, sys: self.sys.changed(actor) }))
    }

    /// The rule of a delete: no active registration may hold the ticket.
    pub fn check_deletable(&self) -> Result<(), Conflict> {
        if self.sold > 0 {
            return Err(Conflict::TicketHeld { product_id: self.ticket.product_id.to_string(), sold: self.sold });
        }
        Ok(())
    }

    /// The rule of taking one more of the ticket for `contact_id`, who already holds `holding` of it: never past
    /// the allocation, nor past `maxPerAttendee`.
    pub fn check_room_for(&self, contact_id: &str, holding: i64) -> Result<(), Conflict> {
        let t = &self.ticket;
        if let Some(allocation) = t.allocation
            && self.sold >= allocation
        {
            return Err(Conflict::SoldOut { product_id: t.product_id.to_string(), allocation, sold: self.sold });
        }
        if let Some(max) = t.max_per_attendee
            && holding >= max
        {
            return Err(Conflict::MaxPerAttendee {
                product_id: t.product_id.to_string(),
                contact_id: contact_id.to_owned(),
                holding,
                max,
            });
        }
        Ok(())
    }

    /// Whether the ticket can be bought now: visible, not sold out, its event not yet ended.
    pub fn on_sale(&self, now: Timestamp) -> bool {
        let t = &self.ticket;
        t.visible && t.allocation.is_none_or(|a| self.sold < a) && t.event_end_date > now
    }
}

/// The orderings `getPurchasableTickets` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TicketOrder {
    DisplayOrder,
    EventStartDate,
    Price,
    ProductId,
    LastModified,
}

impl TicketOrder {
    fn parse(v: &Value) -> Result<TicketOrder, String> {
        match v.as_str() {
            Some("displayOrder") => Ok(TicketOrder::DisplayOrder),
            Some("eventStartDate") => Ok(TicketOrder::EventStartDate),
            Some("price") => Ok(TicketOrder::Price),
            Some("productId") => Ok(TicketOrder::ProductId),
            Some("sysLastModifiedAt") => Ok(TicketOrder::LastModified),
            _ => Err("must be one of displayOrder, eventStartDate, price, productId, sysLastModifiedAt".into()),
        }
    }

    /// The ordering's name, as `orderBy` gives it.
    pub fn name(self) -> &'static str {
        match self {
            TicketOrder::DisplayOrder => "displayOrder",
            TicketOrder::EventStartDate => "eventStartDate",
            TicketOrder::Price => "price",
            TicketOrder::ProductId => "productId",
            TicketOrder::LastModified => "sysLastModifiedAt",
        }
    }

    /// The sort key of a ticket under this ordering (ties are broken by productId).
    pub fn key(self, t: &StoredTicket) -> i64 {
        match self {
            TicketOrder::DisplayOrder => t.ticket.display_order,
            TicketOrder::EventStartDate => t.ticket.event_start_date.timestamp_millis(),
            TicketOrder::Price => t.ticket.price.0,
            TicketOrder::ProductId => 0,
            TicketOrder::LastModified => t.sys.last_modified_at.timestamp_millis(),
        }
    }

    /// A ticket's place in this ordering, ascending: its sort key, ties broken by productId.
    pub fn place(self, t: &StoredTicket) -> (i64, &str) {
        (self.key(t), t.ticket.product_id.as_str())
    }
}

/// The filters, ordering and paging of `ticket.getPurchasableTickets`.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketQuery {
    pub product_ids: Option<Vec<ProductId>>,
    pub event_name: Option<String>,
    pub ticket_type: Option<TicketType>,
    pub visible: Option<bool>,
    pub on_sale: Option<bool>,
    pub starts_from: Option<Timestamp>,
    pub starts_to: Option<Timestamp>,
    pub order_by: TicketOrder,
    pub descending: bool,
    pub page: super::Page,
}

/// Where a page of the ticket list ended: the last ticket's sort key and productId.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketPlace {
    pub key: i64,
    pub product_id: String,
}

/// Tickets in ascending order of a query's [`place`](TicketOrder::place), by index.
pub trait InOrder {
    /// How many tickets there are.
    fn size(&self) -> usize;
    fn ticket(&self, i: usize) -> &StoredTicket;
}

impl InOrder for [StoredTicket] {
    fn size(&self) -> usize {
        self.len()
    }

    fn ticket(&self, i: usize) -> &StoredTicket {
        &self[i]
    }
}

/// The first index in `0..len` at which `before` stops holding (it holds for a prefix).
fn partition_point(len: usize, before: impl Fn(usize) -> bool) -> usize {
    let (mut low, mut high) = (0, len);
    while low < high {
        let mid = low + (high - low) / 2;
        if before(mid) { low = mid + 1 } else { high = mid }
    }
    low
}

/// A page of the ticket list: the tickets on it (by their index in the list), how many pass the filters in all,
/// and where the next page starts (none after the last).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub items: Vec<usize>,
    pub count: usize,
    pub next: Option<TicketPlace>,
}

/// The top-level ticket members a `fields` list may name.
pub const TICKET_FIELDS: &[&str] = &[
    "productId",
    "eventName",
    "eventStartDate",
    "eventEndDate",
    "ticketType",
    "ticketName",
    "ticketDescription",
    "price",
    "thumbnailId",
    "discount",
    "grants",
    "allocation",
    "maxPerAttendee",
    "visible",
    "displayOrder",
    "sold",
    "sysVersion",
    "sysCreatedAt",
    "sysLastModifiedAt",
    "sysCreatedById",
    "sysLastModifiedById",
];

impl TicketQuery {
    /// Reads the query from the params of `getPurchasableTickets` (absent params: everything).
    pub fn from_json(value: &Value) -> Result<TicketQuery, Vec<FieldError>> {
        let empty = Value::Object(Map::new());
        let value = if value.is_null() { &empty } else { value };
        let mut input = Input::new("", value).map_err(|e| vec![e])?;
        let product_ids = input.strings("productIds", false, ProductId::parse);
        let event_name = input.optional("eventName", |v| input::filter_text(v, MAX_SHORT, false));
        let ticket_type = input.optional("ticketType", |v| TicketType::parse(v.as_str().ok_or("must be a string")?));
        let visible = input.optional_bool("visible");
        let on_sale = input.optional_bool("onSale");
        let starts_from = input.optional_time("startsFrom");
        let starts_to = input.optional_time("startsTo");
        let order_by = input.optional("orderBy", TicketOrder::parse).unwrap_or(TicketOrder::DisplayOrder);
        let descending = input
            .optional("order", |v| match v.as_str() {
                Some("asc") => Ok(false),
                Some("desc") => Ok(true),
                _ => Err("must be 'asc' or 'desc'".to_owned()),
            })
            .unwrap_or(false);
        // The ticket list answers every ticket when no limit is given, as the Adminserver does.
        let page = super::Page::read(&mut input, TICKET_FIELDS, None);
        input.accept(&["networkId"]);
        input.finish()?;
        Ok(TicketQuery {
            product_ids,
            event_name,
            ticket_type,
            visible,
            on_sale,
            starts_from,
            starts_to,
            order_by,
            descending,
            page,
        })
    }

    /// Whether the query is the one sent without params (every ticket, in the default order, whole, in one page): the
    /// call a dashboard makes, and an answer only a change alters.
    pub fn is_everything(&self) -> bool {
        static EVERYTHING: std::sync::LazyLock<Option<TicketQuery>> =
            std::sync::LazyLock::new(|| TicketQuery::from_json(&Value::Null).ok());
        EVERYTHING.as_ref() == Some(self)
    }

    /// The name of the query's ordering and direction, which a cursor carries so that it is never applied to
    /// another ordering.
    pub fn ordering(&self) -> String {
        format!("{}:{}", self.order_by.name(), if self.descending { "desc" } else { "asc" })
    }

    /// Whether the query filters nothing out.
    pub fn is_unfiltered(&self) -> bool {
        self.product_ids.is_none()
            && self.event_name.is_none()
            && self.ticket_type.is_none()
            && self.visible.is_none()
            && self.on_sale.is_none()
            && self.starts_from.is_none()
            && self.starts_to.is_none()
    }

    /// What the ticket list means: the tickets passing every filter, in the query's order (ties broken by
    /// productId, reversed with it for `desc`), the page after `after` and at most `limit` long, and the count of
    /// all that pass. `sorted` holds the tickets in ascending [`place`](Self::place); the answer's items are
    /// indexes into it. Without filters only the page is looked at, whatever the number of tickets.
    pub fn select(&self, sorted: &(impl InOrder + ?Sized), after: Option<&TicketPlace>, now: Timestamp) -> Selection {
        let len = sorted.size();
        let place = |i: usize| self.order_by.place(sorted.ticket(i));
        let limit = self.page.limit.unwrap_or(usize::MAX);
        let after = after.map(|a| (a.key, a.product_id.as_str()));
        let mut items = Vec::new();
        // Whether a ticket that passes follows the page.
        let mut more = false;
        let count = if self.is_unfiltered() {
            if self.descending {
                // Walking down from the last place before the cursor.
                let end = after.map_or(len, |a| partition_point(len, |i| place(i) < a));
                items.extend((0..end).rev().take(limit));
                more = end > items.len();
            } else {
                let start = after.map_or(0, |a| partition_point(len, |i| place(i) <= a));
                items.extend((start..len).take(limit));
                more = start + items.len() < len;
            }
            len
        } else {
            let mut count = 0;
            let walk: Box<dyn Iterator<Item = usize>> =
                if self.descending { Box::new((0..len).rev()) } else { Box::new(0..len) };
            for i in walk {
                if !self.matches(sorted.ticket(i), now) {
                    continue;
                }
                count += 1;
                let past = after.is_none_or(|a| if self.descending { place(i) < a } else { place(i) > a });
                if past && items.len() < limit {
                    items.push(i);
                } else if past {
                    more = true;
                }
            }
            count
        };
        let next = match items.last() {
            Some(&last) if more => {
                let (key, id) = place(last);
                Some(TicketPlace { key, product_id: id.to_owned() })
            }
            _ => None,
        };
        Selection { items, count, next }
    }

    /// Whether a ticket passes every filter.
    pub fn matches(&self, t: &StoredTicket, now: Timestamp) -> bool {
        let k = &t.ticket;
        self.product_ids.as_ref().is_none_or(|ids| ids.contains(&k.product_id))
            && self.event_name.as_ref().is_none_or(|n| *n == k.event_name)
            && self.ticket_type.is_none_or(|tt| tt == k.ticket_type)
            && self.visible.is_none_or(|v| v == k.visible)
            && self.on_sale.is_none_or(|s| s == t.on_sale(now))
            && self.starts_from.is_none_or(|from| k.event_start_date >= from)
            && self.starts_to.is_none_or(|to| k.event_start_date <= to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn everything_is_the_query_sent_without_params() {
        let query = |v: Value| TicketQuery::from_json(&v).unwrap();
        for same in [Value::Null, json!({}), json!({"orderBy": "displayOrder", "order": "asc"})] {
            assert!(query(same.clone()).is_everything(), "{same}");
        }
        for narrower in [
            json!({"limit": 5}),
            json!({"orderBy": "productId"}),
            json!({"order": "desc"}),
            json!({"visible": true}),
            json!({"fields": ["price"]}),
        ] {
            assert!(!query(narrower.clone()).is_everything(), "{narrower}");
        }
    }

    fn valid() -> Value {
        json!({
            "productId": "vip-2026",
            "eventName": "Summit",
            "eventStartDate": "2026-05-01T09:00:00Z",
            "eventEndDate": "2026-05-03T18:00:00Z",
            "ticketType": "days:2of3",
            "ticketName": "VIP",
            "price": 199.99
        })
    }

    #[test]
    fn ticket_types() {
        assert_eq!(TicketType::parse("single"), Ok(TicketType::Single));
        assert_eq!(TicketType::parse("days:1of3"), Ok(TicketType::Days { n: 1, of: 3 }));
        assert_eq!(TicketType::parse("days:366of366"), Ok(TicketType::Days { n: 366, of: 366 }));
        for bad in ["", "Single", "days:0of3", "days:4of3", "days:1of367", "days:1of", "days:+1of3", "days:1of3x"] {
            assert!(TicketType::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_stored_ticket_is_shown_with_its_fields_in_order_then_sold_then_sys() {
        let mut input = valid();
        input["grants"] = json!([{"grantType": "userRole", "grantTarget": "speaker:all"}]);
        input["allocation"] = json!(300);
        let ticket = Ticket::from_json("ticket", &input).unwrap().ticket;
        let stored = StoredTicket { ticket, sold: 7, sys: Sys::new(&ActorId::new("token-1")) };
        let at = time::format(&stored.sys.created_at);
        let expected = json!({
            "productId": "vip-2026", "eventName": "Summit", "eventStartDate": "2026-05-01T09:00:00.000Z",
            "eventEndDate": "2026-05-03T18:00:00.000Z", "ticketType": "days:2of3", "ticketName": "VIP",
            "ticketDescription": "", "price": 199.99, "thumbnailId": "", "discount": "",
            "grants": [{"grantType": "userRole", "grantTarget": "speaker:all"}], "allocation": 300,
            "maxPerAttendee": null, "visible": true, "displayOrder": 0, "sold": 7, "sysVersion": 1,
            "sysCreatedAt": at, "sysLastModifiedAt": at, "sysCreatedById": "token-1", "sysLastModifiedById": "token-1"
        });
        let text = serde_json::to_string(&stored.shown()).unwrap();
        assert_eq!(text, expected.to_string(), "the same members, in the same order");
        assert_eq!(Value::Object(stored.to_json()), expected);
    }

    #[test]
    fn a_valid_ticket_has_defaults() {
        let t = Ticket::from_json("ticket", &valid()).unwrap().ticket;
        assert_eq!(t.price, Cents(19999));
        assert!(t.visible);
        assert_eq!(t.display_order, 0);
        assert_eq!(t.allocation, None);
        assert_eq!(t.ticket_description, "");
        assert!(t.grants.is_empty());
    }

    #[test]
    fn every_problem_is_reported() {
        let bad = json!({
            "productId": "no spaces",
            "eventStartDate": "2026-05-03T09:00:00Z",
            "eventEndDate": "2026-05-01T18:00:00Z",
            "ticketType": "days:3of2",
            "ticketName": "VIP",
            "price": -1,
            "grants": [{"grantType": "other", "grantTarget": "x"}],
            "colour": "red"
        });
        let errors = Ticket::from_json("ticket", &bad).err().unwrap();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "ticket.productId",
            "ticket.eventName",
            "ticket.eventEndDate",
            "ticket.ticketType",
            "ticket.price",
            "ticket.grants",
            "ticket.colour",
        ] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
    }
}
