//! A table or column `schema.rs` declares that the migrations do not create: every query naming
//! it fails at run time.

use std::path::Path;

use crate::finding::{Finding, Rule, Severity};
use crate::input::schema_rs::TableRs;
use crate::input::snapshot::Declared;
use crate::sql::schema::{Schema, Table};
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "S003",
    name: "schema-rs-extra-column",
    severity: Severity::Error,
    summary: "table or column in schema.rs that the migrations do not create",
};

const HELP: &str = "remove it from schema.rs, or add the migration that creates it";

/// The columns of one table that only `schema.rs` has.
pub(super) fn columns(
    file: &Path,
    name: &str,
    table: &Table,
    rs: &TableRs,
    out: &mut Vec<Finding>,
) {
    let replayed: std::collections::HashSet<&str> =
        table.columns.iter().map(|c| c.name.as_str()).collect();
    for c in rs
        .columns
        .iter()
        .filter(|c| !replayed.contains(c.name.as_str()))
    {
        out.push(Finding::new(
            RULE,
            Span::line(file, c.line),
            format!(
                "schema.rs declares `{name}.{}`, which the migrations do not create: every query naming it fails",
                c.name
            ),
            HELP,
        ));
    }
}

/// The tables that only the schema file has.
pub(super) fn tables(
    file: &Path,
    schema: &Schema,
    declared: &Declared,
    tables: &[TableRs],
    out: &mut Vec<Finding>,
) {
    for rs in tables
        .iter()
        .filter(|t| !schema.tables.contains_key(&declared.replay_key(&t.name)))
    {
        if let Some(parent) = partition_like(schema, rs) {
            // Partitions made as data grows (by the application, or pg_partman) are no
            // migration's, and `diesel print-schema` prints them all the same.
            let mut finding = Finding::new(
                RULE,
                Span::line(file, rs.line),
                format!(
                    "schema.rs declares table `{}`, which the migrations do not create; it has the columns of the partitioned table `{parent}`: likely a partition made outside the migrations, which a database built from them lacks",
                    rs.name
                ),
                format!(
                    "if partitions of `{parent}` are made at run time, leave them out of schema.rs (diesel.toml's [print_schema] filter) and query `{parent}`; else add the migration that creates it"
                ),
            );
            finding.severity = Severity::Note;
            out.push(finding);
            continue;
        }
        out.push(Finding::new(
            RULE,
            Span::line(file, rs.line),
            format!(
                "schema.rs declares table `{}`, which the migrations do not create",
                rs.name
            ),
            HELP,
        ));
    }
}

/// The partitioned table whose columns, by name and in order, `rs` declares.
fn partition_like<'s>(schema: &'s Schema, rs: &TableRs) -> Option<&'s str> {
    let declared: Vec<&str> = rs.columns.iter().map(|c| c.name.as_str()).collect();
    schema
        .tables
        .values()
        .find(|t| {
            t.partitioned
                && t.columns.len() == declared.len()
                && t.columns.iter().zip(&declared).all(|(c, d)| c.name == *d)
        })
        .map(|t| t.name.as_str())
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::s::testing::{MODELS, SCHEMA_RS, UP, at, check, codes, edit, shown};

    fn with_ghost_column() -> String {
        edit(
            SCHEMA_RS,
            "        note -> Nullable<Text>,\n",
            "        note -> Nullable<Text>,\n        ghost -> Nullable<Text>,\n",
        )
    }

    #[test]
    fn a_declared_column_no_migration_creates_fires_at_its_line() {
        let found = check(UP, &with_ghost_column(), MODELS);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "src/schema.rs:7");
        insta::assert_snapshot!(shown(&found[0]));
    }

    #[test]
    fn a_declared_table_no_migration_creates_fires_at_its_table() {
        let schema_rs = format!(
            "{SCHEMA_RS}\ndiesel::table! {{\n    ghosts (id) {{\n        id -> Int8,\n    }}\n}}\n"
        );
        let found = check(UP, &schema_rs, MODELS);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "src/schema.rs:10");
        insta::assert_snapshot!(shown(&found[0]));
    }

    #[test]
    fn a_partition_made_outside_the_migrations_is_a_note() {
        use crate::finding::Severity;
        let up = format!(
            "{UP}CREATE TABLE sales (id bigint NOT NULL, at date NOT NULL, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);\n"
        );
        let table = |name: &str| {
            format!(
                "\ndiesel::table! {{\n    {name} (id, at) {{\n        id -> Int8,\n        at -> Date,\n    }}\n}}\n"
            )
        };
        let schema_rs = format!("{SCHEMA_RS}{}{}", table("sales"), table("sales_2025"));
        let found = check(&up, &schema_rs, MODELS);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(found[0].severity, Severity::Note);
        assert!(
            found[0].message.contains("partitioned table `sales`"),
            "{}",
            found[0].message
        );
        // Other columns: no partition of it, an error as before.
        let schema_rs = format!(
            "{SCHEMA_RS}{}\ndiesel::table! {{\n    sales_2025 (id) {{\n        id -> Int8,\n    }}\n}}\n",
            table("sales")
        );
        let found = check(&up, &schema_rs, MODELS);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(found[0].severity, Severity::Error);
    }

    #[test]
    fn a_declared_column_a_migration_creates_is_silent() {
        let up = format!("{UP}ALTER TABLE accounts ADD COLUMN ghost text;\n");
        assert_eq!(check(&up, &with_ghost_column(), MODELS), []);
    }
}
