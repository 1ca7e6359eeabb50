//! The commands that work on a live database: `migrate`, `backfill` and `not-null` (which also
//! writes migrations into the workspace). Each reads
//! `DATABASE_URL`. Exit codes: 0 done; 1 the work failed or was refused (a migration error,
//! the lock budget spent, rows left); 2 bad input (options, URL, names, migrations directory);
//! 130 a backfill stopped by Ctrl-C or SIGTERM, its progress kept for the next run.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use plumb_online::backfill::{Backfill, BackfillOptions, BackfillOutcome, run_backfill};
use plumb_online::not_null::{ColumnState, column_state, flag_enabled};
use plumb_online::runner::{Phase, RunEvent, pending_migrations, run_migrations_watching};
use plumb_online::{DatabaseUrl, LockPolicy, OnlineError, Retry};
use plumb_pg::MigrationFolders;
use plumb_pg::observe::Queue;
use serde_json::json;

use crate::progress::BackfillDisplay;

#[derive(Debug, Subcommand)]
pub enum OnlineCommand {
    /// Applies pending migrations to DATABASE_URL, each under lock_timeout with retries.
    Migrate(MigrateArgs),
    /// Fills a column of existing rows in resumable keyset batches.
    Backfill(Box<BackfillArgs>),
    /// Makes a filled column NOT NULL through the repository: writes the three NOT NULL
    /// migrations (as `plumb new not-null`) unless the migrations already have them, then
    /// applies them like `migrate`, none holding ACCESS EXCLUSIVE through a scan.
    NotNull(NotNullArgs),
}

/// How DDL waits for its locks: the lock policy of `plumb.toml`'s `[lock]` (its defaults when
/// it has none), each option here overriding one of its values for this run.
#[derive(Debug, Clone, Args)]
pub struct LockArgs {
    /// The workspace: where plumb.toml (its [lock] policy) and the migrations are.
    #[arg(long, value_name = "DIR", default_value = ".")]
    workspace: PathBuf,
    /// Longest wait for a lock in one attempt; the lock queue behind a waiting ALTER lasts at
    /// most this long (default: [lock] timeout-ms, else 100).
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    lock_timeout_ms: Option<u64>,
    /// Longest wait for locks of a migration that builds indexes CONCURRENTLY (such a wait
    /// queues nobody's queries; default: [lock] concurrent-timeout-s, else 60).
    #[arg(long, value_name = "S", value_parser = clap::value_parser!(u64).range(1..))]
    concurrent_lock_timeout_s: Option<u64>,
    /// Longest run of one statement once it has its locks (default: [lock]
    /// statement-timeout-s, else 1800).
    #[arg(long, value_name = "S", value_parser = clap::value_parser!(u64).range(1..))]
    statement_timeout_s: Option<u64>,
    /// Attempts per step, the first included (default: [lock] attempts, else 60).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    attempts: Option<u32>,
    /// Time per step, attempts and pauses included (default: [lock] budget-s, else 120).
    #[arg(long, value_name = "S", value_parser = clap::value_parser!(u64).range(1..))]
    budget_s: Option<u64>,
}

impl LockArgs {
    /// The workspace's settings and its lock policy with these options over it.
    fn settings_and_policy(&self) -> Result<(plumb_check::Settings, LockPolicy), OnlineError> {
        let settings =
            plumb_check::Settings::load(&self.workspace).map_err(|e| OnlineError::Migrations {
                path: self.workspace.clone(),
                reason: e.to_string(),
            })?;
        let mut policy = LockPolicy::from(&settings.lock);
        if let Some(ms) = self.lock_timeout_ms {
            policy.lock_timeout = Duration::from_millis(ms);
        }
        if let Some(s) = self.concurrent_lock_timeout_s {
            policy.concurrent_lock_timeout = Duration::from_secs(s);
        }
        if let Some(s) = self.statement_timeout_s {
            policy.statement_timeout = Duration::from_secs(s);
        }
        if let Some(n) = self.attempts {
            policy.max_attempts = n;
        }
        if let Some(s) = self.budget_s {
            policy.budget = Duration::from_secs(s);
        }
        Ok((settings, policy))
    }

    fn policy(&self) -> Result<LockPolicy, OnlineError> {
        Ok(self.settings_and_policy()?.1)
    }
}

/// How `migrate` and `not-null` report: lines for people, or one JSON object per event (JSON
/// Lines), each written as it happens.
#[derive(Debug, Clone, Copy, Default, ValueEnum, PartialEq, Eq)]
pub enum Format {
    #[default]
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum PhaseArg {
    /// Migrations not marked post-deploy: before the new release rolls out.
    Pre,
    /// Migrations marked `-- plumb: post-deploy`: once only the new release serves.
    Post,
    /// Every pending migration, in order.
    All,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[arg(long, value_enum, default_value_t = PhaseArg::All)]
    phase: PhaseArg,
    /// A hot standby of DATABASE_URL (a postgres:// URL; repeat for more): after each
    /// migration, how long it took to replay it and the standby's queries its replay cancelled
    /// are reported.
    #[arg(long = "standby", value_name = "URL")]
    standbys: Vec<String>,
    /// Migrate every database listed in FILE (one postgres:// URL per line; `#` comments)
    /// instead of DATABASE_URL: the first alone (the canary), then the others --wave at a
    /// time in parallel, halting after a wave in which any failed. Run again, it continues
    /// where it stopped.
    #[arg(
        long,
        value_name = "FILE",
        group = "fleet_source",
        conflicts_with = "standbys"
    )]
    fleet: Option<PathBuf>,
    /// Migrate the databases a query lists, run read-only on DATABASE_URL: one row each, its
    /// first column a postgres:// URL or the name of a database on that server (`SELECT datname
    /// FROM pg_database WHERE datname LIKE 'tenant_%' ORDER BY 1`); then as --fleet.
    #[arg(
        long,
        value_name = "SQL",
        group = "fleet_source",
        conflicts_with = "standbys"
    )]
    fleet_query: Option<String>,
    /// Databases migrated at once after the canary.
    #[arg(long, value_name = "N", default_value_t = 4, requires = "fleet_source", value_parser = clap::value_parser!(u64).range(1..=256))]
    wave: u64,
    #[command(flatten)]
    replicas: ReplicaArgs,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    #[command(flatten)]
    lock: LockArgs,
}

/// When the next batch or migration waits: a standby behind, the primary in trouble.
#[derive(Debug, Clone, Args)]
pub struct ReplicaArgs {
    /// Wait while a standby's replay trails the primary by more than this many seconds
    /// (`pg_stat_replication.replay_lag`).
    #[arg(long, value_name = "S", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    max_replica_lag_s: u64,
    /// Wait while a standby's replay is more than this many megabytes of WAL behind.
    #[arg(long, value_name = "MB", default_value_t = 64, value_parser = clap::value_parser!(i64).range(1..))]
    max_replica_lag_mb: i64,
    /// Wait while more sessions than this wait for a lock on the primary.
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(i64).range(0..))]
    max_lock_waiters: i64,
    /// Stop (what is done kept) when a standby's lag cannot be read for this long.
    #[arg(long, value_name = "S", default_value_t = 60)]
    replica_grace_s: u64,
    /// Wait while a trivial query on the primary takes longer than this.
    #[arg(long, value_name = "MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    max_probe_ms: u64,
    /// Stop, what is done kept, when one wait lasts longer than this.
    #[arg(long, value_name = "S", default_value_t = 1800, value_parser = clap::value_parser!(u64).range(1..))]
    max_wait_s: u64,
    /// Never wait for standbys or for the primary's health.
    #[arg(long)]
    ignore_replicas: bool,
}

impl ReplicaArgs {
    fn limits(&self) -> plumb_online::replicas::ReplicaLimits {
        plumb_online::replicas::ReplicaLimits {
            max_lag_bytes: self.max_replica_lag_mb.saturating_mul(1024 * 1024),
            max_replay_lag: Duration::from_secs(self.max_replica_lag_s),
            max_lock_waiters: self.max_lock_waiters,
            unmeasured_grace: Duration::from_secs(self.replica_grace_s),
            max_probe: Duration::from_millis(self.max_probe_ms),
            max_wait: Duration::from_secs(self.max_wait_s),
            ignore: self.ignore_replicas,
            ..Default::default()
        }
    }
}

#[derive(Debug, Args)]
pub struct BackfillArgs {
    /// The backfill defined in the workspace's `backfills/<NAME>.toml` (its table, column,
    /// `set`, and optionally `where`, `key` and batch settings); the options below define one
    /// on the command line instead.
    #[arg(value_name = "NAME", conflicts_with_all = ["table", "column", "set", "pending", "key", "name"])]
    file: Option<String>,
    #[arg(long, required_unless_present = "file")]
    table: Option<String>,
    /// The column to fill.
    #[arg(long, required_unless_present = "file")]
    column: Option<String>,
    /// SQL for the value, evaluated on each row, e.g. `lower(email)`.
    #[arg(long, value_name = "SQL", required_unless_present = "file")]
    set: Option<String>,
    /// SQL true for rows still to fill (default: `<column> IS NULL`).
    #[arg(long = "where", value_name = "SQL")]
    pending: Option<String>,
    /// The key to walk in order: a NOT NULL single-column unique key, or the first column of the primary key (default: id).
    #[arg(long)]
    key: Option<String>,
    /// Names the job and its progress row (default: `<table>.<column>`; a file's job is named
    /// after the file); the same name resumes.
    #[arg(long)]
    name: Option<String>,
    /// Batches are sized to take about this long (default: the file's `batch-ms`, else 200).
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    batch_ms: Option<u64>,
    /// Pause between batches (default: the file's `pause-ms`, else 20).
    #[arg(long, value_name = "MS")]
    pause_ms: Option<u64>,
    /// Largest batch, in rows (default: the file's `max-batch`, else 50,000).
    #[arg(long, value_name = "ROWS", value_parser = clap::value_parser!(i64).range(1..))]
    max_batch: Option<i64>,
    #[command(flatten)]
    replicas: ReplicaArgs,
    #[command(flatten)]
    lock: LockArgs,
}

/// `backfills/<name>.toml`: a backfill defined in the repository, reviewed with the migration
/// that adds its column.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct BackfillFile {
    table: String,
    column: String,
    set: String,
    #[serde(rename = "where")]
    pending: Option<String>,
    key: Option<String>,
    batch_ms: Option<u64>,
    pause_ms: Option<u64>,
    max_batch: Option<i64>,
}

impl BackfillFile {
    fn read(workspace: &std::path::Path, name: &str) -> Result<Self, OnlineError> {
        let path = workspace.join("backfills").join(format!("{name}.toml"));
        let invalid =
            |reason: String| OnlineError::Invalid(format!("{}: {reason}", path.display()));
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(OnlineError::Invalid(format!(
                "{name:?} is not a backfill name: give the name of a file backfills/<NAME>.toml"
            )));
        }
        let text = std::fs::read_to_string(&path).map_err(|e| {
            let known = std::fs::read_dir(workspace.join("backfills"))
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|entry| {
                    entry
                        .file_name()
                        .to_str()?
                        .strip_suffix(".toml")
                        .map(str::to_owned)
                })
                .collect::<Vec<_>>();
            invalid(if known.is_empty() {
                format!("{e}; the workspace defines no backfill")
            } else {
                format!("{e}; the backfills defined are {}", known.join(", "))
            })
        })?;
        let file: BackfillFile =
            toml::from_str(&text).map_err(|e| invalid(e.to_string().trim().to_owned()))?;
        if file.batch_ms == Some(0) || file.max_batch.is_some_and(|n| n < 1) {
            return Err(invalid(
                "batch-ms and max-batch must be at least 1".to_owned(),
            ));
        }
        Ok(file)
    }
}

#[derive(Debug, Args)]
pub struct NotNullArgs {
    /// The column, as TABLE.COLUMN.
    #[arg(value_name = "TABLE.COLUMN")]
    target: String,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    #[command(flatten)]
    lock: LockArgs,
}

/// Log lines on stderr, coloured only on a terminal without `NO_COLOR`: `RUST_LOG` filters
/// them, else `default_filter` (the database commands log progress at `info`).
pub fn init_logging(default_filter: &str) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter)),
        )
        .with_writer(std::io::stderr)
        // A log line that cannot be written (whoever read stderr has gone) is dropped: the
        // default reports it with eprintln!, which panics on a closed pipe.
        .log_internal_errors(false)
        .with_ansi(
            std::io::IsTerminal::is_terminal(&std::io::stderr())
                && std::env::var_os("NO_COLOR").is_none(),
        )
        .try_init();
}

pub fn run(command: OnlineCommand) -> ExitCode {
    let outcome = match command {
        OnlineCommand::Migrate(args) => migrate(args),
        OnlineCommand::Backfill(args) => backfill(*args),
        OnlineCommand::NotNull(args) => not_null(args),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(if error.is_input_error() { 2 } else { 1 })
        }
    }
}

fn database_url() -> Result<DatabaseUrl, OnlineError> {
    match std::env::var("DATABASE_URL") {
        Ok(text) if !text.trim().is_empty() => DatabaseUrl::parse(&text),
        _ => Err(OnlineError::Invalid(
            "DATABASE_URL is not set: set it to the database to work on, e.g. postgres://USER@HOST:5432/DATABASE".into(),
        )),
    }
}

/// One line per event, flushed as it happens whatever stdout is.
fn emit(format: Format, human: impl FnOnce() -> String, json: impl FnOnce() -> serde_json::Value) {
    let line = match format {
        Format::Human => human(),
        Format::Json => json().to_string(),
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

/// What other sessions felt, in words: "no query waited behind it" or "14 sessions waited
/// behind it, up to 104 ms; stalled 0.3 s".
fn felt(queue: &Queue) -> String {
    if queue.sessions.is_empty() {
        "no query was seen waiting behind it".to_owned()
    } else {
        format!(
            "{} session(s) waited behind it, the longest {}; clients stalled {:.2} s",
            queue.sessions.len(),
            ms(queue.longest_wait),
            queue.stalled.as_secs_f64()
        )
    }
}

fn queue_json(queue: &Queue) -> serde_json::Value {
    json!({
        "sessions_waiting_behind": queue.sessions.len(),
        "longest_wait_ms": millis(queue.longest_wait),
        "stalled_ms": millis(queue.stalled),
    })
}

/// `migrate --fleet`: each wave and each database's outcome as it ends, then where every
/// database stands. Exit 1 when the fleet halted at a failure.
fn fleet(
    members: &[plumb_online::fleet::Member],
    folders: &MigrationFolders,
    phase: Phase,
    policy: &LockPolicy,
    limits: &plumb_online::replicas::ReplicaLimits,
    wave: usize,
    format: Format,
) -> ExitCode {
    use plumb_online::fleet::FleetEvent;
    let report = plumb_online::fleet::migrate_fleet(
        members,
        folders,
        phase,
        policy,
        limits,
        wave,
        &mut |event| match event {
            FleetEvent::Wave { number, databases } => emit(
                format,
                || {
                    let which = if *number == 0 {
                        "the canary".to_owned()
                    } else {
                        format!("wave {number}")
                    };
                    format!("fleet: {which}: {}", databases.join("; "))
                },
                || json!({ "event": "wave", "wave": number, "databases": databases }),
            ),
            FleetEvent::Done {
                database,
                applied,
                failed,
            } => emit(
                format,
                || match failed {
                    Some(error) => format!("  {database}: failed: {error}"),
                    None => format!("  {database}: {applied} applied"),
                },
                || json!({ "event": "database_done", "database": database, "applied": applied, "error": failed }),
            ),
        },
    );
    let failed = report.members.iter().filter(|m| m.failed.is_some()).count();
    let skipped = report.members.iter().filter(|m| m.skipped).count();
    emit(
        format,
        || {
            let mut out = if report.halted {
                format!(
                    "fleet: halted: {failed} database(s) failed, {skipped} not reached; run it again once mended to continue. Where each stands:"
                )
            } else {
                format!(
                    "fleet: {} database(s) migrated. Where each stands:",
                    report.members.len()
                )
            };
            for member in &report.members {
                let stands = match &member.pending {
                    Some(pending) if pending.is_empty() => "up to date".to_owned(),
                    Some(pending) => format!("{} pending, from {}", pending.len(), pending[0]),
                    None => "could not be read".to_owned(),
                };
                let state = if member.failed.is_some() {
                    "failed; "
                } else if member.skipped {
                    "not reached; "
                } else {
                    ""
                };
                out.push_str(&format!("\n  {}: {state}{stands}", member.database));
            }
            out
        },
        || {
            json!({
                "event": "fleet_done",
                "halted": report.halted,
                "databases": report.members.iter().map(|m| json!({
                    "database": m.database,
                    "applied": m.applied,
                    "error": m.failed,
                    "reached": !m.skipped,
                    "pending": m.pending,
                })).collect::<Vec<_>>(),
            })
        },
    );
    if report.halted {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// A standby's replay of one migration, in words.
fn replayed(replay: &plumb_online::replicas::StandbyReplay) -> String {
    if let Some(error) = &replay.error {
        return format!("{}: could not be read: {error}", replay.standby);
    }
    let delay = replay.delay.map_or_else(
        || {
            format!(
                "not replayed within {} s",
                plumb_online::replicas::REPLAY_WAIT.as_secs()
            )
        },
        |d| format!("replayed {} after the commit", ms(d)),
    );
    let cancelled = match replay.conflicts {
        0 => "no query of it cancelled".to_owned(),
        1 => "1 query of it cancelled by the replay (see max_standby_streaming_delay)".to_owned(),
        n => format!("{n} queries of it cancelled by the replay (see max_standby_streaming_delay)"),
    };
    format!("{}: {delay}; {cancelled}", replay.standby)
}

fn say_retry(format: Format, retry: &Retry) {
    emit(
        format,
        || {
            let blockers = if retry.blockers.is_empty() {
                String::new()
            } else {
                format!(
                    ", held by {}",
                    retry
                        .blockers
                        .iter()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            };
            format!(
                "  attempt {} stopped by lock_timeout after waiting {} for its lock{blockers}; {}; next in {:.2} s",
                retry.attempt,
                ms(retry.waited),
                felt(&retry.queue),
                retry.pause.as_secs_f64()
            )
        },
        || {
            json!({
                "event": "retry",
                "step": retry.what,
                "attempt": retry.attempt,
                "waited_ms": millis(retry.waited),
                "held_by": retry.blockers,
                "queue": queue_json(&retry.queue),
                "pause_ms": millis(retry.pause),
            })
        },
    );
}

fn migrate(args: MigrateArgs) -> Result<ExitCode, OnlineError> {
    let phase = match args.phase {
        PhaseArg::Pre => Phase::PreDeploy,
        PhaseArg::Post => Phase::PostDeploy,
        PhaseArg::All => Phase::All,
    };
    let members = match (&args.fleet, &args.fleet_query) {
        (Some(file), _) => Some(plumb_online::fleet::read_fleet(file)?),
        (None, Some(sql)) => Some(plumb_online::fleet::query_fleet(&database_url()?, sql)?),
        (None, None) => None,
    };
    if let Some(members) = members {
        let (settings, policy) = args.lock.settings_and_policy()?;
        let folders = MigrationFolders::read(&settings.migrations_dir)?;
        let wave = usize::try_from(args.wave).unwrap_or(4);
        let limits = args.replicas.limits();
        return Ok(fleet(
            &members,
            &folders,
            phase,
            &policy,
            &limits,
            wave,
            args.format,
        ));
    }
    let url = database_url()?;
    let (settings, policy) = args.lock.settings_and_policy()?;
    let standbys = args
        .standbys
        .iter()
        .map(|text| DatabaseUrl::parse(text))
        .collect::<Result<Vec<_>, _>>()?;
    apply(
        &url,
        &settings,
        &policy,
        phase,
        &standbys,
        Some(&args.replicas.limits()),
        args.format,
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Runs the pending migrations `phase` selects, a line (or JSON object) per event.
fn apply(
    url: &DatabaseUrl,
    settings: &plumb_check::Settings,
    policy: &LockPolicy,
    phase: Phase,
    standbys: &[DatabaseUrl],
    replicas: Option<&plumb_online::replicas::ReplicaLimits>,
    format: Format,
) -> Result<(), OnlineError> {
    let folders = MigrationFolders::read(&settings.migrations_dir)?;
    let report = run_migrations_watching(
        url,
        &folders,
        phase,
        policy,
        standbys,
        replicas,
        &mut |event| match event {
            RunEvent::WaitingForRunner { holder } => emit(
                format,
                || format!("waiting for another runner to finish: {holder}"),
                || json!({ "event": "waiting_for_runner", "holder": holder }),
            ),
            RunEvent::Plan { pending, skipped } => emit(
                format,
                || {
                    let left = if skipped.is_empty() {
                        String::new()
                    } else {
                        format!("; left for later: {}", skipped.join(", "))
                    };
                    format!(
                        "{} ({phase}): {} pending on {}{left}; lock_timeout {} per attempt",
                        url.database().unwrap_or_default(),
                        pending.len(),
                        url.describe(),
                        ms(policy.lock_timeout)
                    )
                },
                || {
                    json!({
                        "event": "plan",
                        "phase": phase.to_string(),
                        "pending": pending,
                        "left_for_later": skipped,
                        "lock_timeout_ms": millis(policy.lock_timeout),
                    })
                },
            ),
            RunEvent::Starting { name } => emit(
                format,
                || format!("applying {name}"),
                || json!({ "event": "starting", "migration": name }),
            ),
            RunEvent::Retrying(retry) => say_retry(format, retry),
            RunEvent::WaitingForStandbys { why } => emit(
                format,
                || match why {
                    Some(why) => format!("  waiting: {why}"),
                    None => "  the standbys caught up: going on".to_owned(),
                },
                || json!({ "event": "waiting_for_standbys", "why": why }),
            ),
            RunEvent::Applied(run) => emit(
                format,
                || {
                    let observer = run.observer_error.as_ref().map_or(String::new(), |e| {
                        format!(
                            "\n  note: the lock observer failed ({e}): these figures are incomplete"
                        )
                    });
                    let standbys: String = run
                        .standbys
                        .iter()
                        .map(|replay| format!("\n  standby {}", replayed(replay)))
                        .collect();
                    format!(
                        "  applied in {:.2} s after {} attempt(s); {}; ACCESS EXCLUSIVE held {}{observer}{standbys}",
                        run.elapsed.as_secs_f64(),
                        run.attempts,
                        felt(&run.queue),
                        ms(run.exclusive_held)
                    )
                },
                || {
                    json!({
                        "event": "applied",
                        "migration": run.name,
                        "attempts": run.attempts,
                        "elapsed_ms": millis(run.elapsed),
                        "lock_wait_ms": millis(run.lock_wait),
                        "exclusive_held_ms": millis(run.exclusive_held),
                        "held_by": run.blockers,
                        "queue": queue_json(&run.queue),
                        "observer_error": run.observer_error,
                        "standbys": run.standbys.iter().map(|replay| json!({
                            "standby": replay.standby,
                            "replay_delay_ms": replay.delay.map(millis),
                            "queries_cancelled": replay.conflicts,
                            "error": replay.error,
                        })).collect::<Vec<_>>(),
                    })
                },
            ),
        },
    )?;
    emit(
        format,
        || format!("migrate: {} applied", report.applied.len()),
        || json!({ "event": "done", "applied": report.applied.len() }),
    );
    Ok(())
}

/// A backfill's definition and the batch settings its file gives.
#[derive(Debug, Clone)]
pub struct DefinedBackfill {
    pub spec: Backfill,
    pub batch_ms: Option<u64>,
    pub pause_ms: Option<u64>,
    pub max_batch: Option<i64>,
}

/// The backfill `backfills/<name>.toml` of `workspace` defines; the job is named `name`.
pub fn read_backfill(
    workspace: &std::path::Path,
    name: &str,
) -> Result<DefinedBackfill, OnlineError> {
    let file = BackfillFile::read(workspace, name)?;
    Ok(DefinedBackfill {
        spec: definition(
            name.to_owned(),
            file.table,
            file.column,
            file.set,
            file.pending,
            file.key,
        ),
        batch_ms: file.batch_ms,
        pause_ms: file.pause_ms,
        max_batch: file.max_batch,
    })
}

/// A backfill with the defaults filled in: rows where the column is NULL, walked by `id`.
fn definition(
    name: String,
    table: String,
    column: String,
    expression: String,
    pending: Option<String>,
    key: Option<String>,
) -> Backfill {
    Backfill {
        pending: pending
            .unwrap_or_else(|| format!("{} IS NULL", plumb_pg::sql::quote_ident(&column))),
        name,
        table,
        key: key.unwrap_or_else(|| "id".to_owned()),
        column,
        expression,
    }
}

fn backfill(args: BackfillArgs) -> Result<ExitCode, OnlineError> {
    let url = database_url()?;
    let defined = match &args.file {
        Some(name) => read_backfill(&args.lock.workspace, name)?,
        None => {
            // clap requires all three without a file.
            let (Some(table), Some(column), Some(set)) = (args.table, args.column, args.set) else {
                return Err(OnlineError::Invalid(
                    "give a backfill's NAME, or --table, --column and --set".into(),
                ));
            };
            let name = args.name.unwrap_or_else(|| format!("{table}.{column}"));
            DefinedBackfill {
                spec: definition(name, table, column, set, args.pending, args.key),
                batch_ms: None,
                pause_ms: None,
                max_batch: None,
            }
        }
    };
    let spec = defined.spec;
    let (batch_ms, pause_ms, max_batch) = (defined.batch_ms, defined.pause_ms, defined.max_batch);
    let options = BackfillOptions {
        target_batch_time: Duration::from_millis(args.batch_ms.or(batch_ms).unwrap_or(200)),
        pause: Duration::from_millis(args.pause_ms.or(pause_ms).unwrap_or(20)),
        max_batch: args.max_batch.or(max_batch).unwrap_or(50_000),
        policy: args.lock.policy()?,
        replicas: args.replicas.limits(),
        ..BackfillOptions::default()
    };
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // The first signal stops between batches; a second one exits at once (the batch in
        // flight rolls back, the progress committed so far stays).
        signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&stop))
            .and_then(|_| signal_hook::flag::register(signal, Arc::clone(&stop)))
            .map_err(|e| OnlineError::Refused(format!("cannot install the Ctrl-C handler: {e}")))?;
    }
    let mut display = BackfillDisplay::new(&spec.name);
    let report = run_backfill(&url, &spec, &options, &stop, &mut |p| display.update(p));
    display.finish();
    let report = report?;
    let resumed = if report.resumed { " (resumed)" } else { "" };
    let summary = format!(
        "backfill {}{resumed}: {} rows filled in {} batches, {:.1} s; {} over every run",
        spec.name,
        indicatif::HumanCount(u64::try_from(report.filled).unwrap_or(0)),
        indicatif::HumanCount(u64::try_from(report.batches).unwrap_or(0)),
        report.elapsed.as_secs_f64(),
        indicatif::HumanCount(u64::try_from(report.filled_in_total).unwrap_or(0))
    );
    match report.outcome {
        BackfillOutcome::Complete => {
            println!("{summary}; verified: no row left");
            Ok(ExitCode::SUCCESS)
        }
        BackfillOutcome::Stopped => {
            println!("{summary}; stopped: run the same command again to resume");
            Ok(ExitCode::from(130))
        }
        BackfillOutcome::RowsLeft(left) => {
            eprintln!(
                "error: {summary}; {left} row(s) still match `{}`: written since the walk passed them, or the expression gives NULL",
                spec.pending
            );
            Ok(ExitCode::from(1))
        }
    }
}

/// Writes the NOT NULL migrations into the repository unless its migrations already make the
/// column NOT NULL, then applies them as `migrate` does: the database and the migrations
/// never disagree. Refuses, writing nothing, while rows are NULL or other migrations are
/// pending.
fn not_null(args: NotNullArgs) -> Result<ExitCode, OnlineError> {
    let url = database_url()?;
    let (settings, policy) = args.lock.settings_and_policy()?;
    not_null_through_repository(&url, &settings, &policy, &args.target, args.format)?;
    Ok(ExitCode::SUCCESS)
}

/// `plumb not-null` on the workspace of `settings` and the database at `url`.
pub fn not_null_through_repository(
    url: &DatabaseUrl,
    settings: &plumb_check::Settings,
    policy: &LockPolicy,
    target: &str,
    format: Format,
) -> Result<(), OnlineError> {
    use crate::scaffold::ColumnState as InMigrations;
    let (table, column) = crate::scaffold::column_target(target).map_err(OnlineError::Invalid)?;
    // The files written carry the timeout this run applies them under, or the runner would
    // refuse them.
    let mut settings = settings.clone();
    settings.lock.timeout_ms = u64::try_from(policy.lock_timeout.as_millis()).unwrap_or(u64::MAX);
    let settings = &settings;
    let in_migrations = match crate::scaffold::column_in_migrations(settings, table, column)
        .map_err(OnlineError::Invalid)?
    {
        InMigrations::NoTable => {
            return Err(OnlineError::Invalid(format!(
                "no table {table} in the schema the migrations build"
            )));
        }
        InMigrations::NoColumn => {
            return Err(OnlineError::Invalid(format!(
                "no column {table}.{column} in the schema the migrations build"
            )));
        }
        InMigrations::Nullable => false,
        InMigrations::NotNull => true,
    };
    let in_database = column_state(url, table, column)?;
    let folders = MigrationFolders::read(&settings.migrations_dir)?;
    let pending = pending_migrations(url, &folders)?;
    // Only this column's NOT NULL steps may be applied here; anything else pending belongs
    // to `plumb migrate` and its deploy phases.
    let steps = crate::scaffold::not_null_steps(table, column);
    let others: Vec<&str> = pending
        .iter()
        .map(String::as_str)
        .filter(|name| {
            !name
                .split_once('_')
                .is_some_and(|(_, step)| steps.iter().any(|s| s == step))
        })
        .collect();
    if !others.is_empty() {
        return Err(OnlineError::Refused(format!(
            "{} other migration(s) are pending ({}): apply them with `plumb migrate` first, so that this applies only the NOT NULL steps; nothing was written",
            others.len(),
            others.join(", ")
        )));
    }
    match in_database {
        ColumnState::Missing => {
            return Err(OnlineError::Invalid(format!(
                "the database has no column {table}.{column}"
            )));
        }
        ColumnState::Nullable { nulls } if nulls > 0 => {
            return Err(OnlineError::Refused(format!(
                "{table}.{column} still has {nulls} NULL row(s): backfill them first (plumb backfill), then run this again; nothing was written"
            )));
        }
        _ => {}
    }
    // A flag named after the column, off: code that does not write it may be serving, and
    // every insert of it would fail once the column is NOT NULL.
    if in_database != ColumnState::NotNull && flag_enabled(url, target)? == Some(false) {
        return Err(OnlineError::Refused(format!(
            "the feature flag {target} is off: code that does not write the column may be serving; turn the flag on, and let every instance see it, before making the column NOT NULL; nothing was written"
        )));
    }
    if in_migrations && pending.is_empty() {
        if in_database != ColumnState::NotNull {
            return Err(OnlineError::Refused(format!(
                "the migrations make {table}.{column} NOT NULL and the database has applied them all, yet it has the column nullable: it was changed outside its migrations"
            )));
        }
        emit(
            format,
            || format!("{table}.{column} is already NOT NULL, in the migrations and the database"),
            || json!({ "event": "not_null", "column": target }),
        );
        return Ok(());
    }
    if !in_migrations {
        let written = crate::scaffold::not_null(settings, target)
            .and_then(crate::scaffold::Plan::write)
            .map_err(OnlineError::Invalid)?;
        for (path, note) in &written {
            emit(
                format,
                || match note {
                    Some(note) => format!("wrote {} ({note})", path.display()),
                    None => format!("wrote {}", path.display()),
                },
                || json!({ "event": "wrote", "path": path }),
            );
        }
    }
    apply(
        url,
        settings,
        policy,
        Phase::All,
        &[],
        Some(&plumb_online::replicas::ReplicaLimits::default()),
        format,
    )?;
    emit(
        format,
        || format!("{table}.{column} is NOT NULL, in the migrations and the database"),
        || json!({ "event": "not_null", "column": target }),
    );
    Ok(())
}
