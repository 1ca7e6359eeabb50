//! `cargo xtask <task>`: the project's own commands.

mod check_contract;
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
        #[arg(long, value_name = "DIR")]
        workspace: Option<PathBuf>,
        /// Skip the checks that need a PostgreSQL server.
        #[arg(long)]
        no_live: bool,
        /// Compare with this git revision (default: the merge-base with the main branch).
        #[arg(long, value_name = "REV", conflicts_with = "no_base")]
        base: Option<String>,
        /// Check the head alone, without API and deploy compatibility.
        #[arg(long)]
        no_base: bool,
        #[command(flatten)]
        live: plumb::stages::LiveArgs,
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
            no_live,
            base,
            no_base,
            live,
        } => {
            let root = workspace.unwrap_or_else(workspace::this_workspace);
            let live = (!no_live).then(|| live.options());
            let base = match (base, no_base) {
                (_, true) => plumb_check::Base::None,
                (Some(rev), false) => plumb_check::Base::Rev(rev),
                (None, false) => plumb_check::Base::Default,
            };
            check_contract::run(&root, &base, live)
        }
        Task::Schemas { check, workspace } => {
            let root = workspace.unwrap_or_else(workspace::this_workspace);
            schemas_task(&root, check)
        }
        Task::Online(command) => plumb::online::run(command),
    }
}

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
            eprintln!("{}", drift.report());
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
