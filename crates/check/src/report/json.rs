//! JSON: the findings and a summary, for tools.

use serde_json::json;

use crate::Report;
use crate::finding::Severity;

pub(super) fn json_report(report: &Report) -> String {
    let value = json!({
        "base": report.base,
        "changes": report.changes,
        "findings": report.findings,
        "summary": {
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
