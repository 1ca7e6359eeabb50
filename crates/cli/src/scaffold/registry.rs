//! The column registry entry of a new column, written into `plumb.toml` with its comments and
//! layout kept.

use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, Table, value};

/// How a new column is registered: the value of its entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registration {
    Exposed(String),
    Internal,
    Sensitive,
}

impl Registration {
    fn as_value(&self) -> &str {
        match self {
            Registration::Exposed(field) => field,
            Registration::Internal => "internal",
            Registration::Sensitive => "sensitive",
        }
    }
}

/// Whether `plumb.toml` has a `[columns]` registry (family C on).
pub fn present(root: &Path) -> Result<bool, String> {
    let path = root.join("plumb.toml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(false);
    };
    let document: DocumentMut = text
        .parse()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(document.get("columns").is_some_and(Item::is_table))
}

/// `plumb.toml`'s new text with `column = "..."` under `[columns.<table>]`; `None` when the
/// file has no `[columns]` registry (family C is off, so there is nothing to keep in step).
pub fn add_entry(
    root: &Path,
    table: &str,
    column: &str,
    registration: &Registration,
) -> Result<Option<(PathBuf, String)>, String> {
    let path = root.join("plumb.toml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    let mut document: DocumentMut = text
        .parse()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let Some(columns) = document.get_mut("columns").and_then(Item::as_table_mut) else {
        return Ok(None);
    };
    let entries = columns
        .entry(table)
        .or_insert_with(|| Item::Table(Table::new()))
        .as_table_mut()
        .ok_or_else(|| format!("{}: columns.{table} is not a table", path.display()))?;
    if entries.contains_key(column) {
        return Err(format!(
            "{}: [columns.{table}] already has an entry for {column}",
            path.display()
        ));
    }
    entries.insert(column, value(registration.as_value()));
    Ok(Some((path, document.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_joins_its_table_and_the_comments_stay() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("plumb.toml"),
            "# the registry\n[columns.items]\n# the key\nid = \"Item.id\"\n\n[columns.other]\nx = \"internal\"\n",
        )
        .unwrap();
        let (_, text) = add_entry(dir.path(), "items", "label", &Registration::Sensitive)
            .unwrap()
            .unwrap();
        assert_eq!(
            text,
            "# the registry\n[columns.items]\n# the key\nid = \"Item.id\"\nlabel = \"sensitive\"\n\n[columns.other]\nx = \"internal\"\n"
        );
        let (_, text) = add_entry(
            dir.path(),
            "fresh",
            "y",
            &Registration::Exposed("Fresh.y".into()),
        )
        .unwrap()
        .unwrap();
        assert!(
            text.ends_with("[columns.fresh]\ny = \"Fresh.y\"\n"),
            "{text}"
        );
    }

    #[test]
    fn without_a_registry_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("plumb.toml"),
            "[lock]\napplied-by = \"plumb\"\n",
        )
        .unwrap();
        assert!(
            add_entry(dir.path(), "items", "label", &Registration::Internal)
                .unwrap()
                .is_none()
        );
    }
}
