//! `cargo xtask check-contract`: `plumb check-contract` with this repository's schema
//! generator run in process (the contract crate), and its fix named as `cargo xtask schemas`.

use std::process::ExitCode;

use plumb::contract::{ContractArgs, InProcess, run_stages};

use crate::schemas;

pub fn run(args: ContractArgs) -> ExitCode {
    let root = args
        .path
        .clone()
        .unwrap_or_else(crate::workspace::this_workspace);
    let generate = schemas::wanted;
    let generator = InProcess {
        generate: &generate,
        fix: "run `cargo xtask schemas` to update them, then `cargo insta review`",
    };
    ExitCode::from(run_stages(&root, &args, Some(generator)))
}
