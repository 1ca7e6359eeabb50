//! DETACH PARTITION without CONCURRENTLY takes ACCESS EXCLUSIVE on the partitioned table: every
//! query on every partition waits behind it, and it waits behind every query already running.

use super::{Context, Hit};
use crate::finding::{Rule, Severity};
use crate::sql::parse::{Action, Statement, StatementKind};
use crate::sql::schema::Schema;

pub const RULE: Rule = Rule {
    code: "M023",
    name: "detach-partition-blocking",
    severity: Severity::Error,
    summary: "DETACH PARTITION without CONCURRENTLY locks the whole partitioned table",
};

pub(super) fn check(cx: &Context, schema: &Schema, statement: &Statement, hits: &mut Vec<Hit>) {
    let StatementKind::AlterTable { table, actions, .. } = &statement.kind else {
        return;
    };
    // PostgreSQL refuses DETACH ... CONCURRENTLY whenever the table has a DEFAULT partition,
    // the one detached included.
    let default = schema.default_partition_of(&schema.resolve(table));
    for (range, action) in actions {
        let Action::DetachPartition {
            partition,
            concurrently,
        } = action
        else {
            continue;
        };
        if *concurrently {
            if let Some(default) = default {
                hits.push(Hit::new(
                    RULE,
                    *range,
                    format!(
                        "PostgreSQL refuses DETACH PARTITION ... CONCURRENTLY while `{table}` has a DEFAULT partition (`{default}`): the migration fails"
                    ),
                    "detach without CONCURRENTLY, alone in its migration with a short lock_timeout so that a wait fails fast and is retried, at a quiet hour",
                ));
            }
            continue;
        }
        // A partitioned table this migration created has no readers yet.
        if !cx.is_existing(table) {
            continue;
        }
        let help = if let (true, Some(default)) = (cx.pg_version >= 14, default) {
            format!(
                "PostgreSQL refuses DETACH PARTITION ... CONCURRENTLY while `{table}` has a DEFAULT partition (`{default}`): detach alone in its migration, with a short lock_timeout so that a wait fails fast and is retried, at a quiet hour"
            )
        } else if cx.pg_version >= 14 {
            format!(
                "use ALTER TABLE {table} DETACH PARTITION {partition} CONCURRENTLY (SHARE UPDATE EXCLUSIVE: queries go on), alone in a migration whose metadata.toml says run_in_transaction = false; PostgreSQL refuses it while `{table}` has a DEFAULT partition"
            )
        } else {
            format!(
                "PostgreSQL {} has no DETACH PARTITION ... CONCURRENTLY (it came in 14): detach alone in its migration, with a short lock_timeout so that a wait fails fast and is retried, at a quiet hour",
                cx.pg_version
            )
        };
        hits.push(Hit::new(
            RULE,
            *range,
            format!(
                "DETACH PARTITION {partition} takes ACCESS EXCLUSIVE on `{table}`: reads and writes of every partition of `{table}` wait behind it, and it waits for every query already running on them"
            ),
            help,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::finding::Finding;
    use crate::rules::m::testing::{M, NO_TX, TIMEOUT, check, human, rule, snapshot};

    const PARTITIONED: &str = "CREATE TABLE events (id bigint, at date NOT NULL) PARTITION BY RANGE (at);\nCREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');\n";

    #[test]
    fn detach_partition_blocking() {
        let human = rule(
            RULE,
            &[
                M("events", PARTITIONED, None),
                M(
                    "detach",
                    &format!("{TIMEOUT}ALTER TABLE events DETACH PARTITION events_2025;\n"),
                    None,
                ),
            ],
            &[
                &[
                    M("events", PARTITIONED, None),
                    M(
                        "detach",
                        "ALTER TABLE events DETACH PARTITION events_2025 CONCURRENTLY;\n",
                        NO_TX,
                    ),
                ],
                // Created and detached in one migration: nothing reads it yet.
                &[M(
                    "events",
                    &format!(
                        "{TIMEOUT}{PARTITIONED}ALTER TABLE events DETACH PARTITION events_2025;\n"
                    ),
                    None,
                )],
            ],
        );
        snapshot!(RULE, human);
    }

    /// Beside a DEFAULT partition: the detach as a migration after the one that made it, and
    /// what the rule says of it.
    fn beside_a_default_partition(detach: &str, metadata: Option<&str>) -> Vec<Finding> {
        let report = check(&[
            M(
                "events",
                &format!("{PARTITIONED}CREATE TABLE events_rest PARTITION OF events DEFAULT;\n"),
                None,
            ),
            M("detach", detach, metadata),
        ]);
        let found: Vec<Finding> = report
            .findings
            .iter()
            .filter(|f| f.code == RULE.code)
            .cloned()
            .collect();
        assert_eq!(found.len(), 1, "{}", human(&report));
        found
    }

    #[test]
    fn concurrently_is_refused_while_there_is_a_default_partition() {
        let found = beside_a_default_partition(
            "ALTER TABLE events DETACH PARTITION events_rest CONCURRENTLY;\n",
            NO_TX,
        );
        assert!(
            found[0].message.contains("the migration fails"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn with_a_default_partition_concurrently_is_not_the_advice() {
        let found = beside_a_default_partition(
            &format!("{TIMEOUT}ALTER TABLE events DETACH PARTITION events_2025;\n"),
            None,
        );
        assert!(
            found[0].help.contains("refuses") && found[0].help.contains("events_rest"),
            "{}",
            found[0].help
        );
    }
}
