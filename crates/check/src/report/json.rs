//! JSON: the findings and a summary, for tools.

use serde_json::json;

use crate::Report;
use crate::finding::Severity;

pub(super) fn json_report(report: &Report) -> String {
    let coverage = &report.coverage;
    let by_rule: serde_json::Map<String, serde_json::Value> = super::counts_by_rule(report)
        .into_iter()
        .map(|(code, _, n)| (code.to_owned(), n.into()))
        .collect();
    let suppressed: Vec<serde_json::Value> = report
        .suppressed
        .iter()
        .map(|s| {
            json!({
                "code": s.finding.code,
                "file": s.finding.span.file,
                "line": s.finding.span.line,
                "message": s.finding.message,
                "by": s.origin.as_str(),
            })
        })
        .collect();
    let value = json!({
        "base": report.base,
        "coverage": {
            "migrations_dir": coverage.migrations_dir,
            "migrations": coverage.migrations,
            "migrations_checked": coverage.migrations_checked,
            "statements": coverage.statements,
            "unmodelled_statements": coverage.unmodelled,
            "schema_files": coverage.schema_files,
            "model_structs": coverage.models,
            "model_files": coverage.model_files,
            "api_schemas": coverage.api_schemas,
            "registry": coverage.registry,
        },
        "changes": report.changes,
        "findings": report.findings,
        "suppressed": suppressed,
        "baseline": report.baseline.as_ref().map(|b| json!({
            "hidden": b.hidden,
            "stale": b.stale,
        })),
        "summary": {
            "by_rule": by_rule,
            "migrations": report.migrations,
            "statements": report.statements,
            "errors": report.count(Severity::Error),
            "warnings": report.count(Severity::Warning),
            "notes": report.count(Severity::Note),
        },
    });
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}
