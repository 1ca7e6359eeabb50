//! `cargo xtask <task>`: the project's own commands.

mod check_contract;
mod claims;
mod rehearse;
mod schemas;
mod workspace;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "plumb's project tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Checks that the schema changes of this workspace are safe to ship. Exit code 0: clean;
    /// 1: a check failed; 2: something could not be read or reached.
    CheckContract {
        /// The workspace to check (default: the one this xtask belongs to).
        #[arg(long, value_name = "DIR", conflicts_with = "path")]
        workspace: Option<PathBuf>,
        #[command(flatten)]
        args: plumb::contract::ContractArgs,
    },
    /// Writes schemas/ from the contract crate: one JSON Schema per API version, type and
    /// direction, and the OpenAPI document.
    Schemas {
        /// Change nothing; list every file that is stale, missing or no longer generated and
        /// exit 1 if there is any.
        #[arg(long)]
        check: bool,
        /// The workspace whose schemas/ to write or check (default: this one).
        #[arg(long, value_name = "DIR")]
        workspace: Option<PathBuf>,
    },
    /// Runs each migration rule's statements on throwaway clusters of each PostgreSQL version
    /// and writes docs/rules/claims.md: the lock taken, rewrite, scan, and whether the rule
    /// agrees. Exit 1 when a rule disagrees with a server (or, with --check, the file is
    /// stale); 2 when a server cannot be started.
    Claims {
        /// Write nothing; fail on a disagreement or a stale docs/rules/claims.md.
        #[arg(long)]
        check: bool,
        /// A directory of PostgreSQL server programs (`scripts/pg-versions.sh` prints them);
        /// repeat for more versions. Default: the one the throwaway cluster finds.
        #[arg(long, value_name = "DIR")]
        bindir: Vec<PathBuf>,
    },
    /// The deploy rehearsal: release N and a release N+1 (this workspace, taken one column
    /// further) serve side by side under load while the column goes from expand to NOT NULL,
    /// the plumb way and the naive way, each on a database of its own (DATABASE_URL, else a
    /// throwaway cluster). Writes report.md and latency.svg. Exit 0: the plumb path failed no
    /// request and lost no write; 1: it did; 2: the rehearsal could not run.
    Rehearse(rehearse::RehearseArgs),
    /// The database commands of `plumb` (migrate, backfill, not-null), on DATABASE_URL.
    #[command(flatten)]
    Online(plumb::online::OnlineCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Progress lines are info: the database commands log as `plumb` does.
    let default_filter = if matches!(cli.task, Task::Online(_)) {
        "info"
    } else {
        "warn"
    };
    plumb::online::init_logging(default_filter);
    match cli.task {
        Task::CheckContract {
            workspace,
            mut args,
        } => {
            args.path = args.path.or(workspace);
            check_contract::run(args)
        }
        Task::Schemas { check, workspace } => {
            let root = workspace.unwrap_or_else(workspace::this_workspace);
            schemas_task(&root, check)
        }
        Task::Claims { check, bindir } => {
            plumb_pg::clean_up_on_interrupt();
            match claims::run(&workspace::this_workspace(), &bindir, check) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::from(1),
                Err(error) => {
                    eprintln!("error: {error:#}");
                    ExitCode::from(2)
                }
            }
        }
        Task::Rehearse(args) => {
            plumb_pg::clean_up_on_interrupt();
            rehearse::run(args)
        }
        Task::Online(command) => plumb::online::run(command),
    }
}

const FIX: &str = "run `cargo xtask schemas` to update them, then `cargo insta review`";

fn schemas_task(root: &std::path::Path, check: bool) -> ExitCode {
    let outcome = if check {
        schemas::check(root)
    } else {
        schemas::write(root)
    };
    match outcome {
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
        Ok(drift) if check && !drift.is_clean() => {
            eprintln!("{}", drift.report("schemas", FIX));
            ExitCode::from(1)
        }
        Ok(drift) if check => {
            println!("schemas: ok, {} files up to date", drift.up_to_date);
            ExitCode::SUCCESS
        }
        Ok(drift) => {
            println!(
                "schemas: wrote {}, removed {}, {} already up to date",
                drift.stale.len() + drift.missing.len(),
                drift.extra.len(),
                drift.up_to_date
            );
            ExitCode::SUCCESS
        }
    }
}
