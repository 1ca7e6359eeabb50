//! The pool's session settings are in force on every connection it hands out.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

mod common;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;
use plumb_model::{PoolError, PoolSettings, build_pool};
use plumb_pg::error_texts::ErrorTexts;

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    value: String,
}

fn show(conn: &mut PgConnection, name: &str) -> String {
    diesel::sql_query("SELECT current_setting($1) AS value")
        .bind::<Text, _>(name)
        .get_result::<Setting>(conn)
        .unwrap()
        .value
}

fn settings() -> PoolSettings {
    PoolSettings {
        max_size: 3,
        connection_timeout: Duration::from_secs(5),
        statement_timeout: Duration::from_millis(1500),
        lock_timeout: Duration::from_millis(250),
        application_name: "plumb-test's pool".to_owned(),
    }
}

#[test]
fn every_pooled_connection_carries_the_timeouts_and_name() {
    let (db, _conn) = common::database();
    let pool = build_pool(db.url().expose(), &settings()).unwrap();
    // Hold all three at once, so each is a distinct connection.
    let mut held: Vec<_> = (0..3).map(|_| pool.get().unwrap()).collect();
    for conn in &mut held {
        assert_eq!(show(conn, "lock_timeout"), "250ms");
        assert_eq!(show(conn, "statement_timeout"), "1500ms");
        assert_eq!(show(conn, "application_name"), "plumb-test's pool");
    }
}

/// How the test server words each timeout, learnt from it (its `lc_messages` may not be
/// English).
fn texts(pool: &plumb_model::PgPool) -> ErrorTexts {
    let (mut one, mut other) = (pool.get().unwrap(), pool.get().unwrap());
    ErrorTexts::learn(&mut one, &mut other).unwrap()
}

#[test]
fn the_lock_timeout_stops_a_query_from_queueing_behind_a_lock() {
    let (db, mut holder) = common::database();
    let pool = build_pool(db.url().expose(), &settings()).unwrap();
    let texts = texts(&pool);
    holder
        .batch_execute("BEGIN; LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE;")
        .unwrap();
    let mut conn = pool.get().unwrap();
    let outcome = diesel::sql_query("SELECT count(*) FROM accounts").execute(&mut conn);
    assert!(
        matches!(&outcome, Err(error) if texts.is_lock_timeout(error)),
        "{outcome:?}"
    );
    holder.batch_execute("ROLLBACK").unwrap();
}

#[test]
fn the_statement_timeout_cancels_a_long_query() {
    let (db, _conn) = common::database();
    let pool = build_pool(db.url().expose(), &settings()).unwrap();
    let texts = texts(&pool);
    let mut conn = pool.get().unwrap();
    let outcome = diesel::sql_query("SELECT pg_sleep(5)").execute(&mut conn);
    assert!(
        matches!(&outcome, Err(error) if texts.is_statement_timeout(error)),
        "{outcome:?}"
    );
}

#[test]
fn a_pool_that_cannot_connect_fails_when_built() {
    let settings = PoolSettings {
        connection_timeout: Duration::from_millis(500),
        ..settings()
    };
    let outcome = build_pool("postgres://nobody@127.0.0.1:1/none", &settings);
    assert!(matches!(outcome, Err(PoolError::Connect(_))), "{outcome:?}");
    let zero = PoolSettings {
        max_size: 0,
        ..settings
    };
    assert!(matches!(
        build_pool("postgres://x@127.0.0.1/none", &zero),
        Err(PoolError::Settings(_))
    ));
}
