//! A released migration edited or removed: databases that already ran it never see the edit, and
//! disagree with the history.

use std::collections::BTreeMap;

use crate::finding::{Finding, Rule, Severity};
use crate::input::snapshot::Snapshot;
use crate::migrations::Migration;
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "D005",
    name: "migration-edited",
    severity: Severity::Error,
    summary: "released migration edited or removed",
};

pub(super) fn check(base: &Snapshot, head: &Snapshot, out: &mut Vec<Finding>) {
    let head_by_name: BTreeMap<&str, &Migration> = head
        .migrations
        .iter()
        .map(|m| (m.name.as_str(), m))
        .collect();
    let dir = &head.migrations_dir;
    for old in &base.migrations {
        match head_by_name.get(old.name.as_str()) {
            None => out.push(Finding::new(
                RULE,
                Span::line(dir.join(&old.name).join("up.sql"), 1),
                format!(
                    "{} is released (in the base) and gone from the head: databases that ran it disagree with the history",
                    old.name
                ),
                "never remove a released migration; undo it with a new one",
            )),
            Some(new)
                if new.up != old.up
                    || new.down != old.down
                    || new.run_in_transaction != old.run_in_transaction =>
            {
                let file = if new.up != old.up {
                    "up.sql"
                } else if new.down != old.down {
                    "down.sql"
                } else {
                    "metadata.toml"
                };
                let line = if new.up != old.up {
                    first_difference(&old.up, &new.up)
                } else if new.down != old.down {
                    first_difference(
                        old.down.as_deref().unwrap_or_default(),
                        new.down.as_deref().unwrap_or_default(),
                    )
                } else {
                    1
                };
                out.push(Finding::new(
                    RULE,
                    Span::line(dir.join(&new.name).join(file), line),
                    format!(
                        "{} is released (in the base) and its {file} was edited: databases that already ran it never see the edit",
                        new.name
                    ),
                    "leave released migrations as they are; make the change in a new migration",
                ));
            }
            Some(_) => {}
        }
    }
}

/// The 1-based line of the new text where it first differs from the old: the first line that
/// changed, the first line added, or, when lines were only removed (or only line ends
/// changed), its last line; never past its end.
fn first_difference(old: &str, new: &str) -> usize {
    let changed = old
        .lines()
        .zip(new.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| old.lines().count().min(new.lines().count()));
    (changed + 1).min(new.lines().count().max(1))
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::d::testing::{RELEASED, at, check, codes, live, shown, tree};
    use crate::rules::s::testing::UP;

    const NOTES: &str = "2026-01-02-000000-0000_notes";
    const NOTES_UP: &str =
        "CREATE TABLE notes (\n    id bigserial PRIMARY KEY,\n    body text\n);\n";

    fn released() -> crate::input::snapshot::Snapshot {
        tree(&[(RELEASED, UP), (NOTES, NOTES_UP)])
    }

    #[test]
    fn an_edited_released_up_sql_fires_at_the_first_changed_line() {
        let head = tree(&[
            (RELEASED, UP),
            (NOTES, &NOTES_UP.replace("body text", "body varchar(100)")),
        ]);
        let found = check(&released(), &head);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), format!("migrations/{NOTES}/up.sql:3"));
        insta::assert_snapshot!(shown(&found[0]));
    }

    #[test]
    fn a_released_file_cut_short_fires_at_its_last_line_never_past_its_end() {
        let cut = "CREATE TABLE notes (\n    id bigserial PRIMARY KEY\n);\n";
        let kept = "CREATE TABLE notes (\n    id bigserial PRIMARY KEY,\n";
        let head = tree(&[(RELEASED, UP), (NOTES, kept)]);
        let found = check(&released(), &head);
        assert_eq!(at(&found[0]), format!("migrations/{NOTES}/up.sql:2"));
        let head = tree(&[(RELEASED, UP), (NOTES, cut)]);
        assert_eq!(
            at(&check(&released(), &head)[0]),
            format!("migrations/{NOTES}/up.sql:2")
        );
        // Only the last line end removed: the last line.
        let head = tree(&[(RELEASED, UP), (NOTES, NOTES_UP.trim_end())]);
        assert_eq!(
            at(&check(&released(), &head)[0]),
            format!("migrations/{NOTES}/up.sql:4")
        );
        let mut head = released();
        head.migrations[1].down = Some("DROP TABLE notes;\n-- and more\n".into());
        let mut base = released();
        base.migrations[1].down = Some("DROP TABLE notes;\n".into());
        assert_eq!(
            at(&check(&base, &head)[0]),
            format!("migrations/{NOTES}/down.sql:2")
        );
    }

    #[test]
    fn a_removed_released_migration_fires_at_its_up_sql() {
        let found = check(&released(), &live());
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), format!("migrations/{NOTES}/up.sql:1"));
        insta::assert_snapshot!(shown(&found[0]));
    }

    #[test]
    fn an_edited_released_down_sql_or_metadata_fires_at_that_file() {
        let mut head = released();
        head.migrations[1].down = Some("DROP TABLE notes;\n".into());
        let found = check(&released(), &head);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), format!("migrations/{NOTES}/down.sql:1"));

        let mut head = released();
        head.migrations[1].run_in_transaction = false;
        let found = check(&released(), &head);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), format!("migrations/{NOTES}/metadata.toml:1"));
    }

    /// The change made as a new migration leaves the released ones as they were.
    #[test]
    fn the_change_as_a_new_migration_is_silent() {
        let head = tree(&[
            (RELEASED, UP),
            (NOTES, NOTES_UP),
            (
                "2026-02-01-000000-0000_widen_body",
                "ALTER TABLE notes ALTER COLUMN body TYPE varchar(100);\n",
            ),
        ]);
        assert_eq!(check(&released(), &head), []);
    }
}
