//! `cargo xtask <task>`: the project's own commands.

mod check_contract;
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
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.task {
        Task::CheckContract { workspace, no_live } => {
            let root = workspace.unwrap_or_else(workspace::this_workspace);
            check_contract::run(&root, !no_live)
        }
    }
}
