//! The new release inserts without a column that stays required until one of its post-deploy
//! migrations relaxes it: it starts serving before that migration runs, and those inserts fail
//! until then.

use super::{Inserts, Starting};
use crate::finding::{Finding, Rule, Severity};
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "D009",
    name: "deploy-insert-before-relaxed",
    severity: Severity::Error,
    summary: "new release inserts without a column only a post-deploy migration stops requiring",
};

/// `inserted`: per table, the columns each of the new release's insertables provides.
pub(super) fn check(starting: &Starting<'_>, inserted: &Inserts<'_>, out: &mut Vec<Finding>) {
    for (table, inserts) in inserted {
        let Some(t) = starting.schema.tables.get(table) else {
            continue;
        };
        for column in &t.columns {
            let Some(required) = t.requires(&column.name) else {
                continue;
            };
            // Relaxed, or dropped: either way no longer required.
            let Some(by) = starting.by(|s| {
                s.tables
                    .get(table)
                    .is_some_and(|t| t.requires(&column.name).is_none())
            }) else {
                continue;
            };
            for (model, _) in inserts
                .iter()
                .filter(|(_, given)| !given.contains(&column.name))
            {
                out.push(Finding::new(
                    RULE,
                    Span::line(&model.file, model.line),
                    format!(
                        "`{}` inserts into `{table}` without `{}`, which is {} until the post-deploy migration {} relaxes or drops it: the new release starts serving before that migration runs, and these inserts fail until then",
                        model.name,
                        column.name,
                        required.said(),
                        by.name
                    ),
                    "give the column a constant default in a pre-deploy migration (it breaks no live code), or write the column until the post-deploy migration has run",
                )
                .about(table, &column.name));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::d::testing::{NEXT, RELEASED, at, check, codes, live, shown, tree_with};
    use crate::rules::s::testing::{MODELS, SCHEMA_RS, UP, edit};

    const POST: &str = "2026-02-02-000000-0000_later";

    #[test]
    fn an_insert_without_a_column_required_until_a_post_deploy_migration_fires_at_the_struct() {
        // The new code stops writing email and relaxes it after the rollout: too late.
        let models = edit(MODELS, "    pub email: &'a str,\n", "");
        let schema_rs = edit(
            SCHEMA_RS,
            "        email -> Varchar,",
            "        email -> Nullable<Varchar>,",
        );
        let head = |post: &str| {
            tree_with(
                &[
                    (RELEASED, UP),
                    (NEXT, "CREATE TABLE notes (id bigint PRIMARY KEY);\n"),
                    (POST, post),
                ],
                &schema_rs,
                &models,
            )
        };
        let found = check(
            &live(),
            &head(
                "-- plumb: post-deploy\nALTER TABLE accounts ALTER COLUMN email DROP NOT NULL;\n",
            ),
        );
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "src/models.rs:11");
        insta::assert_snapshot!(shown(&found[0]));
        // Dropped after the rollout, the usual contract: the same.
        let found = check(
            &live(),
            &head("-- plumb: post-deploy\nALTER TABLE accounts DROP COLUMN email;\n"),
        );
        assert_eq!(codes(&found), [RULE.code]);
        // Relaxed before the rollout: the new inserts work from the start.
        let pre = head("ALTER TABLE accounts ALTER COLUMN email DROP NOT NULL;\n");
        assert!(!codes(&check(&live(), &pre)).contains(&RULE.code));
    }
}
