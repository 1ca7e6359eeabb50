//! A registry entry for a column the migrations do not create, or naming an API field no
//! response schema has: the registry no longer describes the service.

use std::path::Path;

use crate::finding::{Finding, Rule, Severity};
use crate::input::registry::Entry;
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "C002",
    name: "registry-stale",
    severity: Severity::Error,
    summary: "registry entry for a column, or an API field, that does not exist",
};

/// The entry's column does not exist.
pub(super) fn column(toml_file: &Path, entry: &Entry, out: &mut Vec<Finding>) {
    out.push(Finding::new(
        RULE,
        Span::line(toml_file, entry.line),
        format!(
            "the registry lists `{}.{}`, which the migrations do not create",
            entry.table, entry.column
        ),
        "remove the entry (or fix its name)",
    ));
}

/// The entry exposes the column through a field no response schema has.
pub(super) fn field(
    toml_file: &Path,
    entry: &Entry,
    type_name: &str,
    field: &str,
    out: &mut Vec<Finding>,
) {
    out.push(Finding::new(
        RULE,
        Span::line(toml_file, entry.line),
        format!(
            "`{}.{}` is registered as exposed through {type_name}.{field}, which no response schema has",
            entry.table, entry.column
        ),
        "name the API type and field that carry it, or register it as internal",
    ));
}
