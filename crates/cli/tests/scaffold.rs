//! `plumb new index` writes a migration that `plumb check` passes as written.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

use std::fs;
use std::path::Path;

mod common;

fn plumb(root: &Path, args: &[&str]) -> (i32, String, String) {
    common::run(common::plumb().args(args).current_dir(root))
}

/// `plumb check` passes the workspace with no finding at all.
fn assert_checks_clean(root: &Path, settings: &str) {
    let (code, stdout, stderr) = plumb(root, &["check", "--no-base", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(code, 0, "{settings}: {stdout}{stderr}");
    assert_eq!(
        report["findings"].as_array().unwrap().len(),
        0,
        "{settings}: {stdout}"
    );
}

/// A workspace with one table in use, and `plumb_toml` as its settings.
fn workspace(plumb_toml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let migration = dir.path().join("migrations/2026-01-01-000000-0000_items");
    fs::create_dir_all(&migration).unwrap();
    fs::write(
        migration.join("up.sql"),
        "CREATE TABLE items (id bigint PRIMARY KEY, sku text NOT NULL, shelf integer);\n",
    )
    .unwrap();
    fs::write(migration.join("down.sql"), "DROP TABLE items;\n").unwrap();
    fs::write(dir.path().join("plumb.toml"), plumb_toml).unwrap();
    dir
}

#[test]
fn a_scaffolded_index_passes_the_checks_whoever_applies_it() {
    for settings in ["", "[lock]\napplied-by = \"plumb\"\n"] {
        let dir = workspace(settings);
        let (code, stdout, stderr) =
            plumb(dir.path(), &["new", "index", "items.sku,shelf", "--unique"]);
        assert_eq!(code, 0, "{stdout}{stderr}");
        let folder = stdout.trim().strip_prefix("wrote ").unwrap().to_owned();
        let up = fs::read_to_string(dir.path().join(&folder).join("up.sql")).unwrap();
        assert!(
            up.contains("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS items_sku_shelf_key ON items (sku, shelf);"),
            "{up}"
        );
        assert_checks_clean(dir.path(), settings);
    }
}

#[test]
fn a_target_that_is_not_table_dot_column_is_refused_with_exit_2() {
    let dir = workspace("");
    let (code, _, stderr) = plumb(dir.path(), &["new", "index", "items"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("is not `table.column`"), "{stderr}");
    let (code, _, stderr) = plumb(dir.path(), &["new", "index", "items.sku; DROP TABLE items"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("is not a plain SQL name"), "{stderr}");
    assert_eq!(
        fs::read_dir(dir.path().join("migrations")).unwrap().count(),
        1,
        "nothing written"
    );
}

#[test]
fn a_scaffolded_not_null_passes_the_checks_whoever_applies_it() {
    for settings in ["", "[lock]\napplied-by = \"plumb\"\n"] {
        let dir = workspace(settings);
        let (code, stdout, stderr) = plumb(dir.path(), &["new", "not-null", "items.shelf"]);
        assert_eq!(code, 0, "{stdout}{stderr}");
        let folders: Vec<&str> = stdout
            .lines()
            .filter_map(|l| l.strip_prefix("wrote "))
            .collect();
        assert_eq!(folders.len(), 3, "{stdout}");
        // In the order they must run: the check, its validation, SET NOT NULL.
        let mut sorted = folders.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, folders);
        let last = fs::read_to_string(dir.path().join(folders[2]).join("up.sql")).unwrap();
        assert!(
            last.contains("ALTER TABLE items ALTER COLUMN shelf SET NOT NULL;\nALTER TABLE items DROP CONSTRAINT items_shelf_not_null;"),
            "{last}"
        );
        assert_checks_clean(dir.path(), settings);
    }
}

#[test]
fn scaffolds_written_in_one_second_get_versions_of_their_own() {
    let dir = workspace("");
    let mut versions = Vec::new();
    for args in [
        &["new", "index", "items.sku"][..],
        &["new", "not-null", "items.shelf"],
        &["new", "index", "items.shelf"],
    ] {
        let (code, stdout, stderr) = plumb(dir.path(), args);
        assert_eq!(code, 0, "{stdout}{stderr}");
        versions.extend(stdout.lines().filter_map(|l| {
            let folder = Path::new(l.strip_prefix("wrote ")?).file_name()?.to_str()?;
            Some(folder.split('_').next()?.to_owned())
        }));
    }
    assert_eq!(versions.len(), 5);
    let mut distinct = versions.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        versions.len(),
        "diesel's versions: {versions:?}"
    );
}
