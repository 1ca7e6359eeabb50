//! No output of any `plumb` command that connects holds the database password, whatever form
//! `DATABASE_URL` takes: URLs libpq cannot parse (it would quote them whole), and URLs it can,
//! to a server that is not there.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

use std::path::PathBuf;
use std::process::Command;

use plumb_pg::secret_urls::{forms, leaked};

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn no_command_shows_the_password_of_any_form_of_database_url() {
    let root = repository();
    let root = root.to_str().unwrap();
    let commands: [&[&str]; 6] = [
        &["migrate", "--workspace", root],
        &["live", root, "--no-base"],
        &["check-contract", root, "--no-base"],
        &["not-null", "accounts.email", "--workspace", root],
        &[
            "backfill",
            "--table",
            "accounts",
            "--column",
            "display_name",
            "--set",
            "email",
        ],
        &["migrate", "--workspace", root, "--format", "json"],
    ];
    for url in forms() {
        for args in commands {
            let output = Command::new(env!("CARGO_BIN_EXE_plumb"))
                .args(args)
                .env("DATABASE_URL", &url)
                .env("RUST_LOG", "debug")
                .output()
                .unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            // Refused (2) or unreachable (1, as the online commands say): never a success.
            assert!(
                matches!(output.status.code(), Some(1 | 2)),
                "{args:?} {url}: {text}"
            );
            assert!(!leaked(&text), "{args:?} {url}: {text}");
        }
    }
}
