//! A model field whose Rust type does not fit its column's SQL type: the derive does not
//! compile, or loading fails. Judged only for the types whose mapping diesel fixes.

use super::{diesel_type, place};
use crate::finding::{Finding, Rule, Severity};
use crate::input::models::{Model, ModelField};
use crate::input::schema_rs::{ColumnRs, TableRs};
use crate::sql::schema::Column;
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "S008",
    name: "model-field-type",
    severity: Severity::Error,
    summary: "model field type that does not fit its column's SQL type",
};

pub(super) fn check(
    model: &Model,
    field: &ModelField,
    rs: &TableRs,
    c: &ColumnRs,
    column: &Column,
    out: &mut Vec<Finding>,
) {
    let (expected, _) = diesel_type(column);
    let base_sql = expected
        .trim_start_matches("Nullable<")
        .trim_end_matches('>')
        .to_owned();
    if let Some(allowed) = rust_types(&base_sql).filter(|_| !column.sql_type.array)
        && KNOWN_RUST.contains(&field.base.as_str())
        && !allowed.contains(&field.base.as_str())
    {
        out.push(Finding::new(
            RULE,
            Span::line(&model.file, field.line),
            format!(
                "{} maps to `{}.{}`, a `{base_sql}` column: diesel maps that to {}, not {}",
                place(model, field),
                rs.name,
                c.name,
                allowed.join(" or "),
                field.base
            ),
            "change the field's type to match the column",
        ));
    }
}

/// The Rust types diesel maps a (non-null, non-array) SQL type from and to, for the types whose
/// mapping is fixed. `None`: a type of the database's own, or one plumb does not judge.
fn rust_types(diesel: &str) -> Option<&'static [&'static str]> {
    Some(match diesel {
        "Int8" => &["i64"],
        "Int4" => &["i32"],
        "Int2" => &["i16"],
        "Text" | "Varchar" | "Bpchar" => &["String", "str", "Cow", "Box"],
        "Bool" => &["bool"],
        "Timestamptz" => &["DateTime", "NaiveDateTime", "SystemTime", "OffsetDateTime"],
        "Timestamp" => &["NaiveDateTime", "SystemTime", "PrimitiveDateTime"],
        "Date" => &["NaiveDate", "Date"],
        "Float4" => &["f32"],
        "Float8" => &["f64"],
        "Uuid" => &["Uuid"],
        "Jsonb" | "Json" => &["Value"],
        "Bytea" => &["Vec", "[u8]"],
        "Numeric" => &["BigDecimal"],
        _ => return None,
    })
}

/// Rust types whose SQL type is fixed: a field of one of these on a column of another type
/// fails to compile or to load.
const KNOWN_RUST: &[&str] = &[
    "i16",
    "i32",
    "i64",
    "f32",
    "f64",
    "bool",
    "String",
    "str",
    "NaiveDate",
    "NaiveDateTime",
    "DateTime",
    "Uuid",
    "BigDecimal",
];

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::s::testing::{MODELS, SCHEMA_RS, UP, at, check, codes, edit, shown};

    #[test]
    fn a_field_of_another_rust_type_fires_at_the_field() {
        let models = edit(MODELS, "pub id: i64,", "pub id: i32,");
        let found = check(UP, SCHEMA_RS, &models);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "src/models.rs:4");
        insta::assert_snapshot!(shown(&found[0]));
    }

    #[test]
    fn a_type_changed_in_the_migrations_schema_rs_and_model_alike_is_silent() {
        let up = edit(UP, "id bigserial", "id serial");
        let schema_rs = edit(SCHEMA_RS, "id -> Int8,", "id -> Int4,");
        let models = edit(MODELS, "pub id: i64,", "pub id: i32,");
        assert_eq!(check(&up, &schema_rs, &models), []);
    }

    /// A type of the crate's own maps however its impls say: not judged.
    #[test]
    fn a_newtype_field_is_silent() {
        let models = edit(MODELS, "pub id: i64,", "pub id: AccountId,");
        assert_eq!(check(UP, SCHEMA_RS, &models), []);
    }
}
