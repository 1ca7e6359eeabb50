//! No output of `plumb-server` holds the database password, whatever form `DATABASE_URL`
//! takes: URLs libpq cannot parse (it would quote them whole), and URLs it can, to a server
//! that is not there.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

use std::process::Command;

use plumb_pg::secret_urls::{forms, leaked};

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
