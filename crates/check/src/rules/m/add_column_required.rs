//! A NOT NULL column without a default, added to a table in use: the ALTER fails on a table with
//! rows, and the live release's inserts, which do not know the column, fail after it.

use super::{Context, Hit, altered_existing};
use crate::finding::{Rule, Severity};
use crate::sql::parse::{Action, Statement};
use crate::sql::schema::Schema;

pub const RULE: Rule = Rule {
    code: "M001",
    name: "add-column-required",
    severity: Severity::Error,
    summary: "NOT NULL column without a default added to an existing table",
};

pub(super) fn check(cx: &Context, _schema: &Schema, statement: &Statement, hits: &mut Vec<Hit>) {
    let Some((table, actions)) = altered_existing(cx, statement) else {
        return;
    };
    for (range, action) in actions {
        let Action::AddColumn(column) = action else {
            continue;
        };
        // A column that fills its rows itself is add-column-rewrite's.
        if column.fills_rows.is_none() && column.not_null && column.default.is_none() {
            hits.push(Hit::new(
                RULE,
                *range,
                format!(
                    "`{table}.{}` is NOT NULL without a default: the statement fails on a table with rows, and the release that is live inserts rows without it",
                    column.name
                ),
                "add it nullable (or with a constant DEFAULT); backfill; then enforce with CHECK (... IS NOT NULL) NOT VALID, VALIDATE and SET NOT NULL in later migrations",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::m::testing::{M, TIMEOUT, rule, snapshot};

    #[test]
    fn add_column_required() {
        let human = rule(
            RULE,
            &[M(
                "add_a",
                &format!("{TIMEOUT}ALTER TABLE accounts ADD COLUMN a int NOT NULL;\n"),
                None,
            )],
            &[
                &[M(
                    "add_a",
                    &format!(
                        "{TIMEOUT}ALTER TABLE accounts ADD COLUMN a int NOT NULL DEFAULT 0;\n"
                    ),
                    None,
                )],
                &[M(
                    "add_a",
                    &format!("{TIMEOUT}ALTER TABLE accounts ADD COLUMN a int;\n"),
                    None,
                )],
                &[M(
                    "new_table",
                    "CREATE TABLE t (a int);\nALTER TABLE t ADD COLUMN b int NOT NULL;\n",
                    None,
                )],
            ],
        );
        snapshot!(RULE, human);
    }
}
