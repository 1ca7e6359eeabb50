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

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::d::testing::{RELEASED, at, check, codes, shown, tree};
    use crate::rules::s::testing::UP;

    const LATER: &str = "2026-03-01-000000-0000_notes";
    const NOTES_UP: &str = "CREATE TABLE notes (id bigserial PRIMARY KEY);\n";
    const TAGS_UP: &str = "CREATE TABLE tags (id bigserial PRIMARY KEY);\n";

    #[test]
    fn a_new_migration_before_a_released_one_fires_at_its_up_sql() {
        let early = "2026-02-01-000000-0000_tags";
        let base = tree(&[(RELEASED, UP), (LATER, NOTES_UP)]);
        let head = tree(&[(RELEASED, UP), (early, TAGS_UP), (LATER, NOTES_UP)]);
        let found = check(&base, &head);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), format!("migrations/{early}/up.sql:1"));
        insta::assert_snapshot!(shown(&found[0]));
    }

    #[test]
    fn a_new_migration_after_every_released_one_is_silent() {
        let base = tree(&[(RELEASED, UP), (LATER, NOTES_UP)]);
        let head = tree(&[
            (RELEASED, UP),
            (LATER, NOTES_UP),
            ("2026-04-01-000000-0000_tags", TAGS_UP),
        ]);
        assert_eq!(check(&base, &head), []);
    }
}
