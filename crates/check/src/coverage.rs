//! What a check read, said in one line at the top of the report: a check that could not read
//! what it was pointed at must not look like a clean one. And, when old migrations make most of
//! the findings, how to adopt plumb on the repository without fixing its history.

use std::path::PathBuf;

/// What the checker read of the head.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    /// The migrations directory, relative to the workspace root.
    pub migrations_dir: PathBuf,
    pub migrations: usize,
    /// Migrations whose findings are reported (the rest are `skip-before` or excluded).
    pub migrations_checked: usize,
    pub statements: usize,
    /// Statements (or ALTER TABLE actions) the replay does not model.
    pub unmodelled: usize,
    /// The schema files, as findings show them.
    pub schema_files: Vec<PathBuf>,
    pub models: usize,
    pub model_files: usize,
    pub api_schemas: usize,
    /// `[columns]` in plumb.toml: family C is on.
    pub registry: bool,
    /// Findings of migrations before the newest [`RECENT`] ones, and all migration findings.
    pub old_findings: usize,
    pub migration_findings: usize,
    /// The version a `skip-before` would start at to keep only the newest [`RECENT`].
    pub recent_from: Option<String>,
    pub skip_before_set: bool,
}

/// How many of the newest migrations count as recent work when suggesting `skip-before`.
pub const RECENT: usize = 10;

impl Coverage {
    /// `read: 342 migrations (3,120 statements, 12 not modelled), schema files: src/schema.rs,
    /// 40 model structs in 12 files, API schemas: none (families C and A off)`.
    pub fn line(&self) -> String {
        let checked = if self.migrations_checked == self.migrations {
            String::new()
        } else {
            format!(", {} checked", self.migrations_checked)
        };
        let schema_files = if self.schema_files.is_empty() {
            "none (family S off)".to_owned()
        } else {
            self.schema_files
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let models = if self.models == 0 {
            "no model structs".to_owned()
        } else {
            format!(
                "{} model structs in {} files",
                self.models, self.model_files
            )
        };
        let api = match (self.api_schemas, self.registry) {
            (0, false) => "API schemas: none (families C and A off)".to_owned(),
            (0, true) => "API schemas: none (family A off)".to_owned(),
            (n, true) => format!("{n} API schemas"),
            (n, false) => format!("{n} API schemas (no [columns] registry: family C off)"),
        };
        format!(
            "read: {} migrations{checked} ({} statements, {} not modelled), schema files: {schema_files}, {models}, {api}",
            self.migrations, self.statements, self.unmodelled
        )
    }

    /// When most findings are in old migrations: how to check only new work.
    pub fn history_hint(&self) -> Option<String> {
        let dominated = self.migration_findings >= 20
            && self.old_findings * 5 >= self.migration_findings * 4
            && !self.skip_before_set;
        let version = self.recent_from.as_deref().filter(|_| dominated)?;
        Some(format!(
            "{} of {} migration findings are in migrations before the newest {RECENT}: history that has run in production long ago. To hold only new migrations to the rules, add to plumb.toml\n  [check]\n  skip-before = \"{version}\"\nor record today's findings with `plumb baseline`, so that only new ones fail",
            self.old_findings, self.migration_findings
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_what_is_off() {
        let coverage = Coverage {
            migrations: 12,
            migrations_checked: 12,
            statements: 80,
            unmodelled: 2,
            ..Coverage::default()
        };
        assert_eq!(
            coverage.line(),
            "read: 12 migrations (80 statements, 2 not modelled), schema files: none (family S off), no model structs, API schemas: none (families C and A off)"
        );
    }

    #[test]
    fn history_is_pointed_out_only_when_it_dominates() {
        let mut coverage = Coverage {
            old_findings: 90,
            migration_findings: 100,
            recent_from: Some("20240101000000".into()),
            ..Coverage::default()
        };
        assert!(
            coverage
                .history_hint()
                .is_some_and(|h| h.contains("skip-before = \"20240101000000\""))
        );
        coverage.old_findings = 50;
        assert_eq!(coverage.history_hint(), None);
        coverage.old_findings = 90;
        coverage.skip_before_set = true;
        assert_eq!(coverage.history_hint(), None);
    }
}
