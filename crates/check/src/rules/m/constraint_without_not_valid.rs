//! A CHECK or FOREIGN KEY added to a table in use without NOT VALID: PostgreSQL checks every row
//! while it holds a lock that blocks writes. Also a NOT NULL ... NOT VALID on a PostgreSQL that
//! does not know it (before 18), which fails.

use super::{Context, Hit, altered_existing};
use crate::finding::{Rule, Severity};
use crate::sql::parse::{Action, Statement};
use crate::sql::schema::{ConstraintKind, Schema};

pub const RULE: Rule = Rule {
    code: "M007",
    name: "constraint-without-not-valid",
    severity: Severity::Error,
    summary: "CHECK or FOREIGN KEY added to an existing table without NOT VALID",
};

pub(super) fn check(cx: &Context, _schema: &Schema, statement: &Statement, hits: &mut Vec<Hit>) {
    let Some((table, actions)) = altered_existing(cx, statement) else {
        return;
    };
    for (range, action) in actions {
        match action {
            // A constraint written on the column cannot be NOT VALID.
            Action::AddColumn(column) => {
                // A new column without a default is NULL in every row, so PostgreSQL marks its
                // foreign key valid without reading them (transformAlterTableStmt).
                let filled = column.default.is_some() || column.fills_rows.is_some();
                for constraint in &column.constraints {
                    let label = match constraint.kind {
                        ConstraintKind::Check => "CHECK",
                        ConstraintKind::ForeignKey if filled => "REFERENCES",
                        _ => continue,
                    };
                    hits.push(Hit::new(
                        RULE,
                        *range,
                        format!(
                            "`{table}.{}` is added with an inline {label} constraint, which PostgreSQL checks against every row while holding its lock",
                            column.name
                        ),
                        "add the column plain, then ADD CONSTRAINT ... NOT VALID, and VALIDATE it in a later migration",
                    ));
                }
            }
            Action::AddConstraint(constraint) => {
                let label = match constraint.kind {
                    ConstraintKind::Check => "CHECK",
                    ConstraintKind::ForeignKey => "FOREIGN KEY",
                    ConstraintKind::NotNull => "NOT NULL",
                    _ => continue,
                };
                if constraint.kind == ConstraintKind::NotNull
                    && constraint.not_valid
                    && cx.pg_version < 18
                {
                    hits.push(Hit::new(
                        RULE,
                        *range,
                        format!(
                            "NOT NULL ... NOT VALID needs PostgreSQL 18, and the target is {}: the migration fails",
                            cx.pg_version
                        ),
                        "use CHECK (col IS NOT NULL) NOT VALID, or set pg-version to 18 if every server runs it",
                    ));
                } else if !constraint.not_valid {
                    hits.push(Hit::new(
                        RULE,
                        *range,
                        format!(
                            "adding a {label} constraint to `{table}` checks every row while it holds a lock that blocks writes (ACCESS EXCLUSIVE for CHECK, SHARE ROW EXCLUSIVE for a FOREIGN KEY)"
                        ),
                        "add it NOT VALID (catalog only), then VALIDATE CONSTRAINT in a later migration: it scans without blocking writes",
                    ));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::m::testing::{M, TIMEOUT, codes, human, rule, snapshot, workspace};

    #[test]
    fn constraint_without_not_valid() {
        let human = rule(
            RULE,
            &[M(
                "constraints",
                &format!(
                    "{TIMEOUT}ALTER TABLE accounts ADD CONSTRAINT positive CHECK (amount > 0);\n\
                     ALTER TABLE accounts ADD CONSTRAINT self_fk FOREIGN KEY (id) REFERENCES accounts (id);\n"
                ),
                None,
            )],
            &[
                &[M(
                    "check",
                    &format!(
                        "{TIMEOUT}ALTER TABLE accounts ADD CONSTRAINT positive CHECK (amount > 0) NOT VALID;\n"
                    ),
                    None,
                )],
                &[M(
                    "new_table",
                    "CREATE TABLE t (a int, CONSTRAINT a_positive CHECK (a > 0));\nALTER TABLE t ADD CONSTRAINT a_small CHECK (a < 10);\n",
                    None,
                )],
            ],
        );
        snapshot!(RULE, human);
    }

    #[test]
    fn not_null_not_valid_needs_postgres_18() {
        let dir = workspace(&[M(
            "nn",
            &format!(
                "{TIMEOUT}ALTER TABLE accounts ADD CONSTRAINT note_nn NOT NULL note NOT VALID;\n"
            ),
            None,
        )]);
        let on_15 = crate::check_workspace(dir.path(), Some(15)).unwrap();
        assert_eq!(codes(&on_15), [RULE.code], "{}", human(&on_15));
        assert!(on_15.findings[0].message.contains("needs PostgreSQL 18"));
        let on_18 = crate::check_workspace(dir.path(), Some(18)).unwrap();
        assert!(codes(&on_18).is_empty(), "{}", human(&on_18));
    }
}
