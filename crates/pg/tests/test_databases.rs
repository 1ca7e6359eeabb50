//! Isolated, migrated test databases on whichever server the environment gives.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

use std::path::PathBuf;
use std::process::Command;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use plumb_pg::{PgServer, TestDatabase, sweep_leftover_databases};

fn migrations_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../migrations")
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn database_exists(server: &PgServer, name: &str) -> bool {
    let mut conn = server.connect().unwrap();
    diesel::sql_query("SELECT count(*) AS n FROM pg_database WHERE datname = $1")
        .bind::<Text, _>(name)
        .get_result::<Count>(&mut conn)
        .unwrap()
        .n
        == 1
}

#[test]
fn test_databases_are_migrated_isolated_and_dropped() {
    let one = TestDatabase::shared_migrated(&migrations_dir()).unwrap();
    let two = TestDatabase::shared_migrated(&migrations_dir()).unwrap();
    assert_ne!(one.name(), two.name());
    let mut a = one.connect().unwrap();
    let mut b = two.connect().unwrap();
    a.batch_execute("INSERT INTO accounts (email, display_name) VALUES ('a@example.com', 'A')")
        .unwrap();
    let count = |conn: &mut PgConnection| {
        diesel::sql_query("SELECT count(*) AS n FROM accounts")
            .get_result::<Count>(conn)
            .unwrap()
            .n
    };
    assert_eq!(count(&mut a), 1);
    assert_eq!(
        count(&mut b),
        0,
        "a row in one test's database is not seen in another's"
    );

    let name = one.name().to_owned();
    drop(a);
    drop(one);
    assert!(
        !database_exists(PgServer::shared().unwrap(), &name),
        "dropped with its handle"
    );
}

#[test]
fn many_tests_clone_the_template_at_once() {
    let names: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|_| {
                scope.spawn(|| {
                    let db = TestDatabase::shared_migrated(&migrations_dir()).unwrap();
                    let mut conn = db.connect().unwrap();
                    conn.batch_execute("SELECT display_name FROM accounts")
                        .unwrap();
                    db.name().to_owned()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len());
}

#[test]
fn databases_left_by_a_killed_run_are_swept() {
    let server = PgServer::shared().unwrap();
    // Creating a database runs this process's automatic sweep; do it before the leftover exists
    // so that the sweep called below is the one that finds it.
    let mine = TestDatabase::empty(server).unwrap();
    let mut child = Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let host = nix_hostname();
    let mut admin = server.connect().unwrap();
    let leftover = format!("plumb_t_leftover_{dead}");
    // One statement per call: CREATE DATABASE refuses to run in the implicit transaction of a
    // multi-statement string.
    for sql in [
        format!("DROP DATABASE IF EXISTS {leftover}"),
        format!("CREATE DATABASE {leftover}"),
        format!("COMMENT ON DATABASE {leftover} IS 'plumb-test owner={host}:{dead}'"),
    ] {
        admin.batch_execute(&sql).unwrap();
    }

    let swept = sweep_leftover_databases(&mut admin);
    assert!(swept.contains(&leftover), "{swept:?}");
    assert!(!database_exists(server, &leftover));
    assert!(
        database_exists(server, mine.name()),
        "a live process's database stays"
    );
}

fn nix_hostname() -> String {
    String::from_utf8(Command::new("hostname").output().unwrap().stdout)
        .unwrap()
        .trim()
        .to_owned()
}

#[test]
fn templates_of_directories_that_are_gone_are_dropped() {
    let server = PgServer::shared().unwrap();
    let host = nix_hostname();
    let mut admin = server.connect().unwrap();
    let stale = format!("plumb_tpl_gone_{}", std::process::id());
    for sql in [
        format!("DROP DATABASE IF EXISTS {stale}"),
        format!("CREATE DATABASE {stale}"),
        format!(
            "COMMENT ON DATABASE {stale} IS 'plumb-template host={host} dir=/nonexistent/plumb/{stale}/migrations'"
        ),
        format!("ALTER DATABASE {stale} IS_TEMPLATE true"),
    ] {
        admin.batch_execute(&sql).unwrap();
    }
    // Building a template for a fresh copy of the migrations sweeps the stale one.
    let copy = tempfile::tempdir().unwrap();
    let dir = copy.path().join("migrations");
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(migrations_dir()).unwrap() {
        let entry = entry.unwrap();
        let target = dir.join(entry.file_name());
        std::fs::create_dir_all(&target).unwrap();
        for file in std::fs::read_dir(entry.path()).unwrap() {
            let file = file.unwrap();
            std::fs::copy(file.path(), target.join(file.file_name())).unwrap();
        }
    }
    std::fs::write(
        dir.join("2026-01-12-090000-0000_create_accounts/down.sql"),
        "DROP TABLE accounts; -- changed\n",
    )
    .unwrap();
    let _db = TestDatabase::shared_migrated(&dir).unwrap();
    assert!(
        !database_exists(server, &stale),
        "the template of a directory that is gone was dropped"
    );
}
