//! The backfill engine against a real PostgreSQL: stopped and resumed, with the application
//! writing meanwhile, and with several workers on one backfill.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use plumb_online::backfill::{
    Backfill, BackfillOptions, BackfillOutcome, BackfillReport, run_backfill,
};
use plumb_pg::{PgServer, TestDatabase};

/// `rows` rows, every tenth already filled by the application.
fn table(conn: &mut PgConnection, name: &str, rows: i64) {
    conn.batch_execute(&format!(
        "CREATE TABLE {name} (id bigint PRIMARY KEY, email text NOT NULL, note text);\n\
         INSERT INTO {name} SELECT g, 'user' || g || '@example.com', CASE WHEN g % 10 = 0 THEN 'kept' END \
         FROM generate_series(1, {rows}) g;"
    ))
    .unwrap();
}

fn spec(table: &str) -> Backfill {
    Backfill {
        name: format!("{table}.note"),
        table: table.into(),
        key: "id".into(),
        column: "note".into(),
        expression: "split_part(email, '@', 1)".into(),
        pending: "note IS NULL".into(),
    }
}

fn small_batches() -> BackfillOptions {
    BackfillOptions {
        target_batch_time: Duration::from_millis(10),
        first_batch: 200,
        max_batch: 500,
        pause: Duration::from_millis(2),
        ..BackfillOptions::default()
    }
}

fn run(
    db: &TestDatabase<'_>,
    spec: &Backfill,
    options: &BackfillOptions,
    stop_after: Option<i64>,
) -> BackfillReport {
    let stop = AtomicBool::new(false);
    run_backfill(db.url(), spec, options, &stop, &mut |progress| {
        if stop_after.is_some_and(|n| progress.filled >= n) {
            stop.store(true, Ordering::SeqCst);
        }
    })
    .unwrap()
}

#[derive(QueryableByName, Debug, PartialEq, Eq)]
struct Row {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Nullable<Text>)]
    note: Option<String>,
}

fn rows(conn: &mut PgConnection, table: &str) -> Vec<Row> {
    diesel::sql_query(format!("SELECT id, note FROM {table} ORDER BY id"))
        .load(conn)
        .unwrap()
}

#[test]
fn a_stopped_backfill_resumes_and_ends_exactly_as_an_uninterrupted_one() {
    let server = PgServer::shared().unwrap();
    let db = TestDatabase::empty(server).unwrap();
    let mut conn = db.connect().unwrap();
    table(&mut conn, "whole", 5_000);
    table(&mut conn, "halted", 5_000);

    let whole = run(&db, &spec("whole"), &small_batches(), None);
    assert_eq!(whole.outcome, BackfillOutcome::Complete);
    assert_eq!(whole.filled, 4_500);

    let first = run(&db, &spec("halted"), &small_batches(), Some(1_000));
    assert_eq!(first.outcome, BackfillOutcome::Stopped);
    assert!((1_000..4_500).contains(&first.filled), "{first:?}");
    let second = run(&db, &spec("halted"), &small_batches(), None);
    assert!(second.resumed);
    assert_eq!(second.outcome, BackfillOutcome::Complete);
    assert_eq!(first.filled + second.filled, 4_500, "no row filled twice");
    assert_eq!(second.filled_in_total, 4_500);

    let expected: Vec<Option<String>> = rows(&mut conn, "whole")
        .into_iter()
        .map(|r| r.note)
        .collect();
    let got: Vec<Option<String>> = rows(&mut conn, "halted")
        .into_iter()
        .map(|r| r.note)
        .collect();
    assert_eq!(expected, got);
    assert_eq!(
        expected
            .iter()
            .filter(|n| n.as_deref() == Some("kept"))
            .count(),
        500
    );
}

#[test]
fn values_the_application_writes_meanwhile_survive_and_the_backfill_ends_while_it_inserts() {
    let server = PgServer::shared().unwrap();
    let db = TestDatabase::empty(server).unwrap();
    let mut conn = db.connect().unwrap();
    table(&mut conn, "busy", 20_000);
    let done = AtomicBool::new(false);
    let (report, written) = thread::scope(|s| {
        let app = s.spawn(|| {
            // New code: updates rows (some not filled yet) and inserts rows with the value.
            // Old code, early on: inserts rows without it.
            let mut conn = db.connect().unwrap();
            let mut written = BTreeSet::new();
            let mut next_id = 100_000i64;
            let mut round = 0i64;
            while !done.load(Ordering::SeqCst) {
                round += 1;
                let id = (round * 7_919) % 20_000 + 1;
                conn.batch_execute(&format!(
                    "UPDATE busy SET note = 'app {id}' WHERE id = {id}"
                ))
                .unwrap();
                written.insert(id);
                next_id += 1;
                let note = if round < 50 {
                    "NULL".to_owned()
                } else {
                    written.insert(next_id);
                    format!("'app {next_id}'")
                };
                conn.batch_execute(&format!(
                    "INSERT INTO busy VALUES ({next_id}, 'new{next_id}@example.com', {note})"
                ))
                .unwrap();
                thread::sleep(Duration::from_millis(1));
            }
            written
        });
        let report = run(&db, &spec("busy"), &small_batches(), None);
        done.store(true, Ordering::SeqCst);
        (report, app.join().unwrap())
    });
    assert_eq!(report.outcome, BackfillOutcome::Complete, "{report:?}");
    let all = rows(&mut conn, "busy");
    assert!(all.iter().all(|r| r.note.is_some()), "no row is left NULL");
    for row in all.iter().filter(|r| written.contains(&r.id)) {
        assert_eq!(
            row.note.as_deref(),
            Some(format!("app {}", row.id).as_str()),
            "the application's value survives"
        );
    }
    let filled = all
        .iter()
        .filter(|r| {
            r.note
                .as_deref()
                .is_some_and(|n| n.starts_with("user") || n.starts_with("new"))
        })
        .count();
    assert!(filled > 10_000, "{filled}");
}

#[test]
fn workers_sharing_one_backfill_fill_each_row_once() {
    let server = PgServer::shared().unwrap();
    let db = TestDatabase::empty(server).unwrap();
    let mut conn = db.connect().unwrap();
    table(&mut conn, "shared", 10_000);
    let spec = spec("shared");
    let reports: Vec<BackfillReport> = thread::scope(|s| {
        let workers: Vec<_> = (0..3)
            .map(|_| s.spawn(|| run(&db, &spec, &small_batches(), None)))
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    assert!(
        reports
            .iter()
            .all(|r| r.outcome == BackfillOutcome::Complete)
    );
    assert_eq!(reports.iter().map(|r| r.filled).sum::<i64>(), 9_000);
    assert!(rows(&mut conn, "shared").iter().all(|r| r.note.is_some()));
}

#[test]
fn a_finished_backfill_run_again_fills_rows_written_null_since() {
    let server = PgServer::shared().unwrap();
    let db = TestDatabase::empty(server).unwrap();
    let mut conn = db.connect().unwrap();
    table(&mut conn, "again", 1_000);
    assert_eq!(run(&db, &spec("again"), &small_batches(), None).filled, 900);
    conn.batch_execute("INSERT INTO again VALUES (5000, 'late@example.com', NULL)")
        .unwrap();
    let again = run(&db, &spec("again"), &small_batches(), None);
    assert_eq!(
        (again.outcome, again.filled),
        (BackfillOutcome::Complete, 1)
    );
}

#[test]
fn bad_definitions_are_refused_before_anything_is_written() {
    let server = PgServer::shared().unwrap();
    let db = TestDatabase::empty(server).unwrap();
    let mut conn = db.connect().unwrap();
    table(&mut conn, "plain", 10);
    // The first column of a unique index that is not the primary key may group many rows.
    conn.batch_execute("CREATE UNIQUE INDEX plain_email_id ON plain (email, id)")
        .unwrap();
    let stop = AtomicBool::new(false);
    let attempt = |spec: &Backfill| {
        run_backfill(db.url(), spec, &small_batches(), &stop, &mut |_| {})
            .unwrap_err()
            .to_string()
    };
    let no_key = Backfill {
        key: "email".into(),
        ..spec("plain")
    };
    assert_eq!(
        attempt(&no_key),
        "backfill plain.note: plain.email is neither a NOT NULL single-column unique key nor the first column of the primary key: keyset batches need one"
    );
    let no_column = Backfill {
        column: "nope".into(),
        ..spec("plain")
    };
    assert_eq!(
        attempt(&no_column),
        "backfill plain.note: plain.nope does not exist"
    );
    let no_table = Backfill {
        table: "nowhere".into(),
        ..spec("plain")
    };
    assert!(
        attempt(&no_table).ends_with(": table nowhere does not exist"),
        "{}",
        attempt(&no_table)
    );
    run(&db, &spec("plain"), &small_batches(), None);
    let redefined = Backfill {
        expression: "'other'".into(),
        ..spec("plain")
    };
    assert_eq!(
        attempt(&redefined),
        "backfill plain.note has committed batches under another definition (set was split_part(email, '@', 1), now 'other'): finish it as it was defined, or give the new one another name to start a new job"
    );
}

#[test]
fn a_definition_may_change_until_its_first_batch_commits() {
    let server = PgServer::shared().unwrap();
    let db = TestDatabase::empty(server).unwrap();
    let mut conn = db.connect().unwrap();
    table(&mut conn, "mended", 1_000);
    let to_fill = rows(&mut conn, "mended")
        .iter()
        .filter(|r| r.note.is_none())
        .count();
    let stop = AtomicBool::new(false);
    // Its first batch fails: nothing is committed under this definition.
    let broken = Backfill {
        expression: "1/0".into(),
        ..spec("mended")
    };
    let message = run_backfill(db.url(), &broken, &small_batches(), &stop, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        message.starts_with("backfill mended.note: a batch: "),
        "{message}"
    );
    // The error shows the SQL plumb built around the expression it was given.
    assert!(
        message.contains("the batch's SQL, with --set and --where spliced in: ")
            && message.contains("SET \"note\" = (1/0)"),
        "{message}"
    );
    // The same name, the definition mended: it runs, to the end.
    let report = run(&db, &spec("mended"), &small_batches(), None);
    assert_eq!(
        (report.outcome, report.filled),
        (BackfillOutcome::Complete, i64::try_from(to_fill).unwrap())
    );
    assert!(rows(&mut conn, "mended").iter().all(|r| r.note.is_some()));
}

#[test]
fn a_backfill_that_ended_with_rows_left_walks_again_on_the_next_run() {
    let server = PgServer::shared().unwrap();
    let db = TestDatabase::empty(server).unwrap();
    let mut conn = db.connect().unwrap();
    table(&mut conn, "stuck", 300);
    let tiny = BackfillOptions {
        max_batch: 5,
        ..small_batches()
    };
    assert_eq!(
        run(&db, &spec("stuck"), &tiny, None).filled,
        270,
        "batches of at most 5 rows"
    );
    // As an earlier run leaves it when rows kept being written NULL behind its walks.
    conn.batch_execute(
        "UPDATE stuck SET note = NULL WHERE id <= 10; \
         UPDATE plumb.backfills SET passes = 3, finished_at = NULL WHERE name = 'stuck.note';",
    )
    .unwrap();
    let again = run(&db, &spec("stuck"), &small_batches(), None);
    assert_eq!(
        (again.outcome, again.filled),
        (BackfillOutcome::Complete, 10)
    );
}

#[test]
fn progress_lives_outside_the_application_schema_and_an_old_table_moves_with_its_jobs() {
    let server = PgServer::shared().unwrap();
    let db = TestDatabase::empty(server).unwrap();
    let mut conn = db.connect().unwrap();
    table(&mut conn, "moved", 1_000);
    let first = run(&db, &spec("moved"), &small_batches(), Some(300));
    assert_eq!(first.outcome, BackfillOutcome::Stopped);
    // As an earlier release left it: the progress table in `public`, holding the stopped job.
    conn.batch_execute(
        "ALTER TABLE plumb.backfills SET SCHEMA public; \
         ALTER TABLE public.backfills RENAME TO plumb_backfills; DROP SCHEMA plumb;",
    )
    .unwrap();
    let resumed = run(&db, &spec("moved"), &small_batches(), None);
    assert!(resumed.resumed, "the job moved with its table");
    assert_eq!(
        (resumed.outcome, resumed.filled_in_total),
        (BackfillOutcome::Complete, 900)
    );
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let in_public: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'plumb%'",
    )
    .get_result(&mut conn)
    .unwrap();
    assert_eq!(
        in_public.n, 0,
        "diesel print-schema prints no table of plumb's"
    );
}

/// Whether every row of `events` whose id `which` picks has the note `split_part(email, '@', 1)`
/// gives it.
fn filled_from_email(conn: &mut PgConnection, which: impl Fn(i64) -> bool) -> bool {
    rows(conn, "events")
        .iter()
        .filter(|r| which(r.id))
        .all(|r| r.note.as_deref() == Some(format!("user{}", r.id).as_str()))
}

/// `events`, partitioned by id: each partition holds the ids up to its last, filled from 1 with
/// `note` NULL.
fn partitioned_events(conn: &mut PgConnection, partitions: &[(&str, i64)]) {
    let mut sql = "CREATE TABLE events (id bigint PRIMARY KEY, email text NOT NULL, note text) PARTITION BY RANGE (id);\n".to_owned();
    let mut from = 1;
    for (name, last) in partitions {
        sql += &format!(
            "CREATE TABLE {name} PARTITION OF events FOR VALUES FROM ({from}) TO ({});\n",
            last + 1
        );
        from = last + 1;
    }
    sql += &format!(
        "INSERT INTO events SELECT g, 'user' || g || '@example.com', NULL FROM generate_series(1, {}) g;",
        from - 1
    );
    conn.batch_execute(&sql).unwrap();
}

/// A partitioned table is filled partition by partition, each a job of its own.
#[test]
fn a_partitioned_table_is_filled_partition_by_partition() {
    let server = PgServer::shared().unwrap();
    let db = TestDatabase::empty(server).unwrap();
    let mut conn = db.connect().unwrap();
    partitioned_events(&mut conn, &[("events_low", 1000), ("events_high", 3000)]);
    let report = run(&db, &spec("events"), &small_batches(), None);
    assert_eq!(report.outcome, BackfillOutcome::Complete);
    assert_eq!(report.filled, 3000);
    assert!(filled_from_email(&mut conn, |_| true));
    #[derive(QueryableByName)]
    struct Job {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        rows_filled: i64,
    }
    let jobs: Vec<Job> =
        diesel::sql_query("SELECT name, rows_filled FROM plumb.backfills ORDER BY name")
            .load(&mut conn)
            .unwrap();
    let jobs: Vec<(String, i64)> = jobs.into_iter().map(|j| (j.name, j.rows_filled)).collect();
    assert_eq!(
        jobs,
        [
            ("events.note/events_high".to_owned(), 2000),
            ("events.note/events_low".to_owned(), 1000)
        ]
    );
}

/// A partitioned table's primary key holds its partition key: the first column walks it.
#[test]
fn a_partitioned_table_is_walked_by_the_first_column_of_its_primary_key() {
    let server = PgServer::shared().unwrap();
    let db = TestDatabase::empty(server).unwrap();
    let mut conn = db.connect().unwrap();
    conn.batch_execute(
        "CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, email text NOT NULL, note text, \
           PRIMARY KEY (id, at)) PARTITION BY RANGE (at); \
         CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01'); \
         CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01'); \
         INSERT INTO events SELECT g, date '2025-06-01' + (g % 400), 'user' || g || '@example.com', NULL \
           FROM generate_series(1, 3000) g",
    )
    .unwrap();
    let report = run(&db, &spec("events"), &small_batches(), None);
    assert_eq!(report.outcome, BackfillOutcome::Complete);
    assert_eq!(report.filled, 3000);
    assert!(filled_from_email(&mut conn, |_| true));
}

/// Rows of one partition that keep matching do not leave the partitions after it unfilled.
#[test]
fn a_partition_with_rows_left_does_not_stop_the_others() {
    let server = PgServer::shared().unwrap();
    let db = TestDatabase::empty(server).unwrap();
    let mut conn = db.connect().unwrap();
    partitioned_events(&mut conn, &[("events_a", 1000), ("events_b", 2000)]);
    // The expression gives NULL for a few rows of the first partition: they keep matching.
    let stubborn = Backfill {
        expression:
            "CASE WHEN id % 100 = 0 AND id <= 1000 THEN NULL ELSE split_part(email, '@', 1) END"
                .into(),
        ..spec("events")
    };
    let report = run(&db, &stubborn, &small_batches(), None);
    let left: Vec<i64> = rows(&mut conn, "events")
        .iter()
        .filter(|r| r.note.is_none())
        .map(|r| r.id)
        .collect();
    assert!(
        !left.is_empty() && left.iter().all(|id| *id <= 1000),
        "{left:?}"
    );
    assert_eq!(report.outcome, BackfillOutcome::RowsLeft(left.len() as i64));
    assert!(
        filled_from_email(&mut conn, |id| id > 1000),
        "the second partition was not filled"
    );
}
