//! Backfill benchmark:
//!
//!     cargo run --release -p plumb-online --example backfill_bench [ROWS]
//!
//! Two identical tables of ROWS rows (default 1,000,000) with an empty `note` column, in a
//! database of its own (on `DATABASE_URL`, or a throwaway cluster). One is filled by a single
//! plain `UPDATE` — the physical limit of this machine — the other by the backfill engine with
//! its defaults. Throughout, a concurrent workload (one session reading a random row by key,
//! one updating another column of a random row) records its latencies: with no fill running,
//! during the UPDATE, and during the backfill. Prints rows/s of each fill, their ratio, and the
//! workload's p50/p99/max per phase.
#![allow(clippy::unwrap_used)] // a benchmark that cannot set up should fail loudly

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use plumb_online::backfill::{Backfill, BackfillOptions, BackfillOutcome, run_backfill};
use plumb_pg::{PgServer, TestDatabase};

const EXPRESSION: &str = "split_part(email, '@', 1)";

fn main() {
    let rows: i64 = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("ROWS must be a number"))
        .unwrap_or(1_000_000);
    let server = PgServer::from_env().unwrap();
    let db = TestDatabase::empty(&server).unwrap();
    let mut conn = db.connect().unwrap();
    for table in ["plain", "batched"] {
        conn.batch_execute(&format!(
            "CREATE TABLE {table} (id bigint PRIMARY KEY, email text NOT NULL, visits integer NOT NULL DEFAULT 0, note text); \
             INSERT INTO {table} (id, email) SELECT g, 'user' || g || '@example.com' FROM generate_series(1, {rows}) g;"
        ))
        .unwrap();
        conn.batch_execute(&format!("VACUUM ANALYZE {table}"))
            .unwrap();
    }
    println!("{rows} rows per table on {}", server.describe());

    let idle = with_workload(&db, "plain", rows, || thread::sleep(Duration::from_secs(3)));
    report("no fill running", &idle.1);

    // Each fill starts from a checkpoint with no vacuum of the other table in flight.
    conn.batch_execute("CHECKPOINT").unwrap();
    let (plain_time, plain_latency) = with_workload(&db, "plain", rows, || {
        let started = Instant::now();
        db.connect()
            .unwrap()
            .batch_execute(&format!(
                "UPDATE plain SET note = {EXPRESSION} WHERE note IS NULL"
            ))
            .unwrap();
        started.elapsed()
    });
    let plain_rate = rows as f64 / plain_time.as_secs_f64();
    println!(
        "plain UPDATE: {rows} rows in {:.2} s, {plain_rate:.0} rows/s",
        plain_time.as_secs_f64()
    );
    report("during the plain UPDATE", &plain_latency);

    conn.batch_execute("VACUUM plain").unwrap();
    conn.batch_execute("CHECKPOINT").unwrap();
    let spec = Backfill {
        name: "bench".into(),
        table: "batched".into(),
        key: "id".into(),
        column: "note".into(),
        expression: EXPRESSION.into(),
        pending: "note IS NULL".into(),
    };
    let options = BackfillOptions::default();
    let (outcome, batched_latency) = with_workload(&db, "batched", rows, || {
        let stop = AtomicBool::new(false);
        run_backfill(db.url(), &spec, &options, &stop, &mut |_| {}).unwrap()
    });
    assert_eq!(outcome.outcome, BackfillOutcome::Complete);
    let batched_rate = outcome.filled as f64 / outcome.elapsed.as_secs_f64();
    println!(
        "backfill: {} rows in {:.2} s ({} batches, target {} ms, pause {} ms), {batched_rate:.0} rows/s",
        outcome.filled,
        outcome.elapsed.as_secs_f64(),
        outcome.batches,
        options.target_batch_time.as_millis(),
        options.pause.as_millis()
    );
    report("during the backfill", &batched_latency);
    println!(
        "backfill / plain UPDATE throughput: {:.2}; worst workload latency: {:.1} ms during the backfill, {:.1} ms during the plain UPDATE",
        batched_rate / plain_rate,
        ms(*batched_latency.last().unwrap()),
        ms(*plain_latency.last().unwrap())
    );
}

/// Runs `fill` while two sessions work on `table`; returns its result and their latencies,
/// sorted.
fn with_workload<T: Send>(
    db: &TestDatabase<'_>,
    table: &str,
    rows: i64,
    fill: impl FnOnce() -> T + Send,
) -> (T, Vec<Duration>) {
    let done = AtomicBool::new(false);
    thread::scope(|s| {
        let workers: Vec<_> = [
            format!("SELECT id, email, note FROM {table} WHERE id = $1"),
            format!("UPDATE {table} SET visits = visits + 1 WHERE id = $1"),
        ]
        .into_iter()
        .enumerate()
        .map(|(n, sql)| {
            let done = &done;
            s.spawn(move || {
                let mut conn = db.connect().unwrap();
                let mut latencies = Vec::new();
                let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ n as u64;
                while !done.load(Ordering::Relaxed) {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let id = (state % rows as u64) as i64 + 1;
                    let started = Instant::now();
                    diesel::sql_query(&sql)
                        .bind::<BigInt, _>(id)
                        .execute(&mut conn)
                        .unwrap();
                    latencies.push(started.elapsed());
                    thread::sleep(Duration::from_millis(2));
                }
                latencies
            })
        })
        .collect();
        let result = fill();
        done.store(true, Ordering::Relaxed);
        let mut latencies: Vec<Duration> = workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect();
        latencies.sort();
        (result, latencies)
    })
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn report(phase: &str, sorted: &[Duration]) {
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q) as usize];
    println!(
        "  workload {phase}: {} queries, p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms",
        sorted.len(),
        ms(at(0.5)),
        ms(at(0.99)),
        ms(*sorted.last().unwrap())
    );
}
