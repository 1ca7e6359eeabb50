//! CREATE INDEX without CONCURRENTLY on a table in use holds a SHARE lock for the whole build:
//! every write to the table waits.

use super::{Context, Hit};
use crate::finding::{Rule, Severity};
use crate::sql::parse::{Statement, StatementKind};
use crate::sql::schema::Schema;

pub const RULE: Rule = Rule {
    code: "M004",
    name: "index-not-concurrent",
    severity: Severity::Error,
    summary: "index on an existing table built without CONCURRENTLY",
};

pub(super) fn check(cx: &Context, _schema: &Schema, statement: &Statement, hits: &mut Vec<Hit>) {
    if let StatementKind::CreateIndex {
        table,
        concurrently: false,
        ..
    } = &statement.kind
        && cx.is_existing(table)
    {
        hits.push(Hit::new(
            RULE,
            statement.range,
            format!(
                "CREATE INDEX on `{table}` holds a SHARE lock for the whole build: every write to the table waits"
            ),
            "use CREATE INDEX CONCURRENTLY, alone in a migration whose metadata.toml says run_in_transaction = false",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::m::testing::{M, NO_TX, TIMEOUT, check, codes, human, rule, snapshot};

    #[test]
    fn index_not_concurrent() {
        let human = rule(
            RULE,
            &[M(
                "index",
                &format!("{TIMEOUT}CREATE INDEX accounts_note_idx ON accounts (note);\n"),
                None,
            )],
            &[
                &[M(
                    "index",
                    "CREATE INDEX CONCURRENTLY accounts_note_idx ON accounts (note);\n",
                    NO_TX,
                )],
                &[M(
                    "new_table",
                    "CREATE TABLE t (a int);\nCREATE INDEX t_a_idx ON t (a);\n",
                    None,
                )],
            ],
        );
        snapshot!(RULE, human);
    }

    #[test]
    fn tables_the_replay_never_saw_created_count_as_in_use() {
        let report = check(&[
            M(
                "unmodelled",
                "-- plumb: allow unmodelled-statement created in a block\nDO $$ BEGIN CREATE TABLE archive (email text); END $$;\n",
                None,
            ),
            M(
                "index",
                &format!("{TIMEOUT}CREATE INDEX archive_email_idx ON archive (email);\n"),
                None,
            ),
        ]);
        assert_eq!(codes(&report), [RULE.code], "{}", human(&report));
    }
}
