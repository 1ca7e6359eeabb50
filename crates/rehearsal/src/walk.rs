//! One walk of the release under load, the plumb way or the naive way, on a database of its
//! own: baseline, pre-deploy, rollout, flag, backfill, NOT NULL, retire, expose.

use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use plumb_online::LockPolicy;
use plumb_online::backfill::{BackfillOptions, BackfillOutcome, run_backfill};
use plumb_online::runner::{Phase, RunReport, run_migrations};
use plumb_pg::observe::Queue;
use plumb_pg::{MigrationFolders, PgServer, TestDatabase};

use crate::load::{Load, LoadOptions, Recorded, Routing};
use crate::release::{COLUMN, Releases, TABLE};
use crate::service::Service;
use crate::{Error, Options, Result};

/// How the change is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// `plumb migrate` under the lock policy, the backfill in batches, NOT NULL through the
    /// validated check.
    Plumb,
    /// Plain statements with no lock_timeout: `ADD COLUMN`, one `UPDATE`, `SET NOT NULL`.
    Naive,
}

impl Way {
    pub fn name(self) -> &'static str {
        match self {
            Way::Plumb => "plumb",
            Way::Naive => "naive",
        }
    }
}

/// What one schema step cost other sessions.
#[derive(Debug, Clone, Default)]
pub struct Ddl {
    pub what: String,
    pub elapsed: Duration,
    /// Time spent waiting for locks (its own queue position).
    pub lock_wait: Duration,
    /// Time it held ACCESS EXCLUSIVE.
    pub exclusive_held: Duration,
    /// Sessions seen queued behind it, and for how long in all.
    pub queued: usize,
    pub stalled: Duration,
    pub failed: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PhaseRecord {
    pub name: &'static str,
    pub from: Duration,
    pub to: Duration,
    pub ddl: Option<Ddl>,
}

/// What a walk saw.
#[derive(Debug)]
pub struct Walk {
    pub way: Way,
    pub phases: Vec<PhaseRecord>,
    pub recorded: Recorded,
    /// Acknowledged writes the database does not have as acknowledged.
    pub lost: Vec<String>,
    pub seed_seconds: f64,
}

/// Walks the release `way`'s way on a fresh database of `server`.
pub fn walk(way: Way, server: &PgServer, releases: &Releases, options: &Options) -> Result<Walk> {
    let label = way.name();
    let settings = plumb_check::Settings::load(&releases.n1_workspace)
        .map_err(|e| Error::Setup(e.to_string()))?;
    let release_n_migrations = options.root.join("migrations");
    let db = TestDatabase::migrated(server, &release_n_migrations)
        .map_err(|e| Error::Setup(format!("the database of release N: {e}")))?;
    let url = db.url().clone();
    eprintln!("rehearsal ({label}): seeding {} accounts", options.rows);
    let seeding = Instant::now();
    seed(&db, options.rows)?;
    let seed_seconds = seeding.elapsed().as_secs_f64();

    let logs = &options.out;
    let n = Service::start(
        "N",
        &releases.n,
        url.expose(),
        &logs.join(format!("{label}-release-n.log")),
    )?;
    let routing = Arc::new(Routing::new(n.base.clone()));
    let mut n = Some(n);
    let load = Load::start(
        Arc::clone(&routing),
        &LoadOptions {
            rate: options.rate,
            clients: options.clients,
            seeded: options.rows,
            tag: format!("{label}-{}", std::process::id()),
        },
    );
    let policy = LockPolicy::from(&settings.lock);
    let mut phases = Vec::new();
    let mut n1 = None;
    let step = options.phase;

    let mut run =
        |name: &'static str, action: &mut dyn FnMut() -> Result<Option<Ddl>>| -> Result<()> {
            let from = load.elapsed();
            eprintln!("rehearsal ({label}): {name}");
            let ddl = action()?;
            let until = from + step;
            while load.elapsed() < until {
                thread::sleep(Duration::from_millis(20));
            }
            phases.push(PhaseRecord {
                name,
                from,
                to: load.elapsed(),
                ddl,
            });
            Ok(())
        };

    let walked = (|| -> Result<()> {
        run("baseline", &mut || Ok(None))?;
        run("pre-deploy", &mut || {
            with_report_query(&db, || match way {
                Way::Plumb => migrate(&url, &settings, Phase::PreDeploy, &policy),
                Way::Naive => naive(
                    &db,
                    &format!("ALTER TABLE {TABLE} ADD COLUMN {COLUMN} text"),
                ),
            })
            .map(Some)
        })?;
        run("rollout", &mut || {
            let started = Service::start(
                "N+1",
                &releases.n1,
                url.expose(),
                &logs.join(format!("{label}-release-n1.log")),
            )?;
            routing.add_n1(started.base.clone());
            n1 = Some(started);
            // N+1 takes a growing share of the requests, to all of them by mid-phase.
            for percent in [10, 25, 50, 75, 100] {
                routing.set_share_n1(percent);
                thread::sleep(step / 10);
            }
            Ok(None)
        })?;
        run("flag on", &mut || {
            if let Some(n1) = &n1 {
                n1.set_flag(&format!("{TABLE}.{COLUMN}"), true)?;
            }
            Ok(None)
        })?;
        run("backfill", &mut || {
            with_report_query(&db, || match way {
                Way::Plumb => backfill(&url, &releases.n1_workspace, &policy),
                Way::Naive => naive(
                    &db,
                    &format!("UPDATE {TABLE} SET {COLUMN} = split_part(email, '@', 1) WHERE {COLUMN} IS NULL"),
                ),
            })
            .map(Some)
        })?;
        run("not null", &mut || {
            with_report_query(&db, || match way {
                Way::Plumb => migrate(&url, &settings, Phase::PostDeploy, &policy),
                Way::Naive => naive(
                    &db,
                    &format!("ALTER TABLE {TABLE} ALTER COLUMN {COLUMN} SET NOT NULL"),
                ),
            })
            .map(Some)
        })?;
        // The share is all N+1's already: N drains and stops.
        run("retire", &mut || {
            routing.retire_n();
            if let Some(n) = n.take() {
                n.stop()?;
            }
            Ok(None)
        })?;
        // Only N+1 serves: clients move to its version 3, which shows the column.
        run("expose", &mut || {
            routing.expose();
            Ok(None)
        })?;
        Ok(())
    })();
    let outcome = walked;
    let recorded = load.stop();
    drop(n1);
    outcome?;
    let lost = lost_writes(&db, &recorded)?;
    Ok(Walk {
        way,
        phases,
        recorded,
        lost,
        seed_seconds,
    })
}

fn seed(db: &TestDatabase<'_>, rows: i64) -> Result<()> {
    let mut conn = db.connect().map_err(|e| Error::Setup(e.to_string()))?;
    conn.batch_execute(&format!(
        "INSERT INTO accounts (email, display_name) \
         SELECT 'seed' || n || '@example.com', 'Seed ' || n FROM generate_series(1, {rows}) AS n"
    ))
    .map_err(|e| Error::Setup(format!("seeding: {e}")))?;
    // A statement of its own: VACUUM refuses a multi-statement string's transaction.
    conn.batch_execute("VACUUM ANALYZE accounts")
        .map_err(|e| Error::Setup(format!("vacuuming: {e}")))
}

/// Runs `step` while a report query holds the table: a transaction that reads `accounts` and
/// stays open 5 s, begun just before the step, as a busy database has them.
fn with_report_query(db: &TestDatabase<'_>, step: impl FnOnce() -> Result<Ddl>) -> Result<Ddl> {
    let mut report = db.connect().map_err(|e| Error::Setup(e.to_string()))?;
    let (reading, read) = mpsc::channel();
    let reporter = thread::spawn(move || -> std::result::Result<(), String> {
        report
            .batch_execute(
                "SET application_name = 'rehearsal report'; BEGIN; SELECT count(*) FROM accounts",
            )
            .map_err(|e| e.to_string())?;
        let _ = reading.send(());
        report
            .batch_execute("SELECT pg_sleep(5); COMMIT")
            .map_err(|e| e.to_string())
    });
    // The step starts once the report holds its lock on the table.
    let _ = read.recv();
    let ddl = step();
    let reported = reporter
        .join()
        .map_err(|_| Error::Walk("the report query's thread panicked".into()))?;
    if let Err(error) = reported {
        return Err(Error::Walk(format!("the report query failed: {error}")));
    }
    ddl
}

fn migrate(
    url: &plumb_pg::DatabaseUrl,
    settings: &plumb_check::Settings,
    phase: Phase,
    policy: &LockPolicy,
) -> Result<Ddl> {
    let started = Instant::now();
    let folders = MigrationFolders::read(&settings.migrations_dir)
        .map_err(|e| Error::Setup(e.to_string()))?;
    let outcome = run_migrations(url, &folders, phase, policy, &mut |_| {});
    let mut ddl = Ddl {
        what: format!(
            "plumb migrate --phase {}",
            if phase == Phase::PreDeploy {
                "pre"
            } else {
                "post"
            }
        ),
        elapsed: started.elapsed(),
        ..Ddl::default()
    };
    match outcome {
        Ok(RunReport { applied, .. }) => {
            let mut queue = Queue::default();
            for run in &applied {
                ddl.lock_wait += run.lock_wait;
                ddl.exclusive_held += run.exclusive_held;
                queue.absorb(&run.queue);
            }
            ddl.what = format!("{} ({} migration(s))", ddl.what, applied.len());
            ddl.queued = queue.sessions.len();
            ddl.stalled = queue.stalled;
        }
        Err(error) => ddl.failed = Some(error.to_string()),
    }
    Ok(ddl)
}

fn backfill(url: &plumb_pg::DatabaseUrl, workspace: &Path, policy: &LockPolicy) -> Result<Ddl> {
    let started = Instant::now();
    let defined =
        plumb::online::read_backfill(workspace, COLUMN).map_err(|e| Error::Setup(e.to_string()))?;
    let options = BackfillOptions {
        policy: policy.clone(),
        ..BackfillOptions::default()
    };
    let stop = std::sync::atomic::AtomicBool::new(false);
    let outcome = run_backfill(url, &defined.spec, &options, &stop, &mut |_| {});
    let mut ddl = Ddl {
        what: format!("plumb backfill {COLUMN}"),
        elapsed: started.elapsed(),
        ..Ddl::default()
    };
    match outcome {
        Ok(report) if report.outcome == BackfillOutcome::Complete => {
            ddl.what = format!(
                "{} ({} rows in {} batches)",
                ddl.what, report.filled, report.batches
            );
        }
        Ok(report) => ddl.failed = Some(format!("the backfill ended {:?}", report.outcome)),
        Err(error) => ddl.failed = Some(error.to_string()),
    }
    Ok(ddl)
}

/// One statement on a connection of its own, with no lock_timeout, its locks watched.
fn naive(db: &TestDatabase<'_>, sql: &str) -> Result<Ddl> {
    let mut conn = db.connect().map_err(|e| Error::Setup(e.to_string()))?;
    let mut observer = db.connect().map_err(|e| Error::Setup(e.to_string()))?;
    let started = Instant::now();
    let (outcome, trace) =
        plumb_pg::observe::watch(&mut conn, &mut observer, |conn| conn.batch_execute(sql))
            .map_err(|e| Error::Walk(format!("watching `{sql}`: {e}")))?;
    Ok(Ddl {
        what: sql.to_owned(),
        elapsed: started.elapsed(),
        lock_wait: trace.waited,
        exclusive_held: trace.exclusive_total(),
        queued: trace.queue.sessions.len(),
        stalled: trace.queue.stalled,
        failed: outcome.err().map(|e| e.to_string()),
    })
}

/// Every acknowledged write, looked up: a create whose row is missing or has another email,
/// an update whose row has another status.
fn lost_writes(db: &TestDatabase<'_>, recorded: &Recorded) -> Result<Vec<String>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
        #[diesel(sql_type = diesel::sql_types::Text)]
        email: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        status: String,
    }
    let mut conn = db.connect().map_err(|e| Error::Setup(e.to_string()))?;
    let ids: Vec<i64> = recorded.created.iter().map(|(id, _)| *id).collect();
    let rows: Vec<Row> =
        diesel::sql_query("SELECT id, email, status FROM accounts WHERE id = ANY($1)")
            .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(&ids)
            .load(&mut conn)
            .map_err(|e| Error::Walk(format!("reading the acknowledged writes back: {e}")))?;
    let found: std::collections::HashMap<i64, Row> = rows.into_iter().map(|r| (r.id, r)).collect();
    let mut lost = Vec::new();
    for (id, email) in &recorded.created {
        match found.get(id) {
            None => lost.push(format!(
                "account {id} ({email}) was acknowledged created and is missing"
            )),
            Some(row) if &row.email != email => lost.push(format!(
                "account {id} was acknowledged created as {email} and holds {}",
                row.email
            )),
            Some(_) => {}
        }
    }
    for (id, status) in &recorded.updated {
        match found.get(id) {
            Some(row) if &row.status != status => lost.push(format!(
                "account {id} was acknowledged updated to {status} and holds {}",
                row.status
            )),
            _ => {}
        }
    }
    Ok(lost)
}
