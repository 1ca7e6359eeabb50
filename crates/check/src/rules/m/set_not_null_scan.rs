//! SET NOT NULL on a table in use scans every row under ACCESS EXCLUSIVE, unless (PostgreSQL 12+)
//! a validated `CHECK (col IS NOT NULL)` already proves the column has no NULL.

use super::{Context, Hit, altered_existing};
use crate::finding::{Rule, Severity};
use crate::sql::parse::{Action, Statement};
use crate::sql::schema::Schema;

pub const RULE: Rule = Rule {
    code: "M003",
    name: "set-not-null-scan",
    severity: Severity::Error,
    summary: "SET NOT NULL without a validated CHECK (col IS NOT NULL) scans under ACCESS EXCLUSIVE",
};

pub(super) fn check(cx: &Context, schema: &Schema, statement: &Statement, hits: &mut Vec<Hit>) {
    let Some((table, actions)) = altered_existing(cx, statement) else {
        return;
    };
    let current = schema.tables.get(table);
    for (range, action) in actions {
        let Action::SetNotNull { column } = action else {
            continue;
        };
        let dropped_here: Vec<&str> = actions
            .iter()
            .filter_map(|(_, a)| match a {
                Action::DropConstraint { name } => Some(name.as_str()),
                _ => None,
            })
            .collect();
        let proven = current.is_some_and(|t| {
            t.constraints.iter().any(|c| {
                c.validated
                    && c.proves_not_null.as_deref() == Some(column.as_str())
                    && !dropped_here.contains(&c.name.as_str())
            })
        });
        if cx.pg_version >= 12 && proven {
            continue;
        }
        // Already NOT NULL as the replay knows it: PostgreSQL does nothing, no scan.
        if current
            .and_then(|t| t.column(column))
            .is_some_and(|c| !c.nullable)
        {
            continue;
        }
        let message = if current.is_some_and(|t| {
            t.constraints
                .iter()
                .any(|c| c.validated && c.proves_not_null.as_deref() == Some(column.as_str()))
        }) {
            format!(
                "the CHECK that proves `{table}.{column}` is never NULL is dropped in this same ALTER TABLE, and PostgreSQL drops it first: SET NOT NULL scans the whole table under ACCESS EXCLUSIVE"
            )
        } else {
            format!(
                "SET NOT NULL on `{table}.{column}` scans the whole table under ACCESS EXCLUSIVE: reads and writes wait until it ends"
            )
        };
        hits.push(Hit::new(
            RULE,
            *range,
            message,
            "first ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID, VALIDATE it in a later migration, then SET NOT NULL (PostgreSQL 12+ skips the scan) and drop the check in a separate statement",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::m::testing::{M, TIMEOUT, check, codes, human, rule, snapshot};

    #[test]
    fn set_not_null_scan() {
        let check_first = format!(
            "{TIMEOUT}ALTER TABLE accounts ADD CONSTRAINT note_nn CHECK (note IS NOT NULL) NOT VALID;\n"
        );
        let validate = format!("{TIMEOUT}ALTER TABLE accounts VALIDATE CONSTRAINT note_nn;\n");
        let human = rule(
            RULE,
            &[
                M("check", &check_first, None),
                M("validate", &validate, None),
                M(
                    "together",
                    &format!(
                        "{TIMEOUT}ALTER TABLE accounts ALTER COLUMN note SET NOT NULL, DROP CONSTRAINT note_nn;\n"
                    ),
                    None,
                ),
                M(
                    "plain",
                    &format!("{TIMEOUT}ALTER TABLE accounts ALTER COLUMN amount SET NOT NULL;\n"),
                    None,
                ),
            ],
            &[
                &[
                    M("check", &check_first, None),
                    M("validate", &validate, None),
                    M(
                        "enforce",
                        &format!(
                            "{TIMEOUT}ALTER TABLE accounts ALTER COLUMN note SET NOT NULL;\nALTER TABLE accounts DROP CONSTRAINT note_nn;\n"
                        ),
                        None,
                    ),
                ],
                // Already NOT NULL: PostgreSQL does nothing.
                &[M(
                    "again",
                    &format!("{TIMEOUT}ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;\n"),
                    None,
                )],
            ],
        );
        snapshot!(RULE, human);
    }

    #[test]
    fn set_not_null_needs_a_validated_check_not_just_a_check() {
        let report = check(&[
            M(
                "check",
                &format!(
                    "{TIMEOUT}ALTER TABLE accounts ADD CONSTRAINT note_nn CHECK (note IS NOT NULL) NOT VALID;\n"
                ),
                None,
            ),
            M(
                "enforce",
                &format!("{TIMEOUT}ALTER TABLE accounts ALTER COLUMN note SET NOT NULL;\n"),
                None,
            ),
        ]);
        assert_eq!(codes(&report), [RULE.code]);
    }

    #[test]
    fn a_check_named_like_postgres_names_it_still_proves_not_null() {
        let report = check(&[
            M(
                "check",
                &format!(
                    "{TIMEOUT}ALTER TABLE accounts ADD CONSTRAINT accounts_note_check CHECK ((note IS NOT NULL)) NOT VALID;\n"
                ),
                None,
            ),
            M(
                "validate",
                &format!(
                    "{TIMEOUT}ALTER TABLE accounts VALIDATE CONSTRAINT accounts_note_check;\n"
                ),
                None,
            ),
            M(
                "enforce",
                &format!("{TIMEOUT}ALTER TABLE accounts ALTER COLUMN note SET NOT NULL;\n"),
                None,
            ),
        ]);
        assert!(codes(&report).is_empty(), "{}", human(&report));
    }
}
