//! The formats a report is written in: human (rustc-style), JSON, GitHub annotations, SARIF.

mod github;
mod human;
mod json;
mod sarif;

use crate::Report;
use crate::finding::Severity;

pub use human::{human_changes, human_findings};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Github,
    Sarif,
}

pub fn render(report: &Report, format: Format, colour: bool) -> String {
    match format {
        Format::Human => human::human(report, colour),
        Format::Json => json::json_report(report),
        Format::Github => github::github(report),
        Format::Sarif => sarif::sarif(report),
    }
}

/// Each rule that found something, with its count, most first (then by code).
pub fn counts_by_rule(report: &Report) -> Vec<(&'static str, &'static str, usize)> {
    let mut counts: std::collections::BTreeMap<(&'static str, &'static str), usize> =
        Default::default();
    for f in &report.findings {
        *counts.entry((f.code, f.name)).or_default() += 1;
    }
    let mut counts: Vec<_> = counts
        .into_iter()
        .map(|((code, name), n)| (code, name, n))
        .collect();
    counts.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(b.0)));
    counts
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
