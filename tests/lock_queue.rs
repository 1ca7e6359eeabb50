//! The lock-queue benchmark: what clients of the reference service feel while a column is added
//! (and made NOT NULL) under steady load, with a long reading transaction open when the DDL
//! starts, done the plain way and through plumb's lock policy.
//!
//!     cargo run --release -p plumb-tests --example lock_queue
//!     cargo run --release -p plumb-tests --example lock_queue -- --rows 100000 --seconds 6
//!
//! Options: `--rows N` (accounts seeded, default 1,000,000), `--rate R` (requests per second,
//! default 2,000: 70 % `GET /v2/accounts/{id}`, 30 % `POST /v2/accounts`), `--seconds S` (load
//! per scenario, default 10), `--connections A,B` (client connections, default 256,1024),
//! `--report-seconds S` (how long the reading transaction stays open, default 5), `--repeat N`
//! (runs of each scenario; the median run by worst latency is shown, default 1), `--only A,B`
//! (only the scenarios whose name contains A or B).
//!
//! Each scenario: load starts; after 2 s a session opens a transaction that reads `accounts`
//! and keeps it open for `--report-seconds`; 0.5 s later the DDL starts. The load is open-loop:
//! request k is due at k / rate, and its latency is counted from when it was due, so a client
//! held up behind the lock queue is charged for the requests it could not send. The service
//! runs in this process with its default settings (pool of 10, lock_timeout 1 s, statement
//! timeout 5 s, pool wait 2 s); client, service and PostgreSQL share the machine's cores.
#![allow(clippy::unwrap_used)] // a benchmark that cannot set up should fail loudly

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use plumb_online::LockPolicy;
use plumb_online::runner::{Phase, run_migrations};
use plumb_pg::observe::Queue;
use plumb_pg::{MigrationFolders, PgServer, TestDatabase};

struct Options {
    rows: u64,
    rate: u64,
    seconds: u64,
    connections: Vec<usize>,
    report_seconds: u64,
    /// Runs of each scenario; the figures are the median run's (by worst latency).
    repeat: usize,
    /// Only the scenarios whose name contains one of these.
    only: Vec<String>,
}

fn options() -> Options {
    let mut options = Options {
        rows: 1_000_000,
        rate: 2_000,
        seconds: 10,
        connections: vec![256, 1024],
        report_seconds: 5,
        repeat: 1,
        only: Vec::new(),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).map(String::as_str).unwrap_or_default();
        let number = || value.parse::<u64>().unwrap();
        match pair[0].as_str() {
            "--rows" => options.rows = number(),
            "--rate" => options.rate = number(),
            "--seconds" => options.seconds = number(),
            "--report-seconds" => options.report_seconds = number(),
            "--repeat" => options.repeat = number().max(1) as usize,
            "--only" => options.only = value.split(',').map(str::to_owned).collect(),
            "--connections" => {
                options.connections = value.split(',').map(|n| n.parse().unwrap()).collect();
            }
            other => panic!("unknown option {other}"),
        }
    }
    options
}

/// How the schema change is made in a scenario.
#[derive(Clone)]
enum Change {
    /// No DDL: the same load and the same long transaction.
    None,
    /// One plain statement on a connection with no lock_timeout.
    Plain(&'static str),
    /// The runner applying a new migration that adds a column, under this policy.
    Runner(LockPolicy),
    /// `plumb not-null` on a filled column, under this policy: its three migrations written
    /// into the workspace and applied by the runner.
    NotNull(LockPolicy),
}

struct Scenario {
    name: String,
    change: Change,
}

/// What one scenario measured.
struct Outcome {
    requests: usize,
    failed: usize,
    p50: Duration,
    p99: Duration,
    max: Duration,
    longest_gap: Duration,
    ddl: String,
}

fn main() {
    let options = options();
    let server = PgServer::from_env().unwrap();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let reference = root.join("migrations");
    let db = TestDatabase::migrated(&server, &reference).unwrap();
    let seeding = Instant::now();
    let mut conn = db.connect().unwrap();
    conn.batch_execute(&format!(
        "INSERT INTO accounts (email, display_name) \
         SELECT 'seed' || n || '@example.com', 'Seed ' || n FROM generate_series(1, {}) AS n",
        options.rows
    ))
    .unwrap();
    // A statement of its own: VACUUM refuses the implicit transaction of a multi-statement string.
    conn.batch_execute("VACUUM ANALYZE accounts").unwrap();
    let base = start_service(&db);
    println!(
        "lock-queue benchmark: {} accounts (seeded in {:.0} s), {} requests/s (70 % GET, 30 % POST), {} s per scenario, a {} s reading transaction opened 0.5 s before the DDL; {} cores shared by client, service and PostgreSQL; {}",
        options.rows,
        seeding.elapsed().as_secs_f64(),
        options.rate,
        options.seconds,
        options.report_seconds,
        thread::available_parallelism().map_or(1, |n| n.get()),
        server.describe()
    );
    let old = LockPolicy {
        lock_timeout: Duration::from_millis(500),
        max_attempts: 10,
        first_backoff: Duration::from_millis(200),
        max_backoff: Duration::from_secs(10),
        drain_ratio: 0,
        ..LockPolicy::default()
    };
    let file_2s = LockPolicy {
        lock_timeout: Duration::from_secs(2),
        ..old.clone()
    };
    let new = LockPolicy::default();
    let fast_old = LockPolicy {
        lock_timeout: Duration::from_millis(100),
        ..old.clone()
    };
    let scenarios = [
        ("no DDL, the same long transaction", Change::None),
        (
            "plain ALTER TABLE ... ADD COLUMN, no lock_timeout",
            Change::Plain("ALTER TABLE accounts ADD COLUMN {col} text"),
        ),
        (
            "runner, before: 500 ms per attempt, pauses from 100-200 ms",
            Change::Runner(old.clone()),
        ),
        (
            "runner, before, with the file's SET lock_timeout = '2s'",
            Change::Runner(file_2s),
        ),
        (
            "runner, before, --lock-timeout-ms 100",
            Change::Runner(fast_old),
        ),
        (
            "runner, now: the default lock policy",
            Change::Runner(new.clone()),
        ),
        (
            "runner, now, [lock] timeout-ms = 50",
            Change::Runner(LockPolicy {
                lock_timeout: Duration::from_millis(50),
                ..new.clone()
            }),
        ),
        (
            "runner, now, [lock] timeout-ms = 20",
            Change::Runner(LockPolicy {
                lock_timeout: Duration::from_millis(20),
                ..new.clone()
            }),
        ),
        (
            "runner, now, [lock] timeout-ms = 30",
            Change::Runner(LockPolicy {
                lock_timeout: Duration::from_millis(30),
                ..new.clone()
            }),
        ),
        (
            "runner, now, [lock] timeout-ms = 100",
            Change::Runner(LockPolicy {
                lock_timeout: Duration::from_millis(100),
                ..new.clone()
            }),
        ),
        (
            "runner, now, [lock] drain-ratio = 0",
            Change::Runner(LockPolicy {
                drain_ratio: 0,
                ..new.clone()
            }),
        ),
        (
            "plain SET NOT NULL (a filled column)",
            Change::Plain("ALTER TABLE accounts ALTER COLUMN {col} SET NOT NULL"),
        ),
        ("plumb not-null, before", Change::NotNull(old)),
        ("plumb not-null, now", Change::NotNull(new)),
    ];
    // A workspace of its own: the reference migrations, and plumb.toml saying that the runner
    // applies them (so the NOT NULL scaffold leaves lock_timeout to the policy under test).
    let dir = tempfile::tempdir().unwrap();
    let workspace_migrations = dir.path().join("migrations");
    copy_dir(&reference, &workspace_migrations);
    std::fs::write(
        dir.path().join("plumb.toml"),
        "[lock]\napplied-by = \"plumb\"\n",
    )
    .unwrap();
    println!(
        "{:<58} {:>5} {:>8} {:>7} {:>8} {:>8} {:>8} {:>9}  DDL",
        "scenario", "conns", "requests", "non-2xx", "p50 ms", "p99 ms", "max ms", "gap s"
    );
    let mut serial = 0;
    for &connections in &options.connections {
        for (name, path) in &scenarios {
            // The NOT NULL and the older-policy rows once, at the first connection count.
            let repeat = (matches!(path, Change::None | Change::Runner(_))
                && !name.contains("'2s'")
                && !name.contains("--lock-timeout-ms"))
                || name.starts_with("plain ALTER");
            if connections != options.connections[0] && !repeat {
                continue;
            }
            if !options.only.is_empty() && !options.only.iter().any(|o| name.contains(o.as_str())) {
                continue;
            }
            let scenario = Scenario {
                name: (*name).to_owned(),
                change: path.clone(),
            };
            let mut runs: Vec<Outcome> = (0..options.repeat)
                .map(|_| {
                    serial += 1;
                    run_scenario(
                        &db,
                        &base,
                        &workspace_migrations,
                        &options,
                        connections,
                        serial,
                        &scenario,
                    )
                })
                .collect();
            runs.sort_by_key(|run| run.max);
            let outcome = runs.swap_remove(runs.len() / 2);
            println!(
                "{:<58} {:>5} {:>8} {:>7} {:>8.1} {:>8.1} {:>8.1} {:>9.2}  {}",
                scenario.name,
                connections,
                outcome.requests,
                outcome.failed,
                ms(outcome.p50),
                ms(outcome.p99),
                ms(outcome.max),
                outcome.longest_gap.as_secs_f64(),
                outcome.ddl
            );
        }
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The reference service in this process, on a free port, with its default settings.
fn start_service(db: &TestDatabase<'_>) -> String {
    plumb_server::app::serve_in_background(&[
        ("DATABASE_URL", db.url().expose().to_owned()),
        ("PLUMB_BIND", "127.0.0.1:0".to_owned()),
    ])
    .unwrap()
}

/// One request: when it was due, when it completed, and whether it succeeded.
struct Sample {
    due: Instant,
    done: Instant,
    ok: bool,
}

fn run_scenario(
    db: &TestDatabase<'_>,
    base: &str,
    migrations: &Path,
    options: &Options,
    connections: usize,
    serial: usize,
    scenario: &Scenario,
) -> Outcome {
    let column = format!("bench_{serial}");
    if let Change::Plain(sql) = &scenario.change
        && sql.contains("SET NOT NULL")
    {
        fill(db, &column);
    }
    if let Change::NotNull(_) = &scenario.change {
        // Added and filled by a migration of the workspace, so that the NOT NULL scaffold
        // finds the column where a repository has it.
        add_column_migration(
            migrations,
            serial,
            &format!("{column} text DEFAULT 'x'"),
            &column,
        );
        let folders = MigrationFolders::read(migrations).unwrap();
        run_migrations(
            db.url(),
            &folders,
            Phase::All,
            &LockPolicy::default(),
            &mut |_| {},
        )
        .unwrap();
    }
    let started = Instant::now() + Duration::from_millis(200);
    let end = started + Duration::from_secs(options.seconds);
    let samples = Arc::new(Mutex::new(Vec::new()));
    let clients: Vec<_> = (0..connections)
        .map(|client| {
            let samples = Arc::clone(&samples);
            let base = base.to_owned();
            let rate = options.rate;
            let rows = options.rows;
            thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(30)))
                    .build()
                    .into();
                let mut mine = Vec::new();
                let mut k = client as u64;
                loop {
                    let due = started + Duration::from_secs_f64(k as f64 / rate as f64);
                    if due >= end {
                        break;
                    }
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        thread::sleep(wait);
                    }
                    let ok = request(&agent, &base, k, rows, serial);
                    mine.push(Sample {
                        due,
                        done: Instant::now(),
                        ok,
                    });
                    k += connections as u64;
                }
                samples.lock().unwrap().extend(mine);
            })
        })
        .collect();
    // The report query: a transaction that read the table and stays open.
    let report_at = started + Duration::from_secs(2);
    let report = {
        let url = db.url().clone();
        let hold = Duration::from_secs(options.report_seconds);
        thread::spawn(move || {
            let mut conn = url.connect().unwrap();
            sleep_until(report_at);
            conn.batch_execute(
                "SET application_name = 'report'; BEGIN; SELECT count(*) FROM accounts;",
            )
            .unwrap();
            sleep_until(report_at + hold);
            conn.batch_execute("COMMIT").unwrap();
        })
    };
    sleep_until(report_at + Duration::from_millis(500));
    let ddl = run_ddl(db, migrations, serial, &column, &scenario.change);
    for client in clients {
        client.join().unwrap();
    }
    report.join().unwrap();
    let samples = std::mem::take(&mut *samples.lock().unwrap());
    summarise(samples, ddl)
}

fn sleep_until(at: Instant) {
    if let Some(wait) = at.checked_duration_since(Instant::now()) {
        thread::sleep(wait);
    }
}

/// A filled, nullable column for the NOT NULL scenarios, added before the load: its constant
/// default fills every row, old and new, without a rewrite.
fn fill(db: &TestDatabase<'_>, column: &str) {
    db.connect()
        .unwrap()
        .batch_execute(&format!(
            "ALTER TABLE accounts ADD COLUMN {column} text DEFAULT 'x'"
        ))
        .unwrap();
}

fn request(agent: &ureq::Agent, base: &str, k: u64, rows: u64, serial: usize) -> bool {
    // 7 reads in 10, spread over the seeded ids.
    if k % 10 < 7 {
        let id = 1 + k.wrapping_mul(2_654_435_761) % rows;
        agent
            .get(&format!("{base}/v2/accounts/{id}"))
            .call()
            .is_ok_and(|r| r.status().is_success())
    } else {
        agent
            .post(&format!("{base}/v2/accounts"))
            .send_json(serde_json::json!({
                "email": format!("bench{serial}-{k}@example.com"),
                "display_name": "Bench"
            }))
            .is_ok_and(|r| r.status().is_success())
    }
}

/// Runs the scenario's DDL; a line saying what it did.
fn run_ddl(
    db: &TestDatabase<'_>,
    migrations: &Path,
    serial: usize,
    column: &str,
    change: &Change,
) -> String {
    let started = Instant::now();
    match change {
        Change::None => "none".to_owned(),
        Change::Plain(sql) => {
            let sql = sql.replace("{col}", column);
            let outcome = db.connect().unwrap().batch_execute(&sql);
            format!(
                "{} in {:.2} s",
                if outcome.is_ok() { "done" } else { "failed" },
                started.elapsed().as_secs_f64()
            )
        }
        Change::Runner(policy) => {
            add_column_migration(migrations, serial, &format!("{column} text"), column);
            let folders = MigrationFolders::read(migrations).unwrap();
            let mut queue = Queue::default();
            let outcome = run_migrations(db.url(), &folders, Phase::All, policy, &mut |_| {});
            let outcome = outcome.map(|r| {
                let run = &r.applied[0];
                queue = run.queue.clone();
                run.attempts
            });
            describe(outcome, &queue, started)
        }
        Change::NotNull(policy) => {
            // What `plumb not-null` does: the three migrations written, then applied.
            let root = migrations.parent().unwrap();
            let settings = plumb_check::Settings::load(root).unwrap();
            plumb::scaffold::not_null(&settings, &format!("accounts.{column}"))
                .and_then(plumb::scaffold::Plan::write)
                .unwrap();
            let folders = MigrationFolders::read(migrations).unwrap();
            let mut queue = Queue::default();
            let outcome =
                run_migrations(db.url(), &folders, Phase::All, policy, &mut |_| {}).map(|report| {
                    for run in &report.applied {
                        queue.absorb(&run.queue);
                    }
                    report.applied.iter().map(|run| run.attempts).sum()
                });
            describe(outcome, &queue, started)
        }
    }
}

/// A migration folder of the workspace that adds `accounts.<definition>`.
fn add_column_migration(migrations: &Path, serial: usize, definition: &str, column: &str) {
    let folder = migrations.join(format!("2030-01-01-{serial:06}-0000_bench_{serial}"));
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("up.sql"),
        format!("ALTER TABLE accounts ADD COLUMN {definition};\n"),
    )
    .unwrap();
    std::fs::write(
        folder.join("down.sql"),
        format!("ALTER TABLE accounts DROP COLUMN {column};\n"),
    )
    .unwrap();
}

fn describe(
    outcome: Result<u32, plumb_online::OnlineError>,
    queue: &Queue,
    started: Instant,
) -> String {
    match outcome {
        Ok(attempts) => format!(
            "done in {:.2} s, {attempts} attempt(s); plumb saw {} session(s) wait behind it, the longest {:.0} ms, stalled {:.2} s",
            started.elapsed().as_secs_f64(),
            queue.sessions.len(),
            ms(queue.longest_wait),
            queue.stalled.as_secs_f64()
        ),
        Err(error) => format!(
            "failed after {:.2} s: {error}",
            started.elapsed().as_secs_f64()
        ),
    }
}

fn summarise(mut samples: Vec<Sample>, ddl: String) -> Outcome {
    let mut latencies: Vec<Duration> = samples.iter().map(|s| s.done - s.due).collect();
    latencies.sort();
    let at = |q: f64| {
        latencies
            .get(((latencies.len().max(1) - 1) as f64 * q).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    samples.sort_by_key(|s| s.done);
    let successes: Vec<Instant> = samples.iter().filter(|s| s.ok).map(|s| s.done).collect();
    let longest_gap = successes
        .windows(2)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap_or_default();
    Outcome {
        requests: samples.len(),
        failed: samples.iter().filter(|s| !s.ok).count(),
        p50: at(0.5),
        p99: at(0.99),
        max: at(1.0),
        longest_gap,
        ddl,
    }
}
