//! The OpenRPC 1.3 document of every method (`rpc.discover`, `GET /openrpc.json`), made once from the method table:
//! each method's params and result schemas from its types ([`super::types`]), its errors from the error catalogue,
//! and its example.
//!
//! Params are by name: each member of a method's params object is one OpenRPC param. A method that acts on a
//! network also takes `networkId` (or the `X-Network-Id` header), which the guard reads.

use std::sync::OnceLock;

use schemars::generate::SchemaSettings;
use schemars::{Schema, SchemaGenerator};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::errors::{
    CATALOGUE, FORBIDDEN, INTERNAL_ERROR, INVALID_PARAMS, LIMIT_EXCEEDED, NOT_AUTHENTICATED, RESPONSE_TOO_LARGE,
    TIMED_OUT,
};
use super::methods::{METHODS, Method};
use crate::auth::Requirement;

/// The OpenRPC version the document follows.
pub const OPENRPC_VERSION: &str = "1.3.2";

/// The document, written once.
pub fn document() -> &'static RawValue {
    static DOCUMENT: OnceLock<Box<RawValue>> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let text = serde_json::to_string(&build()).unwrap_or_else(|_| unreachable!("a JSON value serializes"));
        RawValue::from_string(text).unwrap_or_else(|_| unreachable!("serialized JSON is JSON"))
    })
}

/// The settings of the document's schemas: JSON Schema draft 7 (what OpenRPC 1.3 uses), shared schemas under
/// `#/components/schemas`.
fn generator() -> SchemaGenerator {
    let mut settings = SchemaSettings::draft07();
    settings.definitions_path = "/components/schemas".into();
    settings.meta_schema = None;
    settings.into_generator()
}

/// The whole document as a JSON value.
pub fn build() -> Value {
    let mut generator = generator();
    let methods: Vec<Value> = METHODS.iter().map(|m| method(&mut generator, m)).collect();
    // The draft-7 transforms (`unevaluatedProperties`, siblings of `$ref`) applied to every schema.
    let mut methods = Value::Array(methods);
    draft7(&mut generator, &mut methods);
    let schemas = generator.take_definitions(true);
    let errors: Map<String, Value> = CATALOGUE
        .iter()
        .map(|(code, name, message)| ((*name).to_owned(), json!({"code": code, "message": message})))
        .collect();
    json!({
        "openrpc": OPENRPC_VERSION,
        "info": {
            "title": "ticket-admin",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "JSON-RPC 2.0 admin server for purchasable event tickets, registrations and function \
                            tickets. POST a JSON-RPC request to /jsonRpc (or bare params to /jsonRpc/<method>, \
                            answered as {data, error}) with Authorization: Bearer <token>; a method that acts on a \
                            network takes it from the X-Network-Id header or a networkId member. docs/api.md has \
                            the envelope, the guard and paging.",
            "license": {"name": "MIT"},
        },
        "methods": methods,
        "components": {"schemas": schemas, "errors": errors},
    })
}

/// Applies the generator's draft-7 transforms to every schema object inside `value` (each method's params and
/// result schemas, found by walking the methods).
fn draft7(generator: &mut SchemaGenerator, value: &mut Value) {
    match value {
        Value::Object(members) => {
            if let Some(schema) = members.get_mut("schema")
                && let Ok(schema) = <&mut Schema>::try_from(schema)
            {
                for transform in generator.transforms_mut() {
                    transform.transform(schema);
                }
            }
            members.values_mut().for_each(|v| draft7(generator, v));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| draft7(generator, v)),
        _ => {}
    }
}

/// One method's entry.
fn method(generator: &mut SchemaGenerator, m: &Method) -> Value {
    let params_schema = (m.params_type)(generator).to_value();
    let mut params = Vec::new();
    if m.requires == Requirement::NetworkManage {
        params.push(json!({
            "name": "networkId",
            "description": "The network the call acts on; the X-Network-Id header may give it instead",
            "required": false,
            "schema": generator.subschema_for::<crate::domain::ids::NetworkId>().to_value(),
        }));
    }
    let required: Vec<&str> =
        params_schema["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    if let Some(members) = params_schema["properties"].as_object() {
        for (name, schema) in members {
            let mut param = json!({"name": name, "required": required.contains(&name.as_str()), "schema": schema});
            if let Some(description) = schema.get("description") {
                param["description"] = description.clone();
            }
            params.push(param);
        }
    }
    let result = (m.result_type)(generator).to_value();
    let example = (m.example)();
    let example_params: Vec<Value> = match &example.params {
        Value::Object(members) => members.iter().map(|(name, value)| json!({"name": name, "value": value})).collect(),
        _ => Vec::new(),
    };
    let namespace = m.name.split('.').next().unwrap_or(m.name);
    json!({
        "name": m.name,
        "summary": m.summary,
        "description": format!("Needs {}. Params: {} Result: {}", needs(m.requires), m.params, m.result),
        "tags": [{"name": namespace}],
        "paramStructure": "by-name",
        "params": params,
        "result": {"name": "result", "schema": result},
        "errors": errors(m).into_iter().map(|name| json!({"$ref": format!("#/components/errors/{name}")}))
            .collect::<Vec<_>>(),
        "examples": [{
            "name": format!("{} example", m.name),
            "params": example_params,
            "result": {"name": "result", "value": example.result},
        }],
    })
}

/// What a requirement asks of the caller, in words.
pub fn needs(requires: Requirement) -> &'static str {
    match requires {
        Requirement::Public => "no token",
        Requirement::Authenticated => "any valid token",
        Requirement::NetworkManage => "network.manage on the network (or all@*)",
        Requirement::All => "all@* (an admin token)",
    }
}

/// The names of the errors a method can answer: its particular ones and those every call can meet.
fn errors(m: &Method) -> Vec<&'static str> {
    let mut codes = vec![INVALID_PARAMS];
    if m.requires != Requirement::Public {
        codes.push(NOT_AUTHENTICATED);
    }
    if matches!(m.requires, Requirement::NetworkManage | Requirement::All) {
        codes.push(FORBIDDEN);
    }
    codes.extend(m.errors);
    codes.extend([LIMIT_EXCEEDED, TIMED_OUT, RESPONSE_TOO_LARGE, INTERNAL_ERROR]);
    codes.iter().filter_map(|code| CATALOGUE.iter().find(|(c, _, _)| c == code).map(|(_, name, _)| *name)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_is_described_with_params_result_errors_and_an_example() {
        let document = build();
        let methods = document["methods"].as_array().expect("methods");
        assert_eq!(methods.len(), METHODS.len());
        let schemas = document["components"]["schemas"].as_object().expect("schemas");
        let text = serde_json::to_string(&document).expect("text");
        // Every reference resolves to a shared schema or error.
        for reference in text.split("\"$ref\":\"").skip(1).map(|rest| &rest[..rest.find('"').unwrap_or(0)]) {
            let resolved = match reference.strip_prefix("#/components/schemas/") {
                Some(name) => schemas.contains_key(name),
                None => reference
                    .strip_prefix("#/components/errors/")
                    .is_some_and(|name| document["components"]["errors"].get(name).is_some()),
            };
            assert!(resolved, "{reference} does not resolve");
        }
        let create = methods.iter().find(|m| m["name"] == "ticket.createPurchasableTicket").expect("create");
        assert_eq!(create["params"][0]["name"], "networkId");
        assert_eq!(create["params"][1]["name"], "ticket");
        assert_eq!(create["params"][1]["required"], true);
        let errors = create["errors"].to_string();
        assert!(errors.contains("Conflict") && errors.contains("Forbidden"), "{errors}");
        assert!(!errors.contains("NotFound"), "{errors}");
        // The ticket's schema is its type's: the required members are those the ticket's reader requires.
        let ticket = &schemas["TicketIn"];
        let required: Vec<&str> =
            ticket["required"].as_array().expect("required").iter().filter_map(Value::as_str).collect();
        assert_eq!(
            required,
            ["productId", "eventName", "eventStartDate", "eventEndDate", "ticketType", "ticketName", "price"]
        );
        let trimmed = &schemas["TicketShownTrimmed"];
        assert_eq!(trimmed["required"], json!(["productId"]));
        assert!(trimmed["properties"]["sold"].is_object());
        let discover = methods.iter().find(|m| m["name"] == "rpc.discover").expect("rpc.discover");
        assert!(!discover["errors"].to_string().contains("NotAuthenticated"));
    }
}
