//! What `plumb not-null` asks of the database before it writes and applies the NOT NULL
//! migrations: how the column stands, how many of its rows are still NULL, and whether the
//! feature flag named after it is on.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};

use crate::{DatabaseUrl, OnlineError, Result};
use plumb_pg::sql::quote_ident;

/// How the database has a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnState {
    /// No such column (as the connection's search_path resolves the table).
    Missing,
    /// NOT NULL, and proven: on PostgreSQL 18 a NOT VALID NOT NULL constraint also sets
    /// `attnotnull`, so that alone does not say the rows were checked.
    NotNull,
    /// It may hold NULLs; this many rows do.
    Nullable { nulls: i64 },
}

/// Reads the column's state, counting its NULL rows when it is nullable (a scan that takes
/// only ACCESS SHARE: reads and writes go on).
pub fn column_state(url: &DatabaseUrl, table: &str, column: &str) -> Result<ColumnState> {
    let target = url.describe();
    let query = |context: String| {
        let target = target.clone();
        move |source| OnlineError::Query {
            context,
            target,
            source,
        }
    };
    let mut conn = url.connect()?;
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Bool)]
        not_null: bool,
    }
    let row = diesel::sql_query(
        "SELECT a.attnotnull AND NOT EXISTS (SELECT 1 FROM pg_constraint n WHERE n.conrelid = a.attrelid \
                 AND n.contype = 'n' AND NOT n.convalidated AND a.attnum = ANY (n.conkey)) AS not_null \
         FROM pg_attribute a \
         WHERE a.attrelid = to_regclass(quote_ident($1)) AND a.attname = $2 AND NOT a.attisdropped",
    )
    .bind::<Text, _>(table)
    .bind::<Text, _>(column)
    .get_result::<Row>(&mut conn)
    .optional()
    .map_err(query(format!("reading {table}.{column}")))?;
    let Some(row) = row else {
        return Ok(ColumnState::Missing);
    };
    if row.not_null {
        return Ok(ColumnState::NotNull);
    }
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let nulls = diesel::sql_query(format!(
        "SELECT count(*) AS n FROM {} WHERE {} IS NULL",
        quote_ident(table),
        quote_ident(column)
    ))
    .get_result::<Count>(&mut conn)
    .map_err(query(format!("counting NULLs in {table}.{column}")))?
    .n;
    Ok(ColumnState::Nullable { nulls })
}

/// Whether the flag `name` of the table `feature_flags` is on; `None` when there is no such
/// table or no such flag (the flags of a service that gates columns by flags named after them).
pub fn flag_enabled(url: &DatabaseUrl, name: &str) -> Result<Option<bool>> {
    #[derive(QueryableByName)]
    struct Exists {
        #[diesel(sql_type = Bool)]
        exists: bool,
    }
    #[derive(QueryableByName)]
    struct Flag {
        #[diesel(sql_type = Bool)]
        enabled: bool,
    }
    let mut conn = url.connect()?;
    let query = |source| OnlineError::Query {
        context: format!("reading the feature flag {name}"),
        target: url.describe(),
        source,
    };
    // Asked of the catalog first: a query of a missing table fails with a translated message.
    let table = diesel::sql_query("SELECT to_regclass('feature_flags') IS NOT NULL AS exists")
        .get_result::<Exists>(&mut conn)
        .map_err(query)?;
    if !table.exists {
        return Ok(None);
    }
    let flag = diesel::sql_query("SELECT enabled FROM feature_flags WHERE name = $1")
        .bind::<Text, _>(name)
        .get_result::<Flag>(&mut conn)
        .optional()
        .map_err(query)?;
    Ok(flag.map(|f| f.enabled))
}
