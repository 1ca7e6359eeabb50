//! Rows for the tables that exist before a migration, so that what the migration does to a
//! table in use — rewrite it, scan it, hold a lock while it works — takes measurable time.
//!
//! Every column gets a value, as if every backfill had run: in a real deploy a backfill runs
//! between the migration that adds a column and the one that enforces it, and backfills are
//! not migrations.
//!
//! Seed rows go beside the rows migrations wrote (reference data a later migration reads),
//! never in their place, once per table: a migration that fails on them is observed again on a
//! database built anew from the migrations, not by deleting rows.

use std::collections::BTreeMap;

use diesel::PgConnection;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::catalog::{Catalog, CatalogTable, ConstraintKind};
use plumb_pg::sql::quote_ident as quote;

/// What has been seeded on one database: each table by the oid it had then (a table dropped
/// and created again is a new table, and empty), and the tables that could not be, likewise.
#[derive(Debug, Default)]
pub struct Seeding {
    tables: Vec<(String, i64)>,
    refused: BTreeMap<String, i64>,
}

impl Seeding {
    fn has(&self, name: &str, oid: i64) -> bool {
        self.tables.iter().any(|(t, o)| t == name && *o == oid)
    }

    fn refused(&self, name: &str, oid: i64) -> bool {
        self.refused.get(name) == Some(&oid)
    }

    /// Nothing has been seeded: the database holds only what migrations wrote.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }
}

/// Gives `rows` rows to each table of `catalog` not seeded yet, parents before the tables that
/// reference them, beside the rows already there. Returns the tables it could not seed, each
/// once, with why (a CHECK or a type it cannot satisfy): those are observed with the rows
/// migrations gave them.
pub fn seed_tables(
    conn: &mut PgConnection,
    catalog: &Catalog,
    rows: u32,
    seeding: &mut Seeding,
) -> Vec<(String, String)> {
    let mut refused = Vec::new();
    if rows == 0 || catalog.tables.is_empty() {
        return refused;
    }
    let oids = match plumb_pg::observe::relfilenodes(conn) {
        Ok(nodes) => nodes,
        Err(error) => {
            refused.push(("(all tables)".to_owned(), error.to_string()));
            return refused;
        }
    };
    let oid_of = |name: &str| oids.get(name).map(|(oid, _)| *oid).unwrap_or(-1);
    let done = |seeding: &Seeding, name: &str| {
        seeding.has(name, oid_of(name)) || seeding.refused(name, oid_of(name))
    };
    let mut pending: Vec<&String> = catalog
        .tables
        .keys()
        .filter(|name| !done(seeding, name))
        .collect();
    let mut seeded_now: Vec<String> = Vec::new();
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|name| {
            let table = &catalog.tables[*name];
            let parents = foreign_keys(table);
            if parents.iter().any(|(_, parent, _)| {
                parent != *name
                    && catalog.tables.contains_key(parent)
                    && !done(seeding, parent)
                    && !seeded_now.contains(parent)
            }) {
                return true;
            }
            seeded_now.push((*name).clone());
            if let Some((_, parent, _)) = parents
                .iter()
                .find(|(_, p, _)| seeding.refused(p, oid_of(p)))
            {
                refuse(
                    seeding,
                    &mut refused,
                    (name, oid_of(name)),
                    format!("it references {parent}, which has no seed rows"),
                );
                return false;
            }
            let sql = match insert_sql(name, table, &parents, rows, &catalog.enums) {
                Ok(sql) => sql,
                Err(why) => {
                    refuse(seeding, &mut refused, (name, oid_of(name)), why);
                    return false;
                }
            };
            match seed_one(conn, &sql) {
                Ok(()) => seeding.tables.push(((*name).clone(), oid_of(name))),
                Err(error) => refuse(
                    seeding,
                    &mut refused,
                    (name, oid_of(name)),
                    plumb_pg::one_line(&error.to_string()),
                ),
            }
            false
        });
        if pending.len() == before {
            // A cycle of foreign keys: these tables are left as they are, and said so.
            for name in pending.drain(..) {
                refuse(
                    seeding,
                    &mut refused,
                    (name, oid_of(name)),
                    "it is part of a cycle of foreign keys".to_owned(),
                );
            }
        }
    }
    refused
}

fn refuse(
    seeding: &mut Seeding,
    out: &mut Vec<(String, String)>,
    (table, oid): (&str, i64),
    why: String,
) {
    if seeding.refused.insert(table.to_owned(), oid) != Some(oid) {
        out.push((table.to_owned(), why));
    }
}

/// Runs one table's insert in a transaction of its own.
///
/// Where the role may, the insert runs as a replica applies rows: the table's triggers do not
/// fire (a row trigger that scans the table makes a seed quadratic: crates.io's `users` took
/// minutes) and foreign keys are not checked again (the values are taken from the parents).
fn seed_one(conn: &mut PgConnection, sql: &str) -> QueryResult<()> {
    conn.transaction(|conn| {
        as_replica(conn);
        conn.batch_execute(sql)
    })
}

/// For the rest of the transaction, rows are written as a replica writes them: no trigger
/// fires, foreign keys included. In a savepoint: a role that may not set it (only a superuser
/// may) rolls back to it and goes on with triggers.
fn as_replica(conn: &mut PgConnection) {
    let _ =
        conn.transaction(|conn| conn.batch_execute("SET LOCAL session_replication_role = replica"));
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
    // Reference rows inserted with explicit keys leave a serial's sequence behind them: move it
    // past the largest key, or the first seed row takes a key already used.
    let mut sequences = String::new();
    for column in table.columns.iter().filter(|c| {
        matches!(
            without_modifiers(&c.sql_type).as_str(),
            "smallint" | "integer" | "bigint"
        ) && (c.generated || c.default.as_deref().is_some_and(|d| d.contains("nextval(")))
    }) {
        sequences.push_str(&format!(
            "SELECT setval(s, m) FROM (SELECT pg_get_serial_sequence({}, {}) AS s, (SELECT max({}) FROM {}) AS m) AS k WHERE s IS NOT NULL AND m IS NOT NULL;\n",
            plumb_pg::sql::quote_literal(&quote(name)),
            plumb_pg::sql::quote_literal(&column.name),
            quote(&column.name),
            quote(name)
        ));
    }
    Ok(format!("{sequences}{with}INSERT INTO {target}"))
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
        "smallint" => format!(
            "((n + coalesce((SELECT max({c}) FROM {t}), 0)) % 32000)::smallint",
            c = quote(column),
            t = quote(table)
        ),
        // Past the largest value already there: a key without a default is often numbered.
        "integer" | "bigint" => format!(
            "(n + coalesce((SELECT max({c}) FROM {t}), 0))::{base}",
            c = quote(column),
            t = quote(table)
        ),
        "real" | "double precision" => format!("n::{base}"),
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
        "citext" => text(None),
        "tsvector" => format!("to_tsvector('simple', {})", text(None)),
        "ltree" => format!("('seed' || n)::{sql_type}"),
        "inet" | "cidr" => format!(
            "('10.' || (n / 65536 % 256) || '.' || (n / 256 % 256) || '.' || (n % 256))::{base}"
        ),
        "interval" => "n * interval '1 second'".to_owned(),
        "time without time zone" | "time with time zone" => {
            format!("'00:00'::{base} + (n % 86400) * interval '1 second'")
        }
        "bytea" => "int4send(n)".to_owned(),
        other => {
            let labels = enums.get(other.trim_matches('"'))?;
            format!("'{}'::{sql_type}", literal(labels.first()?))
        }
    })
}
