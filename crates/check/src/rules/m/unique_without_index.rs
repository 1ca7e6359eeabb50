//! A UNIQUE or PRIMARY KEY added to a table in use builds its index under ACCESS EXCLUSIVE;
//! built beforehand with CREATE UNIQUE INDEX CONCURRENTLY, it is attached in a moment.

use super::{Context, Hit, altered_existing};
use crate::finding::{Rule, Severity};
use crate::sql::parse::{Action, Statement};
use crate::sql::schema::{ConstraintKind, Schema};

pub const RULE: Rule = Rule {
    code: "M009",
    name: "unique-without-index",
    severity: Severity::Error,
    summary: "UNIQUE or PRIMARY KEY added to an existing table without USING INDEX",
};

fn is_unique(kind: ConstraintKind) -> bool {
    matches!(kind, ConstraintKind::Unique | ConstraintKind::PrimaryKey)
}

pub(super) fn check(cx: &Context, _schema: &Schema, statement: &Statement, hits: &mut Vec<Hit>) {
    let Some((table, actions)) = altered_existing(cx, statement) else {
        return;
    };
    for (range, action) in actions {
        match action {
            Action::AddColumn(column) => {
                for _ in column.constraints.iter().filter(|c| is_unique(c.kind)) {
                    hits.push(Hit::new(
                        RULE,
                        *range,
                        format!(
                            "`{table}.{}` is added with an inline UNIQUE or PRIMARY KEY: its index is built under ACCESS EXCLUSIVE",
                            column.name
                        ),
                        "add the column plain; CREATE UNIQUE INDEX CONCURRENTLY; then ADD CONSTRAINT ... UNIQUE USING INDEX",
                    ));
                }
            }
            Action::AddConstraint(constraint)
                if is_unique(constraint.kind) && constraint.using_index.is_none() =>
            {
                hits.push(Hit::new(
                    RULE,
                    *range,
                    format!(
                        "adding a UNIQUE or PRIMARY KEY constraint to `{table}` builds its index under ACCESS EXCLUSIVE: reads and writes wait for the whole build"
                    ),
                    "CREATE UNIQUE INDEX CONCURRENTLY first (own migration, run_in_transaction = false), then ADD CONSTRAINT ... UNIQUE USING INDEX",
                ));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::m::testing::{M, NO_TX, TIMEOUT, rule, snapshot};

    #[test]
    fn unique_without_index() {
        let human = rule(
            RULE,
            &[M(
                "unique",
                &format!(
                    "{TIMEOUT}ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE (email);\n"
                ),
                None,
            )],
            &[&[
                M(
                    "index",
                    "CREATE UNIQUE INDEX CONCURRENTLY accounts_email_key ON accounts (email);\n",
                    NO_TX,
                ),
                M(
                    "attach",
                    &format!(
                        "{TIMEOUT}ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE USING INDEX accounts_email_key;\n"
                    ),
                    None,
                ),
            ]],
        );
        snapshot!(RULE, human);
    }
}
