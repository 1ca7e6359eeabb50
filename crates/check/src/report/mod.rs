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
