//! `cargo xtask check-contract`: this repository's schemas stage, then plumb's own static and
//! live stages; one line per stage, then the exit code of the worst stage.

use std::path::Path;
use std::process::ExitCode;

use plumb::stages::{CLEAN, FAILED, UNREADABLE, live_stage, static_stage};
use plumb_live::LiveOptions;

use crate::schemas;

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
