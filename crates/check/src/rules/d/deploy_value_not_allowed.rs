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

/// What rejects `value` in `column` of `table`, if anything does: a CHECK of the table that
/// lists the values it allows, or the column's enum type; and the name to find it by in a
/// migration.
fn rejecting(
    schema: &Schema,
    table: &Table,
    column: &str,
    value: &str,
) -> Option<(String, String)> {
    let check = table.constraints.iter().find_map(|c| {
        let (checked, allowed) = c.allows.as_ref()?;
        (checked == column && !allowed.iter().any(|a| a == value))
            .then(|| (format!("CHECK `{}`", c.name), c.name.clone()))
    });
    check.or_else(|| {
        let ty = &table.column(column)?.sql_type.name;
        let values = schema.enums.get(ty)?;
        (!values.iter().any(|v| v == value)).then(|| (format!("enum type `{ty}`"), ty.clone()))
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
            let Some((what, found_by)) = rejecting(step.after, table, column, value) else {
                continue;
            };
            let before = step.before.tables.get(name);
            if before.is_some_and(|t| rejecting(&step.before, t, column, value).is_some()) {
                continue;
            }
            out.push(Finding::new(
                RULE,
                Span::line(&step.file, step.line_naming(name, &found_by)),
                format!(
                    "{} makes {what} reject `{name}.{column}` = '{value}', which the live release writes (`{}` at {}:{}): those writes fail until the new code is everywhere",
                    step.migration.name, model.name, model.file.display(), field.line
                ),
                "leave the value out only once no live code writes it: in a post-deploy migration, or in a later release",
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
            let Some((what, _)) = rejecting(&starting.schema, table, column, value) else {
                continue;
            };
            let allowed_after = |s: &Schema| {
                s.tables
                    .get(name)
                    .is_some_and(|t| rejecting(s, t, column, value).is_none())
            };
            let Some(by) = starting.by(allowed_after) else {
                continue;
            };
            out.push(Finding::new(
                RULE,
                Span::line(&model.file, field.line),
                format!(
                    "`{}` writes `{name}.{column}` = '{value}', which {what} rejects until the post-deploy migration {} allows it: the new release starts serving before that migration runs, and these writes fail until then",
                    model.name, by.name
                ),
                "allow the value in a pre-deploy migration (a CHECK or an enum that allows more breaks no live code)",
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

    /// The release with an enum column `state`, and code that writes it through a `DbEnum`.
    const ENUM_UP: &str = "CREATE TYPE note_state AS ENUM ('open', 'held');\nALTER TABLE accounts ADD COLUMN state note_state;\n";
    const ENUM_MIGRATION: &str = "2026-01-15-000000-0000_state";

    fn enum_code(variant: &str) -> (String, String) {
        let schema_rs = SCHEMA_RS.replace(
            "        note -> Nullable<Text>,\n",
            "        note -> Nullable<Text>,\n        state -> Nullable<crate::schema::sql_types::NoteState>,\n",
        );
        let models = format!(
            "{MODELS}\n#[derive(Debug, diesel_derive_enum::DbEnum)]\n#[ExistingTypePath = \"crate::schema::sql_types::NoteState\"]\npub enum NoteState {{\n    Open,\n    Held,\n    #[db_rename = \"archived\"]\n    Gone,\n}}\n\nfn set(conn: &mut PgConnection) {{\n    diesel::update(accounts::table)\n        .set(accounts::state.eq(NoteState::{variant}))\n        .execute(conn);\n}}\n"
        );
        (schema_rs, models)
    }

    #[test]
    fn an_enum_value_the_live_code_writes_renamed_away_fires_at_the_migration() {
        let (schema_rs, models) = enum_code("Held");
        let base = tree_with(
            &[(RELEASED, UP), (ENUM_MIGRATION, ENUM_UP)],
            &schema_rs,
            &models,
        );
        let head = |up: &str| {
            tree_with(
                &[(RELEASED, UP), (ENUM_MIGRATION, ENUM_UP), (NEXT, up)],
                &schema_rs,
                &models,
            )
        };
        let found = check(
            &base,
            &head("ALTER TYPE note_state RENAME VALUE 'held' TO 'on_hold';\n"),
        );
        assert_eq!(codes(&found), [RULE.code]);
        assert!(
            found[0]
                .message
                .contains("enum type `note_state` reject `accounts.state` = 'held'"),
            "{}",
            found[0].message
        );
        assert_eq!(at(&found[0]), format!("migrations/{NEXT}/up.sql:1"));
        // Another value renamed: nothing the live code writes.
        assert_eq!(
            check(
                &base,
                &head("ALTER TYPE note_state RENAME VALUE 'open' TO 'opened';\n")
            ),
            []
        );
    }

    #[test]
    fn an_enum_value_the_new_code_writes_that_only_a_post_deploy_migration_adds_fires_at_the_code()
    {
        let (schema_rs, models) = enum_code("Gone");
        let base = tree_with(
            &[(RELEASED, UP), (ENUM_MIGRATION, ENUM_UP)],
            SCHEMA_RS,
            MODELS,
        );
        let head = |marker: &str| {
            tree_with(
                &[
                    (RELEASED, UP),
                    (ENUM_MIGRATION, ENUM_UP),
                    (
                        NEXT,
                        &format!("{marker}ALTER TYPE note_state ADD VALUE 'archived';\n"),
                    ),
                ],
                &schema_rs,
                &models,
            )
        };
        let found = check(&base, &head("-- plumb: post-deploy\n"));
        assert_eq!(codes(&found), [RULE.code]);
        assert!(
            found[0]
                .message
                .contains("= 'archived', which enum type `note_state` rejects"),
            "{}",
            found[0].message
        );
        let line = models
            .lines()
            .position(|l| l.contains("NoteState::Gone"))
            .unwrap()
            + 1;
        assert_eq!(at(&found[0]), format!("src/models.rs:{line}"));
        assert_eq!(check(&base, &head("")), []);
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
