//! Configuration from the environment, checked in full at start: every problem is reported,
//! each naming its variable and what it expects.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use plumb_model::PoolSettings;

/// Everything the service reads from its environment.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    pub database_url: String,
    pub bind: SocketAddr,
    pub pool: PoolSettings,
    /// Bearer token of the admin endpoints; they are disabled without one.
    pub admin_token: Option<String>,
    /// How often an instance re-reads the feature flags: the bound on how long a change made
    /// through another instance takes to reach this one.
    pub flag_refresh: Duration,
    /// How long a shutdown waits for in-flight requests.
    pub shutdown_timeout: Duration,
    pub workers: usize,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Apply pending migrations at start (for development; production uses the runner).
    pub run_migrations: bool,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("pool", &self.pool)
            .field("admin_token", &self.admin_token.as_ref().map(|_| "*****"))
            .field("flag_refresh", &self.flag_refresh)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("workers", &self.workers)
            .field("body_limit", &self.body_limit)
            .field("run_migrations", &self.run_migrations)
            .finish_non_exhaustive()
    }
}

/// Every problem found in the environment, one per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration:\n{}", .0.join("\n"))]
pub struct ConfigError(pub Vec<String>);

/// The variables, with their defaults, as the README documents them.
pub const VARIABLES: &[(&str, &str, &str)] = &[
    (
        "DATABASE_URL",
        "(required)",
        "the accounts database, postgres://USER@HOST:PORT/DATABASE",
    ),
    (
        "PLUMB_BIND",
        "127.0.0.1:8080",
        "address and port to listen on",
    ),
    ("PLUMB_POOL_SIZE", "10", "database connections, 1 to 1000"),
    (
        "PLUMB_POOL_TIMEOUT_MS",
        "2000",
        "how long a request waits for a connection before 503",
    ),
    (
        "PLUMB_STATEMENT_TIMEOUT_MS",
        "5000",
        "statement_timeout of every connection",
    ),
    (
        "PLUMB_LOCK_TIMEOUT_MS",
        "1000",
        "lock_timeout of every connection",
    ),
    (
        "PLUMB_ADMIN_TOKEN",
        "(none: admin endpoints off)",
        "bearer token of /admin, at least 16 characters",
    ),
    (
        "PLUMB_FLAG_REFRESH_MS",
        "1000",
        "how often feature flags are re-read",
    ),
    (
        "PLUMB_SHUTDOWN_TIMEOUT_S",
        "30",
        "how long a stop waits for requests in flight; it then rolls back and answers 503 what still runs, and exits 3",
    ),
    (
        "PLUMB_WORKERS",
        "(number of cores)",
        "HTTP worker threads, 1 to 256",
    ),
    (
        "PLUMB_BODY_LIMIT_BYTES",
        "65536",
        "largest request body; larger ones get 413",
    ),
    (
        "PLUMB_RUN_MIGRATIONS",
        "false",
        "apply pending migrations at start (development only)",
    ),
];

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut problems = Vec::new();
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let database_url = get("DATABASE_URL").unwrap_or_else(|| {
            problems.push(
                "DATABASE_URL is not set: point it at the accounts database (postgres://USER@HOST:PORT/DATABASE)"
                    .to_owned(),
            );
            String::new()
        });
        if let Some(problem) = plumb_model::pool::database_url_problem(&database_url)
            .filter(|_| !database_url.is_empty())
        {
            problems.push(format!(
                "DATABASE_URL is not a PostgreSQL URL ({problem}); expected postgres://USER:PASSWORD@HOST:PORT/DATABASE, with a / or @ in the password written %2F or %40"
            ));
        }
        let bind = match get("PLUMB_BIND") {
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
            Some(text) => text.parse().unwrap_or_else(|_| {
                problems.push(format!(
                    "PLUMB_BIND: expected an address and port like 0.0.0.0:8080, got {text:?}"
                ));
                SocketAddr::from(([127, 0, 0, 1], 8080))
            }),
        };
        let mut number = |name: &str, default: u64, min: u64, max: u64| -> u64 {
            match get(name) {
                None => default,
                Some(text) => match text.trim().parse::<u64>() {
                    Ok(value) if (min..=max).contains(&value) => value,
                    _ => {
                        problems.push(format!(
                            "{name}: expected a whole number from {min} to {max}, got {text:?}"
                        ));
                        default
                    }
                },
            }
        };
        let pool_size = number("PLUMB_POOL_SIZE", 10, 1, 1000);
        let pool_timeout = number("PLUMB_POOL_TIMEOUT_MS", 2000, 1, 600_000);
        let statement_timeout = number("PLUMB_STATEMENT_TIMEOUT_MS", 5000, 1, 3_600_000);
        let lock_timeout = number("PLUMB_LOCK_TIMEOUT_MS", 1000, 1, 3_600_000);
        let flag_refresh = number("PLUMB_FLAG_REFRESH_MS", 1000, 10, 3_600_000);
        let shutdown_timeout = number("PLUMB_SHUTDOWN_TIMEOUT_S", 30, 0, 3600);
        let cores = std::thread::available_parallelism()
            .map(|n| n.get() as u64)
            .unwrap_or(2);
        let workers = number("PLUMB_WORKERS", cores, 1, 256);
        let body_limit = number("PLUMB_BODY_LIMIT_BYTES", 65_536, 64, 64 * 1024 * 1024);

        let admin_token = get("PLUMB_ADMIN_TOKEN");
        if admin_token.as_ref().is_some_and(|t| t.chars().count() < 16) {
            problems.push("PLUMB_ADMIN_TOKEN: must be at least 16 characters".to_owned());
        }
        let run_migrations = match get("PLUMB_RUN_MIGRATIONS").as_deref().map(str::trim) {
            None | Some("false" | "0" | "no") => false,
            Some("true" | "1" | "yes") => true,
            Some(other) => {
                problems.push(format!(
                    "PLUMB_RUN_MIGRATIONS: expected true or false, got {other:?}"
                ));
                false
            }
        };

        if !problems.is_empty() {
            return Err(ConfigError(problems));
        }
        Ok(Config {
            database_url,
            bind,
            pool: PoolSettings {
                max_size: u32::try_from(pool_size).unwrap_or(10),
                connection_timeout: Duration::from_millis(pool_timeout),
                statement_timeout: Duration::from_millis(statement_timeout),
                lock_timeout: Duration::from_millis(lock_timeout),
                application_name: "plumb-server".to_owned(),
            },
            admin_token,
            flag_refresh: Duration::from_millis(flag_refresh),
            shutdown_timeout: Duration::from_secs(shutdown_timeout),
            workers: usize::try_from(workers).unwrap_or(2),
            body_limit: usize::try_from(body_limit).unwrap_or(65_536),
            run_migrations,
        })
    }
}

impl Config {
    /// How long a stop waits in all: the shutdown timeout, then the time work cut off at it
    /// needs to end and answer: the statement it is in and one more (a request runs a few),
    /// and a connection's timeout. Work still running after that ends with the process,
    /// unanswered and uncommitted, and the exit code says so.
    pub fn shutdown_grace(&self) -> Duration {
        self.shutdown_timeout
            + self.pool.statement_timeout * 2
            + self.pool.connection_timeout
            + Duration::from_secs(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn defaults_need_only_the_database_url() {
        let config = config(&[("DATABASE_URL", "postgres://u@h/db")]).unwrap();
        assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(config.pool.max_size, 10);
        assert_eq!(config.admin_token, None);
        assert!(!config.run_migrations);
    }

    #[test]
    fn every_problem_is_reported_with_its_variable() {
        let error = config(&[
            ("PLUMB_POOL_SIZE", "many"),
            ("PLUMB_BIND", "localhost"),
            ("PLUMB_ADMIN_TOKEN", "short"),
            ("PLUMB_RUN_MIGRATIONS", "perhaps"),
        ])
        .unwrap_err();
        assert_eq!(
            error.0,
            [
                "DATABASE_URL is not set: point it at the accounts database (postgres://USER@HOST:PORT/DATABASE)",
                "PLUMB_BIND: expected an address and port like 0.0.0.0:8080, got \"localhost\"",
                "PLUMB_POOL_SIZE: expected a whole number from 1 to 1000, got \"many\"",
                "PLUMB_ADMIN_TOKEN: must be at least 16 characters",
                "PLUMB_RUN_MIGRATIONS: expected true or false, got \"perhaps\"",
            ]
        );
    }

    #[test]
    fn the_admin_token_never_shows_in_debug_output() {
        let config = config(&[
            ("DATABASE_URL", "postgres://u@h/db"),
            ("PLUMB_ADMIN_TOKEN", "0123456789abcdef-secret"),
        ])
        .unwrap();
        assert!(!format!("{config:?}").contains("secret"));
    }
}
