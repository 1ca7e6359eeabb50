//! Every schema of the contract, locked as a snapshot: a change to any API type shows as a
//! diff that a reviewer accepts with `cargo insta review`.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

use std::collections::BTreeSet;
use std::path::PathBuf;

use plumb_contract::openapi::ENDPOINTS;
use plumb_contract::{catalog, render, versions};

fn snapshot_name(file_name: &str) -> String {
    file_name.trim_end_matches(".json").replace('/', "__")
}

fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings
}

#[test]
fn every_schema_matches_its_reviewed_snapshot() {
    // Check them all before failing, so one run records every pending change for review.
    let mut changed = Vec::new();
    for entry in catalog() {
        let name = snapshot_name(&entry.file_name());
        let text = render(&entry.schema());
        let outcome = std::panic::catch_unwind(|| {
            settings().bind(|| insta::assert_snapshot!(name.clone(), text));
        });
        if outcome.is_err() {
            changed.push(entry.file_name());
        }
    }
    assert!(
        changed.is_empty(),
        "schemas changed, review them with `cargo insta review`: {changed:?}"
    );
}

#[test]
fn the_endpoints_match_their_reviewed_snapshot() {
    let mut lines = Vec::new();
    for version in versions() {
        for endpoint in ENDPOINTS {
            let body = endpoint
                .body
                .map(|b| format!(" body {b}"))
                .unwrap_or_default();
            let query = endpoint
                .query
                .map(|q| format!(" query {q}"))
                .unwrap_or_default();
            let errors: Vec<String> = endpoint.errors.iter().map(u16::to_string).collect();
            lines.push(format!(
                "{} /{version}{}{query}{body} -> {} {} | errors {}",
                endpoint.method.to_uppercase(),
                endpoint.path,
                endpoint.success.0,
                endpoint.success.1,
                errors.join(" ")
            ));
        }
    }
    settings().bind(|| insta::assert_snapshot!("endpoints", lines.join("\n")));
}

/// A snapshot no test asserts any more (a removed type) or one left pending (not reviewed)
/// fails here, so CI never passes with either.
#[test]
fn no_snapshot_is_unreferenced_or_pending() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let expected: BTreeSet<String> = catalog()
        .iter()
        .map(|entry| format!("{}.snap", snapshot_name(&entry.file_name())))
        .chain(["endpoints.snap".to_owned()])
        .collect();
    let mut unreferenced = Vec::new();
    let mut pending = Vec::new();
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
        Err(e) => panic!("cannot read {}: {e}", dir.display()),
    };
    for entry in entries {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".snap.new") || name.ends_with(".pending-snap") {
            pending.push(name);
        } else if !expected.contains(&name) {
            unreferenced.push(name);
        }
    }
    assert!(
        pending.is_empty(),
        "snapshots awaiting review (run `cargo insta review`): {pending:?}"
    );
    assert!(
        unreferenced.is_empty(),
        "snapshots no test uses (delete them): {unreferenced:?}"
    );
}
