//! plumb's static checker: reads a diesel workspace, knows no database.
//!
//! The pipeline, top to bottom: read the workspace ([`input`]); parse every migration and replay
//! it statement by statement ([`sql`]), family M checking each statement against the schema
//! before it; families S and C on the head, A and D against the base ([`rules`]); suppressions
//! ([`suppress`]); the severities `plumb.toml` sets; a [`Report`].

mod changes;
pub mod error;
pub mod finding;
pub mod input;
pub mod migrations;
pub mod report;
pub mod rules;
pub mod sql;
pub mod suppress;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use error::InputError;
pub use finding::{Finding, Rule, Severity};
pub use input::settings::Settings;
pub use input::snapshot::read_snapshot;
pub use migrations::{Migration, POST_DEPLOY_MARK, read_migrations};
pub use rules::RULES;
pub use sql::replay_each;
pub use sql::schema::Schema;

use input::relative;
use input::snapshot::Snapshot;
use sql::source::Source;

/// What a check found, and the schema the migrations build.
#[derive(Debug, Clone)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// The text of every file a finding may point into, by its path as findings show it.
    pub sources: BTreeMap<PathBuf, String>,
    pub migrations: usize,
    pub statements: usize,
    pub schema: Schema,
    /// Against what base the head was compared, or why it was not: one line.
    pub base: Option<String>,
    /// What changed between base and head, layer by layer: the review artifact.
    pub changes: Vec<String>,
}

impl Report {
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// Adds findings, with the text of the files they point into (`text` of a path as findings
    /// show it, when it can be had).
    fn extend(&mut self, found: Vec<Finding>, text: impl Fn(&Path) -> Option<String>) {
        for finding in found {
            if let Some(text) = text(&finding.span.file) {
                self.sources.insert(finding.span.file.clone(), text);
            }
            self.findings.push(finding);
        }
    }
}

/// Which tree the head is compared with (families A and D).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// The merge-base with the main branch; skipped, with one line saying so, outside git.
    Default,
    /// A git revision; an input error when git does not know it.
    Rev(String),
    /// No comparison.
    None,
}

/// Reads the settings and the migrations under `root` and checks them.
pub fn check_workspace(root: &Path, pg_version: Option<u32>) -> Result<Report, InputError> {
    Ok(check_head(root, pg_version)?.0)
}

/// [`check_workspace`], then the head against `base`: API compatibility (family A) and the
/// live release against the new migrations (family D), and the changes between them.
pub fn check_workspace_against(
    root: &Path,
    pg_version: Option<u32>,
    base: &Base,
) -> Result<Report, InputError> {
    let (mut report, head, settings) = check_head(root, pg_version)?;
    let Some((rev, base_snapshot)) = read_base(root, &settings, base, &mut report)? else {
        return Ok(report);
    };
    let short: String = rev.chars().take(12).collect();
    report.base = Some(format!("base: {short}"));
    report.changes = changes::between(&base_snapshot, &head);
    let found = settings.apply_severities(rules::against_base(&base_snapshot, &head));
    report.extend(found, |file| std::fs::read_to_string(root.join(file)).ok());
    Ok(report)
}

/// The base's revision and snapshot; `None`, with the reason in `report.base`, when the default
/// base cannot be had.
fn read_base(
    root: &Path,
    settings: &Settings,
    base: &Base,
    report: &mut Report,
) -> Result<Option<(String, Snapshot)>, InputError> {
    let mut skipped = |reason: &dyn std::fmt::Display| {
        report.base = Some(format!(
            "base: none ({reason}); API and deploy checks skipped"
        ));
        Ok(None)
    };
    let rev = match base {
        Base::None => return Ok(None),
        Base::Rev(rev) => rev.clone(),
        Base::Default => match input::git::default_base(root) {
            Ok(rev) => rev,
            Err(reason) => return skipped(&reason),
        },
    };
    let invalid = |reason: String| InputError::Invalid {
        path: root.to_path_buf(),
        reason,
    };
    let scratch =
        tempfile::tempdir().map_err(|e| InputError::io(Path::new("a temporary directory"), e))?;
    let base_root = match input::git::extract(root, &rev, scratch.path()) {
        Ok(dir) => dir,
        Err(input::git::BaseError::Unavailable(reason)) if *base == Base::Default => {
            return skipped(&reason);
        }
        Err(error) => return Err(invalid(error.to_string())),
    };
    let base_settings = Settings::load(&base_root).unwrap_or_else(|_| Settings {
        root: base_root.clone(),
        migrations_dir: base_root.join(relative(root, &settings.migrations_dir)),
        ..settings.clone()
    });
    let snapshot = if base_settings.migrations_dir.is_dir() {
        read_snapshot(&base_settings).map_err(|e| invalid(format!("the base {rev}: {e}")))?
    } else {
        Snapshot::default()
    };
    Ok(Some((rev, snapshot)))
}

/// Families M, S and C on the tree at `root`, with the snapshot and settings they read: each
/// file is read and each migration parsed once.
fn check_head(
    root: &Path,
    pg_version: Option<u32>,
) -> Result<(Report, Snapshot, Settings), InputError> {
    let mut settings = Settings::load(root)?;
    if let Some(version) = pg_version {
        settings.pg_version = version;
    }
    let mut snapshot = input::snapshot::read_files(&settings)?;
    let (mut report, replayed) = check_and_replay(&snapshot.migrations, &settings);
    snapshot.replayed = replayed;
    check_backend(&settings, &snapshot, &mut report)?;
    Ok((report, snapshot, settings))
}

/// Families S and C: `schema.rs`, the model structs and the registry against the schema the
/// migrations build, less what Rust comments suppress.
fn check_backend(
    settings: &Settings,
    snapshot: &Snapshot,
    report: &mut Report,
) -> Result<(), InputError> {
    let Some(all) = &snapshot.schema_rs else {
        return Ok(());
    };
    let registry = input::registry::read_registry(&settings.root.join("plumb.toml"))?;
    let found = rules::backend(&report.schema, all, snapshot, &registry);
    let mut rust_sources = BTreeMap::new();
    for declared in &snapshot.declared {
        rust_sources.insert(declared.file.clone(), declared.text.clone());
    }
    for model in &snapshot.models {
        if !rust_sources.contains_key(&model.file)
            && let Ok(source) = std::fs::read_to_string(settings.root.join(&model.file))
        {
            rust_sources.insert(model.file.clone(), source);
        }
    }
    let found = settings.apply_severities(suppress::rust(found, &rust_sources));
    report.extend(found, |file| match rust_sources.get(file) {
        Some(text) => Some(text.clone()),
        None => std::fs::read_to_string(settings.root.join(file)).ok(),
    });
    Ok(())
}

/// Checks migrations, in the order given, against the schema each one finds.
pub fn check_migrations(migrations: &[Migration], settings: &Settings) -> Report {
    check_and_replay(migrations, settings).0
}

/// [`check_migrations`], and the schema after each migration (what [`replay_each`] gives,
/// without parsing the migrations a second time).
fn check_and_replay(migrations: &[Migration], settings: &Settings) -> (Report, Vec<Schema>) {
    let mut replayed = Vec::with_capacity(migrations.len());
    let mut schema = Schema::default();
    let mut findings = Vec::new();
    let mut statements = 0;
    let mut sources = BTreeMap::new();
    for (migration, parsed) in migrations.iter().zip(sql::parse::parse_all(migrations)) {
        statements += parsed.statements.len();
        let checked = rules::m::check_migration(
            migration,
            &parsed,
            &mut schema,
            settings.pg_version,
            &settings.lock,
        );
        replayed.push(schema.clone());
        let source = Source::new(
            relative(&settings.root, &migration.up_path()),
            migration.up.clone(),
        );
        let mut found = suppress::sql(checked, &source);
        found.sort_by_key(|f| (f.span.line, f.span.column));
        let found = rules::m::lock_timeout_missing::once_per_file(found);
        if settings.checks(migration) && !found.is_empty() {
            sources.insert(source.path, migration.up.clone());
            findings.extend(found);
        }
    }
    let report = Report {
        findings: settings.apply_severities(findings),
        sources,
        migrations: migrations.len(),
        statements,
        schema,
        base: None,
        changes: Vec::new(),
    };
    (report, replayed)
}
