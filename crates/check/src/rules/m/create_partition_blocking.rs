//! CREATE TABLE ... PARTITION OF takes ACCESS EXCLUSIVE on the partitioned table: every query on
//! every partition waits behind it. ATTACH PARTITION of a table made on its own takes SHARE
//! UPDATE EXCLUSIVE instead (PostgreSQL 12+).

use super::attach_partition_scan;
use super::{Context, Hit};
use crate::finding::{Rule, Severity};
use crate::sql::parse::{Statement, StatementKind};
use crate::sql::schema::Schema;

pub const RULE: Rule = Rule {
    code: "M024",
    name: "create-partition-blocking",
    severity: Severity::Error,
    summary: "CREATE TABLE ... PARTITION OF locks the whole partitioned table",
};

pub(super) fn check(cx: &Context, schema: &Schema, statement: &Statement, hits: &mut Vec<Hit>) {
    let StatementKind::CreateTable {
        table,
        partition_of: Some(parent),
        default_partition,
        ..
    } = &statement.kind
    else {
        return;
    };
    // A partitioned table this migration created has no readers yet.
    if !cx.is_existing(parent) || !cx.is_existing(&schema.resolve(parent)) {
        return;
    }
    let help = if cx.pg_version >= 12 {
        format!(
            "create `{table}` as a table of its own (CREATE TABLE {table} (LIKE {parent} INCLUDING ALL)), then ALTER TABLE {parent} ATTACH PARTITION {table} ...: SHARE UPDATE EXCLUSIVE on `{parent}`, and queries go on"
        )
    } else {
        format!(
            "before PostgreSQL 12 ATTACH PARTITION locks `{parent}` the same way: create partitions ahead of need, each alone in a migration with a short lock_timeout so that a wait fails fast and is retried"
        )
    };
    hits.push(Hit::new(
        RULE,
        statement.range,
        format!(
            "CREATE TABLE {table} PARTITION OF {parent} takes ACCESS EXCLUSIVE on `{parent}`: reads and writes of every partition of `{parent}` wait behind it, and it waits for every query already running on them"
        ),
        help,
    ));
    if !default_partition
        && let Some(scanned) = attach_partition_scan::default_scanned(cx, schema, parent)
    {
        hits.push(attach_partition_scan::default_hit(
            statement.range,
            parent,
            scanned,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::m::attach_partition_scan;
    use crate::rules::m::testing::{M, TIMEOUT, check, codes, human, rule, snapshot};

    const PARTITIONED: &str =
        "CREATE TABLE events (id bigint, at date NOT NULL) PARTITION BY RANGE (at);\n";

    #[test]
    fn create_partition_blocking() {
        let human = rule(
            RULE,
            &[
                M("events", PARTITIONED, None),
                M(
                    "next_year",
                    &format!(
                        "{TIMEOUT}CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');\n"
                    ),
                    None,
                ),
            ],
            &[
                // Made on its own, then attached.
                &[
                    M("events", PARTITIONED, None),
                    M(
                        "next_year",
                        &format!(
                            "{TIMEOUT}CREATE TABLE events_2027 (LIKE events INCLUDING ALL);\nALTER TABLE events ATTACH PARTITION events_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');\n"
                        ),
                        None,
                    ),
                ],
                // The partitioned table is the migration's own.
                &[M(
                    "events",
                    &format!(
                        "{TIMEOUT}{PARTITIONED}CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');\n"
                    ),
                    None,
                )],
            ],
        );
        snapshot!(RULE, human);
    }

    #[test]
    fn with_a_default_partition_it_also_scans_it() {
        let report = check(&[
            M(
                "events",
                &format!("{PARTITIONED}CREATE TABLE events_rest PARTITION OF events DEFAULT;\n"),
                None,
            ),
            M(
                "next_year",
                &format!(
                    "{TIMEOUT}CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');\n"
                ),
                None,
            ),
        ]);
        assert_eq!(
            codes(&report),
            [RULE.code, attach_partition_scan::RULE.code],
            "{}",
            human(&report)
        );
    }
}
