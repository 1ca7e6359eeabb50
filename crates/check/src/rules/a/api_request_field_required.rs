//! A request field of a published version that is newly required: existing clients do not send
//! it, and their requests are rejected.

use super::Field;
use crate::finding::{Finding, Rule, Severity};
use crate::input::api::Property;

pub const RULE: Rule = Rule {
    code: "A001",
    name: "api-request-field-required",
    severity: Severity::Error,
    summary: "request field of a published version newly required",
};

/// `old`: the field in the base, if it was there. The head's field is required.
pub(super) fn check(old: Option<&Property>, field: &Field, out: &mut Vec<Finding>) {
    if old.is_some_and(|o| o.required) {
        return;
    }
    out.push(Finding::new(
        RULE,
        field.at.clone(),
        format!(
            "{} is required now: requests of existing clients, which do not send it, are rejected",
            field.what
        ),
        "make it optional in this version (with a default on the server); require it only in a new version",
    ));
}
