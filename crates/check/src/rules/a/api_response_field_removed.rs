//! A response field of a published version removed: clients that read it break.

use super::Field;
use crate::finding::{Finding, Rule, Severity};
use crate::input::api::ApiSchema;
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "A002",
    name: "api-response-field-removed",
    severity: Severity::Error,
    summary: "response field of a published version removed",
};

/// The field has no line in the head's schema: the finding points at its start.
pub(super) fn check(new: &ApiSchema, field: &Field, out: &mut Vec<Finding>) {
    out.push(Finding::new(
        RULE,
        Span::line(&new.file, 1),
        format!(
            "{} is gone from the response: clients that read it break",
            field.what
        ),
        "keep the field in this version; drop it only in a new version",
    ));
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::a::api_published_schema_edited;
    use crate::rules::a::testing::{ACCOUNT, ACCOUNT_KEY, at, check_edit, codes, edit, shown};

    #[test]
    fn a_removed_response_field_fires_at_the_top_of_the_schema() {
        let account = edit(ACCOUNT, "    \"email\": { \"type\": \"string\" },\n", "");
        let account = edit(&account, r#""id", "email","#, r#""id","#);
        let found = check_edit(ACCOUNT_KEY, &account);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "schemas/v1/Account.response.json:1");
        insta::assert_snapshot!(shown(&found[0]));
    }

    /// A new field is compatible: only the published-schema warning.
    #[test]
    fn an_added_response_field_does_not_fire() {
        let account = edit(
            ACCOUNT,
            "    \"note\"",
            "    \"tier\": { \"type\": \"string\" },\n    \"note\"",
        );
        let found = check_edit(ACCOUNT_KEY, &account);
        assert_eq!(codes(&found), [api_published_schema_edited::RULE.code]);
    }
}
