//! No output of `plumb-server` holds the database password, whatever form `DATABASE_URL`
//! takes: URLs libpq cannot parse (it would quote them whole), and URLs it can, to a server
//! that is not there.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

use std::process::Command;

const PASSWORD: &str = "s3cr3t-Pw";

/// Each form, with the password in it.
fn forms() -> Vec<String> {
    vec![
        format!("mysql://app:{PASSWORD}@db.internal/accounts"),
        format!("postgres://app:{PASSWORD}@[::1/accounts"),
        format!("postgres:/app:{PASSWORD}@localhost/accounts"),
        // A `/` inside the password, not encoded: a URL parser reads `app:s3cr3t-Pw/x` as a
        // host and a port.
        format!("postgres://app:{PASSWORD}/x@localhost/accounts"),
        format!("postgres://app:{PASSWORD}@127.0.0.1:1/accounts"),
        format!("postgresql://app:{}%2Fx@127.0.0.1:1/accounts", PASSWORD),
    ]
}

/// The password and each piece of it a parser may cut out (at `/`, `:`, `@`).
fn leaked(output: &str) -> bool {
    output.contains(PASSWORD) || output.contains("s3cr3t") || output.contains("-Pw")
}

#[test]
fn no_form_of_database_url_shows_its_password() {
    for url in forms() {
        let mut command = Command::new(env!("CARGO_BIN_EXE_plumb-server"));
        for (name, _) in std::env::vars() {
            if name.starts_with("PLUMB_") || name == "DATABASE_URL" {
                command.env_remove(name);
            }
        }
        let output = command
            .env("DATABASE_URL", &url)
            .env("PLUMB_BIND", "127.0.0.1:0")
            .env("PLUMB_POOL_TIMEOUT_MS", "300")
            .env("RUST_LOG", "debug")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(output.status.code(), Some(2), "{url}: {text}");
        assert!(!leaked(&text), "{url}: {text}");
        assert!(
            text.contains("DATABASE_URL") || text.contains("127.0.0.1"),
            "{url}: {text}"
        );
    }
}
