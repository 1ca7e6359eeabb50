//! `cargo xtask rehearse`: the options, and the exit code from the rehearsal's outcome.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use plumb_rehearsal::walk::Way;

#[derive(Debug, clap::Args)]
pub struct RehearseArgs {
    /// Accounts seeded before the load starts.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(i64).range(1..))]
    rows: i64,
    /// Requests per second, over all clients.
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..))]
    rate: u64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4096))]
    clients: u64,
    /// How long each phase lasts at least, in seconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    phase_seconds: u64,
    /// Build the releases with the dev profile (faster to build; the figures are then not the
    /// benchmark's).
    #[arg(long)]
    dev: bool,
    /// Walk only the plumb way (what CI runs).
    #[arg(long)]
    plumb_only: bool,
    /// Where the releases, logs, report and chart go (default: target/rehearsal).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

pub fn run(args: RehearseArgs) -> ExitCode {
    let root = crate::workspace::this_workspace();
    let options = plumb_rehearsal::Options {
        out: args.out.unwrap_or_else(|| root.join("target/rehearsal")),
        root,
        rows: args.rows,
        rate: args.rate,
        clients: usize::try_from(args.clients).unwrap_or(64),
        phase: Duration::from_secs(args.phase_seconds),
        release_build: !args.dev,
        ways: if args.plumb_only {
            vec![Way::Plumb]
        } else {
            vec![Way::Plumb, Way::Naive]
        },
    };
    match plumb_rehearsal::rehearse(&options) {
        Ok(rehearsal) => {
            println!("{}", rehearsal.report);
            println!(
                "report: {}\nchart: {}",
                rehearsal.report_path.display(),
                rehearsal.chart_path.display()
            );
            if rehearsal.plumb_path_is_clean() {
                ExitCode::SUCCESS
            } else {
                for walk in rehearsal.walks.iter().filter(|w| w.way == Way::Plumb) {
                    for failure in &walk.recorded.failures {
                        eprintln!("plumb path: failed request: {failure}");
                    }
                    for lost in &walk.lost {
                        eprintln!("plumb path: lost write: {lost}");
                    }
                }
                eprintln!("error: the plumb path failed requests or lost writes");
                ExitCode::from(1)
            }
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}
