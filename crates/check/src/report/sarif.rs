//! SARIF 2.1.0, for code-scanning tools, through serde-sarif's types (generated from the
//! official schema, so a misspelt or misplaced property does not compile).

use serde_json::json;
use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, Region,
    ReportingConfiguration, ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif,
    Tool, ToolComponent,
};

use crate::Report;
use crate::finding::{Finding, Rule, Severity};
use crate::rules::RULES;

pub(super) fn sarif(report: &Report) -> String {
    let driver = ToolComponent::builder()
        .name("plumb".to_owned())
        .version(env!("CARGO_PKG_VERSION").to_owned())
        .information_uri("https://crates.io/crates/plumb-check".to_owned())
        .rules(RULES.iter().map(descriptor).collect::<Vec<_>>())
        .build();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(report.findings.iter().map(result).collect::<Vec<_>>())
        .column_kind(json!("unicodeCodePoints"))
        .build();
    let log = Sarif::builder()
        .schema("https://json.schemastore.org/sarif-2.1.0.json".to_owned())
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build();
    let mut text = serde_json::to_string_pretty(&log).unwrap_or_default();
    text.push('\n');
    text
}

fn descriptor(rule: &Rule) -> ReportingDescriptor {
    let text = |text: String| MultiformatMessageString::builder().text(text).build();
    ReportingDescriptor::builder()
        .id(rule.code.to_owned())
        .name(rule.name.to_owned())
        .short_description(text(rule.summary.to_owned()))
        .help(text(format!(
            "docs/rules/{}.md in the plumb repository",
            rule.name
        )))
        .default_configuration(
            ReportingConfiguration::builder()
                .level(json!(level_name(rule.severity)))
                .build(),
        )
        .build()
}

fn result(finding: &Finding) -> SarifResult {
    let span = &finding.span;
    let as_i64 = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    let region = Region::builder()
        .start_line(as_i64(span.line))
        .start_column(as_i64(span.column))
        .end_line(as_i64(span.end_line))
        .end_column(as_i64(span.end_column))
        .build();
    let artifact = ArtifactLocation::builder()
        .uri(span.file.to_string_lossy().replace('\\', "/"))
        .build();
    let location = Location::builder()
        .physical_location(
            PhysicalLocation::builder()
                .artifact_location(artifact)
                .region(region)
                .build(),
        )
        .build();
    let mut result = SarifResult::builder()
        .rule_id(finding.code.to_owned())
        .level(match finding.severity {
            Severity::Error => ResultLevel::Error,
            Severity::Warning => ResultLevel::Warning,
            Severity::Note => ResultLevel::Note,
        })
        .message(
            Message::builder()
                .text(format!("{} (help: {})", finding.message, finding.help))
                .build(),
        )
        .locations(vec![location])
        .build();
    result.rule_index = RULES
        .iter()
        .position(|r| r.code == finding.code)
        .and_then(|i| i64::try_from(i).ok());
    result
}

fn level_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}
