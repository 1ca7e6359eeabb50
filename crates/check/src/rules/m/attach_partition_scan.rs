//! ATTACH PARTITION scans the table it attaches, to prove every row belongs in the partition,
//! under ACCESS EXCLUSIVE on that table (and, before PostgreSQL 12, on the partitioned table):
//! unless a validated CHECK constraint already proves it.

use super::{Context, Hit};
use crate::finding::{Rule, Severity};
use crate::sql::parse::{Action, Statement, StatementKind};
use crate::sql::schema::{ConstraintKind, Schema};

pub const RULE: Rule = Rule {
    code: "M022",
    name: "attach-partition-scan",
    severity: Severity::Error,
    summary: "ATTACH PARTITION of a table in use scans it under ACCESS EXCLUSIVE",
};

const HELP: &str = "first ADD CONSTRAINT ... CHECK (<the partition's bound as a condition, with the key IS NOT NULL>) NOT VALID on the table, VALIDATE it in a later migration (reads and writes go on), then ATTACH PARTITION: PostgreSQL skips the scan when a validated CHECK implies the bound; drop the CHECK after";

pub(super) fn check(cx: &Context, schema: &Schema, statement: &Statement, hits: &mut Vec<Hit>) {
    let StatementKind::AlterTable { table, actions, .. } = &statement.kind else {
        return;
    };
    for (range, action) in actions {
        let Action::AttachPartition { partition } = action else {
            continue;
        };
        let key = schema.resolve(partition);
        // A table this migration created has no rows to scan and no readers to block.
        if !cx.is_existing(partition) || !cx.is_existing(&key) {
            continue;
        }
        // Whether the CHECK implies the bound is PostgreSQL's proof; a validated CHECK is
        // taken as the safe sequence followed.
        let proven = schema.tables.get(&key).is_some_and(|t| {
            t.constraints
                .iter()
                .any(|c| c.kind == ConstraintKind::Check && c.validated)
        });
        if proven {
            continue;
        }
        let parent_lock = if cx.pg_version >= 12 {
            format!("SHARE UPDATE EXCLUSIVE on `{table}`")
        } else {
            format!(
                "ACCESS EXCLUSIVE on `{table}` too (PostgreSQL {} attaches under it)",
                cx.pg_version
            )
        };
        hits.push(Hit::new(
            RULE,
            *range,
            format!(
                "ATTACH PARTITION {partition} scans every row of `{partition}` to prove it belongs in the partition, under ACCESS EXCLUSIVE on `{partition}` and {parent_lock}: reads and writes of `{partition}` wait until the scan ends"
            ),
            HELP,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::m::testing::{M, TIMEOUT, check, codes, human, rule, snapshot};

    const PARENT: &str = "CREATE TABLE ledger (id bigint PRIMARY KEY, email varchar(100) NOT NULL, note text, amount numeric(10, 2)) PARTITION BY RANGE (id);\n";

    #[test]
    fn attach_partition_scan() {
        let check_first = format!(
            "{TIMEOUT}ALTER TABLE accounts ADD CONSTRAINT accounts_bound CHECK (id IS NOT NULL AND id >= 0 AND id < 1000000) NOT VALID;\n"
        );
        let validate =
            format!("{TIMEOUT}ALTER TABLE accounts VALIDATE CONSTRAINT accounts_bound;\n");
        let attach = format!(
            "{TIMEOUT}ALTER TABLE ledger ATTACH PARTITION accounts FOR VALUES FROM (0) TO (1000000);\n"
        );
        let human = rule(
            RULE,
            &[M("ledger", PARENT, None), M("attach", &attach, None)],
            &[
                // The CHECK validated first: PostgreSQL skips the scan.
                &[
                    M("ledger", PARENT, None),
                    M("check", &check_first, None),
                    M("validate", &validate, None),
                    M("attach", &attach, None),
                ],
                // A table created in the same migration has no rows.
                &[M(
                    "fresh",
                    &format!(
                        "{TIMEOUT}{PARENT}CREATE TABLE ledger_new (id bigint PRIMARY KEY, email varchar(100) NOT NULL, note text, amount numeric(10, 2));\nALTER TABLE ledger ATTACH PARTITION ledger_new FOR VALUES FROM (0) TO (10);\n"
                    ),
                    None,
                )],
            ],
        );
        snapshot!(RULE, human);
    }

    #[test]
    fn a_check_added_not_valid_and_not_yet_validated_proves_nothing() {
        let report = check(&[
            M("ledger", PARENT, None),
            M(
                "check",
                &format!(
                    "{TIMEOUT}ALTER TABLE accounts ADD CONSTRAINT accounts_bound CHECK (id >= 0 AND id < 1000000) NOT VALID;\n"
                ),
                None,
            ),
            M(
                "attach",
                &format!(
                    "{TIMEOUT}ALTER TABLE ledger ATTACH PARTITION accounts FOR VALUES FROM (0) TO (1000000);\n"
                ),
                None,
            ),
        ]);
        assert!(codes(&report).contains(&RULE.code), "{}", human(&report));
    }
}
