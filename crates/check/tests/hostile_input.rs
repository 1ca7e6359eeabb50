//! Small files built to exhaust a recursive reader: the check finishes and says what it could
//! not analyse, whatever the depth. A stack overflow aborts this test binary, so each case
//! fails loudly if a reader recurses on a thread without the parser's stack.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

mod common;

use std::fs;

use common::M;
use plumb_check::check_workspace;

#[test]
fn deeply_nested_sql_is_checked_to_the_limit_and_beyond_it_is_one_finding() {
    use plumb_check::sql::limits::{MAX_DEPTH, MAX_RUN};
    let deep = MAX_DEPTH;
    let within = [
        (
            "parentheses",
            format!("SELECT {}1{};\n", "(".repeat(deep), ")".repeat(deep)),
        ),
        (
            "calls",
            format!("SELECT {}1{};\n", "f(".repeat(deep), ")".repeat(deep)),
        ),
        (
            "subselects",
            format!("SELECT {}1{};\n", "(SELECT ".repeat(deep), ")".repeat(deep)),
        ),
        (
            "concatenation",
            format!("SELECT {};\n", vec!["'a'"; MAX_RUN / 3].join(" || ")),
        ),
        // Every token a syntax error: one finding per statement, read in one pass.
        ("closing", ")".repeat(200_000)),
    ];
    let beyond = [
        (
            "parentheses",
            format!("SELECT {}1{};\n", "(".repeat(4500), ")".repeat(4500)),
        ),
        (
            "subselects",
            format!("SELECT {}1{};\n", "(SELECT ".repeat(3000), ")".repeat(3000)),
        ),
        (
            "concatenation",
            format!("SELECT {};\n", vec!["'a'"; 10_000].join(" || ")),
        ),
        (
            "large",
            "SELECT 1;\n".repeat(plumb_check::sql::limits::MAX_FILE_BYTES / 10 + 1),
        ),
    ];
    let not_analysed = |name: &str, sql: &str| {
        let dir = common::workspace(&[M(name, sql, None)]);
        let report = check_workspace(dir.path(), None).unwrap();
        assert_eq!(report.migrations, 2, "{name}");
        report.findings.iter().filter(|f| f.code == "M020").count()
    };
    for (name, sql) in within {
        assert_eq!(not_analysed(name, &sql), 0, "{name} is analysed");
    }
    for (name, sql) in beyond {
        assert_eq!(not_analysed(name, &sql), 1, "{name} is one finding");
    }
}

#[test]
fn deeply_nested_rust_is_read_to_the_limit_and_beyond_it_is_an_input_error_naming_the_place() {
    use plumb_schema_rs::MAX_DEPTH;
    let write = |depth: usize, model_depth: usize| {
        let dir = common::workspace(&[]);
        let root = dir.path();
        fs::create_dir_all(root.join("src/models")).unwrap();
        fs::write(
            root.join("diesel.toml"),
            "[print_schema]\nfile = \"src/schema.rs\"\n",
        )
        .unwrap();
        fs::write(
            root.join("plumb.toml"),
            "[check]\nmodels = \"src/models\"\n",
        )
        .unwrap();
        let nested = |open: &str, inner: &str, close: &str, n: usize| {
            format!("{}{inner}{}", open.repeat(n), close.repeat(n))
        };
        fs::write(
            root.join("src/schema.rs"),
            format!(
                "diesel::table! {{\n    accounts (id) {{\n        id -> {},\n    }}\n}}\n",
                nested("Nullable<", "Int8", ">", depth)
            ),
        )
        .unwrap();
        // A function body is not parsed, however deep.
        fs::write(
            root.join("src/models/account.rs"),
            format!(
                "#[derive(Queryable)]\n#[diesel(table_name = accounts)]\npub struct Account {{\n    pub id: {},\n}}\nfn f() {{ {} }}\n",
                nested("Option<", "i64", ">", model_depth),
                nested("{", "", "}", 100_000)
            ),
        )
        .unwrap();
        dir
    };
    let within = write(MAX_DEPTH - 10, MAX_DEPTH - 10);
    let report = check_workspace(within.path(), None).unwrap();
    assert_eq!(report.coverage.models, 1);
    assert_eq!(report.coverage.schema_files.len(), 1);
    for (depth, model_depth, file) in [
        (1_000_000, 1, "src/schema.rs"),
        (1, 1_000_000, "src/models/account.rs"),
    ] {
        let beyond = write(depth, model_depth);
        let error = check_workspace(beyond.path(), None).unwrap_err();
        assert!(error.path().ends_with(file), "{error}");
        assert!(
            error
                .to_string()
                .contains("nested more than 1000 levels deep"),
            "{error}"
        );
    }
}

#[test]
fn a_migration_linked_outside_the_workspace_or_a_fifo_is_refused_naming_it_and_never_read() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("environ");
    fs::write(&secret, "SECRET=hunter2\n").unwrap();
    let dir = common::workspace(&[M("linked", "SELECT 1;\n", None)]);
    let folder = fs::read_dir(dir.path().join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("_linked"))
        .unwrap();
    let up = folder.join("up.sql");
    fs::remove_file(&up).unwrap();
    std::os::unix::fs::symlink(&secret, &up).unwrap();
    let error = check_workspace(dir.path(), None).unwrap_err().to_string();
    assert!(
        error.contains("up.sql") && error.contains("outside"),
        "{error}"
    );
    assert!(!error.contains("hunter2"), "{error}");

    // A link that stays inside the workspace is read.
    fs::remove_file(&up).unwrap();
    fs::write(dir.path().join("shared.sql"), "SELECT 2;\n").unwrap();
    std::os::unix::fs::symlink(dir.path().join("shared.sql"), &up).unwrap();
    check_workspace(dir.path(), None).unwrap();

    // A FIFO would block a reader forever.
    let down = folder.join("down.sql");
    fs::remove_file(&down).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&down)
        .status()
        .unwrap();
    assert!(made.success());
    let error = check_workspace(dir.path(), None).unwrap_err().to_string();
    assert!(
        error.contains("down.sql") && error.contains("regular file"),
        "{error}"
    );
}

#[test]
fn a_symbolic_link_loop_under_the_models_is_not_followed() {
    let dir = common::workspace(&[]);
    let models = dir.path().join("src/models");
    fs::create_dir_all(&models).unwrap();
    fs::write(
        dir.path().join("plumb.toml"),
        "[check]\nmodels = \"src/models\"\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(dir.path(), models.join("loop")).unwrap();
    std::os::unix::fs::symlink("/", models.join("root")).unwrap();
    let report = check_workspace(dir.path(), None).unwrap();
    assert_eq!(report.coverage.models, 0);
}

#[test]
fn a_one_line_migration_with_many_findings_shows_a_bounded_part_of_the_line_for_each() {
    let renames: String = (0..2000)
        .map(|i| format!("ALTER TABLE accounts RENAME COLUMN note TO note{i}; "))
        .collect();
    let report = common::check(&[M("renames", &renames, None)]);
    assert!(report.findings.len() >= 2000, "{}", report.findings.len());
    let shown = common::human(&report);
    // Each finding's snippet is a few hundred bytes, not the 100 KB line.
    assert!(
        shown.len() < report.findings.len() * 1024,
        "{} bytes for {} findings",
        shown.len(),
        report.findings.len()
    );
}

#[test]
fn a_schema_file_the_settings_name_but_that_is_missing_or_a_folder_is_an_input_error() {
    let dir = common::workspace(&[]);
    fs::write(
        dir.path().join("diesel.toml"),
        "[print_schema]\nfile = \"src/schema.rs\"\n",
    )
    .unwrap();
    let error = check_workspace(dir.path(), None).unwrap_err().to_string();
    assert!(
        error.contains("schema.rs") && error.contains("no such file"),
        "{error}"
    );
    fs::create_dir_all(dir.path().join("src/schema.rs")).unwrap();
    let error = check_workspace(dir.path(), None).unwrap_err().to_string();
    assert!(
        error.contains("schema.rs") && error.contains("no such file"),
        "{error}"
    );
}

#[test]
fn a_configured_path_that_leads_out_of_the_workspace_is_an_input_error_naming_the_key() {
    let outside = tempfile::tempdir().unwrap();
    fs::create_dir_all(outside.path().join("models")).unwrap();
    let outside_models = outside.path().join("models");
    for (file, text, key) in [
        (
            "plumb.toml",
            format!(
                "[check]\nmodels = {:?}\n",
                outside_models.display().to_string()
            ),
            "[check] models",
        ),
        (
            "plumb.toml",
            "[check]\napi-schemas = \"..\"\n".to_owned(),
            "[check] api-schemas",
        ),
        (
            "plumb.toml",
            "[check]\ncode = [\"..\"]\n".to_owned(),
            "[check] code",
        ),
        (
            "diesel.toml",
            format!(
                "[migrations_directory]\ndir = {:?}\n",
                outside_models.display().to_string()
            ),
            "[migrations_directory] dir",
        ),
    ] {
        let dir = common::workspace(&[]);
        fs::write(dir.path().join(file), text).unwrap();
        let error = check_workspace(dir.path(), None).unwrap_err();
        let message = error.to_string();
        assert!(error.path().ends_with(file), "{message}");
        assert!(
            message.contains(key) && message.contains("outside the workspace"),
            "{message}"
        );
    }
    // A link inside the workspace that leads out of it is refused the same way.
    let dir = common::workspace(&[]);
    std::os::unix::fs::symlink(&outside_models, dir.path().join("models")).unwrap();
    fs::write(
        dir.path().join("plumb.toml"),
        "[check]\nmodels = \"models\"\n",
    )
    .unwrap();
    let message = check_workspace(dir.path(), None).unwrap_err().to_string();
    assert!(message.contains("outside the workspace"), "{message}");
}
