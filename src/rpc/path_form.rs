//! `POST /jsonRpc/{method}`, the Adminserver's form: the body is a JSON-RPC request object for `{method}`, or bare
//! params answered in the `{data, error}` envelope.
//!
//! An HTTP layer in front of [`super::gaps`]: it turns the path form into plain JSON-RPC and, for bare params, the
//! answer back into the envelope, so that everything behind it sees one wire form.
//!
//! - A request object (it says `"jsonrpc": "2.0"`) runs as sent; without a `method` member it is the path's, and
//!   one that names another method is `-32600`.
//! - Bare params run as a request with id `0`: an object or an array as the params, `null` or an empty body as
//!   none, any other value as by-position params holding that one value (the method then answers `-32602`, as it
//!   does for any params that are not its object). The answer, read with serde, becomes the envelope:
//!   `{"data": <result>, "error": {"status": false, "code": 0, "message": ""}}`, or `{"data": null, "error":
//!   {"status": true, "code", "message", "details"?}}`.

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use jsonrpsee::core::BoxError;
use jsonrpsee::server::HttpBody;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::gaps::{self, INVALID_REQUEST, PARSE_ERROR, RawRequest};
use super::http::respond;
use crate::metrics::Metrics;

/// On a request to `POST /jsonRpc/{method}`: the method its path names.
#[derive(Debug, Clone)]
pub struct PathMethod(pub String);

/// The layer of this module.
#[derive(Clone)]
pub struct PathFormLayer {
    metrics: Arc<Metrics>,
}

impl PathFormLayer {
    /// The path form, with the bodies refused here counted in `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        PathFormLayer { metrics }
    }
}

impl<S> tower::Layer<S> for PathFormLayer {
    type Service = PathForm<S>;

    fn layer(&self, inner: S) -> PathForm<S> {
        PathForm { inner, metrics: self.metrics.clone() }
    }
}

/// See the [module](self).
#[derive(Clone)]
pub struct PathForm<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

/// An error object's members, as a JSON-RPC answer carries them.
#[derive(Deserialize)]
struct RawError<'a> {
    code: i32,
    message: String,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct RawResponse<'a> {
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
    #[serde(borrow, default)]
    error: Option<RawError<'a>>,
}

/// The envelope of a success.
fn envelope_data(result: &str) -> String {
    format!(r#"{{"data":{result},"error":{{"status":false,"code":0,"message":""}}}}"#)
}

/// The envelope of a failure.
fn envelope_error(code: i32, message: &str, details: Option<&RawValue>) -> String {
    let message = serde_json::to_string(message).unwrap_or_else(|_| "\"\"".into());
    let details = details.map_or(String::new(), |d| format!(r#","details":{}"#, d.get()));
    format!(r#"{{"data":null,"error":{{"status":true,"code":{code},"message":{message}{details}}}}}"#)
}

/// The envelope of a JSON-RPC answer.
fn envelope(answer: &[u8]) -> String {
    match serde_json::from_slice::<RawResponse<'_>>(answer) {
        Ok(RawResponse { error: Some(e), .. }) => envelope_error(e.code, &e.message, e.data),
        Ok(RawResponse { result, .. }) => envelope_data(result.map_or("null", RawValue::get)),
        Err(_) => envelope_error(-32603, "internal error", None),
    }
}

/// What a path-form body becomes.
enum Form {
    /// Answered here.
    Answer(String),
    /// A JSON-RPC request object, answered in JSON-RPC.
    Request(Bytes),
    /// Bare params, as a JSON-RPC request whose answer becomes the envelope.
    Bare(Bytes),
}

/// Reads a body sent to the path of `method`; one refused here is counted in `metrics`.
fn form(method: &str, body: &Bytes, metrics: &Metrics) -> Form {
    let refused = |code: i32, answer: String| {
        metrics.malformed(code);
        Form::Answer(answer)
    };
    let method_text = serde_json::to_string(method).unwrap_or_else(|_| "\"\"".into());
    let bare = |params: Option<&str>| Form::Bare(Bytes::from(gaps::request_text(&method_text, params, Some("0"))));
    let text = match std::str::from_utf8(body) {
        Ok(t) if t.trim().is_empty() => return bare(None),
        Ok(t) => t,
        Err(_) => return refused(PARSE_ERROR, envelope_error(PARSE_ERROR, "the body is not UTF-8", None)),
    };
    let Ok(params) = serde_json::from_str::<&RawValue>(text) else {
        return refused(PARSE_ERROR, envelope_error(PARSE_ERROR, "the body is not valid JSON", None));
    };
    // Only an object can be a request object: serde would fill the struct from an array too, by position, and take
    // bare params such as `["2.0"]` for one.
    let request = match params.get().as_bytes().first() {
        Some(b'{') => serde_json::from_str::<RawRequest<'_>>(params.get()).ok(),
        _ => None,
    };
    match request {
        Some(request) if request.is_json_rpc() => match request.method.map(|m| serde_json::from_str(m.get())) {
            Some(Ok::<String, _>(named)) if named != method => {
                let message = format!("method '{named}' differs from the path's '{method}'");
                let id = request.id.filter(|id| matches!(id.get().as_bytes().first(), Some(b'"' | b'-' | b'0'..=b'9')));
                refused(INVALID_REQUEST, gaps::error_response(id, INVALID_REQUEST, &message))
            }
            None => Form::Request(Bytes::from(gaps::request_text(
                &method_text,
                request.params.map(RawValue::get),
                request.id.map(RawValue::get),
            ))),
            Some(_) => Form::Request(body.clone()),
        },
        _ => match params.get().as_bytes().first() {
            Some(b'{' | b'[') => bare(Some(params.get())),
            _ if params.get() == "null" => bare(None),
            _ => bare(Some(&format!("[{}]", params.get()))),
        },
    }
}

impl<S> tower::Service<Request<Full<Bytes>>> for PathForm<S>
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
        let Some(PathMethod(method)) = req.extensions().get::<PathMethod>().cloned() else {
            return Box::pin(self.inner.call(req));
        };
        let (parts, body) = req.into_parts();
        let (body, bare) = match form(&method, &gaps::whole(body), &self.metrics) {
            Form::Answer(text) => return Box::pin(async move { Ok(respond(StatusCode::OK, text)) }),
            Form::Request(body) => (body, false),
            Form::Bare(body) => (body, true),
        };
        let answer = self.inner.call(Request::from_parts(parts, Full::new(body)));
        Box::pin(async move {
            let response = answer.await?;
            // A request object is answered in JSON-RPC; an HTTP-level refusal is no answer to envelope.
            if !bare || response.status() != StatusCode::OK {
                return Ok(response);
            }
            let answer = response.into_body().collect().await?.to_bytes();
            Ok(respond(StatusCode::OK, envelope(&answer)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn formed(body: &str) -> Form {
        form("ticket.get", &Bytes::from(body.to_owned()), &Metrics::new())
    }

    fn text(form: Form) -> String {
        match form {
            Form::Answer(t) => t,
            Form::Request(b) | Form::Bare(b) => String::from_utf8(b.to_vec()).unwrap(),
        }
    }

    #[test]
    fn bare_params_become_a_request_with_id_0() {
        let cases = [
            ("", r#"{"jsonrpc":"2.0","method":"ticket.get","id":0}"#),
            ("null", r#"{"jsonrpc":"2.0","method":"ticket.get","id":0}"#),
            (r#"{"a":1}"#, r#"{"jsonrpc":"2.0","method":"ticket.get","params":{"a":1},"id":0}"#),
            ("5", r#"{"jsonrpc":"2.0","method":"ticket.get","params":[5],"id":0}"#),
        ];
        for (body, request) in cases {
            let formed = formed(body);
            assert!(matches!(formed, Form::Bare(_)), "{body}");
            assert_eq!(text(formed), request, "{body}");
        }
    }

    #[test]
    fn a_request_object_takes_the_paths_method_or_must_name_it() {
        let without = formed(r#"{"jsonrpc":"2.0","params":{"p":1},"id":9}"#);
        assert!(matches!(without, Form::Request(_)));
        assert_eq!(text(without), r#"{"jsonrpc":"2.0","method":"ticket.get","params":{"p":1},"id":9}"#);
        let other = text(formed(r#"{"jsonrpc":"2.0","method":"ticket.delete","id":8}"#));
        assert!(other.contains("-32600") && other.contains(r#""id":8"#), "{other}");
    }

    #[test]
    fn envelopes_carry_code_message_and_details() {
        let ok = envelope(br#"{"jsonrpc":"2.0","id":0,"result":{"a":1}}"#);
        assert_eq!(ok, r#"{"data":{"a":1},"error":{"status":false,"code":0,"message":""}}"#);
        let err = envelope(br#"{"jsonrpc":"2.0","id":0,"error":{"code":-32004,"message":"gone","data":{"id":"x"}}}"#);
        let v: serde_json::Value = serde_json::from_str(&err).unwrap();
        assert_eq!(
            v["error"],
            serde_json::json!({"status": true, "code": -32004, "message": "gone", "details": {"id": "x"}})
        );
        assert!(v["data"].is_null());
    }
}
