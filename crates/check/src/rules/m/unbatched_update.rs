//! An UPDATE or DELETE of a table in use inside a migration touches every matching row in one
//! transaction, under live traffic, with no progress and no resume.

use super::{Context, Hit};
use crate::finding::{Rule, Severity};
use crate::sql::parse::{Statement, StatementKind};
use crate::sql::schema::Schema;

pub const RULE: Rule = Rule {
    code: "M014",
    name: "unbatched-update",
    severity: Severity::Error,
    summary: "UPDATE or DELETE of an existing table in a migration",
};

pub(super) fn check(cx: &Context, schema: &Schema, statement: &Statement, hits: &mut Vec<Hit>) {
    let (verb, table) = match &statement.kind {
        // `WHERE col IS NULL` of a column that is NOT NULL matches no row.
        StatementKind::Update {
            table,
            only_where_null: Some(column),
        } if schema
            .tables
            .get(table)
            .and_then(|t| t.column(column))
            .is_some_and(|c| !c.nullable) =>
        {
            return;
        }
        StatementKind::Update { table, .. } => ("UPDATE", table),
        StatementKind::Delete { table } => ("DELETE", table),
        _ => return,
    };
    // A system catalog (`UPDATE pg_index SET indisvalid ...`): a few catalog rows, not a
    // backfill. A table of the application named pg_... would be in the replay.
    let catalog = table.starts_with("pg_") && !schema.tables.contains_key(table.as_str());
    if cx.is_existing(table) && !catalog {
        hits.push(Hit::new(
            RULE,
            statement.range,
            format!(
                "{verb} of `{table}` in a migration touches every matching row in one transaction: row locks held until it commits, a long write under live traffic, no progress and no resume"
            ),
            "run it as a batched, resumable backfill (plumb backfill) outside the migration",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::m::testing::{M, rule, snapshot};

    #[test]
    fn unbatched_update() {
        let human = rule(
            RULE,
            &[M(
                "update",
                "UPDATE accounts SET note = 'x' WHERE note IS NULL;\nDELETE FROM accounts WHERE amount < 0;\n",
                None,
            )],
            &[
                &[M(
                    "new_table",
                    "CREATE TABLE t (a int);\nINSERT INTO t VALUES (1);\nUPDATE t SET a = 2;\n",
                    None,
                )],
                &[M(
                    "catalog",
                    "UPDATE pg_catalog.pg_index SET indisvalid = true WHERE indexrelid = 'x'::regclass;\n",
                    None,
                )],
            ],
        );
        snapshot!(RULE, human);
    }
}
