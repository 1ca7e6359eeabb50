//! A schema of a published version edited (in a way no other rule judges breaking) or removed
//! while its version stays: a warning, since clients were built against the published schema.

use crate::finding::{Finding, Rule, Severity};
use crate::input::api::ApiSchema;
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "A007",
    name: "api-published-schema-edited",
    severity: Severity::Warning,
    summary: "schema of a published version edited or removed",
};

/// The base's schema is gone from a version the head still has.
pub(super) fn removed(old: &ApiSchema, out: &mut Vec<Finding>) {
    out.push(Finding::new(
        RULE,
        Span::line(&old.file, 1),
        format!(
            "{} {} was published in {} and is gone from it",
            old.name,
            old.direction.as_str(),
            old.version
        ),
        "published versions do not change: put the change in a new version",
    ));
}

/// The schema changed, and no other rule found the change breaking.
pub(super) fn compatible(new: &ApiSchema, out: &mut Vec<Finding>) {
    out.push(Finding::new(
        RULE,
        Span::line(&new.file, 1),
        format!(
            "{} ({}) is published and its schema changed in a way plumb judges compatible",
            new.key,
            new.direction.as_str()
        ),
        "review it: a published version's schema is what its clients were built against",
    ));
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::a::api_response_field_removed;
    use crate::rules::a::testing::{
        ACCOUNT, ACCOUNT_KEY, CREATE, CREATE_KEY, at, check, check_edit, codes, edit, shown,
    };

    #[test]
    fn a_compatible_edit_of_a_published_schema_warns_at_its_top() {
        let account = edit(
            ACCOUNT,
            "    \"note\"",
            "    \"tier\": { \"type\": \"string\" },\n    \"note\"",
        );
        let found = check_edit(ACCOUNT_KEY, &account);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "schemas/v1/Account.response.json:1");
        insta::assert_snapshot!(shown(&found[0]));
    }

    #[test]
    fn a_schema_removed_from_a_version_that_stays_warns_at_the_old_file() {
        let found = check(
            &[(ACCOUNT_KEY, ACCOUNT), (CREATE_KEY, CREATE)],
            &[(CREATE_KEY, CREATE)],
        );
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "schemas/v1/Account.response.json:1");
        insta::assert_snapshot!(shown(&found[0]));
    }

    /// A breaking edit is reported by its own rule, not also as an edit.
    #[test]
    fn a_breaking_edit_does_not_also_warn() {
        let account = edit(ACCOUNT, "    \"email\": { \"type\": \"string\" },\n", "");
        let found = check_edit(ACCOUNT_KEY, &account);
        assert_eq!(codes(&found), [api_response_field_removed::RULE.code]);
    }

    #[test]
    fn a_new_version_leaving_the_published_one_as_it_was_does_not_warn() {
        let edited = edit(
            ACCOUNT,
            "    \"note\"",
            "    \"tier\": { \"type\": \"string\" },\n    \"note\"",
        );
        let found = check(
            &[(ACCOUNT_KEY, ACCOUNT)],
            &[
                (ACCOUNT_KEY, ACCOUNT),
                ("v2/Account.response.json", &edited),
            ],
        );
        assert_eq!(found, []);
    }
}
