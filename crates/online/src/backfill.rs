//! The backfill engine: fills a column of existing rows in keyset batches, sized to a target
//! batch time, with its progress in the database so that a killed job resumes.
//!
//! Every batch is one transaction that also advances the cursor in `plumb.backfills`, so what
//! is committed and what the cursor says never disagree. Workers of one backfill take turns
//! through a row lock on that cursor. A batch touches only rows that still match the pending
//! predicate, re-checked by the UPDATE itself, so a value the application wrote in the meantime
//! is never overwritten.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use diesel::PgConnection;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text};

use crate::lock_retry::{Attempt, LockPolicy, LockSession, Retry, retry_lock_timeouts};
use crate::replicas::{self, ReplicaLimits, Throttle};
use crate::{DatabaseUrl, OnlineError, Result};
use plumb_pg::sql::quote_ident as quote;

/// What to fill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backfill {
    /// Names the job and its progress row: run it again under the same name to resume.
    pub name: String,
    pub table: String,
    /// The key walked in order: a NOT NULL single-column unique key, or the first column of the
    /// primary key (a partitioned table's). Batches are ranges of it, so rows that share a value
    /// go in one batch.
    pub key: String,
    pub column: String,
    /// SQL for the new value, evaluated on the row (`lower(email)`, `'unknown'`).
    pub expression: String,
    /// SQL that is true for rows still to fill (`display_name IS NULL`).
    pub pending: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BackfillOptions {
    /// Batches are resized after each one to take about this long.
    pub target_batch_time: Duration,
    pub first_batch: i64,
    pub min_batch: i64,
    pub max_batch: i64,
    /// Pause between batches, leaving room to the application's own queries.
    pub pause: Duration,
    /// Each batch waits at most `lock_timeout` for the rows it updates, and is retried within
    /// the policy's budget.
    pub policy: LockPolicy,
    /// Batches wait while a standby is behind, or the primary is in trouble.
    pub replicas: ReplicaLimits,
}

impl Default for BackfillOptions {
    fn default() -> Self {
        Self {
            target_batch_time: Duration::from_millis(200),
            first_batch: 500,
            min_batch: 10,
            max_batch: 50_000,
            pause: Duration::from_millis(20),
            policy: LockPolicy {
                lock_timeout: Duration::from_secs(2),
                statement_timeout: Duration::from_secs(60),
                ..LockPolicy::default()
            },
            replicas: ReplicaLimits::default(),
        }
    }
}

impl BackfillOptions {
    /// The smallest and largest batch, whatever was asked: at least one row, and the smallest
    /// never above the largest.
    fn batch_bounds(&self) -> (i64, i64) {
        let most = self.max_batch.max(1);
        (self.min_batch.clamp(1, most), most)
    }
}

/// Reported after each batch.
#[derive(Debug, Clone)]
pub struct BackfillProgress {
    /// Rows filled by this run so far.
    pub filled: i64,
    /// Rows that needed filling when this run started.
    pub to_fill: i64,
    pub batch_size: i64,
    pub rows_per_second: f64,
    /// The key the next batch starts after.
    pub cursor: Option<String>,
    /// Why the next batch waits (a standby behind, the primary in trouble); `None` while it
    /// runs.
    pub paused: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackfillOutcome {
    /// Every row that matched the predicate is filled; verified by a final count.
    Complete,
    /// Stopped on request; the next run resumes after the last committed batch.
    Stopped,
    /// The walk ended but rows written since keep matching the predicate.
    RowsLeft(i64),
}

#[derive(Debug, Clone)]
pub struct BackfillReport {
    pub outcome: BackfillOutcome,
    /// Whether an earlier run had committed progress that this one resumed from.
    pub resumed: bool,
    /// Rows filled by this run.
    pub filled: i64,
    /// Over every run of this backfill.
    pub filled_in_total: i64,
    pub batches: i64,
    pub elapsed: Duration,
}

/// The progress table, created on first use.
/// The jobs' progress lives in a schema of plumb's own, not beside the application's tables:
/// `diesel print-schema` would print it into schema.rs, and the checker would then ask for a
/// model of it. A table an earlier release made in `public` is moved, with its jobs.
const PROGRESS_DDL: &str = "CREATE SCHEMA IF NOT EXISTS plumb;
DO $$ BEGIN
    IF to_regclass('public.plumb_backfills') IS NOT NULL AND to_regclass('plumb.backfills') IS NULL THEN
        ALTER TABLE public.plumb_backfills SET SCHEMA plumb;
        ALTER TABLE plumb.plumb_backfills RENAME TO backfills;
    END IF;
END $$;
CREATE TABLE IF NOT EXISTS plumb.backfills (
    name text PRIMARY KEY,
    table_name text NOT NULL,
    key_name text NOT NULL,
    column_name text NOT NULL,
    expression text NOT NULL,
    pending text NOT NULL,
    cursor text,
    upper_bound text,
    passes integer NOT NULL DEFAULT 1,
    batch_size bigint NOT NULL,
    rows_filled bigint NOT NULL DEFAULT 0,
    batches bigint NOT NULL DEFAULT 0,
    started_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
)";

/// A walk that ends with rows left (written NULL meanwhile) starts over this many times.
const MAX_PASSES: i32 = 3;

/// Runs (or resumes) `backfill` until it is complete, `stop` is set, or an error. A
/// partitioned table is filled partition by partition, each its own job named
/// `<name>/<partition>`, so that a batch's walk and its locks stay within one partition.
pub fn run_backfill(
    url: &DatabaseUrl,
    backfill: &Backfill,
    options: &BackfillOptions,
    stop: &AtomicBool,
    on_progress: &mut dyn FnMut(&BackfillProgress),
) -> Result<BackfillReport> {
    let partitions = leaf_partitions(url, &backfill.table)?;
    if partitions.is_empty() {
        return run_one(url, backfill, options, stop, on_progress);
    }
    let mut total = BackfillReport {
        outcome: BackfillOutcome::Complete,
        resumed: false,
        filled: 0,
        filled_in_total: 0,
        batches: 0,
        elapsed: Duration::ZERO,
    };
    for partition in partitions {
        let one = Backfill {
            name: format!("{}/{partition}", backfill.name),
            table: partition,
            ..backfill.clone()
        };
        let report = run_one(url, &one, options, stop, on_progress)?;
        total.resumed |= report.resumed;
        total.filled += report.filled;
        total.filled_in_total += report.filled_in_total;
        total.batches += report.batches;
        total.elapsed += report.elapsed;
        match (report.outcome, &mut total.outcome) {
            (BackfillOutcome::Complete, _) => {}
            // Asked to stop: the partitions after it wait for the next run.
            (BackfillOutcome::Stopped, outcome) => {
                *outcome = BackfillOutcome::Stopped;
                break;
            }
            // Rows of one partition keep matching: the others are filled all the same, and
            // what is left is counted over all of them.
            (BackfillOutcome::RowsLeft(left), BackfillOutcome::RowsLeft(sum)) => *sum += left,
            (BackfillOutcome::RowsLeft(left), outcome) => {
                *outcome = BackfillOutcome::RowsLeft(left)
            }
        }
    }
    Ok(total)
}

/// The leaf partitions of `table`, in name order, by their names (each on the search path);
/// none when it is not partitioned.
fn leaf_partitions(url: &DatabaseUrl, table: &str) -> Result<Vec<String>> {
    #[derive(QueryableByName)]
    struct Leaf {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        visible: bool,
    }
    let mut conn = url.connect()?;
    let leaves: Vec<Leaf> = diesel::sql_query(
        "SELECT l.relname::text AS name, pg_table_is_visible(l.oid) AS visible \
         FROM pg_class c, pg_partition_tree(c.oid) t, pg_class l \
         WHERE c.oid = to_regclass(quote_ident($1)) AND c.relkind = 'p' AND t.isleaf \
           AND l.oid = t.relid ORDER BY 1",
    )
    .bind::<Text, _>(table)
    .load(&mut conn)
    .map_err(|source| OnlineError::Query {
        context: format!("listing the partitions of {table}"),
        target: url.describe(),
        source,
    })?;
    if let Some(hidden) = leaves.iter().find(|l| !l.visible) {
        return Err(OnlineError::Invalid(format!(
            "partition {} of {table} is not on the search path (another schema): backfill it by name",
            hidden.name
        )));
    }
    Ok(leaves.into_iter().map(|l| l.name).collect())
}

/// [`run_backfill`] on one table that holds its rows.
fn run_one(
    url: &DatabaseUrl,
    backfill: &Backfill,
    options: &BackfillOptions,
    stop: &AtomicBool,
    on_progress: &mut dyn FnMut(&BackfillProgress),
) -> Result<BackfillReport> {
    // Both are spliced into the batch's SQL: each must be one expression and nothing else, or
    // `--where 'x) OR (true'` would make a batch a full-table UPDATE. Checked before connecting.
    for (option, text) in [
        ("--set", &backfill.expression),
        ("--where", &backfill.pending),
    ] {
        if let Err(why) = plumb_check::sql::parse::single_expression(text) {
            return Err(OnlineError::Invalid(format!(
                "{option} {text:?} is refused: {why}; give one SQL expression, such as lower(email) or display_name IS NULL"
            )));
        }
    }
    let started = Instant::now();
    let mut session = LockSession::open(url, &options.policy, "plumb backfill")?;
    let target = session.target().to_owned();
    let fail = |context: &str| {
        let target = target.clone();
        let context = format!("backfill {}: {context}", backfill.name);
        move |source| OnlineError::Query {
            context,
            target,
            source,
        }
    };
    let conn = &mut session.conn;
    diesel::sql_query(format!(
        "SELECT set_config('statement_timeout', '{}ms', false)",
        options.policy.statement_timeout.as_millis().max(1)
    ))
    .execute(conn)
    .map_err(fail("setting statement_timeout"))?;
    let key_type = key_type(conn, backfill)?;
    let sql = Statements::new(backfill, &key_type);
    conn.transaction(|conn| {
        diesel::sql_query("SELECT pg_advisory_xact_lock(7091853218312645121)").execute(conn)?;
        conn.batch_execute(PROGRESS_DDL)
    })
    .map_err(fail("creating plumb.backfills"))?;
    let resumed = register(conn, backfill, options, &sql)?;
    // The user's `--where` is spliced into it: an error shows the SQL plumb built.
    let to_fill = count(conn, &sql.count_pending).map_err(fail(&format!(
        "counting the rows to fill ({})",
        sql.count_pending
    )))?;
    if to_fill > 0 {
        // Finished before, or ended an earlier run with rows left, yet rows need filling:
        // walk again from the start.
        let bound = max_key(conn, &sql.max_key).map_err(fail("reading the last key"))?;
        diesel::sql_query(
            "UPDATE plumb.backfills SET finished_at = NULL, cursor = NULL, upper_bound = $2, passes = 1, updated_at = now() \
             WHERE name = $1 AND (finished_at IS NOT NULL OR passes >= $3)",
        )
        .bind::<Text, _>(&backfill.name)
        .bind::<Nullable<Text>, _>(bound)
        .bind::<Integer, _>(MAX_PASSES)
        .execute(conn)
        .map_err(fail("reopening the finished backfill"))?;
    }

    let mut report = BackfillReport {
        outcome: BackfillOutcome::Stopped,
        resumed,
        filled: 0,
        filled_in_total: 0,
        batches: 0,
        elapsed: Duration::ZERO,
    };
    let what = format!("backfill {}: a batch", backfill.name);
    let mut last_progress = BackfillProgress {
        filled: 0,
        to_fill,
        batch_size: options.first_batch,
        rows_per_second: 0.0,
        cursor: None,
        paused: None,
    };
    loop {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        if !wait_for_replicas(
            &mut session.conn,
            &options.replicas,
            stop,
            &mut last_progress,
            on_progress,
        )
        .map_err(|e| match e {
            Throttle::Query(source) => fail("reading the standbys' lag")(source),
            Throttle::Unmeasured(why) => OnlineError::Refused(format!(
                "backfill {}: stopped, its progress kept: {why}, for longer than {} s; run it again once the lag can be read, or raise --replica-grace-s",
                backfill.name,
                options.replicas.unmeasured_grace.as_secs()
            )),
            Throttle::TooLong(why) => OnlineError::Refused(format!(
                "backfill {}: stopped, its progress kept: {why}, still after {} s of waiting; run it again later, or pass --ignore-replicas",
                backfill.name,
                options.replicas.max_wait.as_secs()
            )),
        })? {
            break;
        }
        let mut on_retry = |retry: &Retry| {
            tracing::warn!(backfill = %backfill.name, attempt = retry.attempt, pause_ms = retry.pause.as_millis() as u64, "batch stopped by lock_timeout; retrying");
        };
        let attempt = retry_lock_timeouts(
            &options.policy,
            &what,
            options.policy.lock_timeout,
            &mut on_retry,
            || match session
                .conn
                .transaction(|conn| batch(conn, backfill, options, &sql))
            {
                Ok(step) => Ok(Attempt::Done(step)),
                // A batch waited longer than lock_timeout for rows the application holds.
                Err(error) if session.is_lock_timeout(&error) => Ok(Attempt::TimedOut {
                    waited: options.policy.lock_timeout,
                    blockers: Default::default(),
                    queue: Default::default(),
                }),
                Err(error) => Err(OnlineError::StepFailed {
                    what: what.clone(),
                    message: format!(
                        "{}; the batch's SQL, with --set and --where spliced in: {}",
                        plumb_pg::one_line(&error.to_string()),
                        sql.fill
                    ),
                }),
            },
        )?;
        let step = match attempt {
            Batch::WalkEnded { passes } => finish(&mut session.conn, backfill, &sql, passes)
                .map_err(fail("verifying that no row is left"))?,
            step => step,
        };
        match step {
            Batch::Filled {
                filled,
                total,
                cursor,
                size,
            } => {
                report.filled += filled;
                report.filled_in_total = total;
                report.batches += 1;
                let seconds = started.elapsed().as_secs_f64().max(1e-9);
                last_progress = BackfillProgress {
                    filled: report.filled,
                    to_fill,
                    batch_size: size,
                    rows_per_second: report.filled as f64 / seconds,
                    cursor,
                    paused: None,
                };
                on_progress(&last_progress);
                std::thread::sleep(options.pause);
            }
            Batch::Finished { total } => {
                report.filled_in_total = total;
                report.outcome = BackfillOutcome::Complete;
                break;
            }
            Batch::Left { left } => {
                report.outcome = BackfillOutcome::RowsLeft(left);
                break;
            }
            Batch::WalkEnded { .. } => {}
        }
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

/// The SQL of one backfill, with its identifiers quoted once.
#[derive(Debug)]
struct Statements {
    /// $1 cursor (text, or NULL at the start), $2 upper bound, $3 batch size.
    fill: String,
    count_pending: String,
    max_key: String,
}

impl Statements {
    fn new(b: &Backfill, key_type: &str) -> Self {
        let (t, k, c) = (quote(&b.table), quote(&b.key), quote(&b.column));
        let (expr, pending) = (&b.expression, &b.pending);
        Self {
            // The UPDATE takes the batch as a key range, not as a join on its keys: a join
            // lets the planner walk the key index from its start, every batch.
            fill: format!(
                "WITH batch AS (\
                   SELECT max(plumb_key) AS last FROM (\
                     SELECT {k} AS plumb_key FROM {t} \
                     WHERE ($1::text IS NULL OR {k} > $1::text::{key_type}) AND {k} <= $2::text::{key_type} AND ({pending}) \
                     ORDER BY {k} LIMIT $3) AS keys), \
                 filled AS (\
                   UPDATE {t} SET {c} = ({expr}) \
                   WHERE ($1::text IS NULL OR {k} > $1::text::{key_type}) AND {k} <= (SELECT last FROM batch) AND ({pending}) \
                   RETURNING 1) \
                 SELECT (SELECT last::text FROM batch) AS last, (SELECT count(*) FROM filled) AS filled"
            ),
            count_pending: format!("SELECT count(*) AS n FROM {t} WHERE ({pending})"),
            max_key: format!("SELECT max({k})::text AS key FROM {t}"),
        }
    }
}

enum Batch {
    Filled {
        filled: i64,
        total: i64,
        cursor: Option<String>,
        size: i64,
    },
    Finished {
        total: i64,
    },
    Left {
        left: i64,
    },
    /// The walk reached its bound in the given pass: count what is left, outside the batch.
    WalkEnded {
        passes: i32,
    },
}

#[derive(QueryableByName)]
struct Cursor {
    #[diesel(sql_type = Nullable<Text>)]
    cursor: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    upper_bound: Option<String>,
    #[diesel(sql_type = BigInt)]
    batch_size: i64,
    #[diesel(sql_type = BigInt)]
    rows_filled: i64,
    #[diesel(sql_type = Integer)]
    passes: i32,
    #[diesel(sql_type = Bool)]
    finished: bool,
}

/// One batch, in the caller's transaction: takes the cursor (waiting for another worker's
/// batch to commit), fills, advances the cursor.
fn batch(
    conn: &mut PgConnection,
    b: &Backfill,
    options: &BackfillOptions,
    sql: &Statements,
) -> diesel::QueryResult<Batch> {
    #[derive(QueryableByName)]
    struct Filled {
        #[diesel(sql_type = Nullable<Text>)]
        last: Option<String>,
        #[diesel(sql_type = BigInt)]
        filled: i64,
    }
    // Another worker's batch holds the cursor for about one batch time: wait for it as long as
    // a statement may run. The rows themselves are waited for only lock_timeout.
    let wait = |timeout: Duration| {
        diesel::sql_query(format!(
            "SELECT set_config('lock_timeout', '{}ms', true)",
            timeout.as_millis().max(1)
        ))
    };
    wait(options.policy.statement_timeout).execute(conn)?;
    let state: Cursor = diesel::sql_query(
        "SELECT cursor, upper_bound, batch_size, rows_filled, passes, finished_at IS NOT NULL AS finished \
         FROM plumb.backfills WHERE name = $1 FOR UPDATE",
    )
    .bind::<Text, _>(&b.name)
    .get_result(conn)?;
    if state.finished {
        return Ok(Batch::Finished {
            total: state.rows_filled,
        });
    }
    let Some(bound) = state.upper_bound.clone() else {
        return Ok(Batch::WalkEnded {
            passes: state.passes,
        });
    };
    wait(options.policy.lock_timeout).execute(conn)?;
    let began = Instant::now();
    let done: Filled = diesel::sql_query(&sql.fill)
        .bind::<Nullable<Text>, _>(state.cursor.as_deref())
        .bind::<Text, _>(&bound)
        .bind::<BigInt, _>(state.batch_size)
        .get_result(conn)?;
    let Some(last) = done.last else {
        return Ok(Batch::WalkEnded {
            passes: state.passes,
        });
    };
    let size = resize(state.batch_size, began.elapsed(), options);
    diesel::sql_query(
        "UPDATE plumb.backfills SET cursor = $2, rows_filled = rows_filled + $3, batches = batches + 1, \
         batch_size = $4, updated_at = now() WHERE name = $1",
    )
    .bind::<Text, _>(&b.name)
    .bind::<Text, _>(&last)
    .bind::<BigInt, _>(done.filled)
    .bind::<BigInt, _>(size)
    .execute(conn)?;
    Ok(Batch::Filled {
        filled: done.filled,
        total: state.rows_filled + done.filled,
        cursor: Some(last),
        size,
    })
}

/// The walk reached its bound in pass `passes`: verify that no row is left, in a transaction of
/// its own (the count may take as long as a scan, without holding the cursor). Rows written
/// since the walk passed them start another pass, up to [`MAX_PASSES`]; when several workers
/// get here, one starts it.
fn finish(
    conn: &mut PgConnection,
    b: &Backfill,
    sql: &Statements,
    passes: i32,
) -> diesel::QueryResult<Batch> {
    #[derive(QueryableByName)]
    struct Total {
        #[diesel(sql_type = BigInt)]
        rows_filled: i64,
    }
    let left = conn.transaction(|conn| {
        diesel::sql_query("SELECT set_config('statement_timeout', '0', true)").execute(conn)?;
        count(conn, &sql.count_pending)
    })?;
    let total = |conn: &mut PgConnection| -> diesel::QueryResult<i64> {
        Ok(
            diesel::sql_query("SELECT rows_filled FROM plumb.backfills WHERE name = $1")
                .bind::<Text, _>(&b.name)
                .get_result::<Total>(conn)?
                .rows_filled,
        )
    };
    if left == 0 {
        diesel::sql_query(
            "UPDATE plumb.backfills SET finished_at = coalesce(finished_at, now()), updated_at = now() WHERE name = $1",
        )
        .bind::<Text, _>(&b.name)
        .execute(conn)?;
        return Ok(Batch::Finished {
            total: total(conn)?,
        });
    }
    if passes >= MAX_PASSES {
        return Ok(Batch::Left { left });
    }
    let bound = max_key(conn, &sql.max_key)?;
    diesel::sql_query(
        "UPDATE plumb.backfills SET cursor = NULL, upper_bound = $2, passes = passes + 1, updated_at = now() \
         WHERE name = $1 AND passes = $3",
    )
    .bind::<Text, _>(&b.name)
    .bind::<Nullable<Text>, _>(bound)
    .bind::<Integer, _>(passes)
    .execute(conn)?;
    let total = total(conn)?;
    Ok(Batch::Filled {
        filled: 0,
        total,
        cursor: None,
        size: 0,
    })
}

/// The next batch size: scaled toward the target time, at most doubled or halved at once.
fn resize(size: i64, took: Duration, options: &BackfillOptions) -> i64 {
    let ratio = options.target_batch_time.as_secs_f64() / took.as_secs_f64().max(1e-4);
    let next = (size as f64 * ratio.clamp(0.5, 2.0)).round() as i64;
    let (least, most) = options.batch_bounds();
    next.clamp(least, most)
}

/// Records the backfill, or checks that the recorded one is the same job. Returns whether it
/// had progress to resume from.
fn register(
    conn: &mut PgConnection,
    b: &Backfill,
    options: &BackfillOptions,
    sql: &Statements,
) -> Result<bool> {
    #[derive(QueryableByName, PartialEq, Eq, Debug)]
    struct Recorded {
        #[diesel(sql_type = Text)]
        table_name: String,
        #[diesel(sql_type = Text)]
        key_name: String,
        #[diesel(sql_type = Text)]
        column_name: String,
        #[diesel(sql_type = Text)]
        expression: String,
        #[diesel(sql_type = Text)]
        pending: String,
        #[diesel(sql_type = BigInt)]
        batches: i64,
    }
    let query = |source| OnlineError::Query {
        context: format!("backfill {}: recording it in plumb.backfills", b.name),
        target: "the database".into(),
        source,
    };
    let bound = max_key(conn, &sql.max_key).map_err(query)?;
    diesel::sql_query(
        "INSERT INTO plumb.backfills (name, table_name, key_name, column_name, expression, pending, upper_bound, batch_size) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (name) DO UPDATE SET table_name = EXCLUDED.table_name, key_name = EXCLUDED.key_name, \
             column_name = EXCLUDED.column_name, expression = EXCLUDED.expression, pending = EXCLUDED.pending, \
             upper_bound = EXCLUDED.upper_bound, cursor = NULL, updated_at = now() \
         WHERE plumb.backfills.batches = 0 AND (plumb.backfills.table_name, plumb.backfills.key_name, \
             plumb.backfills.column_name, plumb.backfills.expression, plumb.backfills.pending) \
             IS DISTINCT FROM (EXCLUDED.table_name, EXCLUDED.key_name, EXCLUDED.column_name, \
             EXCLUDED.expression, EXCLUDED.pending)",
    )
    .bind::<Text, _>(&b.name)
    .bind::<Text, _>(&b.table)
    .bind::<Text, _>(&b.key)
    .bind::<Text, _>(&b.column)
    .bind::<Text, _>(&b.expression)
    .bind::<Text, _>(&b.pending)
    .bind::<Nullable<Text>, _>(bound)
    .bind::<BigInt, _>({
        let (least, most) = options.batch_bounds();
        options.first_batch.clamp(least, most)
    })
    .execute(conn)
    .map_err(query)?;
    let recorded: Recorded = diesel::sql_query(
        "SELECT table_name, key_name, column_name, expression, pending, batches FROM plumb.backfills WHERE name = $1",
    )
    .bind::<Text, _>(&b.name)
    .get_result(conn)
    .map_err(query)?;
    let differences: Vec<String> = [
        ("table", &recorded.table_name, &b.table),
        ("key", &recorded.key_name, &b.key),
        ("column", &recorded.column_name, &b.column),
        ("set", &recorded.expression, &b.expression),
        ("where", &recorded.pending, &b.pending),
    ]
    .into_iter()
    .filter(|(_, was, now)| was != now)
    .map(|(what, was, now)| format!("{what} was {was}, now {now}"))
    .collect();
    // The insert above took a new definition while no batch had committed: what still differs
    // was defined for batches that did.
    if !differences.is_empty() {
        return Err(OnlineError::Invalid(format!(
            "backfill {} has committed batches under another definition ({}): finish it as it was defined, or give the new one another name to start a new job",
            b.name,
            differences.join("; ")
        )));
    }
    Ok(recorded.batches > 0)
}

/// The SQL type of the key, checked to be NOT NULL and a single-column unique index, or the
/// first column of the primary key. Uniqueness is not what the walk needs (a batch takes every
/// row up to its last key, however many share it); it keeps a batch near its size, and a batch
/// cannot be split below the rows of one key. A partitioned table's primary key holds the
/// partition key too: `(id, created_at)` is what its partitions have, and `id` walks them; the
/// first column of another unique index (`UNIQUE (tenant_id, email)`) may group a whole tenant.
fn key_type(conn: &mut PgConnection, b: &Backfill) -> Result<String> {
    #[derive(QueryableByName)]
    struct Key {
        #[diesel(sql_type = Text)]
        key_type: String,
        #[diesel(sql_type = Bool)]
        unique: bool,
        #[diesel(sql_type = Bool)]
        target_exists: bool,
    }
    let key: Option<Key> = diesel::sql_query(
        "SELECT format_type(a.atttypid, a.atttypmod) AS key_type, \
         a.attnotnull AND EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisunique AND i.indisvalid \
                 AND (i.indnkeyatts = 1 OR i.indisprimary) AND i.indkey[0] = a.attnum AND i.indpred IS NULL) AS unique, \
         EXISTS (SELECT 1 FROM pg_attribute t WHERE t.attrelid = a.attrelid AND t.attname = $3 AND NOT t.attisdropped) AS target_exists \
         FROM pg_attribute a WHERE a.attrelid = to_regclass(quote_ident($1)) AND a.attname = $2 AND NOT a.attisdropped",
    )
    .bind::<Text, _>(&b.table)
    .bind::<Text, _>(&b.key)
    .bind::<Text, _>(&b.column)
    .get_result(conn)
    .optional()
    .map_err(|source| OnlineError::Query {
        context: format!("backfill {}: reading {}.{}", b.name, b.table, b.key),
        target: "the database".into(),
        source,
    })?;
    let problem = match key {
        None if !table_exists(conn, &b.table)? => format!("table {} does not exist", b.table),
        None => format!("{}.{} does not exist", b.table, b.key),
        Some(k) if !k.unique => format!(
            "{}.{} is neither a NOT NULL single-column unique key nor the first column of the primary key: keyset batches need one",
            b.table, b.key
        ),
        Some(k) if !k.target_exists => format!("{}.{} does not exist", b.table, b.column),
        Some(k) => return Ok(k.key_type),
    };
    Err(OnlineError::Invalid(format!(
        "backfill {}: {problem}",
        b.name
    )))
}

/// Whether `table` names a relation, as the connection's search_path resolves it.
fn table_exists(conn: &mut PgConnection, table: &str) -> Result<bool> {
    #[derive(QueryableByName)]
    struct Exists {
        #[diesel(sql_type = Bool)]
        exists: bool,
    }
    diesel::sql_query("SELECT to_regclass(quote_ident($1)) IS NOT NULL AS exists")
        .bind::<Text, _>(table)
        .get_result::<Exists>(conn)
        .map(|found| found.exists)
        .map_err(|source| OnlineError::Query {
            context: format!("looking up table {table}"),
            target: "the database".into(),
            source,
        })
}

fn count(conn: &mut PgConnection, sql: &str) -> diesel::QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    Ok(diesel::sql_query(sql).get_result::<Count>(conn)?.n)
}

fn max_key(conn: &mut PgConnection, sql: &str) -> diesel::QueryResult<Option<String>> {
    #[derive(QueryableByName)]
    struct Key {
        #[diesel(sql_type = Nullable<Text>)]
        key: Option<String>,
    }
    Ok(diesel::sql_query(sql).get_result::<Key>(conn)?.key)
}

/// Waits while the standbys or the primary say the next batch should; reports the pause as
/// progress. `false` when stopped meanwhile.
fn wait_for_replicas(
    conn: &mut PgConnection,
    limits: &ReplicaLimits,
    stop: &AtomicBool,
    progress: &mut BackfillProgress,
    on_progress: &mut dyn FnMut(&BackfillProgress),
) -> std::result::Result<bool, Throttle> {
    replicas::hold_while_behind(conn, limits, stop, &mut |why| {
        if progress.paused.as_deref() == why {
            return;
        }
        if let Some(why) = why {
            tracing::info!(reason = %why, "backfill paused");
        }
        progress.paused = why.map(str::to_owned);
        on_progress(progress);
    })
}
