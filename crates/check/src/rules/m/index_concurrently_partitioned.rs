//! PostgreSQL refuses CREATE INDEX CONCURRENTLY on a partitioned table: the index is built
//! another way, one partition at a time.

use super::{Context, Hit};
use crate::finding::{Rule, Severity};
use crate::sql::parse::{Statement, StatementKind};
use crate::sql::schema::Schema;

pub const RULE: Rule = Rule {
    code: "M021",
    name: "index-concurrently-partitioned",
    severity: Severity::Error,
    summary: "CREATE INDEX CONCURRENTLY on a partitioned table fails",
};

/// The sequence that builds an index on a partitioned table without blocking writes.
pub fn sequence(table: &str) -> String {
    format!(
        "build it in steps: `CREATE INDEX name ON ONLY {table} (...)` (a catalog change: the index is invalid until every partition has its own); then, for each partition, `CREATE INDEX CONCURRENTLY` alone in its migration with run_in_transaction = false; then `ALTER INDEX name ATTACH PARTITION` each partition's index (`plumb new index` writes this sequence)"
    )
}

pub(super) fn check(_cx: &Context, schema: &Schema, statement: &Statement, hits: &mut Vec<Hit>) {
    let StatementKind::CreateIndex {
        table,
        concurrently: true,
        ..
    } = &statement.kind
    else {
        return;
    };
    if !schema
        .tables
        .get(&schema.resolve(table))
        .is_some_and(|t| t.partitioned)
    {
        return;
    }
    hits.push(Hit::new(
        RULE,
        statement.range,
        format!(
            "`{table}` is a partitioned table: PostgreSQL refuses CREATE INDEX CONCURRENTLY on it, and the migration fails"
        ),
        sequence(table),
    ));
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::m::testing::{M, NO_TX, TIMEOUT, rule, snapshot};

    const PARTITIONED: &str = "CREATE TABLE events (id bigint, at date NOT NULL) PARTITION BY RANGE (at);\nCREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');\n";

    #[test]
    fn index_concurrently_partitioned() {
        let human = rule(
            RULE,
            &[
                M("events", PARTITIONED, None),
                M(
                    "index",
                    "CREATE INDEX CONCURRENTLY events_at_idx ON events (at);\n",
                    NO_TX,
                ),
            ],
            &[&[
                M("events", PARTITIONED, None),
                M(
                    "parent",
                    &format!("{TIMEOUT}CREATE INDEX events_at_idx ON ONLY events (at);\n"),
                    None,
                ),
                M(
                    "partition",
                    "CREATE INDEX CONCURRENTLY events_2026_at_idx ON events_2026 (at);\n",
                    NO_TX,
                ),
            ]],
        );
        snapshot!(RULE, human);
    }
}
