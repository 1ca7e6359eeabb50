//! Family A, API compatibility: each published API version of the base must stay compatible in
//! the head, by direction — requests may only accept more, responses may only promise more. The
//! walk pairing base and head schemas and their properties is here; each rule judges one.

pub mod api_enum_changed;
pub mod api_published_schema_edited;
pub mod api_request_field_required;
pub mod api_response_field_optional;
pub mod api_response_field_removed;
pub mod api_response_nullable;
pub mod api_type_changed;
pub mod api_version_removed;

use std::collections::BTreeSet;

use crate::finding::{Finding, Rule, Severity};
use crate::input::api::{ApiSchema, Direction, Property};
use crate::input::snapshot::Snapshot;
use crate::sql::source::Span;

/// The schemas stage of `check-contract` produces it: it runs the workspace's generator
/// (`[schemas] command`) and compares what it writes with the committed schemas. Defined here
/// so that [`crate::RULES`] lists it.
pub const API_SCHEMA_STALE: Rule = Rule {
    code: "A009",
    name: "api-schema-stale",
    severity: Severity::Error,
    summary: "committed API schema that differs from what the code generates",
};

/// A property of a head schema as findings show it: where, and its name with the schema's
/// version and direction.
#[derive(Debug)]
struct Field {
    at: Span,
    what: String,
}

impl Field {
    fn new(schema: &ApiSchema, name: &str) -> Field {
        Field {
            at: Span::line(&schema.file, schema.line_of(name)),
            what: format!(
                "{}.{name} ({} {})",
                schema.name,
                schema.version,
                schema.direction.as_str()
            ),
        }
    }
}

/// Every A finding.
pub fn check(base: &Snapshot, head: &Snapshot) -> Vec<Finding> {
    let mut out = Vec::new();
    let head_versions: BTreeSet<&str> = head.api.values().map(|s| s.version.as_str()).collect();
    let mut removed_versions = BTreeSet::new();
    for (key, old) in &base.api {
        let Some(new) = head.api.get(key) else {
            if head_versions.contains(old.version.as_str()) {
                api_published_schema_edited::removed(old, &mut out);
            } else if removed_versions.insert(old.version.clone()) {
                api_version_removed::check(old, &mut out);
            }
            continue;
        };
        if old.value == new.value {
            continue;
        }
        let before = out.len();
        let (old_props, new_props) = (&old.properties, &new.properties);
        match new.direction {
            Direction::Request => {
                for (name, _) in new_props.iter().filter(|(_, p)| p.required) {
                    api_request_field_required::check(
                        old_props.get(name),
                        &Field::new(new, name),
                        &mut out,
                    );
                }
                for (name, o) in old_props {
                    let Some(n) = new_props.get(name) else {
                        continue;
                    };
                    let field = Field::new(new, name);
                    api_type_changed::null_refused(o, n, &field, &mut out);
                    type_then_enum(o, n, &field, Direction::Request, &mut out);
                }
            }
            Direction::Response => {
                for (name, o) in old_props {
                    let field = Field::new(new, name);
                    let Some(n) = new_props.get(name) else {
                        api_response_field_removed::check(new, &field, &mut out);
                        continue;
                    };
                    api_response_field_optional::check(o, n, &field, &mut out);
                    api_response_nullable::check(o, n, &field, &mut out);
                    type_then_enum(o, n, &field, Direction::Response, &mut out);
                }
            }
        }
        if out.len() == before {
            api_published_schema_edited::compatible(new, &mut out);
        }
    }
    out
}

/// A changed type makes the enum's values moot.
fn type_then_enum(
    old: &Property,
    new: &Property,
    field: &Field,
    direction: Direction,
    out: &mut Vec<Finding>,
) {
    if !api_type_changed::check(old, new, field, out) {
        api_enum_changed::check(old, new, field, direction, out);
    }
}

/// Cases written as edits of two published schemas, a request and a response, checked by
/// [`check`].
#[cfg(test)]
pub(crate) mod testing {
    use crate::finding::Finding;
    use crate::input::api::read_api;
    use crate::input::snapshot::Snapshot;

    /// A response: required fields, an enum, and an optional nullable field.
    pub(crate) const ACCOUNT: &str = r#"{
  "type": "object",
  "properties": {
    "id": { "type": "integer" },
    "email": { "type": "string" },
    "status": { "type": "string", "enum": ["active", "closed"] },
    "note": { "type": ["string", "null"] }
  },
  "required": ["id", "email", "status"]
}
"#;
    pub(crate) const ACCOUNT_KEY: &str = "v1/Account.response.json";

    /// A request: a required field, an optional enum, and an optional nullable field.
    pub(crate) const CREATE: &str = r#"{
  "type": "object",
  "properties": {
    "email": { "type": "string" },
    "plan": { "type": "string", "enum": ["free", "paid"] },
    "note": { "type": ["string", "null"] }
  },
  "required": ["email"]
}
"#;
    pub(crate) const CREATE_KEY: &str = "v1/CreateAccount.request.json";

    /// `text` with its first `from` replaced, which must be there.
    pub(crate) fn edit(text: &str, from: &str, to: &str) -> String {
        assert!(text.contains(from), "no {from:?} in {text}");
        text.replacen(from, to, 1)
    }

    /// A tree whose API is these schemas: `("v1/Account.response.json", json)`, under
    /// `schemas/`.
    pub(crate) fn tree(api: &[(&str, &str)]) -> Snapshot {
        let dir = tempfile::tempdir().unwrap();
        for (key, json) in api {
            let path = dir.path().join("schemas").join(key);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, json).unwrap();
        }
        Snapshot {
            api: read_api(dir.path(), &dir.path().join("schemas")).unwrap(),
            ..Snapshot::default()
        }
    }

    /// Family A on a base and a head of these schemas.
    pub(crate) fn check(base: &[(&str, &str)], head: &[(&str, &str)]) -> Vec<Finding> {
        super::check(&tree(base), &tree(head))
    }

    /// Family A on the published [`ACCOUNT`] and [`CREATE`], against a head where `key` is
    /// `json` and the other stays as it was.
    pub(crate) fn check_edit(key: &str, json: &str) -> Vec<Finding> {
        let published = [(ACCOUNT_KEY, ACCOUNT), (CREATE_KEY, CREATE)];
        let head: Vec<(&str, &str)> = published
            .iter()
            .map(|&(k, text)| (k, if k == key { json } else { text }))
            .collect();
        check(&published, &head)
    }

    pub(crate) use crate::rules::testing::{at, codes, shown};
}

#[cfg(test)]
mod tests {
    use super::testing::{ACCOUNT, ACCOUNT_KEY, check_edit, edit};

    /// The same schema, formatted otherwise, is no change at all.
    #[test]
    fn a_reformatted_schema_is_no_change() {
        let reformatted = edit(ACCOUNT, "\n  \"required\"", " \"required\"");
        assert_ne!(reformatted, ACCOUNT);
        assert_eq!(check_edit(ACCOUNT_KEY, &reformatted), []);
    }
}
