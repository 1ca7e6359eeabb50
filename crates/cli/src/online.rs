//! The commands that work on a live database: `migrate`, `backfill` and `not-null`. Each reads
//! `DATABASE_URL`. Exit codes: 0 done; 1 the work failed or was refused (a migration error,
//! the lock budget spent, rows left); 2 bad input (options, URL, names, migrations directory);
//! 130 a backfill stopped by Ctrl-C or SIGTERM, its progress kept for the next run.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use plumb_online::backfill::{Backfill, BackfillOptions, BackfillOutcome, run_backfill};
use plumb_online::not_null::enforce_not_null;
use plumb_online::runner::{Phase, RunEvent, run_migrations};
use plumb_online::{DatabaseUrl, LockPolicy, OnlineError, Retry};
use plumb_pg::MigrationFolders;

use crate::progress::BackfillDisplay;

#[derive(Debug, Subcommand)]
pub enum OnlineCommand {
    /// Applies pending migrations to DATABASE_URL, each under lock_timeout with retries.
    Migrate(MigrateArgs),
    /// Fills a column of existing rows in resumable keyset batches.
    Backfill(BackfillArgs),
    /// Makes a filled column NOT NULL without holding ACCESS EXCLUSIVE through a scan.
    NotNull(NotNullArgs),
}

/// How DDL waits for its locks.
#[derive(Debug, Clone, Args)]
pub struct LockArgs {
    /// Longest wait for a lock in one attempt; the lock queue behind a waiting ALTER lasts at
    /// most this long.
    #[arg(long, value_name = "MS", default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..))]
    lock_timeout_ms: u64,
    /// Longest wait for locks of a migration that builds indexes CONCURRENTLY (such a wait
    /// queues nobody's queries).
    #[arg(long, value_name = "S", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    concurrent_lock_timeout_s: u64,
    /// Longest run of one statement once it has its locks.
    #[arg(long, value_name = "S", default_value_t = 1800, value_parser = clap::value_parser!(u64).range(1..))]
    statement_timeout_s: u64,
    /// Attempts per step, the first included.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    attempts: u32,
    /// Time per step, retries and backoff included.
    #[arg(long, value_name = "S", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..))]
    budget_s: u64,
}

impl LockArgs {
    fn policy(&self) -> LockPolicy {
        LockPolicy {
            lock_timeout: Duration::from_millis(self.lock_timeout_ms),
            statement_timeout: Duration::from_secs(self.statement_timeout_s),
            concurrent_lock_timeout: Duration::from_secs(self.concurrent_lock_timeout_s),
            max_attempts: self.attempts,
            budget: Duration::from_secs(self.budget_s),
            ..LockPolicy::default()
        }
    }
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
    /// The workspace whose migrations to apply (where plumb.toml or diesel.toml is).
    #[arg(long, value_name = "DIR", default_value = ".")]
    workspace: PathBuf,
    #[arg(long, value_enum, default_value_t = PhaseArg::All)]
    phase: PhaseArg,
    #[command(flatten)]
    lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct BackfillArgs {
    #[arg(long)]
    table: String,
    /// The column to fill.
    #[arg(long)]
    column: String,
    /// SQL for the value, evaluated on each row, e.g. `lower(email)`.
    #[arg(long, value_name = "SQL")]
    set: String,
    /// SQL true for rows still to fill (default: `<column> IS NULL`).
    #[arg(long = "where", value_name = "SQL")]
    pending: Option<String>,
    /// A single-column unique key to walk in order.
    #[arg(long, default_value = "id")]
    key: String,
    /// Names the job and its progress row (default: `<table>.<column>`); the same name resumes.
    #[arg(long)]
    name: Option<String>,
    /// Batches are sized to take about this long.
    #[arg(long, value_name = "MS", default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..))]
    batch_ms: u64,
    /// Pause between batches.
    #[arg(long, value_name = "MS", default_value_t = 20)]
    pause_ms: u64,
    /// Largest batch, in rows.
    #[arg(long, value_name = "ROWS", default_value_t = 50_000, value_parser = clap::value_parser!(i64).range(1..))]
    max_batch: i64,
    #[command(flatten)]
    lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct NotNullArgs {
    /// The column, as TABLE.COLUMN.
    #[arg(value_name = "TABLE.COLUMN")]
    target: String,
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
        .with_ansi(
            std::io::IsTerminal::is_terminal(&std::io::stderr())
                && std::env::var_os("NO_COLOR").is_none(),
        )
        .try_init();
}

pub fn run(command: OnlineCommand) -> ExitCode {
    let outcome = match command {
        OnlineCommand::Migrate(args) => migrate(args),
        OnlineCommand::Backfill(args) => backfill(args),
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

fn say_retry(retry: &Retry) {
    let blockers = if retry.blockers.is_empty() {
        String::new()
    } else {
        format!(
            "; blocked by {}",
            retry
                .blockers
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        )
    };
    println!(
        "  attempt {} stopped by lock_timeout{blockers}; next in {:.1} s",
        retry.attempt,
        retry.pause.as_secs_f64()
    );
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

fn migrate(args: MigrateArgs) -> Result<ExitCode, OnlineError> {
    let url = database_url()?;
    let settings =
        plumb_check::Settings::load(&args.workspace).map_err(|e| OnlineError::Migrations {
            path: args.workspace.clone(),
            reason: e.to_string(),
        })?;
    let folders = MigrationFolders::read(&settings.migrations_dir)?;
    let phase = match args.phase {
        PhaseArg::Pre => Phase::PreDeploy,
        PhaseArg::Post => Phase::PostDeploy,
        PhaseArg::All => Phase::All,
    };
    let report = run_migrations(
        &url,
        &folders,
        phase,
        &args.lock.policy(),
        &mut |event| match event {
            RunEvent::WaitingForRunner { holder } => {
                println!("waiting for another runner to finish: {holder}");
            }
            RunEvent::Plan { pending, skipped } => {
                let left = if skipped.is_empty() {
                    String::new()
                } else {
                    format!("; left for later: {}", skipped.join(", "))
                };
                println!(
                    "{} ({phase}): {} pending on {}{left}",
                    url.database().unwrap_or_default(),
                    pending.len(),
                    url.describe()
                );
            }
            RunEvent::Starting { name } => println!("applying {name}"),
            RunEvent::Retrying(retry) => say_retry(retry),
            RunEvent::Applied(run) => println!(
                "  applied in {:.2} s: {} attempt(s), {} waiting for locks, {} holding ACCESS EXCLUSIVE",
                run.elapsed.as_secs_f64(),
                run.attempts,
                ms(run.lock_wait),
                ms(run.exclusive_held)
            ),
        },
    )?;
    println!("migrate: {} applied", report.applied.len());
    Ok(ExitCode::SUCCESS)
}

fn backfill(args: BackfillArgs) -> Result<ExitCode, OnlineError> {
    let url = database_url()?;
    let name = args
        .name
        .unwrap_or_else(|| format!("{}.{}", args.table, args.column));
    let spec = Backfill {
        pending: args
            .pending
            .unwrap_or_else(|| format!("\"{}\" IS NULL", args.column.replace('"', "\"\""))),
        name,
        table: args.table,
        key: args.key,
        column: args.column,
        expression: args.set,
    };
    let options = BackfillOptions {
        target_batch_time: Duration::from_millis(args.batch_ms),
        pause: Duration::from_millis(args.pause_ms),
        max_batch: args.max_batch,
        policy: args.lock.policy(),
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
        report.filled,
        report.batches,
        report.elapsed.as_secs_f64(),
        report.filled_in_total
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

fn not_null(args: NotNullArgs) -> Result<ExitCode, OnlineError> {
    let url = database_url()?;
    let Some((table, column)) = args.target.split_once('.') else {
        return Err(OnlineError::Invalid(format!(
            "`{}` is not TABLE.COLUMN",
            args.target
        )));
    };
    let report = enforce_not_null(&url, table, column, &args.lock.policy(), &mut say_retry)?;
    if report.steps.is_empty() {
        println!("{table}.{column} is already NOT NULL");
        return Ok(ExitCode::SUCCESS);
    }
    for step in &report.steps {
        println!(
            "{}\n  {} attempt(s), {} waiting for locks, {} holding ACCESS EXCLUSIVE, {:.2} s",
            step.sql,
            step.attempts.attempts,
            ms(step.attempts.lock_wait),
            ms(step.attempts.exclusive_held),
            step.attempts.elapsed.as_secs_f64()
        );
    }
    println!(
        "{table}.{column} is NOT NULL; ACCESS EXCLUSIVE held {} in all",
        ms(report.exclusive_held())
    );
    Ok(ExitCode::SUCCESS)
}
