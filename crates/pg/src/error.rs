use std::path::PathBuf;

/// Why something that needs PostgreSQL could not be done. Every message names what it was
/// about (a server by host and database, never by password; a file by its path).
#[derive(Debug, thiserror::Error)]
pub enum OnlineError {
    #[error(
        "DATABASE_URL is not a PostgreSQL URL ({reason}); expected postgres://USER@HOST:PORT/DATABASE"
    )]
    InvalidUrl { reason: String },

    #[error("cannot connect to PostgreSQL at {target}: {reason}")]
    Connect { target: String, reason: String },

    #[error(
        "no PostgreSQL server binaries (initdb, pg_ctl) found on PATH, through `pg_config --bindir` \
         or under /usr/lib/postgresql/*/bin: install PostgreSQL 12 or newer \
         (Debian: apt-get install postgresql) or set DATABASE_URL to a running server"
    )]
    NoBinaries,

    #[error("PostgreSQL {found} in {bindir} is too old: plumb needs 12 or newer")]
    TooOld { bindir: PathBuf, found: String },

    #[error(
        "running as root, but there is no `postgres` system user to run the throwaway cluster \
         (PostgreSQL refuses to run as root): create one or set DATABASE_URL"
    )]
    NoPostgresUser,

    #[error("throwaway PostgreSQL cluster: {step} failed: {detail}")]
    Cluster { step: &'static str, detail: String },

    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },

    #[error("{context} on {target}: {source}")]
    Query {
        context: String,
        target: String,
        source: diesel::result::Error,
    },

    #[error("cannot read the migrations in {}: {reason}", path.display())]
    Migrations { path: PathBuf, reason: String },

    #[error("building the migrated template database: {0}")]
    Template(String),

    /// What was asked cannot be: a bad option, a table or column that does not exist.
    #[error("{0}")]
    Invalid(String),

    /// The database is not in a state to do it yet (rows still NULL, earlier migrations
    /// pending); nothing was changed.
    #[error("{0}")]
    Refused(String),

    #[error(
        "{what}: gave up after {attempts} attempt(s) in {:.1} s, each stopped by lock_timeout ({} ms){}",
        elapsed.as_secs_f64(),
        lock_timeout.as_millis(),
        blocked_by(blockers)
    )]
    LockBudgetExhausted {
        what: String,
        attempts: u32,
        elapsed: std::time::Duration,
        lock_timeout: std::time::Duration,
        blockers: Vec<String>,
    },

    #[error(
        "another runner is migrating this database ({holder}); waited {} s for it",
        waited.as_secs()
    )]
    RunnerBusy {
        holder: String,
        waited: std::time::Duration,
    },

    #[error("{what}: {message}")]
    StepFailed { what: String, message: String },

    #[error("the shared PostgreSQL server could not be started earlier in this process: {0}")]
    SharedServer(String),
}

fn blocked_by(blockers: &[String]) -> String {
    if blockers.is_empty() {
        String::new()
    } else {
        format!("; blocked by {}", blockers.join("; "))
    }
}

impl OnlineError {
    /// Whether the input was at fault (an option, a URL, a name, a migrations directory)
    /// rather than the database or the work: commands exit 2 for these, 1 for the rest (a
    /// server that does not answer included: that may pass).
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            OnlineError::InvalidUrl { .. }
                | OnlineError::Migrations { .. }
                | OnlineError::Invalid(_)
                | OnlineError::NoBinaries
                | OnlineError::TooOld { .. }
        )
    }

    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> OnlineError {
        let context = context.into();
        move |source| OnlineError::Io { context, source }
    }
}
