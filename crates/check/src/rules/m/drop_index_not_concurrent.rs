//! DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on the index's table: reads and writes
//! of a table in use wait behind it.

use super::{Context, Hit, drops_index_of_existing};
use crate::finding::{Rule, Severity};
use crate::sql::parse::{Statement, StatementKind};
use crate::sql::schema::Schema;

pub const RULE: Rule = Rule {
    code: "M005",
    name: "drop-index-not-concurrent",
    severity: Severity::Error,
    summary: "index of an existing table dropped without CONCURRENTLY",
};

pub(super) fn check(cx: &Context, schema: &Schema, statement: &Statement, hits: &mut Vec<Hit>) {
    if let StatementKind::DropIndex {
        names,
        concurrently: false,
        ..
    } = &statement.kind
        && drops_index_of_existing(cx, schema, names)
    {
        hits.push(Hit::new(
            RULE,
            statement.range,
            format!(
                "DROP INDEX {} takes ACCESS EXCLUSIVE on its table: reads and writes wait behind it",
                names.join(", ")
            ),
            "use DROP INDEX CONCURRENTLY, alone in a migration whose metadata.toml says run_in_transaction = false",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::m::testing::{M, NO_TX, TIMEOUT, rule, snapshot};

    #[test]
    fn drop_index_not_concurrent() {
        let human = rule(
            RULE,
            &[M(
                "drop",
                &format!("{TIMEOUT}DROP INDEX accounts_email_idx;\n"),
                None,
            )],
            &[
                &[M(
                    "drop",
                    "DROP INDEX CONCURRENTLY accounts_email_idx;\n",
                    NO_TX,
                )],
                &[M(
                    "new_table",
                    "CREATE TABLE t (a int);\nCREATE INDEX t_a_idx ON t (a);\nDROP INDEX t_a_idx;\n",
                    None,
                )],
            ],
        );
        snapshot!(RULE, human);
    }
}
