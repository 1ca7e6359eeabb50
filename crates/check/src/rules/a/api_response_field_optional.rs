//! A response field of a published version no longer required: clients that read it
//! unconditionally break when it is absent.

use super::Field;
use crate::finding::{Finding, Rule, Severity};
use crate::input::api::Property;

pub const RULE: Rule = Rule {
    code: "A003",
    name: "api-response-field-optional",
    severity: Severity::Error,
    summary: "response field of a published version no longer required",
};

pub(super) fn check(old: &Property, new: &Property, field: &Field, out: &mut Vec<Finding>) {
    if old.required && !new.required {
        out.push(Finding::new(
            RULE,
            field.at.clone(),
            format!(
                "{} may now be absent: clients that read it unconditionally break",
                field.what
            ),
            "keep it required in this version",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::a::api_published_schema_edited;
    use crate::rules::a::testing::{ACCOUNT, ACCOUNT_KEY, at, check_edit, codes, edit, shown};

    #[test]
    fn a_response_field_no_longer_required_fires_at_the_field() {
        let account = edit(ACCOUNT, r#""id", "email","#, r#""id","#);
        let found = check_edit(ACCOUNT_KEY, &account);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "schemas/v1/Account.response.json:5");
        insta::assert_snapshot!(shown(&found[0]));
    }

    /// A response promising more (a field now always present) is compatible.
    #[test]
    fn a_response_field_made_required_does_not_fire() {
        let account = edit(ACCOUNT, r#""status"]"#, r#""status", "note"]"#);
        let found = check_edit(ACCOUNT_KEY, &account);
        assert_eq!(codes(&found), [api_published_schema_edited::RULE.code]);
    }
}
