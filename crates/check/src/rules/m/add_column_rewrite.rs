//! A column added to a table in use in a way that writes a value into every row: PostgreSQL
//! rewrites the table and its indexes under ACCESS EXCLUSIVE, and reads and writes wait.

use super::{Context, Hit, altered_existing};
use crate::finding::{Rule, Severity};
use crate::sql::parse::{Action, DefaultKind, Statement};
use crate::sql::schema::Schema;

pub const RULE: Rule = Rule {
    code: "M002",
    name: "add-column-rewrite",
    severity: Severity::Error,
    summary: "column added to an existing table in a way that rewrites it",
};

const HELP: &str = "add the column nullable or with a constant default, give new rows their value with ALTER COLUMN ... SET DEFAULT, and backfill old rows in batches";

pub(super) fn check(cx: &Context, _schema: &Schema, statement: &Statement, hits: &mut Vec<Hit>) {
    let Some((table, actions)) = altered_existing(cx, statement) else {
        return;
    };
    for (range, action) in actions {
        let Action::AddColumn(column) = action else {
            continue;
        };
        let message = if let Some(what) = column.fills_rows {
            format!(
                "`{table}.{}` is {what}: PostgreSQL writes a value into every row, rewriting `{table}` and its indexes under ACCESS EXCLUSIVE",
                column.name
            )
        } else if let Some(DefaultKind::Volatile { function }) = &column.default {
            format!(
                "the default of `{table}.{}` calls {function}(), which is volatile (or not known to be stable): PostgreSQL rewrites `{table}` and its indexes under ACCESS EXCLUSIVE",
                column.name
            )
        } else if column.default.is_some() && cx.pg_version < 11 {
            format!(
                "before PostgreSQL 11 any default rewrites the table: adding `{table}.{}` rewrites `{table}` under ACCESS EXCLUSIVE",
                column.name
            )
        } else {
            continue;
        };
        hits.push(Hit::new(RULE, *range, message, HELP));
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::m::testing::{M, TIMEOUT, codes, rule, snapshot, workspace};

    #[test]
    fn add_column_rewrite() {
        let human = rule(
            RULE,
            &[M(
                "add",
                &format!(
                    "{TIMEOUT}ALTER TABLE accounts ADD COLUMN token uuid DEFAULT gen_random_uuid();\n\
                     ALTER TABLE accounts ADD COLUMN seq bigserial;\n\
                     ALTER TABLE accounts ADD COLUMN twice numeric GENERATED ALWAYS AS (amount * 2) STORED;\n\
                     ALTER TABLE accounts ADD COLUMN n bigint GENERATED ALWAYS AS IDENTITY;\n"
                ),
                None,
            )],
            &[
                &[M(
                    "add",
                    &format!(
                        "{TIMEOUT}ALTER TABLE accounts ADD COLUMN seen_at timestamptz DEFAULT now();\n"
                    ),
                    None,
                )],
                &[M(
                    "add",
                    &format!(
                        "{TIMEOUT}ALTER TABLE accounts ADD COLUMN kind text NOT NULL DEFAULT 'basic';\n"
                    ),
                    None,
                )],
                &[M(
                    "new_table",
                    "CREATE TABLE t (id bigserial PRIMARY KEY, token uuid DEFAULT gen_random_uuid());\n",
                    None,
                )],
            ],
        );
        snapshot!(RULE, human);
    }

    #[test]
    fn add_column_rewrite_knows_postgres_before_11() {
        let dir = workspace(&[M(
            "add",
            &format!("{TIMEOUT}ALTER TABLE accounts ADD COLUMN kind text DEFAULT 'basic';\n"),
            None,
        )]);
        let old = crate::check_workspace(dir.path(), Some(10)).unwrap();
        assert_eq!(codes(&old), [RULE.code]);
        assert!(old.findings[0].message.contains("before PostgreSQL 11"));
        assert!(codes(&crate::check_workspace(dir.path(), Some(11)).unwrap()).is_empty());
    }
}
