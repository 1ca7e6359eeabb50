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

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::a::api_published_schema_edited;
    use crate::rules::a::testing::{ACCOUNT, ACCOUNT_KEY, at, check_edit, codes, edit, shown};

    #[test]
    fn a_response_field_made_nullable_fires_at_the_field() {
        let account = edit(
            ACCOUNT,
            r#""email": { "type": "string" }"#,
            r#""email": { "type": ["string", "null"] }"#,
        );
        let found = check_edit(ACCOUNT_KEY, &account);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "schemas/v1/Account.response.json:5");
        insta::assert_snapshot!(shown(&found[0]));
    }

    /// A response field that stops being null is compatible.
    #[test]
    fn a_response_field_made_non_null_does_not_fire() {
        let account = edit(
            ACCOUNT,
            r#""note": { "type": ["string", "null"] }"#,
            r#""note": { "type": "string" }"#,
        );
        let found = check_edit(ACCOUNT_KEY, &account);
        assert_eq!(codes(&found), [api_published_schema_edited::RULE.code]);
    }
}
