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
         or under /usr/lib/postgresql/*/bin: install PostgreSQL 14 or newer \
         (Debian: apt-get install postgresql) or set DATABASE_URL to a running server"
    )]
    NoBinaries,

    #[error("PostgreSQL {found} in {bindir} is too old: plumb needs 14 or newer")]
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

    #[error("the shared PostgreSQL server could not be started earlier in this process: {0}")]
    SharedServer(String),
}

impl OnlineError {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> OnlineError {
        let context = context.into();
        move |source| OnlineError::Io { context, source }
    }
}
