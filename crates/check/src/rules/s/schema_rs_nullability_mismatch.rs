//! `Nullable<...>` in `schema.rs` where the migrations make the column NOT NULL, or the reverse:
//! the first NULL read into a non-nullable type fails to load.

use std::path::Path;

use crate::finding::{Finding, Rule, Severity};
use crate::input::schema_rs::ColumnRs;
use crate::sql::schema::Column;
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "S005",
    name: "schema-rs-nullability-mismatch",
    severity: Severity::Error,
    summary: "schema.rs nullability that differs from the migrations'",
};

pub(super) fn check(
    file: &Path,
    table: &str,
    column: &Column,
    c: &ColumnRs,
    out: &mut Vec<Finding>,
) {
    let declared_nullable = c.sql_type.starts_with("Nullable<");
    if declared_nullable == column.nullable {
        return;
    }
    out.push(Finding::new(
        RULE,
        Span::line(file, c.line),
        if column.nullable {
            format!(
                "`{table}.{}` is nullable in the migrations but `{}` in schema.rs: the first NULL read fails to load",
                column.name, c.sql_type
            )
        } else {
            format!(
                "`{table}.{}` is NOT NULL in the migrations but `{}` in schema.rs",
                column.name, c.sql_type
            )
        },
        "regenerate schema.rs with `diesel print-schema`",
    ));
}
