//! The stages of `check-contract` that every workspace has, each printing one summary line and
//! returning its exit code: `static` (what `plumb check` does) and `live` (what `plumb live`
//! does). `cargo xtask check-contract` adds this repository's own schemas stage in front.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use plumb_check::report::{human_changes, human_findings, summary_line};
use plumb_check::{Base, Severity};
use plumb_live::LiveOptions;
use plumb_pg::PgServer;

/// Clean.
pub const CLEAN: u8 = 0;
/// A check found a problem.
pub const FAILED: u8 = 1;
/// Something could not be read or reached, so the checks could not run.
pub const UNREADABLE: u8 = 2;

/// Everything `plumb check` does: the migrations (family M), schema.rs and the models against
/// them (S, C), and the head against the base (A, D) with what changed since.
pub fn static_stage(root: &Path, base: &Base) -> u8 {
    match plumb_check::check_workspace_against(root, None, base) {
        Ok(report) => {
            print!("{}", human_changes(&report));
            eprint!("{}", human_findings(&report, stderr_colour()));
            let failed = report.count(Severity::Error) > 0;
            println!(
                "static: {}, {}",
                if failed { "failed" } else { "ok" },
                summary_line(&report)
            );
            if failed { FAILED } else { CLEAN }
        }
        Err(error) => {
            eprintln!("error: {error}");
            println!("static: could not run");
            UNREADABLE
        }
    }
}

/// Migrations apply, revert and apply again on a fresh database (`DATABASE_URL`, else a
/// throwaway cluster).
pub fn live_stage(root: &Path, options: LiveOptions) -> u8 {
    let outcome = PgServer::from_env()
        .map_err(plumb_live::StageError::from)
        .and_then(|server| plumb_live::stage::run(root, &server, options));
    match outcome {
        Ok(stage) => {
            eprint!("{}", stage.render_findings(stderr_colour()));
            for line in stage.confirmations() {
                println!("  {line}");
            }
            println!("{}", stage.summary_line());
            stage.exit_code()
        }
        Err(error) => {
            eprintln!("error: {error}");
            println!("live: could not run");
            UNREADABLE
        }
    }
}

fn stderr_colour() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// How the live stage observes migrations.
#[derive(Debug, Clone, Args)]
pub struct LiveArgs {
    /// Rows the live stage gives every table that exists before a migration.
    #[arg(long, value_name = "N", default_value_t = 20_000)]
    pub seed_rows: u32,
    /// ACCESS EXCLUSIVE held longer than this on an existing table is a finding.
    #[arg(long, value_name = "MS", default_value_t = 100)]
    pub lock_threshold_ms: u64,
}

impl LiveArgs {
    pub fn options(&self) -> LiveOptions {
        LiveOptions {
            seed_rows: self.seed_rows,
            lock_threshold: Duration::from_millis(self.lock_threshold_ms),
        }
    }
}

/// `plumb live [PATH]`: the live stage alone.
#[derive(Debug, Args)]
pub struct LiveCommand {
    /// The workspace (where plumb.toml or diesel.toml is); default: the current directory.
    path: Option<PathBuf>,
    #[command(flatten)]
    live: LiveArgs,
}

pub fn run_live(command: LiveCommand) -> ExitCode {
    let root = command.path.unwrap_or_else(|| PathBuf::from("."));
    ExitCode::from(live_stage(&root, command.live.options()))
}
