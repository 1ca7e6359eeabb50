//! Renaming a column of a table in use breaks the release that is live, which still reads and
//! writes the old name until the new one has rolled out.

use super::{Context, Hit, altered_existing};
use crate::finding::{Rule, Severity};
use crate::sql::parse::{Action, Statement};
use crate::sql::schema::Schema;

pub const RULE: Rule = Rule {
    code: "M011",
    name: "rename-column",
    severity: Severity::Error,
    summary: "column of an existing table renamed",
};

pub(super) fn check(cx: &Context, _schema: &Schema, statement: &Statement, hits: &mut Vec<Hit>) {
    let Some((table, actions)) = altered_existing(cx, statement) else {
        return;
    };
    for (range, action) in actions {
        if let Action::RenameColumn { from, to } = action {
            hits.push(Hit::new(
                RULE,
                *range,
                format!(
                    "renaming `{table}.{from}` to `{to}` breaks the release that is live, which still reads and writes `{from}`"
                ),
                format!(
                    "add `{to}` as a new column, write both, backfill, switch reads, and drop `{from}` in a post-deploy migration"
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::m::testing::{M, TIMEOUT, rule, snapshot};

    #[test]
    fn rename_column() {
        let human = rule(
            RULE,
            &[M(
                "rename",
                &format!("{TIMEOUT}ALTER TABLE accounts RENAME COLUMN note TO remark;\n"),
                None,
            )],
            &[&[M(
                "new_table",
                "CREATE TABLE t (a int);\nALTER TABLE t RENAME COLUMN a TO b;\n",
                None,
            )]],
        );
        snapshot!(RULE, human);
    }
}
