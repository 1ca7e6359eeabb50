//! A table the migrations create that `schema.rs` does not declare: code cannot query it, and
//! the next `diesel print-schema` adds it in an unrelated change.

use std::path::Path;

use crate::finding::{Finding, Rule, Severity};
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "S001",
    name: "schema-rs-missing-table",
    severity: Severity::Error,
    summary: "table the migrations create that schema.rs does not declare",
};

/// The file has no line of the table's: the finding points at its start.
pub(super) fn check(file: &Path, table: &str, out: &mut Vec<Finding>) {
    out.push(Finding::new(
        RULE,
        Span::line(file, 1),
        format!(
            "the migrations create table `{table}`, which schema.rs does not declare: code cannot query it, and print-schema would add it"
        ),
        "run `diesel print-schema` (or `diesel migration run`) and commit schema.rs",
    ));
}
