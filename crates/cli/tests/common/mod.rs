//! Running the `plumb` binary from a test.
#![allow(dead_code)] // each test binary uses its own part of these helpers

use std::process::Command;

/// The binary, without colour and without a `DATABASE_URL` from the caller's environment.
pub fn plumb() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_plumb"));
    command.env("NO_COLOR", "1").env_remove("DATABASE_URL");
    command
}

/// Runs `command`: its exit code (-1 when a signal ended it), stdout and stderr.
pub fn run(command: &mut Command) -> (i32, String, String) {
    let output = command.output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
