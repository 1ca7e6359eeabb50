//! An enum of a published version changed the breaking way for its direction: a request enum
//! that no longer accepts a value, or a response enum that may send one clients do not know.

use super::Field;
use crate::finding::{Finding, Rule, Severity};
use crate::input::api::{Direction, Property};

pub const RULE: Rule = Rule {
    code: "A006",
    name: "api-enum-changed",
    severity: Severity::Error,
    summary: "enum of a published version changed the breaking way for its direction",
};

pub(super) fn check(
    old: &Property,
    new: &Property,
    field: &Field,
    direction: Direction,
    out: &mut Vec<Finding>,
) {
    let (Some(old), Some(new)) = (&old.values, &new.values) else {
        return;
    };
    let lost: Vec<&String> = old.iter().filter(|v| !new.contains(v)).collect();
    let gained: Vec<&String> = new.iter().filter(|v| !old.contains(v)).collect();
    let request = direction == Direction::Request;
    let (breaking, verb) = if request {
        (lost, "no longer accepts")
    } else {
        (gained, "may now send")
    };
    if breaking.is_empty() {
        return;
    }
    let list: Vec<String> = breaking.iter().map(|v| v.to_string()).collect();
    out.push(Finding::new(
        RULE,
        field.at.clone(),
        format!("{} {verb} {}", field.what, list.join(", ")),
        if request {
            "requests may only accept more values"
        } else {
            "responses may only send fewer values: clients reject what they do not know"
        },
    ));
}
