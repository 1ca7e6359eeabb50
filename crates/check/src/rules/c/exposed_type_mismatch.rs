//! An exposed field whose JSON type, or nullability, does not fit the column it carries: the
//! service cannot fill it for every row.

use crate::finding::{Finding, Rule, Severity};
use crate::input::api::ApiSchema;
use crate::input::registry::Entry;
use crate::sql::schema::{Column, Schema};
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "C003",
    name: "exposed-type-mismatch",
    severity: Severity::Error,
    summary: "exposed field whose JSON type or nullability does not fit its column",
};

/// One response schema that carries the entry's column as `type_name.field`.
pub(super) fn check(
    entry: &Entry,
    column: &Column,
    schema: &Schema,
    (type_name, field): (&str, &str),
    schema_file: &ApiSchema,
    out: &mut Vec<Finding>,
) {
    let Some(property) = schema_file.properties.get(field) else {
        return;
    };
    let fits = json_types(column, schema).is_none_or(|allowed| {
        property.types.is_empty()
            || property.types.iter().any(|t| {
                allowed.contains(&t.as_str()) || (t == "number" && allowed.contains(&"integer"))
            })
    });
    let at = Span::line(&schema_file.file, schema_file.line_of(field));
    if !fits {
        out.push(Finding::new(
            RULE,
            at,
            format!(
                "{}.{field} ({}) is `{}`, but it carries `{}.{}`, a column of type {}",
                type_name,
                schema_file.version,
                property.types.join("|"),
                entry.table,
                entry.column,
                column.sql_type.name
            ),
            "make the field's JSON type the column's, or register another field",
        ));
    } else if column.nullable && property.required && !property.nullable {
        out.push(Finding::new(
            RULE,
            at,
            format!(
                "{}.{field} ({}) is required and never null, but `{}.{}` is nullable: the service cannot fill it for rows where it is NULL",
                type_name, schema_file.version, entry.table, entry.column
            ),
            "make the field optional or nullable, or make the column NOT NULL first",
        ));
    }
}

/// The JSON types a column's values take in an API.
fn json_types(column: &Column, schema: &Schema) -> Option<&'static [&'static str]> {
    if column.sql_type.array {
        return Some(&["array"]);
    }
    Some(match column.sql_type.name.as_str() {
        "int2" | "int4" | "int8" => &["integer"],
        "float4" | "float8" => &["number"],
        "numeric" => &["number", "string"],
        "bool" => &["boolean"],
        "json" | "jsonb" => return None,
        "text" | "varchar" | "bpchar" | "uuid" | "date" | "time" | "timestamp" | "timestamptz"
        | "inet" | "cidr" | "interval" => &["string"],
        other if schema.enums.contains_key(other) => &["string"],
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::c::testing::{
        ACCOUNT, ACCOUNT_KEY, REGISTRY, UP, at, check, codes, edit, shown,
    };

    #[test]
    fn a_field_of_another_json_type_fires_at_the_field() {
        let account = edit(
            ACCOUNT,
            r#""id": { "type": "integer" }"#,
            r#""id": { "type": "string" }"#,
        );
        let found = check(&[UP], REGISTRY, &[(ACCOUNT_KEY, &account)]);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "schemas/v1/Account.response.json:4");
        insta::assert_snapshot!(shown(&found[0]));
    }

    /// `note` is nullable: a required, never-null field cannot carry it.
    fn exposing_note(note: &str) -> Vec<crate::finding::Finding> {
        let registry = edit(REGISTRY, "note = \"internal\"", "note = \"Account.note\"");
        let account = edit(
            ACCOUNT,
            "    \"email\": { \"type\": \"string\" }\n",
            &format!("    \"email\": {{ \"type\": \"string\" }},\n    \"note\": {note}\n"),
        );
        let account = edit(&account, r#"["id", "email"]"#, r#"["id", "email", "note"]"#);
        check(&[UP], &registry, &[(ACCOUNT_KEY, &account)])
    }

    #[test]
    fn a_required_non_null_field_carrying_a_nullable_column_fires_at_the_field() {
        let found = exposing_note(r#"{ "type": "string" }"#);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "schemas/v1/Account.response.json:6");
        insta::assert_snapshot!(shown(&found[0]));
    }

    #[test]
    fn a_nullable_field_carrying_a_nullable_column_is_silent() {
        assert_eq!(exposing_note(r#"{ "type": ["string", "null"] }"#), []);
    }

    /// JSON's `number` holds any integer.
    #[test]
    fn a_number_field_carrying_an_integer_column_is_silent() {
        let account = edit(
            ACCOUNT,
            r#""id": { "type": "integer" }"#,
            r#""id": { "type": "number" }"#,
        );
        assert_eq!(check(&[UP], REGISTRY, &[(ACCOUNT_KEY, &account)]), []);
    }
}
