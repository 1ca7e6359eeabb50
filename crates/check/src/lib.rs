//! plumb's static checker: reads a diesel workspace, knows no database.
//!
//! Family M: every migration's `up.sql` is parsed (squawk-syntax, error-tolerant) and its
//! statements checked in diesel's order against the schema the earlier migrations left, then
//! replayed into it. See `docs/rules/` for each rule.

pub mod api;
pub mod compat;
pub mod consistency;
pub mod error;
pub mod finding;
pub mod git;
pub mod migrations;
pub mod models;
pub mod registry;
pub(crate) mod replay;
pub mod report;
mod rules;
mod rust_allow;
pub mod schema;
pub mod schema_rs;
pub mod settings;
pub mod source;
pub mod syntax;

use std::path::Path;

pub use error::InputError;
pub use finding::{Finding, RULES, Rule, Severity};
pub use migrations::{Migration, POST_DEPLOY_MARK, read_migrations};
pub use schema::Schema;
pub use settings::Settings;

use crate::finding as f;
use crate::source::Source;

/// What a check found, and the schema the migrations build.
#[derive(Debug, Clone)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// The text of every file a finding may point into, by its path as findings show it.
    pub sources: std::collections::BTreeMap<std::path::PathBuf, String>,
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

/// [`check_workspace`], then the head against `base`: API compatibility (family A) and the
/// live release against the new migrations (family D), and the changes between them.
pub fn check_workspace_against(
    root: &Path,
    pg_version: Option<u32>,
    base: &Base,
) -> Result<Report, InputError> {
    let (mut report, head, settings) = check_head(root, pg_version)?;
    let rev = match base {
        Base::None => return Ok(report),
        Base::Rev(rev) => rev.clone(),
        Base::Default => match git::default_base(root) {
            Ok(rev) => rev,
            Err(reason) => {
                report.base = Some(format!(
                    "base: none ({reason}); API and deploy checks skipped"
                ));
                return Ok(report);
            }
        },
    };
    let invalid = |reason: String| InputError::Invalid {
        path: root.to_path_buf(),
        reason,
    };
    let scratch =
        tempfile::tempdir().map_err(|e| InputError::io(Path::new("a temporary directory"), e))?;
    let base_root = match git::extract(root, &rev, scratch.path()) {
        Ok(dir) => dir,
        Err(git::BaseError::Unavailable(reason)) if *base == Base::Default => {
            report.base = Some(format!(
                "base: none ({reason}); API and deploy checks skipped"
            ));
            return Ok(report);
        }
        Err(error) => return Err(invalid(error.to_string())),
    };
    let base_settings = Settings::load(&base_root).unwrap_or_else(|_| Settings {
        root: base_root.clone(),
        migrations_dir: base_root.join(relative(root, &settings.migrations_dir)),
        ..settings.clone()
    });
    let base_snapshot = if base_settings.migrations_dir.is_dir() {
        read_snapshot(&base_settings).map_err(|e| invalid(format!("the base {rev}: {e}")))?
    } else {
        compat::Snapshot::default()
    };
    let short: String = rev.chars().take(12).collect();
    report.base = Some(format!("base: {short}"));
    report.changes = compat::changes(&base_snapshot, &head);
    let found = settings.apply_severities(compat::check(&base_snapshot, &head));
    for finding in found {
        if let Ok(text) = std::fs::read_to_string(root.join(&finding.span.file)) {
            report.sources.insert(finding.span.file.clone(), text);
        }
        report.findings.push(finding);
    }
    Ok(report)
}

/// What the checker reads of one tree (see [`compat::Snapshot`]).
pub fn read_snapshot(settings: &Settings) -> Result<compat::Snapshot, InputError> {
    let (mut snapshot, _) = read_files(settings)?;
    snapshot.replayed = replay_each(&snapshot.migrations);
    Ok(snapshot)
}

/// A tree's files, read and parsed but not replayed, and the text of its `schema.rs`.
fn read_files(settings: &Settings) -> Result<(compat::Snapshot, Option<String>), InputError> {
    let migrations = read_migrations(&settings.migrations_dir)?;
    let (schema_rs, schema_rs_text) = match settings.schema_rs.as_deref().filter(|p| p.is_file()) {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| InputError::io(path, e))?;
            let declared = schema_rs::parse(&text).map_err(|e| InputError::Invalid {
                path: path.to_path_buf(),
                reason: format!("line {}, column {}: {}", e.line, e.column, e.message),
            })?;
            (Some(declared), Some(text))
        }
        None => (None, None),
    };
    let (models, errors) = match settings.models_dir.as_deref() {
        Some(dir) => models::read_models(&settings.root, dir),
        None => Default::default(),
    };
    if let Some(error) = errors.first() {
        return Err(InputError::Invalid {
            path: settings.root.join(&error.file),
            reason: format!("line {}: {}", error.line, error.message),
        });
    }
    let api = api::read_api(&settings.root, &settings.api_dir)?;
    let snapshot = compat::Snapshot {
        migrations,
        replayed: Vec::new(),
        schema_rs,
        models,
        api,
        migrations_dir: relative(&settings.root, &settings.migrations_dir),
    };
    Ok((snapshot, schema_rs_text))
}

/// Reads the settings and the migrations under `root` and checks them.
pub fn check_workspace(root: &Path, pg_version: Option<u32>) -> Result<Report, InputError> {
    Ok(check_head(root, pg_version)?.0)
}

/// Families M, S and C on the tree at `root`, with the snapshot and settings they read: each
/// file is read and each migration parsed once.
fn check_head(
    root: &Path,
    pg_version: Option<u32>,
) -> Result<(Report, compat::Snapshot, Settings), InputError> {
    let mut settings = Settings::load(root)?;
    if let Some(version) = pg_version {
        settings.pg_version = version;
    }
    let (mut snapshot, schema_rs_text) = read_files(&settings)?;
    let (mut report, replayed) = check_and_replay(&snapshot.migrations, &settings);
    snapshot.replayed = replayed;
    if let Some(text) = schema_rs_text {
        check_backend(&settings, &snapshot, text, &mut report)?;
    }
    Ok((report, snapshot, settings))
}

/// Family S: `schema.rs` and the model structs against the schema the migrations build; and
/// family C when there is a registry.
fn check_backend(
    settings: &Settings,
    snapshot: &compat::Snapshot,
    schema_rs_text: String,
    report: &mut Report,
) -> Result<(), InputError> {
    let (Some(path), Some(declared)) = (settings.schema_rs.as_deref(), &snapshot.schema_rs) else {
        return Ok(());
    };
    let shown = relative(&settings.root, path);
    let mut found = consistency::check(&report.schema, Some((&shown, declared)), &snapshot.models);
    let registry = registry::read_registry(&settings.root.join("plumb.toml"))?;
    if registry.present {
        found.extend(registry::check(
            &registry,
            Path::new("plumb.toml"),
            &report.schema,
            &snapshot.migrations,
            &snapshot.replayed,
            &snapshot.migrations_dir,
            &snapshot.api,
        ));
    }
    let mut sources = std::collections::BTreeMap::new();
    sources.insert(shown.clone(), schema_rs_text);
    for model in &snapshot.models {
        if !sources.contains_key(&model.file)
            && let Ok(source) = std::fs::read_to_string(settings.root.join(&model.file))
        {
            sources.insert(model.file.clone(), source);
        }
    }
    for finding in settings.apply_severities(rust_allow::apply(found, &sources)) {
        let text = match sources.get(&finding.span.file) {
            Some(text) => Some(text.clone()),
            None => std::fs::read_to_string(settings.root.join(&finding.span.file)).ok(),
        };
        if let Some(text) = text {
            report.sources.insert(finding.span.file.clone(), text);
        }
        report.findings.push(finding);
    }
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
    let mut sources = std::collections::BTreeMap::new();
    for (migration, parsed) in migrations.iter().zip(parse_all(migrations)) {
        let source = Source::new(
            relative(&settings.root, &migration.up_path()),
            migration.up.clone(),
        );
        statements += parsed.statements.len();
        let checked = !settings.is_excluded(&migration.up_path())
            && settings
                .skip_before
                .as_deref()
                .is_none_or(|before| migration.version.as_str() >= before);
        let mut state =
            rules::MigrationState::new(migration, parsed.statements.len(), settings.pg_version);
        let mut local = Vec::new();
        for range in first_error_per_statement(&migration.up, &parsed.errors) {
            local.push(Finding::new(
                f::SYNTAX_ERROR,
                source.span(range.0.0, range.0.1),
                format!("PostgreSQL would reject this statement: {}", range.1),
                "fix the SQL; the other statements of the file are still checked",
            ));
        }
        for statement in &parsed.statements {
            let hits = state.check(&schema, statement);
            let mut used = vec![false; statement.allows.len()];
            for hit in hits {
                let allowed = statement.allows.iter().position(|a| {
                    !a.reason.is_empty()
                        && f::rule(&a.rule).is_some_and(|r| r.code == hit.rule.code)
                });
                match allowed {
                    Some(index) => used[index] = true,
                    None => local.push(Finding::new(
                        hit.rule,
                        source.span(hit.range.0, hit.range.1),
                        hit.message,
                        hit.help,
                    )),
                }
            }
            for (allow, used) in statement.allows.iter().zip(used) {
                let span = source.span(allow.range.0, allow.range.1);
                if f::rule(&allow.rule).is_none() {
                    local.push(Finding::new(f::INVALID_SUPPRESSION, span, format!("`{}` is not a rule name or code", allow.rule), "write `-- plumb: allow <rule-name-or-code> <reason>`; `plumb check --list-rules` lists the rules"));
                } else if allow.reason.is_empty() {
                    local.push(Finding::new(f::INVALID_SUPPRESSION, span, format!("the suppression of `{}` gives no reason", allow.rule), "say why the statement is safe after the rule's name, so that reviewers can judge it"));
                } else if !used {
                    local.push(Finding::new(
                        f::UNUSED_SUPPRESSION,
                        span,
                        format!(
                            "`{}` does not fire on the statement after this suppression",
                            allow.rule
                        ),
                        "remove the suppression",
                    ));
                }
            }
            replay::apply(&mut schema, &statement.kind);
        }
        if migration
            .down
            .as_deref()
            .is_none_or(|d| d.trim().is_empty())
        {
            local.push(Finding::new(
                f::DOWN_MISSING,
                source.span(0, 0),
                format!(
                    "{} has no down.sql (or an empty one): the release cannot be rolled back",
                    migration.name
                ),
                "write a down.sql that restores exactly the schema this up.sql changed",
            ));
        }
        local.sort_by_key(|a| (a.span.line, a.span.column));
        if checked && !local.is_empty() {
            sources.insert(source.path.clone(), migration.up.clone());
            findings.extend(local);
        }
        replayed.push(schema.clone());
    }
    let findings = settings.apply_severities(findings);
    let report = Report {
        findings,
        sources,
        migrations: migrations.len(),
        statements,
        schema,
        base: None,
        changes: Vec::new(),
    };
    (report, replayed)
}

/// The schema after each migration, as the static replay builds it (for comparison with what a
/// database reports).
pub fn replay_each(migrations: &[Migration]) -> Vec<Schema> {
    let mut schema = Schema::default();
    parse_all(migrations)
        .into_iter()
        .map(|parsed| {
            for statement in &parsed.statements {
                replay::apply(&mut schema, &statement.kind);
            }
            schema.clone()
        })
        .collect()
}

/// Parses every `up.sql` on all cores: files are independent; only the replay is sequential.
fn parse_all(migrations: &[Migration]) -> Vec<syntax::Parsed> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(migrations.len().max(1));
    let chunk = migrations.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = migrations
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|m| parse_guarded(&m.up))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// The parser asserts on inputs it cannot handle (a multi-megabyte statement can exhaust its
/// step budget): such a file becomes one syntax error, never a panic or a lost migration.
fn parse_guarded(text: &str) -> syntax::Parsed {
    std::panic::catch_unwind(|| syntax::parse(text)).unwrap_or_else(|_| syntax::Parsed {
        statements: Vec::new(),
        errors: vec![((0, 0), "the SQL parser gave up on this file".to_owned())],
    })
}

/// The parser reports every token it cannot place; people need the first of each statement.
fn first_error_per_statement<'e>(
    text: &str,
    errors: &'e [(syntax::Range, String)],
) -> Vec<&'e (syntax::Range, String)> {
    let mut kept: Vec<&(syntax::Range, String)> = Vec::new();
    for error in errors {
        let after_last = kept.last().is_none_or(|last| {
            text.get(last.0.0..error.0.0)
                .is_some_and(|between| between.contains(';'))
        });
        if after_last {
            kept.push(error);
        }
    }
    kept
}

fn relative(root: &Path, path: &Path) -> std::path::PathBuf {
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}
