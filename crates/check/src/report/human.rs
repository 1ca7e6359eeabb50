//! rustc-style text: each finding with its line and a caret under the span, for a terminal.

use std::fmt::Write;

use annotate_snippets::{AnnotationKind, Element, Level, Origin, Renderer, Snippet};

use super::summary_line;
use crate::Report;
use crate::finding::Severity;
use crate::sql::source::{Source, Span};

/// The findings alone, rustc-style (rendered by annotate-snippets, as rustc and cargo render
/// theirs), each followed by a blank line (no summary line).
pub fn human_findings(report: &Report, colour: bool) -> String {
    let renderer = if colour {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    // One line index per file, however many findings point into it.
    let sources: std::collections::BTreeMap<_, _> = report
        .sources
        .iter()
        .map(|(path, text)| (path, Source::new(path.clone(), text.clone())))
        .collect();
    for finding in &report.findings {
        let level = match finding.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
            Severity::Note => Level::NOTE,
        };
        let span = &finding.span;
        let path = span.file.display().to_string();
        let id = format!("{} {}", finding.code, finding.name);
        let title = level.primary_title(finding.message.as_str()).id(id);
        let place: Element<'_> = match sources.get(&span.file) {
            Some(source) => {
                let (line, underlined) = window(source.line(span.line), span);
                Snippet::source(line)
                    .line_start(span.line)
                    .path(path)
                    .annotation(AnnotationKind::Primary.span(underlined))
                    .into()
            }
            None => Origin::path(path)
                .line(span.line)
                .char_column(span.column)
                .into(),
        };
        let group = title
            .element(place)
            .element(Level::HELP.message(finding.help.as_str()));
        let _ = writeln!(out, "{}\n", renderer.render(&[group]));
    }
    out
}

/// At most this many bytes of a line are shown with a finding: a generated migration can be one
/// line of megabytes, and a file anyone can commit should not be echoed whole.
const SHOWN: usize = 240;

/// The part of `line` shown with a finding, and the range it underlines in that part: the whole
/// line when it is short, else [`SHOWN`] bytes from a little before the finding.
fn window<'l>(line: &'l str, span: &Span) -> (&'l str, std::ops::Range<usize>) {
    let underlined = underline(line, span);
    if line.len() <= SHOWN {
        return (line, underlined);
    }
    let mut start = underlined.start.saturating_sub(SHOWN / 4);
    while !line.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (start + SHOWN).min(line.len());
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    let from = underlined.start.min(end) - start;
    let to = underlined.end.min(end).max(underlined.start.min(end)) - start;
    (&line[start..end], from..to)
}

/// The byte range of `line` a finding underlines: from its column to its end on that line, or
/// to the end of the line when it goes on; at least one character.
fn underline(line: &str, span: &Span) -> std::ops::Range<usize> {
    let byte_at = |column: usize| {
        line.char_indices()
            .nth(column.saturating_sub(1))
            .map_or(line.len(), |(at, _)| at)
    };
    let start = byte_at(span.column);
    let end = if span.end_line == span.line {
        byte_at(span.end_column)
    } else {
        line.len()
    };
    let end = if end > start {
        end
    } else {
        line[start..]
            .chars()
            .next()
            .map_or(start, |c| start + c.len_utf8())
    };
    start..end
}

pub(super) fn human(report: &Report, colour: bool) -> String {
    let mut hint = String::new();
    if let Some(outcome) = &report.baseline {
        let _ = write!(
            hint,
            "baseline: {} known finding(s) hidden ({})",
            outcome.hidden,
            crate::baseline::FILE
        );
        if !outcome.stale.is_empty() {
            let _ = write!(
                hint,
                "; {} of its entries match no finding any more: run `plumb baseline` to drop them",
                outcome.stale.len()
            );
        }
        hint.push_str("\n\n");
    } else if let Some(text) = report.coverage.history_hint() {
        let _ = writeln!(hint, "hint: {text}\n");
    }
    format!(
        "{}\n\n{}{}{}{}{hint}{}\n",
        report.coverage.line(),
        human_changes(report),
        human_findings(report, colour),
        by_rule(report),
        suppressed(report),
        summary_line(report)
    )
}

/// How many findings each rule made, most first: where an old repository's findings come from.
fn by_rule(report: &Report) -> String {
    let counts = super::counts_by_rule(report);
    if counts.len() < 2 {
        return String::new();
    }
    let mut out = String::from("findings by rule:\n");
    for (code, name, count) in counts {
        let _ = writeln!(out, "  {count:>5}  {code} {name}");
    }
    out.push('\n');
    out
}

/// What suppressions silenced, by whose marker: review sees what was excused.
fn suppressed(report: &Report) -> String {
    if report.suppressed.is_empty() {
        return String::new();
    }
    let mut by_origin: std::collections::BTreeMap<&str, usize> = Default::default();
    for s in &report.suppressed {
        *by_origin.entry(s.origin.as_str()).or_default() += 1;
    }
    let parts: Vec<String> = by_origin
        .into_iter()
        .map(|(origin, n)| format!("{n} by `{origin}`"))
        .collect();
    format!(
        "suppressed: {} finding(s), {} (--format json lists them)\n\n",
        report.suppressed.len(),
        parts.join(", ")
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
