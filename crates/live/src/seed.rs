//! Rows for the tables that exist before a migration, so that what the migration does to a
//! table in use — rewrite it, scan it, hold a lock while it works — takes measurable time.
//!
//! Every column gets a value, as if every backfill had run: in a real deploy a backfill runs
//! between the migration that adds a column and the one that enforces it, and backfills are
//! not migrations.

use diesel::PgConnection;
use diesel::connection::SimpleConnection;

use crate::catalog::{Catalog, CatalogTable, ConstraintKind};
use plumb_pg::sql::quote_ident as quote;

/// Empties every table of `catalog` and gives each `rows` rows, parents before the tables that
/// reference them. Returns the tables it could not seed, with why (a CHECK or a type it cannot
/// satisfy): those are observed empty.
pub fn reseed_tables(
    conn: &mut PgConnection,
    catalog: &Catalog,
    rows: u32,
) -> Vec<(String, String)> {
    let mut skipped = Vec::new();
    if catalog.tables.is_empty() {
        return skipped;
    }
    let all: Vec<String> = catalog.tables.keys().map(|t| quote(t)).collect();
    if let Err(error) = conn.batch_execute(&format!(
        "TRUNCATE {} RESTART IDENTITY CASCADE",
        all.join(", ")
    )) {
        skipped.push(("(all tables)".to_owned(), error.to_string()));
        return skipped;
    }
    let mut pending: Vec<&String> = catalog.tables.keys().collect();
    let mut seeded: Vec<String> = Vec::new();
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|name| {
            let table = &catalog.tables[*name];
            let parents = foreign_keys(table);
            if parents
                .iter()
                .any(|(_, parent, _)| parent != *name && pending_contains(catalog, &seeded, parent))
            {
                return true;
            }
            if let Some((_, parent, _)) = parents
                .iter()
                .find(|(_, p, _)| skipped.iter().any(|(s, _)| s == p))
            {
                skipped.push((
                    (*name).clone(),
                    format!("it references {parent}, which has no rows"),
                ));
                seeded.push((*name).clone());
                return false;
            }
            match insert_sql(name, table, &parents, rows, &catalog.enums) {
                Ok(sql) => {
                    if let Err(error) = conn.batch_execute(&sql) {
                        skipped.push(((*name).clone(), error.to_string()));
                    }
                }
                Err(why) => skipped.push(((*name).clone(), why)),
            }
            seeded.push((*name).clone());
            false
        });
        if pending.len() == before {
            // A cycle of foreign keys: these tables are left empty, and said so.
            for name in pending.drain(..) {
                skipped.push((
                    name.clone(),
                    "it is part of a cycle of foreign keys".to_owned(),
                ));
            }
        }
    }
    skipped
}

fn pending_contains(catalog: &Catalog, seeded: &[String], parent: &str) -> bool {
    catalog.tables.contains_key(parent) && !seeded.iter().any(|s| s == parent)
}

/// Removes every row of every table of `catalog`.
pub fn empty_tables(conn: &mut PgConnection, catalog: &Catalog) -> diesel::QueryResult<()> {
    if catalog.tables.is_empty() {
        return Ok(());
    }
    let all: Vec<String> = catalog.tables.keys().map(|t| quote(t)).collect();
    conn.batch_execute(&format!(
        "TRUNCATE {} RESTART IDENTITY CASCADE",
        all.join(", ")
    ))
}

/// A type as `format_type` writes it, without its modifiers: `timestamp(3) with time zone`
/// is a `timestamp with time zone`.
pub(crate) fn without_modifiers(sql_type: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in sql_type.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `(column, parent table, parent column)` of each single-column foreign key.
pub(crate) fn foreign_keys(table: &CatalogTable) -> Vec<(String, String, String)> {
    table
        .constraints
        .values()
        .filter(|c| c.kind == ConstraintKind::ForeignKey)
        .filter_map(|c| match (c.columns.as_slice(), &c.references) {
            ([column], Some((parent, parent_columns))) => match parent_columns.as_slice() {
                [parent_column] => Some((column.clone(), parent.clone(), parent_column.clone())),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn insert_sql(
    name: &str,
    table: &CatalogTable,
    parents: &[(String, String, String)],
    rows: u32,
    catalog_enums: &std::collections::BTreeMap<String, Vec<String>>,
) -> Result<String, String> {
    let mut columns = Vec::new();
    let mut values = Vec::new();
    let mut ctes = Vec::new();
    for column in table
        .columns
        .iter()
        .filter(|c| !c.generated && c.default.is_none())
    {
        let value = if let Some((_, parent, parent_column)) =
            parents.iter().find(|(c, _, _)| c == &column.name)
        {
            let alias = format!("p{}", ctes.len());
            ctes.push(format!(
                "{alias} AS (SELECT array_agg({} ORDER BY {}) AS ids FROM {})",
                quote(parent_column),
                quote(parent_column),
                quote(parent)
            ));
            format!("{alias}.ids[1 + (n % cardinality({alias}.ids))]")
        } else {
            match value_for(&column.sql_type, name, &column.name, catalog_enums) {
                Some(value) => value,
                None if !column.not_null => continue,
                None => {
                    return Err(format!(
                        "no seed value for column {} of type {}",
                        column.name, column.sql_type
                    ));
                }
            }
        };
        columns.push(quote(&column.name));
        values.push(value);
    }
    let from: String = ctes
        .iter()
        .map(|c| format!(", {}", c.split(" AS ").next().unwrap_or_default()))
        .collect();
    let with = if ctes.is_empty() {
        String::new()
    } else {
        format!("WITH {} ", ctes.join(", "))
    };
    let target = if columns.is_empty() {
        format!(
            "{} SELECT FROM generate_series(1, {rows}) AS n",
            quote(name)
        )
    } else {
        format!(
            "{} ({}) SELECT {} FROM generate_series(1, {rows}) AS n{from}",
            quote(name),
            columns.join(", "),
            values.join(", ")
        )
    };
    Ok(format!("{with}INSERT INTO {target}"))
}

/// A distinct, valid value for row `n` of a column of this type.
fn value_for(
    sql_type: &str,
    table: &str,
    column: &str,
    enums: &std::collections::BTreeMap<String, Vec<String>>,
) -> Option<String> {
    if sql_type.ends_with("[]") {
        return Some(format!("'{{}}'::{sql_type}"));
    }
    let base = without_modifiers(sql_type);
    let length: Option<u32> = sql_type
        .split_once('(')
        .and_then(|(_, r)| r.split([')', ',']).next()?.trim().parse().ok());
    let literal = |text: &str| text.replace('\'', "''");
    let text = |max: Option<u32>| {
        let value = format!("'{}-{}-' || n", literal(table), literal(column));
        match max {
            Some(max) => format!("right({value}, {max})"),
            None => value,
        }
    };
    Some(match base.as_str() {
        "smallint" => "(n % 32000)::smallint".to_owned(),
        "integer" | "bigint" | "real" | "double precision" => format!("n::{base}"),
        "numeric" => format!("0::{sql_type}"),
        "text" => text(None),
        "character varying" | "character" => text(length),
        "boolean" => "(n % 2 = 0)".to_owned(),
        "timestamp with time zone" | "timestamp without time zone" => {
            "now() - n * interval '1 second'".to_owned()
        }
        "date" => "current_date - (n % 3650)".to_owned(),
        "uuid" => "gen_random_uuid()".to_owned(),
        "jsonb" | "json" => format!("'{{}}'::{base}"),
        "bytea" => "int4send(n)".to_owned(),
        other => {
            let labels = enums.get(other.trim_matches('"'))?;
            format!("'{}'::{sql_type}", literal(labels.first()?))
        }
    })
}
