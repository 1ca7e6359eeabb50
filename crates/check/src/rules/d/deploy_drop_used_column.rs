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
            step.line_naming(table, if table_gone { table } else { column }),
        ),
        format!(
            "{} drops `{table}.{column}` in a pre-deploy migration, while the live release still uses it: its queries fail until the new code is everywhere",
            step.migration.name
        ),
        "drop it in a post-deploy migration (`-- plumb: post-deploy`), once no live code names it",
    ));
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::d::testing::{NEXT, at, check, codes, live, next, shown};

    #[test]
    fn a_pre_deploy_drop_of_a_used_column_fires_at_the_drop() {
        let head = next("SET lock_timeout = '20ms';\nALTER TABLE accounts DROP COLUMN note;\n");
        let found = check(&live(), &head);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), format!("migrations/{NEXT}/up.sql:2"));
        insta::assert_snapshot!(shown(&found[0]));
    }

    /// Dropping the table drops every column the live code uses, each at the DROP TABLE.
    #[test]
    fn a_pre_deploy_drop_of_a_used_table_fires_for_each_column() {
        let head = next("SET lock_timeout = '20ms';\nDROP TABLE accounts;\n");
        let found = check(&live(), &head);
        assert_eq!(codes(&found), [RULE.code; 3]);
        for f in &found {
            assert_eq!(at(f), format!("migrations/{NEXT}/up.sql:2"));
        }
    }

    #[test]
    fn a_post_deploy_drop_is_silent() {
        let head = next(
            "-- plumb: post-deploy\nSET lock_timeout = '20ms';\nALTER TABLE accounts DROP COLUMN note;\n",
        );
        assert_eq!(check(&live(), &head), []);
    }

    /// A column the head added and drops again was never the live code's.
    #[test]
    fn dropping_a_column_the_live_code_does_not_know_is_silent() {
        let head = next(
            "ALTER TABLE accounts ADD COLUMN tier text;\nALTER TABLE accounts DROP COLUMN tier;\n",
        );
        assert_eq!(check(&live(), &head), []);
    }
}
