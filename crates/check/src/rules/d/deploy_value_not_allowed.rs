//! Code writes a value that a CHECK on the schema it runs on rejects: the live release a value
//! a new pre-deploy CHECK leaves out, or the new release a value that only one of its
//! post-deploy migrations allows. Judged where the code shows the value: a string literal in
//! `insert_into(..).values(..)` or `update(..).set(..)`.

use super::{Starting, Step};
use crate::finding::{Finding, Rule, Severity};
use crate::input::models::{Model, ModelField, Role};
use crate::input::schema_rs::SchemaRs;
use crate::input::snapshot::Snapshot;
use crate::sql::schema::{Schema, Table};
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "D010",
    name: "deploy-value-not-allowed",
    severity: Severity::Error,
    summary: "code writes a value a CHECK on the schema it meets rejects",
};

/// Each literal a tree's code writes into `table` (by SQL name): the call, the field, the
/// column's SQL name and the value.
fn written<'s>(
    tree: &'s Snapshot,
    rs: &'s SchemaRs,
    table: &str,
) -> Vec<(&'s Model, &'s ModelField, &'s str, &'s str)> {
    let Some(declared) = rs.tables.iter().find(|t| t.name == table) else {
        return Vec::new();
    };
    tree.models
        .iter()
        .filter(|m| {
            m.call
                && m.table == declared.rust_name
                && m.roles
                    .iter()
                    .any(|r| matches!(r, Role::Inserts | Role::Updates))
        })
        .flat_map(|m| m.fields.iter().map(move |f| (m, f)))
        .filter_map(|(m, f)| {
            let column = declared.columns.iter().find(|c| c.rust_name == f.column)?;
            Some((m, f, column.name.as_str(), f.value.as_deref()?))
        })
        .collect()
}

/// The CHECK of `table` that rejects `value` in `column`, if one does.
fn rejecting<'t>(table: &'t Table, column: &str, value: &str) -> Option<&'t str> {
    table.constraints.iter().find_map(|c| {
        let (checked, allowed) = c.allows.as_ref()?;
        (checked == column && !allowed.iter().any(|a| a == value)).then_some(c.name.as_str())
    })
}

/// The live release against a new pre-deploy migration: a CHECK it adds rejects a value the
/// live code writes.
pub(super) fn live(step: &Step<'_>, base: &Snapshot, out: &mut Vec<Finding>) {
    let Some(rs) = &base.schema_rs else {
        return;
    };
    for (name, table) in &step.after.tables {
        for (model, field, column, value) in written(base, rs, name) {
            let Some(check) = rejecting(table, column, value) else {
                continue;
            };
            let before = step.before.tables.get(name);
            if before.is_some_and(|t| rejecting(t, column, value).is_some()) {
                continue;
            }
            out.push(Finding::new(
                RULE,
                Span::line(&step.file, step.line_naming(name, check)),
                format!(
                    "{} adds CHECK `{check}`, which rejects `{name}.{column}` = '{value}', and the live release writes that value (`{}` at {}:{}): those writes fail until the new code is everywhere",
                    step.migration.name, model.name, model.file.display(), field.line
                ),
                "add the constraint once no live code writes the value: in a post-deploy migration, or in a later release",
            ));
        }
    }
}

/// The new release against the schema it starts on: a CHECK there rejects a value its code
/// writes, and only a post-deploy migration of its own allows it.
pub(super) fn new_code(head: &Snapshot, starting: &Starting<'_>, out: &mut Vec<Finding>) {
    let Some(rs) = &head.schema_rs else {
        return;
    };
    for (name, table) in &starting.schema.tables {
        for (model, field, column, value) in written(head, rs, name) {
            let Some(check) = rejecting(table, column, value) else {
                continue;
            };
            let allowed_after = |s: &Schema| {
                s.tables
                    .get(name)
                    .is_some_and(|t| rejecting(t, column, value).is_none())
            };
            let Some(by) = starting.by(allowed_after) else {
                continue;
            };
            out.push(Finding::new(
                RULE,
                Span::line(&model.file, field.line),
                format!(
                    "`{}` writes `{name}.{column}` = '{value}', which CHECK `{check}` rejects until the post-deploy migration {} allows it: the new release starts serving before that migration runs, and these writes fail until then",
                    model.name, by.name
                ),
                "widen the constraint in a pre-deploy migration (a CHECK that allows more breaks no live code)",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::d::testing::{NEXT, RELEASED, at, check, codes, next, shown, tree_with};
    use crate::rules::s::testing::{MODELS, SCHEMA_RS, UP};

    /// Code that writes `accounts.note = 'held'` in an update.
    fn writing() -> String {
        format!(
            "{MODELS}\nfn hold(conn: &mut PgConnection) {{\n    diesel::update(accounts::table.find(1))\n        .set(accounts::note.eq(\"held\"))\n        .execute(conn);\n}}\n"
        )
    }

    #[test]
    fn a_new_check_that_rejects_a_value_the_live_code_writes_fires_at_the_check() {
        let base = tree_with(&[(RELEASED, UP)], SCHEMA_RS, &writing());
        let head = next(
            "SET lock_timeout = '20ms';\nALTER TABLE accounts\n    ADD CONSTRAINT accounts_note_known CHECK (note IN ('open', 'closed')) NOT VALID;\n",
        );
        let found = check(&base, &head);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), format!("migrations/{NEXT}/up.sql:3"));
        insta::assert_snapshot!(shown(&found[0]));
        // A CHECK that allows the value, as pg_dump writes one, is silent.
        let head = next(
            "SET lock_timeout = '20ms';\nALTER TABLE accounts ADD CONSTRAINT accounts_note_known CHECK ((note = ANY (ARRAY['open'::text, 'held'::text]))) NOT VALID;\n",
        );
        assert_eq!(check(&base, &head), []);
    }

    #[test]
    fn a_value_the_new_code_writes_that_only_a_post_deploy_migration_allows_fires_at_the_code() {
        let base = tree_with(
            &[
                (RELEASED, UP),
                (
                    "2026-01-15-000000-0000_known",
                    "ALTER TABLE accounts ADD CONSTRAINT accounts_note_known CHECK (note IN ('open'));\n",
                ),
            ],
            SCHEMA_RS,
            MODELS,
        );
        let widen = "ALTER TABLE accounts DROP CONSTRAINT accounts_note_known;\nALTER TABLE accounts ADD CONSTRAINT accounts_note_known CHECK (note IN ('open', 'held')) NOT VALID;\n";
        let head = |marker: &str| {
            tree_with(
                &[
                    (RELEASED, UP),
                    (
                        "2026-01-15-000000-0000_known",
                        "ALTER TABLE accounts ADD CONSTRAINT accounts_note_known CHECK (note IN ('open'));\n",
                    ),
                    (
                        NEXT,
                        &format!("{marker}SET lock_timeout = '20ms';\n{widen}"),
                    ),
                ],
                SCHEMA_RS,
                &writing(),
            )
        };
        let found = check(&base, &head("-- plumb: post-deploy\n"));
        assert_eq!(codes(&found), [RULE.code]);
        let line = writing()
            .lines()
            .position(|l| l.contains("\"held\""))
            .unwrap()
            + 1;
        assert_eq!(at(&found[0]), format!("src/models.rs:{line}"));
        // Widened before the rollout: the new code's writes work from the start.
        assert!(!codes(&check(&base, &head(""))).contains(&RULE.code));
    }
}
