//! A column registered as sensitive appears in a response of a type that carries its table: it
//! would leave the service in every response.

use std::collections::{BTreeMap, BTreeSet};

use crate::finding::{Finding, Rule, Severity};
use crate::input::api::ApiSchema;
use crate::input::registry::{Registration, Registry};
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "C004",
    name: "sensitive-exposed",
    severity: Severity::Error,
    summary: "sensitive column in a response schema",
};

pub(super) fn check(registry: &Registry, responses: &[&ApiSchema], out: &mut Vec<Finding>) {
    // A field of the same name in a type unrelated to the table is another thing.
    let mut carriers: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for entry in &registry.entries {
        if let Registration::Exposed(fields) = &entry.registration {
            for (type_name, _) in fields {
                carriers
                    .entry(entry.table.as_str())
                    .or_default()
                    .insert(type_name.as_str());
            }
        }
    }
    for entry in registry
        .entries
        .iter()
        .filter(|e| e.registration == Registration::Sensitive)
    {
        for schema_file in responses {
            let carries = carriers
                .get(entry.table.as_str())
                .is_some_and(|t| t.contains(schema_file.name.as_str()));
            if carries && schema_file.properties.contains_key(&entry.column) {
                out.push(Finding::new(
                    RULE,
                    Span::line(&schema_file.file, schema_file.line_of(&entry.column)),
                    format!(
                        "{} ({}) has a field `{}`, and `{}.{}` is registered as sensitive: it would leave the service in every response",
                        schema_file.name,
                        schema_file.version,
                        entry.column,
                        entry.table,
                        entry.column
                    ),
                    "remove the field from the response type",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::c::testing::{
        ACCOUNT, ACCOUNT_KEY, REGISTRY, UP, at, check, codes, edit, shown,
    };

    fn with_token(json: &str) -> String {
        edit(
            json,
            "    \"email\": { \"type\": \"string\" }\n",
            "    \"email\": { \"type\": \"string\" },\n    \"token\": { \"type\": \"string\" }\n",
        )
    }

    #[test]
    fn a_sensitive_column_in_a_response_of_its_table_fires_at_the_field() {
        let found = check(&[UP], REGISTRY, &[(ACCOUNT_KEY, &with_token(ACCOUNT))]);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "schemas/v1/Account.response.json:6");
        insta::assert_snapshot!(shown(&found[0]));
    }

    /// A `token` of a type that carries no column of the table is another thing.
    #[test]
    fn a_field_of_the_name_in_an_unrelated_response_is_silent() {
        let found = check(
            &[UP],
            REGISTRY,
            &[
                (ACCOUNT_KEY, ACCOUNT),
                ("v1/Session.response.json", &with_token(ACCOUNT)),
            ],
        );
        assert_eq!(found, []);
    }
}
