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

pub(super) fn check(cx: &Context, schema: &Schema, statement: &Statement, hits: &mut Vec<Hit>) {
    if let StatementKind::CreateIndex {
        table,
        concurrently: false,
        only,
        ..
    } = &statement.kind
        && cx.is_existing(table)
    {
        let partitioned = schema
            .tables
            .get(&schema.resolve(table))
            .is_some_and(|t| t.partitioned);
        // ON ONLY a partitioned table builds nothing (a catalog change); on a plain table it
        // is an ordinary build.
        if *only && partitioned {
            return;
        }
        let (message, help) = if partitioned {
            (
                format!(
                    "CREATE INDEX on the partitioned table `{table}` builds it on every partition, each under a SHARE lock held until the whole build ends: every write to the table waits"
                ),
                super::index_concurrently_partitioned::sequence(table),
            )
        } else {
            (
                format!(
                    "CREATE INDEX on `{table}` holds a SHARE lock for the whole build: every write to the table waits"
                ),
                "use CREATE INDEX CONCURRENTLY, alone in a migration whose metadata.toml says run_in_transaction = false".to_owned(),
            )
        };
        hits.push(Hit::new(RULE, statement.range, message, help));
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

    #[test]
    fn on_a_partitioned_table_it_names_the_steps_and_on_only_is_a_catalog_change() {
        let partitioned = "CREATE TABLE events (id bigint, at date NOT NULL) PARTITION BY RANGE (at);\nCREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');\n";
        let report = check(&[
            M("events", partitioned, None),
            M(
                "index",
                &format!("{TIMEOUT}CREATE INDEX events_at_idx ON events (at);\n"),
                None,
            ),
        ]);
        assert_eq!(codes(&report), [RULE.code], "{}", human(&report));
        assert!(
            report.findings[0].help.contains("ON ONLY events")
                && report.findings[0].message.contains("every partition"),
            "{}",
            human(&report)
        );
        let report = check(&[
            M("events", partitioned, None),
            M(
                "index",
                &format!("{TIMEOUT}CREATE INDEX events_at_idx ON ONLY events (at);\n"),
                None,
            ),
        ]);
        assert!(report.findings.is_empty(), "{}", human(&report));
    }

    #[test]
    fn a_partition_has_its_parents_columns_and_detach_clears_it() {
        let report = check(&[M(
            "events",
            "CREATE TABLE events (id bigint, at date NOT NULL) PARTITION BY RANGE (at);\nCREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');\nALTER TABLE events DETACH PARTITION events_2026;\n",
            None,
        )]);
        let partition = &report.schema.tables["events_2026"];
        assert!(partition.column("at").is_some_and(|c| !c.nullable));
        assert_eq!(partition.partition_of, None);
        assert!(report.schema.tables["events"].partitioned);
        // Modelled, and its lock judged by detach-partition-blocking (silent here: the table
        // is the migration's own).
        assert!(report.findings.is_empty(), "{}", human(&report));
    }

    #[test]
    fn on_only_a_plain_table_is_an_ordinary_build() {
        let report = check(&[M(
            "index",
            &format!("{TIMEOUT}CREATE INDEX accounts_note_idx ON ONLY accounts (note);\n"),
            None,
        )]);
        assert_eq!(codes(&report), [RULE.code], "{}", human(&report));
    }
}
