//! The lock observer's own load on the server: `pg_locks` takes every lock-manager partition
//! lock, so it is read at a bounded rate however long the watched work runs.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use plumb_pg::observe::{pace, watch};
use plumb_pg::{PgServer, TestDatabase};

/// The most reads `pace` allows in `elapsed`: one per pause, the pauses summed.
fn allowed_reads(elapsed: Duration) -> u32 {
    let mut reads = 1;
    let mut at = Duration::ZERO;
    while at < elapsed {
        at += pace(at);
        reads += 1;
    }
    reads
}

#[test]
fn a_long_statement_is_watched_at_a_bounded_rate() {
    let server = PgServer::shared().unwrap();
    let db = TestDatabase::empty(server).unwrap();
    let (mut conn, mut observer) = (db.connect().unwrap(), db.connect().unwrap());
    let started = Instant::now();
    let (outcome, trace) = watch(&mut conn, &mut observer, |conn| {
        conn.batch_execute("SELECT pg_sleep(1.5)")
    })
    .unwrap();
    let elapsed = started.elapsed();
    outcome.unwrap();
    assert!(trace.observer_error.is_none(), "{:?}", trace.observer_error);
    assert!(trace.lock_reads > 0, "the observer read pg_locks");
    // A slow machine reads less often, never more: the bound holds whatever the load.
    assert!(
        trace.lock_reads <= allowed_reads(elapsed),
        "{} reads of pg_locks in {elapsed:?}, at most {} allowed",
        trace.lock_reads,
        allowed_reads(elapsed)
    );
}
