//! The columns the compiled `schema.rs` expects, and how the database at hand has them: what
//! readiness reports and what schema-aware feature flags consult.

use std::sync::OnceLock;

use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

/// `schema.rs` as compiled into this binary, read by plumb's one `schema.rs` reader.
const SCHEMA_RS: &str = include_str!("schema.rs");

/// A column named in `schema.rs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledColumn {
    /// The table, as `table!` names it.
    pub table: String,
    /// The column, by its SQL name.
    pub column: String,
    /// Whether its type is `Nullable<...>`.
    pub nullable: bool,
}

/// Every column of every `table!` in the compiled `schema.rs`, in file order, by SQL name.
pub fn compiled_columns() -> Vec<CompiledColumn> {
    static COLUMNS: OnceLock<Vec<CompiledColumn>> = OnceLock::new();
    COLUMNS
        .get_or_init(|| {
            // The file compiled as this crate's schema, so diesel's own syntax accepts it.
            let schema = plumb_schema_rs::parse(SCHEMA_RS).unwrap_or_else(|e| {
                panic!("the compiled schema.rs, line {}: {}", e.line, e.message)
            });
            schema
                .tables
                .into_iter()
                .flat_map(|table| {
                    table.columns.into_iter().map(move |column| CompiledColumn {
                        table: table.name.clone(),
                        nullable: column.sql_type.starts_with("Nullable<"),
                        column: column.name,
                    })
                })
                .collect()
        })
        .clone()
}

/// How the database has a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnPresence {
    /// The database has no such column.
    Missing,
    /// It exists and may be NULL.
    Nullable,
    /// It exists and is NOT NULL.
    NotNull {
        /// The database fills it when an insert omits it.
        has_default: bool,
    },
}

#[derive(QueryableByName)]
struct LiveColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
    #[diesel(sql_type = Bool)]
    has_default: bool,
}

/// How the connected database has one column (of the `public` schema).
pub fn column_presence(
    conn: &mut PgConnection,
    table: &str,
    column: &str,
) -> QueryResult<ColumnPresence> {
    let found = live_columns(conn)?
        .into_iter()
        .find(|c| c.table_name == table && c.column_name == column);
    Ok(match found {
        None => ColumnPresence::Missing,
        Some(c) if c.nullable => ColumnPresence::Nullable,
        Some(c) => ColumnPresence::NotNull {
            has_default: c.has_default,
        },
    })
}

/// The compiled columns the connected database lacks, as `table.column` (a whole missing table
/// shows as each of its columns).
pub fn missing_columns(conn: &mut PgConnection) -> QueryResult<Vec<CompiledColumn>> {
    let live = live_columns(conn)?;
    Ok(compiled_columns()
        .into_iter()
        .filter(|c| {
            !live
                .iter()
                .any(|l| l.table_name == c.table && l.column_name == c.column)
        })
        .collect())
}

/// Whether the connected database has `table` in the `public` schema, as the catalog says.
pub fn table_exists(conn: &mut PgConnection, table: &str) -> QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Exists {
        #[diesel(sql_type = Bool)]
        exists: bool,
    }
    let found: Exists =
        diesel::sql_query("SELECT to_regclass(format('public.%I', $1)) IS NOT NULL AS exists")
            .bind::<Text, _>(table)
            .get_result(conn)?;
    Ok(found.exists)
}

fn live_columns(conn: &mut PgConnection) -> QueryResult<Vec<LiveColumn>> {
    diesel::sql_query(
        "SELECT table_name::text, column_name::text, is_nullable = 'YES' AS nullable, \
                column_default IS NOT NULL AS has_default \
         FROM information_schema.columns WHERE table_schema = 'public'",
    )
    .load(conn)
}
