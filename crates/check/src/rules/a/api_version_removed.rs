//! A published API version removed: every client of it breaks.

use crate::finding::{Finding, Rule, Severity};
use crate::input::api::ApiSchema;
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "A008",
    name: "api-version-removed",
    severity: Severity::Error,
    summary: "published API version removed",
};

/// Reported once per version, at the first of its schemas.
pub(super) fn check(old: &ApiSchema, out: &mut Vec<Finding>) {
    out.push(Finding::new(
        RULE,
        Span::line(&old.file, 1),
        format!(
            "API version {} is published in the base and gone in the head: its clients break",
            old.version
        ),
        "keep serving a published version until its clients have moved; retire it in a release of its own",
    ));
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::a::testing::{
        ACCOUNT, ACCOUNT_KEY, CREATE, CREATE_KEY, at, check, codes, shown,
    };

    /// Once per version, at its first schema, however many schemas it had.
    #[test]
    fn a_removed_version_fires_once_at_its_first_schema() {
        let found = check(
            &[(ACCOUNT_KEY, ACCOUNT), (CREATE_KEY, CREATE)],
            &[("v2/Account.response.json", ACCOUNT)],
        );
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "schemas/v1/Account.response.json:1");
        insta::assert_snapshot!(shown(&found[0]));
    }

    #[test]
    fn a_version_kept_beside_a_new_one_does_not_fire() {
        let found = check(
            &[(ACCOUNT_KEY, ACCOUNT), (CREATE_KEY, CREATE)],
            &[
                (ACCOUNT_KEY, ACCOUNT),
                (CREATE_KEY, CREATE),
                ("v2/Account.response.json", ACCOUNT),
            ],
        );
        assert_eq!(found, []);
    }
}
