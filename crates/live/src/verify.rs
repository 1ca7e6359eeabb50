//! The live stage: each migration applied to a fresh database while it is observed, compared
//! with the static replay, reverted and compared with the catalog before it, and applied again.

use std::fmt;
use std::path::PathBuf;

use diesel::migration::MigrationConnection;
use diesel::result::{DatabaseErrorInformation, Error as DieselError};
use diesel_migrations::MigrationHarness;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use diesel::PgConnection;
use diesel::prelude::*;
use plumb_check::rules::l as f;
use plumb_check::sql::source::Source;
use plumb_check::{Finding, Settings};

use crate::catalog::Catalog;
use crate::history::History;
use crate::replay_compare::replay_differences;
use crate::seed::{Seeding, seed_tables};
use plumb_pg::PgServer;
use plumb_pg::TestDatabase;
use plumb_pg::observe::{relfilenodes, traced};
use plumb_pg::one_line;
use plumb_pg::{MigrationFolder, MigrationFolders, Script, ScriptError, ScriptFailure};
use plumb_pg::{OnlineError, Result};

/// Which pass over the migrations failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    Up,
    Down,
    UpAgain,
}

impl Pass {
    fn script(self) -> Script {
        match self {
            Pass::Up | Pass::UpAgain => Script::Up,
            Pass::Down => Script::Down,
        }
    }
}

impl fmt::Display for Pass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Pass::Up => "applying",
            Pass::Down => "reverting",
            Pass::UpAgain => "applying again after reverting",
        })
    }
}

/// A migration PostgreSQL refused, with the place in the file when PostgreSQL gave one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationFailure {
    pub folder: String,
    pub pass: Pass,
    pub file: PathBuf,
    /// 1-based line and column of the statement position PostgreSQL reported.
    pub position: Option<(usize, usize)>,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
    /// Extensions the script creates that the server does not have.
    pub missing_extensions: Vec<String>,
}

impl fmt::Display for MigrationFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((line, column)) = self.position {
            write!(f, ":{line}:{column}")?;
        }
        write!(
            f,
            ": {} {} failed: {}",
            self.pass, self.folder, self.message
        )?;
        if let Some(detail) = &self.detail {
            write!(f, "\n  detail: {detail}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        if !self.missing_extensions.is_empty() {
            let names: Vec<String> = self
                .missing_extensions
                .iter()
                .map(|e| format!("`{e}`"))
                .collect();
            write!(
                f,
                "\n  note: it needs the extension {}, which this server does not have: point DATABASE_URL at a server that has it",
                names.join(", ")
            )?;
        }
        Ok(())
    }
}

/// How the live stage observes migrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveOptions {
    /// Rows given to every table that exists before a migration runs.
    pub seed_rows: u32,
    /// ACCESS EXCLUSIVE held longer than this on an existing table is a finding.
    pub lock_threshold: Duration,
}

impl Default for LiveOptions {
    fn default() -> Self {
        Self {
            seed_rows: 20_000,
            lock_threshold: Duration::from_millis(100),
        }
    }
}

/// What the live stage found.
#[derive(Debug, Clone)]
pub struct Verification {
    pub migrations: usize,
    /// Migrations applied as history: quickly, neither observed nor reverted.
    pub history: usize,
    /// Migrations judged: observed, reverted and applied again.
    pub judged: usize,
    /// The scripts of those judged to the end, as findings show them: where a suppression of
    /// a live rule that covered nothing is reported.
    pub judged_scripts: Vec<std::path::PathBuf>,
    /// Migrations `[live] skip` leaves out.
    pub skipped: Vec<String>,
    /// Historical migrations PostgreSQL refused; the ones after them were still applied.
    pub history_failures: Vec<MigrationFailure>,
    /// The first judged migration PostgreSQL refused; nothing after it ran.
    pub failure: Option<MigrationFailure>,
    /// Families L: down.sql not reversing, replay mismatches, rewrites, long locks.
    pub findings: Vec<Finding>,
    /// For each static M finding about a lock or a rewrite: whether the live run confirmed it.
    pub confirmations: Vec<String>,
    /// What could not be observed as intended: a table or a migration, and a sentence saying
    /// why and what was observed instead.
    pub unseeded: Vec<(String, String)>,
}

/// Where the live stage is: the migration it starts, and how it treats it. What a progress
/// display shows.
#[derive(Debug, Clone, Copy)]
pub struct Step<'a> {
    /// 1-based, over every migration.
    pub index: usize,
    pub total: usize,
    pub folder: &'a str,
    pub treatment: Treatment,
}

/// How the live stage treats a migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Treatment {
    /// Applied quickly: production has it already.
    History,
    /// Seeded, observed, reverted and applied again.
    Judged,
    /// Left out (`[live] skip`).
    Skipped,
}

/// On an empty database on `server`, for each migration in diesel's order: a migration of
/// `history` is applied as it is; any other has the tables that exist seeded, is applied while
/// a second connection watches its locks, is compared with the static replay, reverted and
/// compared with the catalog before it, and applied again.
pub fn verify_migrations(
    server: &PgServer,
    folders: &MigrationFolders,
    settings: &Settings,
    options: LiveOptions,
    history: &History,
    on_step: &mut dyn FnMut(Step<'_>),
) -> Result<Verification> {
    let (mut database, mut conn) = rebuilt(server, &[])?;
    let treatments: Vec<Treatment> = folders
        .folders
        .iter()
        .map(|folder| {
            if settings.live_skips(&folder.version, &folder.name) {
                Treatment::Skipped
            } else if history.covers(folder) {
                Treatment::History
            } else {
                Treatment::Judged
            }
        })
        .collect();
    // The static view of the judged migrations only: history is not replayed twice.
    let replayed = plumb_check::replay_each(&folders.migrations);
    let predicted: Vec<Finding> = if treatments.contains(&Treatment::Judged) {
        plumb_check::check_migrations(&folders.migrations, settings).findings
    } else {
        Vec::new()
    };
    let mut report = Verification {
        migrations: folders.folders.len(),
        history: 0,
        judged: 0,
        judged_scripts: Vec::new(),
        skipped: Vec::new(),
        history_failures: Vec::new(),
        failure: None,
        findings: Vec::new(),
        confirmations: Vec::new(),
        unseeded: Vec::new(),
    };
    let mut seeding = Seeding::default();
    let mut reported_gaps = BTreeSet::new();
    let total = folders.folders.len();
    for (index, (((folder, migration), replay), treatment)) in folders
        .folders
        .iter()
        .zip(&folders.migrations)
        .zip(&replayed)
        .zip(&treatments)
        .enumerate()
    {
        on_step(Step {
            index: index + 1,
            total,
            folder: &folder.name,
            treatment: *treatment,
        });
        match treatment {
            Treatment::Skipped => {
                report.skipped.push(folder.name.clone());
                continue;
            }
            Treatment::History => {
                report.history += 1;
                let mut outcome = conn.run_migration(folder).map(drop);
                if outcome.is_err() && !seeding.is_empty() {
                    // A migration of history after a new one meets seed rows production never
                    // had: it is applied again where there are none.
                    (database, conn) = rebuilt(server, &applied(folders, &treatments[..index]))?;
                    seeding = Seeding::default();
                    outcome = conn.run_migration(folder).map(drop);
                }
                if let Err(error) = outcome {
                    let failure = describe_failure(&mut conn, folder, Pass::Up, error.as_ref());
                    report.history_failures.push(failure);
                }
                continue;
            }
            Treatment::Judged => report.judged += 1,
        }
        let before =
            Catalog::read(&mut conn).map_err(query_error(&database, "reading the catalog"))?;
        if index > 0 && treatments[index - 1] != Treatment::Judged {
            // Where the replay and the database part ways in history is not this migration's
            // doing: those gaps are known, and not reported against it.
            reported_gaps.extend(replay_differences(&before, &replayed[index - 1]));
        }
        for (table, why) in seed_tables(&mut conn, &before, options.seed_rows, &mut seeding) {
            if report.unseeded.iter().any(|(t, _)| t == &table) {
                continue;
            }
            report.unseeded.push((
                table,
                format!(
                    "could not be seeded ({why}); it was observed with the rows migrations gave it"
                ),
            ));
        }
        let mut empty =
            empty_tables(&mut conn, &before).map_err(query_error(&database, "counting rows"))?;
        let mut nodes_before =
            relfilenodes(&mut conn).map_err(query_error(&database, "reading relfilenodes"))?;
        let run = |conn: &mut PgConnection| conn.run_migration(folder).map(drop);
        let (mut outcome, mut locks) = traced(&mut conn, database.url(), run)?;
        if let Err(error) = &outcome
            && !seeding.is_empty()
        {
            // It may fail only because of the made-up rows (a CHECK they do not meet): observe it
            // where there are none — a database built again from the migrations before it, as
            // they are — and say so.
            let on_seeded = one_line(&error.to_string());
            (database, conn) = rebuilt(server, &applied(folders, &treatments[..index]))?;
            seeding = Seeding::default();
            empty = empty_tables(&mut conn, &before)
                .map_err(query_error(&database, "counting rows"))?;
            nodes_before =
                relfilenodes(&mut conn).map_err(query_error(&database, "reading relfilenodes"))?;
            let retried = traced(&mut conn, database.url(), run)?;
            if retried.0.is_ok() {
                let note = format!(
                    "it fails on the seeded rows ({on_seeded}); it was observed on a database built again from the migrations before it, without them"
                );
                report.unseeded.push((folder.name.clone(), note));
            }
            (outcome, locks) = retried;
        }
        if let Err(error) = outcome {
            report.failure = Some(describe_failure(
                &mut conn,
                folder,
                Pass::Up,
                error.as_ref(),
            ));
            return Ok(report);
        }
        let up_file = source(settings, &folder.script(Script::Up));
        let nodes_after =
            relfilenodes(&mut conn).map_err(query_error(&database, "reading relfilenodes"))?;
        let mut rewritten = Vec::new();
        for (relation, (oid, node)) in &nodes_before {
            // The same relation (same oid) in new storage; one dropped and made again under the
            // same name has a new oid and is not a rewrite.
            if nodes_after
                .get(relation)
                .is_some_and(|(after_oid, after_node)| after_oid == oid && after_node != node)
            {
                rewritten.push(relation.clone());
            }
        }
        for relation in &rewritten {
            report.findings.push(Finding::new(
                f::LIVE_TABLE_REWRITE,
                up_file.span(0, 0),
                format!("{} rewrote `{relation}` (its relfilenode changed), which existed before it: a rewrite copies the whole relation under ACCESS EXCLUSIVE", folder.name),
                "use the expand, backfill and contract forms: add nullable or with a constant default, backfill in batches, change types through a new column",
            ));
        }
        let after =
            Catalog::read(&mut conn).map_err(query_error(&database, "reading the catalog"))?;
        for gap in replay_differences(&after, replay) {
            if reported_gaps.insert(gap.clone()) {
                report.findings.push(Finding::new(
                    f::LIVE_REPLAY_MISMATCH,
                    up_file.span(0, 0),
                    format!("after {}, {gap}", folder.name),
                    "the static rules reason from the replay: review this migration by hand, and report the gap if the database is right",
                ));
            }
        }

        if migration.down.is_some() {
            if let Err(error) = conn.revert_migration(folder) {
                report.failure = Some(describe_failure(
                    &mut conn,
                    folder,
                    Pass::Down,
                    error.as_ref(),
                ));
                return Ok(report);
            }
            let reverted =
                Catalog::read(&mut conn).map_err(query_error(&database, "reading the catalog"))?;
            let differences = before.differences(&reverted);
            if !differences.is_empty() {
                let list: Vec<String> = differences.iter().map(ToString::to_string).collect();
                report.findings.push(Finding::new(
                    f::LIVE_DOWN_NOT_REVERSING,
                    source(settings, &folder.script(Script::Down)).span(0, 0),
                    format!(
                        "after {}'s up.sql then down.sql, the schema is not what it was before: {}",
                        folder.name,
                        list.join("; ")
                    ),
                    "make down.sql undo exactly what up.sql did, object by object",
                ));
            }
            // Applied again under observation: a lock held long on a busy machine (a slow
            // commit) rarely is twice, while a scan or a long hold always is. Each relation is
            // judged by the shorter of its two holds.
            let run = |conn: &mut PgConnection| conn.run_migration(folder).map(drop);
            let (again, locks_again) = traced(&mut conn, database.url(), run)?;
            if let Err(error) = again {
                report.failure = Some(describe_failure(
                    &mut conn,
                    folder,
                    Pass::UpAgain,
                    error.as_ref(),
                ));
                return Ok(report);
            }
            for (relation, held) in locks.iter_mut() {
                *held = (*held).min(locks_again.get(relation).copied().unwrap_or_default());
            }
        }
        let mut long_locks = Vec::new();
        for (relation, held) in &locks {
            if before.tables.contains_key(relation) && *held > options.lock_threshold {
                long_locks.push(relation.clone());
                report.findings.push(Finding::new(
                    f::LIVE_LONG_EXCLUSIVE_LOCK,
                    up_file.span(0, 0),
                    format!("{} held ACCESS EXCLUSIVE on `{relation}` for about {} ms (threshold {} ms, {} seeded rows): every query on the table waited", folder.name, held.as_millis(), options.lock_threshold.as_millis(), options.seed_rows),
                    "keep lock-taking statements catalog-only and short: scans belong in VALIDATE, data changes in backfills, each in its own transaction",
                ));
            }
        }
        confirm(
            &mut report.confirmations,
            &predicted,
            folder,
            &Observed {
                relations: &nodes_before.keys().cloned().collect(),
                rewritten: &rewritten,
                long_locks: &long_locks,
                locks: &locks,
                empty: &empty,
            },
        );
        for script in [Script::Up, Script::Down] {
            report
                .judged_scripts
                .push(shown(settings, &folder.script(script)));
        }
    }
    let files: Vec<_> = settings
        .schema_files
        .iter()
        .filter(|f| f.path.is_file())
        .collect();
    let left_out = report.skipped.len() + report.history_failures.len();
    if !files.is_empty() && left_out > 0 {
        // The database lacks what those migrations make: schema.rs would be held to less than
        // production has.
        report.unseeded.push((
            "schema.rs".to_owned(),
            format!("was not compared with the migrated database: {left_out} migrations were skipped or failed, so it is not the schema production has"),
        ));
    } else if !files.is_empty() {
        let catalog =
            Catalog::read(&mut conn).map_err(query_error(&database, "reading the catalog"))?;
        for file in files {
            report
                .findings
                .extend(schema_rs_findings(settings, file, &catalog));
        }
    }
    Ok(report)
}

/// A new, empty database with diesel's migrations table and `applied` run on it as they are
/// (one PostgreSQL refuses is left, as history is).
fn rebuilt<'s>(
    server: &'s PgServer,
    applied: &[&MigrationFolder],
) -> Result<(TestDatabase<'s>, PgConnection)> {
    let database = TestDatabase::empty(server)?;
    let mut conn = database.connect()?;
    // What `run_pending_migrations` does first: create `__diesel_schema_migrations`.
    conn.setup()
        .map_err(query_error(&database, "creating diesel's migrations table"))?;
    for folder in applied {
        let _ = conn.run_migration(*folder);
    }
    Ok((database, conn))
}

/// The migrations before a point that the live stage applies (all but `[live] skip`'s).
fn applied<'f>(
    folders: &'f MigrationFolders,
    treatments: &[Treatment],
) -> Vec<&'f MigrationFolder> {
    folders
        .folders
        .iter()
        .zip(treatments)
        .filter(|(_, t)| **t != Treatment::Skipped)
        .map(|(f, _)| f)
        .collect()
}

fn query_error(
    database: &TestDatabase<'_>,
    context: &str,
) -> impl FnOnce(diesel::result::Error) -> OnlineError {
    let target = database.url().describe();
    let context = context.to_owned();
    move |source| OnlineError::Query {
        context,
        target,
        source,
    }
}

/// The tables of `catalog` that hold no row: what a migration does to them cannot be timed.
fn empty_tables(conn: &mut PgConnection, catalog: &Catalog) -> QueryResult<BTreeSet<String>> {
    #[derive(QueryableByName)]
    struct Empty {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    if catalog.tables.is_empty() {
        return Ok(BTreeSet::new());
    }
    let probes: Vec<String> = catalog
        .tables
        .keys()
        .map(|table| {
            format!(
                "SELECT {}::text AS name WHERE NOT EXISTS (SELECT FROM {})",
                plumb_pg::sql::quote_literal(table),
                plumb_pg::sql::quote_ident(table)
            )
        })
        .collect();
    let empty: Vec<Empty> = diesel::sql_query(probes.join(" UNION ALL ")).load(conn)?;
    Ok(empty.into_iter().map(|e| e.name).collect())
}

/// `schema.rs` against the database every migration built.
fn schema_rs_findings(
    settings: &Settings,
    schema_file: &plumb_check::input::settings::SchemaFile,
    catalog: &Catalog,
) -> Vec<Finding> {
    let file = source(settings, &schema_file.path);
    let at = |line: usize| {
        let offset: usize = file
            .text
            .split_inclusive('\n')
            .take(line.saturating_sub(1))
            .map(str::len)
            .sum();
        let end = offset + file.line(line).len();
        file.span(offset, end)
    };
    let help = "regenerate it: run the migrations, then `diesel print-schema` (or fix the migration that disagrees)";
    match plumb_check::input::snapshot::read_declared(settings, schema_file) {
        Err(error) => vec![Finding::new(
            f::LIVE_SCHEMA_RS_DRIFT,
            at(1),
            format!("schema.rs cannot be read: {error}"),
            help,
        )],
        // The catalog names public tables bare; print-schema writes one schema per file.
        Ok((_, declared)) => {
            crate::schema_drift::schema_rs_drift(catalog, &declared.generated, |name| {
                declared
                    .table_name(name)
                    .is_some_and(|n| declared.filter.prints(n))
            })
            .into_iter()
            .map(|(line, message)| Finding::new(f::LIVE_SCHEMA_RS_DRIFT, at(line), message, help))
            .collect()
        }
    }
}

/// What the live stage saw of one migration.
struct Observed<'a> {
    /// Every relation there was before it: what a finding may name.
    relations: &'a BTreeSet<String>,
    rewritten: &'a [String],
    long_locks: &'a [String],
    locks: &'a BTreeMap<String, Duration>,
    /// Tables that held no row before it.
    empty: &'a BTreeSet<String>,
}

/// Says, for each static finding about a lock or a rewrite in this migration, what was seen.
/// A finding is about the relations its message names (`` `t` `` or `` `t.column` ``): a
/// rewrite confirms the findings about the rewritten table, not every finding of the migration;
/// a table that held no row could not show a rewrite or a long lock, and is said to be not
/// judged.
fn confirm(
    out: &mut Vec<String>,
    predicted: &[Finding],
    folder: &MigrationFolder,
    seen: &Observed<'_>,
) {
    let marker = format!("{}/up.sql", folder.name);
    for finding in predicted
        .iter()
        .filter(|f| f.span.file.to_string_lossy().ends_with(&marker))
    {
        // `t` or `t.column`: the relations the finding is about. One that names none of the
        // database's relations (a constraint, an index made here) is about the whole
        // migration. Which relations were seen locked is sampled, so it cannot decide this.
        let mentions = |relation: &str| {
            finding.message.contains(&format!("`{relation}`"))
                || finding.message.contains(&format!("`{relation}."))
        };
        let targeted = seen
            .relations
            .iter()
            .chain(seen.locks.keys())
            .chain(seen.empty)
            .chain(seen.rewritten)
            .any(|r| mentions(r));
        let names = |relations: &[String]| -> Vec<String> {
            relations
                .iter()
                .filter(|r| !targeted || mentions(r))
                .cloned()
                .collect()
        };
        let about_empty: Vec<String> = seen.empty.iter().filter(|t| mentions(t)).cloned().collect();
        let longest = seen
            .locks
            .iter()
            .filter(|(r, _)| !targeted || mentions(r))
            .map(|(_, d)| d.as_millis())
            .max()
            .unwrap_or(0);
        let rewritten = names(seen.rewritten);
        let long_locks = names(seen.long_locks);
        let rewrite_rule = matches!(finding.code, "M002" | "M010");
        // The tracer watches ACCESS EXCLUSIVE: M004's SHARE lock is not something it sees.
        let lock_rule = matches!(
            finding.code,
            "M003" | "M005" | "M007" | "M008" | "M009" | "M014"
        );
        if !rewrite_rule && !lock_rule {
            continue;
        }
        let verdict = if rewrite_rule && !rewritten.is_empty() {
            format!("confirmed: {} rewritten", rewritten.join(", "))
        } else if lock_rule && !long_locks.is_empty() {
            format!(
                "confirmed: ACCESS EXCLUSIVE held too long on {}",
                long_locks.join(", ")
            )
        } else if !about_empty.is_empty() {
            format!(
                "not judged: {} held no rows, so a rewrite or a long lock could not show",
                about_empty.join(", ")
            )
        } else if rewrite_rule {
            "not observed: the relation it names was not rewritten".to_owned()
        } else if finding.code == "M014" {
            continue;
        } else {
            format!("not observed: ACCESS EXCLUSIVE held at most {longest} ms")
        };
        out.push(format!(
            "{} {} at {}:{}: {verdict}",
            finding.code,
            finding.name,
            finding.span.file.display(),
            finding.span.line
        ));
    }
}

/// A script as findings show it: relative to the workspace root.
fn source(settings: &Settings, path: &std::path::Path) -> Source {
    Source::new(
        shown(settings, path),
        std::fs::read_to_string(path).unwrap_or_default(),
    )
}

/// A path inside the workspace as findings show it: from the workspace's root.
fn shown(settings: &Settings, path: &std::path::Path) -> std::path::PathBuf {
    path.strip_prefix(&settings.root)
        .unwrap_or(path)
        .to_path_buf()
}

fn describe_failure(
    conn: &mut PgConnection,
    folder: &MigrationFolder,
    pass: Pass,
    error: &(dyn std::error::Error + Send + Sync + 'static),
) -> MigrationFailure {
    let mut failure = MigrationFailure {
        folder: folder.name.clone(),
        pass,
        file: folder.script(pass.script()),
        position: None,
        message: one_line(&error.to_string()),
        detail: None,
        hint: None,
        missing_extensions: missing_extensions(conn, &folder.script(pass.script())),
    };
    if let Some(ScriptError { source, .. }) = error.downcast_ref::<ScriptError>() {
        match source {
            ScriptFailure::Sql(DieselError::DatabaseError(_, info)) => {
                failure.message = one_line(info.message());
                failure.detail = info.details().map(one_line);
                failure.hint = info.hint().map(one_line);
                failure.position = position_in_file(&failure.file, info.as_ref());
            }
            other => failure.message = one_line(&other.to_string()),
        }
    }
    failure
}

/// The extensions `script` creates that the server cannot install: asked of the server's
/// catalog (`pg_available_extensions`), never read from an error's text.
fn missing_extensions(conn: &mut PgConnection, script: &std::path::Path) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Available {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    let Ok(text) = std::fs::read_to_string(script) else {
        return Vec::new();
    };
    let wanted = plumb_check::sql::parse::extensions_created(&text);
    if wanted.is_empty() {
        return wanted;
    }
    let Ok(available) = diesel::sql_query("SELECT name::text AS name FROM pg_available_extensions")
        .load::<Available>(conn)
    else {
        return Vec::new();
    };
    wanted
        .into_iter()
        .filter(|w| !available.iter().any(|a| &a.name == w))
        .collect()
}

/// PostgreSQL reports a 1-based character offset into the query string, and diesel sends the
/// whole file as that string.
fn position_in_file(
    file: &std::path::Path,
    info: &dyn DatabaseErrorInformation,
) -> Option<(usize, usize)> {
    let offset = usize::try_from(info.statement_position()?)
        .ok()?
        .checked_sub(1)?;
    let text = std::fs::read_to_string(file).ok()?;
    line_and_column(&text, offset)
}

fn line_and_column(text: &str, char_offset: usize) -> Option<(usize, usize)> {
    let mut line = 1;
    let mut column = 1;
    for (index, ch) in text.chars().enumerate() {
        if index == char_offset {
            return Some((line, column));
        }
        if ch == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::line_and_column;

    #[test]
    fn offsets_count_characters_not_bytes() {
        let text = "-- café\nSELEC 1;\n";
        assert_eq!(line_and_column(text, 0), Some((1, 1)));
        assert_eq!(line_and_column(text, 8), Some((2, 1)));
        assert_eq!(line_and_column(text, 100), None);
    }
}
