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
    /// Runs every stage: the API schemas against what the code generates, the static checks
    /// and the live stage. Exit 0 clean, 1 a check failed, 2 something could not be read or
    /// reached.
    CheckContract(plumb::contract::ContractArgs),
    /// On a fresh database (DATABASE_URL, else a throwaway cluster), applies the migrations the
    /// base has as history, then applies, reverts and applies again each new one, observing
    /// locks and rewrites.
    Live(plumb::stages::LiveCommand),
    /// Writes a migration in the form the rules ask for, which `plumb check` passes as
    /// written.
    #[command(subcommand)]
    New(plumb::scaffold::New),
    #[command(flatten)]
    Online(plumb::online::OnlineCommand),
}

/// See [`plumb::allocator`].
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    plumb::allocator::configure();
    match Cli::parse().command {
        Command::Check(args) => plumb::check::run(args),
        Command::Baseline(args) => plumb::check::run_baseline(args),
        Command::CheckContract(args) => {
            plumb::online::init_logging("warn");
            plumb::contract::run(args)
        }
        Command::Live(command) => {
            plumb::online::init_logging("warn");
            plumb::stages::run_live(command)
        }
        Command::New(new) => plumb::scaffold::run(new),
        Command::Online(command) => {
            plumb::online::init_logging("info");
            plumb::online::run(command)
        }
    }
}
