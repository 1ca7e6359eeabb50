#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly
#![allow(dead_code)] // each test binary uses its own part of these helpers

use std::fs;
use std::path::Path;

use plumb_check::report::{Format, render};
use plumb_check::{Report, check_workspace};

/// The history every case starts from: one existing table with an index.
pub const BASE: &str = "CREATE TABLE accounts (
    id bigint PRIMARY KEY,
    email varchar(100) NOT NULL,
    note text,
    amount numeric(10, 2)
);
CREATE INDEX accounts_email_idx ON accounts (email);
";

/// A migration of a case: folder suffix, up.sql, and optional metadata.toml.
pub struct M<'a>(pub &'a str, pub &'a str, pub Option<&'a str>);

pub fn workspace(migrations: &[M<'_>]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "2026-01-01-000000-0000_base", BASE, None);
    for (n, M(name, up, metadata)) in migrations.iter().enumerate() {
        write(
            dir.path(),
            &format!("2026-02-{:02}-000000-0000_{name}", n + 1),
            up,
            *metadata,
        );
    }
    dir
}

fn write(root: &Path, folder: &str, up: &str, metadata: Option<&str>) {
    let dir = root.join("migrations").join(folder);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("up.sql"), up).unwrap();
    fs::write(dir.join("down.sql"), "SELECT 1;\n").unwrap();
    if let Some(metadata) = metadata {
        fs::write(dir.join("metadata.toml"), metadata).unwrap();
    }
}

pub fn check(migrations: &[M<'_>]) -> Report {
    let dir = workspace(migrations);
    check_workspace(dir.path(), None).unwrap()
}

pub fn codes(report: &Report) -> Vec<&'static str> {
    report.findings.iter().map(|f| f.code).collect()
}

pub fn human(report: &Report) -> String {
    render(report, Format::Human, false)
}
