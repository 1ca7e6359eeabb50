//! An upsert's `ON CONFLICT (columns)` needs a unique index or constraint on exactly those
//! columns: without one PostgreSQL refuses the statement. The live release's upserts lose it to
//! a pre-deploy migration that drops it; the new release's lack it until a post-deploy
//! migration of its own creates it.

use super::{Starting, Step};
use crate::finding::{Finding, Rule, Severity};
use crate::input::models::Model;
use crate::input::schema_rs::SchemaRs;
use crate::input::snapshot::Snapshot;
use crate::sql::schema::Schema;
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "D011",
    name: "deploy-upsert-target-missing",
    severity: Severity::Error,
    summary: "upsert whose ON CONFLICT target has no unique index on the schema it meets",
};

/// Each upsert of a tree into `table` (by SQL name), with its target's columns by SQL name
/// and the line of its `on_conflict`.
fn upserts<'s>(
    tree: &'s Snapshot,
    rs: &SchemaRs,
    table: &str,
) -> Vec<(&'s Model, Vec<String>, usize)> {
    let Some(declared) = rs.tables.iter().find(|t| t.name == table) else {
        return Vec::new();
    };
    tree.models
        .iter()
        .filter(|m| m.table == declared.rust_name)
        .filter_map(|m| {
            let (target, line) = m.conflict.as_ref()?;
            let columns = target
                .iter()
                .map(|rust| {
                    declared
                        .columns
                        .iter()
                        .find(|c| &c.rust_name == rust)
                        .map(|c| c.name.clone())
                })
                .collect::<Option<Vec<_>>>()?;
            Some((m, columns, *line))
        })
        .collect()
}

fn has_target(schema: &Schema, table: &str, columns: &[String]) -> bool {
    schema
        .tables
        .get(table)
        .is_some_and(|t| t.has_unique_on(schema, columns))
}

/// The live release against a new pre-deploy migration that drops what its upserts need.
pub(super) fn live(step: &Step<'_>, base: &Snapshot, out: &mut Vec<Finding>) {
    let Some(rs) = &base.schema_rs else {
        return;
    };
    for name in step.before.tables.keys() {
        for (model, columns, line) in upserts(base, rs, name) {
            if !has_target(&step.before, name, &columns) || has_target(step.after, name, &columns) {
                continue;
            }
            // The line naming the index that served it (`DROP INDEX accounts_email_key`).
            let served: Vec<&str> = step
                .before
                .indexes
                .values()
                .filter(|i| &i.table == name && !step.after.indexes.contains_key(&i.name))
                .map(|i| i.name.as_str())
                .collect();
            let at = match served.iter().find(|i| step.migration.up.contains(*i)) {
                Some(index) => step.line_naming(index, index),
                None => step.line_naming(name, name),
            };
            out.push(Finding::new(
                RULE,
                Span::line(&step.file, at),
                format!(
                    "{} leaves `{name}` without a unique index on ({}), which the live release's upsert names as its ON CONFLICT target (`{}` at {}:{line}): those upserts fail until the new code is everywhere",
                    step.migration.name,
                    columns.join(", "),
                    model.name,
                    model.file.display()
                ),
                "drop the index in a post-deploy migration, once no live upsert names it",
            ));
        }
    }
}

/// The new release against the schema it starts on, where its upsert's target is created only
/// by a post-deploy migration of its own.
pub(super) fn new_code(head: &Snapshot, starting: &Starting<'_>, out: &mut Vec<Finding>) {
    let Some(rs) = &head.schema_rs else {
        return;
    };
    for table in &rs.tables {
        for (model, columns, line) in upserts(head, rs, &table.name) {
            if has_target(&starting.schema, &table.name, &columns) {
                continue;
            }
            let Some(by) = starting.by(|s| has_target(s, &table.name, &columns)) else {
                continue;
            };
            out.push(Finding::new(
                RULE,
                Span::line(&model.file, line),
                format!(
                    "`{}` upserts into `{}` ON CONFLICT ({}), whose unique index only the post-deploy migration {} creates: the new release starts serving before that migration runs, and these upserts fail until then",
                    model.name,
                    table.name,
                    columns.join(", "),
                    by.name
                ),
                "create the unique index in a pre-deploy migration (CREATE UNIQUE INDEX CONCURRENTLY)",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::d::testing::{NEXT, RELEASED, at, check, codes, shown, tree_with};
    use crate::rules::s::testing::{MODELS, SCHEMA_RS, UP};

    const INDEXED: &str = "2026-01-15-000000-0000_email_key";
    const INDEX: &str =
        "CREATE UNIQUE INDEX CONCURRENTLY accounts_email_key ON accounts (email);\n";

    /// Code that upserts by email.
    fn upserting() -> String {
        format!(
            "{MODELS}\nfn put(conn: &mut PgConnection, row: &NewAccount) {{\n    diesel::insert_into(accounts::table)\n        .values(row)\n        .on_conflict(accounts::email)\n        .do_nothing()\n        .execute(conn);\n}}\n"
        )
    }

    #[test]
    fn a_pre_deploy_drop_of_the_index_a_live_upsert_needs_fires_at_the_drop() {
        let base = tree_with(&[(RELEASED, UP), (INDEXED, INDEX)], SCHEMA_RS, &upserting());
        let head = |up: &str| {
            tree_with(
                &[(RELEASED, UP), (INDEXED, INDEX), (NEXT, up)],
                SCHEMA_RS,
                &upserting(),
            )
        };
        let found = check(
            &base,
            &head("SET lock_timeout = '20ms';\nDROP INDEX CONCURRENTLY accounts_email_key;\n"),
        );
        assert_eq!(codes(&found), [RULE.code]);
        insta::assert_snapshot!(shown(&found[0]));
        // Replaced by a unique constraint on the same column first: still an arbiter.
        let replaced = head(
            "SET lock_timeout = '20ms';\nALTER TABLE accounts ADD CONSTRAINT accounts_email_unique UNIQUE (email);\nDROP INDEX CONCURRENTLY accounts_email_key;\n",
        );
        assert_eq!(check(&base, &replaced), []);
    }

    #[test]
    fn an_upsert_whose_index_only_a_post_deploy_migration_creates_fires_at_the_target() {
        let base = tree_with(&[(RELEASED, UP)], SCHEMA_RS, MODELS);
        let head = |marker: &str| {
            tree_with(
                &[(RELEASED, UP), (NEXT, &format!("{marker}{INDEX}"))],
                SCHEMA_RS,
                &upserting(),
            )
        };
        let found = check(&base, &head("-- plumb: post-deploy\n"));
        assert_eq!(codes(&found), [RULE.code]);
        let line = upserting()
            .lines()
            .position(|l| l.contains("on_conflict"))
            .unwrap()
            + 1;
        assert_eq!(at(&found[0]), format!("src/models.rs:{line}"));
        assert_eq!(check(&base, &head("")), []);
    }
}
