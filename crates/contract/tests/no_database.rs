//! The contract crate is read by API clients and the checker: no database crate may come in
//! with it.

use std::process::Command;

#[test]
fn no_database_crate_is_in_the_dependency_tree() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "--package",
            "plumb-contract",
            "--edges",
            "normal,build",
            "--prefix",
            "none",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    let tree = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(tree.starts_with("plumb-contract"), "{tree}");
    let database_crates: Vec<&str> = tree
        .lines()
        .filter(|line| {
            ["diesel", "pq-sys", "r2d2", "libpq", "postgres", "sqlx"]
                .iter()
                .any(|c| line.starts_with(c))
        })
        .collect();
    assert!(
        database_crates.is_empty(),
        "database crates in plumb-contract's tree: {database_crates:?}"
    );
}
