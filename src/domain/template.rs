//! Templates: each network's certificate and confirmation e-mail, the built-in defaults that serve a network
//! without its own, and the rules that check and render them (minijinja, HTML auto-escaping).
//!
//! **What a template sees.** `registration` (every field as the API shows it, camelCase, with `id`, `number` and the
//! sys fields), `ticket` (the purchasable ticket the registration holds, when `productId` is set and the ticket
//! exists), `order` (the registration's order as `order.get` shows it, once the server has made one) and
//! `networkId`, as in `{{ registration.name }}`; `{% if order is defined %}` tells whether there is an order, as
//! `{% if ticket is defined %}` does for the ticket. Values are HTML-escaped unless the template asks otherwise (`|safe`,
//! `{% autoescape false %}`); an e-mail's subject is plain text and is not escaped. Unset values print as nothing,
//! not as `none`, and the filter `date` writes a timestamp as `18 September 2026`.
//!
//! **The check.** A template is checked when it is stored and when it is previewed: it must parse, it must render
//! against a sample that holds every variable with strict undefined behaviour (a misspelt `registration.nmae` fails
//! there, naming its line), and the names it uses anywhere, in branches the sample did not take too,
//! must be variables that exist. A checked template is then rendered for a real registration leniently: what the
//! registration lacks (no ticket, an unset field) prints as nothing, so a certificate is never refused for data a
//! registration does not have.
//!
//! **Bounds.** A template's text is at most [`MAX_BODY`] characters (a subject [`MAX_SUBJECT`], on one line);
//! rendering runs on a fuel budget (minijinja counts the instructions it runs) and its output is at most
//! [`MAX_OUTPUT`] bytes, so no template can hold the server busy or fill its memory.

use std::sync::LazyLock;

use minijinja::value::{Serde, Value as TemplateValue};
use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior};
use serde_json::{Map, Value, json};

use super::ids::{ActorId, NetworkId};
use super::input::{self, Input};
use super::order::{self, StoredOrder};
use super::record::Kind;
use super::registration::{self, Registration, RegistrationId, RegistrationStatus, StoredRegistration};
use super::sys::Sys;
use super::ticket::{StoredTicket, Ticket};
use super::time;
use crate::error::{Conflict, FieldError};

/// The kinds of template, as the API names them.
pub const KINDS: &[&str] = &["certificate", "confirmationEmail"];

/// Longest template text accepted, in characters.
pub const MAX_BODY: usize = 65_536;
/// Longest subject accepted, in characters.
pub const MAX_SUBJECT: usize = 500;
/// Largest rendered output, in bytes.
pub const MAX_OUTPUT: usize = 1 << 20;
/// Instructions one rendering may run: the default certificate takes a few hundred, a loop over a registration's
/// sessions a few thousand.
const FUEL: u64 = 500_000;

/// The variables a template may name at its top level.
pub const VARIABLES: &[&str] = &["registration", "ticket", "order", "networkId"];

/// Names the template language itself defines: a loop's `loop`, a macro's arguments.
const LANGUAGE_NAMES: &[&str] = &["loop", "varargs", "kwargs", "caller"];

/// A kind of template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TemplateKind {
    /// The printable certificate of an active registration (HTML, the body of an A4 landscape page).
    Certificate,
    /// The e-mail that confirms a registration (a subject and an HTML body).
    ConfirmationEmail,
}

impl TemplateKind {
    /// The kind as the API writes it.
    pub fn as_str(self) -> &'static str {
        KINDS[self as usize]
    }

    pub fn parse(s: &str) -> Result<TemplateKind, String> {
        match s {
            "certificate" => Ok(TemplateKind::Certificate),
            "confirmationEmail" => Ok(TemplateKind::ConfirmationEmail),
            _ => Err(format!("must be one of {}", KINDS.join(", "))),
        }
    }

    /// Whether templates of this kind have a subject (an e-mail's).
    pub fn has_subject(self) -> bool {
        self == TemplateKind::ConfirmationEmail
    }

    /// Reads a `kind` member.
    pub fn read(input: &mut Input<'_>) -> Option<TemplateKind> {
        input.required("kind", |v| TemplateKind::parse(v.as_str().ok_or("must be a string")?))
    }
}

/// A template's texts: a subject for an e-mail, and the HTML body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub kind: TemplateKind,
    /// Only for [`TemplateKind::ConfirmationEmail`], where it is always set.
    pub subject: Option<String>,
    pub body: String,
}

/// A network's own template as stored, with its sys fields.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTemplate {
    pub template: Template,
    pub sys: Sys,
}

/// The built-in certificate: the body of an A4 landscape page (see [`page`]).
pub const DEFAULT_CERTIFICATE: &str = include_str!("templates/certificate.html");
/// The built-in confirmation e-mail's subject.
pub const DEFAULT_CONFIRMATION_SUBJECT: &str =
    "Your registration for {{ ticket.eventName if ticket is defined else registration.eventId }}";
/// The built-in confirmation e-mail's body.
pub const DEFAULT_CONFIRMATION_BODY: &str = include_str!("templates/confirmation-email.html");

impl Template {
    /// The built-in template of a kind, which serves a network that keeps none of its own.
    pub fn default_for(kind: TemplateKind) -> Template {
        match kind {
            TemplateKind::Certificate => Template { kind, subject: None, body: DEFAULT_CERTIFICATE.to_owned() },
            TemplateKind::ConfirmationEmail => Template {
                kind,
                subject: Some(DEFAULT_CONFIRMATION_SUBJECT.to_owned()),
                body: DEFAULT_CONFIRMATION_BODY.to_owned(),
            },
        }
    }

    /// Reads and checks `{kind, subject?, body}`, every problem noted in `input`: a subject only for a kind that
    /// has one (the default subject when it is left out), each text within its bounds and passing [`check`]
    /// (`-32602` naming the line). `None` when anything is wrong.
    pub fn read(input: &mut Input<'_>) -> Option<Template> {
        let kind = TemplateKind::read(input);
        let subject = input.optional("subject", |v| {
            let subject = input::text(v, MAX_SUBJECT, false)?;
            if subject.contains(['\r', '\n']) {
                return Err("must be one line".into());
            }
            Ok(subject)
        });
        let body = input.required("body", |v| input::text(v, MAX_BODY, false));
        let kind = kind?;
        let subject = match (kind.has_subject(), subject) {
            (false, Some(_)) => {
                input.fail("subject", format!("is only for {} templates", TemplateKind::ConfirmationEmail.as_str()));
                return None;
            }
            (false, None) => None,
            (true, subject) => Some(subject.unwrap_or_else(|| DEFAULT_CONFIRMATION_SUBJECT.to_owned())),
        };
        if let Some(Err(problem)) = subject.as_deref().map(|s| check(s, Text::Plain)) {
            input.fail("subject", problem.to_string());
        }
        let body = body?;
        if let Err(problem) = check(&body, Text::Html) {
            input.fail("body", problem.to_string());
            return None;
        }
        Some(Template { kind, subject, body })
    }
}

impl StoredTemplate {
    /// The template as the API shows it, with `"default": false` and its sys fields.
    pub fn to_json(&self) -> Map<String, Value> {
        let mut out = shown(&self.template, false);
        self.sys.write_to(&mut out);
        out
    }

    /// The rule of storing `next` over `current` (none kept yet: `None`): a new template at version 1, a changed
    /// one at the next version, and `None` when `next` is the stored template (no new version).
    pub fn put(current: Option<&StoredTemplate>, next: Template, actor: &ActorId) -> Option<StoredTemplate> {
        match current {
            None => Some(StoredTemplate { template: next, sys: Sys::new(actor) }),
            Some(current) if current.template == next => None,
            Some(current) => Some(StoredTemplate { template: next, sys: current.sys.changed(actor) }),
        }
    }
}

/// The rule of a certificate: only an `active` registration has one.
pub fn check_certifiable(registration: &StoredRegistration) -> Result<(), Conflict> {
    match registration.registration.status {
        RegistrationStatus::Active => Ok(()),
        status => Err(Conflict::NotActive {
            registration_id: registration.id.to_string(),
            status: status.as_str(),
            action: "given a certificate",
        }),
    }
}

/// The built-in template of a kind as the API shows it: `"default": true`, no sys fields.
pub fn default_json(kind: TemplateKind) -> Map<String, Value> {
    shown(&Template::default_for(kind), true)
}

fn shown(t: &Template, default: bool) -> Map<String, Value> {
    let Value::Object(out) = json!({"kind": t.kind.as_str(), "subject": t.subject, "body": t.body, "default": default})
    else {
        unreachable!("json! of an object literal is an object")
    };
    out
}

/// What a template's text is: HTML (escaped) or plain text (a subject).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    Html,
    Plain,
}

impl Text {
    /// The name the text is compiled under: its extension decides the escaping.
    fn name(self) -> &'static str {
        match self {
            Text::Html => "body.html",
            Text::Plain => "subject.txt",
        }
    }
}

/// Why a template was refused or could not be rendered: its line (when known) and the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl TemplateError {
    /// The error as a problem with the member `field` of a request.
    pub fn at(&self, field: &str) -> FieldError {
        FieldError::new(field, self.to_string())
    }
}

fn problem(e: &minijinja::Error) -> TemplateError {
    let what = match e.kind() {
        ErrorKind::UndefinedError => "names a variable that does not exist".to_owned(),
        ErrorKind::OutOfFuel => "takes too long to render (a loop that runs too often?)".to_owned(),
        kind => kind.to_string(),
    };
    let message = match e.detail() {
        Some(detail) => format!("{what}: {detail}"),
        None => what,
    };
    TemplateError { line: e.line(), message }
}

/// The variables a template is rendered with.
#[derive(Debug, Clone)]
pub struct Variables(Value);

impl Variables {
    /// A registration's variables: the registration, the ticket it holds (when there is one) and the network.
    pub fn of(network: &NetworkId, registration: &StoredRegistration, ticket: Option<&StoredTicket>) -> Variables {
        let mut out = Map::new();
        out.insert("registration".into(), Value::Object(registration.to_json()));
        if let Some(ticket) = ticket {
            out.insert("ticket".into(), Value::Object(ticket.to_json()));
        }
        out.insert("networkId".into(), network.as_str().into());
        Variables(Value::Object(out))
    }

    /// The same variables with `order`, the registration's order, when it has one.
    pub fn with_order(mut self, order: Option<&StoredOrder>) -> Variables {
        if let (Some(order), Value::Object(variables)) = (order, &mut self.0) {
            variables.insert("order".into(), Value::Object(order.to_json()));
        }
        self
    }

    /// Variables as JSON: an object of [`VARIABLES`] as the API shows them.
    pub fn from_json(variables: Value) -> Variables {
        Variables(variables)
    }

    /// The page title of a certificate: the registration's name.
    fn title(&self) -> String {
        let name = self.0["registration"]["name"].as_str().unwrap_or_default();
        format!("Certificate: {name}")
    }
}

/// The sample every template is checked against: a registration with every field set, the ticket it holds, and a
/// network, as the API shows them (the same members a real registration has: a unit test holds them together).
static SAMPLE: LazyLock<Variables> = LazyLock::new(|| {
    let mut fields = Map::new();
    for (name, kind) in registration::FIELDS {
        let value = match kind {
            Kind::RequiredRef | Kind::Ref | Kind::RequiredId | Kind::Id => json!("sample-1"),
            Kind::RequiredText | Kind::Text => json!("Sample"),
            Kind::Email => json!("ada@example.org"),
            Kind::Time => json!("2026-09-18T18:00:00Z"),
            Kind::Money => json!(10.5),
            Kind::Integer => json!(1),
            Kind::Bool => json!(true),
            Kind::Object => json!({}),
            Kind::Objects => json!([]),
            Kind::Strings => json!(["sample"]),
            Kind::Enum(values) | Kind::RequiredEnum(values) => json!(values[0]),
            Kind::Product => json!("SAMPLE-1"),
        };
        fields.insert((*name).to_owned(), value);
    }
    fields.insert("status".into(), json!("active"));
    let actor = ActorId::new("sample-token");
    let registration = Registration::from_json("registration", &Value::Object(fields))
        .map(|read| StoredRegistration {
            id: RegistrationId::stored("sample-registration".into()),
            number: 1,
            registration: read.record,
            sys: Sys::new(&actor),
        })
        .unwrap_or_else(|e| unreachable!("the sample registration is valid: {e:?}"));
    let ticket = json!({"productId": "SAMPLE-1", "eventName": "Sample event", "eventStartDate": "2026-09-18T18:00:00Z",
        "eventEndDate": "2026-09-18T23:00:00Z", "ticketType": "single", "ticketName": "Sample ticket",
        "ticketDescription": "Sample", "price": 10, "thumbnailId": "sample", "discount": "Sample", "allocation": 10,
        "maxPerAttendee": 1});
    let ticket = Ticket::from_json("ticket", &ticket)
        .map(|read| StoredTicket { ticket: read.ticket, sold: 1, sys: Sys::new(&actor) })
        .unwrap_or_else(|e| unreachable!("the sample ticket is valid: {e:?}"));
    let network = NetworkId::parse("sample-network").unwrap_or_else(|e| unreachable!("{e}"));
    // Its order: one line, its ticket.
    let tickets = [(ticket.ticket.product_id.clone(), ticket.ticket.clone())].into_iter().collect();
    let order = order::make(1, &[(&registration.id, &registration.registration)], &tickets)
        .map(|order| StoredOrder { order, sys: Sys::new(&actor) })
        .unwrap_or_else(|e| unreachable!("the sample order is made: {e:?}"));
    Variables::of(&network, &registration, Some(&ticket)).with_order(Some(&order))
});

/// One environment: HTML auto-escaping by the text's name, the undefined behaviour given, unset values printed as
/// nothing, the `date` filter, and the fuel budget.
fn environment(undefined: UndefinedBehavior) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|name| if name.ends_with(".html") { AutoEscape::Html } else { AutoEscape::None });
    env.set_undefined_behavior(undefined);
    env.set_fuel(Some(FUEL));
    env.set_formatter(|out, state, value| {
        if value.is_none() || value.is_undefined() {
            return Ok(());
        }
        minijinja::escape_formatter(out, state, value)
    });
    env.add_filter("date", date);
    env
}

/// Checking: strict, so that a name that does not exist fails.
static STRICT: LazyLock<Environment<'static>> = LazyLock::new(|| environment(UndefinedBehavior::Strict));
/// Rendering for a registration: what it lacks prints as nothing.
static LENIENT: LazyLock<Environment<'static>> = LazyLock::new(|| environment(UndefinedBehavior::Chainable));

/// The filter `date`: an RFC 3339 timestamp as `18 September 2026` (UTC); nothing for an unset value.
fn date(value: TemplateValue) -> Result<String, minijinja::Error> {
    if value.is_none() || value.is_undefined() {
        return Ok(String::new());
    }
    let when = value.as_str().and_then(|s| time::parse(&Value::from(s)).ok()).ok_or_else(|| {
        minijinja::Error::new(ErrorKind::InvalidOperation, format!("date expects a timestamp, not {value}"))
    })?;
    Ok(when.format("%-d %B %Y").to_string())
}

fn render_with(
    env: &Environment<'static>,
    source: &str,
    text: Text,
    variables: &Variables,
) -> Result<String, TemplateError> {
    let template = env.template_from_named_str(text.name(), source).map_err(|e| problem(&e))?;
    render_compiled(&template, variables)
}

/// A compiled template rendered with `variables`, held to [`MAX_OUTPUT`].
fn render_compiled(template: &minijinja::Template<'_, '_>, variables: &Variables) -> Result<String, TemplateError> {
    let out = template.render(Serde(&variables.0)).map_err(|e| problem(&e))?;
    if out.len() > MAX_OUTPUT {
        return Err(TemplateError { line: None, message: format!("renders to more than {MAX_OUTPUT} bytes") });
    }
    Ok(out)
}

/// The rule a template's text must keep to be stored or previewed: it parses, renders against the sample
/// variables with strict undefined behaviour, and names no variable that does not exist anywhere (in branches the
/// sample did not take too).
pub fn check(source: &str, text: Text) -> Result<(), TemplateError> {
    let template = STRICT.template_from_named_str(text.name(), source).map_err(|e| problem(&e))?;
    render_compiled(&template, &SAMPLE)?;
    let mut unknown: Vec<String> =
        template.undeclared_variables(true).into_iter().filter(|path| !known(path, &SAMPLE.0)).collect();
    unknown.sort();
    match unknown.first() {
        None => Ok(()),
        Some(path) => Err(TemplateError {
            line: line_of(source, path),
            message: format!("names a variable that does not exist: `{path}`"),
        }),
    }
}

/// Whether a name a template uses (`registration.name`, `range`) exists: a variable (its member too, for the
/// records), a function of the template language, or a name the language defines.
fn known(path: &str, sample: &Value) -> bool {
    let mut parts = path.split('.');
    let top = parts.next().unwrap_or_default();
    if LANGUAGE_NAMES.contains(&top) || STRICT.globals().any(|(name, _)| name == top) {
        return true;
    }
    if !VARIABLES.contains(&top) {
        return false;
    }
    match (sample.get(top), parts.next()) {
        (Some(Value::Object(members)), Some(member)) => members.contains_key(member),
        _ => true,
    }
}

/// The first line (from 1) where `path`, or else its last part, is written.
fn line_of(source: &str, path: &str) -> Option<usize> {
    let last = path.rsplit('.').next().unwrap_or(path);
    [path, last].iter().find_map(|needle| source.lines().position(|line| line.contains(needle)).map(|n| n + 1))
}

/// Renders a checked template's text for `variables`: what they lack prints as nothing.
pub fn render(source: &str, text: Text, variables: &Variables) -> Result<String, TemplateError> {
    render_with(&LENIENT, source, text, variables)
}

/// A certificate: `body` (a certificate template's text) rendered for `variables`, as a complete printable page.
pub fn certificate(body: &str, variables: &Variables) -> Result<String, TemplateError> {
    let content = render(body, Text::Html, variables)?;
    Ok(page(&variables.title(), &content))
}

/// The complete page around a certificate's body: one A4 landscape sheet (`@page`), without margins, the body the
/// size of the sheet, and what overflows it cut off, so that a certificate always prints as exactly one page.
pub fn page(title: &str, content: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\n\
         @page {{ size: A4 landscape; margin: 0; }}\n\
         html, body {{ margin: 0; padding: 0; }}\n\
         body {{ width: 297mm; height: 209mm; overflow: hidden; \
         -webkit-print-color-adjust: exact; print-color-adjust: exact; }}\n\
         </style>\n</head>\n<body>\n{content}\n</body>\n</html>\n",
        escape(title)
    )
}

/// Text as HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::{registration, ticket};

    fn variables(name: &str, with_ticket: bool) -> Variables {
        let actor = ActorId::new("t1");
        let stored = StoredRegistration {
            id: RegistrationId::stored("r1".into()),
            number: 7,
            registration: registration("c1", json!({"name": name, "productId": "vip", "city": null})),
            sys: Sys::new(&actor),
        };
        let held = StoredTicket {
            ticket: ticket("vip", json!({"eventName": "Summit & Gala"})),
            sold: 1,
            sys: Sys::new(&actor),
        };
        let network = NetworkId::parse("acme").unwrap();
        Variables::of(&network, &stored, with_ticket.then_some(&held))
    }

    #[test]
    fn values_are_html_escaped_unless_the_template_asks_otherwise() {
        let v = variables("<script>alert(1)</script>", true);
        assert_eq!(
            render("{{ registration.name }}", Text::Html, &v).unwrap(),
            "&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"
        );
        assert_eq!(render("{{ registration.name|safe }}", Text::Html, &v).unwrap(), "<script>alert(1)</script>");
        assert_eq!(render("{{ ticket.eventName }}", Text::Html, &v).unwrap(), "Summit &amp; Gala");
        // A subject is plain text.
        assert_eq!(render("{{ ticket.eventName }}", Text::Plain, &v).unwrap(), "Summit & Gala");
    }

    #[test]
    fn a_template_sees_the_registration_its_ticket_and_the_network() {
        let v = variables("Ada Lovelace", true);
        let out = render(
            "{{ registration.number }} {{ registration.contactId }} {{ ticket.productId }} {{ networkId }} \
             {{ ticket.eventStartDate|date }}",
            Text::Html,
            &v,
        )
        .unwrap();
        assert_eq!(out, "7 c1 vip acme 1 May 2026");
        // Unset values print as nothing, and without a ticket its members too.
        assert_eq!(render("[{{ registration.city }}]", Text::Html, &v).unwrap(), "[]");
        let without = variables("Ada Lovelace", false);
        assert_eq!(render("[{{ ticket.eventName }}]", Text::Html, &without).unwrap(), "[]");
        assert_eq!(
            render("{% if ticket is defined %}t{% else %}none{% endif %}", Text::Html, &without).unwrap(),
            "none"
        );
    }

    #[test]
    fn a_template_that_does_not_parse_is_refused_with_its_line() {
        let e = check("<h1>\n{% if registration.name %}\n{{ registration.name }}\n", Text::Html).unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.message.starts_with("syntax error"), "{e}");
        let e = check("<p>{{ registration.name }</p>", Text::Html).unwrap_err();
        assert_eq!(e.line, Some(1), "{e}");
    }

    #[test]
    fn a_variable_that_does_not_exist_is_refused_with_its_line() {
        let e = check("<h1>Certificate</h1>\n<p>{{ registration.nmae }}</p>", Text::Html).unwrap_err();
        assert_eq!(e.to_string(), "line 2: names a variable that does not exist: `registration.nmae` is undefined");
        let e = check("a\nb\n{{ regstration.name }}", Text::Html).unwrap_err();
        assert_eq!(e.line, Some(3));
        // In a branch the sample does not take, too.
        let e = check("{% if false %}\n\n{{ tikcet.eventName }}{% endif %}", Text::Html).unwrap_err();
        assert_eq!(e.to_string(), "line 3: names a variable that does not exist: `tikcet.eventName`");
        let e = check("{% if registration.sysLocked %}{% else %}\n{{ ticket.price2 }}{% endif %}", Text::Html);
        assert_eq!(e.unwrap_err().line, Some(2));
        // The order's members, as `order.get` shows them.
        check("{{ order.orderNumber }} {{ order.total }} {{ order.lines[0].description }}", Text::Html).unwrap();
        check("{% if order is defined %}{{ order.balanceDue }}{% endif %}", Text::Html).unwrap();
        let e = check("{% if order is defined %}\n{{ order.totl }}{% endif %}", Text::Html).unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        // The language's own names and functions are fine.
        check(
            "{% for s in registration.sessions %}{{ loop.index }}{% endfor %}{% for i in range(3) %}{{ i }}{% endfor %}\
             {% set ns = namespace(n=1) %}{{ ns.n }}{% macro m(x) %}{{ x }}{% endmacro %}{{ m(networkId) }}",
            Text::Html,
        )
        .unwrap();
    }

    #[test]
    fn unknown_filters_and_endless_loops_are_refused() {
        let e = check("{{ registration.name|shout }}", Text::Html).unwrap_err();
        assert!(e.message.contains("unknown filter"), "{e}");
        let e = check("{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}", Text::Html);
        assert!(e.unwrap_err().message.contains("too long"));
        let e = check("{{ 'x' * 2000000 }}", Text::Html).unwrap_err();
        assert!(e.message.contains("more than"), "{e}");
    }

    #[test]
    fn the_sample_holds_every_member_a_registration_and_a_ticket_show() {
        let real = variables("Ada", true);
        for variable in ["registration", "ticket"] {
            let keys = |v: &Value| v[variable].as_object().unwrap().keys().cloned().collect::<Vec<_>>();
            assert_eq!(keys(&SAMPLE.0), keys(&real.0), "{variable}");
        }
    }

    #[test]
    fn the_defaults_pass_their_own_check_and_name_the_attendee_and_the_event() {
        for kind in [TemplateKind::Certificate, TemplateKind::ConfirmationEmail] {
            let t = Template::default_for(kind);
            check(&t.body, Text::Html).unwrap();
            if let Some(subject) = &t.subject {
                check(subject, Text::Plain).unwrap();
            }
        }
        let v = variables("Ada <Lovelace>", true);
        let page = certificate(DEFAULT_CERTIFICATE, &v).unwrap();
        assert!(page.starts_with("<!DOCTYPE html>") && page.contains("size: A4 landscape"));
        assert!(page.contains("<title>Certificate: Ada &lt;Lovelace&gt;</title>"));
        assert!(page.contains("Ada &lt;Lovelace&gt;") && page.contains("Summit &amp; Gala"), "{page}");
        assert!(page.contains("1 May 2026"), "{page}");
        // Without a ticket, the registration's event names the event.
        let without = certificate(DEFAULT_CERTIFICATE, &variables("Ada", false)).unwrap();
        assert!(without.contains("ev1"), "{without}");
        let subject = Template::default_for(TemplateKind::ConfirmationEmail).subject.unwrap();
        assert_eq!(render(&subject, Text::Plain, &v).unwrap(), "Your registration for Summit & Gala");
    }

    #[test]
    fn a_put_makes_version_one_then_the_next_and_an_equal_one_changes_nothing() {
        let actor = ActorId::new("t1");
        let t = |body: &str| Template { kind: TemplateKind::Certificate, subject: None, body: body.into() };
        let first = StoredTemplate::put(None, t("a"), &actor).unwrap();
        assert_eq!(first.sys.version, 1);
        assert_eq!(StoredTemplate::put(Some(&first), t("a"), &actor), None);
        let second = StoredTemplate::put(Some(&first), t("b"), &actor).unwrap();
        assert_eq!((second.sys.version, second.sys.created_at), (2, first.sys.created_at));
    }

    #[test]
    fn reading_a_put_checks_the_subject_and_every_text() {
        let read = |v: Value| {
            let mut input = Input::new("", &v).unwrap();
            let t = Template::read(&mut input);
            (t, input.finish().err().unwrap_or_default())
        };
        let (t, problems) = read(json!({"kind": "confirmationEmail", "body": "<p>{{ registration.name }}</p>"}));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(t.unwrap().subject.as_deref(), Some(DEFAULT_CONFIRMATION_SUBJECT));
        let (t, problems) = read(json!({"kind": "certificate", "subject": "Hi", "body": "x"}));
        assert!(t.is_none());
        assert_eq!(problems[0].field, "subject");
        let (_, problems) =
            read(json!({"kind": "confirmationEmail", "subject": "{{ registration.nmae }}", "body": "{% if %}"}));
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["subject", "body"], "{problems:?}");
        let (_, problems) = read(json!({"kind": "badge", "body": "x".repeat(MAX_BODY + 1)}));
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["kind", "body"], "{problems:?}");
    }
}
