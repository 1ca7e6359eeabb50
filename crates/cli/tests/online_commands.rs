//! `plumb migrate`, `backfill`, `not-null` and `live` through the binary, on a real PostgreSQL: output,
//! exit codes, and a backfill killed mid-way.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use plumb_pg::{PgServer, TestDatabase};

fn plumb(db: &TestDatabase<'_>, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_plumb"));
    command
        .args(args)
        .env("DATABASE_URL", db.url().expose())
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn text(output: &Output) -> (i32, String, String) {
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

const BACKFILL: &[&str] = &[
    "backfill",
    "--table",
    "items",
    "--column",
    "note",
    "--set",
    "'n' || id",
    "--batch-ms",
    "5",
    "--max-batch",
    "100",
    "--pause-ms",
    "15",
];

fn items(db: &TestDatabase<'_>, rows: i64) {
    db.connect()
        .unwrap()
        .batch_execute(&format!(
            "CREATE TABLE items (id bigint PRIMARY KEY, note text); \
             INSERT INTO items SELECT g, CASE WHEN g % 3 = 0 THEN 'app' END FROM generate_series(1, {rows}) g;"
        ))
        .unwrap();
}

#[derive(QueryableByName, Debug, PartialEq, Eq)]
struct Row {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Nullable<Text>)]
    note: Option<String>,
}

fn notes(db: &TestDatabase<'_>) -> Vec<Row> {
    diesel::sql_query("SELECT id, note FROM items ORDER BY id")
        .load(&mut db.connect().unwrap())
        .unwrap()
}

fn filled_so_far(db: &TestDatabase<'_>) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    diesel::sql_query("SELECT coalesce((SELECT rows_filled FROM plumb.backfills WHERE name = 'items.note'), 0) AS n")
        .get_result::<N>(&mut db.connect().unwrap())
        .map(|n| n.n)
        .unwrap_or(0)
}

/// Waits until the running backfill has committed some batches.
fn wait_for_progress(db: &TestDatabase<'_>, child: &mut Child) {
    let started = Instant::now();
    while filled_so_far(db) < 300 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the backfill ended too early"
        );
        assert!(started.elapsed() < Duration::from_secs(60), "no progress");
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_backfill_killed_mid_way_resumes_and_ends_as_an_uninterrupted_one() {
    let server = PgServer::shared().unwrap();
    let (whole, killed) = (
        TestDatabase::empty(server).unwrap(),
        TestDatabase::empty(server).unwrap(),
    );
    items(&whole, 3_000);
    items(&killed, 3_000);

    let (code, stdout, stderr) = text(&plumb(&whole, BACKFILL).output().unwrap());
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("backfill items.note: 2,000 rows filled in "),
        "{stdout}"
    );
    assert!(
        stdout.trim_end().ends_with("verified: no row left"),
        "{stdout}"
    );
    assert!(
        stderr.contains("progress backfill=items.note"),
        "structured progress lines off a terminal: {stderr}"
    );

    let mut child = plumb(&killed, BACKFILL).spawn().unwrap();
    wait_for_progress(&killed, &mut child);
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    let committed = filled_so_far(&killed);
    assert!((300..2_000).contains(&committed), "{committed}");

    let (code, stdout, _) = text(&plumb(&killed, BACKFILL).output().unwrap());
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with("backfill items.note (resumed): "),
        "{stdout}"
    );
    assert!(stdout.contains("; 2,000 over every run;"), "{stdout}");
    assert_eq!(notes(&whole), notes(&killed));
}

#[test]
fn ctrl_c_stops_a_backfill_between_batches_with_exit_130() {
    let server = PgServer::shared().unwrap();
    let db = TestDatabase::empty(server).unwrap();
    items(&db, 3_000);
    let mut child = plumb(&db, BACKFILL).spawn().unwrap();
    wait_for_progress(&db, &mut child);
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let (code, stdout, _) = text(&child.wait_with_output().unwrap());
    assert_eq!(code, 130);
    assert!(
        stdout
            .trim_end()
            .ends_with("stopped: run the same command again to resume"),
        "{stdout}"
    );
    assert!(notes(&db).iter().any(|r| r.note.is_none()));
    assert_eq!(text(&plumb(&db, BACKFILL).output().unwrap()).0, 0);
    assert!(notes(&db).iter().all(|r| r.note.is_some()));
}

/// A migration folder `migrations/<name>` of the workspace at `root`, with its two files.
fn write_migration(root: &std::path::Path, name: &str, up: &str, down: &str) -> std::path::PathBuf {
    let folder = root.join("migrations").join(name);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("up.sql"), up).unwrap();
    std::fs::write(folder.join("down.sql"), down).unwrap();
    folder
}

/// `plumb not-null items.note` on the workspace `dir`: exit code, stdout, stderr.
fn not_null(db: &TestDatabase<'_>, dir: &str) -> (i32, String, String) {
    text(
        &plumb(db, &["not-null", "items.note", "--workspace", dir])
            .output()
            .unwrap(),
    )
}

/// Whether `items.<column>` may be NULL in the database; `None` when there is no such column.
fn column_is_nullable(db: &TestDatabase<'_>, column: &str) -> Option<bool> {
    #[derive(QueryableByName)]
    struct Nullable {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        nullable: bool,
    }
    diesel::sql_query(
        "SELECT is_nullable = 'YES' AS nullable FROM information_schema.columns \
         WHERE table_name = 'items' AND column_name = $1",
    )
    .bind::<Text, _>(column)
    .get_result::<Nullable>(&mut db.connect().unwrap())
    .optional()
    .unwrap()
    .map(|n| n.nullable)
}

/// A workspace whose one migration creates `items (id, note)`, applied to `db`.
fn items_workspace(db: &TestDatabase<'_>) -> tempfile::TempDir {
    let workspace = tempfile::tempdir().unwrap();
    write_migration(
        workspace.path(),
        "2026-01-01-000000-0000_items",
        "CREATE TABLE items (id bigint PRIMARY KEY, note text);\n",
        "DROP TABLE items;\n",
    );
    let dir = workspace.path().to_str().unwrap();
    let (code, _, stderr) = text(
        &plumb(db, &["migrate", "--workspace", dir])
            .output()
            .unwrap(),
    );
    assert_eq!(code, 0, "{stderr}");
    workspace
}

fn migration_count(workspace: &tempfile::TempDir) -> usize {
    std::fs::read_dir(workspace.path().join("migrations"))
        .unwrap()
        .count()
}

#[test]
fn not_null_refuses_while_rows_are_null_migrations_are_pending_or_the_flag_is_off_writing_nothing()
{
    let server = PgServer::shared().unwrap();
    let db = TestDatabase::empty(server).unwrap();
    let workspace = items_workspace(&db);
    let dir = workspace.path().to_str().unwrap();
    let mut conn = db.connect().unwrap();
    conn.batch_execute("INSERT INTO items VALUES (1, 'a'), (2, NULL)")
        .unwrap();
    let (code, _, stderr) = not_null(&db, dir);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("still has 1 NULL row(s)"), "{stderr}");
    assert_eq!(migration_count(&workspace), 1, "nothing written");

    conn.batch_execute("UPDATE items SET note = 'b' WHERE id = 2")
        .unwrap();
    let extra = write_migration(
        workspace.path(),
        "2026-01-02-000000-0000_tag",
        "ALTER TABLE items ADD COLUMN tag text;\n",
        "ALTER TABLE items DROP COLUMN tag;\n",
    );
    let (code, _, stderr) = not_null(&db, dir);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("1 other migration(s) are pending (2026-01-02-000000-0000_tag)"),
        "{stderr}"
    );
    assert_eq!(migration_count(&workspace), 2, "nothing written");
    assert_eq!(column_is_nullable(&db, "note"), Some(true));

    // The flag named after the column is off: code that does not write it may be serving.
    std::fs::remove_dir_all(&extra).unwrap();
    conn.batch_execute(
        "CREATE TABLE feature_flags (name text PRIMARY KEY, enabled boolean NOT NULL); \
         INSERT INTO feature_flags VALUES ('items.note', false)",
    )
    .unwrap();
    let (code, _, stderr) = not_null(&db, dir);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("the feature flag items.note is off"),
        "{stderr}"
    );
    assert_eq!(migration_count(&workspace), 1, "nothing written");
    conn.batch_execute("UPDATE feature_flags SET enabled = true")
        .unwrap();
    let (code, _, stderr) = not_null(&db, dir);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(column_is_nullable(&db, "note"), Some(false));
}

#[test]
fn migrate_then_not_null_report_each_step() {
    let server = PgServer::shared().unwrap();
    let db = TestDatabase::empty(server).unwrap();
    let workspace = tempfile::tempdir().unwrap();
    write_migration(
        workspace.path(),
        "2026-01-01-000000-0000_items",
        "CREATE TABLE items (id bigint PRIMARY KEY, note text);\nINSERT INTO items VALUES (1, 'a');\n",
        "DROP TABLE items;\n",
    );
    let dir = workspace.path().to_str().unwrap();

    let (code, stdout, stderr) = text(
        &plumb(&db, &["migrate", "--workspace", dir, "--phase", "pre"])
            .output()
            .unwrap(),
    );
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    let policy = plumb_online::LockPolicy::default();
    assert_eq!(
        lines[0],
        format!(
            "{} (pre-deploy): 1 pending on {}; lock_timeout {:.1} ms per attempt",
            db.name(),
            db.url().describe(),
            policy.lock_timeout.as_secs_f64() * 1000.0
        )
    );
    assert_eq!(lines[1], "applying 2026-01-01-000000-0000_items");
    assert!(
        lines[2].starts_with("  applied in ")
            && lines[2].contains(" after 1 attempt(s); no query was seen waiting behind it;"),
        "{stdout}"
    );
    assert_eq!(lines[3], "migrate: 1 applied");

    let (code, stdout, stderr) = not_null(&db, dir);
    assert_eq!(code, 0, "{stderr}");
    let written: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("wrote "))
        .collect();
    assert_eq!(written.len(), 3, "{stdout}");
    assert!(stdout.contains(" (all): 3 pending on "), "{stdout}");
    assert!(stdout.contains("migrate: 3 applied\n"), "{stdout}");
    assert_eq!(
        stdout.trim_end().lines().last(),
        Some("items.note is NOT NULL, in the migrations and the database")
    );
    assert_eq!(column_is_nullable(&db, "note"), Some(false));
    // Run again: the migrations and the database already agree; nothing is written.
    let (code, stdout, _) = not_null(&db, dir);
    assert_eq!(
        (code, stdout.trim()),
        (
            0,
            "items.note is already NOT NULL, in the migrations and the database"
        )
    );

    // The same in JSON Lines, with the policy plumb.toml sets: one object per event.
    std::fs::write(
        workspace.path().join("plumb.toml"),
        "[lock]\napplied-by = \"plumb\"\ntimeout-ms = 35\n",
    )
    .unwrap();
    write_migration(
        workspace.path(),
        "2026-01-02-000000-0000_tag",
        "ALTER TABLE items ADD COLUMN tag text;\n",
        "ALTER TABLE items DROP COLUMN tag;\n",
    );
    let (code, stdout, stderr) = text(
        &plumb(&db, &["migrate", "--workspace", dir, "--format", "json"])
            .output()
            .unwrap(),
    );
    assert_eq!(code, 0, "{stderr}");
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["plan", "starting", "applied", "done"], "{stdout}");
    assert_eq!(events[0]["lock_timeout_ms"], 35, "{stdout}");
    assert_eq!(events[2]["attempts"], 1, "{stdout}");
    assert_eq!(events[2]["queue"]["sessions_waiting_behind"], 0, "{stdout}");

    let (code, _, stderr) = text(
        &plumb(&db, &["not-null", "items", "--workspace", dir])
            .output()
            .unwrap(),
    );
    assert_eq!(
        (code, stderr.trim()),
        (
            2,
            "error: \"items\" is not `table.column` with plain SQL names (lower-case letters, digits and _)"
        )
    );
    let (code, _, stderr) = text(
        &plumb(&db, &["migrate", "--lock-timeout-ms", "0"])
            .output()
            .unwrap(),
    );
    assert_eq!(code, 2, "{stderr}");
}

/// A workspace of one or two migrations, the second failing on a typo.
fn live_workspace(failing: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut migrations = vec![(
        "2026-01-01-000000-0000_items",
        "CREATE TABLE items (id bigint PRIMARY KEY, note text);\n",
        "DROP TABLE items;\n",
    )];
    if failing {
        migrations.push((
            "2026-01-02-000000-0000_typo",
            "SET lock_timeout = '20ms';\nALTER TABLE items ADD COLUMN tag text NUL;\n",
            "ALTER TABLE items DROP COLUMN tag;\n",
        ));
    }
    for (name, up, down) in migrations {
        write_migration(dir.path(), name, up, down);
    }
    dir
}

#[test]
fn live_checks_any_workspace_with_the_stage_line_and_exit_code() {
    let server = PgServer::shared().unwrap();
    let db = TestDatabase::empty(server).unwrap();

    let clean = live_workspace(false);
    let output = plumb(&db, &["live", &clean.path().display().to_string()])
        .output()
        .unwrap();
    let (code, stdout, stderr) = text(&output);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.starts_with("live: ok, 1 migrations apply"),
        "{stdout}"
    );

    let failing = live_workspace(true);
    let output = plumb(&db, &["live", &failing.path().display().to_string()])
        .output()
        .unwrap();
    let (code, stdout, stderr) = text(&output);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains(
            "error[live-migration-failed]: migrations/2026-01-02-000000-0000_typo/up.sql:2:"
        ),
        "the file, relative to the workspace, and the line: {stderr}"
    );
    assert!(stdout.contains("live: failed"), "{stdout}");

    let output = plumb(&db, &["live", "/nonexistent-workspace"])
        .output()
        .unwrap();
    let (code, stdout, stderr) = text(&output);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stdout.contains("live: could not run"), "{stdout}");
}

/// Each retry line reaches a reader of the output while the command still runs, even through a
/// pipe, naming the session that holds the lock: the holder here lets go only once it has read
/// that line.
#[test]
fn not_null_streams_each_retry_as_it_happens_naming_the_holder() {
    use std::io::{BufRead, BufReader};
    let server = PgServer::shared().unwrap();
    let db = TestDatabase::empty(server).unwrap();
    let workspace = items_workspace(&db);
    let dir = workspace.path().to_str().unwrap();
    db.connect()
        .unwrap()
        .batch_execute("INSERT INTO items SELECT g, 'n' FROM generate_series(1, 200) g")
        .unwrap();
    let mut holder = db.connect().unwrap();
    for sql in [
        "SET application_name = 'holder'",
        "BEGIN",
        "SELECT count(*) FROM items",
    ] {
        holder.batch_execute(sql).unwrap();
    }
    let mut child = plumb(
        &db,
        &[
            "not-null",
            "items.note",
            "--workspace",
            dir,
            "--lock-timeout-ms",
            "30",
            "--attempts",
            "500",
        ],
    )
    .spawn()
    .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let retry = lines
        .by_ref()
        .map(Result::unwrap)
        .find(|line| line.contains("stopped by lock_timeout"))
        .expect("a retry line while the lock is held");
    assert!(
        retry.contains("held by pid ") && retry.contains("(holder): SELECT count(*) FROM items"),
        "{retry}"
    );
    holder.batch_execute("COMMIT").unwrap();
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    let status = child.wait().unwrap();
    assert!(status.success(), "{rest:?}");
    assert!(
        rest.last()
            .is_some_and(|l| l == "items.note is NOT NULL, in the migrations and the database"),
        "{rest:?}"
    );
}

#[test]
fn a_server_that_accepts_and_never_answers_ends_in_an_error_not_a_wait() {
    // Accepts connections (the kernel's backlog does) and never says a word.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let child = Command::new(env!("CARGO_BIN_EXE_plumb"))
        .args(["migrate", "--workspace"])
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
        .env(
            "DATABASE_URL",
            format!("postgres://app@127.0.0.1:{port}/accounts"),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The exit is the event waited for; two minutes, far beyond the 10 s connect_timeout
    // plumb sets, only keep a regression from hanging the suite.
    let pid = child.id();
    let (done, exited) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    let Ok(output) = exited.recv_timeout(Duration::from_secs(120)) else {
        let _ = Command::new("kill")
            .arg("-KILL")
            .arg(pid.to_string())
            .status();
        panic!("plumb migrate still waits on a silent server after two minutes");
    };
    let output = output.unwrap();
    let status = output.status;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "cannot connect to PostgreSQL at host 127.0.0.1 port {port}"
        )),
        "{stderr}"
    );
    drop(silent);
}

#[test]
fn set_and_where_are_one_expression_each_or_nothing_runs() {
    let server = PgServer::shared().unwrap();
    let db = TestDatabase::empty(server).unwrap();
    items(&db, 100);
    let before = notes(&db);
    for (option, given) in [
        ("--where", "note IS NULL) OR (true"),
        ("--where", "true; DELETE FROM items"),
        ("--set", "lower("),
        ("--set", "'x' -- the rest"),
    ] {
        let mut args = vec![
            "backfill", "--table", "items", "--column", "note", "--set", "'filled'",
        ];
        if option == "--set" {
            args[6] = given;
        } else {
            args.extend([option, given]);
        }
        let (code, _, stderr) = text(&plumb(&db, &args).output().unwrap());
        assert_eq!(code, 2, "{option} {given}: {stderr}");
        assert!(
            stderr.contains(&format!("{option} {given:?} is refused")),
            "{stderr}"
        );
    }
    assert_eq!(notes(&db), before, "no row changed");
}

/// A backfill defined in the repository, `backfills/<name>.toml`, runs by its name; a file
/// that is wrong is refused naming it, before any row is touched.
#[test]
fn a_backfill_defined_in_the_workspace_runs_by_name() {
    let server = PgServer::shared().unwrap();
    let db = TestDatabase::empty(server).unwrap();
    items(&db, 500);
    let workspace = tempfile::tempdir().unwrap();
    let dir = workspace.path().to_str().unwrap();
    let backfills = workspace.path().join("backfills");
    std::fs::create_dir_all(&backfills).unwrap();
    std::fs::write(
        backfills.join("notes.toml"),
        "# Every item gets a note from its id.\ntable = \"items\"\ncolumn = \"note\"\nset = \"'n' || id\"\nbatch-ms = 5\nmax-batch = 100\n",
    )
    .unwrap();
    std::fs::write(
        backfills.join("typo.toml"),
        "table = \"items\"\ncolumn = \"note\"\nset = \"'n'\"\nbatch_size = 10\n",
    )
    .unwrap();

    let (code, stdout, stderr) = text(
        &plumb(&db, &["backfill", "typo", "--workspace", dir])
            .output()
            .unwrap(),
    );
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.contains("typo.toml") && stderr.contains("batch_size"),
        "{stderr}"
    );
    let (code, _, stderr) = text(
        &plumb(&db, &["backfill", "nope", "--workspace", dir])
            .output()
            .unwrap(),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("the backfills defined are notes, typo"),
        "{stderr}"
    );
    let (code, _, stderr) = text(
        &plumb(&db, &["backfill", "notes", "--table", "items"])
            .output()
            .unwrap(),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        notes(&db).iter().any(|r| r.note.is_none()),
        "nothing was filled by a refused run"
    );

    let (code, stdout, stderr) = text(
        &plumb(&db, &["backfill", "notes", "--workspace", dir])
            .output()
            .unwrap(),
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.starts_with("backfill notes: "), "{stdout}");
    for row in notes(&db) {
        let expected = if row.id % 3 == 0 {
            "app".to_owned()
        } else {
            format!("n{}", row.id)
        };
        assert_eq!(row.note.as_deref(), Some(expected.as_str()));
    }
}

/// Beside a standby whose replay is held back, the progress says at once that the backfill
/// waits and why, naming the standby; it finishes once the replay resumes.
#[test]
fn a_backfill_says_when_it_waits_for_a_standby() {
    use std::io::{BufRead, BufReader};
    let cluster = plumb_pg::ThrowawayCluster::start_on(
        plumb_pg::PgBinaries::locate_with_standbys().unwrap(),
        &[],
    )
    .unwrap();
    let standby = cluster.start_standby("replica").unwrap();
    let mut conn = cluster.url().connect().unwrap();
    conn.batch_execute(
        "CREATE TABLE items (id bigint PRIMARY KEY, note text); \
         INSERT INTO items SELECT g, NULL FROM generate_series(1, 60000) g",
    )
    .unwrap();
    let mut replica = standby.url().connect().unwrap();
    replica
        .batch_execute("SELECT pg_wal_replay_pause()")
        .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_plumb"))
        .args([
            "backfill",
            "--table",
            "items",
            "--column",
            "note",
            "--set",
            "'n' || id",
            "--max-batch",
            "5000",
            "--max-replica-lag-mb",
            "1",
        ])
        .env("DATABASE_URL", cluster.url().expose())
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let paused = lines
        .by_ref()
        .map(Result::unwrap)
        .find(|line| line.contains(" paused "))
        .expect("a line saying the backfill waits");
    assert!(
        paused.contains("reason=standby replica") && paused.contains("behind the primary"),
        "{paused}"
    );
    replica
        .batch_execute("SELECT pg_wal_replay_resume()")
        .unwrap();
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    let status = child.wait().unwrap();
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    assert!(status.success(), "{rest:?}{stdout}");
    assert!(stdout.contains("verified: no row left"), "{stdout}");
}

/// `migrate --standby URL` says, after each migration, how the standby replayed it.
#[test]
fn migrate_reports_each_standbys_replay() {
    let cluster = plumb_pg::ThrowawayCluster::start_on(
        plumb_pg::PgBinaries::locate_with_standbys().unwrap(),
        &[],
    )
    .unwrap();
    let standby = cluster.start_standby("replica").unwrap();
    let workspace = tempfile::tempdir().unwrap();
    write_migration(
        workspace.path(),
        "2026-01-01-000000-0000_items",
        "CREATE TABLE items (id bigint PRIMARY KEY);\n",
        "DROP TABLE items;\n",
    );
    let output = Command::new(env!("CARGO_BIN_EXE_plumb"))
        .args(["migrate", "--workspace"])
        .arg(workspace.path())
        .args(["--standby", standby.url().expose()])
        .env("DATABASE_URL", cluster.url().expose())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let (code, stdout, stderr) = text(&output);
    assert_eq!(code, 0, "{stderr}");
    let line = format!("  standby {}: replayed ", standby.url().describe());
    assert!(
        stdout.contains(&line) && stdout.contains("after the commit; no query of it cancelled"),
        "{stdout}"
    );
}

/// `migrate --fleet`: the canary first, then waves; a failure halts the fleet before the next
/// wave, the report says where each database stands, and a run after the mend continues.
#[test]
fn a_fleet_is_migrated_canary_first_halts_at_a_failure_and_continues_when_run_again() {
    let server = PgServer::shared().unwrap();
    let databases: Vec<TestDatabase<'_>> = (0..3)
        .map(|_| TestDatabase::empty(server).unwrap())
        .collect();
    let workspace = tempfile::tempdir().unwrap();
    for (name, up, down) in [
        (
            "2026-01-01-000000-0000_items",
            "CREATE TABLE items (id bigint PRIMARY KEY);\n",
            "DROP TABLE items;\n",
        ),
        (
            "2026-01-02-000000-0000_extra",
            "CREATE TABLE extra (id bigint PRIMARY KEY);\n",
            "DROP TABLE extra;\n",
        ),
    ] {
        write_migration(workspace.path(), name, up, down);
    }
    // The second database already has a table of that name: its second migration fails.
    databases[1]
        .connect()
        .unwrap()
        .batch_execute("CREATE TABLE extra (note text)")
        .unwrap();
    let fleet = workspace.path().join("fleet.txt");
    std::fs::write(
        &fleet,
        format!(
            "# tenants\n{}\n\n{}\n{}\n",
            databases[0].url().expose(),
            databases[1].url().expose(),
            databases[2].url().expose()
        ),
    )
    .unwrap();
    let run = || {
        let output = Command::new(env!("CARGO_BIN_EXE_plumb"))
            .args(["migrate", "--workspace"])
            .arg(workspace.path())
            .arg("--fleet")
            .arg(&fleet)
            .args(["--wave", "1"])
            .env_remove("DATABASE_URL")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        text(&output)
    };
    let describe = |i: usize| databases[i].url().describe();
    let (code, stdout, stderr) = run();
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("fleet: the canary: {}", describe(0))),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("  {}: 2 applied", describe(0))),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("  {}: failed: ", describe(1))),
        "{stdout}"
    );
    assert!(
        !stdout.contains("wave 2"),
        "the fleet halted before wave 2: {stdout}"
    );
    assert!(
        stdout.contains("fleet: halted: 1 database(s) failed, 1 not reached"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("  {}: up to date", describe(0))),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "  {}: failed; 1 pending, from 2026-01-02-000000-0000_extra",
            describe(1)
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "  {}: not reached; 2 pending, from 2026-01-01-000000-0000_items",
            describe(2)
        )),
        "{stdout}"
    );

    databases[1]
        .connect()
        .unwrap()
        .batch_execute("DROP TABLE extra")
        .unwrap();
    let (code, stdout, stderr) = run();
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("  {}: 0 applied", describe(0))),
        "the canary had it all: {stdout}"
    );
    for i in 0..3 {
        assert!(
            stdout.contains(&format!("  {}: up to date", describe(i))),
            "{stdout}"
        );
    }
    // No password of any database is shown: these have none, and the file's lines are never echoed.
    std::fs::write(&fleet, "postgres://app:s3cret@/x y\n").unwrap();
    let (code, _, stderr) = run();
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("fleet.txt:1: not a database URL") && !stderr.contains("s3cret"),
        "{stderr}"
    );
}

/// `migrate --fleet-query`: the fleet is what a read-only query on DATABASE_URL lists, by
/// database name on that server or by URL.
#[test]
fn a_fleet_listed_by_a_query_is_migrated_like_a_fleet_file() {
    let server = PgServer::shared().unwrap();
    let control = TestDatabase::empty(server).unwrap();
    let tenants: Vec<TestDatabase<'_>> = (0..2)
        .map(|_| TestDatabase::empty(server).unwrap())
        .collect();
    let workspace = tempfile::tempdir().unwrap();
    write_migration(
        workspace.path(),
        "2026-01-01-000000-0000_items",
        "CREATE TABLE items (id bigint PRIMARY KEY);\n",
        "DROP TABLE items;\n",
    );
    let names: Vec<String> = tenants
        .iter()
        .map(|t| t.url().database().unwrap())
        .collect();
    // One by name, one by URL, as a control table would hold them.
    control
        .connect()
        .unwrap()
        .batch_execute(&format!(
            "CREATE TABLE tenants (position int, target text); \
             INSERT INTO tenants VALUES (1, '{}'), (2, '{}')",
            names[0],
            tenants[1].url().expose()
        ))
        .unwrap();
    let run = |sql: &str| {
        let output = Command::new(env!("CARGO_BIN_EXE_plumb"))
            .args(["migrate", "--workspace"])
            .arg(workspace.path())
            .args(["--fleet-query", sql])
            .env("DATABASE_URL", control.url().expose())
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        text(&output)
    };
    let (code, stdout, stderr) = run("SELECT target FROM tenants ORDER BY position -- the tenants");
    assert_eq!(code, 0, "{stdout}{stderr}");
    for tenant in &tenants {
        assert!(
            stdout.contains(&format!("  {}: up to date", tenant.url().describe())),
            "{stdout}"
        );
        let mut conn = tenant.connect().unwrap();
        diesel::sql_query("SELECT 1 FROM items")
            .execute(&mut conn)
            .unwrap();
    }
    assert!(
        stdout.contains(&format!(
            "fleet: the canary: {}",
            tenants[0].url().describe()
        )),
        "{stdout}"
    );
    // The control database is not a member: nothing was applied to it.
    let mut conn = control.connect().unwrap();
    assert!(
        diesel::sql_query("SELECT 1 FROM items")
            .execute(&mut conn)
            .is_err()
    );
    // A row that is no database, and a query with no row, are input errors naming the row.
    let (code, _, stderr) = run("SELECT NULL::text");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("row 1 is NULL"), "{stderr}");
    let (code, _, stderr) = run("SELECT target FROM tenants WHERE false");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("returned no database"), "{stderr}");
}
