//! What every handler does first: read its params and take the capability the guard handed out.

use jsonrpsee::types::{Extensions, Params};
use serde_json::Value;

use crate::auth::{AdminAccess, NetworkScope, TokenInfo};
use crate::domain::input::Input;
use crate::error::{Error, FieldError, Result};

/// The params as JSON: absent params are `null`; by-position params holding one object are that object.
pub fn json(params: &Params<'_>) -> Result<Value> {
    let value = match params.as_str() {
        None => Value::Null,
        Some(raw) => serde_json::from_str(raw).map_err(|e| Error::invalid("params", format!("are not JSON: {e}")))?,
    };
    Ok(match value {
        Value::Array(mut items) if items.len() == 1 && items[0].is_object() => items.remove(0),
        other => other,
    })
}

/// The params as an object reader (absent params read as `{}`); `networkId` is the guard's and is accepted.
pub fn object(value: &Value) -> Result<Input<'_>> {
    static EMPTY: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| Value::Object(Default::default()));
    let value = if value.is_null() { &*EMPTY } else { value };
    let mut input = Input::new("", value).map_err(|e| Error::InvalidParams(vec![e]))?;
    input.accept(&["networkId"]);
    Ok(input)
}

/// Ends reading params: all problems found, including those found outside the reader.
pub fn finish(input: Input<'_>, mut more: Vec<FieldError>) -> Result<()> {
    if let Err(errors) = input.finish() {
        more.extend(errors);
    }
    if more.is_empty() { Ok(()) } else { Err(Error::InvalidParams(more)) }
}

fn missing() -> Error {
    Error::Internal("a handler ran without the guard's capability".into())
}

/// The guard's capability to act on one network.
pub fn network(ext: &Extensions) -> Result<NetworkScope> {
    ext.get::<NetworkScope>().cloned().ok_or_else(missing)
}

/// The guard's capability for `admin.*` methods.
pub fn admin(ext: &Extensions) -> Result<AdminAccess> {
    ext.get::<AdminAccess>().cloned().ok_or_else(missing)
}

/// The authenticated caller's token.
pub fn token(ext: &Extensions) -> Result<std::sync::Arc<TokenInfo>> {
    ext.get::<std::sync::Arc<TokenInfo>>().cloned().ok_or_else(missing)
}
