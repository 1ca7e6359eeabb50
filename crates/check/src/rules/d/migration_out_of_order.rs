//! A new migration ordered before a released one: databases that ran the release apply it out of
//! order, fresh ones in order, and the two end up different.

use std::collections::BTreeSet;

use crate::finding::{Finding, Rule, Severity};
use crate::input::snapshot::Snapshot;
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "D006",
    name: "migration-out-of-order",
    severity: Severity::Error,
    summary: "new migration ordered before a released one",
};

pub(super) fn check(base: &Snapshot, head: &Snapshot, out: &mut Vec<Finding>) {
    let released: BTreeSet<&str> = base.migrations.iter().map(|m| m.name.as_str()).collect();
    let Some(last) = base.migrations.iter().map(|m| m.version.as_str()).max() else {
        return;
    };
    for new in head
        .migrations
        .iter()
        .filter(|m| !released.contains(m.name.as_str()))
    {
        if new.version.as_str() < last {
            out.push(Finding::new(
                RULE,
                Span::line(head.migrations_dir.join(&new.name).join("up.sql"), 1),
                format!(
                    "{} is new but ordered before the released {last}: databases that ran the release apply it out of order, fresh ones in order",
                    new.name
                ),
                "give it a version after every released migration (regenerate it with `diesel migration generate`)",
            ));
        }
    }
}
