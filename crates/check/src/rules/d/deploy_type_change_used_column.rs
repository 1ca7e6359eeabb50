//! A pre-deploy migration changes the type of a column the live release uses, to one diesel
//! maps differently: the live code reads and writes it as the old type.

use super::Step;
use crate::finding::{Finding, Rule, Severity};
use crate::rules::s::diesel_type;
use crate::sql::schema::Column;
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "D003",
    name: "deploy-type-change-used-column",
    severity: Severity::Error,
    summary: "pre-deploy migration changes the type of a column the live release uses",
};

pub(super) fn check(
    step: &Step<'_>,
    table: &str,
    column: &str,
    old: &Column,
    new: &Column,
    out: &mut Vec<Finding>,
) {
    let (old_type, _) = diesel_type(old);
    let (new_type, _) = diesel_type(new);
    let strip = |t: &str| {
        t.trim_start_matches("Nullable<")
            .trim_end_matches('>')
            .to_owned()
    };
    if strip(&old_type) != strip(&new_type) {
        out.push(Finding::new(
            RULE,
            Span::line(&step.file, step.line_naming(column)),
            format!(
                "{} changes `{table}.{column}` from {} to {} while the live release reads and writes it as {}",
                step.migration.name,
                strip(&old_type),
                strip(&new_type),
                strip(&old_type)
            ),
            "add a column of the new type, write both, backfill, switch reads, then drop the old one",
        ));
    }
}
