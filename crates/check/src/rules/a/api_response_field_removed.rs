//! A response field of a published version removed: clients that read it break.

use super::Field;
use crate::finding::{Finding, Rule, Severity};
use crate::input::api::ApiSchema;
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "A002",
    name: "api-response-field-removed",
    severity: Severity::Error,
    summary: "response field of a published version removed",
};

/// The field has no line in the head's schema: the finding points at its start.
pub(super) fn check(new: &ApiSchema, field: &Field, out: &mut Vec<Finding>) {
    out.push(Finding::new(
        RULE,
        Span::line(&new.file, 1),
        format!(
            "{} is gone from the response: clients that read it break",
            field.what
        ),
        "keep the field in this version; drop it only in a new version",
    ));
}
