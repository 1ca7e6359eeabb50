//! A column registered as sensitive appears in a response of a type that carries its table: it
//! would leave the service in every response.

use std::collections::{BTreeMap, BTreeSet};

use crate::finding::{Finding, Rule, Severity};
use crate::input::api::ApiSchema;
use crate::input::registry::{Registration, Registry};
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "C004",
    name: "sensitive-exposed",
    severity: Severity::Error,
    summary: "sensitive column in a response schema",
};

pub(super) fn check(registry: &Registry, responses: &[&ApiSchema], out: &mut Vec<Finding>) {
    // A field of the same name in a type unrelated to the table is another thing.
    let mut carriers: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for entry in &registry.entries {
        if let Registration::Exposed(fields) = &entry.registration {
            for (type_name, _) in fields {
                carriers
                    .entry(entry.table.as_str())
                    .or_default()
                    .insert(type_name.as_str());
            }
        }
    }
    for entry in registry
        .entries
        .iter()
        .filter(|e| e.registration == Registration::Sensitive)
    {
        for schema_file in responses {
            let carries = carriers
                .get(entry.table.as_str())
                .is_some_and(|t| t.contains(schema_file.name.as_str()));
            if carries && schema_file.properties.contains_key(&entry.column) {
                out.push(Finding::new(
                    RULE,
                    Span::line(&schema_file.file, schema_file.line_of(&entry.column)),
                    format!(
                        "{} ({}) has a field `{}`, and `{}.{}` is registered as sensitive: it would leave the service in every response",
                        schema_file.name,
                        schema_file.version,
                        entry.column,
                        entry.table,
                        entry.column
                    ),
                    "remove the field from the response type",
                ));
            }
        }
    }
}
