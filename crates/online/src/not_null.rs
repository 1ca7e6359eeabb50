//! `SET NOT NULL` on a live table without holding ACCESS EXCLUSIVE through a scan.
//!
//! Before PostgreSQL 18: `CHECK (col IS NOT NULL) NOT VALID` (a catalog change), `VALIDATE`
//! in its own transaction (a scan under SHARE UPDATE EXCLUSIVE, which blocks no reads or
//! writes), then `SET NOT NULL` — which skips its scan because the validated check proves it —
//! and the drop of the helper check, as two statements of one transaction: two ACCESS
//! EXCLUSIVE acquisitions, each a catalog change. From 18 on: `NOT NULL ... NOT VALID`, then
//! `VALIDATE`: one.

use std::time::Duration;

use diesel::PgConnection;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Nullable, Text};

use crate::lock_retry::{Attempts, BoxError, LockPolicy, LockSession, Retry};
use crate::{DatabaseUrl, OnlineError, Result};
use plumb_pg::sql::quote_ident as quote;

/// One step of the command and what it took.
#[derive(Debug, Clone)]
pub struct NotNullStep {
    /// The SQL it ran.
    pub sql: String,
    pub attempts: Attempts,
}

/// What `enforce_not_null` reports as it goes, so that callers can print each step when it
/// happens.
#[derive(Debug, Clone)]
pub enum NotNullEvent {
    Retrying(Retry),
    Done(NotNullStep),
}

#[derive(Debug, Clone)]
pub struct NotNullReport {
    pub table: String,
    pub column: String,
    /// The steps run, in order; empty when the column was already NOT NULL.
    pub steps: Vec<NotNullStep>,
}

impl NotNullReport {
    /// Time during which the table was closed to reads and writes, over all steps.
    pub fn exclusive_held(&self) -> Duration {
        self.steps.iter().map(|s| s.attempts.exclusive_held).sum()
    }
}

/// The state of the column and of the helper constraint, read fresh before each decision so
/// that an interrupted run picks up where it stopped.
#[derive(Debug)]
struct State {
    /// NOT NULL and proven: on PostgreSQL 18 a NOT VALID NOT NULL constraint also sets
    /// `attnotnull`, so that alone does not say the rows were checked.
    not_null: bool,
    /// When the helper constraint exists: whether it is validated, and whether it is a CHECK
    /// (dropped once SET NOT NULL is done) or a NOT NULL constraint (PostgreSQL 18; it stays).
    helper: Option<Helper>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Helper {
    validated: bool,
    check: bool,
}

/// Makes `table.column` NOT NULL in steps that each hold ACCESS EXCLUSIVE only for a catalog
/// change, every lock-taking step under `policy`.
pub fn enforce_not_null(
    url: &DatabaseUrl,
    table: &str,
    column: &str,
    policy: &LockPolicy,
    on_event: &mut dyn FnMut(&NotNullEvent),
) -> Result<NotNullReport> {
    let mut session = LockSession::open(url, policy, "plumb not-null")?;
    let target = session.target().to_owned();
    let query = |context: String| {
        let target = target.clone();
        move |source| OnlineError::Query {
            context,
            target,
            source,
        }
    };
    let helper = helper_name(column);
    let mut report = NotNullReport {
        table: table.to_owned(),
        column: column.to_owned(),
        steps: Vec::new(),
    };
    let version =
        server_version(&mut session.conn).map_err(query("reading the server version".into()))?;
    let state = |conn: &mut PgConnection| {
        read_state(conn, table, column, &helper).map_err(query(format!("reading {table}.{column}")))
    };
    let first = state(&mut session.conn)?.ok_or_else(|| {
        OnlineError::Invalid(format!(
            "column {table}.{column} does not exist (as the connection's search_path resolves it)"
        ))
    })?;
    if first.not_null {
        return Ok(report);
    }
    let (t, c, h) = (quote(table), quote(column), quote(&helper));
    if first.helper.is_none() {
        let nulls = count_nulls(&mut session.conn, &t, &c)
            .map_err(query(format!("counting NULLs in {table}.{column}")))?;
        if nulls > 0 {
            return Err(still_null(table, column, nulls));
        }
        let sql = if version >= 180_000 {
            format!("ALTER TABLE {t} ADD CONSTRAINT {h} NOT NULL {c} NOT VALID")
        } else {
            format!("ALTER TABLE {t} ADD CONSTRAINT {h} CHECK ({c} IS NOT NULL) NOT VALID")
        };
        report.steps.push(step(&mut session, sql, on_event)?);
    }
    if state(&mut session.conn)?
        .and_then(|s| s.helper)
        .is_some_and(|h| !h.validated)
    {
        let sql = format!("ALTER TABLE {t} VALIDATE CONSTRAINT {h}");
        match step(&mut session, sql, on_event) {
            Ok(done) => report.steps.push(done),
            Err(error) => {
                let nulls = count_nulls(&mut session.conn, &t, &c).unwrap_or(0);
                if nulls == 0 {
                    return Err(error);
                }
                // Rows written NULL since the count: take the helper away again, so that a
                // release still writing NULL keeps working, and say so.
                let drop = format!("ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {h}");
                step(&mut session, drop, on_event)?;
                return Err(still_null(table, column, nulls));
            }
        }
    }
    let now = state(&mut session.conn)?;
    if now.as_ref().is_some_and(|s| !s.not_null)
        && now
            .and_then(|s| s.helper)
            .is_some_and(|h| h.check && h.validated)
    {
        // Two statements: in one ALTER, PostgreSQL would drop the check before it could prove
        // the column, and scan the table under ACCESS EXCLUSIVE.
        let sql = format!(
            "ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL; ALTER TABLE {t} DROP CONSTRAINT {h}"
        );
        report.steps.push(step(&mut session, sql, on_event)?);
    }
    Ok(report)
}

fn step(
    session: &mut LockSession,
    sql: String,
    on_event: &mut dyn FnMut(&NotNullEvent),
) -> Result<NotNullStep> {
    let run = |conn: &mut PgConnection| -> std::result::Result<(), BoxError> {
        conn.batch_execute(&sql)?;
        Ok(())
    };
    let ((), attempts) = session.run(&sql, run, &mut |retry| {
        on_event(&NotNullEvent::Retrying(retry.clone()));
    })?;
    let step = NotNullStep { sql, attempts };
    on_event(&NotNullEvent::Done(step.clone()));
    Ok(step)
}

fn still_null(table: &str, column: &str, nulls: i64) -> OnlineError {
    OnlineError::Refused(format!(
        "{table}.{column} still has {nulls} NULL row(s): backfill them first (plumb backfill), then run this again"
    ))
}

/// `plumb_nn_<column>`, cut to PostgreSQL's 63 bytes on a character boundary.
fn helper_name(column: &str) -> String {
    let mut name = format!("plumb_nn_{column}");
    while name.len() > 63 {
        name.pop();
    }
    name
}

fn server_version(conn: &mut PgConnection) -> diesel::QueryResult<i32> {
    #[derive(QueryableByName)]
    struct Version {
        #[diesel(sql_type = Integer)]
        version: i32,
    }
    Ok(
        diesel::sql_query("SELECT current_setting('server_version_num')::int AS version")
            .get_result::<Version>(conn)?
            .version,
    )
}

fn read_state(
    conn: &mut PgConnection,
    table: &str,
    column: &str,
    helper: &str,
) -> diesel::QueryResult<Option<State>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Bool)]
        not_null: bool,
        #[diesel(sql_type = Nullable<Bool>)]
        helper_validated: Option<bool>,
        #[diesel(sql_type = Nullable<Bool>)]
        helper_check: Option<bool>,
    }
    let row = diesel::sql_query(
        "SELECT a.attnotnull AND NOT EXISTS (SELECT 1 FROM pg_constraint n WHERE n.conrelid = a.attrelid \
                 AND n.contype = 'n' AND NOT n.convalidated AND a.attnum = ANY (n.conkey)) AS not_null, \
         h.convalidated AS helper_validated, h.contype = 'c' AS helper_check \
         FROM pg_attribute a LEFT JOIN pg_constraint h ON h.conrelid = a.attrelid AND h.conname = $3 \
         WHERE a.attrelid = to_regclass(quote_ident($1)) AND a.attname = $2 AND NOT a.attisdropped",
    )
    .bind::<Text, _>(table)
    .bind::<Text, _>(column)
    .bind::<Text, _>(helper)
    .get_result::<Row>(conn)
    .optional()?;
    Ok(row.map(|r| State {
        not_null: r.not_null,
        helper: r.helper_validated.map(|validated| Helper {
            validated,
            check: r.helper_check.unwrap_or(false),
        }),
    }))
}

fn count_nulls(conn: &mut PgConnection, table: &str, column: &str) -> diesel::QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    Ok(diesel::sql_query(format!(
        "SELECT count(*) AS n FROM {table} WHERE {column} IS NULL"
    ))
    .get_result::<Count>(conn)?
    .n)
}
