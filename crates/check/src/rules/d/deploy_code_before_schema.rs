//! The new release names a column or table that only one of its post-deploy migrations creates:
//! it starts serving before that migration runs, and its queries fail until then.

use std::path::PathBuf;

use super::Starting;
use crate::finding::{Finding, Rule, Severity};
use crate::input::schema_rs::{ColumnRs, TableRs};
use crate::input::snapshot::Snapshot;
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "D008",
    name: "deploy-code-before-schema",
    severity: Severity::Error,
    summary: "new release uses a column or table that only a post-deploy migration creates",
};

pub(super) fn check(head: &Snapshot, starting: &Starting<'_>, out: &mut Vec<Finding>) {
    let Some(rs) = &head.schema_rs else {
        return;
    };
    for table in &rs.tables {
        let at_start = starting.schema.tables.get(&table.name);
        let missing: Vec<Option<&ColumnRs>> = match at_start {
            None => vec![None],
            Some(t) => table
                .columns
                .iter()
                .filter(|c| t.column(&c.name).is_none())
                .map(Some)
                .collect(),
        };
        for column in missing {
            let name = column.map(|c| c.name.as_str());
            let Some(by) = starting.by(|s| {
                s.tables
                    .get(&table.name)
                    .is_some_and(|t| name.is_none_or(|n| t.column(n).is_some()))
            }) else {
                // Not made by a post-deploy migration: family S judges it.
                continue;
            };
            let what = match name {
                Some(name) => format!("`{}.{name}`", table.name),
                None => format!("table `{}`", table.name),
            };
            let (file, line) = place(head, table, column).unwrap_or_else(|| {
                let up = head.migrations_dir.join(&by.name).join("up.sql");
                let line = crate::sql::source::line_naming(
                    &by.up,
                    &table.name,
                    name.unwrap_or(&table.name),
                );
                (up, line)
            });
            out.push(Finding::new(
                RULE,
                Span::line(file, line),
                format!(
                    "the new release uses {what}, which only the post-deploy migration {} creates: it starts serving before that migration runs, and its queries of `{}` fail until then",
                    by.name, table.name
                ),
                "create it in a pre-deploy migration (a nullable column, or one with a constant default, is safe before the rollout); post-deploy is for what the old release must not see go",
            ));
        }
    }
}

/// Where the new code names it: a model field of the column, else its line in the schema file.
fn place(head: &Snapshot, table: &TableRs, column: Option<&ColumnRs>) -> Option<(PathBuf, usize)> {
    if let Some(column) = column {
        let field = head.models.iter().find_map(|m| {
            (m.table == table.rust_name)
                .then(|| m.fields.iter().find(|f| f.column == column.rust_name))
                .flatten()
                .map(|f| (m.file.clone(), f.line))
        });
        if field.is_some() {
            return field;
        }
    }
    head.declared.iter().find_map(|d| {
        let declared = d.committed.tables.iter().find(|t| t.name == table.name)?;
        let line = column
            .and_then(|c| declared.columns.iter().find(|d| d.name == c.name))
            .map_or(declared.line, |c| c.line);
        Some((d.file.clone(), line))
    })
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::d::testing::{NEXT, RELEASED, at, check, codes, live, shown, tree_with};
    use crate::rules::s::testing::{MODELS, SCHEMA_RS, UP, edit};

    const POST: &str = "2026-02-02-000000-0000_later";

    fn head(post_up: &str, schema_rs: &str, models: &str) -> crate::input::snapshot::Snapshot {
        tree_with(
            &[
                (RELEASED, UP),
                (
                    NEXT,
                    "SET lock_timeout = '20ms';\nCREATE TABLE notes (id bigint PRIMARY KEY);\n",
                ),
                (POST, post_up),
            ],
            schema_rs,
            models,
        )
    }

    #[test]
    fn a_column_the_new_code_reads_that_only_a_post_deploy_migration_adds_fires_at_the_field() {
        let schema_rs = edit(
            SCHEMA_RS,
            "        note -> Nullable<Text>,\n",
            "        note -> Nullable<Text>,\n        tier -> Nullable<Text>,\n",
        );
        let models = edit(
            MODELS,
            "    pub note: Option<String>,\n",
            "    pub note: Option<String>,\n    pub tier: Option<String>,\n",
        );
        let post = "-- plumb: post-deploy\nSET lock_timeout = '20ms';\nALTER TABLE accounts ADD COLUMN tier text;\n";
        let found = check(&live(), &head(post, &schema_rs, &models));
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "src/models.rs:7");
        insta::assert_snapshot!(shown(&found[0]));
        // Added before the rollout, it is there when the new code starts.
        let pre = "SET lock_timeout = '20ms';\nALTER TABLE accounts ADD COLUMN tier text;\n";
        assert_eq!(check(&live(), &head(pre, &schema_rs, &models)), []);
    }

    #[test]
    fn a_table_only_a_post_deploy_migration_creates_fires() {
        let schema_rs = format!(
            "{SCHEMA_RS}\ndiesel::table! {{\n    tags (id) {{\n        id -> Int8,\n    }}\n}}\n"
        );
        let post = "-- plumb: post-deploy\nCREATE TABLE tags (id bigint PRIMARY KEY);\n";
        let found = check(&live(), &head(post, &schema_rs, MODELS));
        assert_eq!(codes(&found), [RULE.code]);
        assert!(
            found[0].message.contains("table `tags`"),
            "{}",
            found[0].message
        );
        assert_eq!(at(&found[0]), format!("migrations/{POST}/up.sql:2"));
    }
}
