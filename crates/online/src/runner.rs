//! The migration runner: applies pending migrations through diesel's migration harness, each
//! under the [`LockPolicy`], one runner at a time.

use std::collections::BTreeSet;
use std::fmt;
use std::time::{Duration, Instant};

use diesel::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};
use diesel_migrations::MigrationHarness;

use crate::lock_retry::{BoxError, LockPolicy, LockSession, Retry};
use crate::{DatabaseUrl, OnlineError, Result};
use plumb_pg::observe::Queue;
use plumb_pg::{MigrationFolder, MigrationFolders};

/// Which of the pending migrations to apply (DESIGN.md, the deploy model).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The pending migrations not marked post-deploy: run while only the live release serves.
    PreDeploy,
    /// The pending post-deploy migrations: run once only the new release serves. Refused while
    /// a pre-deploy migration is pending.
    PostDeploy,
    /// Every pending migration, in order.
    All,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::PreDeploy => "pre-deploy",
            Phase::PostDeploy => "post-deploy",
            Phase::All => "all",
        })
    }
}

/// One applied migration.
#[derive(Debug, Clone)]
pub struct MigrationRun {
    pub name: String,
    pub post_deploy: bool,
    pub attempts: u32,
    /// Time spent waiting for locks, over every attempt.
    pub lock_wait: Duration,
    /// Time during which it held an ACCESS EXCLUSIVE lock, over every attempt.
    pub exclusive_held: Duration,
    /// What it cost other sessions: the queries seen waiting behind its attempts.
    pub queue: Queue,
    /// The sessions that held the locks its attempts waited for.
    pub blockers: BTreeSet<String>,
    /// Set when the lock observer's own queries failed: the figures above say less than
    /// happened.
    pub observer_error: Option<String>,
    pub elapsed: Duration,
    /// What each standby given to the run did with it.
    pub standbys: Vec<crate::replicas::StandbyReplay>,
}

/// What the runner reports as it goes.
#[derive(Debug, Clone)]
pub enum RunEvent {
    /// Another runner holds the migration lock; this one waits.
    WaitingForRunner {
        holder: String,
    },
    Plan {
        pending: Vec<String>,
        skipped: Vec<String>,
    },
    Starting {
        name: String,
    },
    Retrying(Retry),
    Applied(MigrationRun),
    /// The next migration waits for the standbys (or the primary in trouble): why; `None`
    /// when the wait ends.
    WaitingForStandbys {
        why: Option<String>,
    },
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    pub applied: Vec<MigrationRun>,
    /// Pending migrations the phase left for later.
    pub skipped: Vec<String>,
}

/// The session-level advisory lock that keeps two runners from migrating one database at once.
pub const RUNNER_LOCK_KEY: i64 = 0x706c_756d_6200;

/// The migrations of `folders` the database at `url` has not had, by name, in order. Reads
/// diesel's table without making it (diesel's own harness creates it first).
pub fn pending_migrations(url: &DatabaseUrl, folders: &MigrationFolders) -> Result<Vec<String>> {
    #[derive(QueryableByName)]
    struct Version {
        #[diesel(sql_type = Text)]
        version: String,
    }
    let mut conn = url.connect()?;
    let query = |source| OnlineError::Query {
        context: "reading __diesel_schema_migrations".into(),
        target: url.describe(),
        source,
    };
    #[derive(QueryableByName)]
    struct Exists {
        #[diesel(sql_type = Bool)]
        exists: bool,
    }
    // Asked of the catalog: a query of a missing table fails with a translated message.
    let exists =
        diesel::sql_query("SELECT to_regclass('__diesel_schema_migrations') IS NOT NULL AS exists")
            .get_result::<Exists>(&mut conn)
            .map_err(query)?;
    let applied: BTreeSet<String> = if exists.exists {
        diesel::sql_query("SELECT version FROM __diesel_schema_migrations")
            .load::<Version>(&mut conn)
            .map_err(query)?
            .into_iter()
            .map(|r| r.version)
            .collect()
    } else {
        BTreeSet::new()
    };
    Ok(folders
        .folders
        .iter()
        .filter(|f| !applied.contains(&f.version))
        .map(|f| f.name.clone())
        .collect())
}

/// Applies the pending migrations of `folders` that `phase` selects.
pub fn run_migrations(
    url: &DatabaseUrl,
    folders: &MigrationFolders,
    phase: Phase,
    policy: &LockPolicy,
    on_event: &mut dyn FnMut(&RunEvent),
) -> Result<RunReport> {
    run_migrations_watching(url, folders, phase, policy, &[], None, on_event)
}

/// [`run_migrations`], and after each migration, how long each of `standbys` took to replay
/// it and the queries its replay cancelled there (see [`crate::replicas::StandbyReplay`]);
/// with `replicas`, each migration first waits while a standby is behind or the primary is in
/// trouble, as a backfill's batches do.
pub fn run_migrations_watching(
    url: &DatabaseUrl,
    folders: &MigrationFolders,
    phase: Phase,
    policy: &LockPolicy,
    standbys: &[DatabaseUrl],
    replicas: Option<&crate::replicas::ReplicaLimits>,
    on_event: &mut dyn FnMut(&RunEvent),
) -> Result<RunReport> {
    let mut watched = standbys
        .iter()
        .map(crate::replicas::WatchedStandby::connect)
        .collect::<Result<Vec<_>>>()?;
    let mut session = LockSession::open(url, policy, "plumb migrate")?;
    let target = session.target().to_owned();
    let query = |context: &'static str| {
        let target = target.clone();
        move |source| OnlineError::Query {
            context: context.into(),
            target,
            source,
        }
    };
    take_runner_lock(&mut session.conn, policy.budget, on_event).map_err(|e| match e {
        RunnerLock::Query(source) => query("taking the runner lock")(source),
        RunnerLock::Busy(holder) => OnlineError::RunnerBusy {
            holder,
            waited: policy.budget,
        },
    })?;
    let applied: BTreeSet<String> = session
        .conn
        .applied_migrations()
        .map_err(|e| OnlineError::StepFailed {
            what: "reading __diesel_schema_migrations".into(),
            message: e.to_string(),
        })?
        .into_iter()
        .map(|v| v.to_string())
        .collect();
    let pending: Vec<&MigrationFolder> = folders
        .folders
        .iter()
        .filter(|f| !applied.contains(&f.version))
        .collect();
    let (selected, skipped): (Vec<&MigrationFolder>, Vec<&MigrationFolder>) =
        pending.iter().partition(|f| match phase {
            Phase::PreDeploy => !f.post_deploy,
            Phase::PostDeploy => f.post_deploy,
            Phase::All => true,
        });
    if phase == Phase::PostDeploy && !skipped.is_empty() {
        return Err(OnlineError::Refused(format!(
            "pre-deploy migrations are still pending ({}): run the pre-deploy phase first",
            skipped
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    for folder in &selected {
        keeps_the_bound(&folders.migrations, folder, policy)?;
    }
    let mut report = RunReport {
        applied: Vec::new(),
        skipped: skipped.iter().map(|f| f.name.clone()).collect(),
    };
    on_event(&RunEvent::Plan {
        pending: selected.iter().map(|f| f.name.clone()).collect(),
        skipped: report.skipped.clone(),
    });
    for folder in selected {
        if let Some(limits) = replicas {
            let never = std::sync::atomic::AtomicBool::new(false);
            crate::replicas::hold_while_behind(&mut session.conn, limits, &never, &mut |why| {
                on_event(&RunEvent::WaitingForStandbys {
                    why: why.map(str::to_owned),
                });
            })
            .map_err(|e| match e {
                crate::replicas::Throttle::Query(source) => {
                    query("reading the standbys' lag")(source)
                }
                crate::replicas::Throttle::Unmeasured(why) => OnlineError::Refused(format!(
                    "stopped before {}: {why}, for longer than {} s; the migrations before it are applied",
                    folder.name,
                    limits.unmeasured_grace.as_secs()
                )),
                crate::replicas::Throttle::TooLong(why) => OnlineError::Refused(format!(
                    "stopped before {}: {why}, still after {} s of waiting; the migrations before it are applied; run it again later, or pass --ignore-replicas",
                    folder.name,
                    limits.max_wait.as_secs()
                )),
            })?;
        }
        on_event(&RunEvent::Starting {
            name: folder.name.clone(),
        });
        let building = concurrent_indexes(&folders.migrations, folder);
        let step = |conn: &mut PgConnection| -> std::result::Result<(), BoxError> {
            // A CREATE INDEX CONCURRENTLY stopped by a timeout (in this run or an earlier
            // one) leaves its index INVALID: drop it, or the next attempt fails on the name.
            for index in invalid_among(conn, &building)? {
                diesel::sql_query(format!("DROP INDEX CONCURRENTLY IF EXISTS {index}"))
                    .execute(conn)?;
            }
            conn.run_migration(folder)?;
            Ok(())
        };
        let what = format!("migration {}", folder.name);
        for standby in &mut watched {
            standby.before_migration();
        }
        let wait = if building.is_empty() {
            policy.lock_timeout
        } else {
            policy.concurrent_lock_timeout
        };
        let ((), attempts) = session.run_waiting(&what, wait, step, &mut |retry| {
            on_event(&RunEvent::Retrying(retry.clone()));
        })?;
        let left = invalid_among(&mut session.conn, &building)
            .map_err(query("listing invalid indexes"))?;
        if !left.is_empty() {
            return Err(OnlineError::StepFailed {
                what,
                message: format!(
                    "it left INVALID index(es) {}: drop them and run it again",
                    left.join(", ")
                ),
            });
        }
        let standbys = crate::replicas::after_migration(&mut session.conn, &mut watched);
        let run = MigrationRun {
            standbys,
            name: folder.name.clone(),
            post_deploy: folder.post_deploy,
            attempts: attempts.attempts,
            lock_wait: attempts.lock_wait,
            exclusive_held: attempts.exclusive_held,
            queue: attempts.trace.queue.clone(),
            blockers: attempts.trace.blockers.clone(),
            observer_error: attempts.trace.observer_error.clone(),
            elapsed: attempts.elapsed,
        };
        on_event(&RunEvent::Applied(run.clone()));
        report.applied.push(run);
    }
    Ok(report)
}

enum RunnerLock {
    Query(diesel::result::Error),
    Busy(String),
}

impl From<diesel::result::Error> for RunnerLock {
    fn from(error: diesel::result::Error) -> Self {
        RunnerLock::Query(error)
    }
}

/// Takes the session-level runner lock (released when the connection closes), waiting up to
/// `patience` while another runner has it.
fn take_runner_lock(
    conn: &mut PgConnection,
    patience: Duration,
    on_event: &mut dyn FnMut(&RunEvent),
) -> std::result::Result<(), RunnerLock> {
    #[derive(QueryableByName)]
    struct Taken {
        #[diesel(sql_type = Bool)]
        taken: bool,
    }
    #[derive(QueryableByName)]
    struct Holder {
        #[diesel(sql_type = Text)]
        who: String,
    }
    let started = Instant::now();
    let mut announced = false;
    loop {
        let taken = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS taken")
            .bind::<BigInt, _>(RUNNER_LOCK_KEY)
            .get_result::<Taken>(conn)?
            .taken;
        if taken {
            return Ok(());
        }
        let holder = diesel::sql_query(
            "SELECT coalesce(string_agg(format('pid %s (%s)', a.pid, coalesce(nullif(a.application_name, ''), 'no application_name')), ', '), 'a session that has ended') AS who \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
             AND ((l.classid::bigint << 32) | l.objid::bigint) = $1",
        )
        .bind::<BigInt, _>(RUNNER_LOCK_KEY)
        .get_result::<Holder>(conn)?
        .who;
        if started.elapsed() >= patience {
            return Err(RunnerLock::Busy(holder));
        }
        if !announced {
            on_event(&RunEvent::WaitingForRunner { holder });
            announced = true;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Refuses a migration whose file would lift the lock policy's bound on its own connection: a
/// `SET lock_timeout` longer than the policy, or one that turns it off (`0`, `DEFAULT`,
/// `RESET`). Checked for every selected migration before any is applied.
fn keeps_the_bound(
    migrations: &[plumb_check::Migration],
    folder: &MigrationFolder,
    policy: &LockPolicy,
) -> Result<()> {
    use plumb_check::sql::parse::{StatementKind, TimeoutValue, parse_guarded};
    let Some(migration) = migrations.iter().find(|m| m.name == folder.name) else {
        return Ok(());
    };
    let bound = policy.lock_timeout.as_millis();
    for statement in parse_guarded(&migration.up).statements {
        let lifts = match statement.kind {
            StatementKind::SetLockTimeout {
                value: TimeoutValue::Positive { ms: Some(ms) },
                ..
            } => u128::from(ms) > bound,
            StatementKind::SetLockTimeout {
                value: TimeoutValue::Zero | TimeoutValue::Default,
                ..
            }
            | StatementKind::ResetLockTimeout => true,
            _ => false,
        };
        if lifts {
            let (start, end) = statement.range;
            let line = migration.up[..start].matches('\n').count() + 1;
            let text = migration
                .up
                .get(start..end)
                .unwrap_or_default()
                .trim()
                .trim_end_matches(';');
            return Err(OnlineError::Invalid(format!(
                "{}:{line}: `{text}` would let the migration wait longer for its lock than the lock policy's {bound} ms ([lock] timeout-ms in plumb.toml), and every query on the table would queue behind it: remove it (plumb migrate sets lock_timeout on its connection); nothing was applied",
                migration.up_path().display()
            )));
        }
    }
    Ok(())
}

/// The indexes a migration builds with CONCURRENTLY, by name, read through the checker's SQL
/// parser (comments, strings and quoted names are what PostgreSQL makes of them).
fn concurrent_indexes(
    migrations: &[plumb_check::Migration],
    folder: &MigrationFolder,
) -> Vec<String> {
    use plumb_check::sql::parse::{StatementKind, parse_guarded};
    let Some(migration) = migrations.iter().find(|m| m.name == folder.name) else {
        return Vec::new();
    };
    parse_guarded(&migration.up)
        .statements
        .into_iter()
        .filter_map(|statement| match statement.kind {
            StatementKind::CreateIndex {
                name: Some(name),
                concurrently: true,
                ..
            } => Some(name),
            _ => None,
        })
        .collect()
}

/// Those of `names` that exist and are INVALID, quoted for SQL.
fn invalid_among(conn: &mut PgConnection, names: &[String]) -> diesel::QueryResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct Index {
        #[diesel(sql_type = Text)]
        name: String,
    }
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<Index> = diesel::sql_query(
        "SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_index i \
         JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE NOT i.indisvalid AND c.relname = ANY ($1) AND pg_catalog.pg_table_is_visible(c.oid)",
    )
    .bind::<diesel::sql_types::Array<Text>, _>(names)
    .load(conn)?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}
