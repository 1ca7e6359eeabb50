//! Migrations over a fleet of databases (one per tenant or shard): a canary first, then waves
//! of a chosen size in parallel, halting at the first failure. Each database records what it
//! has applied, so a run started again continues where the last one stopped.

use std::path::Path;

use crate::lock_retry::LockPolicy;
use crate::runner::{Phase, RunEvent, pending_migrations, run_migrations_watching};
use crate::{DatabaseUrl, OnlineError, Result};
use plumb_pg::MigrationFolders;

/// One database of the fleet, as its file or its query names it.
#[derive(Debug, Clone)]
pub struct Member {
    pub url: DatabaseUrl,
    /// Its line in the fleet file, or its row of the fleet query.
    pub line: usize,
}

/// The fleet a query lists, run read-only on `url` (the control database): one row per
/// database, its first column a `postgres://` URL or the name of a database on `url`'s server
/// (`SELECT datname FROM pg_database WHERE datname LIKE 'tenant_%'`). A value is never shown
/// (it may hold a password): an error names its row.
pub fn query_fleet(url: &DatabaseUrl, sql: &str) -> Result<Vec<Member>> {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        member: Option<String>,
    }
    let mut conn = url.connect()?;
    let failed = |source| OnlineError::Query {
        context: "running the fleet query".to_owned(),
        target: url.describe(),
        source,
    };
    // The query is a subquery, so it is one SELECT; and its transaction cannot write. The
    // line break ends a `--` comment the query may end with.
    let wrapped = format!(
        "SELECT plumb_member::text AS member FROM ({}\n) AS fleet(plumb_member)",
        sql.trim().trim_end_matches(';')
    );
    let rows: Vec<Row> = conn
        .transaction(|conn| {
            conn.batch_execute("SET TRANSACTION READ ONLY")?;
            diesel::sql_query(&wrapped).load(conn)
        })
        .map_err(failed)?;
    let mut members = Vec::new();
    for (index, row) in rows.into_iter().enumerate() {
        let row_number = index + 1;
        let value = row.member.ok_or_else(|| {
            OnlineError::Invalid(format!(
                "the fleet query: row {row_number} is NULL, not a database"
            ))
        })?;
        let value = value.trim();
        let member_url = if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            DatabaseUrl::parse(value)
                .map_err(|e| not_a_url(format!("the fleet query: row {row_number}"), e))?
        } else if value.is_empty() {
            return Err(OnlineError::Invalid(format!(
                "the fleet query: row {row_number} is empty, not a database"
            )));
        } else {
            url.with_database(value)
        };
        members.push(Member {
            url: member_url,
            line: row_number,
        });
    }
    if members.is_empty() {
        return Err(OnlineError::Invalid(format!(
            "the fleet query returned no database (run on {})",
            url.describe()
        )));
    }
    Ok(members)
}

/// Reads a fleet file: one `postgres://` URL per line; blank lines and `#` comments ignored.
/// A line that is not a URL is an input error naming the file and the line, never its text
/// (it may hold a password).
pub fn read_fleet(path: &Path) -> Result<Vec<Member>> {
    let text = std::fs::read_to_string(path).map_err(OnlineError::io(format!(
        "reading the fleet file {}",
        path.display()
    )))?;
    let mut members = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        let entry = line.trim();
        if entry.is_empty() || entry.starts_with('#') {
            continue;
        }
        let url = DatabaseUrl::parse(entry)
            .map_err(|e| not_a_url(format!("{}:{line_number}", path.display()), e))?;
        members.push(Member {
            url,
            line: line_number,
        });
    }
    if members.is_empty() {
        return Err(OnlineError::Invalid(format!(
            "{}: no database in the fleet file",
            path.display()
        )));
    }
    Ok(members)
}

/// A fleet entry that is no URL: where it is and why, never its text (it may hold a password).
fn not_a_url(place: String, error: OnlineError) -> OnlineError {
    let reason = match error {
        OnlineError::InvalidUrl { reason } => reason,
        other => other.to_string(),
    };
    OnlineError::Invalid(format!("{place}: not a database URL ({reason})"))
}

/// Where one database stands at the end of a fleet run.
#[derive(Debug, Clone)]
pub struct MemberOutcome {
    /// Host, port and database (never a password).
    pub database: String,
    /// The migrations this run applied to it.
    pub applied: Vec<String>,
    /// Why its run failed, when it did.
    pub failed: Option<String>,
    /// The migrations it still lacks, read after the run; `None` when it could not be read.
    pub pending: Option<Vec<String>>,
    /// It was not reached: the fleet halted before its wave.
    pub skipped: bool,
}

/// What a fleet run did.
#[derive(Debug, Clone)]
pub struct FleetReport {
    pub members: Vec<MemberOutcome>,
    /// The run halted at a failure: later waves were not started.
    pub halted: bool,
}

/// What a fleet run reports as it goes.
#[derive(Debug, Clone)]
pub enum FleetEvent {
    /// A wave starts: the canary alone (0), then 1, 2, ...
    Wave {
        number: usize,
        databases: Vec<String>,
    },
    /// One database's run ended.
    Done {
        database: String,
        applied: usize,
        failed: Option<String>,
    },
}

/// Applies the pending migrations `phase` selects to every database of `members`: the first
/// alone (the canary), then the rest `wave` at a time, each database on a thread of its own;
/// after a wave in which any failed, no further wave starts.
pub fn migrate_fleet(
    members: &[Member],
    folders: &MigrationFolders,
    phase: Phase,
    policy: &LockPolicy,
    limits: &crate::replicas::ReplicaLimits,
    wave: usize,
    on_event: &mut dyn FnMut(&FleetEvent),
) -> FleetReport {
    let mut outcomes: Vec<MemberOutcome> = members
        .iter()
        .map(|m| MemberOutcome {
            database: m.url.describe(),
            applied: Vec::new(),
            failed: None,
            pending: None,
            skipped: true,
        })
        .collect();
    let waves: Vec<Vec<usize>> = std::iter::once(vec![0])
        .chain(
            (1..members.len())
                .collect::<Vec<_>>()
                .chunks(wave.max(1))
                .map(<[usize]>::to_vec),
        )
        .filter(|w| !w.is_empty() && w.iter().all(|i| *i < members.len()))
        .collect();
    let mut halted = false;
    for (number, indexes) in waves.iter().enumerate() {
        if halted {
            break;
        }
        on_event(&FleetEvent::Wave {
            number,
            databases: indexes
                .iter()
                .map(|i| outcomes[*i].database.clone())
                .collect(),
        });
        let results: Vec<(usize, Result<Vec<String>>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = indexes
                .iter()
                .map(|&i| {
                    let url = &members[i].url;
                    let run = scope.spawn(move || {
                        run_migrations_watching(
                            url,
                            folders,
                            phase,
                            policy,
                            &[],
                            Some(limits),
                            &mut |_: &RunEvent| {},
                        )
                        .map(|r| r.applied.into_iter().map(|m| m.name).collect())
                    });
                    (i, run)
                })
                .collect();
            // A run that panicked is that database's failure: its place is read after.
            handles
                .into_iter()
                .map(|(i, run)| {
                    let result = run.join().unwrap_or_else(|_| {
                        Err(OnlineError::Refused(
                            "its run panicked (a defect of plumb); where it stands is read again below"
                                .into(),
                        ))
                    });
                    (i, result)
                })
                .collect()
        });
        for (i, result) in results {
            let outcome = &mut outcomes[i];
            outcome.skipped = false;
            match result {
                Ok(applied) => outcome.applied = applied,
                Err(error) => {
                    outcome.failed = Some(error.to_string());
                    halted = true;
                }
            }
            on_event(&FleetEvent::Done {
                database: outcome.database.clone(),
                applied: outcome.applied.len(),
                failed: outcome.failed.clone(),
            });
        }
    }
    for (member, outcome) in members.iter().zip(outcomes.iter_mut()) {
        outcome.pending = pending_migrations(&member.url, folders).ok();
    }
    FleetReport {
        members: outcomes,
        halted,
    }
}
