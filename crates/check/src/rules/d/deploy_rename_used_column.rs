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

/// `old` is gone from its table after the step. A rename is what up.sql says it is: an
/// `ALTER TABLE ... RENAME COLUMN` of it (a drop and an unrelated add of the same type is a
/// drop); whether it reported.
pub(super) fn check(
    step: &Step<'_>,
    table: &str,
    column: &str,
    _old: &Column,
    out: &mut Vec<Finding>,
) -> bool {
    let Some((new, line)) = step.renamed(table, column) else {
        return false;
    };
    out.push(Finding::new(
        RULE,
        Span::line(&step.file, line),
        format!(
            "{} renames `{table}.{column}` to `{new}` before the new code rolls out: the live release still reads and writes `{column}`",
            step.migration.name
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

    /// What up.sql says decides: a drop beside an unrelated new column of the same type is a
    /// drop, at the line of the drop; a rename written across lines is found at its action.
    #[test]
    fn a_drop_beside_a_new_column_of_the_same_type_is_a_drop_not_a_rename() {
        use crate::rules::d::deploy_drop_used_column;
        let head = next(
            "SET lock_timeout = '20ms';\nCREATE INDEX CONCURRENTLY accounts_note_len ON accounts (length(email));\nALTER TABLE accounts ADD COLUMN remark text;\nALTER TABLE accounts DROP COLUMN note;\n",
        );
        let found = check(&live(), &head);
        assert_eq!(codes(&found), [deploy_drop_used_column::RULE.code]);
        assert_eq!(at(&found[0]), format!("migrations/{NEXT}/up.sql:4"));
        let head = next(
            "SET lock_timeout = '20ms';\nALTER TABLE public.accounts\n    RENAME COLUMN note\n    TO remark;\n",
        );
        let found = check(&live(), &head);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), format!("migrations/{NEXT}/up.sql:3"));
    }

    /// The expand step of expand and contract: the old column stays for the live code.
    #[test]
    fn adding_the_new_column_beside_the_old_is_silent() {
        let head =
            next("SET lock_timeout = '20ms';\nALTER TABLE accounts ADD COLUMN remark text;\n");
        assert_eq!(check(&live(), &head), []);
    }
}
