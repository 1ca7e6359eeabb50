//! `plumb.toml`'s `[check]`, `[rules]` and `[lock]`, or diesel's conventions when there is
//! none.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::error::InputError;
use crate::finding::{Finding, Severity, rule};
use crate::migrations::Migration;

/// The PostgreSQL major version rules assume when none is configured.
pub const DEFAULT_PG_VERSION: u32 = 15;

#[derive(Debug, Clone)]
pub struct Settings {
    pub root: PathBuf,
    pub migrations_dir: PathBuf,
    /// diesel's schema files: `[check] schema-rs`, else every `[print_schema]` section of
    /// `diesel.toml` that names a `file`.
    pub schema_files: Vec<SchemaFile>,
    /// Where the diesel model structs are: `[check] models`, else the directory of schema.rs.
    pub models_dir: Option<PathBuf>,
    /// Further folders of code read like the models folder (`[check] code`): their structs
    /// and their insert and update calls.
    pub code_dirs: Vec<PathBuf>,
    /// The committed API schemas, `<version>/<Type>.<direction>.json`: `[check] api-schemas`,
    /// else `schemas/`.
    pub api_dir: PathBuf,
    pub pg_version: u32,
    /// Paths (relative to the root, `*` matching any run of characters, `/` included) not
    /// checked; their migrations are still replayed. A pattern naming a folder covers what is
    /// inside it.
    pub exclude: Vec<String>,
    pub(crate) excluded: GlobSet,
    /// Migrations of versions before this are replayed but not checked.
    pub skip_before: Option<String>,
    /// Per rule (by code): a new severity, or `None` for off.
    pub severities: BTreeMap<&'static str, Option<Severity>>,
    /// How DDL waits for its locks: what the runner does and what the checker holds files to.
    pub lock: LockSettings,
    /// `[live] skip`: migrations (by version or folder name) the live stage does not apply,
    /// such as one that needs what no test server has.
    pub live_skip: Vec<String>,
    /// `[schemas] command`: writes the API schemas into the directory `$PLUMB_SCHEMAS_OUT`;
    /// `check-contract` compares what it writes with `api_dir`.
    pub schemas_command: Option<String>,
}

/// One schema file and how `diesel print-schema` makes it.
#[derive(Debug, Clone)]
pub struct SchemaFile {
    pub path: PathBuf,
    /// `patch_file`: applied to print-schema's output to give the committed file.
    pub patch_file: Option<PathBuf>,
    /// `filter`: the tables print-schema writes into this file.
    pub filter: TableFilter,
    /// `schema`: the database schema it prints, `public` by default.
    pub schema: String,
    /// `column_sorting = "name"`: columns in name order, not the table's.
    pub columns_by_name: bool,
    /// `with_docs`: print-schema writes its own doc comment on a column without a database
    /// comment (`true`, or `"database-comments-fallback-to-auto-generated-doc-comment"`).
    pub generated_docs: bool,
}

/// diesel's `filter = { only_tables = [...] }` or `{ except_tables = [...] }`: regular
/// expressions matched (unanchored, as diesel does) against a table's SQL name.
#[derive(Debug, Clone, Default)]
pub struct TableFilter {
    pub only: Vec<regex::Regex>,
    pub except: Vec<regex::Regex>,
}

impl TableFilter {
    pub fn prints(&self, table: &str) -> bool {
        (self.only.is_empty() || self.only.iter().any(|r| r.is_match(table)))
            && !self.except.iter().any(|r| r.is_match(table))
    }
}

/// `[lock]`: the one lock policy. `plumb migrate`, `plumb not-null` and backfills wait for
/// locks by it; the checker holds migration files to it. The defaults were chosen by the
/// lock-queue benchmark (docs/benchmarks/lock-queue.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockSettings {
    /// Who applies the migrations. `plumb migrate` sets `lock_timeout` on its own connection,
    /// so a file it applies needs none.
    pub applied_by: AppliedBy,
    /// The longest one attempt waits for a lock: the longest the queue behind it can grow.
    pub timeout_ms: u64,
    /// Attempts per step, the first included.
    pub attempts: u32,
    /// Time per step, attempts and pauses included.
    pub budget_s: u64,
    /// The pause after the first timed-out attempt; it doubles up to `max_backoff_ms`, each
    /// drawn between half of it and all of it.
    pub first_backoff_ms: u64,
    pub max_backoff_ms: u64,
    /// The pause after a timed-out attempt is at least this many times `timeout_ms`: the
    /// requests that queued behind the attempt are served before the next one queues more.
    pub drain_ratio: u32,
    /// The longest a statement may run once it has its locks.
    pub statement_timeout_s: u64,
    /// The `lock_timeout` of a migration that builds indexes CONCURRENTLY: such a wait holds
    /// only SHARE UPDATE EXCLUSIVE and queues nobody's reads or writes.
    pub concurrent_timeout_s: u64,
}

impl Default for LockSettings {
    fn default() -> Self {
        Self {
            applied_by: AppliedBy::Other,
            timeout_ms: 20,
            attempts: 60,
            budget_s: 120,
            first_backoff_ms: 200,
            max_backoff_ms: 2_000,
            drain_ratio: 3,
            statement_timeout_s: 30 * 60,
            concurrent_timeout_s: 60,
        }
    }
}

/// `[lock] applied-by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AppliedBy {
    /// `plumb migrate`: it sets `lock_timeout` on its connection and keeps it in force.
    Plumb,
    /// diesel or another tool: each file must set its own `lock_timeout`.
    Other,
}

impl AppliedBy {
    pub fn is_plumb(self) -> bool {
        self == AppliedBy::Plumb
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlumbToml {
    check: Option<CheckSection>,
    lock: Option<LockSection>,
    rules: Option<BTreeMap<String, String>>,
    #[serde(default)]
    columns: toml::Table,
    live: Option<LiveSection>,
    schemas: Option<SchemasSection>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct LiveSection {
    #[serde(default)]
    skip: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct SchemasSection {
    command: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct CheckSection {
    migrations: Option<PathBuf>,
    schema_rs: Option<PathBuf>,
    models: Option<PathBuf>,
    code: Option<Vec<PathBuf>>,
    api_schemas: Option<PathBuf>,
    pg_version: Option<u32>,
    exclude: Option<Vec<String>>,
    skip_before: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct LockSection {
    applied_by: Option<AppliedBy>,
    timeout_ms: Option<u64>,
    attempts: Option<u32>,
    budget_s: Option<u64>,
    first_backoff_ms: Option<u64>,
    max_backoff_ms: Option<u64>,
    drain_ratio: Option<u32>,
    statement_timeout_s: Option<u64>,
    concurrent_timeout_s: Option<u64>,
}

impl LockSection {
    /// The section over the defaults; a value that would run without a timeout, or never
    /// try, is refused with the key that says it.
    fn settings(self) -> Result<LockSettings, String> {
        let default = LockSettings::default();
        let settings = LockSettings {
            applied_by: self.applied_by.unwrap_or(default.applied_by),
            timeout_ms: self.timeout_ms.unwrap_or(default.timeout_ms),
            attempts: self.attempts.unwrap_or(default.attempts),
            budget_s: self.budget_s.unwrap_or(default.budget_s),
            first_backoff_ms: self.first_backoff_ms.unwrap_or(default.first_backoff_ms),
            max_backoff_ms: self.max_backoff_ms.unwrap_or(default.max_backoff_ms),
            drain_ratio: self.drain_ratio.unwrap_or(default.drain_ratio),
            statement_timeout_s: self
                .statement_timeout_s
                .unwrap_or(default.statement_timeout_s),
            concurrent_timeout_s: self
                .concurrent_timeout_s
                .unwrap_or(default.concurrent_timeout_s),
        };
        let zero = [
            ("timeout-ms", settings.timeout_ms),
            ("attempts", u64::from(settings.attempts)),
            ("budget-s", settings.budget_s),
            ("statement-timeout-s", settings.statement_timeout_s),
            ("concurrent-timeout-s", settings.concurrent_timeout_s),
        ]
        .into_iter()
        .find(|(_, value)| *value == 0);
        match zero {
            Some((key, _)) => Err(format!(
                "[lock] {key} = 0: a lock wait needs a bound, and a step at least one attempt"
            )),
            None => Ok(settings),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct DieselToml {
    migrations_directory: Option<DieselMigrations>,
    print_schema: Option<toml::Table>,
}

/// One `[print_schema]` (or `[print_schema.<name>]`) section, the keys plumb reads.
#[derive(Debug, Default, Deserialize)]
struct DieselPrintSchema {
    file: Option<PathBuf>,
    patch_file: Option<PathBuf>,
    schema: Option<String>,
    filter: Option<DieselFilter>,
    column_sorting: Option<String>,
    with_docs: Option<toml::Value>,
}

#[derive(Debug, Default, Deserialize)]
struct DieselFilter {
    #[serde(default)]
    only_tables: Vec<String>,
    #[serde(default)]
    except_tables: Vec<String>,
}

impl DieselToml {
    /// The sections as diesel reads them: `[print_schema]`'s own keys, and each named
    /// sub-table, in file order (the unnamed first). Keys plumb does not use are ignored, as
    /// they only shape the generated text.
    fn sections(&self) -> Result<Vec<(String, DieselPrintSchema)>, String> {
        let Some(table) = &self.print_schema else {
            return Ok(Vec::new());
        };
        let mut sections = Vec::new();
        let own: toml::Table = table
            .iter()
            .filter(|(_, v)| {
                !v.is_table()
                    || v.as_table().is_some_and(|t| {
                        t.contains_key("only_tables") || t.contains_key("except_tables")
                    })
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let parse = |name: &str, t: toml::Table| {
            DieselPrintSchema::deserialize(t)
                .map_err(|e| format!("[{name}]: {}", e.to_string().trim().replace('\n', " ")))
        };
        if !own.is_empty() {
            sections.push(("print_schema".to_owned(), parse("print_schema", own)?));
        }
        for (key, value) in table {
            if let Some(sub) = value
                .as_table()
                .filter(|t| !(t.contains_key("only_tables") || t.contains_key("except_tables")))
            {
                let name = format!("print_schema.{key}");
                sections.push((name.clone(), parse(&name, sub.clone())?));
            }
        }
        Ok(sections)
    }
}

fn regexes(file: &Path, key: &str, patterns: &[String]) -> Result<Vec<regex::Regex>, InputError> {
    patterns
        .iter()
        .map(|p| {
            regex::Regex::new(p).map_err(|e| InputError::Invalid {
                path: file.to_path_buf(),
                reason: format!("{key}: {p:?} is not a regular expression: {e}"),
            })
        })
        .collect()
}

/// The schema files: `[check] schema-rs` alone when set, else diesel.toml's sections.
fn schema_files(
    root: &Path,
    check: &CheckSection,
    sections: Vec<(String, DieselPrintSchema)>,
) -> Result<Vec<SchemaFile>, InputError> {
    if let Some(path) = &check.schema_rs {
        return Ok(vec![SchemaFile {
            path: root.join(path),
            patch_file: None,
            filter: TableFilter::default(),
            schema: "public".to_owned(),
            columns_by_name: false,
            generated_docs: false,
        }]);
    }
    let diesel = root.join("diesel.toml");
    let mut files = Vec::new();
    for (name, section) in sections {
        let Some(file) = section.file else { continue };
        let filter = section.filter.unwrap_or_default();
        files.push(SchemaFile {
            path: root.join(file),
            patch_file: section.patch_file.map(|p| root.join(p)),
            filter: TableFilter {
                only: regexes(
                    &diesel,
                    &format!("[{name}] filter.only_tables"),
                    &filter.only_tables,
                )?,
                except: regexes(
                    &diesel,
                    &format!("[{name}] filter.except_tables"),
                    &filter.except_tables,
                )?,
            },
            schema: section.schema.unwrap_or_else(|| "public".to_owned()),
            columns_by_name: section.column_sorting.as_deref() == Some("name"),
            generated_docs: matches!(
                &section.with_docs,
                Some(toml::Value::Boolean(true))
            ) || matches!(
                &section.with_docs,
                Some(toml::Value::String(s)) if s == "database-comments-fallback-to-auto-generated-doc-comment"
            ),
        });
    }
    Ok(files)
}

#[derive(Debug, Deserialize)]
struct DieselMigrations {
    dir: PathBuf,
}

fn read_toml<T: serde::de::DeserializeOwned + Default>(path: &Path) -> Result<T, InputError> {
    let within = path.parent().unwrap_or(Path::new("."));
    match crate::migrations::read_file_within(path, within)? {
        Some(text) => toml::from_str(&text).map_err(|e| InputError::Invalid {
            path: path.to_path_buf(),
            reason: e.to_string().trim().replace('\n', " "),
        }),
        None => Ok(T::default()),
    }
}

/// Names that mark a folder of PostgreSQL migrations beside other backends' folders.
const POSTGRES_FOLDERS: &[&str] = &["postgres", "postgresql", "pg"];

/// `migrations/`, or the PostgreSQL folder inside it when it holds one folder per backend
/// (`migrations/postgresql` beside `migrations/sqlite` and `migrations/mysql`), as repositories
/// that support several databases lay it out. When it cannot choose, an input error lists the
/// candidates and the line of `plumb.toml` that settles it.
fn discover_migrations(root: &Path) -> Result<PathBuf, InputError> {
    let default = PathBuf::from("migrations");
    let Ok(entries) = std::fs::read_dir(root.join(&default)) else {
        return Ok(default);
    };
    let holds_migrations = |dir: &Path| dir.join("up.sql").is_file();
    let mut folders: Vec<PathBuf> = Vec::new();
    for entry in entries.flatten() {
        // The entry's own type where the file system gives it: no call per entry.
        let is_dir = match entry.file_type() {
            Ok(kind) if !kind.is_symlink() => kind.is_dir(),
            _ => entry.path().is_dir(),
        };
        if !is_dir {
            continue;
        }
        let path = entry.path();
        // Migrations directly inside, the usual layout: settled by the first that holds one.
        if holds_migrations(&path) {
            return Ok(default);
        }
        folders.push(path);
    }
    if folders.is_empty() {
        return Ok(default);
    }
    let backends: Vec<&PathBuf> = folders
        .iter()
        .filter(|f| {
            std::fs::read_dir(f)
                .is_ok_and(|mut inner| inner.any(|e| e.is_ok_and(|e| holds_migrations(&e.path()))))
        })
        .collect();
    let name = |p: &PathBuf| p.file_name().map(|n| n.to_string_lossy().into_owned());
    let postgres: Vec<&&PathBuf> = backends
        .iter()
        .filter(|p| name(p).is_some_and(|n| POSTGRES_FOLDERS.contains(&n.as_str())))
        .collect();
    match postgres.as_slice() {
        [one] => Ok(default.join(name(one).unwrap_or_default())),
        _ if backends.is_empty() => Ok(default),
        _ => {
            let mut candidates: Vec<String> = backends
                .iter()
                .filter_map(|p| name(p))
                .map(|n| format!("migrations/{n}"))
                .collect();
            candidates.sort();
            Err(InputError::Invalid {
                path: root.join(&default),
                reason: format!(
                    "it holds the migrations of several databases ({}), and plumb cannot tell which are PostgreSQL's: add to plumb.toml\n  [check]\n  migrations = \"{}\"",
                    candidates.join(", "),
                    candidates.first().cloned().unwrap_or_default()
                ),
            })
        }
    }
}

/// A path the configuration names must be there: a mistyped one would switch checks off while
/// the report still said "0 errors". (The default places may be absent: then the checks that
/// need them are off, and the report says so.)
fn configured_paths_exist(
    root: &Path,
    check: &CheckSection,
    sections: &[(String, DieselPrintSchema)],
    diesel_migrations: Option<&PathBuf>,
) -> Result<(), InputError> {
    let plumb = root.join("plumb.toml");
    let diesel = root.join("diesel.toml");
    let section_keys: Vec<(String, Option<&PathBuf>)> = sections
        .iter()
        .flat_map(|(name, s)| {
            [
                (format!("[{name}] file"), s.file.as_ref()),
                (format!("[{name}] patch_file"), s.patch_file.as_ref()),
            ]
        })
        .collect();
    let mut named: Vec<(&Path, &str, Option<&PathBuf>, bool)> = vec![
        (
            &plumb,
            "[check] migrations",
            check.migrations.as_ref(),
            true,
        ),
        (&plumb, "[check] schema-rs", check.schema_rs.as_ref(), false),
        (&plumb, "[check] models", check.models.as_ref(), true),
        (
            &plumb,
            "[check] api-schemas",
            check.api_schemas.as_ref(),
            true,
        ),
    ];
    named.extend(
        check
            .code
            .iter()
            .flatten()
            .map(|dir| (plumb.as_path(), "[check] code", Some(dir), true)),
    );
    named.push((
        &diesel,
        "[migrations_directory] dir",
        diesel_migrations,
        true,
    ));
    named.extend(
        section_keys
            .iter()
            .map(|(key, path)| (diesel.as_path(), key.as_str(), *path, false)),
    );
    for (file, key, path, directory) in named {
        let Some(path) = path else { continue };
        let full = root.join(path);
        let found = if directory {
            full.is_dir()
        } else {
            full.is_file()
        };
        // A configured path may not lead out of the workspace (`models = "/proc/self"`,
        // `../..`, a link): files anyone can commit must not make the checker read the host.
        if let (Ok(inside), Ok(top)) = (full.canonicalize(), root.canonicalize())
            && !inside.starts_with(&top)
        {
            return Err(InputError::Invalid {
                path: file.to_path_buf(),
                reason: format!(
                    "{key} = {:?}: outside the workspace ({}); plumb reads only what is under {}: run it from a folder that holds both",
                    path.display(),
                    inside.display(),
                    top.display()
                ),
            });
        }
        if !found {
            let what = if directory { "directory" } else { "file" };
            return Err(InputError::Invalid {
                path: file.to_path_buf(),
                reason: format!(
                    "{key} = {:?}: no such {what} ({}); fix the path, or remove the key to use the default",
                    path.display(),
                    full.display()
                ),
            });
        }
    }
    Ok(())
}

impl Settings {
    /// Reads `root/plumb.toml`; without one, `diesel.toml`'s migrations directory, else
    /// `migrations/`.
    pub fn load(root: &Path) -> Result<Settings, InputError> {
        let plumb_path = root.join("plumb.toml");
        let plumb: PlumbToml = read_toml(&plumb_path)?;
        let _ = &plumb.columns;
        let check = plumb.check.unwrap_or_default();
        let diesel: DieselToml = read_toml(&root.join("diesel.toml"))?;
        let sections = diesel.sections().map_err(|reason| InputError::Invalid {
            path: root.join("diesel.toml"),
            reason,
        })?;
        configured_paths_exist(
            root,
            &check,
            &sections,
            // plumb.toml's migrations, when set, are the ones read.
            diesel
                .migrations_directory
                .as_ref()
                .map(|m| &m.dir)
                .filter(|_| check.migrations.is_none()),
        )?;
        let schema_files = schema_files(root, &check, sections)?;
        let migrations = match check
            .migrations
            .or(diesel.migrations_directory.map(|m| m.dir))
        {
            Some(dir) => dir,
            None => discover_migrations(root)?,
        };
        let mut severities = BTreeMap::new();
        for (name, level) in plumb.rules.unwrap_or_default() {
            let invalid = |reason: String| InputError::Invalid {
                path: plumb_path.clone(),
                reason,
            };
            let found =
                rule(&name).ok_or_else(|| invalid(format!("[rules] names no rule {name:?}")))?;
            let severity = match level.as_str() {
                "error" => Some(Severity::Error),
                "warning" => Some(Severity::Warning),
                "note" => Some(Severity::Note),
                "off" => None,
                other => {
                    return Err(invalid(format!(
                        "[rules] {name} = {other:?}: expected error, warning, note or off"
                    )));
                }
            };
            severities.insert(found.code, severity);
        }
        let lock = plumb
            .lock
            .unwrap_or_default()
            .settings()
            .map_err(|reason| InputError::Invalid {
                path: plumb_path.clone(),
                reason,
            })?;
        Ok(Settings {
            lock,
            root: root.to_path_buf(),
            migrations_dir: root.join(migrations),
            models_dir: check.models.map(|dir| root.join(dir)).or_else(|| {
                schema_files
                    .first()
                    .and_then(|file| file.path.parent())
                    .map(Path::to_path_buf)
            }),
            code_dirs: check
                .code
                .unwrap_or_default()
                .into_iter()
                .map(|dir| root.join(dir))
                .collect(),
            schema_files,
            api_dir: root.join(
                check
                    .api_schemas
                    .unwrap_or_else(|| PathBuf::from("schemas")),
            ),
            pg_version: check.pg_version.unwrap_or(DEFAULT_PG_VERSION),
            excluded: exclusions(&plumb_path, check.exclude.as_deref().unwrap_or_default())?,
            exclude: check.exclude.unwrap_or_default(),
            skip_before: check.skip_before,
            severities,
            live_skip: plumb.live.unwrap_or_default().skip,
            schemas_command: plumb
                .schemas
                .and_then(|s| s.command)
                .filter(|c| !c.trim().is_empty()),
        })
    }

    /// The same settings for the same files under another root (a revision's tree).
    pub fn rerooted(&self, root: &Path) -> Settings {
        let moved = |p: &Path| root.join(p.strip_prefix(&self.root).unwrap_or(p));
        Settings {
            root: root.to_path_buf(),
            migrations_dir: moved(&self.migrations_dir),
            schema_files: self
                .schema_files
                .iter()
                .map(|f| SchemaFile {
                    path: moved(&f.path),
                    patch_file: f.patch_file.as_deref().map(moved),
                    ..f.clone()
                })
                .collect(),
            models_dir: self.models_dir.as_deref().map(moved),
            code_dirs: self.code_dirs.iter().map(|d| moved(d)).collect(),
            api_dir: moved(&self.api_dir),
            ..self.clone()
        }
    }

    /// What a check reads, relative to the root: the migrations, the schema files and their
    /// patches, the models and the API schemas.
    pub fn read_paths(&self) -> Vec<PathBuf> {
        let relative = |p: &Path| p.strip_prefix(&self.root).unwrap_or(p).to_path_buf();
        let mut paths = vec![relative(&self.migrations_dir), relative(&self.api_dir)];
        for file in &self.schema_files {
            paths.push(relative(&file.path));
            paths.extend(file.patch_file.as_deref().map(relative));
        }
        paths.extend(self.models_dir.as_deref().map(relative));
        paths.extend(self.code_dirs.iter().map(|d| relative(d)));
        paths
    }

    /// The folders whose Rust files are read for models and write calls.
    pub fn code_folders(&self) -> Vec<&Path> {
        self.models_dir
            .iter()
            .chain(&self.code_dirs)
            .map(PathBuf::as_path)
            .collect()
    }

    /// `[rules]` applied: findings of rules turned off dropped, the others at their severity.
    pub fn apply_severities(&self, findings: Vec<Finding>) -> Vec<Finding> {
        findings
            .into_iter()
            .filter_map(|mut finding| match self.severities.get(finding.code) {
                Some(None) => None,
                Some(Some(severity)) => {
                    finding.severity = *severity;
                    Some(finding)
                }
                None => Some(finding),
            })
            .collect()
    }

    /// Whether a migration's findings are reported: it is neither excluded nor older than
    /// `skip-before` (either way it is still replayed).
    pub fn checks(&self, migration: &Migration) -> bool {
        !self.is_excluded(&migration.up_path())
            && self
                .skip_before
                .as_deref()
                .is_none_or(|before| migration.version.as_str() >= before)
    }

    /// Whether the live stage leaves this migration out (`[live] skip`).
    /// An entry is a folder name or its version, with or without diesel's dashes
    /// (`2019-03-01-000000` or `20190301000000`).
    pub fn live_skips(&self, version: &str, folder: &str) -> bool {
        self.live_skip
            .iter()
            .any(|entry| skip_names(entry, version, folder))
    }

    pub fn is_excluded(&self, path: &Path) -> bool {
        let relative = path
            .strip_prefix(&self.root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/");
        self.excluded.is_match(relative)
    }
}

/// Whether a `[live] skip` entry names this migration.
pub fn skip_names(entry: &str, version: &str, folder: &str) -> bool {
    entry == folder || entry.replace('-', "") == version
}

/// The `exclude` patterns compiled once: globset matches in time linear in the path, where a
/// backtracking matcher is exponential in the number of stars.
fn exclusions(plumb_toml: &Path, patterns: &[String]) -> Result<GlobSet, InputError> {
    let mut set = GlobSetBuilder::new();
    for pattern in patterns {
        let pattern = pattern.trim_end_matches('/');
        for form in [pattern.to_owned(), format!("{pattern}/**")] {
            let glob = Glob::new(&form).map_err(|e| InputError::Invalid {
                path: plumb_toml.to_path_buf(),
                reason: format!("[check] exclude: {pattern:?} is not a glob: {e}"),
            })?;
            set.add(glob);
        }
    }
    set.build().map_err(|e| InputError::Invalid {
        path: plumb_toml.to_path_buf(),
        reason: format!("[check] exclude: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn matches_pattern(pattern: &str, path: &str) -> bool {
        super::exclusions(Path::new("plumb.toml"), &[pattern.to_owned()])
            .unwrap()
            .is_match(path)
    }

    #[test]
    fn a_pattern_with_many_stars_is_matched_without_backtracking() {
        let pattern = "*a*a*a*a*a*a*a*a*a*a*a*a*b";
        let path = "a".repeat(200);
        assert!(!matches_pattern(pattern, &path));
    }

    #[test]
    fn a_pattern_that_is_not_a_glob_is_an_input_error_naming_plumb_toml() {
        let error = super::exclusions(Path::new("plumb.toml"), &["migrations/[x".to_owned()])
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("plumb.toml: [check] exclude:"), "{error}");
    }

    #[test]
    fn the_lock_policy_is_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let load = |text: &str| {
            std::fs::write(dir.path().join("plumb.toml"), text).unwrap();
            super::Settings::load(dir.path()).map(|s| s.lock)
        };
        let lock = load("[lock]\napplied-by = \"plumb\"\ntimeout-ms = 250\n").unwrap();
        assert!(lock.applied_by.is_plumb());
        assert_eq!(lock.timeout_ms, 250);
        assert_eq!(lock.attempts, super::LockSettings::default().attempts);
        let zero = load("[lock]\ntimeout-ms = 0\n").unwrap_err().to_string();
        assert!(zero.contains("[lock] timeout-ms = 0"), "{zero}");
        let typo = load("[lock]\ntimeout_ms = 100\n").unwrap_err().to_string();
        assert!(typo.contains("timeout_ms"), "{typo}");
        let who = load("[lock]\napplied-by = \"flyway\"\n")
            .unwrap_err()
            .to_string();
        assert!(who.contains("flyway"), "{who}");
    }

    #[test]
    fn the_postgres_folder_of_a_multi_backend_layout_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let folder = |path: &str| {
            let full = dir.path().join(path);
            std::fs::create_dir_all(&full).unwrap();
            std::fs::write(full.join("up.sql"), "SELECT 1;\n").unwrap();
        };
        folder("migrations/sqlite/2020-01-01-000000_init");
        folder("migrations/postgresql/2020-01-01-000000_init");
        folder("migrations/mysql/2020-01-01-000000_init");
        let settings = super::Settings::load(dir.path()).unwrap();
        assert_eq!(
            settings.migrations_dir,
            dir.path().join("migrations/postgresql")
        );
        // Two folders that could be PostgreSQL's: plumb says which line settles it.
        folder("migrations/pg/2020-01-01-000000_init");
        let error = super::Settings::load(dir.path()).unwrap_err().to_string();
        assert!(
            error.contains(
                "migrations/mysql, migrations/pg, migrations/postgresql, migrations/sqlite"
            ) && error.contains("[check]\n  migrations = \"migrations/"),
            "{error}"
        );
        std::fs::write(
            dir.path().join("plumb.toml"),
            "[check]\nmigrations = \"migrations/pg\"\n",
        )
        .unwrap();
        let settings = super::Settings::load(dir.path()).unwrap();
        assert_eq!(settings.migrations_dir, dir.path().join("migrations/pg"));
    }

    #[test]
    fn patterns() {
        assert!(matches_pattern(
            "migrations/2019-*",
            "migrations/2019-01-01-000000_x/up.sql"
        ));
        assert!(matches_pattern("migrations/old", "migrations/old/up.sql"));
        assert!(!matches_pattern(
            "migrations/old",
            "migrations/older/up.sql"
        ));
        assert!(!matches_pattern(
            "migrations/2019-*",
            "migrations/2020-01-01_x/up.sql"
        ));
    }
}
