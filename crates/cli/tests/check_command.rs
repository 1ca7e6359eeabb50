//! `plumb check`'s exit codes and paths, through the binary.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

use std::process::Command;

use serde_json::Value;

mod common;

fn plumb(args: &[&str]) -> (i32, String, String) {
    common::run(common::plumb().args(args))
}

/// A workspace whose migrations are one table, then `up` if given.
fn workspace(up: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, sql: &str| {
        let folder = dir.path().join("migrations").join(name);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("up.sql"), sql).unwrap();
        std::fs::write(folder.join("down.sql"), "SELECT 1;\n").unwrap();
    };
    write(
        "2026-01-01-000000-0000_base",
        "CREATE TABLE accounts (id bigint PRIMARY KEY, note text);\nCREATE INDEX accounts_note_idx ON accounts (note);\n",
    );
    if let Some(up) = up {
        write("2026-02-01-000000-0000_change", up);
    }
    dir
}

fn path(dir: &tempfile::TempDir) -> &str {
    dir.path().to_str().unwrap()
}

#[test]
fn exit_codes_say_clean_findings_or_unreadable() {
    let clean = workspace(None);
    let (code, stdout, _) = plumb(&["check", path(&clean)]);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(code, 0);
    let read = "read: 1 migrations (2 statements, 0 not modelled), schema files: none (family S off), no model structs, API schemas: none (families C and A off)";
    assert_eq!(
        lines,
        [
            read,
            "",
            format!(
                "base: none ({} is not in a git repository); API and deploy checks skipped",
                path(&clean)
            )
            .as_str(),
            "1 migrations, 2 statements: 0 errors, 0 warnings, 0 notes"
        ],
        "outside git the base checks are skipped with one line, after what was read"
    );
    let (code, stdout, _) = plumb(&["check", path(&clean), "--no-base"]);
    assert_eq!(
        (code, stdout.trim()),
        (
            0,
            format!("{read}\n\n1 migrations, 2 statements: 0 errors, 0 warnings, 0 notes").as_str()
        )
    );
    let (code, _, stderr) = plumb(&["check", path(&clean), "--base", "main"]);
    assert_eq!(
        code, 2,
        "an asked-for base that git cannot give is an input error: {stderr}"
    );

    let bad = workspace(Some("CREATE INDEX accounts_id_idx ON accounts (id);\n"));
    let (code, stdout, _) = plumb(&["check", path(&bad), "--format", "json"]);
    assert_eq!(code, 1);
    let value: Value = serde_json::from_str(&stdout).unwrap();
    let file = value["findings"][0]["file"].as_str().unwrap();
    assert!(
        file.starts_with(path(&bad)),
        "paths are shown from where plumb runs: {file}"
    );

    let (code, _, stderr) = plumb(&["check", "/nonexistent/workspace"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("cannot read the input: /nonexistent/workspace/migrations"),
        "{stderr}"
    );

    let notes_only = workspace(Some("CREATE VIEW v AS SELECT 1;\n"));
    assert_eq!(
        plumb(&["check", path(&notes_only)]).0,
        0,
        "notes do not fail the check"
    );

    let (code, stdout, _) = plumb(&["check", "--list-rules"]);
    assert_eq!(code, 0);
    assert_eq!(stdout.lines().count(), plumb_check::RULES.len());
}

#[test]
fn database_commands_without_database_url_exit_2_saying_what_to_set() {
    let dir = workspace(None);
    for args in [
        vec!["migrate", "--workspace", path(&dir)],
        vec![
            "backfill", "--table", "accounts", "--column", "note", "--set", "'x'",
        ],
        vec!["not-null", "accounts.note"],
    ] {
        let (code, _, stderr) = plumb(&args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("error: DATABASE_URL is not set"),
            "{stderr}"
        );
    }
}

#[test]
fn an_unreadable_input_in_json_format_is_a_json_document_naming_the_file() {
    let dir = workspace(None);
    std::fs::create_dir(dir.path().join("plumb.toml")).unwrap();
    let (code, stdout, stderr) = plumb(&["check", "--no-base", "--format", "json", path(&dir)]);
    assert_eq!(code, 2, "{stderr}");
    let document: Value = serde_json::from_str(&stdout).unwrap();
    let file = document["error"]["file"].as_str().unwrap();
    assert!(file.ends_with("plumb.toml"), "{document}");
    assert!(
        document["error"]["message"]
            .as_str()
            .unwrap()
            .contains("regular file")
    );
}

#[test]
fn a_file_that_is_not_utf8_is_an_input_error_giving_its_line_and_byte() {
    let dir = workspace(None);
    let folder = dir.path().join("migrations/2026-02-01-000000-0000_change");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("up.sql"), b"SELECT 1;\nSELECT 'caf\xe9';\n").unwrap();
    let (code, stdout, stderr) = plumb(&["check", "--no-base", "--format", "json", path(&dir)]);
    assert_eq!(code, 2, "{stderr}");
    let document: Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        document["error"]["file"]
            .as_str()
            .unwrap()
            .ends_with("2026-02-01-000000-0000_change/up.sql"),
        "{document}"
    );
    assert_eq!(
        (&document["error"]["line"], &document["error"]["column"]),
        (&Value::from(2), &Value::from(12)),
        "{document}"
    );
    let message = document["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("line 2, column 12: byte 21 (0xe9) is not UTF-8"),
        "{message}"
    );
    let (code, _, stderr) = plumb(&["check", "--no-base", path(&dir)]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("up.sql: line 2, column 12: byte 21 (0xe9)"),
        "{stderr}"
    );
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let dir = workspace(Some("ALTER TABLE accounts ADD COLUMN n int NOT NULL;\n"));
    for args in [
        vec!["check", "--list-rules"],
        vec!["check", "--no-base", path(&dir)],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_plumb"))
            .args(&args)
            .stdout(writer.try_clone().unwrap())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_ne!(output.status.code(), Some(101), "{args:?}: {stderr}");
    }
}

#[test]
fn a_migration_folder_whose_name_is_not_utf8_is_checked_and_reported_in_json() {
    use std::os::unix::ffi::OsStrExt;
    let dir = workspace(None);
    let name = std::ffi::OsStr::from_bytes(b"2026-01-02-000000-0000_\xff\xfe");
    let folder = dir.path().join("migrations").join(name);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("up.sql"),
        "ALTER TABLE accounts ADD COLUMN n int NOT NULL;\n",
    )
    .unwrap();
    std::fs::write(folder.join("down.sql"), "SELECT 1;\n").unwrap();
    let (code, stdout, stderr) = plumb(&["check", "--no-base", "--format", "json", path(&dir)]);
    assert_eq!(code, 1, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "M001"),
        "{report}"
    );
}

#[test]
fn an_api_folder_that_cannot_be_read_is_an_input_error_not_an_empty_api() {
    let dir = workspace(None);
    std::fs::write(dir.path().join("schemas"), "not a folder\n").unwrap();
    let (code, _, stderr) = plumb(&["check", "--no-base", path(&dir)]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("schemas"), "{stderr}");
}
