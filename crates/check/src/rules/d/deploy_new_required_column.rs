//! A pre-deploy migration makes a column NOT NULL without a default that the live release's
//! inserts omit: those inserts fail until the new code is everywhere.

use super::{Inserts, Step, named};
use crate::finding::{Finding, Rule, Severity};
use crate::sql::schema::Required;
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "D004",
    name: "deploy-new-required-column",
    severity: Severity::Error,
    summary: "pre-deploy migration makes a column required that the live release's inserts omit",
};

/// `inserted`: per table, the columns each live insertable provides.
pub(super) fn check(step: &Step<'_>, inserted: &Inserts<'_>, out: &mut Vec<Finding>) {
    for (table, t) in &step.after.tables {
        let Some(inserts) = inserted.get(table) else {
            continue;
        };
        for column in &t.columns {
            let Some(required) = t.requires(&column.name) else {
                continue;
            };
            let was_required = step
                .before
                .tables
                .get(table)
                .and_then(|b| b.requires(&column.name))
                .is_some();
            let omitting: Vec<String> = inserts
                .iter()
                .filter(|(_, provided)| !provided.contains(&column.name))
                .map(|(model, _)| named(model))
                .collect();
            if was_required || omitting.is_empty() {
                continue;
            }
            out.push(Finding::new(
                RULE,
                Span::line(
                    &step.file,
                    match &required {
                        Required::NotNull => step.line_naming(table, &column.name),
                        Required::Check(name) => step.line_naming(table, name),
                    },
                ),
                format!(
                    "{} makes `{table}.{}` {} without a default, and the live release inserts into `{table}` without it ({}): those inserts fail until the new code is everywhere",
                    step.migration.name,
                    column.name,
                    required.said(),
                    omitting.join(", ")
                ),
                "add it nullable or with a default; enforce NOT NULL in a later release, once every live insert writes it",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::d::testing::{
        NEXT, RELEASED, at, check, codes, live, next, shown, tree_with,
    };
    use crate::rules::s::testing::{MODELS, SCHEMA_RS, UP};

    #[test]
    fn a_required_column_the_live_inserts_omit_fires_at_the_column() {
        let head = next(
            "SET lock_timeout = '20ms';\nALTER TABLE accounts ADD COLUMN tier text NOT NULL;\n",
        );
        let found = check(&live(), &head);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), format!("migrations/{NEXT}/up.sql:2"));
        insta::assert_snapshot!(shown(&found[0]));
    }

    #[test]
    fn a_required_column_with_a_default_is_silent() {
        let head = next(
            "SET lock_timeout = '20ms';\nALTER TABLE accounts ADD COLUMN tier text NOT NULL DEFAULT 'free';\n",
        );
        assert_eq!(check(&live(), &head), []);
    }

    /// A NOT VALID CHECK that the column IS NOT NULL holds for new rows as SET NOT NULL does.
    #[test]
    fn a_not_valid_check_that_a_column_the_live_inserts_omit_is_not_null_fires_at_the_check() {
        let head = next(
            "SET lock_timeout = '20ms';\nALTER TABLE accounts ADD COLUMN tier text;\nALTER TABLE accounts\n    ADD CONSTRAINT accounts_tier_present CHECK (tier IS NOT NULL) NOT VALID;\n",
        );
        let found = check(&live(), &head);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), format!("migrations/{NEXT}/up.sql:4"));
        insta::assert_snapshot!(shown(&found[0]));
        // With a default, the live inserts give it.
        let head = next(
            "SET lock_timeout = '20ms';\nALTER TABLE accounts ADD COLUMN tier text DEFAULT 'free';\nALTER TABLE accounts\n    ADD CONSTRAINT accounts_tier_present CHECK (tier IS NOT NULL) NOT VALID;\n",
        );
        assert_eq!(check(&live(), &head), []);
    }

    /// An insert the live code writes as a call is an insert like a struct's.
    #[test]
    fn a_live_insert_call_without_the_column_fires_naming_the_call() {
        let models = format!(
            "{MODELS}\nfn add(conn: &mut PgConnection) {{\n    diesel::insert_into(accounts::table)\n        .values(accounts::email.eq(\"a@b\"))\n        .execute(conn);\n}}\n"
        );
        let base = tree_with(&[(RELEASED, UP)], SCHEMA_RS, &models);
        let head = next(
            "SET lock_timeout = '20ms';\nALTER TABLE accounts ALTER COLUMN note SET NOT NULL;\n",
        );
        let found = check(&base, &head);
        assert_eq!(codes(&found), [RULE.code]);
        let line = models
            .lines()
            .position(|l| l.contains("insert_into"))
            .unwrap()
            + 1;
        assert!(
            found[0]
                .message
                .contains(&format!("`insert_into(accounts)` at src/models.rs:{line}")),
            "{}",
            found[0].message
        );
    }

    /// The live `NewAccount` writes `note`: making it NOT NULL breaks no live insert.
    #[test]
    fn a_column_made_required_that_every_live_insert_writes_is_silent() {
        let head = next(
            "SET lock_timeout = '20ms';\nALTER TABLE accounts ALTER COLUMN note SET NOT NULL;\n",
        );
        assert_eq!(check(&live(), &head), []);
    }
}
