//! `plumb.toml`'s `[check]` and `[rules]`, or diesel's conventions when there is none.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::InputError;
use crate::finding::{Finding, Severity, rule};
use crate::migrations::Migration;

/// The PostgreSQL major version rules assume when none is configured.
pub const DEFAULT_PG_VERSION: u32 = 15;

#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// Paths (relative to the root, `*` matching any run of characters) not checked; their
    /// migrations are still replayed.
    pub exclude: Vec<String>,
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
        self.exclude
            .iter()
            .any(|pattern| matches_pattern(pattern, &relative))
    }
}

/// `*` matches any run of characters; a pattern matching a folder matches what is inside it.
fn matches_pattern(pattern: &str, path: &str) -> bool {
    fn matches(pattern: &[u8], text: &[u8]) -> bool {
        match pattern.split_first() {
            None => text.is_empty() || text.first() == Some(&b'/'),
            Some((b'*', rest)) => (0..=text.len()).any(|i| matches(rest, &text[i..])),
            Some((c, rest)) => text
                .split_first()
                .is_some_and(|(t, text)| t == c && matches(rest, text)),
        }
    }
    matches(pattern.trim_end_matches('/').as_bytes(), path.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::matches_pattern;

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
