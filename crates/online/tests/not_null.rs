//! `not-null` against a real PostgreSQL: the locks it takes, observed in `pg_locks`, against a
//! plain `SET NOT NULL` on the same data.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use plumb_online::not_null::enforce_not_null;
use plumb_online::{LockPolicy, OnlineError};
use plumb_pg::{PgServer, TestDatabase};

const ROWS: i64 = 300_000;

fn table(conn: &mut PgConnection, name: &str) {
    conn.batch_execute(&format!(
        "CREATE TABLE {name} (id bigint PRIMARY KEY, note text);\n\
         INSERT INTO {name} SELECT g, 'n' || g FROM generate_series(1, {ROWS}) g;\nANALYZE {name};"
    ))
    .unwrap();
}

fn not_null(conn: &mut PgConnection, table: &str) -> bool {
    #[derive(QueryableByName)]
    struct Flag {
        #[diesel(sql_type = Bool)]
        flag: bool,
    }
    diesel::sql_query("SELECT attnotnull AS flag FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'note'")
        .bind::<Text, _>(table)
        .get_result::<Flag>(conn)
        .unwrap()
        .flag
}

fn constraints(conn: &mut PgConnection, table: &str) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = Text)]
        name: String,
    }
    diesel::sql_query("SELECT conname::text AS name FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'c' ORDER BY 1")
        .bind::<Text, _>(table)
        .load::<Name>(conn)
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect()
}

#[test]
fn not_null_takes_access_exclusive_only_for_catalog_changes_and_never_during_the_scan() {
    let server = PgServer::shared().unwrap();
    let db = TestDatabase::empty(server).unwrap();
    let mut conn = db.connect().unwrap();
    table(&mut conn, "stepped");
    table(&mut conn, "plain");

    let report = enforce_not_null(
        db.url(),
        "stepped",
        "note",
        &LockPolicy::default(),
        &mut |_| {},
    )
    .unwrap();
    assert!(not_null(&mut conn, "stepped"));
    // The steps are the server's: PostgreSQL 18 validates a NOT NULL constraint itself.
    let from_18 = server_version(&mut conn) >= 180_000;
    let sql: Vec<&str> = report.steps.iter().map(|s| s.sql.as_str()).collect();
    if from_18 {
        assert_eq!(
            sql,
            [
                "ALTER TABLE \"stepped\" ADD CONSTRAINT \"plumb_nn_note\" NOT NULL \"note\" NOT VALID",
                "ALTER TABLE \"stepped\" VALIDATE CONSTRAINT \"plumb_nn_note\"",
            ]
        );
    } else {
        assert_eq!(
            sql,
            [
                "ALTER TABLE \"stepped\" ADD CONSTRAINT \"plumb_nn_note\" CHECK (\"note\" IS NOT NULL) NOT VALID",
                "ALTER TABLE \"stepped\" VALIDATE CONSTRAINT \"plumb_nn_note\"",
                "ALTER TABLE \"stepped\" ALTER COLUMN \"note\" SET NOT NULL; ALTER TABLE \"stepped\" DROP CONSTRAINT \"plumb_nn_note\"",
            ]
        );
    }
    assert!(
        constraints(&mut conn, "stepped").is_empty(),
        "no helper CHECK is left behind"
    );
    let holds: Vec<_> = report
        .steps
        .iter()
        .flat_map(|s| s.attempts.trace.holds.iter())
        .filter(|h| h.relation == "stepped")
        .collect();
    let exclusive: Vec<_> = holds
        .iter()
        .filter(|h| h.mode == "AccessExclusiveLock")
        .collect();
    let scan = holds
        .iter()
        .find(|h| h.mode == "ShareUpdateExclusiveLock")
        .expect("VALIDATE's scan is seen holding SHARE UPDATE EXCLUSIVE");
    let most = if from_18 { 1 } else { 2 };
    assert!(
        exclusive.len() <= most,
        "{most} acquisitions at most on this server: {exclusive:?}"
    );
    assert!(
        exclusive
            .iter()
            .all(|h| h.to < scan.from || h.from > scan.to),
        "no ACCESS EXCLUSIVE during the scan"
    );
    assert_eq!(report.steps[1].attempts.exclusive_held, Duration::ZERO);

    // The same data, the plain way: SET NOT NULL takes ACCESS EXCLUSIVE (the transaction's
    // own pg_locks row says so, no sampling), and the transaction that holds it counts a full
    // scan of the table. The stepped way's SET NOT NULL, proven by the validated check, is not
    // seen holding the lock during a scan (above): events, not durations, so a loaded machine
    // cannot flip the verdict.
    let (exclusive, scans) = conn
        .transaction(|c| {
            c.batch_execute("ALTER TABLE plain ALTER COLUMN note SET NOT NULL")?;
            let exclusive = holds_access_exclusive(c, "plain")?;
            Ok::<_, diesel::result::Error>((exclusive, scans_in_transaction(c, "plain")?))
        })
        .unwrap();
    assert!(exclusive, "SET NOT NULL holds ACCESS EXCLUSIVE");
    assert!(
        scans >= 1,
        "SET NOT NULL alone scans under its lock: {scans}"
    );
}

/// Whether this session holds ACCESS EXCLUSIVE on `table`, as its own `pg_locks` rows say.
fn holds_access_exclusive(conn: &mut PgConnection, table: &str) -> diesel::QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Held {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        held: bool,
    }
    let found: Held = diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = pg_backend_pid() AND granted \
         AND relation = $1::regclass AND mode = 'AccessExclusiveLock') AS held",
    )
    .bind::<diesel::sql_types::Text, _>(table)
    .get_result(conn)?;
    Ok(found.held)
}

fn server_version(conn: &mut PgConnection) -> i32 {
    #[derive(QueryableByName)]
    struct Version {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        version: i32,
    }
    diesel::sql_query("SELECT current_setting('server_version_num')::int AS version")
        .get_result::<Version>(conn)
        .unwrap()
        .version
}

/// Sequential scans of `table` in the current transaction.
fn scans_in_transaction(conn: &mut PgConnection, table: &str) -> diesel::QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Scans {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query("SELECT pg_stat_get_xact_numscans($1::regclass) AS n")
        .bind::<Text, _>(table)
        .get_result::<Scans>(conn)
        .map(|s| s.n)
}

#[test]
fn not_null_refuses_while_rows_are_null_and_resumes_an_interrupted_run() {
    let server = PgServer::shared().unwrap();
    let db = TestDatabase::empty(server).unwrap();
    let mut conn = db.connect().unwrap();
    conn.batch_execute(
        "CREATE TABLE t (id bigint PRIMARY KEY, note text); INSERT INTO t VALUES (1, 'a'), (2, NULL), (3, NULL);",
    )
    .unwrap();
    let policy = LockPolicy::default();
    let error = enforce_not_null(db.url(), "t", "note", &policy, &mut |_| {}).unwrap_err();
    assert!(matches!(error, OnlineError::Refused(_)));
    assert_eq!(
        error.to_string(),
        "t.note still has 2 NULL row(s): backfill them first (plumb backfill), then run this again"
    );
    assert!(
        constraints(&mut conn, "t").is_empty(),
        "nothing was changed"
    );

    // Interrupted after its first step: the NOT VALID check is there.
    conn.batch_execute(
        "UPDATE t SET note = 'b' WHERE note IS NULL; \
         ALTER TABLE t ADD CONSTRAINT plumb_nn_note CHECK (note IS NOT NULL) NOT VALID;",
    )
    .unwrap();
    let report = enforce_not_null(db.url(), "t", "note", &policy, &mut |_| {}).unwrap();
    assert_eq!(
        report.steps.len(),
        2,
        "validate, then set: {:?}",
        report.steps
    );
    assert!(not_null(&mut conn, "t"));
    assert!(
        enforce_not_null(db.url(), "t", "note", &policy, &mut |_| {})
            .unwrap()
            .steps
            .is_empty(),
        "already NOT NULL: nothing to do"
    );
    let missing = enforce_not_null(db.url(), "t", "nope", &policy, &mut |_| {}).unwrap_err();
    assert!(missing.is_input_error(), "{missing}");
}
