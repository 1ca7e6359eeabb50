//! A published API version removed: every client of it breaks.

use crate::finding::{Finding, Rule, Severity};
use crate::input::api::ApiSchema;
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "A008",
    name: "api-version-removed",
    severity: Severity::Error,
    summary: "published API version removed",
};

/// Reported once per version, at the first of its schemas.
pub(super) fn check(old: &ApiSchema, out: &mut Vec<Finding>) {
    out.push(Finding::new(
        RULE,
        Span::line(&old.file, 1),
        format!(
            "API version {} is published in the base and gone in the head: its clients break",
            old.version
        ),
        "keep serving a published version until its clients have moved; retire it in a release of its own",
    ));
}
