//! `cargo xtask check-contract` as a user runs it: its lines, its exit codes.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn check_contract(workspace: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command
        .arg("check-contract")
        .arg("--workspace")
        .arg(workspace);
    command
}

fn run(command: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().unwrap();
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// A workspace holding a copy of the repository's migrations and API schemas, to break one
/// way or another.
fn copy_of_repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &repository().join("migrations"),
        &dir.path().join("migrations"),
    );
    copy_dir(&repository().join("schemas"), &dir.path().join("schemas"));
    // Its lock policy: the migrations are applied by plumb migrate.
    fs::copy(
        repository().join("plumb.toml"),
        dir.path().join("plumb.toml"),
    )
    .unwrap();
    dir
}

/// How many migrations the repository holds.
fn reference_migrations() -> usize {
    fs::read_dir(repository().join("migrations"))
        .unwrap()
        .count()
}

/// How many files `dir` holds, in all its folders.
fn files_under(dir: &Path) -> usize {
    fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                files_under(&entry.path())
            } else {
                1
            }
        })
        .sum()
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn add_migration(workspace: &Path, folder: &str, up: &str, down: &str) {
    let dir = workspace.join("migrations").join(folder);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("up.sql"), up).unwrap();
    fs::write(dir.join("down.sql"), down).unwrap();
}

/// The one summary line of each stage, in order.
fn stage_lines(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter(|l| {
            ["schemas:", "static:", "live:"]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .collect()
}

#[test]
fn the_repository_passes() {
    let (code, stdout, stderr) = run(&mut check_contract(&repository()));
    assert_eq!(code, 0, "{stdout}{stderr}");
    let stages = stage_lines(&stdout);
    let schemas = files_under(&repository().join("schemas"));
    let migrations = reference_migrations();
    assert_eq!(
        stages[0],
        format!("schemas: ok, {schemas} files up to date"),
        "{stdout}"
    );
    assert!(
        stages[1].starts_with(&format!("static: ok, {migrations} migrations, "))
            && stages[1].ends_with(" statements: 0 errors, 0 warnings, 0 notes"),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .nth(2)
            .is_some_and(|l| l.starts_with("base: ")),
        "the static stage names its base: {stdout}"
    );
    // What the base has is history: applied, not judged.
    assert!(
        stages[2].starts_with("live: ok, ")
            && stages[2].contains(" applied as history (in the base "),
        "{stdout}"
    );
    // Without a base every migration is judged.
    let (code, stdout, stderr) =
        run(check_contract(&repository()).args(["--no-base", "--seed-rows", "2000"]));
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stage_lines(&stdout)[2].starts_with(&format!(
            "live: ok, {migrations} migrations apply, revert to the same catalog and apply again"
        )),
        "{stdout}"
    );
}

#[test]
fn stale_schemas_fail_the_check_before_the_live_stage() {
    let workspace = copy_of_repository();
    fs::write(
        workspace.path().join("schemas/v1/Account.response.json"),
        "{}\n",
    )
    .unwrap();
    let (code, stdout, stderr) = run(&mut check_contract(workspace.path()));
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("schemas/v1/Account.response.json is stale"),
        "{stderr}"
    );
    let stages = stage_lines(&stdout);
    assert!(
        stages[0].starts_with("schemas: failed, 1 files out of date"),
        "{stdout}"
    );
    assert!(stages[1].starts_with("static: ok"), "{stdout}");
    assert!(stages[2].starts_with("live: ok"), "{stdout}");
}

#[test]
fn an_unsafe_migration_fails_the_static_stage_naming_the_rule() {
    let workspace = copy_of_repository();
    add_migration(
        workspace.path(),
        "2099-05-01-000000-0000_add_required_column",
        "SET lock_timeout = '20ms';\nALTER TABLE accounts ADD COLUMN probe_tier text NOT NULL;\n",
        "ALTER TABLE accounts DROP COLUMN probe_tier;\n",
    );
    let (code, stdout, stderr) = run(check_contract(workspace.path()).arg("--no-live"));
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("error[M001 add-column-required]"),
        "{stderr}"
    );
    assert!(
        stderr.contains("migrations/2099-05-01-000000-0000_add_required_column/up.sql:2:22"),
        "{stderr}"
    );
    assert!(
        stdout.contains(&format!(
            "static: failed, {} migrations, ",
            reference_migrations() + 1
        )) && stdout.contains(" statements: 1 errors"),
        "{stdout}"
    );
}

#[test]
fn without_database_url_it_uses_a_throwaway_cluster() {
    let (code, stdout, stderr) = run(check_contract(&repository()).env_remove("DATABASE_URL"));
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("a throwaway cluster"), "{stdout}");
}

#[test]
fn an_unreachable_database_url_is_one_clear_line_without_the_password() {
    let mut command = check_contract(&repository());
    command.env(
        "DATABASE_URL",
        "postgres://deploy:hunter2@127.0.0.1:1/accounts_prod",
    );
    let (code, stdout, stderr) = run(&mut command);
    assert_eq!(code, 2, "{stdout}{stderr}");
    let error: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(error.len(), 1, "{stderr}");
    assert!(
        error[0].contains("host 127.0.0.1 port 1, database accounts_prod"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2") && !stdout.contains("hunter2"));
}

#[test]
fn a_url_that_is_not_postgres_is_refused() {
    let mut command = check_contract(&repository());
    command.env("DATABASE_URL", "mysql://root@localhost/db");
    let (code, _, stderr) = run(&mut command);
    assert_eq!(code, 2);
    assert!(stderr.contains("not a PostgreSQL URL"), "{stderr}");
}

#[test]
fn a_failing_up_names_the_folder_and_postgres_error() {
    let workspace = copy_of_repository();
    let folder = "2099-04-01-000000-0000_add_broken_column";
    add_migration(
        workspace.path(),
        folder,
        "SET lock_timeout = '20ms';\n\nALTER TABLE acounts ADD COLUMN probe_nickname TEXT;\n",
        "ALTER TABLE accounts DROP COLUMN probe_nickname;\n",
    );
    let (code, stdout, stderr) = run(&mut check_contract(workspace.path()));
    assert_eq!(code, 1, "{stdout}{stderr}");
    // PostgreSQL's own words follow, in its lc_messages: only the name in them is checked.
    let failed = format!(
        "error[live-migration-failed]: migrations/{folder}/up.sql: applying {folder} failed: "
    );
    assert!(
        stderr
            .lines()
            .any(|line| line.starts_with(&failed) && line.contains("acounts")),
        "{stderr}"
    );
    assert!(stdout.contains("live: failed"), "{stdout}");
}

#[test]
fn where_postgres_gives_a_position_the_error_points_at_line_and_column() {
    let workspace = copy_of_repository();
    let folder = "2099-04-01-000000-0000_add_typo";
    add_migration(
        workspace.path(),
        folder,
        "SET lock_timeout = '20ms';\n\nALTER TABLE accounts\n    ADD COLUMN probe_nickname TEXT NOT NUL;\n",
        "ALTER TABLE accounts DROP COLUMN probe_nickname;\n",
    );
    let column = 1 + "    ADD COLUMN probe_nickname TEXT NOT NUL;"
        .find("NUL;")
        .unwrap();
    let (code, _, stderr) = run(&mut check_contract(workspace.path()));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!("migrations/{folder}/up.sql:4:{column}: applying {folder} failed: syntax error at or near \"NUL\"")),
        "{stderr}"
    );
}

#[test]
fn a_down_that_does_not_run_is_caught() {
    let workspace = copy_of_repository();
    let folder = "2099-04-01-000000-0000_add_nickname";
    add_migration(
        workspace.path(),
        folder,
        "ALTER TABLE accounts ADD COLUMN probe_nickname TEXT;\n",
        "ALTER TABLE accounts DROP COLUMN nick_name;\n",
    );
    let (code, _, stderr) = run(&mut check_contract(workspace.path()));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!("migrations/{folder}/down.sql: ")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("reverting {folder} failed")),
        "{stderr}"
    );
    assert!(stderr.contains("nick_name"), "{stderr}");
}

#[test]
fn concurrently_with_another_statement_fails_even_outside_a_transaction() {
    // diesel sends the file as one string; PostgreSQL runs several statements in one string as a
    // transaction, which CREATE INDEX CONCURRENTLY refuses.
    let workspace = copy_of_repository();
    let folder = "2099-04-01-000000-0000_index_email_status";
    add_migration(
        workspace.path(),
        folder,
        "SET lock_timeout = '20ms';\nCREATE INDEX CONCURRENTLY accounts_status_idx ON accounts (status);\n",
        "DROP INDEX CONCURRENTLY accounts_status_idx;\n",
    );
    fs::write(
        workspace
            .path()
            .join("migrations")
            .join(folder)
            .join("metadata.toml"),
        "run_in_transaction = false\n",
    )
    .unwrap();
    let (code, _, stderr) = run(&mut check_contract(workspace.path()));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("CREATE INDEX CONCURRENTLY cannot"),
        "{stderr}"
    );
}

#[test]
fn diesel_toml_names_the_migrations_directory() {
    let workspace = tempfile::tempdir().unwrap();
    copy_dir(
        &repository().join("migrations"),
        &workspace.path().join("db/migrations"),
    );
    copy_dir(
        &repository().join("schemas"),
        &workspace.path().join("schemas"),
    );
    fs::write(
        workspace.path().join("diesel.toml"),
        "[migrations_directory]\ndir = \"db/migrations\"\n",
    )
    .unwrap();
    fs::write(
        workspace.path().join("plumb.toml"),
        "[lock]\napplied-by = \"plumb\"\n",
    )
    .unwrap();
    let (code, stdout, stderr) = run(&mut check_contract(workspace.path()));
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("{} migrations", reference_migrations())),
        "{stdout}"
    );
}

#[test]
fn unreadable_migrations_exit_2_naming_the_place() {
    let workspace = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(&mut check_contract(workspace.path()));
    assert_eq!(code, 2);
    assert!(
        stderr.contains(&format!(
            "cannot read the migrations in {}",
            workspace.path().join("migrations").display()
        )),
        "{stderr}"
    );

    fs::create_dir_all(
        workspace
            .path()
            .join("migrations/2026-01-01-000000-0000_no_up"),
    )
    .unwrap();
    let (code, _, stderr) = run(&mut check_contract(workspace.path()));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("2026-01-01-000000-0000_no_up: a migration folder with no up.sql"),
        "{stderr}"
    );

    let copy = copy_of_repository();
    let folder = copy
        .path()
        .join("migrations/2026-03-16-100000-0000_index_accounts_display_name");
    fs::write(folder.join("metadata.toml"), "run_in_transaction = maybe\n").unwrap();
    let (code, _, stderr) = run(&mut check_contract(copy.path()));
    assert_eq!(code, 2);
    assert!(stderr.contains("metadata.toml"), "{stderr}");
}

#[test]
fn no_live_skips_the_live_stage_and_says_so() {
    let mut command = check_contract(&repository());
    command
        .arg("--no-live")
        .env("DATABASE_URL", "postgres://x@127.0.0.1:1/unused");
    let (code, stdout, _) = run(&mut command);
    assert_eq!(code, 0);
    assert!(stdout.contains("live: skipped (--no-live)"), "{stdout}");
}

/// check-contract's live stage on a copy of the repository with one more migration.
fn live_with(folder: &str, up: &str, down: &str, extra: &[&str]) -> (i32, String, String) {
    let workspace = copy_of_repository();
    add_migration(workspace.path(), folder, up, down);
    if up.contains("CONCURRENTLY") {
        let metadata = workspace
            .path()
            .join("migrations")
            .join(folder)
            .join("metadata.toml");
        fs::write(metadata, "run_in_transaction = false\n").unwrap();
    }
    let mut command = check_contract(workspace.path());
    command.args(["--seed-rows", "2000"]).args(extra);
    run(&mut command)
}

#[test]
fn a_down_that_forgets_an_index_is_caught_naming_it() {
    let (code, stdout, stderr) = live_with(
        "2099-05-01-000000-0000_index_status",
        "CREATE INDEX CONCURRENTLY accounts_status_idx ON accounts (status);\n",
        "SELECT 1;\n",
        &[],
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("error[L002 live-down-not-reversing]"),
        "{stderr}"
    );
    assert!(
        stderr.contains("index accounts_status_idx is left over"),
        "{stderr}"
    );
    assert!(
        stderr.contains("migrations/2099-05-01-000000-0000_index_status/down.sql"),
        "{stderr}"
    );
}

#[test]
fn a_migration_that_rewrites_a_table_is_caught_and_confirms_the_static_rule() {
    let (code, stdout, stderr) = live_with(
        "2099-05-01-000000-0000_add_token",
        "SET lock_timeout = '20ms';\nALTER TABLE accounts ADD COLUMN token uuid DEFAULT gen_random_uuid();\n",
        "SET lock_timeout = '20ms';\nALTER TABLE accounts DROP COLUMN token;\n",
        &[],
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("error[M002 add-column-rewrite]"),
        "{stderr}"
    );
    assert!(
        stderr.contains("error[L005 live-table-rewrite]"),
        "{stderr}"
    );
    assert!(stderr.contains("rewrote `accounts`"), "{stderr}");
    assert!(stdout.contains("M002 add-column-rewrite at migrations/2099-05-01-000000-0000_add_token/up.sql:2: confirmed: accounts"), "{stdout}");
}

#[test]
fn a_live_finding_is_suppressed_by_an_allow_in_its_script_and_listed_as_suppressed() {
    let (code, stdout, stderr) = live_with(
        "2099-05-01-000000-0000_add_token",
        "SET lock_timeout = '20ms';\n-- plumb: allow add-column-rewrite accounts has a few hundred rows, rewritten in milliseconds\n-- plumb: allow live-table-rewrite the same: a few hundred rows\nALTER TABLE accounts ADD COLUMN token uuid DEFAULT gen_random_uuid();\n",
        "SET lock_timeout = '20ms';\nALTER TABLE accounts DROP COLUMN token;\n",
        &["--format", "json"],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    // The static stage does not call the live rule's allow unused: the live stage judges it.
    assert!(!stderr.contains("M901"), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let suppressed: Vec<&str> = report["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["code"].as_str())
        .collect();
    assert!(suppressed.contains(&"L005"), "{stdout}");
    assert!(suppressed.contains(&"M002"), "{stdout}");
    let live = report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "live")
        .unwrap();
    let live_suppressed = suppressed.iter().filter(|c| c.starts_with('L')).count();
    assert!(
        live["line"]
            .as_str()
            .unwrap()
            .contains(&format!("; {live_suppressed} suppressed")),
        "{live}"
    );
}

#[test]
fn a_live_suppression_that_covers_nothing_is_reported_by_the_live_stage() {
    let (code, stdout, stderr) = live_with(
        "2099-05-01-000000-0000_add_note",
        "SET lock_timeout = '20ms';\n-- plumb: allow live-table-rewrite said to rewrite, which it does not\nALTER TABLE accounts ADD COLUMN note text;\n",
        "SET lock_timeout = '20ms';\nALTER TABLE accounts DROP COLUMN note;\n",
        &[],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    let unused: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("M901 unused-suppression"))
        .collect();
    assert_eq!(unused.len(), 1, "{stderr}");
    assert!(
        stderr.contains("`live-table-rewrite` does not fire"),
        "{stderr}"
    );
}

#[test]
fn a_rewrite_confirms_only_the_findings_about_the_rewritten_table() {
    // Both defaults are flagged: `clock_timestamp()` is volatile and rewrites `accounts`;
    // `plumb_one()` is a function the checker does not know, which PostgreSQL knows is
    // immutable, so `api_keys` keeps its storage.
    let (code, stdout, stderr) = live_with(
        "2099-05-01-000000-0000_two_defaults",
        "SET lock_timeout = '20ms';\nCREATE FUNCTION plumb_one() RETURNS integer IMMUTABLE LANGUAGE sql AS 'SELECT 1';\nALTER TABLE accounts ADD COLUMN touched_at timestamptz DEFAULT clock_timestamp();\nALTER TABLE api_keys ADD COLUMN weight integer DEFAULT plumb_one();\n",
        "SET lock_timeout = '20ms';\nALTER TABLE api_keys DROP COLUMN weight;\nALTER TABLE accounts DROP COLUMN touched_at;\nDROP FUNCTION plumb_one();\n",
        &[],
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    let confirmations: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("  M002 add-column-rewrite"))
        .collect();
    assert_eq!(confirmations.len(), 2, "{stdout}{stderr}");
    assert!(
        confirmations[0].ends_with("up.sql:3: confirmed: accounts rewritten"),
        "{stdout}"
    );
    assert!(
        confirmations[1]
            .ends_with("up.sql:4: not observed: the relation it names was not rewritten"),
        "{stdout}"
    );
}

#[test]
fn an_index_dropped_and_created_again_under_its_name_is_no_rewrite() {
    let workspace = copy_of_repository();
    add_migration(
        workspace.path(),
        "2099-05-01-000000-0000_email_index",
        "SET lock_timeout = '20ms';\nCREATE INDEX accounts_email_lower_idx ON accounts (lower(email));\n",
        "SET lock_timeout = '20ms';\nDROP INDEX accounts_email_lower_idx;\n",
    );
    add_migration(
        workspace.path(),
        "2099-05-02-000000-0000_email_index_again",
        "SET lock_timeout = '20ms';\nDROP INDEX accounts_email_lower_idx;\nCREATE INDEX accounts_email_lower_idx ON accounts (lower(email), id);\n",
        "SET lock_timeout = '20ms';\nDROP INDEX accounts_email_lower_idx;\nCREATE INDEX accounts_email_lower_idx ON accounts (lower(email));\n",
    );
    let (_, stdout, stderr) = run(check_contract(workspace.path()).args(["--seed-rows", "500"]));
    assert!(!stderr.contains("L005"), "{stderr}");
    assert!(
        stage_lines(&stdout)[2].starts_with("live: ok"),
        "{stdout}{stderr}"
    );
}

#[test]
fn a_lock_on_a_table_with_no_rows_is_not_judged() {
    let workspace = copy_of_repository();
    // No seed row passes the CHECK and no migration fills the table: it has no row to scan
    // when SET NOT NULL takes its lock.
    add_migration(
        workspace.path(),
        "2099-05-01-000000-0000_create_audit",
        "SET lock_timeout = '20ms';\nCREATE TABLE audit (id bigint PRIMARY KEY, what text CHECK (what LIKE 'audit:%'));\n",
        "SET lock_timeout = '20ms';\nDROP TABLE audit;\n",
    );
    add_migration(
        workspace.path(),
        "2099-05-02-000000-0000_audit_what_required",
        "SET lock_timeout = '20ms';\nALTER TABLE audit ALTER COLUMN what SET NOT NULL;\n",
        "SET lock_timeout = '20ms';\nALTER TABLE audit ALTER COLUMN what DROP NOT NULL;\n",
    );
    let (_, stdout, stderr) = run(check_contract(workspace.path()).args(["--seed-rows", "500"]));
    assert!(
        stderr.contains("note: live stage: audit could not be seeded"),
        "{stderr}"
    );
    let verdicts: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("2099-05-02-000000-0000_audit_what_required/up.sql"))
        .collect();
    assert!(
        !verdicts.is_empty(),
        "set-not-null-scan flags it: {stdout}{stderr}"
    );
    for verdict in verdicts {
        assert!(
            verdict.ends_with(
                "not judged: audit held no rows, so a rewrite or a long lock could not show"
            ),
            "{stdout}"
        );
    }
}

#[test]
fn a_migration_that_holds_access_exclusive_while_it_scans_is_caught() {
    // The ALTER takes ACCESS EXCLUSIVE and keeps it until the migration's transaction commits,
    // so the UPDATE's pass over every row runs under it.
    let workspace = copy_of_repository();
    add_migration(
        workspace.path(),
        "2099-05-01-000000-0000_add_and_fill_nickname",
        "SET lock_timeout = '20ms';\nALTER TABLE accounts ADD COLUMN probe_nickname text;\nUPDATE accounts SET probe_nickname = upper(email);\n",
        "SET lock_timeout = '20ms';\nALTER TABLE accounts DROP COLUMN probe_nickname;\n",
    );
    let mut command = check_contract(workspace.path());
    command.args(["--seed-rows", "60000", "--lock-threshold-ms", "40"]);
    let (code, stdout, stderr) = run(&mut command);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.contains("error[M014 unbatched-update]"), "{stderr}");
    assert!(
        stderr.contains("error[L006 live-long-exclusive-lock]"),
        "{stderr}"
    );
    assert!(
        stderr.contains("held ACCESS EXCLUSIVE on `accounts` for about"),
        "{stderr}"
    );
    assert!(stdout.contains("M014 unbatched-update at migrations/2099-05-01-000000-0000_add_and_fill_nickname/up.sql:3: confirmed"), "{stdout}");
}

#[test]
fn a_schema_change_the_replay_does_not_see_is_reported() {
    let (code, stdout, stderr) = live_with(
        "2099-05-01-000000-0000_sneaky",
        "SET lock_timeout = '20ms';\nDO $$ BEGIN EXECUTE 'ALTER TABLE accounts ADD COLUMN sneaky text'; END $$;\n",
        "SET lock_timeout = '20ms';\nALTER TABLE accounts DROP COLUMN sneaky;\n",
        &[],
    );
    assert_eq!(code, 0, "warnings and notes do not fail: {stdout}{stderr}");
    assert!(
        stderr.contains("warning[L003 live-replay-mismatch]"),
        "{stderr}"
    );
    assert!(
        stderr.contains("the database has column `accounts.sneaky`, the replay does not"),
        "{stderr}"
    );
    assert!(
        stdout.contains(&format!(
            "live: ok, {} migrations apply, revert to the same catalog and apply again on a fresh database, 1 warnings",
            reference_migrations() + 1
        )),
        "{stdout}"
    );
}

#[test]
fn schema_rs_that_disagrees_with_the_migrated_database_is_caught_at_its_line() {
    let workspace = copy_of_repository();
    fs::copy(
        repository().join("diesel.toml"),
        workspace.path().join("diesel.toml"),
    )
    .unwrap();
    let schema_rs = workspace.path().join("crates/model/src/schema.rs");
    fs::create_dir_all(schema_rs.parent().unwrap()).unwrap();
    let original = fs::read_to_string(repository().join("crates/model/src/schema.rs")).unwrap();
    // diesel.toml names a schema.rs that is not there yet: that is an input error naming the
    // place, not a silent pass with the schema.rs checks off.
    let (code, stdout, stderr) = run(check_contract(workspace.path()).args(["--seed-rows", "100"]));
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.contains(
            "diesel.toml: [print_schema] file = \"crates/model/src/schema.rs\": no such file"
        ),
        "{stderr}"
    );

    fs::write(
        &schema_rs,
        original.replace("display_name -> Text,", "display_name -> Nullable<Text>,"),
    )
    .unwrap();
    add_migration(
        workspace.path(),
        "2099-05-01-000000-0000_add_nickname",
        "SET lock_timeout = '20ms';\nALTER TABLE accounts ADD COLUMN probe_nickname text;\n",
        "SET lock_timeout = '20ms';\nALTER TABLE accounts DROP COLUMN probe_nickname;\n",
    );
    let (code, stdout, stderr) = run(check_contract(workspace.path()).args(["--seed-rows", "100"]));
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("`accounts.display_name` is `Nullable<Text>` in schema.rs; the database column (text NOT NULL) makes it `Text`"),
        "{stderr}"
    );
    let line = 1 + original
        .lines()
        .position(|l| l.contains("display_name -> Text,"))
        .unwrap();
    assert!(
        stderr.contains(&format!("--> crates/model/src/schema.rs:{line}:")),
        "{stderr}"
    );
    assert!(
        stderr.contains("print-schema would add `accounts.probe_nickname -> Nullable<Text>`"),
        "{stderr}"
    );
}

#[test]
fn a_migration_that_fails_only_on_the_made_up_rows_is_observed_on_empty_tables() {
    // Every seeded account has the default status, so a unique index on it cannot be built on
    // the seeded rows; on the empty table it can.
    let (code, stdout, stderr) = live_with(
        "2099-05-01-000000-0000_unique_status",
        "CREATE UNIQUE INDEX CONCURRENTLY accounts_status_key ON accounts (status);\n",
        "DROP INDEX CONCURRENTLY accounts_status_key;\n",
        &[],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stderr.contains(
            "note: live stage: 2099-05-01-000000-0000_unique_status it fails on the seeded rows"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "it was observed on a database built again from the migrations before it, without them"
        ),
        "{stderr}"
    );
    assert!(
        stdout.contains(&format!(
            "live: ok, {} migrations",
            reference_migrations() + 1
        )),
        "{stdout}"
    );
}

#[test]
fn seed_rows_an_earlier_migration_rewrote_do_not_fail_a_later_one() {
    let workspace = copy_of_repository();
    // Every seed row gets a new version from this UPDATE: its transaction is the migration's.
    add_migration(
        workspace.path(),
        "2099-05-01-000000-0000_touch_accounts",
        "SET lock_timeout = '20ms';\nUPDATE accounts SET status = status;\n",
        "SET lock_timeout = '20ms';\nSELECT 1;\n",
    );
    // Made-up e-mail addresses have no @: validating fails on the seed rows, and only on them.
    add_migration(
        workspace.path(),
        "2099-05-02-000000-0000_email_has_at",
        "SET lock_timeout = '20ms';\nALTER TABLE accounts ADD CONSTRAINT accounts_email_at CHECK (email LIKE '%@%');\n",
        "SET lock_timeout = '20ms';\nALTER TABLE accounts DROP CONSTRAINT accounts_email_at;\n",
    );
    let (_, stdout, stderr) = run(check_contract(workspace.path()).args(["--seed-rows", "100"]));
    assert!(
        stderr.contains(
            "note: live stage: 2099-05-02-000000-0000_email_has_at it fails on the seeded rows"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("live-migration-failed"), "{stderr}");
    assert!(
        stage_lines(&stdout)[2].starts_with("live: ok"),
        "{stdout}{stderr}"
    );
}

#[test]
fn tables_that_cannot_be_seeded_are_named_and_observed_with_the_rows_migrations_gave_them() {
    let workspace = copy_of_repository();
    // Made-up text is no e-mail address: no seed row passes the CHECK, and the reference row
    // the migration inserts is all the table has; its child has no parent rows to point at.
    add_migration(
        workspace.path(),
        "2099-05-01-000000-0000_contacts",
        "SET lock_timeout = '20ms';\nCREATE TABLE contacts (id bigint PRIMARY KEY, email text NOT NULL CHECK (email LIKE '%@%'));\nINSERT INTO contacts VALUES (1, 'ops@example.com');\nCREATE TABLE contact_notes (id bigserial PRIMARY KEY, contact_id bigint NOT NULL REFERENCES contacts (id), body text NOT NULL);\n",
        "SET lock_timeout = '20ms';\nDROP TABLE contact_notes;\nDROP TABLE contacts;\n",
    );
    add_migration(
        workspace.path(),
        "2099-05-02-000000-0000_contacts_name",
        "SET lock_timeout = '20ms';\nALTER TABLE contacts ADD COLUMN name text;\n",
        "SET lock_timeout = '20ms';\nALTER TABLE contacts DROP COLUMN name;\n",
    );
    let (code, stdout, stderr) = run(check_contract(workspace.path()).args(["--seed-rows", "100"]));
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stderr.contains("note: live stage: contacts could not be seeded ("),
        "{stderr}"
    );
    assert!(stderr.contains("note: live stage: contact_notes could not be seeded (it references contacts, which has no seed rows)"), "{stderr}");
    // Each is said once, not before every migration after it.
    assert_eq!(
        stderr.matches("contacts could not be seeded").count(),
        1,
        "{stderr}"
    );
}

/// A copy of the repository with `rules` appended to its plumb.toml as a `[rules]` section.
fn with_rules(rules: &str) -> tempfile::TempDir {
    let workspace = copy_of_repository();
    let toml = workspace.path().join("plumb.toml");
    let mut text = fs::read_to_string(&toml).unwrap();
    text.push_str(&format!("\n[rules]\n{rules}"));
    fs::write(toml, text).unwrap();
    workspace
}

#[test]
fn live_findings_take_the_severity_rules_give_them() {
    let workspace = with_rules(
        "add-column-rewrite = \"off\"\nlive-table-rewrite = \"warning\"\nlive-down-not-reversing = \"off\"\n",
    );
    // Rewrites `accounts`, and its down.sql leaves the column behind (which the second apply
    // lets be).
    add_migration(
        workspace.path(),
        "2099-05-01-000000-0000_add_token",
        "SET lock_timeout = '20ms';\nALTER TABLE accounts ADD COLUMN IF NOT EXISTS token uuid DEFAULT gen_random_uuid();\n",
        "SET lock_timeout = '20ms';\nSELECT 1;\n",
    );
    let (code, stdout, stderr) = run(check_contract(workspace.path()).args(["--seed-rows", "500"]));
    assert!(
        stderr.contains("warning[L005 live-table-rewrite]"),
        "{stderr}"
    );
    assert!(!stderr.contains("L002"), "{stderr}");
    assert_eq!(code, 0, "{stdout}{stderr}");
}

#[test]
fn a_failing_migration_lowered_by_rules_stops_the_stage_without_failing_it() {
    let workspace = with_rules("syntax-error = \"off\"\nlive-migration-failed = \"warning\"\n");
    add_migration(
        workspace.path(),
        "2099-05-01-000000-0000_typo",
        "SET lock_timeout = '20ms';\nALTER TABLE accounts ADD COLUMN note text NUL;\n",
        "SET lock_timeout = '20ms';\nALTER TABLE accounts DROP COLUMN note;\n",
    );
    let (code, stdout, stderr) = run(check_contract(workspace.path()).args(["--seed-rows", "100"]));
    assert!(
        stderr.contains(
            "warning[live-migration-failed]: migrations/2099-05-01-000000-0000_typo/up.sql:2:"
        ),
        "{stderr}"
    );
    assert!(
        stage_lines(&stdout)[2].starts_with(
            "live: ok, stopped at 2099-05-01-000000-0000_typo, which does not apply or revert on a fresh database (live-migration-failed is warning in [rules])"
        ),
        "{stdout}"
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
}

#[test]
fn a_server_of_another_version_than_production_is_named_with_the_way_to_the_right_one() {
    let server = plumb_pg::PgServer::shared().unwrap();
    let running = plumb_pg::major_of(&server.version().unwrap()).unwrap();
    let production = if running == 12 { 13 } else { 12 };
    let workspace = copy_of_repository();
    let toml = workspace.path().join("plumb.toml");
    let mut text = fs::read_to_string(&toml).unwrap();
    text.push_str(&format!("\n[check]\npg-version = {production}\n"));
    fs::write(toml, text).unwrap();
    let (_, stdout, stderr) = run(check_contract(workspace.path())
        .args(["--no-base"])
        .env("DATABASE_URL", server.url().expose()));
    assert!(
        stderr.contains(&format!(
            "note: live stage: it ran on PostgreSQL {running}."
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "plumb.toml's pg-version (production) is {production}: give the throwaway cluster that version's server programs with PLUMB_PG_BINDIR"
        )),
        "{stderr}"
    );
    let live = stage_lines(&stdout)
        .into_iter()
        .find(|l| l.starts_with("live:"))
        .unwrap_or_default();
    assert!(live.contains(&format!(", PostgreSQL {running}.")), "{live}");
}
