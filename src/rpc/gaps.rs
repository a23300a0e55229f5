//! What jsonrpsee 0.26 does not do to the letter of JSON-RPC 2.0, owned here, in front of jsonrpsee's HTTP service.
//!
//! jsonrpsee takes a request it cannot parse as one for a notification, and answers a notification over HTTP with
//! `200 null` without running it. Both bite a strict client:
//!
//! - **Ids.** jsonrpsee's `Id` holds a string, `null` or a `u64`. A request whose id is any other number (`-1`,
//!   `1.5`, `1e3`, one past 64 bits), or of the wrong type (`{}`, `true`), is taken for a notification and never
//!   answered (jsonrpsee issue #1653). A string id with escapes comes back escaped anew. So when a body holds an
//!   id that jsonrpsee would not echo byte for byte, every id of it is replaced by its entry's position (which
//!   jsonrpsee carries) and the original put back in the answer, read with serde, not cut as text.
//! - **Invalid requests.** jsonrpsee answers a request object without an id whose `method` is not a string with
//!   `-32700` (it is `-32600`), and passes `params` that are neither an object nor an array to the method; a body
//!   that does not start with `{` or `[` within 128 bytes gets HTTP 400. Each invalid entry is answered `-32600`
//!   here, in its slot of a batch, saying why; an unparsable body `-32700`, with HTTP 200 like every JSON-RPC reply.
//! - **The batch limit.** jsonrpsee's own answers `-32010`, a code outside the API's table: a batch over
//!   `--max-batch` is refused here with `-32600` naming the limit, before any entry runs; so is an empty batch.
//! - **Notifications.** jsonrpsee's `RpcService` acknowledges them without running them (jsonrpsee issue #1017):
//!   the guard ([`super::guard`]) runs each one as a call and marks the response [`Unanswered`], which this layer
//!   answers `204 No Content` with an empty body.
//!
//! A well-formed body whose ids jsonrpsee carries as they are (nearly all) passes through untouched, its answer
//! too; the cost is reading the body once before jsonrpsee does, borrowing it (no copy of a member is made).

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::FutureExt;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use jsonrpsee::core::BoxError;
use jsonrpsee::server::HttpBody;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::http::{no_content, respond};
use crate::metrics::Metrics;

/// Wire code: parse error.
pub const PARSE_ERROR: i32 = -32700;
/// Wire code: invalid request.
pub const INVALID_REQUEST: i32 = -32600;

/// On a response that answers nothing (a notification, or a batch of them): the HTTP answer is `204`.
#[derive(Debug, Clone, Copy)]
pub struct Unanswered;

/// The members of a request object, each kept raw so that nothing is re-encoded.
#[derive(Deserialize)]
pub struct RawRequest<'a> {
    #[serde(borrow, default)]
    pub jsonrpc: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub method: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub params: Option<&'a RawValue>,
    /// `Some` even when the id is `null`: only a missing id makes a notification.
    #[serde(borrow, default, deserialize_with = "present")]
    pub id: Option<&'a RawValue>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

impl RawRequest<'_> {
    /// Whether the object says it is JSON-RPC 2.0 (the path form tells a request object from bare params so).
    pub fn is_json_rpc(&self) -> bool {
        self.jsonrpc.map(RawValue::get) == Some("\"2.0\"")
    }
}

/// The whitespace JSON allows around a value.
const JSON_WHITESPACE: [char; 4] = [' ', '\t', '\n', '\r'];

fn first_byte(raw: &str) -> Option<u8> {
    raw.bytes().find(|b| !b.is_ascii_whitespace())
}

/// One entry of a body, checked as the specification defines a request.
enum Entry<'a> {
    /// A request jsonrpsee may run: its members, and its raw id (absent for a notification).
    Call { request: RawRequest<'a>, id: Option<&'a RawValue> },
    /// Not a request: `-32600` with this id (null when it could not be read) and reason.
    Invalid { id: Option<&'a RawValue>, message: String },
}

fn check(raw: &RawValue) -> Entry<'_> {
    if first_byte(raw.get()) != Some(b'{') {
        return Entry::Invalid { id: None, message: "a request must be an object".into() };
    }
    match serde_json::from_str::<RawRequest<'_>>(raw.get()) {
        Ok(request) => checked(request),
        Err(_) => Entry::Invalid { id: None, message: "a request object has duplicate or malformed members".into() },
    }
}

/// A request object read into its members, checked as the specification defines a request.
fn checked(request: RawRequest<'_>) -> Entry<'_> {
    // An id of the wrong type cannot be echoed: the answer's id is then null.
    let id = request.id.filter(|id| matches!(first_byte(id.get()), Some(b'"' | b'-' | b'0'..=b'9' | b'n')));
    if request.id.is_some() && id.is_none() {
        return Entry::Invalid { id: None, message: "id must be a string, a number or null".into() };
    }
    if !request.is_json_rpc() {
        return Entry::Invalid { id, message: "jsonrpc must be exactly \"2.0\"".into() };
    }
    if request.method.is_none_or(|m| serde_json::from_str::<String>(m.get()).is_err()) {
        return Entry::Invalid { id, message: "method must be a string".into() };
    }
    if let Some(params) = request.params
        && !matches!(first_byte(params.get()), Some(b'{' | b'['))
    {
        return Entry::Invalid { id, message: "params must be an object or an array".into() };
    }
    Entry::Call { request, id }
}

/// Whether jsonrpsee echoes this id byte for byte: `null`, a string without escapes, or an integer in `u64`.
fn carried(id: &RawValue) -> bool {
    let text = id.get();
    text == "null" || (text.starts_with('"') && !text.contains('\\')) || text.parse::<u64>().is_ok()
}

/// A JSON-RPC error object.
pub fn error_object(code: i32, message: &str) -> String {
    let message = serde_json::to_string(message).unwrap_or_else(|_| "\"\"".into());
    format!(r#"{{"code":{code},"message":{message}}}"#)
}

/// A whole error response for a request with this raw id (`null` when `None`).
pub fn error_response(id: Option<&RawValue>, code: i32, message: &str) -> String {
    let id = id.map_or("null", RawValue::get);
    format!(r#"{{"jsonrpc":"2.0","id":{id},"error":{}}}"#, error_object(code, message))
}

/// A request object with the given raw members (absent ones left out).
pub fn request_text(method: &str, params: Option<&str>, id: Option<&str>) -> String {
    let mut text = format!(r#"{{"jsonrpc":"2.0","method":{method}"#);
    if let Some(params) = params {
        text.push_str(r#","params":"#);
        text.push_str(params);
    }
    if let Some(id) = id {
        text.push_str(r#","id":"#);
        text.push_str(id);
    }
    text.push('}');
    text
}

/// What becomes of a body.
enum Framed {
    /// Answered here; jsonrpsee is not asked.
    Answer(String),
    /// Handed to jsonrpsee as it is (less surrounding whitespace); its answer is the answer.
    Pass(Bytes),
    /// Handed to jsonrpsee rewritten; its answer is put together again with [`Restore`].
    Rewritten(Bytes, Restore),
}

/// How to turn jsonrpsee's answer to a rewritten body into the answer to the body sent: what each entry was.
enum Restore {
    /// A single request whose id jsonrpsee answers as `0`.
    Single(String),
    /// A batch: per position, the original id of a forwarded request (`None` for a notification), or the whole
    /// answer of an invalid entry.
    Batch(Vec<Slot>),
}

enum Slot {
    Forwarded(Option<String>),
    Answered(String),
}

/// Checks a body, answering what jsonrpsee would answer wrongly and rewriting what it cannot carry; each request
/// answered here with an error is counted in `metrics`.
fn frame(body: &Bytes, max_batch: usize, metrics: &Metrics) -> Framed {
    let unparsable = |message: &str| {
        metrics.malformed(PARSE_ERROR);
        Framed::Answer(error_response(None, PARSE_ERROR, message))
    };
    let Ok(text) = std::str::from_utf8(body) else {
        return unparsable("the body is not UTF-8");
    };
    // A single request object, the usual body, is read once, straight into its members (serde checks the whole
    // text as it goes); a batch, or a body that does not read so, takes the way that tells -32700 from -32600.
    let single = match first_byte(text) {
        Some(b'{') => serde_json::from_str::<RawRequest<'_>>(text).ok(),
        _ => None,
    };
    let (entry, trimmed) = match single {
        Some(request) => (checked(request), body.slice_ref(text.trim_matches(JSON_WHITESPACE).as_bytes())),
        None => {
            let Ok(parsed) = serde_json::from_str::<&RawValue>(text) else {
                return unparsable("the body is not valid JSON");
            };
            let trimmed = body.slice_ref(parsed.get().as_bytes());
            if first_byte(parsed.get()) == Some(b'[') {
                return frame_batch(parsed, trimmed, max_batch, metrics);
            }
            (check(parsed), trimmed)
        }
    };
    match entry {
        Entry::Invalid { id, message } => {
            metrics.malformed(INVALID_REQUEST);
            Framed::Answer(error_response(id, INVALID_REQUEST, &message))
        }
        Entry::Call { id: None, .. } => Framed::Pass(trimmed),
        Entry::Call { id: Some(id), .. } if carried(id) => Framed::Pass(trimmed),
        Entry::Call { request, id: Some(id) } => {
            let text = request_text(
                request.method.map_or("null", RawValue::get),
                request.params.map(RawValue::get),
                Some("0"),
            );
            Framed::Rewritten(Bytes::from(text), Restore::Single(id.get().to_owned()))
        }
    }
}

fn frame_batch(parsed: &RawValue, trimmed: Bytes, max_batch: usize, metrics: &Metrics) -> Framed {
    let Ok(entries) = serde_json::from_str::<Vec<&RawValue>>(parsed.get()) else {
        metrics.malformed(PARSE_ERROR);
        return Framed::Answer(error_response(None, PARSE_ERROR, "the body is not valid JSON"));
    };
    if entries.is_empty() {
        metrics.malformed(INVALID_REQUEST);
        return Framed::Answer(error_response(None, INVALID_REQUEST, "a batch must not be empty"));
    }
    if entries.len() > max_batch {
        metrics.malformed(INVALID_REQUEST);
        let message = format!("a batch of {} exceeds the limit of {max_batch}", entries.len());
        return Framed::Answer(error_response(None, INVALID_REQUEST, &message));
    }
    let checked: Vec<Entry<'_>> = entries.iter().map(|e| check(e)).collect();
    let as_sent = |e: &Entry<'_>| matches!(e, Entry::Call { id, .. } if id.is_none_or(carried));
    if checked.iter().all(as_sent) {
        return Framed::Pass(trimmed);
    }
    let mut forwarded = Vec::new();
    let mut slots = Vec::with_capacity(checked.len());
    for (position, (entry, raw)) in checked.into_iter().zip(&entries).enumerate() {
        match entry {
            Entry::Invalid { id, message } => {
                metrics.malformed(INVALID_REQUEST);
                slots.push(Slot::Answered(error_response(id, INVALID_REQUEST, &message)));
            }
            Entry::Call { id: None, .. } => {
                forwarded.push(raw.get().to_owned());
                slots.push(Slot::Forwarded(None));
            }
            Entry::Call { request, id: Some(id) } => {
                let method = request.method.map_or("null", RawValue::get);
                let position = position.to_string();
                forwarded.push(request_text(method, request.params.map(RawValue::get), Some(&position)));
                slots.push(Slot::Forwarded(Some(id.get().to_owned())));
            }
        }
    }
    if forwarded.is_empty() {
        return Framed::Answer(restored_batch(&slots, Vec::new()));
    }
    Framed::Rewritten(Bytes::from(format!("[{}]", forwarded.join(","))), Restore::Batch(slots))
}

/// An answer as jsonrpsee wrote it: its id and its result or error, raw.
#[derive(Deserialize)]
struct Answer<'a> {
    #[serde(default)]
    id: Option<u64>,
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
}

impl Answer<'_> {
    fn with_id(&self, id: &str) -> String {
        match (self.result, self.error) {
            (_, Some(error)) => format!(r#"{{"jsonrpc":"2.0","id":{id},"error":{}}}"#, error.get()),
            (result, None) => {
                format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{}}}"#, result.map_or("null", RawValue::get))
            }
        }
    }
}

/// The answers of a rewritten batch: jsonrpsee's, each with the id its request was sent with, and those of the
/// invalid entries.
fn restored_batch(slots: &[Slot], answers: Vec<&RawValue>) -> String {
    let mut out: Vec<String> = Vec::with_capacity(slots.len());
    for raw in answers {
        let original = serde_json::from_str::<Answer<'_>>(raw.get()).ok().and_then(|answer| {
            let position = usize::try_from(answer.id?).ok()?;
            match slots.get(position)? {
                Slot::Forwarded(Some(id)) => Some(answer.with_id(id)),
                _ => None,
            }
        });
        out.push(original.unwrap_or_else(|| raw.get().to_owned()));
    }
    out.extend(slots.iter().filter_map(|slot| match slot {
        Slot::Answered(answer) => Some(answer.clone()),
        Slot::Forwarded(_) => None,
    }));
    format!("[{}]", out.join(","))
}

impl Restore {
    /// The answer to the body as sent, from jsonrpsee's answer to the rewritten one (`None`: nothing to answer).
    fn apply(&self, answered: Option<&str>) -> Option<String> {
        match (self, answered) {
            (Restore::Single(id), Some(text)) => Some(match serde_json::from_str::<Answer<'_>>(text) {
                Ok(answer) => answer.with_id(id),
                Err(_) => text.to_owned(),
            }),
            (Restore::Single(_), None) => None,
            (Restore::Batch(slots), None) => {
                let any = slots.iter().any(|s| matches!(s, Slot::Answered(_)));
                any.then(|| restored_batch(slots, Vec::new()))
            }
            (Restore::Batch(slots), Some(text)) => match serde_json::from_str::<Vec<&RawValue>>(text) {
                Ok(answers) => Some(restored_batch(slots, answers)),
                // A batch refused whole (its answer too large) is one error with a null id.
                Err(_) => Some(text.to_owned()),
            },
        }
    }
}

/// The layer of this module: in front of jsonrpsee's HTTP service, behind the HTTP front that read the body.
#[derive(Clone)]
pub struct GapsLayer {
    max_batch: usize,
    metrics: Arc<Metrics>,
}

impl GapsLayer {
    /// Batches longer than `max_batch` are refused whole; what is refused here is counted in `metrics`.
    pub fn new(max_batch: usize, metrics: Arc<Metrics>) -> Self {
        GapsLayer { max_batch, metrics }
    }
}

impl<S> tower::Layer<S> for GapsLayer {
    type Service = Gaps<S>;

    fn layer(&self, inner: S) -> Gaps<S> {
        Gaps { inner, max_batch: self.max_batch, metrics: self.metrics.clone() }
    }
}

/// See the [module](self).
#[derive(Clone)]
pub struct Gaps<S> {
    inner: S,
    max_batch: usize,
    metrics: Arc<Metrics>,
}

impl<S> tower::Service<Request<Full<Bytes>>> for Gaps<S>
where
    S: tower::Service<Request<Full<Bytes>>, Response = Response<HttpBody>, Error = BoxError> + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<HttpBody>;
    type Error = BoxError;
    type Future = super::http::BoxFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Full<Bytes>>) -> Self::Future {
        let (parts, body) = req.into_parts();
        let body = whole(body);
        let (body, restore) = match frame(&body, self.max_batch, &self.metrics) {
            Framed::Answer(text) => return Box::pin(async move { Ok(respond(StatusCode::OK, text)) }),
            Framed::Pass(body) => (body, None),
            Framed::Rewritten(body, restore) => (body, Some(restore)),
        };
        let answer = self.inner.call(Request::from_parts(parts, Full::new(body)));
        Box::pin(async move {
            let response = answer.await?;
            let unanswered = response.extensions().get::<Unanswered>().is_some();
            Ok(match (restore, unanswered) {
                (None, true) => no_content(),
                (None, false) => response,
                // Not a JSON-RPC answer (jsonrpsee refused the request at the HTTP level): nothing to restore.
                (Some(_), false) if response.status() != StatusCode::OK => response,
                (Some(restore), unanswered) => {
                    let text = match unanswered {
                        true => None,
                        false => Some(response.into_body().collect().await?.to_bytes()),
                    };
                    let text = text.as_ref().map(|t| String::from_utf8_lossy(t));
                    match restore.apply(text.as_deref()) {
                        Some(answer) => respond(StatusCode::OK, answer),
                        None => no_content(),
                    }
                }
            })
        })
    }
}

/// The bytes of a body the HTTP front has read whole (so collecting it never waits).
pub fn whole(body: Full<Bytes>) -> Bytes {
    match body.collect().now_or_never() {
        Some(Ok(collected)) => collected.to_bytes(),
        Some(Err(never)) => match never {},
        None => Bytes::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_owned()).unwrap()
    }

    fn framed(body: &str) -> Framed {
        frame(&Bytes::from(body.to_owned()), 100, &Metrics::new())
    }

    #[test]
    fn checks_requests_as_the_specification_says() {
        for (req, id) in [
            (r#"{"jsonrpc":"2.0","method":"m","params":{},"id":-1}"#, Some("-1")),
            (r#"{"jsonrpc":"2.0","method":"m","id":"abc"}"#, Some("\"abc\"")),
            (r#"{"jsonrpc":"2.0","method":"m","id":null}"#, Some("null")),
            (r#"{"jsonrpc":"2.0","method":"m"}"#, None),
        ] {
            let r = raw(req);
            match check(&r) {
                Entry::Call { id: got, .. } => assert_eq!(got.map(RawValue::get), id, "{req}"),
                Entry::Invalid { message, .. } => panic!("{req}: {message}"),
            }
        }
        for bad in [
            r#"{"jsonrpc":"2.0","method":1,"params":"bar"}"#,
            r#"{"jsonrpc":"1.0","method":"m","id":1}"#,
            r#"{"method":"m","id":1}"#,
            r#"{"jsonrpc":"2.0","method":"m","params":"bar","id":1}"#,
            r#"{"jsonrpc":"2.0","method":"m","id":{}}"#,
            r#"1"#,
        ] {
            assert!(matches!(check(&raw(bad)), Entry::Invalid { .. }), "{bad}");
        }
    }

    #[test]
    fn only_ids_jsonrpsee_echoes_byte_for_byte_pass_as_they_are() {
        for id in ["0", "1", "18446744073709551615", "null", "\"abc\"", "\"é\""] {
            assert!(carried(&raw(id)), "{id}");
        }
        for id in ["-1", "1.5", "1e3", "18446744073709551616", "\"a\\\"b\"", "-0"] {
            assert!(!carried(&raw(id)), "{id}");
        }
    }

    #[test]
    fn a_body_jsonrpsee_carries_passes_without_its_whitespace() {
        let Framed::Pass(body) = framed(r#"   {"jsonrpc":"2.0","method":"m","id":7}  "#) else { panic!("passed") };
        assert_eq!(&body[..], br#"{"jsonrpc":"2.0","method":"m","id":7}"#);
        assert!(matches!(
            framed(r#"[{"jsonrpc":"2.0","method":"m","id":"a"},{"jsonrpc":"2.0","method":"n"}]"#),
            Framed::Pass(_)
        ));
    }

    #[test]
    fn an_id_jsonrpsee_cannot_carry_is_swapped_and_restored() {
        let Framed::Rewritten(body, restore) = framed(r#"{"jsonrpc":"2.0","method":"m","params":[1],"id":-1}"#) else {
            panic!("rewritten")
        };
        assert_eq!(&body[..], br#"{"jsonrpc":"2.0","method":"m","params":[1],"id":0}"#);
        let answer = restore.apply(Some(r#"{"jsonrpc":"2.0","id":0,"result":{"a":1}}"#));
        assert_eq!(answer.as_deref(), Some(r#"{"jsonrpc":"2.0","id":-1,"result":{"a":1}}"#));
    }

    #[test]
    fn a_batch_with_invalid_entries_forwards_the_rest_and_answers_each_in_its_slot() {
        let body = r#"[{"jsonrpc":"2.0","method":"m","id":"x"},{"jsonrpc":"2.0","method":"n","id":{}},
            {"jsonrpc":"2.0","method":"o"},1]"#;
        let Framed::Rewritten(forwarded, restore) = framed(body) else { panic!("rewritten") };
        assert_eq!(&forwarded[..], br#"[{"jsonrpc":"2.0","method":"m","id":0},{"jsonrpc":"2.0","method":"o"}]"#);
        let answer = restore.apply(Some(r#"[{"jsonrpc":"2.0","id":0,"result":7}]"#)).expect("an answer");
        let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(answer[0], serde_json::json!({"jsonrpc": "2.0", "id": "x", "result": 7}));
        assert_eq!((answer[1]["id"].is_null(), &answer[1]["error"]["code"]), (true, &serde_json::json!(-32600)));
        assert_eq!(answer.as_array().map(Vec::len), Some(3));
    }

    #[test]
    fn what_jsonrpsee_would_answer_wrongly_is_answered_here() {
        for (body, code) in [("", PARSE_ERROR), ("nope", PARSE_ERROR), ("7", INVALID_REQUEST)] {
            let Framed::Answer(text) = framed(body) else { panic!("{body} answered here") };
            let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(answer["error"]["code"], code, "{body}");
        }
        let over: String = format!("[{}]", vec![r#"{"jsonrpc":"2.0","method":"m","id":1}"#; 101].join(","));
        let Framed::Answer(text) = framed(&over) else { panic!("refused whole") };
        assert!(text.contains("-32600") && text.contains("100"), "{text}");
    }
}
