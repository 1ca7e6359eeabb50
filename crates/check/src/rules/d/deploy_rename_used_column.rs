//! A pre-deploy migration renames a column the live release uses: its queries name the old
//! column until the new code is everywhere.

use super::Step;
use crate::finding::{Finding, Rule, Severity};
use crate::sql::schema::Column;
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "D002",
    name: "deploy-rename-used-column",
    severity: Severity::Error,
    summary: "pre-deploy migration renames a column the live release uses",
};

/// `old` is gone from its table after the step. A rename is a column of the same type that
/// appears in the same table at the same time; whether it reported.
pub(super) fn check(
    step: &Step<'_>,
    table: &str,
    column: &str,
    old: &Column,
    out: &mut Vec<Finding>,
) -> bool {
    let renamed = step.after.tables.get(table).and_then(|t| {
        t.columns.iter().find(|c| {
            c.sql_type == old.sql_type
                && step
                    .before
                    .tables
                    .get(table)
                    .and_then(|b| b.column(&c.name))
                    .is_none()
        })
    });
    let Some(new) = renamed else {
        return false;
    };
    out.push(Finding::new(
        RULE,
        Span::line(&step.file, step.line_naming(column)),
        format!(
            "{} renames `{table}.{column}` to `{}` before the new code rolls out: the live release still reads and writes `{column}`",
            step.migration.name, new.name
        ),
        "add the new column, write both, backfill, move reads, and drop the old one in a post-deploy migration of a later release",
    ));
    true
}
