//! The primary's standbys as `pg_stat_replication` shows them, and whether work that writes in
//! bulk (a backfill's next batch) should wait for them: a standby that falls behind serves
//! stale reads, and one whose replay is held back (a long query on it, a paused replay)
//! falls further behind with every write.

use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable, Text};

/// When the next batch waits.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaLimits {
    /// Wait while a standby's replay is further behind the primary's WAL than this.
    pub max_lag_bytes: i64,
    /// Wait while a standby reports a replay lag longer than this.
    pub max_replay_lag: Duration,
    /// Wait while more sessions than this wait for a lock on the primary: it is in trouble.
    pub max_lock_waiters: i64,
    /// Wait while a trivial query on the primary (`SELECT 1`) takes longer than this: it is
    /// in trouble (saturated, swapping, its connections starved).
    pub max_probe: Duration,
    /// Stop when a standby's lag cannot be measured (its replay position unknown, the view not
    /// readable) for longer than this.
    pub unmeasured_grace: Duration,
    /// How often a waiting run looks again.
    pub recheck: Duration,
    /// The longest one wait lasts before the run stops, what it did kept.
    pub max_wait: Duration,
    /// Do not wait at all (a primary whose WAL clients are not standbys to wait for).
    pub ignore: bool,
}

impl Default for ReplicaLimits {
    fn default() -> Self {
        Self {
            max_lag_bytes: 64 * 1024 * 1024,
            max_replay_lag: Duration::from_secs(10),
            max_lock_waiters: 20,
            max_probe: Duration::from_secs(1),
            unmeasured_grace: Duration::from_secs(60),
            recheck: Duration::from_millis(250),
            max_wait: Duration::from_secs(1800),
            ignore: false,
        }
    }
}

/// One standby, as the primary sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct StandbyLag {
    /// Its `application_name` and address.
    pub name: String,
    /// WAL between the primary's position and the standby's replay; `None` when unknown (no
    /// replay yet, or a role that may not see it: `pg_monitor` may).
    pub bytes: Option<i64>,
    /// The time its replay trails by, as the standby last reported; `None` when caught up
    /// and idle.
    pub replay_lag: Option<Duration>,
}

/// What the primary and its standbys say about writing the next batch now.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Go,
    /// Over a limit: why, in words for the progress line.
    Wait(String),
    /// A standby's lag is not known: why.
    Unmeasured(String),
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    bytes: Option<i64>,
    #[diesel(sql_type = Nullable<Double>)]
    replay_lag_s: Option<f64>,
}

/// Every standby streaming from the primary `conn` is connected to and replaying. A WAL
/// client that does not replay (`pg_receivewal`, an archiver, a base backup) reports no
/// replay position and is left out; a row whose state and positions are hidden (a role
/// without `pg_monitor`) stays in, unmeasured.
pub fn standby_lag(conn: &mut PgConnection) -> QueryResult<Vec<StandbyLag>> {
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT coalesce(nullif(application_name, ''), 'pid ' || pid) || ' (' || \
                coalesce(host(client_addr), 'local socket') || ')' AS name, \
                pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint AS bytes, \
                extract(epoch FROM replay_lag)::float8 AS replay_lag_s \
         FROM pg_stat_replication \
         WHERE (state = 'streaming' AND replay_lsn IS NOT NULL) OR state IS NULL \
         ORDER BY 1",
    )
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| StandbyLag {
            name: r.name,
            bytes: r.bytes,
            replay_lag: r
                .replay_lag_s
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(Duration::from_secs_f64),
        })
        .collect())
}

/// Sessions of the primary's database waiting for a lock (other roles' sessions show their
/// waits only to a role with `pg_read_all_stats`).
pub fn lock_waiters(conn: &mut PgConnection) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    Ok(diesel::sql_query(
        "SELECT count(*) AS n FROM pg_stat_activity \
         WHERE wait_event_type = 'Lock' AND datname = current_database()",
    )
    .get_result::<Count>(conn)?
    .n)
}

/// What the primary's own health reads: its sessions waiting for locks, and how long a
/// trivial query took.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PrimaryHealth {
    pub lock_waiters: i64,
    pub probe: Duration,
}

/// Reads the primary's health on `conn`.
pub fn primary_health(conn: &mut PgConnection) -> QueryResult<PrimaryHealth> {
    let started = std::time::Instant::now();
    diesel::sql_query("SELECT 1").execute(conn)?;
    let probe = started.elapsed();
    Ok(PrimaryHealth {
        lock_waiters: lock_waiters(conn)?,
        probe,
    })
}

/// The verdict of `limits` on what was read.
pub fn judge(standbys: &[StandbyLag], health: PrimaryHealth, limits: &ReplicaLimits) -> Verdict {
    let waiters = health.lock_waiters;
    for standby in standbys {
        let Some(bytes) = standby.bytes else {
            return Verdict::Unmeasured(format!(
                "the replay position of standby {} is unknown (not replaying yet, or this role may not see it: grant it pg_monitor)",
                standby.name
            ));
        };
        if bytes > limits.max_lag_bytes {
            return Verdict::Wait(format!(
                "standby {} replays {} behind the primary (limit {})",
                standby.name,
                size(bytes),
                size(limits.max_lag_bytes)
            ));
        }
        if let Some(lag) = standby.replay_lag
            && lag > limits.max_replay_lag
        {
            return Verdict::Wait(format!(
                "standby {} replays {:.1} s behind (limit {:.1} s)",
                standby.name,
                lag.as_secs_f64(),
                limits.max_replay_lag.as_secs_f64()
            ));
        }
    }
    if waiters > limits.max_lock_waiters {
        return Verdict::Wait(format!(
            "{waiters} sessions of the primary wait for locks (limit {})",
            limits.max_lock_waiters
        ));
    }
    if health.probe > limits.max_probe {
        return Verdict::Wait(format!(
            "a trivial query on the primary took {} ms (limit {} ms)",
            health.probe.as_millis(),
            limits.max_probe.as_millis()
        ));
    }
    Verdict::Go
}

/// Why work that waits for the standbys stopped waiting without going on.
#[derive(Debug)]
pub enum Throttle {
    Query(diesel::result::Error),
    /// A standby's lag could not be read for longer than the grace: why.
    Unmeasured(String),
    /// It waited `max_wait` and the reason stayed: why.
    TooLong(String),
}

/// Waits while `limits` say the next write should (a standby behind, the primary in
/// trouble), at most `limits.max_wait`, telling `on_pause` why as it changes, and `None` when
/// the wait ends. `false` when
/// `stop` was raised meanwhile. The one wait: backfill batches and migrations both go through
/// it.
pub fn hold_while_behind(
    conn: &mut PgConnection,
    limits: &ReplicaLimits,
    stop: &std::sync::atomic::AtomicBool,
    on_pause: &mut dyn FnMut(Option<&str>),
) -> Result<bool, Throttle> {
    if limits.ignore {
        return Ok(true);
    }
    let mut unmeasured_since: Option<std::time::Instant> = None;
    let started = std::time::Instant::now();
    let mut said: Option<String> = None;
    loop {
        let standbys = standby_lag(conn).map_err(Throttle::Query)?;
        let health = primary_health(conn).map_err(Throttle::Query)?;
        let why = match judge(&standbys, health, limits) {
            Verdict::Go => {
                if said.is_some() {
                    on_pause(None);
                }
                return Ok(true);
            }
            Verdict::Wait(why) => {
                unmeasured_since = None;
                why
            }
            Verdict::Unmeasured(why) => {
                let since = *unmeasured_since.get_or_insert_with(std::time::Instant::now);
                if since.elapsed() > limits.unmeasured_grace {
                    return Err(Throttle::Unmeasured(why));
                }
                why
            }
        };
        if started.elapsed() > limits.max_wait {
            return Err(Throttle::TooLong(why));
        }
        // Said when it changes, not at every look.
        if said.as_deref() != Some(why.as_str()) {
            on_pause(Some(&why));
            said = Some(why);
        }
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            return Ok(false);
        }
        std::thread::sleep(limits.recheck);
    }
}

fn size(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else if bytes >= 1024 {
        format!("{:.1} kB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} bytes")
    }
}

/// What one standby did with one migration.
#[derive(Debug, Clone, PartialEq)]
pub struct StandbyReplay {
    /// Where it is (host, port, database; never a password).
    pub standby: String,
    /// From the migration's commit on the primary to the standby having replayed it; `None`
    /// when it had not within [`REPLAY_WAIT`].
    pub delay: Option<Duration>,
    /// Queries on the standby its replay cancelled (`pg_stat_database_conflicts`: locks,
    /// snapshots, buffer pins, deadlocks, tablespaces).
    pub conflicts: i64,
    /// Why the standby could not be read, when it could not.
    pub error: Option<String>,
}

/// How long the runner waits for a standby to replay a migration before reporting it as not
/// replayed and going on.
pub const REPLAY_WAIT: Duration = Duration::from_secs(60);

/// A standby the runner watches, with its conflicts count before the migration.
pub struct WatchedStandby {
    url: crate::DatabaseUrl,
    conn: PgConnection,
    conflicts_before: Result<i64, String>,
}

impl std::fmt::Debug for WatchedStandby {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchedStandby")
            .field("standby", &self.url.describe())
            .finish_non_exhaustive()
    }
}

impl WatchedStandby {
    pub fn connect(url: &crate::DatabaseUrl) -> crate::Result<Self> {
        Ok(Self {
            url: url.clone(),
            conn: url.connect()?,
            conflicts_before: Ok(0),
        })
    }

    pub fn before_migration(&mut self) {
        self.conflicts_before = conflicts(&mut self.conn).map_err(|e| e.to_string());
    }
}

fn conflicts(conn: &mut PgConnection) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    // A fresh read of the statistics, not the snapshot of an earlier one.
    diesel::sql_query("SELECT pg_stat_clear_snapshot()").execute(conn)?;
    Ok(diesel::sql_query(
        "SELECT (confl_tablespace + confl_lock + confl_snapshot + confl_bufferpin + confl_deadlock)::bigint AS n \
         FROM pg_stat_database_conflicts WHERE datname = current_database()",
    )
    .get_result::<Count>(conn)?
    .n)
}

/// After a migration committed on `primary`: each standby's replay of it, and what it cost.
/// A query the replay cancelled is counted once its session has gone; a replay that waited
/// for the standby's queries is given a second for that count to show. The migration has
/// committed: a failure to read is each standby's report, never the run's failure.
pub fn after_migration(
    primary: &mut PgConnection,
    standbys: &mut [WatchedStandby],
) -> Vec<StandbyReplay> {
    #[derive(QueryableByName)]
    struct Lsn {
        #[diesel(sql_type = Text)]
        lsn: String,
    }
    if standbys.is_empty() {
        return Vec::new();
    }
    let committed = std::time::Instant::now();
    let lsn =
        diesel::sql_query("SELECT pg_current_wal_lsn()::text AS lsn").get_result::<Lsn>(primary);
    match lsn {
        Ok(Lsn { lsn }) => standbys
            .iter_mut()
            .map(|standby| replay_of(standby, &lsn, committed))
            .collect(),
        Err(error) => standbys
            .iter()
            .map(|standby| StandbyReplay {
                standby: standby.url.describe(),
                delay: None,
                conflicts: 0,
                error: Some(format!(
                    "the primary's WAL position could not be read after the migration: {}",
                    plumb_pg::one_line(&error.to_string())
                )),
            })
            .collect(),
    }
}

fn replay_of(
    standby: &mut WatchedStandby,
    lsn: &str,
    committed: std::time::Instant,
) -> StandbyReplay {
    #[derive(QueryableByName)]
    struct Done {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        done: bool,
    }
    let mut report = StandbyReplay {
        standby: standby.url.describe(),
        delay: None,
        conflicts: 0,
        error: None,
    };
    let deadline = committed + REPLAY_WAIT;
    loop {
        let done = diesel::sql_query(
            "SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false) AS done",
        )
        .bind::<Text, _>(lsn)
        .get_result::<Done>(&mut standby.conn);
        match done {
            Ok(Done { done: true }) => {
                report.delay = Some(committed.elapsed());
                break;
            }
            Ok(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok(_) => break,
            Err(error) => {
                report.error = Some(error.to_string());
                return report;
            }
        }
    }
    let before = match &standby.conflicts_before {
        Ok(n) => *n,
        Err(error) => {
            report.error = Some(error.clone());
            return report;
        }
    };
    // A replay that had to wait cancelled something, most likely: its count is written by
    // the cancelled session as it ends, just after.
    let waited = report.delay.is_some_and(|d| d >= Duration::from_millis(50));
    let settle = std::time::Instant::now() + Duration::from_secs(1);
    loop {
        match conflicts(&mut standby.conn) {
            Ok(now) => {
                report.conflicts = now - before;
                if report.conflicts > 0 || !waited || std::time::Instant::now() >= settle {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(error) => {
                report.error = Some(error.to_string());
                break;
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standby(bytes: Option<i64>, lag_s: Option<f64>) -> StandbyLag {
        StandbyLag {
            name: "replica (local socket)".into(),
            bytes,
            replay_lag: lag_s.map(Duration::from_secs_f64),
        }
    }

    #[test]
    fn each_limit_holds_the_next_batch_and_says_why() {
        let limits = ReplicaLimits {
            max_lag_bytes: 1000,
            max_replay_lag: Duration::from_secs(2),
            max_lock_waiters: 3,
            ..ReplicaLimits::default()
        };
        let calm = PrimaryHealth::default();
        let waiters = |n| PrimaryHealth {
            lock_waiters: n,
            ..PrimaryHealth::default()
        };
        assert_eq!(judge(&[], calm, &limits), Verdict::Go);
        assert_eq!(
            judge(&[standby(Some(10), None)], waiters(3), &limits),
            Verdict::Go
        );
        let Verdict::Wait(why) = judge(&[standby(Some(5000), None)], calm, &limits) else {
            panic!("bytes over the limit");
        };
        assert!(why.contains("4.9 kB behind"), "{why}");
        assert!(matches!(
            judge(&[standby(Some(10), Some(3.0))], calm, &limits),
            Verdict::Wait(_)
        ));
        assert!(matches!(judge(&[], waiters(4), &limits), Verdict::Wait(_)));
        let slow = PrimaryHealth {
            probe: Duration::from_secs(2),
            ..PrimaryHealth::default()
        };
        let Verdict::Wait(why) = judge(&[], slow, &limits) else {
            panic!("a slow probe");
        };
        assert!(
            why.contains("a trivial query on the primary took 2000 ms"),
            "{why}"
        );
        assert!(matches!(
            judge(&[standby(None, None)], calm, &limits),
            Verdict::Unmeasured(_)
        ));
    }
}
