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
                "{}.{field} ({}) is `{}`, but it carries `{}.{}`, a {} column",
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
