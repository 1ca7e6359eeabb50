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

use crate::finding::Finding;
use crate::input::api::{ApiSchema, Direction, Property};
use crate::input::snapshot::Snapshot;
use crate::sql::source::Span;

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
