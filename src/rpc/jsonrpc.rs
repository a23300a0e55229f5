//! JSON-RPC 2.0 framing, to the letter of the specification: single calls, batches, notifications (executed,
//! never answered), ids echoed exactly as sent (`-1` and `"x"` alike), and `-32600` in the slot of each invalid
//! entry. jsonrpsee's own framing drops notifications and negative ids; this module replaces it and hands each
//! valid entry to the RPC layer as a call with an internal id.

use jsonrpsee::core::middleware::RpcServiceT;
use jsonrpsee::server::MethodResponse;
use jsonrpsee::types::{Extensions, Id, Request};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::fmt::Write as _;

use super::guard::Caller;

/// Wire code: parse error.
pub const PARSE_ERROR: i32 = -32700;
/// Wire code: invalid request.
pub const INVALID_REQUEST: i32 = -32600;

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

/// One entry, checked: a call to run (with its raw id, absent for a notification) or an error to answer.
pub enum Entry<'a> {
    Call { method: String, params: Option<&'a RawValue>, id: Option<&'a RawValue> },
    Invalid { id: Option<&'a RawValue>, message: String },
}

fn first_byte(raw: &str) -> Option<u8> {
    raw.bytes().find(|b| !b.is_ascii_whitespace())
}

/// Checks one request object as the specification defines it.
pub fn check(raw: &RawValue) -> Entry<'_> {
    check_with(raw, None)
}

/// Checks one request object; a missing `method` is `path_method` when given (the path form names it).
pub fn check_with<'a>(raw: &'a RawValue, path_method: Option<&str>) -> Entry<'a> {
    if first_byte(raw.get()) != Some(b'{') {
        return Entry::Invalid { id: None, message: "a request must be an object".into() };
    }
    let Ok(req) = serde_json::from_str::<RawRequest<'_>>(raw.get()) else {
        return Entry::Invalid { id: None, message: "a request object has duplicate or malformed members".into() };
    };
    // An id of the wrong type cannot be echoed: the answer's id is then null.
    let id = req.id.filter(|id| matches!(first_byte(id.get()), Some(b'"' | b'-' | b'0'..=b'9' | b'n')));
    if req.id.is_some() && id.is_none() {
        return Entry::Invalid { id: None, message: "id must be a string, a number or null".into() };
    }
    if req.jsonrpc.map(RawValue::get) != Some("\"2.0\"") {
        return Entry::Invalid { id, message: "jsonrpc must be exactly \"2.0\"".into() };
    }
    let method = match (req.method.map(|m| serde_json::from_str::<String>(m.get())), path_method) {
        (Some(Ok(method)), _) => method,
        (None, Some(path)) => path.to_owned(),
        _ => return Entry::Invalid { id, message: "method must be a string".into() },
    };
    if let Some(params) = req.params
        && !matches!(first_byte(params.get()), Some(b'{' | b'['))
    {
        return Entry::Invalid { id, message: "params must be an object or an array".into() };
    }
    Entry::Call { method, params: req.params, id }
}

/// An error object's members, as the RPC layer wrote them.
#[derive(Deserialize)]
pub struct RawError<'a> {
    pub code: i32,
    pub message: String,
    #[serde(borrow, default)]
    pub data: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct RawResponse<'a> {
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
}

/// What a call came to: its result or its error, both as raw JSON.
pub enum Outcome {
    Result(String),
    Error(String),
}

impl Outcome {
    /// What a response of the RPC layer came to. jsonrpsee writes `{"jsonrpc":"2.0","id":0,` and then the result
    /// or the error: the member is cut out as text, so a large result is neither parsed nor re-encoded.
    fn of(response: MethodResponse) -> Outcome {
        let json = response.as_json().get();
        if let Some(rest) = json.strip_prefix(r#"{"jsonrpc":"2.0","id":0,"#).and_then(|r| r.strip_suffix('}')) {
            if let Some(result) = rest.strip_prefix(r#""result":"#) {
                return Outcome::Result(result.to_owned());
            }
            if let Some(error) = rest.strip_prefix(r#""error":"#) {
                return Outcome::Error(error.to_owned());
            }
        }
        match serde_json::from_str::<RawResponse<'_>>(json) {
            Ok(RawResponse { error: Some(e), .. }) => Outcome::Error(e.get().to_owned()),
            Ok(RawResponse { result, .. }) => Outcome::Result(result.map_or("null", RawValue::get).to_owned()),
            Err(_) => Outcome::Error(error_object(-32603, "internal error")),
        }
    }

    /// The JSON-RPC response object for a request with this raw id.
    pub fn response(&self, id: Option<&RawValue>) -> String {
        let id = id.map_or("null", RawValue::get);
        match self {
            Outcome::Result(r) => format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{r}}}"#),
            Outcome::Error(e) => format!(r#"{{"jsonrpc":"2.0","id":{id},"error":{e}}}"#),
        }
    }

    /// The Adminserver envelope: `{data, error}`.
    pub fn envelope(&self) -> String {
        match self {
            Outcome::Result(r) => format!(r#"{{"data":{r},"error":{{"status":false,"code":0,"message":""}}}}"#),
            Outcome::Error(e) => {
                let (code, message, details) = match serde_json::from_str::<RawError<'_>>(e) {
                    Ok(err) => (err.code, err.message, err.data.map(|d| d.get().to_owned())),
                    Err(_) => (-32603, "internal error".to_owned(), None),
                };
                let message = serde_json::to_string(&message).unwrap_or_else(|_| "\"\"".into());
                let mut out = format!(r#"{{"data":null,"error":{{"status":true,"code":{code},"message":{message}"#);
                if let Some(details) = details {
                    let _ = write!(out, r#","details":{details}"#);
                }
                out.push_str("}}");
                out
            }
        }
    }
}

/// A JSON-RPC error object.
pub fn error_object(code: i32, message: &str) -> String {
    let message = serde_json::to_string(message).unwrap_or_else(|_| "\"\"".into());
    format!(r#"{{"code":{code},"message":{message}}}"#)
}

/// A whole error response with a null id (parse errors, refused batches).
pub fn error_response(code: i32, message: &str) -> String {
    Outcome::Error(error_object(code, message)).response(None)
}

/// Runs one checked call through the RPC layer and returns what it came to.
pub async fn run<S>(rpc: &S, caller: Caller, method: String, params: Option<&RawValue>) -> Outcome
where
    S: RpcServiceT<MethodResponse = MethodResponse>,
{
    // Borrowed from the body: the dispatcher makes the one owned copy a handler needs.
    let mut req = Request::borrowed(&method, params, Id::Number(0));
    let mut extensions = Extensions::new();
    extensions.insert(caller);
    *req.extensions_mut() = extensions;
    Outcome::of(rpc.call(req).await)
}

/// Answers one entry: `None` for a notification (which is still executed).
pub async fn answer<S>(rpc: &S, caller: Caller, entry: Entry<'_>) -> Option<String>
where
    S: RpcServiceT<MethodResponse = MethodResponse>,
{
    match entry {
        Entry::Invalid { id, message } => Some(Outcome::Error(error_object(INVALID_REQUEST, &message)).response(id)),
        Entry::Call { method, params, id } => {
            let outcome = run(rpc, caller, method, params).await;
            id.map(|id| outcome.response(Some(id)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_owned()).unwrap()
    }

    #[test]
    fn checks_requests_as_the_specification_says() {
        let cases = [
            (r#"{"jsonrpc":"2.0","method":"m","params":{},"id":-1}"#, Some("-1")),
            (r#"{"jsonrpc":"2.0","method":"m","id":"abc"}"#, Some("\"abc\"")),
            (r#"{"jsonrpc":"2.0","method":"m","id":null}"#, Some("null")),
            (r#"{"jsonrpc":"2.0","method":"m"}"#, None),
        ];
        for (req, id) in cases {
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
    fn responses_are_cut_without_parsing_and_parsed_otherwise() {
        let ok = MethodResponse::response(
            Id::Number(0),
            jsonrpsee::ResponsePayload::success(serde_json::json!({"a": [1, 2]})),
            1 << 20,
        );
        let Outcome::Result(r) = Outcome::of(ok) else { panic!("a result") };
        assert_eq!(r, r#"{"a":[1,2]}"#);
        let err =
            MethodResponse::error(Id::Number(0), jsonrpsee::types::ErrorObject::owned(-32004, "gone", None::<()>));
        let Outcome::Error(e) = Outcome::of(err) else { panic!("an error") };
        assert_eq!(e, r#"{"code":-32004,"message":"gone"}"#);
        let other_id = MethodResponse::response(Id::Str("x".into()), jsonrpsee::ResponsePayload::success(7), 1 << 20);
        let Outcome::Result(r) = Outcome::of(other_id) else { panic!("a result") };
        assert_eq!(r, "7");
    }

    #[test]
    fn envelopes_carry_code_message_and_details() {
        let ok = Outcome::Result(r#"{"a":1}"#.into()).envelope();
        assert_eq!(ok, r#"{"data":{"a":1},"error":{"status":false,"code":0,"message":""}}"#);
        let err = Outcome::Error(r#"{"code":-32004,"message":"gone","data":{"id":"x"}}"#.into()).envelope();
        let v: serde_json::Value = serde_json::from_str(&err).unwrap();
        assert_eq!(v["error"]["code"], -32004);
        assert_eq!(v["error"]["status"], true);
        assert_eq!(v["error"]["details"]["id"], "x");
        assert!(v["data"].is_null());
    }
}
