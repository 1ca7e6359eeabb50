//! The backfill beside a real hot standby: it waits while the standby's replay is held back,
//! and goes on when it resumes, filling every row once; it stops, its progress kept, when the
//! standby's lag cannot be read.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

use std::sync::atomic::AtomicBool;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use plumb_online::backfill::{Backfill, BackfillOptions, BackfillOutcome, run_backfill};
use plumb_online::replicas::{ReplicaLimits, standby_lag};
use plumb_pg::{DatabaseUrl, PgBinaries, ThrowawayCluster};

const ROWS: i64 = 4_000;

fn spec() -> Backfill {
    Backfill {
        name: "items.note".into(),
        table: "items".into(),
        key: "id".into(),
        column: "note".into(),
        expression: "'n' || id".into(),
        pending: "note IS NULL".into(),
    }
}

fn count(url: &DatabaseUrl, sql: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    diesel::sql_query(sql)
        .get_result::<N>(&mut url.connect().unwrap())
        .unwrap()
        .n
}

/// Waits, a minute at most, until `done` holds: the standby's state is an event the primary
/// reports, read again until it is seen.
fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not seen within 60 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A cluster with one standby, streaming and caught up, and a table of rows to fill.
fn cluster_with_standby() -> (ThrowawayCluster, plumb_pg::Standby) {
    let cluster =
        ThrowawayCluster::start_on(PgBinaries::locate_with_standbys().unwrap(), &[]).unwrap();
    let standby = cluster.start_standby("replica").unwrap();
    cluster
        .url()
        .connect()
        .unwrap()
        .batch_execute(&format!(
            "CREATE TABLE items (id bigint PRIMARY KEY, note text); \
             INSERT INTO items SELECT g, NULL FROM generate_series(1, {ROWS}) g"
        ))
        .unwrap();
    until("the standby streaming and caught up", || {
        let mut conn = cluster.url().connect().unwrap();
        standby_lag(&mut conn)
            .unwrap()
            .iter()
            .any(|s| s.name.starts_with("replica") && s.bytes == Some(0))
    });
    (cluster, standby)
}

#[test]
fn a_backfill_waits_while_a_standby_is_held_back_and_fills_every_row_once() {
    let (cluster, standby) = cluster_with_standby();
    standby
        .url()
        .connect()
        .unwrap()
        .batch_execute("SELECT pg_wal_replay_pause()")
        .unwrap();
    let options = BackfillOptions {
        first_batch: 500,
        min_batch: 500,
        max_batch: 500,
        pause: Duration::ZERO,
        replicas: ReplicaLimits {
            max_lag_bytes: 16 * 1024,
            recheck: Duration::from_millis(20),
            ..ReplicaLimits::default()
        },
        ..BackfillOptions::default()
    };
    let url = cluster.url().clone();
    let (events, seen) = mpsc::channel();
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (url, options, stop) = (&url, &options, &stop);
        // The sender moves into the run: when it ends, the events end, and a wait for one
        // that never came fails instead of hanging.
        let run = scope.spawn(move || {
            run_backfill(url, &spec(), options, stop, &mut |p| {
                let _ = events.send(p.clone());
            })
        });
        // The batches write WAL the standby does not replay: the backfill pauses, saying why.
        let paused = seen.iter().find(|p| p.paused.is_some()).expect("a pause");
        let why = paused.paused.clone().unwrap();
        assert!(
            why.contains("standby replica") && why.contains("behind"),
            "{why}"
        );
        // While it waits, no batch runs: the rows filled are the ones it had reported.
        assert_eq!(
            count(
                url,
                "SELECT count(*) AS n FROM items WHERE note IS NOT NULL"
            ),
            paused.filled
        );
        assert!(paused.filled < ROWS, "it paused before the end");
        standby
            .url()
            .connect()
            .unwrap()
            .batch_execute("SELECT pg_wal_replay_resume()")
            .unwrap();
        let resumed = seen.iter().find(|p| p.paused.is_none());
        assert!(
            resumed.is_some(),
            "the pause ends once the standby replays again"
        );
        let report = run.join().unwrap().unwrap();
        assert_eq!(report.outcome, BackfillOutcome::Complete);
        // Each row filled once: as many rows filled as there were to fill, each with its value.
        assert_eq!(report.filled, ROWS);
    });
    assert_eq!(
        count(
            &url,
            "SELECT count(*) AS n FROM items WHERE note = 'n' || id"
        ),
        ROWS
    );
    until("the standby has every row", || {
        count(
            standby.url(),
            "SELECT count(*) AS n FROM items WHERE note IS NOT NULL",
        ) == ROWS
    });
}

#[test]
fn a_backfill_that_cannot_read_the_standbys_lag_stops_with_its_progress_kept() {
    let (cluster, _standby) = cluster_with_standby();
    // A role without pg_monitor sees the standby but not its replay position.
    cluster
        .url()
        .connect()
        .unwrap()
        .batch_execute(
            "CREATE ROLE filler LOGIN; GRANT CREATE ON DATABASE postgres TO filler; \
             GRANT ALL ON items TO filler",
        )
        .unwrap();
    let url = DatabaseUrl::for_socket(cluster.root(), cluster.port(), "filler", "postgres");
    let options = BackfillOptions {
        replicas: ReplicaLimits {
            unmeasured_grace: Duration::ZERO,
            recheck: Duration::from_millis(20),
            ..ReplicaLimits::default()
        },
        ..BackfillOptions::default()
    };
    let stop = AtomicBool::new(false);
    let error = run_backfill(&url, &spec(), &options, &stop, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("stopped, its progress kept")
            && error.contains("standby replica")
            && error.contains("pg_monitor"),
        "{error}"
    );
}

/// The runner reports, for each migration, how long a standby took to replay it and the
/// standby's queries its replay cancelled: here a report reading the table on the standby,
/// which the replayed ACCESS EXCLUSIVE lock waited for, then cancelled.
#[test]
fn the_runner_reports_the_standby_conflict_a_migration_caused() {
    let cluster =
        ThrowawayCluster::start_on(PgBinaries::locate_with_standbys().unwrap(), &[]).unwrap();
    let standby = cluster
        .start_standby_with("replica", &[("max_standby_streaming_delay", "200ms")])
        .unwrap();
    cluster
        .url()
        .connect()
        .unwrap()
        .batch_execute("CREATE TABLE items (id bigint PRIMARY KEY, note text)")
        .unwrap();
    until("the table on the standby", || {
        let mut conn = standby.url().connect().unwrap();
        diesel::sql_query("SELECT 1 FROM items LIMIT 1")
            .execute(&mut conn)
            .is_ok()
    });
    // A report on the standby, its transaction open on the table.
    let mut report = standby.url().connect().unwrap();
    report
        .batch_execute("BEGIN; SELECT count(*) FROM items")
        .unwrap();
    let workspace = tempfile::tempdir().unwrap();
    let folder = workspace.path().join("2026-01-01-000000-0000_add_tag");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("up.sql"),
        "ALTER TABLE items ADD COLUMN tag text;\n",
    )
    .unwrap();
    std::fs::write(
        folder.join("down.sql"),
        "ALTER TABLE items DROP COLUMN tag;\n",
    )
    .unwrap();
    let folders = plumb_pg::MigrationFolders::read(workspace.path()).unwrap();
    let report_of_run = plumb_online::runner::run_migrations_watching(
        cluster.url(),
        &folders,
        plumb_online::runner::Phase::All,
        &plumb_online::LockPolicy::default(),
        std::slice::from_ref(standby.url()),
        None,
        &mut |_| {},
    )
    .unwrap();
    let replay = &report_of_run.applied[0].standbys[0];
    assert_eq!(replay.error, None);
    assert!(
        replay
            .delay
            .is_some_and(|d| d >= Duration::from_millis(200)),
        "the replay waited for the standby's report: {replay:?}"
    );
    assert!(replay.conflicts >= 1, "{replay:?}");
    assert!(
        report.batch_execute("SELECT 1").is_err(),
        "the standby's report was cancelled"
    );
}

/// Between migrations the runner waits, as a backfill's batches do, while a standby is
/// behind: the next migration starts once the standby replays again.
#[test]
fn the_runner_waits_between_migrations_while_a_standby_is_held_back() {
    use plumb_online::runner::{Phase, RunEvent, run_migrations_watching};
    let (cluster, standby) = cluster_with_standby();
    let workspace = tempfile::tempdir().unwrap();
    for (name, up) in [
        // Enough WAL that the held-back standby is over the limit.
        (
            "2026-01-01-000000-0000_fill",
            "UPDATE items SET note = repeat('x', 200);\n",
        ),
        (
            "2026-01-02-000000-0000_tag",
            "ALTER TABLE items ADD COLUMN tag text;\n",
        ),
    ] {
        let folder = workspace.path().join(name);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("up.sql"), up).unwrap();
        std::fs::write(folder.join("down.sql"), "SELECT 1;\n").unwrap();
    }
    let folders = plumb_pg::MigrationFolders::read(workspace.path()).unwrap();
    let mut replica = standby.url().connect().unwrap();
    replica
        .batch_execute("SELECT pg_wal_replay_pause()")
        .unwrap();
    let limits = ReplicaLimits {
        max_lag_bytes: 16 * 1024,
        recheck: Duration::from_millis(20),
        ..ReplicaLimits::default()
    };
    let url = cluster.url().clone();
    let (events, seen) = mpsc::channel();
    std::thread::scope(|scope| {
        let (url_ref, folders, limits) = (&url, &folders, &limits);
        // The sender moves into the run: when it ends, the events end.
        let run = scope.spawn(move || {
            run_migrations_watching(
                url_ref,
                folders,
                Phase::All,
                &plumb_online::LockPolicy::default(),
                &[],
                Some(limits),
                &mut |event| {
                    let _ = events.send(event.clone());
                },
            )
        });
        let waiting = seen
            .iter()
            .find_map(|event| match event {
                RunEvent::WaitingForStandbys { why: Some(why) } => Some(why),
                _ => None,
            })
            .expect("a wait for the standby");
        assert!(waiting.contains("standby replica"), "{waiting}");
        // The second migration has not started (diesel's own setup may already have been
        // enough WAL to wait before the first).
        assert!(count(&url, "SELECT count(*) AS n FROM __diesel_schema_migrations") < 2);
        replica
            .batch_execute("SELECT pg_wal_replay_resume()")
            .unwrap();
        let report = run.join().unwrap().unwrap();
        assert_eq!(report.applied.len(), 2);
    });
}
