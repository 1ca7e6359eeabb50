//! rustc-style text: each finding with its line and a caret under the span, for a terminal.

use std::fmt::Write;

use super::summary_line;
use crate::Report;
use crate::finding::Severity;
use crate::sql::source::Source;

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

pub(super) fn human(report: &Report, colour: bool) -> String {
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
