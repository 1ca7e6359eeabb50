//! The service on a database that words its errors in German: it starts before the flags
//! table exists and answers a lock timeout with 503, as it does in English. Nothing it decides
//! may rest on PostgreSQL's English text.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

mod common;

use std::path::Path;
use std::process::Command;

use common::{TestServer, config, migrations_dir};
use diesel::connection::SimpleConnection;
use diesel::{PgConnection, RunQueryDsl};
use plumb_pg::{PgServer, TestDatabase, ThrowawayCluster};

/// The locale the database speaks: built into a directory of the test's own with `localedef`
/// (the machine need not have it installed), and handed to the server as `LOCPATH`.
const LOCALE: &str = "de_DE.UTF-8";

fn build_locale(dir: &Path) {
    let built = Command::new("localedef")
        .args(["-i", "de_DE", "-f", "UTF-8"])
        .arg(dir.join(LOCALE))
        .output()
        .expect("localedef (glibc's, with the locale sources of Debian's `locales` package)");
    assert!(
        dir.join(LOCALE).join("LC_MESSAGES").exists(),
        "localedef built no {LOCALE}: {}",
        String::from_utf8_lossy(&built.stderr)
    );
}

/// The primary message of the error `sql` raises under `lc_messages`.
fn worded(conn: &mut PgConnection, lc_messages: &str, sql: &str) -> String {
    conn.batch_execute(&format!("SET lc_messages = '{lc_messages}'"))
        .unwrap();
    match diesel::sql_query(sql).execute(conn) {
        Err(diesel::result::Error::DatabaseError(_, info)) => info.message().to_owned(),
        other => panic!("{sql} did not fail: {other:?}"),
    }
}

#[test]
fn a_server_speaking_german_gets_the_same_answers() {
    let locales = tempfile::tempdir().unwrap();
    build_locale(locales.path());
    // A server of its own: a running postmaster does not see locales made after it started.
    let cluster =
        ThrowawayCluster::start_with_environment(&[("LOCPATH", locales.path().as_os_str())])
            .unwrap();
    let server = PgServer::Throwaway(cluster);
    let db = TestDatabase::migrated(&server, &migrations_dir()).unwrap();
    let mut admin: PgConnection = db.connect().unwrap();
    admin
        .batch_execute(&format!(
            "ALTER DATABASE \"{}\" SET lc_messages = '{LOCALE}'",
            db.name()
        ))
        .unwrap();
    // The setting took: the server words the same error otherwise than in C.
    let mut conn: PgConnection = db.connect().unwrap();
    let translated = worded(&mut conn, LOCALE, "SELECT 1/0");
    assert_ne!(
        translated,
        worded(&mut conn, "C", "SELECT 1/0"),
        "the server's binaries ({}) speak no German: they were built without translations",
        plumb_pg::PgBinaries::locate()
            .map_or_else(|e| e.to_string(), |b| b.bindir().display().to_string())
    );

    // Before the flags migration: the service starts, every flag off.
    admin.batch_execute("DROP TABLE feature_flags").unwrap();
    let service = TestServer::start(config(&db, &[("PLUMB_LOCK_TIMEOUT_MS", "50")]));
    let (status, flags) = service.admin("GET", "/admin/flags", None);
    assert_eq!(status, 200, "{flags}");
    assert_eq!(flags["flags"][0]["enabled"], false, "{flags}");

    // A query that waits out its lock_timeout is a 503 to retry, not a 500.
    admin
        .batch_execute("BEGIN; LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    let (status, body) = service.get("/v1/accounts");
    admin.batch_execute("ROLLBACK").unwrap();
    assert_eq!(
        (status, &body["code"]),
        (503, &"unavailable".into()),
        "{body}"
    );
    assert_eq!(service.get("/v1/accounts").0, 200);
}
