//! The migration runner against a real PostgreSQL: lock_timeout retries while another session
//! holds a conflicting lock, the budget, INVALID indexes left by a timed-out concurrent build,
//! one runner at a time, and the deploy phases.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};
use plumb_online::runner::{Phase, RUNNER_LOCK_KEY, RunEvent, run_migrations};
use plumb_online::{LockPolicy, OnlineError};
use plumb_pg::{MigrationFolders, PgServer, TestDatabase};

fn write_migration(root: &Path, name: &str, up: &str, metadata: Option<&str>) {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("up.sql"), up).unwrap();
    std::fs::write(dir.join("down.sql"), "SELECT 1;\n").unwrap();
    if let Some(metadata) = metadata {
        std::fs::write(dir.join("metadata.toml"), metadata).unwrap();
    }
}

const CREATE: &str = "CREATE TABLE items (id bigint PRIMARY KEY, v text);\n\
                      INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 1000) g;\n";

fn quick(attempts: u32, lock_timeout_ms: u64) -> LockPolicy {
    LockPolicy {
        lock_timeout: Duration::from_millis(lock_timeout_ms),
        max_attempts: attempts,
        budget: Duration::from_secs(60),
        first_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(200),
        ..LockPolicy::default()
    }
}

fn run(
    db: &TestDatabase<'_>,
    dir: &Path,
    phase: Phase,
    policy: &LockPolicy,
) -> Result<(Vec<RunEvent>, plumb_online::runner::RunReport), OnlineError> {
    let folders = MigrationFolders::read(dir).unwrap();
    let mut events = Vec::new();
    let report = run_migrations(db.url(), &folders, phase, policy, &mut |e| {
        events.push(e.clone())
    })?;
    Ok((events, report))
}

fn has_column(conn: &mut PgConnection, column: &str) -> bool {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = Bool)]
        found: bool,
    }
    diesel::sql_query(format!(
        "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'items' AND column_name = '{column}') AS found"
    ))
    .get_result::<Found>(conn)
    .unwrap()
    .found
}

/// A migrations directory whose `items` table is created and applied, then a second migration
/// written and left pending.
fn items_then(
    db: &TestDatabase<'_>,
    name: &str,
    up: &str,
    metadata: Option<&str>,
) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_migration(dir.path(), "2026-01-01-000000-0000_items", CREATE, None);
    run(db, dir.path(), Phase::All, &quick(1, 500)).unwrap();
    write_migration(dir.path(), name, up, metadata);
    dir
}

fn wait_for(flag: &AtomicBool) {
    while !flag.load(Ordering::SeqCst) {
        thread::sleep(Duration::from_millis(5));
    }
}

/// A session that holds ACCESS SHARE on `items` (an open transaction that read it) until told.
fn hold_items(db: &TestDatabase<'_>, release: &AtomicBool, held: &AtomicBool) {
    hold(db, "SELECT count(*) FROM items", release, held);
}

/// A session that ran `sql` in a transaction it keeps open until told.
fn hold(db: &TestDatabase<'_>, sql: &str, release: &AtomicBool, held: &AtomicBool) {
    let mut blocker = db.connect().unwrap();
    for sql in ["SET application_name = 'long-report'", "BEGIN", sql] {
        blocker.batch_execute(sql).unwrap();
    }
    held.store(true, Ordering::SeqCst);
    while !release.load(Ordering::SeqCst) {
        thread::sleep(Duration::from_millis(10));
    }
    blocker.batch_execute("COMMIT").unwrap();
}

#[test]
fn a_held_lock_makes_the_runner_retry_without_queueing_readers_and_it_succeeds_once_released() {
    let server = PgServer::shared().unwrap();
    let db = TestDatabase::empty(server).unwrap();
    let dir = items_then(
        &db,
        "2026-01-02-000000-0000_add_note",
        "ALTER TABLE items ADD COLUMN note text;\n",
        None,
    );

    let (release, held, done) = (
        AtomicBool::new(false),
        AtomicBool::new(false),
        AtomicBool::new(false),
    );
    let policy = quick(50, 200);
    let (outcome, reader_worst) = thread::scope(|s| {
        s.spawn(|| hold_items(&db, &release, &held));
        wait_for(&held);
        // A reader of the table all along: queued behind the waiting ALTER, never for longer
        // than about one lock_timeout.
        let reader = s.spawn(|| {
            let mut conn = db.connect().unwrap();
            let mut worst = Duration::ZERO;
            while !done.load(Ordering::SeqCst) {
                let started = Instant::now();
                conn.batch_execute("SELECT count(*) FROM items").unwrap();
                worst = worst.max(started.elapsed());
                thread::sleep(Duration::from_millis(5));
            }
            worst
        });
        let runner = s.spawn(|| run(&db, dir.path(), Phase::All, &policy));
        thread::sleep(Duration::from_millis(1500));
        release.store(true, Ordering::SeqCst);
        let outcome = runner.join().unwrap();
        done.store(true, Ordering::SeqCst);
        (outcome, reader.join().unwrap())
    });
    let (events, report) = outcome.unwrap();
    let applied = &report.applied[0];
    assert_eq!(applied.name, "2026-01-02-000000-0000_add_note");
    assert!(applied.attempts > 1, "it had to retry: {applied:?}");
    assert!(
        applied.lock_wait >= Duration::from_millis(200),
        "{applied:?}"
    );
    assert!(has_column(&mut db.connect().unwrap(), "note"));
    let blocked_by: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            RunEvent::Retrying(retry) => Some(
                retry
                    .blockers
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            _ => None,
        })
        .collect();
    assert!(
        blocked_by
            .iter()
            .any(|b| b.contains("(long-report): SELECT count(*) FROM items")),
        "retries name the session in the way: {blocked_by:?}"
    );
    // Without lock_timeout the reader would have waited the whole 1.5 s behind the ALTER.
    assert!(
        reader_worst < Duration::from_millis(1000),
        "a reader waited {reader_worst:?}"
    );
}

#[test]
fn the_runner_gives_up_after_its_budget_and_leaves_the_migration_unapplied() {
    let server = PgServer::shared().unwrap();
    let db = TestDatabase::empty(server).unwrap();
    let dir = items_then(
        &db,
        "2026-01-02-000000-0000_add_note",
        "ALTER TABLE items ADD COLUMN note text;\n",
        None,
    );
    let (release, held) = (AtomicBool::new(false), AtomicBool::new(false));
    let outcome = thread::scope(|s| {
        s.spawn(|| hold_items(&db, &release, &held));
        wait_for(&held);
        let outcome = run(&db, dir.path(), Phase::All, &quick(3, 100));
        release.store(true, Ordering::SeqCst);
        outcome
    });
    let error = outcome.unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, OnlineError::LockBudgetExhausted { attempts: 3, .. }),
        "{message}"
    );
    assert!(
        message
            .starts_with("migration 2026-01-02-000000-0000_add_note: gave up after 3 attempt(s)")
            && message.contains("lock_timeout (100 ms); blocked by pid ")
            && message.contains("(long-report)"),
        "{message}"
    );
    assert!(!error.is_input_error());
    let mut conn = db.connect().unwrap();
    assert!(!has_column(&mut conn, "note"));
    // Not recorded either: the next run applies it.
    let (_, report) = run(&db, dir.path(), Phase::All, &quick(3, 100)).unwrap();
    assert_eq!(report.applied.len(), 1);
}

#[test]
fn a_concurrent_index_build_stopped_by_lock_timeout_leaves_no_invalid_index_behind() {
    leaves_no_invalid_index_behind("CREATE INDEX CONCURRENTLY items_v_idx ON items (v);\n");
}

/// The runner reads the file through the SQL parser: a comment that mentions CONCURRENTLY
/// before the statement, and a quoted name, still name the index it must clean up.
#[test]
fn a_concurrent_index_after_a_comment_that_mentions_concurrently_is_cleaned_up_too() {
    leaves_no_invalid_index_behind(
        "-- built CONCURRENTLY so that writes go on, alone in its file\n\
         CREATE INDEX CONCURRENTLY IF NOT EXISTS \"items_v_idx\" ON items (v);\n",
    );
}

fn leaves_no_invalid_index_behind(up: &str) {
    let server = PgServer::shared().unwrap();
    let db = TestDatabase::empty(server).unwrap();
    let dir = items_then(
        &db,
        "2026-01-02-000000-0000_index_v",
        up,
        Some("run_in_transaction = false\n"),
    );
    // An open transaction that wrote to the table: the build creates its index, then waits
    // for that writer. A first run with one attempt gives up and leaves the index INVALID; the
    // next one drops it and retries until the writer is gone.
    let policy = |attempts| LockPolicy {
        concurrent_lock_timeout: Duration::from_millis(150),
        ..quick(attempts, 150)
    };
    let (release, held) = (AtomicBool::new(false), AtomicBool::new(false));
    let (first, second) = thread::scope(|s| {
        s.spawn(|| hold(&db, "UPDATE items SET v = v WHERE id = 1", &release, &held));
        wait_for(&held);
        let first = run(&db, dir.path(), Phase::All, &policy(1));
        let left = invalid_count(&db);
        let runner = s.spawn(|| run(&db, dir.path(), Phase::All, &policy(50)));
        thread::sleep(Duration::from_millis(800));
        release.store(true, Ordering::SeqCst);
        ((first, left), runner.join().unwrap())
    });
    assert!(matches!(
        first.0,
        Err(OnlineError::LockBudgetExhausted { .. })
    ));
    assert_eq!(first.1, 1, "the first run's build was left INVALID");
    let (_, report) = second.unwrap();
    assert!(report.applied[0].attempts > 1, "{:?}", report.applied);
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        valid: i64,
        #[diesel(sql_type = BigInt)]
        invalid: i64,
    }
    let counts: Count = diesel::sql_query(
        "SELECT count(*) FILTER (WHERE i.indisvalid) AS valid, count(*) FILTER (WHERE NOT i.indisvalid) AS invalid \
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname LIKE 'items_v_idx%'",
    )
    .get_result(&mut db.connect().unwrap())
    .unwrap();
    assert_eq!((counts.valid, counts.invalid), (1, 0));
}

fn invalid_count(db: &TestDatabase<'_>) -> i64 {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    diesel::sql_query("SELECT count(*) AS n FROM pg_index WHERE NOT indisvalid")
        .get_result::<Count>(&mut db.connect().unwrap())
        .unwrap()
        .n
}

#[test]
fn a_second_runner_waits_for_the_first_then_gives_up_naming_it() {
    let server = PgServer::shared().unwrap();
    let db = TestDatabase::empty(server).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_migration(dir.path(), "2026-01-01-000000-0000_items", CREATE, None);
    let mut first = db.connect().unwrap();
    first
        .batch_execute(&format!(
            "SET application_name = 'deploy-a'; SELECT pg_advisory_lock({RUNNER_LOCK_KEY})"
        ))
        .unwrap();
    let policy = LockPolicy {
        budget: Duration::from_secs(1),
        ..quick(3, 200)
    };
    let error = run(&db, dir.path(), Phase::All, &policy).unwrap_err();
    assert!(matches!(error, OnlineError::RunnerBusy { .. }), "{error}");
    assert!(error.to_string().contains("(deploy-a)"), "{error}");
    first
        .batch_execute(&format!("SELECT pg_advisory_unlock({RUNNER_LOCK_KEY})"))
        .unwrap();
    let (_, report) = run(&db, dir.path(), Phase::All, &policy).unwrap();
    assert_eq!(report.applied.len(), 1);
}

#[test]
fn phases_select_pre_and_post_deploy_migrations() {
    let server = PgServer::shared().unwrap();
    let db = TestDatabase::empty(server).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_migration(dir.path(), "2026-01-01-000000-0000_items", CREATE, None);
    write_migration(
        dir.path(),
        "2026-01-02-000000-0000_drop_v",
        "-- plumb: post-deploy\nALTER TABLE items DROP COLUMN v;\n",
        None,
    );
    write_migration(
        dir.path(),
        "2026-01-03-000000-0000_add_note",
        "ALTER TABLE items ADD COLUMN note text;\n",
        None,
    );
    let error = run(&db, dir.path(), Phase::PostDeploy, &quick(3, 200)).unwrap_err();
    assert!(
        error.to_string().starts_with("pre-deploy migrations are still pending (2026-01-01-000000-0000_items, 2026-01-03-000000-0000_add_note)"),
        "{error}"
    );
    let (_, pre) = run(&db, dir.path(), Phase::PreDeploy, &quick(3, 200)).unwrap();
    let names: Vec<&str> = pre.applied.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "2026-01-01-000000-0000_items",
            "2026-01-03-000000-0000_add_note"
        ]
    );
    assert_eq!(pre.skipped, ["2026-01-02-000000-0000_drop_v"]);
    let mut conn = db.connect().unwrap();
    assert!(has_column(&mut conn, "v") && has_column(&mut conn, "note"));
    let (_, post) = run(&db, dir.path(), Phase::PostDeploy, &quick(3, 200)).unwrap();
    assert_eq!(post.applied.len(), 1);
    assert!(post.applied[0].post_deploy);
    assert!(!has_column(&mut conn, "v"));
}
