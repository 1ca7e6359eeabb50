//! The backfill beside a hot standby whose replay falls behind, with and without waiting for
//! it: rows/s and the worst lag of each.
//!
//!     cargo run --release -p plumb-online --example backfill_standby            # 1,000,000 rows
//!     cargo run --release -p plumb-online --example backfill_standby 200000 8   # rows, lag limit in MB
//!
//! A throwaway cluster and one streaming standby (`ThrowawayCluster::start_standby`). Two
//! identical tables of N rows; each is filled by `run_backfill` (`note = split_part(email, '@',
//! 1)`), once with the standby limits out of reach and once with a limit on the standby's
//! replay lag (default 8 MB, 2 s). The same hindrance in both runs: one second into the fill,
//! the standby's replay is paused for 3 s (`pg_wal_replay_pause()`), as a long query on a
//! standby with `max_standby_streaming_delay = -1` would hold it. A sampler reads the lag from
//! the primary's `pg_stat_replication` every 50 ms.
#![allow(clippy::unwrap_used)] // a benchmark that cannot set up should fail loudly

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use plumb_online::backfill::{Backfill, BackfillOptions, BackfillOutcome, run_backfill};
use plumb_online::replicas::{ReplicaLimits, standby_lag};
use plumb_pg::{DatabaseUrl, PgBinaries, ThrowawayCluster};

/// The standby's worst lag seen while a fill ran.
#[derive(Default)]
struct Worst {
    bytes: i64,
    replay_lag: Duration,
}

fn caught_up(url: &DatabaseUrl) {
    let mut conn = url.connect().unwrap();
    let deadline = Instant::now() + Duration::from_secs(600);
    while !standby_lag(&mut conn)
        .unwrap()
        .iter()
        .all(|s| s.bytes == Some(0))
    {
        assert!(Instant::now() < deadline, "the standby never caught up");
        thread::sleep(Duration::from_millis(50));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rows: i64 = args.first().map_or(1_000_000, |a| a.parse().unwrap());
    let limit_mb: i64 = args.get(1).map_or(8, |a| a.parse().unwrap());
    let cluster =
        ThrowawayCluster::start_on(PgBinaries::locate_with_standbys().unwrap(), &[]).unwrap();
    let standby = cluster.start_standby("replica").unwrap();
    let url = cluster.url().clone();
    let mut conn = url.connect().unwrap();
    for table in ["free", "throttled"] {
        conn.batch_execute(&format!(
            "CREATE TABLE {table} (id bigint PRIMARY KEY, email text NOT NULL, note text); \
             INSERT INTO {table} SELECT g, 'user' || g || '@example.com', NULL \
             FROM generate_series(1, {rows}) g"
        ))
        .unwrap();
        conn.batch_execute(&format!("VACUUM ANALYZE {table}"))
            .unwrap();
    }
    conn.batch_execute("CHECKPOINT").unwrap();
    caught_up(&url);
    println!(
        "backfill beside a standby: {rows} rows per table; the standby's replay paused 3 s, one second into each fill; {} (throwaway cluster, fsync off), 2 cores shared by everything",
        cluster.url().describe()
    );
    println!(
        "{:<40} {:>10} {:>10} {:>14} {:>14} {:>7}",
        "run", "seconds", "rows/s", "worst lag MB", "worst lag s", "pauses"
    );
    let unlimited = ReplicaLimits {
        max_lag_bytes: i64::MAX,
        max_replay_lag: Duration::from_secs(86_400),
        ..ReplicaLimits::default()
    };
    let limited = ReplicaLimits {
        max_lag_bytes: limit_mb * 1024 * 1024,
        max_replay_lag: Duration::from_secs(2),
        recheck: Duration::from_millis(50),
        ..ReplicaLimits::default()
    };
    for (table, limits, label) in [
        ("free", unlimited, "no standby limit".to_owned()),
        (
            "throttled",
            limited,
            format!("waits while > {limit_mb} MB or 2 s behind"),
        ),
    ] {
        let spec = Backfill {
            name: table.into(),
            table: table.into(),
            key: "id".into(),
            column: "note".into(),
            expression: "split_part(email, '@', 1)".into(),
            pending: "note IS NULL".into(),
        };
        let options = BackfillOptions {
            replicas: limits,
            ..BackfillOptions::default()
        };
        let done = AtomicBool::new(false);
        let stop = AtomicBool::new(false);
        let (worst_sender, worst) = mpsc::channel();
        let started = Instant::now();
        let mut pauses = 0;
        let mut waiting = false;
        let report = thread::scope(|scope| {
            // The sampler, and the hindrance: replay paused from 1 s to 4 s into the fill.
            scope.spawn(|| {
                let mut primary = url.connect().unwrap();
                let mut replica = standby.url().connect().unwrap();
                let mut seen = Worst::default();
                let mut paused = false;
                let mut resumed = false;
                while !done.load(Ordering::SeqCst) {
                    let at = started.elapsed();
                    if !paused && at >= Duration::from_secs(1) {
                        replica
                            .batch_execute("SELECT pg_wal_replay_pause()")
                            .unwrap();
                        paused = true;
                    }
                    if paused && !resumed && at >= Duration::from_secs(4) {
                        replica
                            .batch_execute("SELECT pg_wal_replay_resume()")
                            .unwrap();
                        resumed = true;
                    }
                    for standby in standby_lag(&mut primary).unwrap() {
                        seen.bytes = seen.bytes.max(standby.bytes.unwrap_or(0));
                        seen.replay_lag =
                            seen.replay_lag.max(standby.replay_lag.unwrap_or_default());
                    }
                    thread::sleep(Duration::from_millis(50));
                }
                if paused && !resumed {
                    replica
                        .batch_execute("SELECT pg_wal_replay_resume()")
                        .unwrap();
                }
                worst_sender.send(seen).unwrap();
            });
            let report = run_backfill(&url, &spec, &options, &stop, &mut |p| {
                // A pause begins when the progress first says why it waits.
                if p.paused.is_some() && !waiting {
                    pauses += 1;
                }
                waiting = p.paused.is_some();
            })
            .unwrap();
            done.store(true, Ordering::SeqCst);
            report
        });
        let elapsed = started.elapsed();
        assert_eq!(report.outcome, BackfillOutcome::Complete);
        let worst = worst.recv().unwrap();
        println!(
            "{:<40} {:>10.1} {:>10.0} {:>14.1} {:>14.1} {:>7}",
            label,
            elapsed.as_secs_f64(),
            report.filled as f64 / elapsed.as_secs_f64(),
            worst.bytes as f64 / (1024.0 * 1024.0),
            worst.replay_lag.as_secs_f64(),
            pauses
        );
        caught_up(&url);
    }
}
