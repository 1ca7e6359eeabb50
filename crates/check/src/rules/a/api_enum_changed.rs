//! An enum of a published version changed the breaking way for its direction: a request enum
//! that no longer accepts a value, or a response enum that may send one clients do not know.

use super::Field;
use crate::finding::{Finding, Rule, Severity};
use crate::input::api::{Direction, Property};

pub const RULE: Rule = Rule {
    code: "A006",
    name: "api-enum-changed",
    severity: Severity::Error,
    summary: "enum of a published version changed the breaking way for its direction",
};

pub(super) fn check(
    old: &Property,
    new: &Property,
    field: &Field,
    direction: Direction,
    out: &mut Vec<Finding>,
) {
    let (Some(old), Some(new)) = (&old.values, &new.values) else {
        return;
    };
    let lost: Vec<&String> = old.iter().filter(|v| !new.contains(v)).collect();
    let gained: Vec<&String> = new.iter().filter(|v| !old.contains(v)).collect();
    let request = direction == Direction::Request;
    let (breaking, verb) = if request {
        (lost, "no longer accepts")
    } else {
        (gained, "may now send")
    };
    if breaking.is_empty() {
        return;
    }
    let list: Vec<String> = breaking.iter().map(|v| v.to_string()).collect();
    out.push(Finding::new(
        RULE,
        field.at.clone(),
        format!("{} {verb} {}", field.what, list.join(", ")),
        if request {
            "requests may only accept more values"
        } else {
            "responses may only send fewer values: clients reject what they do not know"
        },
    ));
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::a::api_published_schema_edited;
    use crate::rules::a::testing::{
        ACCOUNT, ACCOUNT_KEY, CREATE, CREATE_KEY, at, check_edit, codes, edit, shown,
    };

    #[test]
    fn a_response_enum_that_may_send_a_new_value_fires_at_the_field() {
        let account = edit(
            ACCOUNT,
            r#"["active", "closed"]"#,
            r#"["active", "closed", "frozen"]"#,
        );
        let found = check_edit(ACCOUNT_KEY, &account);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "schemas/v1/Account.response.json:6");
        insta::assert_snapshot!(shown(&found[0]));
    }

    #[test]
    fn a_request_enum_that_no_longer_accepts_a_value_fires_at_the_field() {
        let create = edit(CREATE, r#"["free", "paid"]"#, r#"["free"]"#);
        let found = check_edit(CREATE_KEY, &create);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "schemas/v1/CreateAccount.request.json:5");
        insta::assert_snapshot!(shown(&found[0]));
    }

    /// Each direction's compatible way: a response sending fewer values, a request accepting
    /// more.
    #[test]
    fn a_response_enum_losing_or_a_request_enum_gaining_a_value_does_not_fire() {
        let account = edit(ACCOUNT, r#"["active", "closed"]"#, r#"["active"]"#);
        let found = check_edit(ACCOUNT_KEY, &account);
        assert_eq!(codes(&found), [api_published_schema_edited::RULE.code]);
        let create = edit(CREATE, r#"["free", "paid"]"#, r#"["free", "paid", "team"]"#);
        let found = check_edit(CREATE_KEY, &create);
        assert_eq!(codes(&found), [api_published_schema_edited::RULE.code]);
    }
}
