//! `plumb new column|index|not-null` write migrations, and the schema.rs and registry lines
//! that go with them, that `plumb check` passes as written.
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

const SCHEMA_RS: &str = "// @generated automatically by Diesel CLI.\n\ndiesel::table! {\n    items (id) {\n        id -> Int8,\n        sku -> Text,\n        shelf -> Nullable<Int4>,\n    }\n}\n";

const REGISTRY: &str = "\n# Every column of items.\n[columns.items]\nid = \"internal\"\nsku = \"internal\"\nshelf = \"internal\"\n";

/// [`workspace`] with diesel.toml, the schema.rs print-schema writes for it, and a column
/// registry: families S and C on.
fn full_workspace(plumb_toml: &str) -> tempfile::TempDir {
    let dir = workspace(&format!("{plumb_toml}{REGISTRY}"));
    fs::write(
        dir.path().join("diesel.toml"),
        "[print_schema]\nfile = \"src/schema.rs\"\n",
    )
    .unwrap();
    fs::create_dir_all(dir.path().join("src")).unwrap();
    fs::write(dir.path().join("src/schema.rs"), SCHEMA_RS).unwrap();
    dir
}

/// Every file of the workspace and its text: to show that a refusal wrote nothing.
fn snapshot(root: &Path) -> Vec<(std::path::PathBuf, String)> {
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push((path.clone(), fs::read_to_string(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn a_scaffolded_column_passes_the_checks_with_its_schema_rs_line_and_registry_entry() {
    for settings in ["", "[lock]\napplied-by = \"plumb\"\n"] {
        let dir = full_workspace(settings);
        for args in [
            &["new", "column", "items.label", "varchar(40)", "--internal"][..],
            &[
                "new",
                "column",
                "items.rank",
                "bigint",
                "--default",
                "0",
                "--not-null",
                "--sensitive",
            ],
        ] {
            let (code, stdout, stderr) = plumb(dir.path(), args);
            assert_eq!(code, 0, "{args:?}: {stdout}{stderr}");
            assert_eq!(
                stdout.lines().count(),
                3,
                "migration, schema.rs, plumb.toml: {stdout}"
            );
        }
        let schema = fs::read_to_string(dir.path().join("src/schema.rs")).unwrap();
        assert!(
            schema.contains(
                "        shelf -> Nullable<Int4>,\n        #[max_length = 40]\n        label -> Nullable<Varchar>,\n        rank -> Int8,\n    }"
            ),
            "{schema}"
        );
        let registry = fs::read_to_string(dir.path().join("plumb.toml")).unwrap();
        assert!(
            registry.contains("label = \"internal\"\nrank = \"sensitive\"\n"),
            "{registry}"
        );
        assert_checks_clean(dir.path(), settings);
    }
}

#[test]
fn a_column_scaffold_the_checks_would_refuse_writes_nothing() {
    let dir = full_workspace("");
    let before = snapshot(dir.path());
    for (args, says) in [
        (
            &[
                "new",
                "column",
                "items.made",
                "timestamptz",
                "--default",
                "clock_timestamp()",
                "--internal",
            ][..],
            "add-column-rewrite",
        ),
        (
            &["new", "column", "items.label", "text"],
            "--expose Type.field, --internal or --sensitive",
        ),
        (
            &["new", "column", "items.shelf", "text", "--internal"],
            "items.shelf already exists",
        ),
        (
            &["new", "column", "nowhere.label", "text", "--internal"],
            "no table nowhere",
        ),
        (
            &[
                "new",
                "column",
                "items.label",
                "text; DROP TABLE items",
                "--internal",
            ],
            "not one SQL expression",
        ),
        (
            &[
                "new",
                "column",
                "items.label",
                "text, ADD COLUMN other int",
                "--internal",
            ],
            "would change more than the column items.label",
        ),
        (
            &["new", "column", "items.type", "text", "--internal"],
            "not `table.column` with plain SQL names",
        ),
        (
            &[
                "new",
                "column",
                "items.label",
                "text",
                "--expose",
                "Item.label",
            ],
            "no API schema",
        ),
    ] {
        let (code, stdout, stderr) = plumb(dir.path(), args);
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert_eq!(snapshot(dir.path()), before, "{args:?} wrote something");
    }
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
fn an_index_on_a_partitioned_table_is_built_partition_by_partition_and_passes_the_checks() {
    for settings in ["", "[lock]\napplied-by = \"plumb\"\n"] {
        let dir = workspace(settings);
        let events = dir.path().join("migrations/2026-01-02-000000-0000_events");
        fs::create_dir_all(&events).unwrap();
        fs::write(
            events.join("up.sql"),
            "CREATE TABLE events (id bigint NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);\n\
             CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');\n\
             CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');\n",
        )
        .unwrap();
        fs::write(events.join("down.sql"), "DROP TABLE events;\n").unwrap();
        let (code, stdout, stderr) = plumb(dir.path(), &["new", "index", "events.at"]);
        assert_eq!(code, 0, "{stdout}{stderr}");
        let folders: Vec<&str> = stdout
            .lines()
            .filter_map(|l| l.strip_prefix("wrote "))
            .collect();
        // On the table alone, one per partition, then the attaching.
        assert_eq!(folders.len(), 4, "{stdout}");
        let read =
            |folder: &str| fs::read_to_string(dir.path().join(folder).join("up.sql")).unwrap();
        assert!(
            read(folders[0])
                .contains("CREATE INDEX IF NOT EXISTS events_at_idx ON ONLY events (at);")
        );
        assert!(read(folders[1]).contains(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2026_at_idx ON events_2026 (at);"
        ));
        assert!(
            read(folders[3])
                .contains("ALTER INDEX events_at_idx ATTACH PARTITION events_2027_at_idx;")
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
        let dir = full_workspace(settings);
        let (code, stdout, stderr) = plumb(dir.path(), &["new", "not-null", "items.shelf"]);
        assert_eq!(code, 0, "{stdout}{stderr}");
        let folders: Vec<&str> = stdout
            .lines()
            .filter_map(|l| l.strip_prefix("wrote "))
            .filter(|l| l.contains("migrations"))
            .collect();
        assert_eq!(folders.len(), 3, "{stdout}");
        // In the order they must run: the check, its validation, SET NOT NULL; each once only
        // code that writes the column serves.
        let mut sorted = folders.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, folders);
        for folder in &folders {
            let up = fs::read_to_string(dir.path().join(folder).join("up.sql")).unwrap();
            assert!(up.starts_with("-- plumb: post-deploy\n"), "{up}");
        }
        let last = fs::read_to_string(dir.path().join(folders[2]).join("up.sql")).unwrap();
        assert!(
            last.contains("ALTER TABLE items ALTER COLUMN shelf SET NOT NULL;\nALTER TABLE items DROP CONSTRAINT items_shelf_not_null;"),
            "{last}"
        );
        let schema = fs::read_to_string(dir.path().join("src/schema.rs")).unwrap();
        assert!(schema.contains("        shelf -> Int4,\n"), "{schema}");
        assert_checks_clean(dir.path(), settings);

        let before = snapshot(dir.path());
        let (code, _, stderr) = plumb(dir.path(), &["new", "not-null", "items.shelf"]);
        assert_eq!(code, 2);
        assert!(stderr.contains("already NOT NULL"), "{stderr}");
        assert_eq!(snapshot(dir.path()), before);
    }
}

#[test]
fn a_scaffold_comes_after_a_migration_dated_ahead_of_the_clock() {
    let dir = workspace("");
    let ahead = dir.path().join("migrations/2099-01-01-000000-0000_ahead");
    fs::create_dir_all(&ahead).unwrap();
    fs::write(ahead.join("up.sql"), "SELECT 1;\n").unwrap();
    fs::write(ahead.join("down.sql"), "SELECT 1;\n").unwrap();
    let (code, stdout, stderr) = plumb(dir.path(), &["new", "index", "items.sku"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("migrations/2099-01-01-000001-0000_index_items_sku"),
        "{stdout}"
    );
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
