//! The service's connection pool. Every connection it hands out carries the session settings
//! that keep one slow query or one waiting lock from stalling the service.

use std::time::Duration;

use diesel::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ConnectionManager, CustomizeConnection};
use diesel::sql_types::Text;

/// The pool of connections the service's handlers use.
pub type PgPool = r2d2::Pool<ConnectionManager<PgConnection>>;

/// How the pool sizes itself and what each of its connections is set to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolSettings {
    /// The most connections it opens.
    pub max_size: u32,
    /// How long a caller waits for a free connection before giving up.
    pub connection_timeout: Duration,
    /// `statement_timeout` of every connection: no request runs a query longer than this.
    pub statement_timeout: Duration,
    /// `lock_timeout` of every connection: a query gives up rather than queue behind a lock.
    pub lock_timeout: Duration,
    /// `application_name`, which `pg_stat_activity` shows for these connections.
    pub application_name: String,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_size: 10,
            connection_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(5),
            lock_timeout: Duration::from_secs(1),
            application_name: "plumb-accounts".to_owned(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
/// Why a pool could not be built.
pub enum PoolError {
    #[error("the database did not accept a connection: {0}")]
    /// The database did not accept a connection in time.
    Connect(#[from] r2d2::PoolError),
    #[error("invalid pool settings: {0}")]
    /// The settings cannot make a pool (a size of 0, say).
    Settings(String),
}

/// Why `text` is not a URL to hand to libpq, or `None` when it is one: `postgres://` or
/// `postgresql://` with `//`, and every part where a URL has it (a `/` or `@` inside a password
/// must be percent-encoded). The reason never quotes the text: it may hold a password, and
/// libpq, given what it cannot parse, quotes it whole in its errors.
pub fn database_url_problem(text: &str) -> Option<String> {
    match url::Url::parse(text.trim()) {
        Err(error) => Some(error.to_string()),
        Ok(url) if !matches!(url.scheme(), "postgres" | "postgresql") => {
            Some(format!("the scheme is {:?}", url.scheme()))
        }
        Ok(url) if !url.has_authority() => Some("no // after the scheme".to_owned()),
        Ok(_) => None,
    }
}

/// Builds a pool and opens its first connection, so a wrong URL fails here and not on the
/// first request.
pub fn build_pool(database_url: &str, settings: &PoolSettings) -> Result<PgPool, PoolError> {
    if let Some(problem) = database_url_problem(database_url) {
        return Err(PoolError::Settings(format!(
            "DATABASE_URL is not a PostgreSQL URL ({problem})"
        )));
    }
    if settings.max_size == 0 {
        return Err(PoolError::Settings(
            "max_size must be at least 1".to_owned(),
        ));
    }
    let session = SessionSettings::from(settings);
    let pool = r2d2::Pool::builder()
        .max_size(settings.max_size)
        .min_idle(Some(1))
        .connection_timeout(settings.connection_timeout)
        .test_on_check_out(true)
        .connection_customizer(Box::new(session))
        .build(ConnectionManager::<PgConnection>::new(database_url))?;
    Ok(pool)
}

#[derive(Debug, Clone)]
struct SessionSettings {
    statement_timeout: String,
    lock_timeout: String,
    application_name: String,
}

impl From<&PoolSettings> for SessionSettings {
    fn from(settings: &PoolSettings) -> Self {
        Self {
            statement_timeout: as_milliseconds(settings.statement_timeout),
            lock_timeout: as_milliseconds(settings.lock_timeout),
            application_name: settings.application_name.clone(),
        }
    }
}

fn as_milliseconds(duration: Duration) -> String {
    format!("{}ms", duration.as_millis())
}

impl CustomizeConnection<PgConnection, r2d2::Error> for SessionSettings {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), r2d2::Error> {
        // Bound parameters, so no setting value is ever spliced into SQL.
        diesel::sql_query(
            "SELECT set_config('statement_timeout', $1, false), \
                    set_config('lock_timeout', $2, false), \
                    set_config('application_name', $3, false)",
        )
        .bind::<Text, _>(&self.statement_timeout)
        .bind::<Text, _>(&self.lock_timeout)
        .bind::<Text, _>(&self.application_name)
        .execute(conn)
        .map(drop)
        .map_err(r2d2::Error::QueryError)
    }
}
