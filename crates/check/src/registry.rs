//! The column registry (`[columns.<table>]` in `plumb.toml`) and family C: every column is
//! exposed (as which field of which API type), internal, or sensitive; exposed ones fit their
//! field, and sensitive ones appear in no response.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::api::{ApiSchema, Direction};
use crate::error::InputError;
use crate::finding::{self as f, Finding};
use crate::migrations::Migration;
use crate::schema::{Column, Schema};
use crate::source::Span;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registration {
    /// As these `Type.field`s of the API.
    Exposed(Vec<(String, String)>),
    Internal,
    Sensitive,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub table: String,
    pub column: String,
    pub registration: Registration,
    /// Where in `plumb.toml`.
    pub line: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Registry {
    pub entries: Vec<Entry>,
    /// Whether `plumb.toml` has a `[columns]` table at all: without one, family C is off.
    pub present: bool,
}

impl Registry {
    fn get(&self, table: &str, column: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.table == table && e.column == column)
    }
}

/// Reads `[columns]` of `plumb.toml` (nothing when there is no file or no such table).
pub fn read_registry(path: &Path) -> Result<Registry, InputError> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(Registry::default());
    };
    let invalid = |reason: String| InputError::Invalid {
        path: path.to_path_buf(),
        reason,
    };
    let value: toml::Table = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    let Some(columns) = value.get("columns") else {
        return Ok(Registry::default());
    };
    let columns = columns
        .as_table()
        .ok_or_else(|| invalid("[columns] must be a table of tables: [columns.<table>]".into()))?;
    let mut registry = Registry {
        entries: Vec::new(),
        present: true,
    };
    for (table, entries) in columns {
        let entries = entries
            .as_table()
            .ok_or_else(|| invalid(format!("[columns.{table}] must be a table")))?;
        for (column, value) in entries {
            let bad = || {
                invalid(format!(
                    "[columns.{table}] {column}: expected \"internal\", \"sensitive\", \"Type.field\" or a list of \"Type.field\""
                ))
            };
            let exposed = |text: &str| {
                text.split_once('.')
                    .filter(|(t, f)| !t.is_empty() && !f.is_empty())
                    .map(|(t, f)| (t.to_owned(), f.to_owned()))
            };
            let registration = match value {
                toml::Value::String(s) if s == "internal" => Registration::Internal,
                toml::Value::String(s) if s == "sensitive" => Registration::Sensitive,
                toml::Value::String(s) => Registration::Exposed(vec![exposed(s).ok_or_else(bad)?]),
                toml::Value::Array(items) => Registration::Exposed(
                    items
                        .iter()
                        .map(|i| i.as_str().and_then(exposed).ok_or_else(bad))
                        .collect::<Result<_, _>>()?,
                ),
                _ => return Err(bad()),
            };
            registry.entries.push(Entry {
                table: table.clone(),
                column: column.clone(),
                registration,
                line: line_of(&text, table, column),
            });
        }
    }
    Ok(registry)
}

/// The line of `column = ...` in the `[columns.<table>]` section.
fn line_of(text: &str, table: &str, column: &str) -> usize {
    let header = format!("[columns.{table}]");
    let mut inside = false;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            inside = trimmed == header;
        } else if inside
            && trimmed
                .split('=')
                .next()
                .is_some_and(|k| k.trim().trim_matches('"') == column)
        {
            return i + 1;
        }
    }
    1
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

/// Every C finding. `migrations` and `replayed` place unregistered columns at the migration
/// that adds them.
pub fn check(
    registry: &Registry,
    toml_file: &Path,
    schema: &Schema,
    migrations: &[Migration],
    replayed: &[Schema],
    migrations_dir: &Path,
    api: &BTreeMap<String, ApiSchema>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    if !registry.present {
        return out;
    }
    let at = |line: usize| Span::line(toml_file, line);
    for (table_name, table) in &schema.tables {
        for column in &table.columns {
            if registry.get(table_name, &column.name).is_some() {
                continue;
            }
            let added = replayed.iter().position(|s| {
                s.tables
                    .get(table_name)
                    .and_then(|t| t.column(&column.name))
                    .is_some()
            });
            let span = match added.and_then(|i| migrations.get(i)) {
                Some(m) => Span::line(
                    migrations_dir.join(&m.name).join("up.sql"),
                    m.up.lines()
                        .position(|l| l.contains(&column.name))
                        .map_or(1, |i| i + 1),
                ),
                None => at(1),
            };
            out.push(Finding::new(
                f::COLUMN_UNREGISTERED,
                span,
                format!("`{table_name}.{}` is not in the column registry: nobody has said whether it reaches the API, stays internal, or is sensitive", column.name),
                format!("add it under [columns.{table_name}] in plumb.toml: {} = \"internal\", \"sensitive\" or \"Type.field\"", column.name),
            ));
        }
    }
    let responses: Vec<&ApiSchema> = api
        .values()
        .filter(|s| s.direction == Direction::Response)
        .collect();
    for entry in &registry.entries {
        let Some(column) = schema
            .tables
            .get(&entry.table)
            .and_then(|t| t.column(&entry.column))
        else {
            out.push(Finding::new(
                f::REGISTRY_STALE,
                at(entry.line),
                format!(
                    "the registry lists `{}.{}`, which the migrations do not create",
                    entry.table, entry.column
                ),
                "remove the entry (or fix its name)",
            ));
            continue;
        };
        let Registration::Exposed(fields) = &entry.registration else {
            continue;
        };
        for (type_name, field) in fields {
            let carrying: Vec<&&ApiSchema> = responses
                .iter()
                .filter(|s| s.name == *type_name && s.properties.contains_key(field))
                .collect();
            if carrying.is_empty() {
                out.push(Finding::new(
                    f::REGISTRY_STALE,
                    at(entry.line),
                    format!("`{}.{}` is registered as exposed through {type_name}.{field}, which no response schema has", entry.table, entry.column),
                    "name the API type and field that carry it, or register it as internal",
                ));
                continue;
            }
            for schema_file in carrying {
                let property = &schema_file.properties[field];
                let fits = json_types(column, schema).is_none_or(|allowed| {
                    property.types.is_empty()
                        || property.types.iter().any(|t| {
                            allowed.contains(&t.as_str())
                                || (t == "number" && allowed.contains(&"integer"))
                        })
                });
                if !fits {
                    out.push(Finding::new(
                        f::EXPOSED_TYPE_MISMATCH,
                        Span::line(&schema_file.file, schema_file.line_of(field)),
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
                        f::EXPOSED_TYPE_MISMATCH,
                        Span::line(&schema_file.file, schema_file.line_of(field)),
                        format!("{}.{field} ({}) is required and never null, but `{}.{}` is nullable: the service cannot fill it for rows where it is NULL", type_name, schema_file.version, entry.table, entry.column),
                        "make the field optional or nullable, or make the column NOT NULL first",
                    ));
                }
            }
        }
    }
    // A sensitive column must not appear in a response of a type that carries its table.
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
        for schema_file in &responses {
            let carries = carriers
                .get(entry.table.as_str())
                .is_some_and(|t| t.contains(schema_file.name.as_str()));
            if carries && schema_file.properties.contains_key(&entry.column) {
                out.push(Finding::new(
                    f::SENSITIVE_EXPOSED,
                    Span::line(&schema_file.file, schema_file.line_of(&entry.column)),
                    format!("{} ({}) has a field `{}`, and `{}.{}` is registered as sensitive: it would leave the service in every response", schema_file.name, schema_file.version, entry.column, entry.table, entry.column),
                    "remove the field from the response type",
                ));
            }
        }
    }
    out
}
