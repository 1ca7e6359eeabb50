//! `schema.rs` against the migrated database: the judgement `diesel print-schema` would give,
//! made without diesel_cli, from the catalog.

use plumb_check::input::schema_rs::SchemaRs;
use plumb_check::rules::s::canonical_diesel_type;
use plumb_check::sql::schema::SqlType;

use crate::catalog::{Catalog, CatalogColumn, CatalogTable, ConstraintKind};

/// The diesel SQL type print-schema writes for a column, and its `#[max_length]`: the
/// checker's mapping, from the type as the catalog names it.
fn diesel_type(column: &CatalogColumn) -> (String, Option<u32>) {
    plumb_check::rules::s::diesel_sql_type(&SqlType::parse(&column.sql_type), !column.not_null)
}

fn primary_key(table: &CatalogTable) -> Option<Vec<String>> {
    table
        .constraints
        .values()
        .find(|c| c.kind == ConstraintKind::PrimaryKey)
        .map(|c| c.columns.clone())
}

/// `(child, parent, column)` for each single-column foreign key to the parent's primary key, as
/// print-schema keeps them: no key of a table to itself, and no pair of tables joined by more
/// than one key (`joinable!` could not say which).
fn joinables(catalog: &Catalog) -> Vec<(String, String, String)> {
    let all = all_joinables(catalog);
    all.iter()
        .filter(|(child, parent, _)| child != parent)
        .filter(|(child, parent, _)| {
            all.iter()
                .filter(|(c, p, _)| c == child && p == parent)
                .count()
                == 1
        })
        .cloned()
        .collect()
}

fn all_joinables(catalog: &Catalog) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (child, table) in &catalog.tables {
        for (column, parent, parent_column) in crate::seed::foreign_keys(table) {
            let to_key = catalog
                .tables
                .get(&parent)
                .and_then(primary_key)
                .is_some_and(|pk| pk == [parent_column.as_str()]);
            if to_key {
                out.push((child.clone(), parent, column));
            }
        }
    }
    out
}

/// Where `schema.rs` and the database disagree: the line of `schema.rs` and what is wrong.
///
/// `prints` says which of the database's tables print-schema writes into this file (its
/// `filter`); `schema_rs` is the file as print-schema generates it (its `patch_file` taken out).
pub fn schema_rs_drift(
    catalog: &Catalog,
    schema_rs: &SchemaRs,
    prints: impl Fn(&str) -> bool,
) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (name, table) in catalog.tables.iter().filter(|(name, _)| prints(name)) {
        let Some(pk) = primary_key(table) else {
            continue;
        };
        let Some(declared) = schema_rs.tables.iter().find(|t| &t.name == name) else {
            out.push((
                1,
                format!("print-schema would add table `{name}`, which the migrated database has"),
            ));
            continue;
        };
        if declared.primary_key != pk {
            out.push((
                declared.line,
                format!(
                    "`{name}`'s primary key is ({}) in schema.rs, ({}) in the database",
                    declared.primary_key.join(", "),
                    pk.join(", ")
                ),
            ));
        }
        for column in &table.columns {
            let (expected, max_length) = diesel_type(column);
            match declared.columns.iter().find(|c| c.name == column.name) {
                None => out.push((declared.line, format!("print-schema would add `{}.{} -> {expected}`", name, column.name))),
                // Aliases (`Varchar` for `Text`, `Integer` for `Int4`) are one type to diesel.
                Some(c) if canonical_diesel_type(&c.sql_type) != canonical_diesel_type(&expected) => out.push((
                    c.line,
                    format!("`{name}.{}` is `{}` in schema.rs; the database column ({}{}) makes it `{expected}`", column.name, c.sql_type, column.sql_type, if column.not_null { " NOT NULL" } else { ", nullable" }),
                )),
                // diesel does not check max_length: only one schema.rs states and the database
                // contradicts is drift.
                Some(c) if c.max_length.is_some() && c.max_length != max_length => out.push((
                    c.line,
                    format!("`{name}.{}` has max_length {:?} in schema.rs, {:?} in the database", column.name, c.max_length, max_length),
                )),
                Some(_) => {}
            }
        }
        for column in declared
            .columns
            .iter()
            .filter(|c| !table.columns.iter().any(|l| l.name == c.name))
        {
            out.push((
                column.line,
                format!(
                    "schema.rs has `{name}.{}`, which the migrated database does not",
                    column.name
                ),
            ));
        }
    }
    for table in schema_rs
        .tables
        .iter()
        .filter(|t| !catalog.tables.contains_key(&t.name))
    {
        out.push((
            table.line,
            format!(
                "schema.rs has table `{}`, which the migrated database does not",
                table.name
            ),
        ));
    }
    let expected = joinables(catalog);
    for (child, parent, column) in &expected {
        if !schema_rs
            .joinables
            .iter()
            .any(|j| &j.child == child && &j.parent == parent && &j.column == column)
        {
            out.push((
                1,
                format!(
                    "print-schema would add `diesel::joinable!({child} -> {parent} ({column}));`"
                ),
            ));
        }
    }
    for joinable in &schema_rs.joinables {
        if !expected.iter().any(|(c, p, col)| {
            c == &joinable.child && p == &joinable.parent && col == &joinable.column
        }) {
            out.push((
                joinable.line,
                format!(
                    "schema.rs joins {} to {} on {}, a foreign key the database does not have",
                    joinable.child, joinable.parent, joinable.column
                ),
            ));
        }
    }
    out
}
