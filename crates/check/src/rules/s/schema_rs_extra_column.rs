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
    fn a_declared_column_a_migration_creates_is_silent() {
        let up = format!("{UP}ALTER TABLE accounts ADD COLUMN ghost text;\n");
        assert_eq!(check(&up, &with_ghost_column(), MODELS), []);
    }
}
