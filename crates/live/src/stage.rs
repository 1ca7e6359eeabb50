//! The live stage of one workspace, as a user sees it: the findings rustc-style, one summary
//! line, and an exit code (0 clean, 1 a check failed, 2 the stage could not run).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use plumb_check::{Report, Settings, Severity};
use plumb_pg::{MigrationFolders, PgServer};

use crate::verify::{LiveOptions, MigrationFailure, Verification, verify_migrations};

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
    root: PathBuf,
}

/// Runs the live stage on the workspace at `root` against `server`.
pub fn run(root: &Path, server: &PgServer, options: LiveOptions) -> Result<LiveStage, StageError> {
    let started = Instant::now();
    let settings = Settings::load(root)?;
    let folders = MigrationFolders::read(&settings.migrations_dir)?;
    let verification = verify_migrations(server, &folders, &settings, options)?;
    Ok(LiveStage {
        verification,
        server: server.describe(),
        elapsed: started.elapsed(),
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

    /// 0 clean (warnings allowed), 1 a migration failed or an error-level finding.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.verification.failure.is_some() || self.errors() > 0)
    }

    /// The migration PostgreSQL refused, with its file shown relative to the workspace.
    pub fn failure(&self) -> Option<MigrationFailure> {
        self.verification.failure.clone().map(|failure| {
            let file = failure
                .file
                .strip_prefix(&self.root)
                .unwrap_or(&failure.file)
                .to_path_buf();
            MigrationFailure { file, ..failure }
        })
    }

    /// What goes to stderr: notes on what could not be observed as intended, the findings
    /// rustc-style, and the failure.
    pub fn render_findings(&self, colour: bool) -> String {
        let mut out = String::new();
        for (table, why) in &self.verification.unseeded {
            out.push_str(&format!("note: live stage: {table} {why}\n"));
        }
        if !self.verification.findings.is_empty() {
            let report = Report {
                findings: self.verification.findings.clone(),
                sources: Default::default(),
                migrations: self.verification.migrations,
                ..Report::default()
            };
            out.push_str(&plumb_check::report::human_findings(&report, colour));
        }
        if let Some(failure) = self.failure() {
            out.push_str(&format!("error[live-migration-failed]: {failure}\n"));
        }
        out
    }

    /// Each static finding about a lock or a rewrite, confirmed or not by what was observed.
    pub fn confirmations(&self) -> &[String] {
        &self.verification.confirmations
    }

    /// The stage's one line: `live: ok, ...` or `live: failed, ...`.
    pub fn summary_line(&self) -> String {
        let elapsed = self.elapsed.as_secs_f64();
        let errors = self.errors();
        let warnings = self.verification.findings.len() - errors;
        if self.verification.failure.is_some() {
            format!(
                "live: failed, a migration does not apply or revert on a fresh database ({elapsed:.1}s)"
            )
        } else if errors > 0 {
            format!(
                "live: failed, {errors} errors, {warnings} warnings on a fresh database ({}, {elapsed:.1}s)",
                self.server
            )
        } else {
            format!(
                "live: ok, {} migrations apply, revert to the same catalog and apply again on a fresh database, {warnings} warnings ({}, {elapsed:.1}s)",
                self.verification.migrations, self.server
            )
        }
    }
}
