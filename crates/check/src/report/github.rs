//! GitHub Actions workflow commands: each finding becomes an annotation on the pull request.

use std::fmt::Write;

use crate::Report;
use crate::finding::Severity;

pub(super) fn github(report: &Report) -> String {
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
