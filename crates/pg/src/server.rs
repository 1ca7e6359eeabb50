//! The PostgreSQL server that tools and tests use.

use std::sync::OnceLock;

use diesel::{PgConnection, RunQueryDsl};

use crate::cluster::ThrowawayCluster;
use crate::conninfo::DatabaseUrl;
use crate::{OnlineError, Result};

/// `DATABASE_URL` when it is set, otherwise a throwaway cluster of our own.
#[derive(Debug)]
pub enum PgServer {
    External(DatabaseUrl),
    Throwaway(ThrowawayCluster),
}

static SHARED: OnceLock<Result<PgServer, String>> = OnceLock::new();

impl PgServer {
    /// Uses `DATABASE_URL` (checking now that it answers) or starts a throwaway cluster.
    pub fn from_env() -> Result<Self> {
        Self::from_env_with(None)
    }

    /// [`PgServer::from_env`], with a throwaway cluster of PostgreSQL `major` when this machine
    /// has its programs (and neither `DATABASE_URL` nor `PLUMB_PG_BINDIR` chooses otherwise).
    pub fn from_env_preferring(major: u32) -> Result<Self> {
        Self::from_env_with(crate::PgBinaries::of_major(major))
    }

    fn from_env_with(binaries: Option<crate::PgBinaries>) -> Result<Self> {
        match std::env::var("DATABASE_URL") {
            Ok(text) if !text.trim().is_empty() => Self::external(&text),
            _ => Ok(PgServer::Throwaway(match binaries {
                Some(binaries) => ThrowawayCluster::start_on(binaries, &[])?,
                None => ThrowawayCluster::start()?,
            })),
        }
    }

    /// The server's version, as `server_version` begins ("15.19"; Debian's packages add their
    /// own build after a space).
    pub fn version(&self) -> Result<String> {
        #[derive(diesel::QueryableByName)]
        struct Version {
            #[diesel(sql_type = diesel::sql_types::Text)]
            version: String,
        }
        let mut conn = self.connect()?;
        diesel::sql_query("SELECT current_setting('server_version') AS version")
            .get_result::<Version>(&mut conn)
            .map(|v| {
                v.version
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
            .map_err(|source| OnlineError::Query {
                context: "reading the server version".to_owned(),
                target: self.url().describe(),
                source,
            })
    }

    /// A server that is already running; fails now, naming host and database, if it does not
    /// accept a connection.
    pub fn external(url: &str) -> Result<Self> {
        let url = DatabaseUrl::parse(url)?;
        let mut conn = url.connect()?;
        diesel::sql_query("SELECT 1")
            .execute(&mut conn)
            .map_err(|source| OnlineError::Query {
                context: "checking the connection".to_owned(),
                target: url.describe(),
                source,
            })?;
        Ok(PgServer::External(url))
    }

    /// One server for the whole process (every test of a test binary shares it). A throwaway
    /// cluster started here is stopped and deleted when the process exits.
    pub fn shared() -> Result<&'static PgServer> {
        let server = SHARED.get_or_init(|| {
            // A test run stopped with Ctrl-C drops its databases and removes its cluster.
            crate::clean_up_on_interrupt();
            let server = Self::from_env().map_err(|e| e.to_string())?;
            if matches!(server, PgServer::Throwaway(_)) {
                stop_shared_at_exit();
            }
            Ok(server)
        });
        server
            .as_ref()
            .map_err(|message| OnlineError::SharedServer(message.clone()))
    }

    /// The URL of the server's maintenance database (the one `DATABASE_URL` names).
    pub fn url(&self) -> &DatabaseUrl {
        match self {
            PgServer::External(url) => url,
            PgServer::Throwaway(cluster) => cluster.url(),
        }
    }

    pub fn connect(&self) -> Result<PgConnection> {
        self.url().connect()
    }

    /// "DATABASE_URL (host H port P, database D)" or "a throwaway cluster (…)".
    pub fn describe(&self) -> String {
        match self {
            PgServer::External(url) => format!("DATABASE_URL ({})", url.describe()),
            PgServer::Throwaway(cluster) => {
                format!("a throwaway cluster in {}", cluster.root().display())
            }
        }
    }
}

// A static is never dropped, so the shared cluster is stopped by an exit handler instead.
// Test binaries end with `exit`, which runs these handlers; a killed process leaves its
// cluster to `sweep_leftover_clusters`.
fn stop_shared_at_exit() {
    extern "C" fn stop_shared() {
        if let Some(Ok(PgServer::Throwaway(cluster))) = SHARED.get() {
            cluster.stop();
        }
    }
    // SAFETY: `atexit` only records a function pointer; `stop_shared` is a plain `extern "C"`
    // function that does not unwind (`stop` logs its failures instead of panicking).
    #[allow(unsafe_code)]
    let status = unsafe { libc::atexit(stop_shared) };
    if status != 0 {
        tracing::warn!("could not register the throwaway cluster's clean-up at exit");
    }
}
