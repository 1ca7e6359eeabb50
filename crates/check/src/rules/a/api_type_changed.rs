//! A field of a published version that changed type, or a request field that no longer accepts
//! null: what clients send or read no longer fits.

use super::Field;
use crate::finding::{Finding, Rule, Severity};
use crate::input::api::Property;

pub const RULE: Rule = Rule {
    code: "A005",
    name: "api-type-changed",
    severity: Severity::Error,
    summary: "field of a published version changed type (or a request field no longer accepts null)",
};

/// A request field that accepted null and no longer does.
pub(super) fn null_refused(old: &Property, new: &Property, field: &Field, out: &mut Vec<Finding>) {
    if old.nullable && !new.nullable {
        out.push(Finding::new(
            RULE,
            field.at.clone(),
            format!("{} no longer accepts null", field.what),
            "requests may only become more permissive: keep accepting null",
        ));
    }
}

/// A changed type or format, in either direction. Whether it reported.
pub(super) fn check(old: &Property, new: &Property, field: &Field, out: &mut Vec<Finding>) -> bool {
    let changed = old.types != new.types || old.format != new.format;
    if changed {
        out.push(Finding::new(
            RULE,
            field.at.clone(),
            format!(
                "{} changed type: {} to {}",
                field.what,
                old.describe(),
                new.describe()
            ),
            "keep the type in this version; a new type belongs in a new field or version",
        ));
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::a::api_published_schema_edited;
    use crate::rules::a::testing::{
        ACCOUNT, ACCOUNT_KEY, CREATE, CREATE_KEY, at, check_edit, codes, edit, shown,
    };

    #[test]
    fn a_response_field_of_another_type_fires_at_the_field() {
        let account = edit(
            ACCOUNT,
            r#""id": { "type": "integer" }"#,
            r#""id": { "type": "string" }"#,
        );
        let found = check_edit(ACCOUNT_KEY, &account);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "schemas/v1/Account.response.json:4");
        insta::assert_snapshot!(shown(&found[0]));
    }

    #[test]
    fn a_request_field_that_no_longer_accepts_null_fires_at_the_field() {
        let create = edit(
            CREATE,
            r#""note": { "type": ["string", "null"] }"#,
            r#""note": { "type": "string" }"#,
        );
        let found = check_edit(CREATE_KEY, &create);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "schemas/v1/CreateAccount.request.json:6");
        insta::assert_snapshot!(shown(&found[0]));
    }

    /// A changed format is a changed type.
    #[test]
    fn a_new_format_fires() {
        let account = edit(
            ACCOUNT,
            r#""email": { "type": "string" }"#,
            r#""email": { "type": "string", "format": "email" }"#,
        );
        let found = check_edit(ACCOUNT_KEY, &account);
        assert_eq!(codes(&found), [RULE.code]);
    }

    /// A request field that starts accepting null is more permissive: compatible.
    #[test]
    fn a_request_field_that_now_accepts_null_does_not_fire() {
        let create = edit(
            CREATE,
            r#""email": { "type": "string" }"#,
            r#""email": { "type": ["string", "null"] }"#,
        );
        let found = check_edit(CREATE_KEY, &create);
        assert_eq!(codes(&found), [api_published_schema_edited::RULE.code]);
    }
}
