//! A response field of a published version that may now be null: clients that expect a value
//! break.

use super::Field;
use crate::finding::{Finding, Rule, Severity};
use crate::input::api::Property;

pub const RULE: Rule = Rule {
    code: "A004",
    name: "api-response-nullable",
    severity: Severity::Error,
    summary: "response field of a published version newly nullable",
};

pub(super) fn check(old: &Property, new: &Property, field: &Field, out: &mut Vec<Finding>) {
    if !old.nullable && new.nullable {
        out.push(Finding::new(
            RULE,
            field.at.clone(),
            format!(
                "{} may now be null: clients that expect a value break",
                field.what
            ),
            "keep it non-null in this version; expose the nullable form in a new version",
        ));
    }
}
