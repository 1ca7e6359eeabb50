//! A request field of a published version that is newly required: existing clients do not send
//! it, and their requests are rejected.

use super::Field;
use crate::finding::{Finding, Rule, Severity};
use crate::input::api::Property;

pub const RULE: Rule = Rule {
    code: "A001",
    name: "api-request-field-required",
    severity: Severity::Error,
    summary: "request field of a published version newly required",
};

/// `old`: the field in the base, if it was there. The head's field is required.
pub(super) fn check(old: Option<&Property>, field: &Field, out: &mut Vec<Finding>) {
    if old.is_some_and(|o| o.required) {
        return;
    }
    out.push(Finding::new(
        RULE,
        field.at.clone(),
        format!(
            "{} is required now: requests of existing clients, which do not send it, are rejected",
            field.what
        ),
        "make it optional in this version (with a default on the server); require it only in a new version",
    ));
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::a::api_published_schema_edited;
    use crate::rules::a::testing::{CREATE, CREATE_KEY, at, check_edit, codes, edit, shown};

    #[test]
    fn a_request_field_made_required_fires_at_the_field() {
        let create = edit(CREATE, r#"["email"]"#, r#"["email", "plan"]"#);
        let found = check_edit(CREATE_KEY, &create);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "schemas/v1/CreateAccount.request.json:5");
        insta::assert_snapshot!(shown(&found[0]));
    }

    #[test]
    fn a_new_required_request_field_fires() {
        let create = edit(
            CREATE,
            "    \"note\"",
            "    \"tier\": { \"type\": \"string\" },\n    \"note\"",
        );
        let create = edit(&create, r#"["email"]"#, r#"["email", "tier"]"#);
        let found = check_edit(CREATE_KEY, &create);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "schemas/v1/CreateAccount.request.json:6");
    }

    /// An optional new field is compatible: only the published-schema warning.
    #[test]
    fn a_new_optional_request_field_does_not_fire() {
        let create = edit(
            CREATE,
            "    \"note\"",
            "    \"tier\": { \"type\": \"string\" },\n    \"note\"",
        );
        let found = check_edit(CREATE_KEY, &create);
        assert_eq!(codes(&found), [api_published_schema_edited::RULE.code]);
    }
}
