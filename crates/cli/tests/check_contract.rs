//! `plumb check-contract` on a workspace that is not plumb's: a repository with history on
//! its main branch and one new migration on a branch, as a team's pull request is.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

use std::fs;
use std::path::Path;
use std::process::Command;

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn git(root: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "user.email=ci@example.com", "-c", "user.name=ci"])
        .args(args)
        .current_dir(root)
        .output()
        .unwrap();
    assert!(status.status.success(), "git {args:?}: {status:?}");
}

fn check_contract(root: &Path, args: &[&str]) -> (i32, String, String) {
    // Run where a user runs it: at the root of the repository.
    let output = Command::new(env!("CARGO_BIN_EXE_plumb"))
        .arg("check-contract")
        .args(args)
        .current_dir(root)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

const MISSING_EXTENSION: &str = "plumb_no_such_extension";

/// Years of history on `main`: reference rows a later migration reads, a down.sql that is
/// empty, a migration that needs an extension no test server has. Then, on the branch `pr`,
/// one new migration that reads the reference rows.
fn foreign_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q", "-b", "main"]);
    write(
        root,
        "diesel.toml",
        "[migrations_directory]\ndir = \"db/migrations\"\n",
    );
    write(
        root,
        "db/migrations/2019-01-01-000000_create_plans/up.sql",
        "CREATE TABLE plans (id serial PRIMARY KEY, name text NOT NULL UNIQUE);\nINSERT INTO plans VALUES (1, 'free'), (2, 'team');\n",
    );
    write(
        root,
        "db/migrations/2019-01-01-000000_create_plans/down.sql",
        "",
    );
    write(
        root,
        "db/migrations/2019-02-01-000000_create_accounts/up.sql",
        "CREATE TABLE accounts (id bigserial PRIMARY KEY, email text NOT NULL, plan_id integer NOT NULL REFERENCES plans (id));\n",
    );
    write(
        root,
        "db/migrations/2019-02-01-000000_create_accounts/down.sql",
        "DROP TABLE accounts;\n",
    );
    write(
        root,
        "db/migrations/2019-03-01-000000_geography/up.sql",
        &format!("CREATE EXTENSION {MISSING_EXTENSION};\n"),
    );
    write(
        root,
        "db/migrations/2019-03-01-000000_geography/down.sql",
        &format!("DROP EXTENSION {MISSING_EXTENSION};\n"),
    );
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "history"]);
    git(root, &["checkout", "-qb", "pr"]);
    write(
        root,
        "db/migrations/2026-01-01-000000_accounts_nickname/up.sql",
        "SET lock_timeout = '1s';\nDO $$ BEGIN\n  IF NOT EXISTS (SELECT FROM plans WHERE name = 'free') THEN\n    RAISE EXCEPTION 'the free plan is missing';\n  END IF;\nEND $$;\nALTER TABLE accounts ADD COLUMN nickname text;\n",
    );
    write(
        root,
        "db/migrations/2026-01-01-000000_accounts_nickname/down.sql",
        "SET lock_timeout = '1s';\nALTER TABLE accounts DROP COLUMN nickname;\n",
    );
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "nickname"]);
    dir
}

fn stage_line<'a>(stdout: &'a str, stage: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.starts_with(&format!("{stage}: ")))
        .unwrap_or_else(|| panic!("no {stage} line in {stdout}"))
}

#[test]
fn history_is_applied_once_and_the_new_migration_is_judged() {
    let workspace = foreign_workspace();
    let (code, stdout, stderr) = check_contract(workspace.path(), &["--seed-rows", "200"]);
    assert_eq!(
        stage_line(&stdout, "schemas"),
        "schemas: skipped, no `[schemas] command` in plumb.toml to generate the API schemas"
    );
    let live = stage_line(&stdout, "live");
    assert!(
        live.starts_with(
            "live: ok, 1 migrations apply, revert to the same catalog and apply again on a fresh database"
        ),
        "the new migration read the reference rows beside the seed rows: {stdout}{stderr}"
    );
    assert!(
        live.contains("; 3 applied as history (in the base ")
            && live.contains(", 1 of them failed)"),
        "{live}"
    );
    // The failure of history is said once, with the extension it needs and the way past it;
    // the empty down.sql of history is never run.
    let said: Vec<&str> = stderr.lines().filter(|l| l.contains("history:")).collect();
    assert_eq!(said.len(), 1, "{stderr}");
    assert!(said[0].contains("2019-03-01-000000_geography"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "it needs the extension `{MISSING_EXTENSION}`, which this server does not have: point DATABASE_URL at a server that has it"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("[live] skip = [\"2019-03-01-000000_geography\"]"),
        "{stderr}"
    );
    assert!(!stderr.contains("live-migration-failed"), "{stderr}");
    assert!(!stderr.contains("the file is empty"), "{stderr}");
    // The reference rows took keys 1 and 2 without the sequence: seeding starts past them.
    assert!(!stderr.contains("could not be seeded"), "{stderr}");
    // Without a terminal, one progress line per migration.
    assert!(
        stderr.contains("live: [1/4] applying as history 2019-01-01-000000_create_plans (")
            && stderr.contains("live: [4/4] judging 2026-01-01-000000_accounts_nickname ("),
        "{stderr}"
    );
    assert_eq!(code, exit_of_static(&stdout), "{stdout}{stderr}");
}

/// The exit code the static stage's line implies: the live stage and the schemas stage are
/// clean here, so the whole run ends as the static stage does.
fn exit_of_static(stdout: &str) -> i32 {
    i32::from(stage_line(stdout, "static").starts_with("static: failed"))
}

#[test]
fn a_skipped_migration_is_neither_applied_nor_reported_as_failing() {
    let workspace = foreign_workspace();
    write(
        workspace.path(),
        "plumb.toml",
        "[live]\nskip = [\"2019-03-01-000000\"]\n",
    );
    let (_, stdout, stderr) = check_contract(workspace.path(), &["--seed-rows", "50"]);
    let live = stage_line(&stdout, "live");
    assert!(
        live.starts_with("live: ok, 1 migrations"),
        "{stdout}{stderr}"
    );
    assert!(live.contains("1 skipped by [live] skip"), "{live}");
    assert!(!live.contains("failed"), "{live}");
    assert!(!stderr.contains("history:"), "{stderr}");
}

#[test]
fn without_a_base_every_migration_is_judged_and_history_failures_fail() {
    let workspace = foreign_workspace();
    let (code, stdout, stderr) =
        check_contract(workspace.path(), &["--no-base", "--seed-rows", "50"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stage_line(&stdout, "live").starts_with("live: failed"),
        "{stdout}"
    );
    // The first migration's empty down.sql is the first thing PostgreSQL cannot run.
    assert!(
        stderr.contains("2019-01-01-000000_create_plans/down.sql: reverting 2019-01-01-000000_create_plans failed: the file is empty"),
        "{stderr}"
    );
}

#[test]
fn the_schemas_stage_runs_the_configured_generator_and_reports_each_stale_file() {
    let workspace = foreign_workspace();
    let root = workspace.path();
    write(
        root,
        "plumb.toml",
        "[live]\nskip = [\"20190301000000\"]\n\n[schemas]\ncommand = \"mkdir -p \\\"$PLUMB_SCHEMAS_OUT/v1\\\" && printf '{\\\"type\\\":\\\"object\\\"}' > \\\"$PLUMB_SCHEMAS_OUT/v1/Account.json\\\"\"\n",
    );
    write(root, "schemas/v1/Account.json", "{}");
    write(root, "schemas/v1/Gone.json", "{}");
    let (code, stdout, stderr) = check_contract(root, &["--no-live", "--format", "json"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let document: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let stale: Vec<&str> = document["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "A009")
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        stale,
        ["schemas/v1/Account.json", "schemas/v1/Gone.json"],
        "{stdout}"
    );
    let stages: Vec<(&str, u64)> = document["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["stage"].as_str().unwrap(), s["exit"].as_u64().unwrap()))
        .collect();
    assert_eq!(stages[0], ("schemas", 1), "{stdout}");
    assert_eq!(stages[2], ("live", 0), "{stdout}");
    assert!(
        stderr.contains("schemas: failed, 2 files out of date"),
        "{stderr}"
    );

    // Once the committed files are what the generator writes, the stage is clean.
    write(root, "schemas/v1/Account.json", "{\"type\":\"object\"}");
    fs::remove_file(root.join("schemas/v1/Gone.json")).unwrap();
    let (_, stdout, _) = check_contract(root, &["--no-live"]);
    assert_eq!(
        stage_line(&stdout, "schemas"),
        "schemas: ok, 1 files up to date"
    );
}

#[test]
fn a_generator_that_fails_is_a_stage_that_could_not_run() {
    let workspace = foreign_workspace();
    write(
        workspace.path(),
        "plumb.toml",
        "[schemas]\ncommand = \"echo 'no generator here' >&2; exit 3\"\n",
    );
    let (code, stdout, stderr) = check_contract(workspace.path(), &["--no-live"]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert_eq!(stage_line(&stdout, "schemas"), "schemas: could not run");
    assert!(stderr.contains("no generator here"), "{stderr}");
}

#[test]
fn github_annotations_point_at_the_line_postgres_refused() {
    let workspace = foreign_workspace();
    let root = workspace.path();
    write(root, "plumb.toml", "[live]\nskip = [\"20190301000000\"]\n");
    write(
        root,
        "db/migrations/2026-02-01-000000_broken/up.sql",
        "SET lock_timeout = '1s';\nALTER TABLE accounts ADD COLUMN note text NUL;\n",
    );
    write(
        root,
        "db/migrations/2026-02-01-000000_broken/down.sql",
        "SET lock_timeout = '1s';\nALTER TABLE accounts DROP COLUMN note;\n",
    );
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "broken"]);
    let (code, stdout, stderr) = check_contract(root, &["--format", "github", "--seed-rows", "10"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.lines().all(|l| l.starts_with("::")),
        "stdout holds annotations only: {stdout}"
    );
    assert!(
        stdout.lines().any(|l| l.starts_with(
            "::error file=db/migrations/2026-02-01-000000_broken/up.sql,line=2,col=43,"
        ) && l.contains("title=L001 live-migration-failed")),
        "{stdout}"
    );
    assert!(stderr.contains("live: failed"), "{stderr}");
}

#[test]
fn a_skip_that_names_no_migration_is_refused_naming_the_file() {
    let workspace = foreign_workspace();
    write(
        workspace.path(),
        "plumb.toml",
        "[live]\nskip = [\"2019-03-01-00000\"]\n",
    );
    let (code, stdout, stderr) = check_contract(workspace.path(), &["--seed-rows", "10"]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert_eq!(stage_line(&stdout, "live"), "live: could not run");
    assert!(
        stderr.contains("plumb.toml")
            && stderr.contains("[live] skip = [\"2019-03-01-00000\"] names no migration"),
        "{stderr}"
    );
}

#[test]
fn a_new_migration_that_fails_after_history_failed_says_it_may_follow_from_it() {
    let workspace = foreign_workspace();
    let root = workspace.path();
    write(
        root,
        "db/migrations/2026-02-01-000000_needs_the_extension/up.sql",
        &format!("SET lock_timeout = '1s';\nALTER EXTENSION {MISSING_EXTENSION} UPDATE;\n"),
    );
    write(
        root,
        "db/migrations/2026-02-01-000000_needs_the_extension/down.sql",
        "SET lock_timeout = '1s';\nSELECT 1;\n",
    );
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "needs the extension"]);
    let (code, stdout, stderr) = check_contract(root, &["--seed-rows", "10"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stage_line(&stdout, "live").starts_with("live: failed"),
        "{stdout}"
    );
    let failure = stderr
        .find("error[live-migration-failed]: db/migrations/2026-02-01-000000_needs_the_extension/up.sql")
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        stderr[failure..].contains(
            "note: 1 historical migrations failed before it (see the warning above): this failure may follow from theirs"
        ),
        "{stderr}"
    );
}

/// Starts the live stage on a workspace whose second migration sleeps for ten minutes, waits
/// until the stage is applying it (so its database exists and is in use, and the stage cannot
/// finish first), interrupts it with SIGINT and gives its pid and exit code.
fn interrupted_live_stage(database_url: Option<&str>) -> (u32, Option<i32>) {
    use std::io::{BufRead, BufReader};
    let workspace = tempfile::tempdir().unwrap();
    let root = workspace.path();
    write(
        root,
        "migrations/2026-01-01-000000_items/up.sql",
        "CREATE TABLE items (id bigint PRIMARY KEY);\n",
    );
    write(
        root,
        "migrations/2026-01-01-000000_items/down.sql",
        "DROP TABLE items;\n",
    );
    write(
        root,
        "migrations/2026-01-02-000000_slow/up.sql",
        "SELECT pg_sleep(600);\n",
    );
    write(
        root,
        "migrations/2026-01-02-000000_slow/down.sql",
        "SELECT 1;\n",
    );
    let mut command = Command::new(env!("CARGO_BIN_EXE_plumb"));
    command
        .arg("live")
        .arg(root)
        .args(["--no-base", "--seed-rows", "10"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    match database_url {
        Some(url) => command.env("DATABASE_URL", url),
        None => command.env_remove("DATABASE_URL"),
    };
    let mut child = command.spawn().unwrap();
    let pid = child.id();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let started = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|line| line.starts_with("live: [2/2]"));
    assert!(started, "the live stage never reached its second migration");
    let target = nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap());
    nix::sys::signal::kill(target, nix::sys::signal::Signal::SIGINT).unwrap();
    std::thread::spawn(move || lines.for_each(drop));
    let status = child.wait().unwrap();
    (pid, status.code())
}

#[test]
fn ctrl_c_during_the_live_stage_drops_its_database() {
    use diesel::prelude::*;
    let server = plumb_pg::PgServer::shared().unwrap();
    let (pid, code) = interrupted_live_stage(Some(server.url().expose()));
    assert_eq!(code, Some(130));
    #[derive(QueryableByName)]
    struct Left {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let left: Left = diesel::sql_query(format!(
        "SELECT count(*) AS n FROM pg_database WHERE shobj_description(oid, 'pg_database') LIKE '%:{pid}:%' OR shobj_description(oid, 'pg_database') LIKE '%:{pid}'"
    ))
    .get_result(&mut server.connect().unwrap())
    .unwrap();
    assert_eq!(left.n, 0, "a database of process {pid} is left");
}

#[test]
fn ctrl_c_during_the_live_stage_removes_its_throwaway_cluster() {
    let (pid, code) = interrupted_live_stage(None);
    assert_eq!(code, Some(130));
    let left: Vec<_> = fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("plumb-pg-"))
        .filter(|e| {
            fs::read_to_string(e.path().join("owner.pid")).is_ok_and(|owner| {
                let owner = owner.trim();
                owner == pid.to_string() || owner.starts_with(&format!("{pid}:"))
            })
        })
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}
