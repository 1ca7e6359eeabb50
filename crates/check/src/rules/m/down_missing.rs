//! A migration without a down.sql (or with an empty one) cannot be rolled back with its release.

use super::Hit;
use crate::finding::{Rule, Severity};
use crate::migrations::Migration;

pub const RULE: Rule = Rule {
    code: "M016",
    name: "down-missing",
    severity: Severity::Error,
    summary: "migration without a down.sql",
};

/// Points at the start of up.sql: the file that is missing has no place to point at.
pub(super) fn check(migration: &Migration) -> Option<Hit> {
    let reversible = migration
        .down
        .as_deref()
        .is_some_and(|d| !d.trim().is_empty());
    (!reversible).then(|| {
        Hit::new(
            RULE,
            (0, 0),
            format!(
                "{} has no down.sql (or an empty one): the release cannot be rolled back",
                migration.name
            ),
            "write a down.sql that restores exactly the schema this up.sql changed",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::m::testing::{M, TIMEOUT, codes, human, snapshot, workspace};

    #[test]
    fn down_missing() {
        let dir = workspace(&[M(
            "add",
            &format!("{TIMEOUT}ALTER TABLE accounts ADD COLUMN a text;\n"),
            None,
        )]);
        let folder = std::fs::read_dir(dir.path().join("migrations"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().ends_with("_add"))
            .unwrap();
        assert!(codes(&crate::check_workspace(dir.path(), None).unwrap()).is_empty());
        std::fs::remove_file(folder.join("down.sql")).unwrap();
        let report = crate::check_workspace(dir.path(), None).unwrap();
        assert_eq!(codes(&report), [RULE.code]);
        snapshot!(RULE, human(&report));
        std::fs::write(folder.join("down.sql"), "  \n").unwrap();
        assert_eq!(
            codes(&crate::check_workspace(dir.path(), None).unwrap()),
            [RULE.code],
            "an empty down.sql reverses nothing"
        );
    }
}
