//! The formats a report is written in: human (rustc-style), JSON, GitHub annotations, SARIF.

use std::fmt::Write;

use serde_json::json;

use crate::Report;
use crate::finding::{RULES, Severity};
use crate::source::Source;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Github,
    Sarif,
}

pub fn render(report: &Report, format: Format, colour: bool) -> String {
    match format {
        Format::Human => human(report, colour),
        Format::Json => json_report(report),
        Format::Github => github(report),
        Format::Sarif => sarif(report),
    }
}

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

/// The findings alone, rustc-style, each followed by a blank line (no summary line).
pub fn human_findings(report: &Report, colour: bool) -> String {
    let paint = Paint(colour);
    let mut out = String::new();
    // One line index per file, however many findings point into it.
    let sources: std::collections::BTreeMap<_, _> = report
        .sources
        .iter()
        .map(|(path, text)| (path, Source::new(path.clone(), text.clone())))
        .collect();
    for finding in &report.findings {
        let level = match finding.severity {
            Severity::Error => paint.wrap("1;31", "error"),
            Severity::Warning => paint.wrap("1;33", "warning"),
            Severity::Note => paint.wrap("1;36", "note"),
        };
        let span = &finding.span;
        let width = span.line.to_string().len();
        let bar = paint.wrap("34", "|");
        let _ = writeln!(
            out,
            "{level}[{} {}]: {}",
            finding.code,
            finding.name,
            paint.wrap("1", &finding.message)
        );
        let _ = writeln!(
            out,
            "{:width$}{} {}:{}:{}",
            "",
            paint.wrap("34", "-->"),
            span.file.display(),
            span.line,
            span.column
        );
        if let Some(source) = sources.get(&span.file) {
            let line = source.line(span.line);
            let underline_len = if span.end_line == span.line {
                span.end_column.saturating_sub(span.column).max(1)
            } else {
                line.chars().count().saturating_sub(span.column - 1).max(1)
            };
            let marks = format!(
                "{}{}",
                " ".repeat(span.column - 1),
                "^".repeat(underline_len)
            );
            let _ = writeln!(out, "{:width$} {bar}", "");
            let _ = writeln!(
                out,
                "{} {bar} {line}",
                paint.wrap("34", &span.line.to_string())
            );
            let _ = writeln!(out, "{:width$} {bar} {}", "", paint.wrap("1;31", &marks));
        }
        let _ = writeln!(out, "{:width$} = help: {}\n", "", finding.help);
    }
    out
}

fn human(report: &Report, colour: bool) -> String {
    format!(
        "{}{}{}\n",
        human_changes(report),
        human_findings(report, colour),
        summary_line(report)
    )
}

/// The base line and what changed since, one line per change, for a pull request's reader.
pub fn human_changes(report: &Report) -> String {
    let mut out = String::new();
    if let Some(base) = &report.base {
        let _ = writeln!(out, "{base}");
    }
    if report.base.is_some() && report.changes.is_empty() && !base_skipped(report) {
        let _ = writeln!(
            out,
            "no change to the schema, the models or the API since the base\n"
        );
    } else if !report.changes.is_empty() {
        let _ = writeln!(out, "changes since the base:");
        for change in &report.changes {
            let _ = writeln!(out, "  {change}");
        }
        out.push('\n');
    }
    out
}

fn base_skipped(report: &Report) -> bool {
    report
        .base
        .as_deref()
        .is_some_and(|b| b.starts_with("base: none"))
}

pub fn summary_line(report: &Report) -> String {
    format!(
        "{} migrations, {} statements: {} errors, {} warnings, {} notes",
        report.migrations,
        report.statements,
        report.count(Severity::Error),
        report.count(Severity::Warning),
        report.count(Severity::Note)
    )
}

fn json_report(report: &Report) -> String {
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

/// GitHub Actions workflow commands: each finding becomes an annotation on the pull request.
fn github(report: &Report) -> String {
    let escape = |text: &str| {
        text.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let property = |text: &str| escape(text).replace(':', "%3A").replace(',', "%2C");
    let mut out = String::new();
    for finding in &report.findings {
        let level = match finding.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let span = &finding.span;
        let _ = writeln!(
            out,
            "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            property(&span.file.to_string_lossy()),
            span.line,
            span.column,
            span.end_line,
            span.end_column,
            property(&format!("{} {}", finding.code, finding.name)),
            escape(&format!("{} (help: {})", finding.message, finding.help))
        );
    }
    out
}

/// SARIF 2.1.0, for code-scanning tools.
fn sarif(report: &Report) -> String {
    let rules: Vec<_> = RULES
        .iter()
        .map(|rule| {
            json!({
                "id": rule.code,
                "name": rule.name,
                "shortDescription": { "text": rule.summary },
                "help": { "text": format!("docs/rules/{}.md in the plumb repository", rule.name) },
                "defaultConfiguration": { "level": sarif_level(rule.severity) },
            })
        })
        .collect();
    let results: Vec<_> = report
        .findings
        .iter()
        .map(|finding| {
            let span = &finding.span;
            json!({
                "ruleId": finding.code,
                "ruleIndex": RULES.iter().position(|r| r.code == finding.code),
                "level": sarif_level(finding.severity),
                "message": { "text": format!("{} (help: {})", finding.message, finding.help) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": span.file.to_string_lossy().replace('\\', "/") },
                        "region": {
                            "startLine": span.line,
                            "startColumn": span.column,
                            "endLine": span.end_line,
                            "endColumn": span.end_column,
                        },
                    },
                }],
            })
        })
        .collect();
    let value = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "plumb",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://crates.io/crates/plumb-check",
                "rules": rules,
            } },
            "results": results,
            "columnKind": "unicodeCodePoints",
        }],
    });
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}
