//! How a server words the errors plumb acts on, learnt from the server itself.
//!
//! diesel hands out no SQLSTATE for a lock timeout (55P03), a statement timeout or a cancel
//! (57014), and PostgreSQL translates its messages into the session's `lc_messages`. So each
//! error is provoked once, on connections like the ones that will meet it, and recognised
//! afterwards by being the same text: no decision rests on the English wording.

use diesel::connection::Connection;
use diesel::result::Error as DieselError;
use diesel::sql_types::BigInt;
use diesel::{PgConnection, QueryResult, RunQueryDsl};

/// An advisory lock key only used to provoke one lock timeout.
const CALIBRATION_KEY: i64 = 0x706c_756d_6201;

/// The primary messages of the errors plumb recognises, as one server (one database and role,
/// whose `lc_messages` they follow) words them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorTexts {
    /// `lock_timeout` ran out (SQLSTATE 55P03).
    pub lock_timeout: String,
    /// `statement_timeout` ran out (SQLSTATE 57014).
    pub statement_timeout: String,
    /// `pg_cancel_backend` cancelled the statement (SQLSTATE 57014).
    pub cancel: String,
}

/// What was being provoked when the server did not behave as PostgreSQL does.
#[derive(Debug)]
pub enum LearnError {
    Query(&'static str, DieselError),
    /// The statement that should have failed succeeded.
    NotEnforced(&'static str),
}

impl std::fmt::Display for LearnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Query(what, error) => write!(f, "{what}: {error}"),
            Self::NotEnforced(what) => write!(f, "the server did not enforce {what}"),
        }
    }
}

impl std::error::Error for LearnError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Query(_, error) => Some(error),
            Self::NotEnforced(_) => None,
        }
    }
}

impl ErrorTexts {
    /// Provokes each error once on `conn`, with `other` (a second session of the same server)
    /// holding the lock `conn` times out on. Every setting changed is local to a transaction
    /// that is rolled back: both connections are left as they were.
    pub fn learn(conn: &mut PgConnection, other: &mut PgConnection) -> Result<Self, LearnError> {
        diesel::sql_query("SELECT pg_advisory_lock($1)")
            .bind::<BigInt, _>(CALIBRATION_KEY)
            .execute(other)
            .map_err(|e| LearnError::Query("taking the calibration lock", e))?;
        let lock_timeout = provoked(
            conn,
            "lock_timeout on an advisory lock wait",
            "SELECT set_config('lock_timeout', '10ms', true)",
            &format!("SELECT pg_advisory_xact_lock({CALIBRATION_KEY})"),
        );
        let released = diesel::sql_query("SELECT pg_advisory_unlock($1)")
            .bind::<BigInt, _>(CALIBRATION_KEY)
            .execute(other)
            .map_err(|e| LearnError::Query("releasing the calibration lock", e));
        let lock_timeout = lock_timeout?;
        released?;
        let statement_timeout = provoked(
            conn,
            "statement_timeout",
            "SELECT set_config('statement_timeout', '1ms', true)",
            "SELECT pg_sleep(10)",
        )?;
        let cancel = provoked(
            conn,
            "pg_cancel_backend on its own session",
            "SELECT 1",
            "SELECT pg_cancel_backend(pg_backend_pid())",
        )?;
        Ok(Self {
            lock_timeout,
            statement_timeout,
            cancel,
        })
    }

    pub fn is_lock_timeout(&self, error: &DieselError) -> bool {
        message(error) == Some(self.lock_timeout.as_str())
    }

    pub fn is_statement_timeout(&self, error: &DieselError) -> bool {
        message(error) == Some(self.statement_timeout.as_str())
    }

    pub fn is_cancel(&self, error: &DieselError) -> bool {
        message(error) == Some(self.cancel.as_str())
    }

    /// Whether a database error's primary message is a lock timeout's or a statement
    /// timeout's: the server did not answer in the time it was given, and the same request
    /// may succeed later.
    pub fn is_timeout_message(&self, message: &str) -> bool {
        message == self.lock_timeout || message == self.statement_timeout
    }
}

/// The primary message of a database error.
pub fn message(error: &DieselError) -> Option<&str> {
    match error {
        DieselError::DatabaseError(_, info) => Some(info.message()),
        _ => None,
    }
}

/// The message of the error `fail` raises after `setup`, in a transaction rolled back after.
fn provoked(
    conn: &mut PgConnection,
    what: &'static str,
    setup: &str,
    fail: &str,
) -> Result<String, LearnError> {
    let outcome: QueryResult<()> = conn.transaction(|conn| {
        diesel::sql_query(setup).execute(conn)?;
        diesel::sql_query(fail).execute(conn)?;
        Ok(())
    });
    match outcome {
        Err(error) => message(&error)
            .map(str::to_owned)
            .ok_or(LearnError::Query(what, error)),
        Ok(()) => Err(LearnError::NotEnforced(what)),
    }
}
