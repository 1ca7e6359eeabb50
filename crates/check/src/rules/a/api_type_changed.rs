//! A field of a published version that changed type, or a request field that no longer accepts
//! null: what clients send or read no longer fits.

use super::Field;
use crate::finding::{Finding, Rule, Severity};
use crate::input::api::Property;

pub const RULE: Rule = Rule {
    code: "A005",
    name: "api-type-changed",
    severity: Severity::Error,
    summary: "field of a published version changed type (or a request field no longer accepts null)",
};

/// A request field that accepted null and no longer does.
pub(super) fn null_refused(old: &Property, new: &Property, field: &Field, out: &mut Vec<Finding>) {
    if old.nullable && !new.nullable {
        out.push(Finding::new(
            RULE,
            field.at.clone(),
            format!("{} no longer accepts null", field.what),
            "requests may only become more permissive: keep accepting null",
        ));
    }
}

/// A changed type or format, in either direction. Whether it reported.
pub(super) fn check(old: &Property, new: &Property, field: &Field, out: &mut Vec<Finding>) -> bool {
    let changed = old.types != new.types || old.format != new.format;
    if changed {
        out.push(Finding::new(
            RULE,
            field.at.clone(),
            format!(
                "{} changed type: {} to {}",
                field.what,
                old.describe(),
                new.describe()
            ),
            "keep the type in this version; a new type belongs in a new field or version",
        ));
    }
    changed
}
