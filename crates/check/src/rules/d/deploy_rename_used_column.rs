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

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::d::testing::{NEXT, at, check, codes, live, next, shown};

    #[test]
    fn a_pre_deploy_rename_of_a_used_column_fires_at_the_rename() {
        let head = next(
            "SET lock_timeout = '20ms';\nALTER TABLE accounts RENAME COLUMN note TO remark;\n",
        );
        let found = check(&live(), &head);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), format!("migrations/{NEXT}/up.sql:2"));
        insta::assert_snapshot!(shown(&found[0]));
    }

    /// The expand step of expand and contract: the old column stays for the live code.
    #[test]
    fn adding_the_new_column_beside_the_old_is_silent() {
        let head =
            next("SET lock_timeout = '20ms';\nALTER TABLE accounts ADD COLUMN remark text;\n");
        assert_eq!(check(&live(), &head), []);
    }
}
