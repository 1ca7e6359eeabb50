//! `plumb`: check a workspace's schema changes, and run them against a live database.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "plumb",
    version,
    about = "Ship PostgreSQL schema changes with zero downtime"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Checks every migration against the schema the earlier ones build.
    Check(plumb::check::CheckArgs),
    /// Records today's findings in plumb-baseline.json, so that `plumb check` fails only on
    /// new ones.
    Baseline(plumb::check::BaselineArgs),
    /// Applies, reverts and applies again every migration on a fresh database, observing locks
    /// and rewrites (DATABASE_URL, else a throwaway cluster).
    Live(plumb::stages::LiveCommand),
    #[command(flatten)]
    Online(plumb::online::OnlineCommand),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Check(args) => plumb::check::run(args),
        Command::Baseline(args) => plumb::check::run_baseline(args),
        Command::Live(command) => {
            plumb::online::init_logging("warn");
            plumb::stages::run_live(command)
        }
        Command::Online(command) => {
            plumb::online::init_logging("info");
            plumb::online::run(command)
        }
    }
}
