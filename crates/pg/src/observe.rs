//! Watching a session do its work from a second connection: which locks it waits for and holds
//! and for how long (`pg_locks`), who holds what it waits for and who queues behind it
//! (`pg_blocking_pids`), and which relations it rewrites (`relfilenode`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use diesel::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text};

use crate::{OnlineError, Result};

pub type RunOutcome = std::result::Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// One stretch of time a lock on a relation was seen granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub relation: String,
    /// As `pg_locks` names it: `AccessExclusiveLock`, `ShareUpdateExclusiveLock`, ...
    pub mode: String,
    pub from: Instant,
    pub to: Instant,
}

impl Hold {
    pub fn duration(&self) -> Duration {
        self.to - self.from
    }
}

/// What a second connection saw of one session while it worked.
#[derive(Debug, Clone, Default)]
pub struct LockTrace {
    /// Every hold of a relation lock stronger than ROW EXCLUSIVE, in the order they began.
    pub holds: Vec<Hold>,
    /// How long the session was seen waiting for a lock.
    pub waited: Duration,
    /// The sessions seen holding a lock it waited for: "pid 123 (psql): SELECT ...". Sessions
    /// merely queued ahead of it are not named.
    pub blockers: BTreeSet<String>,
    /// What other sessions felt: the queries seen waiting behind it.
    pub queue: Queue,
    /// The first error of the observer's own queries: then the trace says less than happened.
    pub observer_error: Option<String>,
    /// How long the watched session had waited for a lock when the observer cancelled its
    /// statement, because the wait outlasted the bound it was given (see [`watch_bounded`]).
    pub cancelled_wait: Option<Duration>,
    /// How many times the observer read `pg_locks`, at most as often as [`pace`] allows.
    pub lock_reads: u32,
}

/// How long the observer rests after reading `pg_locks`, `elapsed` into the watched work.
/// Reading `pg_locks` takes every lock-manager partition lock, so it is read often only while
/// catalog changes (which hold their locks for about a millisecond) are likely, then seldom:
/// at most 50 reads in the first 50 ms, 95 more in the rest of the first second, then 20 a
/// second. What the trace measures is as fine as the pause then: a wait is cancelled by
/// [`watch_bounded`], and counted in [`LockTrace::waited`], to within 50 ms on a long step.
pub fn pace(elapsed: Duration) -> Duration {
    if elapsed < Duration::from_millis(50) {
        Duration::from_millis(1)
    } else if elapsed < Duration::from_secs(1) {
        Duration::from_millis(10)
    } else {
        Duration::from_millis(50)
    }
}

/// The sessions seen waiting behind the watched one (`pg_blocking_pids` of each session waiting
/// for a lock names it), sampled at most every [`QUEUE_SAMPLE`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Queue {
    /// Distinct sessions seen waiting behind it.
    pub sessions: BTreeSet<i32>,
    /// The longest a query behind it had been running when seen waiting.
    pub longest_wait: Duration,
    /// Time during which at least one session was seen waiting behind it.
    pub stalled: Duration,
}

impl Queue {
    pub fn absorb(&mut self, other: &Queue) {
        self.sessions.extend(other.sessions.iter().copied());
        self.longest_wait = self.longest_wait.max(other.longest_wait);
        self.stalled += other.stalled;
    }
}

/// How often the queue behind the watched session is sampled: `pg_blocking_pids` takes the
/// lock manager's partition locks, so it is asked at a bounded rate.
pub const QUEUE_SAMPLE: Duration = Duration::from_millis(20);

impl LockTrace {
    /// The longest ACCESS EXCLUSIVE hold of each relation.
    pub fn exclusive_by_relation(&self) -> BTreeMap<String, Duration> {
        let mut longest = BTreeMap::new();
        for hold in self
            .holds
            .iter()
            .filter(|h| h.mode == "AccessExclusiveLock")
        {
            let entry = longest
                .entry(hold.relation.clone())
                .or_insert(Duration::ZERO);
            *entry = (*entry).max(hold.duration());
        }
        longest
    }

    /// Time during which at least one ACCESS EXCLUSIVE lock was held.
    pub fn exclusive_total(&self) -> Duration {
        let mut spans: Vec<(Instant, Instant)> = self
            .holds
            .iter()
            .filter(|h| h.mode == "AccessExclusiveLock")
            .map(|h| (h.from, h.to))
            .collect();
        spans.sort();
        let mut total = Duration::ZERO;
        let mut current: Option<(Instant, Instant)> = None;
        for (from, to) in spans {
            current = match current {
                Some((a, b)) if from <= b => Some((a, b.max(to))),
                Some((a, b)) => {
                    total += b - a;
                    Some((from, to))
                }
                None => Some((from, to)),
            };
        }
        if let Some((a, b)) = current {
            total += b - a;
        }
        total
    }
}

/// The backend pid of `conn`.
pub fn backend_pid(conn: &mut PgConnection) -> diesel::QueryResult<i32> {
    #[derive(QueryableByName)]
    struct Pid {
        #[diesel(sql_type = Integer)]
        pid: i32,
    }
    Ok(diesel::sql_query("SELECT pg_backend_pid() AS pid")
        .get_result::<Pid>(conn)?
        .pid)
}

/// Runs `work` on `conn` while `observer` (another connection to the same database) polls what
/// `conn`'s backend waits for and holds.
pub fn watch<T>(
    conn: &mut PgConnection,
    observer: &mut PgConnection,
    work: impl FnOnce(&mut PgConnection) -> T,
) -> diesel::QueryResult<(T, LockTrace)> {
    watch_bounded(conn, observer, None, work)
}

/// [`watch`], and the observer cancels `conn`'s statement (`pg_cancel_backend`) once it has
/// been seen waiting for one lock longer than `wait_bound`: the session's own `lock_timeout`
/// may have been lifted by the SQL it runs (a `DO` block, a function), and a wait without bound
/// queues every later query on the table behind it.
pub fn watch_bounded<T>(
    conn: &mut PgConnection,
    observer: &mut PgConnection,
    wait_bound: Option<Duration>,
    work: impl FnOnce(&mut PgConnection) -> T,
) -> diesel::QueryResult<(T, LockTrace)> {
    let pid = backend_pid(conn)?;
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let watcher = scope.spawn(|| poll(observer, pid, wait_bound, &stop));
        let outcome = work(conn);
        stop.store(true, Ordering::Relaxed);
        let trace = watcher.join().unwrap_or_default();
        Ok((outcome, trace))
    })
}

fn poll(
    observer: &mut PgConnection,
    pid: i32,
    wait_bound: Option<Duration>,
    stop: &AtomicBool,
) -> LockTrace {
    #[derive(QueryableByName)]
    struct Lock {
        #[diesel(sql_type = Text)]
        relation: String,
        #[diesel(sql_type = Text)]
        mode: String,
        #[diesel(sql_type = Bool)]
        granted: bool,
    }
    #[derive(QueryableByName)]
    struct Blocker {
        #[diesel(sql_type = Nullable<Text>)]
        who: Option<String>,
    }
    #[derive(QueryableByName)]
    struct Waiter {
        #[diesel(sql_type = Integer)]
        pid: i32,
        #[diesel(sql_type = BigInt)]
        waited_ms: i64,
    }
    let mut trace = LockTrace::default();
    let mut open: BTreeMap<(String, String), (Instant, Instant)> = BTreeMap::new();
    let started = Instant::now();
    let mut last_poll = started;
    let mut last_blockers: Option<Instant> = None;
    let mut last_queue: Option<Instant> = None;
    // When the present wait was first seen (or last cancelled).
    let mut waiting_since: Option<Instant> = None;
    let fail = |trace: &mut LockTrace, error: diesel::result::Error| {
        trace
            .observer_error
            .get_or_insert_with(|| error.to_string());
    };
    while !stop.load(Ordering::Relaxed) {
        let locks: Vec<Lock> = diesel::sql_query(
            "SELECT coalesce(c.relname::text, l.locktype) AS relation, l.mode::text AS mode, l.granted \
             FROM pg_locks l LEFT JOIN pg_class c ON c.oid = l.relation \
             WHERE l.pid = $1 AND (NOT l.granted OR (l.locktype = 'relation' AND l.mode NOT IN \
             ('AccessShareLock', 'RowShareLock', 'RowExclusiveLock')))",
        )
        .bind::<Integer, _>(pid)
        .load(observer)
        .unwrap_or_else(|e| {
            fail(&mut trace, e);
            Vec::new()
        });
        trace.lock_reads += 1;
        let now = Instant::now();
        let blockers_due = last_blockers.is_none_or(|at| now - at >= Duration::from_millis(100));
        if locks.iter().any(|l| !l.granted) {
            trace.waited += now - last_poll;
        }
        if blockers_due && locks.iter().any(|l| !l.granted) {
            // pg_blocking_pids takes the lock manager's partition locks: ask ten times a second.
            last_blockers = Some(now);
            // Only holders: pg_blocking_pids also names sessions queued ahead of it, such as
            // the application's own writes, which wait for the same holder.
            let blockers: Vec<Blocker> = diesel::sql_query(
                "SELECT format('pid %s (%s): %s', b.pid, coalesce(nullif(b.application_name, ''), 'no application_name'), \
                 left(rtrim(regexp_replace(b.query, '\\s+', ' ', 'g'), '; '), 120)) AS who \
                 FROM pg_stat_activity b WHERE b.pid = ANY (pg_blocking_pids($1)) \
                 AND (NOT EXISTS (SELECT 1 FROM pg_locks w WHERE w.pid = $1 AND NOT w.granted AND w.relation IS NOT NULL) \
                      OR EXISTS (SELECT 1 FROM pg_locks h WHERE h.pid = b.pid AND h.granted AND h.relation IN \
                                 (SELECT w.relation FROM pg_locks w WHERE w.pid = $1 AND NOT w.granted)))",
            )
            .bind::<Integer, _>(pid)
            .load(observer)
            .unwrap_or_else(|e| {
                fail(&mut trace, e);
                Vec::new()
            });
            trace
                .blockers
                .extend(blockers.into_iter().filter_map(|b| b.who));
        }
        let waiting = locks.iter().any(|l| !l.granted);
        if !waiting {
            waiting_since = None;
        } else if let Some(bound) = wait_bound {
            let since = *waiting_since.get_or_insert(now);
            if now - since > bound {
                // Only while it still waits for a lock: a statement that has its lock by now
                // is left alone. After a cancel the bound starts again, for a body that
                // catches the cancel and waits anew.
                #[derive(QueryableByName)]
                struct Cancelled {
                    #[diesel(sql_type = Bool)]
                    cancelled: bool,
                }
                match diesel::sql_query(
                    "SELECT pg_cancel_backend(a.pid) AS cancelled FROM pg_stat_activity a \
                     WHERE a.pid = $1 AND a.wait_event_type = 'Lock'",
                )
                .bind::<Integer, _>(pid)
                .load::<Cancelled>(observer)
                {
                    Ok(rows) if rows.iter().any(|r| r.cancelled) => {
                        trace.cancelled_wait = Some(now - since);
                        waiting_since = Some(now);
                    }
                    Ok(_) => {}
                    Err(e) => fail(&mut trace, e),
                }
            }
        }
        let exclusive = locks
            .iter()
            .any(|l| l.granted && l.mode == "AccessExclusiveLock");
        let queue_due = last_queue.is_none_or(|at| now - at >= QUEUE_SAMPLE);
        if (waiting || exclusive) && queue_due {
            let waiters: Vec<Waiter> = diesel::sql_query(
                "SELECT w.pid, (1000 * extract(epoch FROM clock_timestamp() - w.query_start))::bigint AS waited_ms \
                 FROM pg_stat_activity w \
                 WHERE w.wait_event_type = 'Lock' AND w.pid <> $1 AND $1 = ANY (pg_blocking_pids(w.pid))",
            )
            .bind::<Integer, _>(pid)
            .load(observer)
            .unwrap_or_else(|e| {
                fail(&mut trace, e);
                Vec::new()
            });
            if !waiters.is_empty() {
                // The stretch since the last sample, at most one sampling interval.
                trace.queue.stalled +=
                    last_queue.map_or(QUEUE_SAMPLE, |at| (now - at).min(QUEUE_SAMPLE));
            }
            for waiter in waiters {
                trace.queue.sessions.insert(waiter.pid);
                let waited = Duration::from_millis(u64::try_from(waiter.waited_ms).unwrap_or(0));
                trace.queue.longest_wait = trace.queue.longest_wait.max(waited);
            }
            last_queue = Some(now);
        } else if !(waiting || exclusive) {
            last_queue = None;
        }
        for lock in locks.into_iter().filter(|l| l.granted) {
            let key = (lock.relation, lock.mode);
            match open.get_mut(&key) {
                // Seen by the poll before this one: the same hold. A poll that missed it ends
                // the hold; the next sighting is a new acquisition.
                Some((_, last)) if *last == last_poll => *last = now,
                Some(span) => {
                    let (from, to) = std::mem::replace(span, (now, now));
                    trace.holds.push(Hold {
                        relation: key.0.clone(),
                        mode: key.1.clone(),
                        from,
                        to,
                    });
                }
                None => {
                    open.insert(key, (now, now));
                }
            }
        }
        last_poll = now;
        std::thread::sleep(pace(now - started));
    }
    for ((relation, mode), (from, to)) in open {
        trace.holds.push(Hold {
            relation,
            mode,
            from,
            to,
        });
    }
    trace.holds.sort_by_key(|h| h.from);
    trace
}

/// Runs `run` on `conn` while another connection polls `pg_locks`; returns how long each
/// relation's ACCESS EXCLUSIVE lock was seen held.
pub fn traced(
    conn: &mut PgConnection,
    url: &crate::DatabaseUrl,
    run: impl FnOnce(&mut PgConnection) -> RunOutcome,
) -> Result<(RunOutcome, BTreeMap<String, Duration>)> {
    let mut observer = url.connect()?;
    let (outcome, trace) =
        watch(conn, &mut observer, run).map_err(|source| OnlineError::Query {
            context: "reading the backend pid".into(),
            target: url.describe(),
            source,
        })?;
    Ok((outcome, trace.exclusive_by_relation()))
}

/// Each relation of the public schema by name: its oid and its relfilenode. A rewrite keeps
/// the oid and changes the relfilenode; a relation dropped and made again under the same name
/// has a new oid, and is not a rewrite.
pub fn relfilenodes(conn: &mut PgConnection) -> diesel::QueryResult<BTreeMap<String, (i64, i64)>> {
    #[derive(QueryableByName)]
    struct Node {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = BigInt)]
        oid: i64,
        #[diesel(sql_type = BigInt)]
        node: i64,
    }
    let nodes: Vec<Node> = diesel::sql_query(
        "SELECT c.relname::text AS name, c.oid::bigint AS oid, c.relfilenode::bigint AS node \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i', 'p') AND c.relname <> '__diesel_schema_migrations'",
    )
    .load(conn)?;
    Ok(nodes
        .into_iter()
        .map(|n| (n.name, (n.oid, n.node)))
        .collect())
}
