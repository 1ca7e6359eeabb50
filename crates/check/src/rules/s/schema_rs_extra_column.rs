//! A table or column `schema.rs` declares that the migrations do not create: every query naming
//! it fails at run time.

use std::path::Path;

use crate::finding::{Finding, Rule, Severity};
use crate::input::schema_rs::{SchemaRs, TableRs};
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
    for c in rs
        .columns
        .iter()
        .filter(|c| table.column(&c.name).is_none())
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

/// The tables that only `schema.rs` has.
pub(super) fn tables(file: &Path, schema: &Schema, declared: &SchemaRs, out: &mut Vec<Finding>) {
    for rs in declared
        .tables
        .iter()
        .filter(|t| !schema.tables.contains_key(&t.name))
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
