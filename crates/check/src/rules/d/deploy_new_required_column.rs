//! A pre-deploy migration makes a column NOT NULL without a default that the live release's
//! inserts omit: those inserts fail until the new code is everywhere.

use std::collections::{BTreeMap, BTreeSet};

use super::Step;
use crate::finding::{Finding, Rule, Severity};
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "D004",
    name: "deploy-new-required-column",
    severity: Severity::Error,
    summary: "pre-deploy migration makes a column required that the live release's inserts omit",
};

/// `inserted`: per table, the columns each live insertable provides.
pub(super) fn check(
    step: &Step<'_>,
    inserted: &BTreeMap<String, Vec<BTreeSet<String>>>,
    out: &mut Vec<Finding>,
) {
    for (table, t) in &step.after.tables {
        let Some(inserts) = inserted.get(table) else {
            continue;
        };
        for column in t
            .columns
            .iter()
            .filter(|c| !c.nullable && c.default.is_none())
        {
            let was_required = step
                .before
                .tables
                .get(table)
                .and_then(|b| b.column(&column.name))
                .is_some_and(|c| !c.nullable && c.default.is_none());
            if was_required
                || inserts
                    .iter()
                    .all(|provided| provided.contains(&column.name))
            {
                continue;
            }
            out.push(Finding::new(
                RULE,
                Span::line(&step.file, step.line_naming(table, &column.name)),
                format!(
                    "{} makes `{table}.{}` NOT NULL without a default, and the live release inserts into `{table}` without it: those inserts fail until the new code is everywhere",
                    step.migration.name, column.name
                ),
                "add it nullable or with a default; enforce NOT NULL in a later release, once every live insert writes it",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::d::testing::{NEXT, at, check, codes, live, next, shown};

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

    /// The live `NewAccount` writes `note`: making it NOT NULL breaks no live insert.
    #[test]
    fn a_column_made_required_that_every_live_insert_writes_is_silent() {
        let head = next(
            "SET lock_timeout = '20ms';\nALTER TABLE accounts ALTER COLUMN note SET NOT NULL;\n",
        );
        assert_eq!(check(&live(), &head), []);
    }
}
