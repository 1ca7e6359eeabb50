#![allow(dead_code)] // each test binary uses its own part of these helpers

use std::path::PathBuf;

use diesel::PgConnection;
use plumb_pg::TestDatabase;

pub fn migrations_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../migrations")
}

/// A migrated database of the test's own, and a connection to it.
pub fn database() -> (TestDatabase<'static>, PgConnection) {
    let database =
        TestDatabase::shared_migrated(&migrations_dir()).expect("a migrated test database");
    let conn = database
        .connect()
        .expect("a connection to the test database");
    (database, conn)
}
