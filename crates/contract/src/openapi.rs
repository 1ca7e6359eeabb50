//! The OpenAPI 3.1 document of every version's endpoints, built from the catalog's schemas so
//! that client generators, oasdiff and schemathesis see exactly what the JSON Schemas say.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::catalog::{Direction, Entry, catalog};

/// One operation, the same in every version; its types are looked up in each version's
/// catalog (v2's `Account` is not v1's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    pub method: &'static str,
    /// Relative to the version's prefix (`/v1`).
    pub path: &'static str,
    pub operation: &'static str,
    pub summary: &'static str,
    pub query: Option<&'static str>,
    pub body: Option<&'static str>,
    pub success: (u16, &'static str),
    pub errors: &'static [u16],
}

/// The accounts API's operations.
pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        method: "post",
        path: "/accounts",
        operation: "createAccount",
        summary: "Create an account",
        query: None,
        body: Some("CreateAccountRequest"),
        success: (201, "Account"),
        errors: &[400, 409, 413, 422, 503],
    },
    Endpoint {
        method: "get",
        path: "/accounts",
        operation: "listAccounts",
        summary: "List accounts in id order, one keyset page at a time",
        query: Some("ListQuery"),
        body: None,
        success: (200, "AccountPage"),
        errors: &[400, 422, 503],
    },
    Endpoint {
        method: "get",
        path: "/accounts/{id}",
        operation: "getAccount",
        summary: "Get an account",
        query: None,
        body: None,
        success: (200, "Account"),
        errors: &[400, 404, 503],
    },
    Endpoint {
        method: "patch",
        path: "/accounts/{id}",
        operation: "updateAccount",
        summary: "Change an account",
        query: None,
        body: Some("UpdateAccountRequest"),
        success: (200, "Account"),
        errors: &[400, 404, 409, 413, 422, 503],
    },
    Endpoint {
        method: "post",
        path: "/accounts/{id}/api-keys",
        operation: "createApiKey",
        summary: "Create an API key; the response holds the only copy of its token",
        query: None,
        body: Some("CreateApiKeyRequest"),
        success: (201, "CreatedApiKey"),
        errors: &[400, 404, 413, 422, 503],
    },
    Endpoint {
        method: "get",
        path: "/accounts/{id}/api-keys",
        operation: "listApiKeys",
        summary: "List an account's API keys, revoked ones included",
        query: Some("ListQuery"),
        body: None,
        success: (200, "ApiKeyPage"),
        errors: &[400, 404, 422, 503],
    },
    Endpoint {
        method: "delete",
        path: "/accounts/{id}/api-keys/{key_id}",
        operation: "revokeApiKey",
        summary: "Revoke an API key (revoking twice keeps the first time)",
        query: None,
        body: None,
        success: (200, "ApiKey"),
        errors: &[400, 404, 503],
    },
];

const ERROR_TYPE: &str = "ErrorResponse";

/// The catalog does not hold a type an endpoint names, or two types of one version define a
/// nested type differently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenApiError(pub String);

impl std::fmt::Display for OpenApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OpenApiError {}

/// `{version}.{Type}.{direction}`: a component name for every schema, nested ones included.
fn component(version: &str, type_name: &str, direction: Direction) -> String {
    format!("{version}.{type_name}.{direction}")
}

fn reference(version: &str, type_name: &str, direction: Direction) -> Value {
    json!({ "$ref": format!("#/components/schemas/{}", component(version, type_name, direction)) })
}

/// The OpenAPI 3.1 document.
pub fn document() -> Result<Value, OpenApiError> {
    let entries = catalog();
    let mut schemas = BTreeMap::new();
    for entry in &entries {
        add_component(&mut schemas, entry)?;
    }
    let mut paths = Map::new();
    for version in crate::versions() {
        for endpoint in ENDPOINTS {
            let path = format!("/{version}{}", endpoint.path);
            let item = paths.entry(path).or_insert_with(|| json!({}));
            item[endpoint.method] = operation(&entries, version, endpoint)?;
        }
    }
    Ok(json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "plumb accounts API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Every published version of the accounts API. Within a version, \
                requests only ever become more permissive and responses only less.",
        },
        "paths": paths,
        "components": { "schemas": schemas },
    }))
}

/// Adds an entry's schema under its component name and hoists its `$defs` into components of
/// their own, rewriting the references to them.
fn add_component(schemas: &mut BTreeMap<String, Value>, entry: &Entry) -> Result<(), OpenApiError> {
    let mut schema = entry.schema();
    let definitions = schema.as_object_mut().and_then(|object| {
        object.remove("$schema");
        // The component name says it; and the same type nested in another's `$defs` has none.
        object.remove("title");
        object.remove("$defs")
    });
    let rename = |value: &mut Value| rewrite_refs(value, entry.version, entry.direction);
    let mut parts = vec![(entry.type_name.to_owned(), schema)];
    if let Some(Value::Object(definitions)) = definitions {
        parts.extend(definitions);
    }
    for (name, mut part) in parts {
        rename(&mut part);
        let key = component(entry.version, &name, entry.direction);
        match schemas.get(&key) {
            Some(existing) if existing != &part => {
                return Err(OpenApiError(format!(
                    "two different schemas are both named {key}"
                )));
            }
            _ => {
                schemas.insert(key, part);
            }
        }
    }
    Ok(())
}

fn rewrite_refs(value: &mut Value, version: &str, direction: Direction) {
    match value {
        Value::Object(object) => {
            for (key, child) in object.iter_mut() {
                match (key.as_str(), child) {
                    ("$ref", Value::String(target)) => {
                        if let Some(name) = target.strip_prefix("#/$defs/") {
                            *target = format!(
                                "#/components/schemas/{}",
                                component(version, name, direction)
                            );
                        }
                    }
                    (_, child) => rewrite_refs(child, version, direction),
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| rewrite_refs(item, version, direction)),
        _ => {}
    }
}

fn find<'a>(
    entries: &'a [Entry],
    version: &str,
    type_name: &str,
    direction: Direction,
) -> Result<&'a Entry, OpenApiError> {
    entries
        .iter()
        .find(|e| e.version == version && e.type_name == type_name && e.direction == direction)
        .ok_or_else(|| {
            OpenApiError(format!(
                "the catalog has no {version} {type_name} {direction}, which an endpoint uses"
            ))
        })
}

fn operation(entries: &[Entry], version: &str, endpoint: &Endpoint) -> Result<Value, OpenApiError> {
    let mut parameters: Vec<Value> = path_parameters(endpoint.path);
    if let Some(query) = endpoint.query {
        parameters.extend(query_parameters(find(
            entries,
            version,
            query,
            Direction::Request,
        )?));
    }
    let mut responses = Map::new();
    let (status, success) = endpoint.success;
    find(entries, version, success, Direction::Response)?;
    responses.insert(
        status.to_string(),
        json_response(status, reference(version, success, Direction::Response)),
    );
    find(entries, version, ERROR_TYPE, Direction::Response)?;
    for status in endpoint.errors {
        responses.insert(
            status.to_string(),
            json_response(*status, reference(version, ERROR_TYPE, Direction::Response)),
        );
    }
    let mut operation = json!({
        "operationId": format!("{version}_{}", endpoint.operation),
        "summary": endpoint.summary,
        "tags": [version],
        "responses": responses,
    });
    if !parameters.is_empty() {
        operation["parameters"] = Value::Array(parameters);
    }
    if let Some(body) = endpoint.body {
        find(entries, version, body, Direction::Request)?;
        operation["requestBody"] = json!({
            "required": true,
            "content": { "application/json": { "schema": reference(version, body, Direction::Request) } },
        });
    }
    Ok(operation)
}

fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            json!({
                "name": name,
                "in": "path",
                "required": true,
                "schema": { "type": "integer", "format": "int64", "minimum": 1 },
            })
        })
        .collect()
}

/// A query type's properties, one parameter each.
fn query_parameters(entry: &Entry) -> Vec<Value> {
    let schema = entry.schema();
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let Some(properties) = schema["properties"].as_object() else {
        return Vec::new();
    };
    properties
        .iter()
        .map(|(name, property)| {
            let mut property = property.clone();
            // A query string cannot say null: an optional parameter is simply left out.
            if let Some(Value::Array(types)) = property.get_mut("type") {
                types.retain(|t| t != "null");
                if let [only] = types.as_slice() {
                    property["type"] = only.clone();
                }
            }
            let description = property
                .as_object_mut()
                .and_then(|p| p.remove("description"));
            let mut parameter = json!({
                "name": name,
                "in": "query",
                "required": required.contains(&name.as_str()),
                "schema": property,
            });
            if let Some(description) = description {
                parameter["description"] = description;
            }
            parameter
        })
        .collect()
}

fn json_response(status: u16, schema: Value) -> Value {
    json!({
        "description": describe_status(status),
        "content": { "application/json": { "schema": schema } },
    })
}

fn describe_status(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        400 => "The request is malformed (not JSON, wrong types, unknown fields)",
        404 => "No such account or key",
        409 => "Conflicts with existing data (the email is taken)",
        413 => "The body is too large",
        422 => "The request is well-formed but its values are not acceptable",
        503 => "The database is unavailable; retry later",
        _ => "See the body",
    }
}
