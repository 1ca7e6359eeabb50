//! Adding a partition scans: ATTACH PARTITION reads every row of the table it attaches, to prove
//! each belongs in the partition, under ACCESS EXCLUSIVE on that table (and, before PostgreSQL
//! 12, on the partitioned table); and any new partition makes PostgreSQL read the DEFAULT
//! partition, under ACCESS EXCLUSIVE on it, for rows the new one would take. A validated CHECK
//! that proves the answer spares each scan.

use super::{Context, Hit};
use crate::finding::{Rule, Severity};
use crate::sql::parse::{Action, Statement, StatementKind};
use crate::sql::schema::{ConstraintKind, Schema};

pub const RULE: Rule = Rule {
    code: "M022",
    name: "attach-partition-scan",
    severity: Severity::Error,
    summary: "ATTACH PARTITION scans a table in use under ACCESS EXCLUSIVE",
};

const HELP: &str = "first ADD CONSTRAINT ... CHECK (<the partition's bound as a condition, with the key IS NOT NULL>) NOT VALID on the table, VALIDATE it in a later migration (reads and writes go on), then ATTACH PARTITION: PostgreSQL skips the scan when a validated CHECK implies the bound; drop the CHECK after";

pub(super) fn check(cx: &Context, schema: &Schema, statement: &Statement, hits: &mut Vec<Hit>) {
    let StatementKind::AlterTable { table, actions, .. } = &statement.kind else {
        return;
    };
    for (range, action) in actions {
        let Action::AttachPartition { partition, default } = action else {
            continue;
        };
        let key = schema.resolve(partition);
        let parent = schema.resolve(table);
        // A table this migration created has no rows to scan and no readers to block.
        if cx.is_existing(partition) && cx.is_existing(&key) && !proven(schema, &key, &parent) {
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
        if !default && let Some(scanned) = default_scanned(cx, schema, table) {
            hits.push(default_hit(*range, table, scanned));
        }
    }
}

/// A validated CHECK on `table` that reads every column `parent` is partitioned by (any
/// validated CHECK when a key is an expression). Whether it implies the bound is PostgreSQL's
/// proof; such a CHECK is taken as the safe sequence followed.
fn proven(schema: &Schema, table: &str, parent: &str) -> bool {
    let key: &[String] = schema
        .tables
        .get(parent)
        .map_or(&[], |p| p.partition_key.as_slice());
    schema.tables.get(table).is_some_and(|t| {
        t.constraints.iter().any(|c| {
            c.kind == ConstraintKind::Check
                && c.validated
                && key.iter().all(|column| c.columns.contains(column))
        })
    })
}

/// The DEFAULT partition of `parent` that adding a partition scans: one the live release has
/// (not this migration's own), without a validated CHECK.
pub(super) fn default_scanned<'s>(
    cx: &Context,
    schema: &'s Schema,
    parent: &str,
) -> Option<&'s str> {
    let parent = schema.resolve(parent);
    schema
        .default_partition_of(&parent)
        .filter(|d| cx.is_existing(d) && !proven(schema, d, &parent))
}

/// The finding for the scan of `parent`'s DEFAULT partition `scanned`.
pub(super) fn default_hit(range: crate::sql::parse::Range, parent: &str, scanned: &str) -> Hit {
    Hit::new(
        RULE,
        range,
        format!(
            "a new partition of `{parent}` makes PostgreSQL scan its DEFAULT partition `{scanned}` for rows the new one would take, under ACCESS EXCLUSIVE on `{scanned}`: reads and writes of `{scanned}` wait until the scan ends"
        ),
        format!(
            "first ADD CONSTRAINT ... CHECK (<a condition that excludes the new partition's bound>) NOT VALID on `{scanned}`, VALIDATE it in a later migration, then add the partition: PostgreSQL skips the scan when a validated CHECK proves no row of `{scanned}` belongs in it; or keep the DEFAULT partition empty"
        ),
    )
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
    fn a_dropped_partitioned_table_takes_its_default_partition_with_it() {
        let report = check(&[
            M(
                "ledger",
                &format!("{PARENT}CREATE TABLE ledger_rest PARTITION OF ledger DEFAULT;\n"),
                None,
            ),
            M(
                "again",
                &format!("{TIMEOUT}DROP TABLE ledger;\n{PARENT}"),
                None,
            ),
            M(
                "next",
                "CREATE TABLE ledger_next (id bigint PRIMARY KEY, email varchar(100) NOT NULL, note text, amount numeric(10, 2));\n",
                None,
            ),
            M(
                "attach",
                &format!(
                    "{TIMEOUT}ALTER TABLE ledger ATTACH PARTITION ledger_next FOR VALUES FROM (0) TO (10);\n"
                ),
                None,
            ),
        ]);
        assert!(report.schema.tables.get("ledger_rest").is_none());
        assert!(
            !report
                .findings
                .iter()
                .any(|f| f.message.contains("DEFAULT partition")),
            "{}",
            human(&report)
        );
    }

    /// A CHECK of other columns, and one not yet validated, prove nothing of the bound.
    #[test]
    fn only_a_validated_check_of_the_partition_key_spares_the_scan() {
        for checks in [
            "ALTER TABLE accounts ADD CONSTRAINT accounts_amount CHECK (amount >= 0) NOT VALID;\nALTER TABLE accounts VALIDATE CONSTRAINT accounts_amount;\n",
            "ALTER TABLE accounts ADD CONSTRAINT accounts_bound CHECK (id >= 0 AND id < 1000000) NOT VALID;\n",
        ] {
            let report = check(&[
                M("ledger", PARENT, None),
                M("check", &format!("{TIMEOUT}{checks}"), None),
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

    #[test]
    fn a_new_partition_scans_the_default_partition_the_release_has() {
        let with_default = format!(
            "{PARENT}CREATE TABLE ledger_rest PARTITION OF ledger DEFAULT;\nCREATE TABLE ledger_next (id bigint PRIMARY KEY, email varchar(100) NOT NULL, note text, amount numeric(10, 2));\n"
        );
        let attach = format!(
            "{TIMEOUT}ALTER TABLE ledger ATTACH PARTITION ledger_next FOR VALUES FROM (0) TO (10);\n"
        );
        let report = check(&[M("ledger", &with_default, None), M("attach", &attach, None)]);
        let messages: Vec<&str> = report
            .findings
            .iter()
            .filter(|f| f.code == RULE.code)
            .map(|f| f.message.as_str())
            .collect();
        // ledger_next is the release's too (made by an earlier migration), and has no CHECK.
        assert_eq!(messages.len(), 2, "{}", human(&report));
        assert!(
            messages[1].contains("DEFAULT partition `ledger_rest`"),
            "{messages:?}"
        );
        // The DEFAULT partition made in the same migration holds nothing yet.
        let report = check(&[M(
            "ledger",
            &format!(
                "{TIMEOUT}{with_default}ALTER TABLE ledger ATTACH PARTITION ledger_next FOR VALUES FROM (0) TO (10);\n"
            ),
            None,
        )]);
        assert!(!codes(&report).contains(&RULE.code), "{}", human(&report));
        // Attaching the DEFAULT partition itself scans no other.
        let report = check(&[
            M("ledger", PARENT, None),
            M(
                "rest",
                "CREATE TABLE ledger_rest (id bigint PRIMARY KEY, email varchar(100) NOT NULL, note text, amount numeric(10, 2));\nALTER TABLE ledger_rest ADD CONSTRAINT ledger_rest_check CHECK (id >= 0);\n",
                None,
            ),
            M(
                "attach",
                &format!("{TIMEOUT}ALTER TABLE ledger ATTACH PARTITION ledger_rest DEFAULT;\n"),
                None,
            ),
        ]);
        assert!(!codes(&report).contains(&RULE.code), "{}", human(&report));
    }
}
