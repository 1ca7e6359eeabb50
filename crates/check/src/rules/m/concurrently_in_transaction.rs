//! CREATE or DROP INDEX CONCURRENTLY, and DETACH PARTITION CONCURRENTLY, cannot run inside a
//! transaction block, and diesel runs a
//! migration in one unless its metadata.toml says otherwise: the migration fails.

use super::{Context, Hit};
use crate::finding::{Rule, Severity};
use crate::sql::parse::{Statement, StatementKind};
use crate::sql::schema::Schema;

pub const RULE: Rule = Rule {
    code: "M006",
    name: "concurrently-in-transaction",
    severity: Severity::Error,
    summary: "CONCURRENTLY inside a transaction block fails",
};

pub(super) fn check(cx: &Context, _schema: &Schema, statement: &Statement, hits: &mut Vec<Hit>) {
    let what = match &statement.kind {
        StatementKind::CreateIndex {
            concurrently: true, ..
        } => "CREATE INDEX CONCURRENTLY",
        StatementKind::DropIndex {
            concurrently: true, ..
        } => "DROP INDEX CONCURRENTLY",
        StatementKind::AlterTable { actions, .. }
            if actions.iter().any(|(_, a)| {
                matches!(
                    a,
                    crate::sql::parse::Action::DetachPartition {
                        concurrently: true,
                        ..
                    }
                )
            }) =>
        {
            "DETACH PARTITION ... CONCURRENTLY"
        }
        _ => return,
    };
    let why = if cx.migration.run_in_transaction {
        "diesel runs this migration in a transaction (its metadata.toml does not say run_in_transaction = false)".to_owned()
    } else if cx.explicit_transaction {
        "it is inside BEGIN ... COMMIT".to_owned()
    } else if cx.statement_count > 1 {
        format!(
            "this file holds {} statements, which diesel sends as one query string and PostgreSQL runs as one transaction",
            cx.statement_count
        )
    } else {
        return;
    };
    hits.push(Hit::new(
        RULE,
        statement.range,
        format!("{what} cannot run inside a transaction block, and {why}: the migration fails"),
        "put the statement alone in its own migration, with run_in_transaction = false in that migration's metadata.toml",
    ));
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::m::testing::{M, NO_TX, rule, snapshot};

    #[test]
    fn concurrently_in_transaction() {
        let human = rule(
            RULE,
            &[
                M(
                    "in_diesel_transaction",
                    "CREATE INDEX CONCURRENTLY a_idx ON accounts (note);\n",
                    None,
                ),
                M(
                    "two_statements",
                    "SET lock_timeout = '20ms';\nCREATE INDEX CONCURRENTLY b_idx ON accounts (amount);\n",
                    NO_TX,
                ),
                M(
                    "explicit",
                    "BEGIN;\nDROP INDEX CONCURRENTLY a_idx;\nCOMMIT;\n",
                    NO_TX,
                ),
            ],
            &[&[M(
                "alone",
                "-- a comment is not a statement\nCREATE INDEX CONCURRENTLY a_idx ON accounts (note);\n",
                NO_TX,
            )]],
        );
        snapshot!(RULE, human);
    }

    #[test]
    fn detach_partition_concurrently_in_a_transaction_fails() {
        let report = crate::rules::m::testing::check(&[
            M(
                "events",
                "CREATE TABLE events (id bigint, at date NOT NULL) PARTITION BY RANGE (at);\nCREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');\n",
                None,
            ),
            M(
                "detach",
                "ALTER TABLE events DETACH PARTITION events_2026 CONCURRENTLY;\n",
                None,
            ),
        ]);
        assert!(
            crate::rules::m::testing::codes(&report).contains(&RULE.code),
            "{}",
            crate::rules::m::testing::human(&report)
        );
    }
}
