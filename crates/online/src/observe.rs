//! Watching a migration run: which ACCESS EXCLUSIVE locks it holds and for how long (seen from
//! a second connection in `pg_locks`), and which relations it rewrites (`relfilenode`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use diesel::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};

use crate::{OnlineError, Result};

pub(crate) type RunOutcome = std::result::Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// Runs `work` on `conn` while another connection polls `pg_locks` for the ACCESS EXCLUSIVE
/// locks `conn` holds; returns how long each relation's lock was seen held.
pub(crate) fn traced(
    conn: &mut PgConnection,
    url: &crate::DatabaseUrl,
    run: impl FnOnce(&mut PgConnection) -> RunOutcome,
) -> Result<(RunOutcome, BTreeMap<String, Duration>)> {
    #[derive(QueryableByName)]
    struct Pid {
        #[diesel(sql_type = Integer)]
        pid: i32,
    }
    #[derive(QueryableByName)]
    struct Held {
        #[diesel(sql_type = Text)]
        relation: String,
    }
    let pid = diesel::sql_query("SELECT pg_backend_pid() AS pid")
        .get_result::<Pid>(conn)
        .map_err(|source| OnlineError::Query {
            context: "reading the backend pid".into(),
            target: url.describe(),
            source,
        })?
        .pid;
    let mut observer = url.connect()?;
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            let mut seen: BTreeMap<String, (Instant, Instant)> = BTreeMap::new();
            while !stop.load(Ordering::Relaxed) {
                let held: Vec<Held> = diesel::sql_query(
                    "SELECT c.relname::text AS relation FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
                     WHERE l.pid = $1 AND l.granted AND l.mode = 'AccessExclusiveLock'",
                )
                .bind::<Integer, _>(pid)
                .load(&mut observer)
                .unwrap_or_default();
                let now = Instant::now();
                for row in held {
                    seen.entry(row.relation).and_modify(|(_, last)| *last = now).or_insert((now, now));
                }
                std::thread::sleep(Duration::from_micros(500));
            }
            seen.into_iter().map(|(relation, (first, last))| (relation, last - first)).collect()
        });
        let outcome = run(conn);
        stop.store(true, Ordering::Relaxed);
        let locks = watcher.join().unwrap_or_default();
        Ok((outcome, locks))
    })
}

pub(crate) fn relfilenodes(conn: &mut PgConnection) -> diesel::QueryResult<BTreeMap<String, i64>> {
    #[derive(QueryableByName)]
    struct Node {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = BigInt)]
        node: i64,
    }
    let nodes: Vec<Node> = diesel::sql_query(
        "SELECT c.relname::text AS name, c.relfilenode::bigint AS node FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i', 'p') AND c.relname <> '__diesel_schema_migrations'",
    )
    .load(conn)?;
    Ok(nodes.into_iter().map(|n| (n.name, n.node)).collect())
}
