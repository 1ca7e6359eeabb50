//! The stages of `check-contract`, each giving one summary line, its findings and its exit
//! code: `schemas` (the committed API schemas are what the code generates), `static` (what
//! `plumb check` does) and `live` (what `plumb live` does).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use plumb_check::report::{human_changes, human_findings, summary_line};
use plumb_check::{Base, Finding, Severity};
use plumb_live::LiveOptions;
use plumb_pg::PgServer;

use crate::progress::LiveDisplay;
use crate::schemas::{self, Generated};

/// Clean.
pub const CLEAN: u8 = 0;
/// A check found a problem.
pub const FAILED: u8 = 1;
/// Something could not be read or reached, so the checks could not run.
pub const UNREADABLE: u8 = 2;

/// What one stage found and how it ended.
#[derive(Debug, Default)]
pub struct Stage {
    pub name: &'static str,
    pub exit: u8,
    /// `static: ok, ...`: the stage's one line.
    pub line: String,
    pub findings: Vec<Finding>,
    /// What suppressions silenced, for the report's list of them.
    pub suppressed: Vec<plumb_check::suppress::Suppressed>,
    /// The text of the files findings point into, for the human format.
    pub sources: BTreeMap<PathBuf, Arc<str>>,
    /// What the human format writes to stdout before the line (changes, confirmations).
    pub detail: String,
    /// What the human format writes to stderr (findings rustc-style, notes, errors).
    pub diagnostics: String,
    pub migrations: usize,
    pub statements: usize,
}

/// Everything `plumb check` does: the migrations (family M), schema.rs and the models against
/// them (S, C), and the head against the base (A, D) with what changed since.
pub fn static_stage(root: &Path, base: &Base) -> Stage {
    match plumb_check::check_workspace_against(root, None, base) {
        Ok(report) => {
            let failed = report.count(Severity::Error) > 0;
            Stage {
                name: "static",
                exit: if failed { FAILED } else { CLEAN },
                line: format!(
                    "static: {}, {}",
                    if failed { "failed" } else { "ok" },
                    summary_line(&report)
                ),
                detail: human_changes(&report),
                diagnostics: human_findings(&report, stderr_colour()),
                migrations: report.migrations,
                statements: report.statements,
                findings: report.findings,
                suppressed: report.suppressed,
                sources: report.sources,
            }
        }
        Err(error) => could_not_run("static", format!("error: {error}\n")),
    }
}

/// New migrations apply, revert and apply again on a fresh database (`DATABASE_URL`, else a
/// throwaway cluster), after the migrations the base has, applied as history.
pub fn live_stage(root: &Path, options: LiveOptions, base: &Base) -> Stage {
    let mut display = LiveDisplay::new();
    // Ctrl-C drops the stage's database and removes its cluster before the process ends.
    plumb_pg::clean_up_on_interrupt();
    // A throwaway cluster of the version production runs, when this machine has it.
    let production = plumb_check::Settings::load(root)
        .map_or(plumb_check::input::settings::DEFAULT_PG_VERSION, |s| {
            s.pg_version
        });
    let outcome = PgServer::from_env_preferring(production)
        .map_err(plumb_live::StageError::from)
        .and_then(|server| {
            plumb_live::stage::run(root, &server, options, base, &mut |step| {
                display.step(step);
            })
        });
    display.finish();
    plumb_pg::unless_interrupted();
    match outcome {
        Ok(stage) => {
            let mut findings = stage.verification.findings.clone();
            let mut sources = BTreeMap::new();
            if let Some(failure) = stage.failure().filter(|_| stage.failure_severity.is_some()) {
                let text = std::fs::read_to_string(root.join(&failure.file)).unwrap_or_default();
                let place =
                    plumb_check::sql::source::Source::new(failure.file.clone(), text.clone());
                let (line, column) = failure.position.unwrap_or((1, 1));
                let offset = offset_of(&text, line, column);
                sources.insert(failure.file.clone(), Arc::from(text.as_str()));
                let mut message = format!(
                    "{} {} failed: {}",
                    failure.pass, failure.folder, failure.message
                );
                for (what, text) in [("detail", &failure.detail), ("hint", &failure.hint)] {
                    if let Some(text) = text {
                        message.push_str(&format!("; {what}: {text}"));
                    }
                }
                let mut finding = Finding::new(
                    plumb_check::rules::l::LIVE_MIGRATION_FAILED,
                    place.span(offset, offset),
                    message,
                    "fix the SQL so that PostgreSQL accepts it on a fresh database",
                );
                finding.severity = stage.failure_level();
                findings.push(finding);
            }
            let mut detail = String::new();
            for line in stage.confirmations() {
                detail.push_str(&format!("  {line}\n"));
            }
            Stage {
                name: "live",
                exit: stage.exit_code(),
                line: stage.summary_line(),
                diagnostics: stage.render_findings(stderr_colour()),
                detail,
                findings,
                suppressed: stage.suppressed.clone(),
                sources,
                migrations: stage.verification.migrations,
                statements: 0,
            }
        }
        Err(error) => could_not_run("live", format!("error: {error}\n")),
    }
}

/// The committed API schemas (`[check] api-schemas`) against what `generated` gives; when it
/// gives nothing, `[schemas] command` is run; without one the stage is skipped.
pub fn schemas_stage(
    root: &Path,
    generated: Option<&dyn Fn() -> anyhow::Result<Generated>>,
    fix: Option<&str>,
) -> Stage {
    let settings = match plumb_check::Settings::load(root) {
        Ok(settings) => settings,
        Err(error) => return could_not_run("schemas", format!("error: {error}\n")),
    };
    let wanted = match (generated, &settings.schemas_command) {
        (Some(generate), _) => generate(),
        (None, Some(command)) => schemas::run_generator(root, command),
        (None, None) => {
            return Stage {
                name: "schemas",
                line: "schemas: skipped, no `[schemas] command` in plumb.toml to generate the API schemas".to_owned(),
                ..Stage::default()
            };
        }
    };
    let dir = &settings.api_dir;
    let shown = dir
        .strip_prefix(root)
        .unwrap_or(dir)
        .to_string_lossy()
        .replace('\\', "/");
    let fix = fix.map(str::to_owned).unwrap_or_else(|| {
        format!(
            "run `[schemas] command` with PLUMB_SCHEMAS_OUT={shown}, review the change and commit it"
        )
    });
    match wanted.and_then(|wanted| schemas::compare(dir, &wanted)) {
        Ok(drift) if drift.is_clean() => Stage {
            name: "schemas",
            line: format!("schemas: ok, {} files up to date", drift.up_to_date),
            ..Stage::default()
        },
        Ok(drift) => {
            // `[rules] api-schema-stale` sets its severity, as for every rule.
            let findings = settings.apply_severities(drift.findings(&shown, &fix));
            let failed = findings.iter().any(|f| f.severity == Severity::Error);
            Stage {
                name: "schemas",
                exit: if failed { FAILED } else { CLEAN },
                line: format!(
                    "schemas: {}, {} files out of date",
                    if failed { "failed" } else { "ok" },
                    drift.out_of_date()
                ),
                diagnostics: format!("{}\n", drift.report(&shown, &fix)),
                findings,
                ..Stage::default()
            }
        }
        Err(error) => could_not_run("schemas", format!("error: {error:#}\n")),
    }
}

fn could_not_run(name: &'static str, diagnostics: String) -> Stage {
    Stage {
        name,
        exit: UNREADABLE,
        line: format!("{name}: could not run"),
        diagnostics,
        ..Stage::default()
    }
}

/// The byte offset of a 1-based line and column (in characters).
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let within: usize = text[start.min(text.len())..]
        .chars()
        .take(column.saturating_sub(1))
        .map(char::len_utf8)
        .sum();
    (start + within).min(text.len())
}

/// Writes a stage as the human format does: its details and line to stdout, its findings to
/// stderr.
pub fn print_human(stage: &Stage) {
    eprint!("{}", stage.diagnostics);
    print!("{}", stage.detail);
    println!("{}", stage.line);
}

pub(crate) fn stderr_colour() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// How the live stage observes migrations.
#[derive(Debug, Clone, Args)]
pub struct LiveArgs {
    /// Rows the live stage gives every table that exists before a new migration.
    #[arg(long, value_name = "N", default_value_t = 20_000)]
    pub seed_rows: u32,
    /// ACCESS EXCLUSIVE held longer than this on an existing table is a finding.
    #[arg(long, value_name = "MS", default_value_t = 100)]
    pub lock_threshold_ms: u64,
}

impl LiveArgs {
    pub fn options(&self) -> LiveOptions {
        LiveOptions {
            seed_rows: self.seed_rows,
            lock_threshold: Duration::from_millis(self.lock_threshold_ms),
        }
    }
}

/// Which base the head is compared with: what the base has is history to the live stage.
#[derive(Debug, Clone, Args)]
pub struct BaseArgs {
    /// Compare with this git revision: its migrations are history (applied, not judged), and
    /// families A and D compare with it. Default: the merge-base with the main branch.
    #[arg(long, value_name = "REV", conflicts_with = "no_base")]
    pub base: Option<String>,
    /// No base: every migration is judged, and the head is checked alone.
    #[arg(long)]
    pub no_base: bool,
}

impl BaseArgs {
    pub fn base(&self) -> Base {
        match (&self.base, self.no_base) {
            (_, true) => Base::None,
            (Some(rev), false) => Base::Rev(rev.clone()),
            (None, false) => Base::Default,
        }
    }
}

/// `plumb live [PATH]`: the live stage alone.
#[derive(Debug, Args)]
pub struct LiveCommand {
    /// The workspace (where plumb.toml or diesel.toml is); default: the current directory.
    path: Option<PathBuf>,
    #[command(flatten)]
    base: BaseArgs,
    #[command(flatten)]
    live: LiveArgs,
}

pub fn run_live(command: LiveCommand) -> ExitCode {
    let root = command.path.unwrap_or_else(|| PathBuf::from("."));
    let stage = live_stage(&root, command.live.options(), &command.base.base());
    print_human(&stage);
    ExitCode::from(stage.exit)
}
