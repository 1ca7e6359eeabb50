//! A `schema.rs` column whose SQL type (or `max_length`) differs from what the migrations make
//! it: a hand edit that disagrees with the database fails at run time.

use std::path::Path;

use super::diesel_type;
use crate::finding::{Finding, Rule, Severity};
use crate::input::schema_rs::ColumnRs;
use crate::sql::schema::Column;
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "S004",
    name: "schema-rs-type-mismatch",
    severity: Severity::Error,
    summary: "schema.rs type that differs from the migrations' column type",
};

/// Whether it reported: nullability is judged only where the type agrees.
pub(super) fn check(
    file: &Path,
    table: &str,
    column: &Column,
    c: &ColumnRs,
    out: &mut Vec<Finding>,
) -> bool {
    let (expected, max_length) = diesel_type(column);
    let strip = |t: &str| {
        t.strip_prefix("Nullable<")
            .and_then(|t| t.strip_suffix('>'))
            .unwrap_or(t)
            .to_owned()
    };
    let differs = strip(&c.sql_type) != strip(&expected)
        || (c.max_length != max_length && max_length.is_some());
    if differs {
        out.push(Finding::new(
            RULE,
            Span::line(file, c.line),
            format!(
                "`{table}.{}` is `{}` in schema.rs; the migrations make it `{expected}`{}",
                column.name,
                c.sql_type,
                max_length
                    .map(|l| format!(" with max_length {l}"))
                    .unwrap_or_default()
            ),
            "regenerate schema.rs with `diesel print-schema`; a hand edit that disagrees with the database fails at run time",
        ));
    }
    differs
}
