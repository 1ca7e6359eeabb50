//! The column registry, `[columns.<table>]` in `plumb.toml`: every column is exposed (as which
//! field of which API type), internal, or sensitive. Family C checks it.

use std::path::Path;

use toml::de::{DeTable, DeValue};

use crate::error::InputError;

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
    pub fn get(&self, table: &str, column: &str) -> Option<&Entry> {
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
    // The same text parsed again keeping positions, for the line each finding points at.
    let document = DeTable::parse(&text).ok();
    let positions = document
        .as_ref()
        .and_then(|d| subtable(d.get_ref(), "columns"));
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
                line: positions
                    .and_then(|p| subtable(p, table))
                    .and_then(|t| t.iter().find(|(key, _)| key.get_ref() == column))
                    .map_or(1, |(key, _)| line_at(&text, key.span().start)),
            });
        }
    }
    Ok(registry)
}

/// A table of the parsed document by its key.
fn subtable<'d, 'i>(table: &'d DeTable<'i>, key: &str) -> Option<&'d DeTable<'i>> {
    table
        .iter()
        .find(|(k, _)| k.get_ref() == key)
        .and_then(|(_, value)| match value.get_ref() {
            DeValue::Table(table) => Some(table),
            _ => None,
        })
}

/// The 1-based line of a byte offset.
fn line_at(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(0, |before| before.matches('\n').count())
        + 1
}

#[cfg(test)]
mod tests {
    use super::read_registry;

    #[test]
    fn entries_point_at_their_key_however_the_table_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plumb.toml");
        std::fs::write(
            &path,
            "[check]\npg-version = 16\n\n[columns.accounts]\n# why\nid = \"Account.id\"\n\"email\" = [\"Account.email\"]\n\n[columns]\nkeys = { token = \"sensitive\" }\n",
        )
        .unwrap();
        let registry = read_registry(&path).unwrap();
        let lines: Vec<(&str, &str, usize)> = registry
            .entries
            .iter()
            .map(|e| (e.table.as_str(), e.column.as_str(), e.line))
            .collect();
        assert!(registry.present);
        for expected in [
            ("accounts", "id", 6),
            ("accounts", "email", 7),
            ("keys", "token", 10),
        ] {
            assert!(lines.contains(&expected), "{lines:?}");
        }
    }
}
