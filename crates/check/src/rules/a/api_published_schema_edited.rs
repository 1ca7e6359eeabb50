//! A schema of a published version edited (in a way no other rule judges breaking) or removed
//! while its version stays: a warning, since clients were built against the published schema.

use crate::finding::{Finding, Rule, Severity};
use crate::input::api::ApiSchema;
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "A007",
    name: "api-published-schema-edited",
    severity: Severity::Warning,
    summary: "schema of a published version edited or removed",
};

/// The base's schema is gone from a version the head still has.
pub(super) fn removed(old: &ApiSchema, out: &mut Vec<Finding>) {
    out.push(Finding::new(
        RULE,
        Span::line(&old.file, 1),
        format!(
            "{} {} was published in {} and is gone from it",
            old.name,
            old.direction.as_str(),
            old.version
        ),
        "published versions do not change: put the change in a new version",
    ));
}

/// The schema changed, and no other rule found the change breaking.
pub(super) fn compatible(new: &ApiSchema, out: &mut Vec<Finding>) {
    out.push(Finding::new(
        RULE,
        Span::line(&new.file, 1),
        format!(
            "{} ({}) is published and its schema changed in a way plumb judges compatible",
            new.key,
            new.direction.as_str()
        ),
        "review it: a published version's schema is what its clients were built against",
    ));
}
