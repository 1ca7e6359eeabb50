//! Suppressions in SQL comments and settings in plumb.toml.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

mod common;

use common::{M, check, codes, human, workspace};
use plumb_check::{Severity, check_workspace};

const ADD_INDEX: &str = "SET lock_timeout = '20ms';\n-- plumb: allow index-not-concurrent the table holds 40 rows, the build takes a millisecond\nCREATE INDEX accounts_note_idx ON accounts (note);\n";

#[test]
fn a_suppression_with_a_reason_silences_its_rule_on_the_next_statement_only() {
    let report = check(&[M(
        "index",
        &format!("{ADD_INDEX}CREATE INDEX accounts_amount_idx ON accounts (amount);\n"),
        None,
    )]);
    assert_eq!(codes(&report), ["M004"], "{}", human(&report));
    assert_eq!(report.findings[0].span.line, 4);
    let by_code = check(&[M(
        "index",
        &ADD_INDEX.replace("index-not-concurrent", "M004"),
        None,
    )]);
    assert!(codes(&by_code).is_empty(), "{}", human(&by_code));
}

#[test]
fn suppressions_that_are_unused_unknown_or_unexplained_are_reported() {
    let report = check(&[M(
        "suppressions",
        "SET lock_timeout = '20ms';\n\
         -- plumb: allow rename-column nothing is renamed here\n\
         ALTER TABLE accounts ADD COLUMN a text;\n\
         -- plumb: allow no-such-rule because\n\
         ALTER TABLE accounts ADD COLUMN b text;\n\
         -- plumb: allow index-not-concurrent\n\
         CREATE INDEX accounts_note_idx ON accounts (note);\n",
        None,
    )]);
    assert_eq!(
        codes(&report),
        ["M901", "M902", "M902", "M004"],
        "{}",
        human(&report)
    );
    insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("suppressions", human(&report));
    });
}

fn with_plumb_toml(toml: &str) -> tempfile::TempDir {
    let dir = workspace(&[
        M("update", "UPDATE accounts SET note = 'x';\n", None),
        M(
            "index",
            "SET lock_timeout = '20ms';\nCREATE INDEX accounts_note_idx ON accounts (note);\n",
            None,
        ),
    ]);
    std::fs::write(dir.path().join("plumb.toml"), toml).unwrap();
    dir
}

#[test]
fn rules_can_be_made_warnings_notes_or_off() {
    let dir = with_plumb_toml("[rules]\nunbatched-update = \"warning\"\nM004 = \"off\"\n");
    let report = check_workspace(dir.path(), None).unwrap();
    assert_eq!(codes(&report), ["M014"]);
    assert_eq!(report.findings[0].severity, Severity::Warning);
}

#[test]
fn excluded_paths_and_old_migrations_are_replayed_but_not_checked() {
    let excluded = with_plumb_toml("[check]\nexclude = [\"migrations/*_update\"]\n");
    assert_eq!(
        codes(&check_workspace(excluded.path(), None).unwrap()),
        ["M004"]
    );
    let skipped = with_plumb_toml("[check]\nskip-before = \"202602020000000000\"\n");
    let report = check_workspace(skipped.path(), None).unwrap();
    assert_eq!(codes(&report), ["M004"], "{}", human(&report));
    // The skipped history still builds the schema the later migrations are checked against.
    assert!(report.schema.tables.contains_key("accounts"));
}

#[test]
fn diesel_toml_and_plumb_toml_name_the_migrations_directory() {
    let dir = workspace(&[]);
    std::fs::rename(dir.path().join("migrations"), dir.path().join("db")).unwrap();
    assert!(
        check_workspace(dir.path(), None).is_err(),
        "no migrations/ and no setting"
    );
    std::fs::write(
        dir.path().join("diesel.toml"),
        "[migrations_directory]\ndir = \"db\"\n",
    )
    .unwrap();
    assert_eq!(check_workspace(dir.path(), None).unwrap().migrations, 1);
    std::fs::write(
        dir.path().join("plumb.toml"),
        "[check]\nmigrations = \"db\"\npg-version = 16\n",
    )
    .unwrap();
    assert_eq!(check_workspace(dir.path(), None).unwrap().migrations, 1);
}

#[test]
fn bad_settings_are_input_errors_naming_the_file() {
    for (toml, expected) in [
        (
            "[rules]\nno-such-rule = \"off\"\n",
            "[rules] names no rule \"no-such-rule\"",
        ),
        (
            "[rules]\nunbatched-update = \"loud\"\n",
            "expected error, warning, note or off",
        ),
        ("[check]\npg-versoin = 15\n", "unknown field `pg-versoin`"),
        ("[check\n", "plumb.toml"),
        // A mistyped path would switch checks off while the report said "0 errors".
        (
            "[check]\nschema-rs = \"src/shema.rs\"\n",
            "[check] schema-rs = \"src/shema.rs\": no such file",
        ),
        (
            "[check]\nmodels = \"src/modles\"\n",
            "[check] models = \"src/modles\": no such directory",
        ),
        (
            "[check]\napi-schemas = \"schema\"\n",
            "[check] api-schemas = \"schema\": no such directory",
        ),
        (
            "[check]\ncode = [\"src/handlers\"]\n",
            "[check] code = \"src/handlers\": no such directory",
        ),
    ] {
        let dir = with_plumb_toml(toml);
        let error = check_workspace(dir.path(), None).unwrap_err().to_string();
        assert!(
            error.contains("plumb.toml") && error.contains(expected),
            "{error}"
        );
    }
}

#[test]
fn folders_with_and_without_the_subversion_run_in_diesels_order() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "2026-01-02-000000_c",
        "2026-01-01-000000-0001_b",
        "2026-01-01-000000_a",
        ".hidden",
    ] {
        let folder = dir.path().join("migrations").join(name);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("up.sql"), "SELECT 1;\n").unwrap();
    }
    let migrations = plumb_check::read_migrations(&dir.path().join("migrations")).unwrap();
    let names: Vec<&str> = migrations.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "2026-01-01-000000_a",
            "2026-01-01-000000-0001_b",
            "2026-01-02-000000_c"
        ]
    );
    assert_eq!(migrations[1].version, "202601010000000001");
}

#[test]
fn a_schema_rs_diesel_toml_names_must_exist() {
    let dir = with_plumb_toml("");
    std::fs::write(
        dir.path().join("diesel.toml"),
        "[print_schema]\nfile = \"src/schema.rs\"\n",
    )
    .unwrap();
    let error = check_workspace(dir.path(), None).unwrap_err().to_string();
    assert!(
        error.contains("diesel.toml")
            && error.contains("[print_schema] file = \"src/schema.rs\": no such file"),
        "{error}"
    );
}

#[test]
fn an_unknown_key_in_metadata_toml_is_an_error_naming_the_key_diesel_expects() {
    let dir = with_plumb_toml("");
    let folder = std::fs::read_dir(dir.path().join("migrations"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::write(folder.join("metadata.toml"), "run_in_transactoin = false\n").unwrap();
    let error = check_workspace(dir.path(), None).unwrap_err().to_string();
    assert!(
        error.contains("metadata.toml")
            && error.contains("run_in_transactoin")
            && error.contains("run_in_transaction"),
        "{error}"
    );
}

#[test]
fn diesel_guard_blocks_and_squawk_ignores_suppress_and_are_counted() {
    let report = check(&[M(
        "adopted",
        "SET lock_timeout = '20ms';\n\
         -- safety-assured:start\n\
         -- checked by hand: the table holds 40 rows\n\
         CREATE INDEX accounts_note_idx ON accounts (note);\n\
         ALTER TABLE accounts ALTER COLUMN note SET NOT NULL;\n\
         -- safety-assured:end\n\
         -- squawk-ignore require-concurrent-index-creation, prefer-robust-stmts\n\
         CREATE INDEX accounts_amount_idx ON accounts (amount);\n\
         -- squawk-ignore renaming-column\n\
         CREATE INDEX accounts_id_idx ON accounts (id);\n",
        None,
    )]);
    // The squawk rule names a different check than the statement fails: it still fires, and
    // a marker of another tool is never itself reported as unused.
    assert_eq!(codes(&report), ["M004"], "{}", human(&report));
    assert_eq!(report.findings[0].span.line, 10);
    let by: Vec<(&str, &str)> = report
        .suppressed
        .iter()
        .map(|s| (s.finding.code, s.origin.as_str()))
        .collect();
    assert_eq!(
        by,
        [
            ("M004", "diesel-guard safety-assured"),
            ("M003", "diesel-guard safety-assured"),
            ("M004", "squawk-ignore"),
        ]
    );
    assert!(
        human(&report).contains("suppressed: 3 finding(s)"),
        "{}",
        human(&report)
    );
}

#[test]
fn squawk_ignore_file_covers_the_whole_file() {
    let report = check(&[M(
        "ignored",
        "-- squawk-ignore-file\nSET lock_timeout = '20ms';\nCREATE INDEX accounts_note_idx ON accounts (note);\nCREATE INDEX accounts_amount_idx ON accounts (amount);\n",
        None,
    )]);
    assert_eq!(codes(&report), Vec::<&str>::new(), "{}", human(&report));
    assert_eq!(report.suppressed.len(), 2);
}
