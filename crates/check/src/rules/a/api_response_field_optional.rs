//! A response field of a published version no longer required: clients that read it
//! unconditionally break when it is absent.

use super::Field;
use crate::finding::{Finding, Rule, Severity};
use crate::input::api::Property;

pub const RULE: Rule = Rule {
    code: "A003",
    name: "api-response-field-optional",
    severity: Severity::Error,
    summary: "response field of a published version no longer required",
};

pub(super) fn check(old: &Property, new: &Property, field: &Field, out: &mut Vec<Finding>) {
    if old.required && !new.required {
        out.push(Finding::new(
            RULE,
            field.at.clone(),
            format!(
                "{} may now be absent: clients that read it unconditionally break",
                field.what
            ),
            "keep it required in this version",
        ));
    }
}
