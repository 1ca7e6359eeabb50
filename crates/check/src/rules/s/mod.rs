//! Family S, schema and backend: the schema the migrations build, `schema.rs`, and the model
//! structs must agree — names, SQL types, nullability, and inserts that give every required
//! column. The walk over tables, columns, models and fields is here; each rule judges one item.

pub mod insert_missing_required_column;
pub mod model_field_nullability;
pub mod model_field_type;
pub mod model_unknown_column;
pub mod schema_rs_extra_column;
pub mod schema_rs_missing_column;
pub mod schema_rs_missing_table;
pub mod schema_rs_nullability_mismatch;
pub mod schema_rs_type_mismatch;

use std::collections::HashMap;

use crate::finding::Finding;
use crate::input::models::Model;
use crate::input::schema_rs::{SchemaRs, TableRs};
use crate::input::snapshot::Declared;
use crate::sql::schema::{Column, RelationKind, Schema, SqlType};

/// Every S finding: each schema file (as print-schema generates it) against the part of the
/// schema it prints, then each model against every schema file together (`all`).
pub fn check(
    schema: &Schema,
    declared: &[Declared],
    all: &SchemaRs,
    models: &[Model],
) -> Vec<Finding> {
    let mut out = Vec::new();
    for one in declared {
        check_file(schema, one, &mut out);
    }
    for model in models {
        check_model(model, schema, all, &mut out);
    }
    out
}

fn check_file(schema: &Schema, declared: &Declared, out: &mut Vec<Finding>) {
    let file = declared.file.as_path();
    let tables: Vec<TableRs> = declared.tables().collect();
    // By name, the first of a name as a search would find it: wide tables and many tables
    // are looked up in constant time.
    let mut by_name: HashMap<&str, &TableRs> = HashMap::new();
    for t in &tables {
        by_name.entry(t.name.as_str()).or_insert(t);
    }
    for (key, table) in &schema.tables {
        let Some(name) = declared.table_name(key) else {
            continue;
        };
        let Some(rs) = by_name.get(name).copied() else {
            // print-schema writes tables, and only those its filter lets through.
            if table.kind == RelationKind::Table && declared.filter.prints(name) {
                schema_rs_missing_table::check(file, name, out);
            }
            continue;
        };
        let mut declared_columns = HashMap::new();
        for c in &rs.columns {
            declared_columns.entry(c.name.as_str()).or_insert(c);
        }
        for column in &table.columns {
            let Some(c) = declared_columns.get(column.name.as_str()).copied() else {
                schema_rs_missing_column::check(file, name, rs, column, out);
                continue;
            };
            // A column computed by a function the replay does not know has no type to judge.
            if column.sql_type.is_unknown() {
                continue;
            }
            // A wrong type makes the nullability moot.
            if !schema_rs_type_mismatch::check(file, name, column, c, out) {
                schema_rs_nullability_mismatch::check(file, name, column, c, out);
            }
        }
        schema_rs_extra_column::columns(file, name, table, rs, out);
    }
    schema_rs_extra_column::tables(file, schema, declared, &tables, out);
}

fn check_model(model: &Model, schema: &Schema, declared: &SchemaRs, out: &mut Vec<Finding>) {
    let Some(rs) = declared.tables.iter().find(|t| t.rust_name == model.table) else {
        model_unknown_column::table(model, out);
        return;
    };
    let table = schema.tables.get(&rs.name);
    for field in &model.fields {
        let Some(c) = rs.columns.iter().find(|c| c.rust_name == field.column) else {
            model_unknown_column::field(model, field, rs, out);
            continue;
        };
        let Some((table, column)) = table.and_then(|t| Some((t.as_ref(), t.column(&c.name)?)))
        else {
            continue; // schema.rs itself is wrong: reported above
        };
        // A converted field's type is another, which diesel converts: nothing to judge.
        if !field.converted {
            model_field_nullability::check(model, field, rs, c, (table, column), out);
            model_field_type::check(model, field, rs, c, column, out);
        }
    }
    if let Some(table) = table {
        insert_missing_required_column::check(model, rs, table, out);
    }
}

/// Where a model field says it is, as a finding names it: `` `Account.email` (String) ``.
fn place(model: &Model, field: &crate::input::models::ModelField) -> String {
    format!("`{}.{}` ({})", model.name, field.column, field.rust_type)
}

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

/// Names diesel gives one SQL type under several spellings (`diesel::sql_types` aliases), and
/// the one print-schema writes.
const DIESEL_ALIASES: &[(&str, &str)] = &[
    ("Integer", "Int4"),
    ("BigInt", "Int8"),
    ("Bigint", "Int8"),
    ("SmallInt", "Int2"),
    ("Smallint", "Int2"),
    ("Float", "Float4"),
    ("Double", "Float8"),
    ("Decimal", "Numeric"),
    ("Binary", "Bytea"),
    ("VarChar", "Text"),
    ("Varchar", "Text"),
    ("Bpchar", "Text"),
];

/// A diesel type as diesel itself identifies it: `Nullable<Array<Nullable<Integer>>>` and
/// `Nullable<Array<Nullable<Int4>>>` are the same type, and `Varchar` is `Text`.
pub fn canonical_diesel_type(text: &str) -> String {
    let mut out = String::new();
    for part in text.split_inclusive(['<', '>', ',']) {
        let (name, delimiter) = match part.char_indices().last() {
            Some((i, '<' | '>' | ',')) => (&part[..i], &part[i..]),
            _ => (part, ""),
        };
        let name = name.trim();
        let name = DIESEL_ALIASES
            .iter()
            .find(|(alias, _)| *alias == name)
            .map_or(name, |(_, canonical)| canonical);
        out.push_str(name);
        out.push_str(delimiter);
    }
    out
}

fn diesel_base(ty: &SqlType) -> (String, Option<u32>) {
    let length = ty.modifiers.first().and_then(|m| u32::try_from(*m).ok());
    match (ty.name.as_str(), builtin_diesel_name(&ty.name)) {
        ("varchar" | "bpchar", Some(name)) => (name.to_owned(), length),
        (_, Some(name)) => (name.to_owned(), None),
        (other, None) => (camel_case(other), None),
    }
}

/// The diesel type of one of PostgreSQL's own types; `None` for a type of the database's
/// own (an enum, a domain), which print-schema declares in a `sql_types` module.
fn builtin_diesel_name(name: &str) -> Option<&'static str> {
    Some(match name {
        "int8" => "Int8",
        "int4" => "Int4",
        "int2" => "Int2",
        "text" => "Text",
        "varchar" => "Varchar",
        "bpchar" => "Bpchar",
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
        _ => return None,
    })
}

/// Whether diesel has the type built in (else print-schema declares it in `sql_types`).
pub fn is_builtin_type(ty: &SqlType) -> bool {
    builtin_diesel_name(&ty.name).is_some()
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

/// Cases written as edits of one small, consistent backend: a table, its `schema.rs` and two
/// model structs, checked by [`check`].
#[cfg(test)]
pub(crate) mod testing {
    use std::path::Path;

    use crate::finding::Finding;
    use crate::input::models::parse_models;
    use crate::input::schema_rs;
    use crate::input::settings::TableFilter;
    use crate::input::snapshot::Declared;
    use crate::migrations::Migration;
    use crate::sql::replay_each;
    use crate::sql::schema::Schema;

    /// Where findings say `schema.rs` and the models are.
    pub(crate) const SCHEMA_RS_FILE: &str = "src/schema.rs";
    pub(crate) const MODELS_FILE: &str = "src/models.rs";

    /// The migrations' SQL.
    pub(crate) const UP: &str = "CREATE TABLE accounts (
    id bigserial PRIMARY KEY,
    email varchar(100) NOT NULL,
    note text
);
";

    /// `schema.rs` as `diesel print-schema` writes it for [`UP`].
    pub(crate) const SCHEMA_RS: &str = "diesel::table! {
    accounts (id) {
        id -> Int8,
        #[max_length = 100]
        email -> Varchar,
        note -> Nullable<Text>,
    }
}
";

    /// A struct that reads the table and one that inserts into it.
    pub(crate) const MODELS: &str = "#[derive(Queryable, Selectable)]
#[diesel(table_name = accounts)]
pub struct Account {
    pub id: i64,
    pub email: String,
    pub note: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = accounts)]
pub struct NewAccount<'a> {
    pub email: &'a str,
    pub note: Option<&'a str>,
}
";

    /// `text` with its first `from` replaced, which must be there.
    pub(crate) fn edit(text: &str, from: &str, to: &str) -> String {
        assert!(text.contains(from), "no {from:?} in {text}");
        text.replacen(from, to, 1)
    }

    /// The schema one migration of `up` builds.
    pub(crate) fn schema(up: &str) -> Schema {
        let name = "2026-01-01-000000-0000_base";
        let migration = Migration {
            name: name.into(),
            version: "20260101000000".into(),
            dir: Path::new("migrations").join(name),
            up: up.into(),
            down: Some("SELECT 1;\n".into()),
            run_in_transaction: true,
            post_deploy: false,
        };
        replay_each(&[migration]).pop().unwrap()
    }

    /// Family S on the schema `up` builds, a `schema.rs` and a file of models.
    pub(crate) fn check(up: &str, schema_rs: &str, models: &str) -> Vec<Finding> {
        let parsed = schema_rs::parse(schema_rs).unwrap();
        let declared = Declared {
            file: Path::new(SCHEMA_RS_FILE).to_path_buf(),
            text: schema_rs.to_owned(),
            committed: parsed.clone(),
            generated: parsed.clone(),
            filter: TableFilter::default(),
            schema: "public".to_owned(),
        };
        let models = parse_models(models, Path::new(MODELS_FILE)).unwrap();
        super::check(&schema(up), &[declared], &parsed, &models)
    }

    pub(crate) use crate::rules::testing::{at, codes, shown};
}

#[cfg(test)]
mod tests {
    use super::testing::{MODELS, SCHEMA_RS, UP, check};

    /// The base every case edits raises nothing, so a finding in a case is the edit's.
    #[test]
    fn the_consistent_backend_is_clean() {
        assert_eq!(check(UP, SCHEMA_RS, MODELS), []);
    }
}
