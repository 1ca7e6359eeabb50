//! `cargo xtask check-contract`: one line per stage, then the exit code of the worst stage.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use plumb_online::verify::{LiveOptions, verify_migrations};
use plumb_online::{MigrationFolders, PgServer};

use crate::schemas;

/// Clean.
const CLEAN: u8 = 0;
/// A check found a problem.
const FAILED: u8 = 1;
/// Something could not be read or reached, so the checks could not run.
const UNREADABLE: u8 = 2;

pub fn run(root: &Path, base: &plumb_check::Base, live: Option<LiveOptions>) -> ExitCode {
    println!("check-contract: {}", root.display());
    let mut worst = schemas_stage(root);
    worst = worst.max(static_stage(root, base));
    if let Some(options) = live {
        worst = worst.max(live_stage(root, options));
    } else {
        println!("live: skipped (--no-live)");
    }
    ExitCode::from(worst)
}

/// The committed API schemas are what the contract crate generates.
fn schemas_stage(root: &Path) -> u8 {
    match schemas::check(root) {
        Ok(drift) if drift.is_clean() => {
            println!("schemas: ok, {} files up to date", drift.up_to_date);
            CLEAN
        }
        Ok(drift) => {
            eprintln!("{}", drift.report());
            println!("schemas: failed, {} files out of date", drift.out_of_date());
            FAILED
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            println!("schemas: could not run");
            UNREADABLE
        }
    }
}

/// Everything `plumb check` does: the migrations (family M), schema.rs and the models against
/// them (S), and the head against the base (A, D) with what changed since.
fn static_stage(root: &Path, base: &plumb_check::Base) -> u8 {
    use plumb_check::Severity;
    use plumb_check::report::summary_line;
    match plumb_check::check_workspace_against(root, None, base) {
        Ok(report) => {
            print!("{}", plumb_check::report::human_changes(&report));
            print_findings(&report);
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

/// Migrations apply, revert and apply again on a fresh database.
fn live_stage(root: &Path, options: LiveOptions) -> u8 {
    let started = Instant::now();
    let settings = match plumb_check::Settings::load(root) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("error: {error}");
            println!("live: could not run");
            return UNREADABLE;
        }
    };
    let folders = match MigrationFolders::read(&settings.migrations_dir) {
        Ok(folders) => folders,
        Err(error) => {
            eprintln!("error: {error}");
            println!("live: could not run");
            return UNREADABLE;
        }
    };
    let server = match PgServer::from_env() {
        Ok(server) => server,
        Err(error) => {
            eprintln!("error: {error}");
            println!("live: could not run");
            return UNREADABLE;
        }
    };
    let outcome = verify_migrations(&server, &folders, &settings, options);
    let elapsed = started.elapsed().as_secs_f64();
    match outcome {
        Ok(verification) => {
            for (table, why) in &verification.unseeded {
                eprintln!("note: live stage: {table} {why}");
            }
            if !verification.findings.is_empty() {
                let report = plumb_check::Report {
                    findings: verification.findings.clone(),
                    sources: Default::default(),
                    migrations: verification.migrations,
                    statements: 0,
                    schema: Default::default(),
                    base: None,
                    changes: Vec::new(),
                };
                print_findings(&report);
            }
            for line in &verification.confirmations {
                println!("  {line}");
            }
            let errors = verification
                .findings
                .iter()
                .filter(|f| f.severity == plumb_check::Severity::Error)
                .count();
            let warnings = verification.findings.len() - errors;
            match verification.failure {
                Some(failure) => {
                    let relative = failure
                        .file
                        .strip_prefix(root)
                        .unwrap_or(&failure.file)
                        .to_path_buf();
                    let shown = plumb_online::verify::MigrationFailure {
                        file: relative,
                        ..failure
                    };
                    eprintln!("error[live-migration-failed]: {shown}");
                    println!(
                        "live: failed, a migration does not apply or revert on a fresh database ({elapsed:.1}s)"
                    );
                    FAILED
                }
                None if errors > 0 => {
                    println!(
                        "live: failed, {errors} errors, {warnings} warnings on a fresh database ({}, {elapsed:.1}s)",
                        server.describe()
                    );
                    FAILED
                }
                None => {
                    println!(
                        "live: ok, {} migrations apply, revert to the same catalog and apply again on a fresh database, {warnings} warnings ({}, {elapsed:.1}s)",
                        verification.migrations,
                        server.describe()
                    );
                    CLEAN
                }
            }
        }
        Err(error) => {
            eprintln!("error: {error}");
            println!("live: could not run");
            UNREADABLE
        }
    }
}

/// Findings rustc-style on stderr; the stage's own line carries the summary.
fn print_findings(report: &plumb_check::Report) {
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none();
    eprint!("{}", plumb_check::report::human_findings(report, colour));
}
