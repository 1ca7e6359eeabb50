//! What the database itself says its schema is, read from `pg_catalog`, and the differences
//! between two such snapshots.

use std::collections::BTreeMap;
use std::fmt;

use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Nullable, Text};

/// The `public` schema of a database, as PostgreSQL reports it (diesel's bookkeeping table
/// left out).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    pub tables: BTreeMap<String, CatalogTable>,
    pub indexes: BTreeMap<String, CatalogIndex>,
    pub enums: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogTable {
    /// In column order.
    pub columns: Vec<CatalogColumn>,
    pub constraints: BTreeMap<String, CatalogConstraint>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogColumn {
    pub name: String,
    /// As `format_type` writes it: `character varying(100)`, `timestamp with time zone`.
    pub sql_type: String,
    pub not_null: bool,
    pub default: Option<String>,
    /// `GENERATED ... AS IDENTITY` or `GENERATED ALWAYS AS (...) STORED`: PostgreSQL fills it.
    pub generated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogConstraint {
    /// `pg_get_constraintdef`, for people and for noticing a change: `CHECK ((display_name IS
    /// NOT NULL)) NOT VALID`. Decisions read the columns below.
    pub definition: String,
    pub kind: ConstraintKind,
    /// `conkey`: the constrained columns, in the constraint's order.
    pub columns: Vec<String>,
    /// `confrelid` and `confkey` of a foreign key: the referenced table and its columns.
    pub references: Option<(String, Vec<String>)>,
    pub validated: bool,
}

/// `pg_constraint.contype`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstraintKind {
    Check,
    ForeignKey,
    NotNull,
    PrimaryKey,
    Unique,
    /// Exclusion, constraint trigger, or a kind a later PostgreSQL adds.
    Other,
}

impl ConstraintKind {
    fn from_contype(contype: &str) -> Self {
        match contype {
            "c" => ConstraintKind::Check,
            "f" => ConstraintKind::ForeignKey,
            "n" => ConstraintKind::NotNull,
            "p" => ConstraintKind::PrimaryKey,
            "u" => ConstraintKind::Unique,
            _ => ConstraintKind::Other,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogIndex {
    pub table: String,
    /// `pg_get_indexdef`.
    pub definition: String,
    pub valid: bool,
}

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    sql_type: String,
    #[diesel(sql_type = Bool)]
    not_null: bool,
    #[diesel(sql_type = Nullable<Text>)]
    default_value: Option<String>,
    #[diesel(sql_type = Bool)]
    generated: bool,
}

#[derive(QueryableByName)]
struct ConstraintRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    definition: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Array<Text>)]
    columns: Vec<String>,
    #[diesel(sql_type = Nullable<Text>)]
    referenced_table: Option<String>,
    #[diesel(sql_type = Array<Text>)]
    referenced_columns: Vec<String>,
    #[diesel(sql_type = Bool)]
    validated: bool,
}

#[derive(QueryableByName)]
struct IndexRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    definition: String,
    #[diesel(sql_type = Bool)]
    valid: bool,
}

#[derive(QueryableByName)]
struct EnumRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    label: String,
}

const SKIP: &str = "__diesel_schema_migrations";

impl Catalog {
    pub fn read(conn: &mut PgConnection) -> QueryResult<Catalog> {
        let mut catalog = Catalog::default();
        let columns: Vec<ColumnRow> = diesel::sql_query(
            "SELECT c.relname::text AS table_name, a.attname::text AS column_name, \
                    format_type(a.atttypid, a.atttypmod) AS sql_type, a.attnotnull AS not_null, \
                    pg_get_expr(d.adbin, d.adrelid) AS default_value, \
                    (a.attidentity <> '' OR a.attgenerated <> '') AS generated \
             FROM pg_attribute a \
             JOIN pg_class c ON c.oid = a.attrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY c.relname, a.attnum",
        )
        .load(conn)?;
        for row in columns.into_iter().filter(|r| r.table_name != SKIP) {
            catalog
                .tables
                .entry(row.table_name)
                .or_default()
                .columns
                .push(CatalogColumn {
                    name: row.column_name,
                    sql_type: row.sql_type,
                    not_null: row.not_null,
                    default: row.default_value,
                    generated: row.generated,
                });
        }
        let constraints: Vec<ConstraintRow> = diesel::sql_query(
            "SELECT c.relname::text AS table_name, con.conname::text AS name, \
                    pg_get_constraintdef(con.oid) AS definition, con.contype::text AS kind, \
                    coalesce((SELECT array_agg(a.attname::text ORDER BY k.ord) \
                              FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord) \
                              JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum), \
                             '{}') AS columns, \
                    f.relname::text AS referenced_table, \
                    coalesce((SELECT array_agg(a.attname::text ORDER BY k.ord) \
                              FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord) \
                              JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum), \
                             '{}') AS referenced_columns, \
                    con.convalidated AS validated \
             FROM pg_constraint con \
             JOIN pg_class c ON c.oid = con.conrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_class f ON f.oid = con.confrelid \
             WHERE n.nspname = 'public'",
        )
        .load(conn)?;
        for row in constraints.into_iter().filter(|r| r.table_name != SKIP) {
            catalog
                .tables
                .entry(row.table_name)
                .or_default()
                .constraints
                .insert(
                    row.name,
                    CatalogConstraint {
                        definition: row.definition,
                        kind: ConstraintKind::from_contype(&row.kind),
                        columns: row.columns,
                        references: row
                            .referenced_table
                            .map(|table| (table, row.referenced_columns)),
                        validated: row.validated,
                    },
                );
        }
        let indexes: Vec<IndexRow> = diesel::sql_query(
            "SELECT i.relname::text AS name, t.relname::text AS table_name, \
                    pg_get_indexdef(i.oid) AS definition, x.indisvalid AS valid \
             FROM pg_index x \
             JOIN pg_class i ON i.oid = x.indexrelid \
             JOIN pg_class t ON t.oid = x.indrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             WHERE n.nspname = 'public'",
        )
        .load(conn)?;
        for row in indexes.into_iter().filter(|r| r.table_name != SKIP) {
            catalog.indexes.insert(
                row.name,
                CatalogIndex {
                    table: row.table_name,
                    definition: row.definition,
                    valid: row.valid,
                },
            );
        }
        let enums: Vec<EnumRow> = diesel::sql_query(
            "SELECT t.typname::text AS name, e.enumlabel::text AS label \
             FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid \
             JOIN pg_namespace n ON n.oid = t.typnamespace \
             WHERE n.nspname = 'public' ORDER BY t.typname, e.enumsortorder",
        )
        .load(conn)?;
        for row in enums {
            catalog.enums.entry(row.name).or_default().push(row.label);
        }
        Ok(catalog)
    }

    /// What `after` has that `self` has not, and the reverse, one line each. Columns compare by
    /// name: a column dropped and added back at the end is the same column.
    pub fn differences(&self, after: &Catalog) -> Vec<Difference> {
        let mut out = Vec::new();
        diff_maps(
            &self.tables,
            &after.tables,
            "table",
            &mut out,
            |name, a, b, out| {
                for column in &a.columns {
                    match b.columns.iter().find(|c| c.name == column.name) {
                        None => out.push(Difference::Missing(format!(
                            "column {name}.{}",
                            column.name
                        ))),
                        Some(other) if other != column => out.push(Difference::Changed(
                            format!("column {name}.{}", column.name),
                            describe_column(column),
                            describe_column(other),
                        )),
                        Some(_) => {}
                    }
                }
                for column in b
                    .columns
                    .iter()
                    .filter(|c| !a.columns.iter().any(|o| o.name == c.name))
                {
                    out.push(Difference::Extra(format!("column {name}.{}", column.name)));
                }
                diff_maps(
                    &a.constraints,
                    &b.constraints,
                    &format!("constraint on {name}"),
                    out,
                    |cname, x, y, out| {
                        if x != y {
                            out.push(Difference::Changed(
                                format!("constraint {cname} on {name}"),
                                describe_constraint(x),
                                describe_constraint(y),
                            ));
                        }
                    },
                );
            },
        );
        diff_maps(
            &self.indexes,
            &after.indexes,
            "index",
            &mut out,
            |name, a, b, out| {
                if a != b {
                    out.push(Difference::Changed(
                        format!("index {name}"),
                        describe_index(a),
                        describe_index(b),
                    ));
                }
            },
        );
        diff_maps(
            &self.enums,
            &after.enums,
            "enum type",
            &mut out,
            |name, a, b, out| {
                if a != b {
                    out.push(Difference::Changed(
                        format!("enum type {name}"),
                        a.join(", "),
                        b.join(", "),
                    ));
                }
            },
        );
        out
    }
}

fn diff_maps<V>(
    before: &BTreeMap<String, V>,
    after: &BTreeMap<String, V>,
    what: &str,
    out: &mut Vec<Difference>,
    both: impl Fn(&str, &V, &V, &mut Vec<Difference>),
) {
    for (name, value) in before {
        match after.get(name) {
            None => out.push(Difference::Missing(format!("{what} {name}"))),
            Some(other) => both(name, value, other, out),
        }
    }
    for name in after.keys().filter(|k| !before.contains_key(*k)) {
        out.push(Difference::Extra(format!("{what} {name}")));
    }
}

fn describe_column(column: &CatalogColumn) -> String {
    let mut text = column.sql_type.clone();
    if column.not_null {
        text.push_str(" NOT NULL");
    }
    if let Some(default) = &column.default {
        text.push_str(&format!(" DEFAULT {default}"));
    }
    text
}

fn describe_constraint(constraint: &CatalogConstraint) -> String {
    let state = if constraint.validated {
        "validated"
    } else {
        "not validated"
    };
    format!("{} ({state})", constraint.definition)
}

fn describe_index(index: &CatalogIndex) -> String {
    format!(
        "{}{}",
        index.definition,
        if index.valid { "" } else { " (INVALID)" }
    )
}

/// One way two snapshots differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// In the first snapshot, not in the second.
    Missing(String),
    /// In the second snapshot, not in the first.
    Extra(String),
    /// In both, differently: what, first, second.
    Changed(String, String, String),
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Difference::Missing(what) => write!(f, "{what} is gone"),
            Difference::Extra(what) => write!(f, "{what} is left over"),
            Difference::Changed(what, before, after) => {
                write!(f, "{what} was `{before}`, is `{after}`")
            }
        }
    }
}
