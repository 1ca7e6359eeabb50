//! A pre-deploy migration drops a column (or its table) the live release uses: its queries fail
//! until the new code is everywhere.

use super::Step;
use crate::finding::{Finding, Rule, Severity};
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "D001",
    name: "deploy-drop-used-column",
    severity: Severity::Error,
    summary: "pre-deploy migration drops a column the live release uses",
};

/// The column is gone after the step, and not under another name.
pub(super) fn check(step: &Step<'_>, table: &str, column: &str, out: &mut Vec<Finding>) {
    let table_gone = !step.after.tables.contains_key(table);
    out.push(Finding::new(
        RULE,
        Span::line(
            &step.file,
            step.line_naming(if table_gone { table } else { column }),
        ),
        format!(
            "{} drops `{table}.{column}` in a pre-deploy migration, while the live release still uses it: its queries fail until the new code is everywhere",
            step.migration.name
        ),
        "drop it in a post-deploy migration (`-- plumb: post-deploy`), once no live code names it",
    ));
}
