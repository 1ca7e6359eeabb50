//! The migration runner against a real PostgreSQL: lock_timeout retries while another session
//! holds a conflicting lock, reporting who held it and who queued behind each attempt; files
//! that would lift the lock policy refused; the budget; INVALID indexes left by a timed-out
//! concurrent build; one runner at a time; and the deploy phases.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

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
        drain_ratio: 1,
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

/// Whether `pid`'s backend is waiting for a lock on `items` (its request not granted).
fn waiting_for_items(conn: &mut PgConnection, application: &str) -> bool {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = Bool)]
        found: bool,
    }
    diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE NOT l.granted AND l.relation = 'items'::regclass AND a.application_name = $1) AS found",
    )
    .bind::<diesel::sql_types::Text, _>(application)
    .get_result::<Found>(conn)
    .unwrap()
    .found
}

#[test]
fn a_held_lock_makes_the_runner_retry_reporting_who_held_it_and_who_queued_behind_it() {
    let server = PgServer::shared().unwrap();
    let db = TestDatabase::empty(server).unwrap();
    let dir = items_then(
        &db,
        "2026-01-02-000000-0000_add_note",
        "ALTER TABLE items ADD COLUMN note text;\n",
        None,
    );
    let folders = MigrationFolders::read(dir.path()).unwrap();
    let (release, held, done) = (
        AtomicBool::new(false),
        AtomicBool::new(false),
        AtomicBool::new(false),
    );
    let reader_pid = std::sync::atomic::AtomicI32::new(0);
    let reads_while_held = std::sync::atomic::AtomicU32::new(0);
    let policy = quick(50, 200);
    let (outcome, events) = thread::scope(|s| {
        s.spawn(|| hold_items(&db, &release, &held));
        wait_for(&held);
        // A reader of the table: it starts once the runner is seen waiting for its lock, so
        // its queries queue behind the waiting ALTER; between attempts they get through.
        s.spawn(|| {
            let mut watcher = db.connect().unwrap();
            while !waiting_for_items(&mut watcher, "plumb migrate") {
                thread::sleep(Duration::from_millis(2));
            }
            let mut conn = db.connect().unwrap();
            conn.batch_execute("SET application_name = 'reader'")
                .unwrap();
            reader_pid.store(
                plumb_pg::observe::backend_pid(&mut conn).unwrap(),
                Ordering::SeqCst,
            );
            while !done.load(Ordering::SeqCst) {
                conn.batch_execute("SELECT count(*) FROM items").unwrap();
                if !release.load(Ordering::SeqCst) {
                    reads_while_held.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
        let mut events = Vec::new();
        let outcome = run_migrations(db.url(), &folders, Phase::All, &policy, &mut |event| {
            // Released once an attempt is reported with the reader queued behind it, and the
            // reader has had a read through between attempts (which order the two come in is
            // up to the scheduler).
            if let RunEvent::Retrying(retry) = event
                && retry
                    .queue
                    .sessions
                    .contains(&reader_pid.load(Ordering::SeqCst))
                && reads_while_held.load(Ordering::SeqCst) > 0
            {
                release.store(true, Ordering::SeqCst);
            }
            events.push(event.clone());
        });
        release.store(true, Ordering::SeqCst);
        done.store(true, Ordering::SeqCst);
        (outcome, events)
    });
    let report = outcome.unwrap();
    let applied = &report.applied[0];
    assert_eq!(applied.name, "2026-01-02-000000-0000_add_note");
    assert!(applied.attempts > 1, "it had to retry: {applied:?}");
    assert!(has_column(&mut db.connect().unwrap(), "note"));
    let retries: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            RunEvent::Retrying(retry) => Some(retry),
            _ => None,
        })
        .collect();
    let reader = reader_pid.load(Ordering::SeqCst);
    assert!(
        retries.iter().any(|r| r.queue.sessions.contains(&reader)),
        "an attempt reports the reader queued behind it: {retries:?}"
    );
    assert!(
        retries.iter().any(|r| r
            .blockers
            .iter()
            .any(|b| b.ends_with("(long-report): SELECT count(*) FROM items"))),
        "retries name the session holding the lock, without a trailing semicolon: {retries:?}"
    );
    assert!(
        retries
            .iter()
            .all(|r| r.blockers.iter().all(|b| !b.contains("(reader)"))),
        "the reader queued behind the runner is not named as blocking it: {retries:?}"
    );
    assert!(applied.queue.sessions.contains(&reader), "{applied:?}");
    // Without lock_timeout the reader would have waited behind the ALTER until the holder let
    // go; with it, its reads went through between the attempts.
    assert!(reads_while_held.load(Ordering::SeqCst) > 0);
}

#[test]
fn a_file_that_would_lift_the_lock_policy_is_refused_before_anything_is_applied() {
    let server = PgServer::shared().unwrap();
    let db = TestDatabase::empty(server).unwrap();
    for (up, shown) in [
        (
            "SET lock_timeout = '2s';\nALTER TABLE items ADD COLUMN note text;\n",
            ":1: `SET lock_timeout = '2s'`",
        ),
        (
            "-- why\nALTER TABLE items ADD COLUMN note text;\nRESET lock_timeout;\n",
            ":3: `RESET lock_timeout`",
        ),
        (
            "SET lock_timeout TO 0;\nALTER TABLE items ADD COLUMN note text;\n",
            ":1: `SET lock_timeout TO 0`",
        ),
        (
            "SELECT set_config('lock_timeout', '1d', false);\nALTER TABLE items ADD COLUMN note text;\n",
            ":1: `SELECT set_config('lock_timeout', '1d', false)`",
        ),
    ] {
        let dir = items_then(&db, "2026-01-02-000000-0000_first", "SELECT 1;\n", None);
        write_migration(dir.path(), "2026-01-03-000000-0000_add_note", up, None);
        let error = run(&db, dir.path(), Phase::All, &quick(3, 100)).unwrap_err();
        let message = error.to_string();
        assert!(error.is_input_error(), "{message}");
        assert!(
            message.contains("2026-01-03-000000-0000_add_note/up.sql")
                && message.contains(shown)
                && message.contains("lock policy's 100 ms")
                && message.ends_with("nothing was applied"),
            "{message}"
        );
        let mut conn = db.connect().unwrap();
        assert!(!has_column(&mut conn, "note"));
        // The migration before it was not applied either: every file is checked first.
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let first = diesel::sql_query(
            "SELECT count(*) AS n FROM __diesel_schema_migrations WHERE version = '202601020000000000'",
        )
        .get_result::<Count>(&mut conn)
        .unwrap();
        assert_eq!(first.n, 0, "{up}");
        conn.batch_execute("DROP TABLE items; DELETE FROM __diesel_schema_migrations")
            .unwrap();
    }
}

#[test]
fn a_file_that_lifts_lock_timeout_where_no_parser_sees_it_still_waits_no_longer_than_the_policy() {
    let server = PgServer::shared().unwrap();
    let db = TestDatabase::empty(server).unwrap();
    // Inside a DO block the SQL parser sees a string; only the server sees the set_config.
    let dir = items_then(
        &db,
        "2026-01-02-000000-0000_add_note",
        "DO $$ BEGIN PERFORM set_config('lock_timeout', '0', false); END $$;\n\
         ALTER TABLE items ADD COLUMN note text;\n",
        None,
    );
    // Were the wait not cut short, statement_timeout would end it: a failure, not a hang.
    let policy = LockPolicy {
        statement_timeout: Duration::from_secs(30),
        ..quick(3, 100)
    };
    let (release, held) = (AtomicBool::new(false), AtomicBool::new(false));
    let outcome = thread::scope(|s| {
        s.spawn(|| hold_items(&db, &release, &held));
        wait_for(&held);
        let outcome = run(&db, dir.path(), Phase::All, &policy);
        release.store(true, Ordering::SeqCst);
        outcome
    });
    let error = outcome.unwrap_err();
    assert!(
        matches!(error, OnlineError::LockBudgetExhausted { attempts: 3, .. }),
        "each attempt's wait was cancelled and retried like a lock timeout: {error}"
    );
    assert!(!has_column(&mut db.connect().unwrap(), "note"));
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
        // Released once the second run is seen waiting in two attempts: one given up, retried.
        let mut watcher = db.connect().unwrap();
        // A failed assertion below still releases the holder, so the scope can end.
        let _release = ReleaseOnDrop(&release);
        let mut builds = BTreeSet::new();
        while builds.len() < 2 {
            assert!(!runner.is_finished(), "the runner stopped before retrying");
            builds.extend(waiting_builds(&mut watcher));
            thread::sleep(Duration::from_millis(5));
        }
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

/// When each statement of `plumb migrate` that builds or drops an index concurrently, now
/// waiting for a lock, started: a new time is a new attempt.
fn waiting_builds(conn: &mut PgConnection) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Started {
        #[diesel(sql_type = diesel::sql_types::Text)]
        at: String,
    }
    diesel::sql_query(
        "SELECT query_start::text AS at FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'plumb migrate' \
         AND wait_event_type = 'Lock' AND query ILIKE '%INDEX CONCURRENTLY%'",
    )
    .load::<Started>(conn)
    .unwrap()
    .into_iter()
    .map(|s| s.at)
    .collect()
}

/// Tells a holder to let go when dropped, also when a test fails while it holds.
struct ReleaseOnDrop<'a>(&'a AtomicBool);

impl Drop for ReleaseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
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
