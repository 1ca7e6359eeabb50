//! JSON: the findings and a summary, for tools.
//!
//! Written straight from the report, not through `serde_json::Value`: a repository with years
//! of migrations has thousands of findings, and building a tree of values for them took longer
//! than checking them. Keys are in alphabetical order in every object, as they always were.
//! Paths are written lossily: a folder name that is not UTF-8 must not empty the report.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serialize;

use crate::Report;
use crate::finding::{Finding, Severity};

#[derive(Serialize)]
struct Json<'a> {
    base: &'a Option<String>,
    baseline: Option<serde_json::Value>,
    changes: serde_json::Value,
    coverage: Coverage<'a>,
    findings: Vec<FindingJson<'a>>,
    summary: Summary,
    suppressed: Vec<SuppressedJson<'a>>,
}

#[derive(Serialize)]
struct Coverage<'a> {
    api_schemas: usize,
    migrations: usize,
    migrations_checked: usize,
    migrations_dir: Cow<'a, str>,
    model_files: usize,
    model_structs: usize,
    registry: bool,
    schema_files: Vec<Cow<'a, str>>,
    statements: usize,
    unmodelled_statements: usize,
}

#[derive(Serialize)]
struct FindingJson<'a> {
    code: &'a str,
    column: usize,
    end_column: usize,
    end_line: usize,
    file: Cow<'a, str>,
    help: &'a str,
    line: usize,
    message: &'a str,
    name: &'a str,
    severity: Severity,
}

impl<'a> From<&'a Finding> for FindingJson<'a> {
    fn from(f: &'a Finding) -> Self {
        FindingJson {
            code: f.code,
            column: f.span.column,
            end_column: f.span.end_column,
            end_line: f.span.end_line,
            file: f.span.file.to_string_lossy(),
            help: &f.help,
            line: f.span.line,
            message: &f.message,
            name: f.name,
            severity: f.severity,
        }
    }
}

#[derive(Serialize)]
struct SuppressedJson<'a> {
    by: &'a str,
    code: &'a str,
    file: Cow<'a, str>,
    line: usize,
    message: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
struct Summary {
    by_rule: BTreeMap<&'static str, usize>,
    errors: usize,
    migrations: usize,
    notes: usize,
    statements: usize,
    warnings: usize,
}

pub(super) fn json_report(report: &Report) -> String {
    let coverage = &report.coverage;
    let json = Json {
        base: &report.base,
        baseline: report.baseline.as_ref().map(|b| {
            serde_json::json!({
                "hidden": b.hidden,
                "stale": b.stale,
            })
        }),
        changes: serde_json::to_value(&report.changes).unwrap_or_default(),
        coverage: Coverage {
            api_schemas: coverage.api_schemas,
            migrations: coverage.migrations,
            migrations_checked: coverage.migrations_checked,
            migrations_dir: coverage.migrations_dir.to_string_lossy(),
            model_files: coverage.model_files,
            model_structs: coverage.models,
            registry: coverage.registry,
            schema_files: coverage
                .schema_files
                .iter()
                .map(|f| f.to_string_lossy())
                .collect(),
            statements: coverage.statements,
            unmodelled_statements: coverage.unmodelled,
        },
        findings: report.findings.iter().map(FindingJson::from).collect(),
        summary: Summary {
            by_rule: super::counts_by_rule(report)
                .into_iter()
                .map(|(code, _, n)| (code, n))
                .collect(),
            errors: report.count(Severity::Error),
            migrations: report.migrations,
            notes: report.count(Severity::Note),
            statements: report.statements,
            warnings: report.count(Severity::Warning),
        },
        suppressed: report
            .suppressed
            .iter()
            .map(|s| SuppressedJson {
                by: s.origin.as_str(),
                code: s.finding.code,
                file: s.finding.span.file.to_string_lossy(),
                line: s.finding.span.line,
                message: &s.finding.message,
                reason: &s.reason,
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&json).unwrap_or_default();
    text.push('\n');
    text
}
