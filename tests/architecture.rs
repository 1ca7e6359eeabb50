//! The arrows between the workspace's crates point one way (docs/architecture.md). A new arrow
//! is a decision: it is written down here and in that page, or the test fails.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

/// Each crate and the workspace crates it may depend on (normal and build dependencies).
const ARROWS: &[(&str, &[&str])] = &[
    ("plumb-contract", &[]),
    ("plumb-migrations", &[]),
    ("plumb-schema-rs", &[]),
    ("plumb-model", &["plumb-schema-rs"]),
    ("plumb-check", &["plumb-migrations", "plumb-schema-rs"]),
    ("plumb-pg", &["plumb-migrations"]),
    ("plumb-live", &["plumb-check", "plumb-pg"]),
    ("plumb-online", &["plumb-check", "plumb-pg"]),
    (
        "plumb-server",
        &["plumb-contract", "plumb-model", "plumb-pg"],
    ),
    (
        "plumb",
        &["plumb-check", "plumb-live", "plumb-online", "plumb-pg"],
    ),
    (
        "plumb-rehearsal",
        &["plumb", "plumb-check", "plumb-online", "plumb-pg"],
    ),
    (
        "xtask",
        &[
            "plumb",
            "plumb-check",
            "plumb-contract",
            "plumb-live",
            "plumb-pg",
            "plumb-rehearsal",
        ],
    ),
    ("plumb-tests", &[]),
];

/// Every workspace package: its dependencies as (name, kind), kind "normal", "dev" or "build".
fn workspace() -> BTreeMap<String, Vec<(String, String)>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--offline",
            "--format-version",
            "1",
            "--no-deps",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("cargo metadata is JSON");
    let packages = metadata["packages"].as_array().expect("a package list");
    packages
        .iter()
        .map(|package| {
            let deps = package["dependencies"]
                .as_array()
                .expect("a dependency list")
                .iter()
                .map(|dep| {
                    let kind = dep["kind"].as_str().unwrap_or("normal").to_owned();
                    (dep["name"].as_str().unwrap_or_default().to_owned(), kind)
                })
                .collect();
            (
                package["name"].as_str().unwrap_or_default().to_owned(),
                deps,
            )
        })
        .collect()
}

/// The workspace crates `start` builds with, through `kinds` of dependency at its own level
/// and normal and build dependencies below it (a dependency's dev-dependencies are not built).
fn reaches(
    packages: &BTreeMap<String, Vec<(String, String)>>,
    start: &str,
    kinds: &[&str],
) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<(String, &[&str])> = vec![(start.to_owned(), kinds)];
    while let Some((name, kinds)) = todo.pop() {
        for (dep, kind) in packages.get(&name).into_iter().flatten() {
            if packages.contains_key(dep)
                && kinds.contains(&kind.as_str())
                && seen.insert(dep.clone())
            {
                todo.push((dep.clone(), &["normal", "build"]));
            }
        }
    }
    seen
}

#[test]
fn every_crate_depends_only_on_the_crates_its_arrows_allow() {
    let packages = workspace();
    let allowed: BTreeMap<&str, &[&str]> = ARROWS.iter().copied().collect();
    for name in packages.keys() {
        let Some(allowed) = allowed.get(name.as_str()) else {
            panic!("{name} is a new crate: give it its arrows in ARROWS and docs/architecture.md");
        };
        let direct: BTreeSet<&str> = packages[name]
            .iter()
            .filter(|(dep, kind)| packages.contains_key(dep) && kind != "dev")
            .map(|(dep, _)| dep.as_str())
            .collect();
        let forbidden: Vec<&&str> = direct.iter().filter(|d| !allowed.contains(d)).collect();
        assert!(
            forbidden.is_empty(),
            "{name} depends on {forbidden:?}, which its arrows do not allow"
        );
    }
}

#[test]
fn the_model_and_service_tests_do_not_compile_the_checker_or_the_operations() {
    let packages = workspace();
    for name in ["plumb-model", "plumb-server", "plumb-pg"] {
        let built = reaches(&packages, name, &["normal", "build", "dev"]);
        for heavy in ["plumb-check", "plumb-live", "plumb-online"] {
            assert!(
                !built.contains(heavy),
                "{name} (with its tests) now builds {heavy}: {built:?}"
            );
        }
    }
}

/// Crates that link or speak to PostgreSQL.
const DATABASE_CRATES: &[&str] = &["diesel", "diesel_migrations", "pq-sys", "r2d2", "postgres"];

#[test]
fn the_checker_and_the_contract_know_no_database() {
    let packages = workspace();
    for name in [
        "plumb-check",
        "plumb-contract",
        "plumb-migrations",
        "plumb-schema-rs",
    ] {
        let built = reaches(&packages, name, &["normal", "build"]);
        for database in ["plumb-pg", "plumb-model", "plumb-live", "plumb-online"] {
            assert!(
                !built.contains(database),
                "{name} now builds {database}: {built:?}"
            );
        }
        let direct: Vec<&String> = packages[name]
            .iter()
            .filter(|(_, kind)| kind != "dev")
            .map(|(dep, _)| dep)
            // diesel_table_macro_syntax is only the syntax of `table!`, read with syn.
            .filter(|dep| DATABASE_CRATES.contains(&dep.as_str()))
            .collect();
        assert!(direct.is_empty(), "{name} depends on {direct:?}");
    }
}
