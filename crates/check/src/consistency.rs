//! Family S: the schema the migrations build, `schema.rs`, and the model structs must agree —
//! names, SQL types, nullability, and inserts that give every required column.

use std::path::Path;

use crate::finding::{self as f, Finding};
use crate::models::{Model, Role};
use crate::schema::{Column, Schema, SqlType};
use crate::schema_rs::SchemaRs;
use crate::source::Span;

/// The diesel SQL type `print-schema` writes for a replayed column, and its `max_length`.
pub fn diesel_type(column: &Column) -> (String, Option<u32>) {
    diesel_sql_type(&column.sql_type, column.nullable)
}

/// The diesel SQL type `print-schema` writes for a column of this type and nullability
/// (`Nullable<Array<Nullable<Text>>>`), and its `max_length`. A type of the database's own (an
/// enum) is named in CamelCase.
pub fn diesel_sql_type(ty: &SqlType, nullable: bool) -> (String, Option<u32>) {
    let (base, max_length) = diesel_base(ty);
    let ty = if ty.array {
        format!("Array<Nullable<{base}>>")
    } else {
        base
    };
    let ty = if nullable {
        format!("Nullable<{ty}>")
    } else {
        ty
    };
    (ty, max_length)
}

fn diesel_base(ty: &SqlType) -> (String, Option<u32>) {
    let length = ty.modifiers.first().and_then(|m| u32::try_from(*m).ok());
    let name = match ty.name.as_str() {
        "int8" => "Int8",
        "int4" => "Int4",
        "int2" => "Int2",
        "text" => "Text",
        "varchar" => return ("Varchar".into(), length),
        "bpchar" => return ("Bpchar".into(), length),
        "bool" => "Bool",
        "timestamptz" => "Timestamptz",
        "timestamp" => "Timestamp",
        "date" => "Date",
        "time" => "Time",
        "numeric" => "Numeric",
        "float4" => "Float4",
        "float8" => "Float8",
        "uuid" => "Uuid",
        "jsonb" => "Jsonb",
        "json" => "Json",
        "bytea" => "Bytea",
        "interval" => "Interval",
        "inet" => "Inet",
        "cidr" => "Cidr",
        "macaddr" => "MacAddr",
        "money" => "Money",
        "oid" => "Oid",
        other => return (camel_case(other), None),
    };
    (name.to_owned(), None)
}

fn camel_case(name: &str) -> String {
    name.split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
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

fn required(column: &Column) -> bool {
    !column.nullable && column.default.is_none()
}

/// Every S finding for one snapshot. `schema_rs` is the file as findings show it.
pub fn check(
    schema: &Schema,
    schema_rs: Option<(&Path, &SchemaRs)>,
    models: &[Model],
) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some((file, declared)) = schema_rs else {
        return out;
    };
    let at = |line: usize| Span::line(file, line);
    for (name, table) in &schema.tables {
        let Some(rs) = declared.tables.iter().find(|t| &t.name == name) else {
            out.push(Finding::new(
                f::SCHEMA_RS_MISSING_TABLE,
                at(1),
                format!("the migrations create table `{name}`, which schema.rs does not declare: code cannot query it, and print-schema would add it"),
                "run `diesel print-schema` (or `diesel migration run`) and commit schema.rs",
            ));
            continue;
        };
        for column in &table.columns {
            let (expected, max_length) = diesel_type(column);
            let Some(c) = rs.columns.iter().find(|c| c.name == column.name) else {
                out.push(Finding::new(
                    f::SCHEMA_RS_MISSING_COLUMN,
                    at(rs.line),
                    format!("the migrations give `{name}` a column `{}` ({expected}) that schema.rs does not declare", column.name),
                    "regenerate schema.rs with `diesel print-schema` in the same change as the migration",
                ));
                continue;
            };
            let strip = |t: &str| {
                t.strip_prefix("Nullable<")
                    .and_then(|t| t.strip_suffix('>'))
                    .unwrap_or(t)
                    .to_owned()
            };
            let declared_nullable = c.sql_type.starts_with("Nullable<");
            if strip(&c.sql_type) != strip(&expected)
                || (c.max_length != max_length && max_length.is_some())
            {
                out.push(Finding::new(
                    f::SCHEMA_RS_TYPE_MISMATCH,
                    at(c.line),
                    format!("`{name}.{}` is `{}` in schema.rs; the migrations make it `{expected}`{}", column.name, c.sql_type, max_length.map(|l| format!(" with max_length {l}")).unwrap_or_default()),
                    "regenerate schema.rs with `diesel print-schema`; a hand edit that disagrees with the database fails at run time",
                ));
            } else if declared_nullable != column.nullable {
                out.push(Finding::new(
                    f::SCHEMA_RS_NULLABILITY_MISMATCH,
                    at(c.line),
                    if column.nullable {
                        format!("`{name}.{}` is nullable in the migrations but `{}` in schema.rs: the first NULL read fails to load", column.name, c.sql_type)
                    } else {
                        format!("`{name}.{}` is NOT NULL in the migrations but `{}` in schema.rs", column.name, c.sql_type)
                    },
                    "regenerate schema.rs with `diesel print-schema`",
                ));
            }
        }
        for c in rs
            .columns
            .iter()
            .filter(|c| table.column(&c.name).is_none())
        {
            out.push(Finding::new(
                f::SCHEMA_RS_EXTRA_COLUMN,
                at(c.line),
                format!("schema.rs declares `{name}.{}`, which the migrations do not create: every query naming it fails", c.name),
                "remove it from schema.rs, or add the migration that creates it",
            ));
        }
    }
    for rs in declared
        .tables
        .iter()
        .filter(|t| !schema.tables.contains_key(&t.name))
    {
        out.push(Finding::new(
            f::SCHEMA_RS_EXTRA_COLUMN,
            at(rs.line),
            format!(
                "schema.rs declares table `{}`, which the migrations do not create",
                rs.name
            ),
            "remove it from schema.rs, or add the migration that creates it",
        ));
    }
    for model in models {
        out.extend(check_model(model, schema, declared));
    }
    out
}

fn check_model(model: &Model, schema: &Schema, declared: &SchemaRs) -> Vec<Finding> {
    let mut out = Vec::new();
    let at = |line: usize| Span::line(&model.file, line);
    let Some(rs) = declared.tables.iter().find(|t| t.rust_name == model.table) else {
        out.push(Finding::new(
            f::MODEL_UNKNOWN_COLUMN,
            at(model.line),
            format!(
                "`{}` {} table `{}`, which schema.rs does not declare",
                model.name,
                model
                    .roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join("/"),
                model.table
            ),
            "point `table_name` at a table of schema.rs",
        ));
        return out;
    };
    let table = schema.tables.get(&rs.name);
    for field in &model.fields {
        let Some(c) = rs.columns.iter().find(|c| c.rust_name == field.column) else {
            out.push(Finding::new(
                f::MODEL_UNKNOWN_COLUMN,
                at(field.line),
                format!(
                    "`{}.{}` maps to `{}.{}`, which schema.rs does not declare",
                    model.name, field.column, rs.name, field.column
                ),
                "rename the field or set `#[diesel(column_name = ...)]` to a column of the table",
            ));
            continue;
        };
        let Some(column) = table.and_then(|t| t.column(&c.name)) else {
            continue; // schema.rs itself is wrong: reported above
        };
        let place = format!("`{}.{}` ({})", model.name, field.column, field.rust_type);
        if !field.converted {
            if model.roles.contains(&Role::Reads) && column.nullable && !field.optional {
                out.push(Finding::new(
                    f::MODEL_FIELD_NULLABILITY,
                    at(field.line),
                    format!("{place} reads `{}.{}`, which is nullable: loading a row where it is NULL fails at run time", rs.name, c.name),
                    "make the field an Option, or make the column NOT NULL first (backfill, then enforce)",
                ));
            }
            if model.roles.contains(&Role::Inserts) && field.optional && required(column) {
                out.push(Finding::new(
                    f::MODEL_FIELD_NULLABILITY,
                    at(field.line),
                    format!("{place} inserts into `{}.{}`, which is NOT NULL without a default: inserting None fails at run time", rs.name, c.name),
                    "make the field non-optional, or give the column a default",
                ));
            }
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
                    f::MODEL_FIELD_TYPE,
                    at(field.line),
                    format!("{place} maps to `{}.{}`, a `{base_sql}` column: diesel maps that to {}, not {}", rs.name, c.name, allowed.join(" or "), field.base),
                    "change the field's type to match the column",
                ));
            }
        }
    }
    if model.roles.contains(&Role::Inserts)
        && let Some(table) = table
    {
        for column in table.columns.iter().filter(|c| required(c)) {
            let provided = model.fields.iter().any(|field| {
                rs.columns
                    .iter()
                    .any(|c| c.rust_name == field.column && c.name == column.name)
            });
            if !provided {
                out.push(Finding::new(
                    f::INSERT_MISSING_REQUIRED_COLUMN,
                    at(model.line),
                    format!("`{}` inserts into `{}` without `{}`, which is NOT NULL without a default: every insert fails", model.name, rs.name, column.name),
                    "add the field, or give the column a default",
                ));
            }
        }
    }
    out
}
