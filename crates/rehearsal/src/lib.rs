//! The deploy rehearsal: release N and release N+1 of the reference service serving side by
//! side under a steady mixed load while `accounts.nickname` goes from its expand migration to
//! NOT NULL — once the plumb way, once the naive way, each on a database of its own — with
//! every request's latency and every acknowledged write accounted for.
//!
//! - [`release`]: the two releases, each a separately built binary.
//! - [`service`]: a release as a process on a port of its own.
//! - [`load`]: the clients, open-loop, routed between the releases.
//! - [`walk`]: the phases of one walk, a report transaction open across each schema step.
//! - [`report`]: the figures, the Markdown report and the chart.
//!
//! `cargo xtask rehearse` is the command; `docs/benchmarks/rehearsal.md` has its figures.

pub mod load;
pub mod release;
pub mod report;
pub mod service;
pub mod walk;

use std::path::PathBuf;
use std::time::Duration;

/// Why a rehearsal could not be run or finished.
#[derive(Debug)]
pub enum Error {
    /// Building the releases, starting a server, seeding: the rehearsal could not begin.
    Setup(String),
    /// A step of a walk went wrong in a way that is not a figure (a report query that failed,
    /// a release that would not stop).
    Walk(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Setup(message) | Error::Walk(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let context = context.into();
        move |error| Error::Setup(format!("{context}: {error}"))
    }
}

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, Clone)]
pub struct Options {
    /// This workspace: release N.
    pub root: PathBuf,
    /// Where the releases, the logs, the report and the chart go.
    pub out: PathBuf,
    /// Accounts seeded before the load starts.
    pub rows: i64,
    /// Requests per second.
    pub rate: u64,
    /// Concurrent clients.
    pub clients: usize,
    /// How long each phase lasts at least.
    pub phase: Duration,
    /// Build the releases with `--release` (the benchmark) rather than the dev profile.
    pub release_build: bool,
    /// Which ways to walk.
    pub ways: Vec<walk::Way>,
}

/// What a rehearsal produced.
#[derive(Debug)]
pub struct Rehearsal {
    pub walks: Vec<walk::Walk>,
    pub report: String,
    pub report_path: PathBuf,
    pub chart_path: PathBuf,
}

impl Rehearsal {
    /// The plumb walk had no failed request and lost no write.
    pub fn plumb_path_is_clean(&self) -> bool {
        self.walks
            .iter()
            .filter(|w| w.way == walk::Way::Plumb)
            .all(|w| w.lost.is_empty() && w.recorded.samples.iter().all(|s| s.ok))
    }
}

/// Builds both releases, walks each way on `DATABASE_URL` or a throwaway cluster, and writes
/// the report and the chart under `options.out`.
pub fn rehearse(options: &Options) -> Result<Rehearsal> {
    std::fs::create_dir_all(&options.out)
        .map_err(Error::io(format!("creating {}", options.out.display())))?;
    // Absolute: git and cargo run from other directories with these paths.
    let options = &Options {
        out: std::path::absolute(&options.out)
            .map_err(Error::io(format!("resolving {}", options.out.display())))?,
        ..options.clone()
    };
    let releases = release::build(&options.root, &options.out, options.release_build)?;
    let server = plumb_pg::PgServer::from_env().map_err(|e| Error::Setup(e.to_string()))?;
    let mut walks = Vec::new();
    for way in &options.ways {
        walks.push(walk::walk(*way, &server, &releases, options)?);
    }
    let heading = format!(
        "## Rehearsal: {} accounts, {} requests/s from {} clients, {} s per phase, on {}",
        options.rows,
        options.rate,
        options.clients,
        options.phase.as_secs(),
        server.url().describe()
    );
    let report = report::markdown(&walks, &heading);
    let report_path = options.out.join("report.md");
    std::fs::write(&report_path, &report)
        .map_err(Error::io(format!("writing {}", report_path.display())))?;
    let chart_path = options.out.join("latency.svg");
    report::chart(&walks, &chart_path)?;
    Ok(Rehearsal {
        walks,
        report,
        report_path,
        chart_path,
    })
}
