//! `plumb.toml`'s `[check]` and `[rules]`, or diesel's conventions when there is none.

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
    /// diesel's `schema.rs`: `[check] schema-rs`, else `diesel.toml`'s `print_schema.file`.
    pub schema_rs: Option<PathBuf>,
    /// Where the diesel model structs are: `[check] models`, else the directory of schema.rs.
    pub models_dir: Option<PathBuf>,
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
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlumbToml {
    check: Option<CheckSection>,
    rules: Option<BTreeMap<String, String>>,
    #[serde(default)]
    columns: toml::Table,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct CheckSection {
    migrations: Option<PathBuf>,
    schema_rs: Option<PathBuf>,
    models: Option<PathBuf>,
    api_schemas: Option<PathBuf>,
    pg_version: Option<u32>,
    exclude: Option<Vec<String>>,
    skip_before: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct DieselToml {
    migrations_directory: Option<DieselMigrations>,
    print_schema: Option<DieselPrintSchema>,
}

#[derive(Debug, Deserialize)]
struct DieselPrintSchema {
    file: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
struct DieselMigrations {
    dir: PathBuf,
}

fn read_toml<T: serde::de::DeserializeOwned + Default>(path: &Path) -> Result<T, InputError> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text).map_err(|e| InputError::Invalid {
            path: path.to_path_buf(),
            reason: e.to_string().trim().replace('\n', " "),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(InputError::io(path, e)),
    }
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
        let migrations = check
            .migrations
            .or(diesel.migrations_directory.map(|m| m.dir))
            .unwrap_or_else(|| PathBuf::from("migrations"));
        let schema_rs = check.schema_rs.or(diesel.print_schema.and_then(|p| p.file));
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
        Ok(Settings {
            root: root.to_path_buf(),
            migrations_dir: root.join(migrations),
            models_dir: check.models.map(|dir| root.join(dir)).or_else(|| {
                schema_rs
                    .as_ref()
                    .and_then(|file| file.parent())
                    .map(|dir| root.join(dir))
            }),
            schema_rs: schema_rs.map(|file| root.join(file)),
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
        })
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

    pub fn is_excluded(&self, path: &Path) -> bool {
        let relative = path
            .strip_prefix(&self.root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/");
        self.excluded.is_match(relative)
    }
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
