//! The `schema.rs` change a scaffold's migrations call for, written as `diesel print-schema`
//! would write it after they run: so the repository's schema, `schema.rs` and the database
//! never disagree, and nobody has to regenerate the file by hand.

use std::path::PathBuf;

use plumb_check::Settings;
use plumb_check::input::schema_rs::{self, TableRs};
use plumb_check::input::settings::SchemaFile;

/// One `schema.rs` file and its new text.
#[derive(Debug)]
pub struct Edit {
    pub path: PathBuf,
    pub text: String,
}

/// The schema file print-schema writes `table` into (diesel.toml's sections and their
/// filters), its text and its parsed `table!`; `None` when no file declares the table.
fn declaring<'s>(
    settings: &'s Settings,
    table: &str,
) -> Result<Option<(&'s SchemaFile, String, TableRs)>, String> {
    for file in &settings.schema_files {
        if file.schema != "public" || !file.filter.prints(table) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&file.path) else {
            continue;
        };
        let parsed = schema_rs::parse(&text).map_err(|e| {
            format!(
                "{}:{}:{}: {}; it is left as it is, and nothing was written",
                file.path.display(),
                e.line,
                e.column,
                e.message
            )
        })?;
        if let Some(found) = parsed.tables.into_iter().find(|t| t.name == table) {
            return Ok(Some((file, text, found)));
        }
    }
    Ok(None)
}

/// The line of `text` (1-based) and where each line starts.
fn line_range(text: &str, line: usize) -> Option<std::ops::Range<usize>> {
    let start = if line == 1 {
        0
    } else {
        text.match_indices('\n').nth(line - 2)?.0 + 1
    };
    let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    Some(start..end)
}

/// `table.column` declared `Nullable<T>` made `T`; `None` when no schema file declares the
/// table (nothing to change).
pub fn set_not_null(
    settings: &Settings,
    table: &str,
    column: &str,
) -> Result<Option<Edit>, String> {
    let Some((file, mut text, parsed)) = declaring(settings, table)? else {
        return Ok(None);
    };
    let path = file.path.clone();
    let unchanged = |why: &str| {
        format!(
            "{}: {why}; change it to the type without Nullable<...> by hand, or regenerate it once the migrations have run",
            path.display()
        )
    };
    // A schema.rs without the column is already behind the migrations (the S rules say so);
    // it is left as it is.
    let Some(declared) = parsed.columns.iter().find(|c| c.name == column) else {
        return Ok(None);
    };
    if !declared.sql_type.starts_with("Nullable<") {
        return Ok(None);
    }
    let range = line_range(&text, declared.line)
        .ok_or_else(|| unchanged("the column's line is past the end"))?;
    let line = &text[range.clone()];
    let open = line.find("Nullable<").ok_or_else(|| {
        unchanged(&format!(
            "line {} does not spell Nullable<...>",
            declared.line
        ))
    })?;
    let inner_start = open + "Nullable<".len();
    let mut depth = 1usize;
    let mut close = None;
    for (i, c) in line[inner_start..].char_indices() {
        match c {
            '<' => depth += 1,
            '>' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(inner_start + i);
                    break;
                }
            }
            _ => {}
        }
    }
    let close = close.ok_or_else(|| {
        unchanged(&format!(
            "the type on line {} continues on the next line",
            declared.line
        ))
    })?;
    let new_line = format!(
        "{}{}{}",
        &line[..open],
        &line[inner_start..close],
        &line[close + 1..]
    );
    // print-schema's own doc comment names the type too.
    let said = format!("Its SQL type is `{}`.", &line[open..=close]);
    let now = format!("Its SQL type is `{}`.", &line[inner_start..close]);
    text.replace_range(range.clone(), &new_line);
    let block = block_start(&text, declared.line);
    let doc = text[block..range.start].replace(&said, &now);
    text.replace_range(block..range.start, &doc);
    checked(Edit { path, text }, table, column).map(Some)
}

/// The edit, once its text parses as `schema.rs` and declares `table.column`: a scaffold never
/// writes a file diesel would not compile.
fn checked(edit: Edit, table: &str, column: &str) -> Result<Edit, String> {
    let parsed = schema_rs::parse(&edit.text).map_err(|e| {
        format!(
            "{}: the edited file would not parse (line {}: {}); nothing was written",
            edit.path.display(),
            e.line,
            e.message
        )
    })?;
    let declares = parsed
        .tables
        .iter()
        .any(|t| t.name == table && t.columns.iter().any(|c| c.name == column));
    if declares {
        Ok(edit)
    } else {
        Err(format!(
            "{}: the edited file does not declare {table}.{column}; nothing was written",
            edit.path.display()
        ))
    }
}

/// Where the doc comments and attributes above line `line` begin (a byte offset).
fn block_start(text: &str, line: usize) -> usize {
    let mut first = line;
    while first > 1
        && line_range(text, first - 1).is_some_and(|r| {
            let above = text[r].trim_start();
            above.starts_with("///") || above.starts_with("#[")
        })
    {
        first -= 1;
    }
    line_range(text, first).map_or(0, |r| r.start)
}

/// `column -> diesel_type,` (with `#[max_length = N]` above it when it has one) appended to
/// `table`'s columns, where print-schema puts a column just added; `None` when no schema file
/// declares the table.
pub fn add_column(
    settings: &Settings,
    table: &str,
    column: &str,
    diesel_type: &str,
    max_length: Option<u32>,
) -> Result<Option<Edit>, String> {
    let Some((file, mut text, parsed)) = declaring(settings, table)? else {
        return Ok(None);
    };
    let path = file.path.clone();
    if parsed.columns.iter().any(|c| c.name == column) {
        return Err(format!(
            "{}: table {table} already declares {column}",
            path.display()
        ));
    }
    let last = parsed
        .columns
        .last()
        .ok_or_else(|| format!("{}: table {table} declares no column", path.display()))?;
    let last_range = line_range(&text, last.line)
        .filter(|r| text[r.clone()].trim_end().ends_with(','))
        .ok_or_else(|| {
            format!(
                "{}: the last column of {table} (line {}) is not one line ending in a comma, as print-schema writes it; add `{column} -> {diesel_type},` by hand",
                path.display(),
                last.line
            )
        })?;
    let last_line = &text[last_range.clone()];
    let indent = last_line[..last_line.len() - last_line.trim_start().len()].to_owned();
    let mut lines = Vec::new();
    if file.generated_docs {
        lines.push(format!("/// The `{column}` column of the `{table}` table."));
        lines.push("///".to_owned());
        lines.push(format!("/// Its SQL type is `{diesel_type}`."));
        lines.push("///".to_owned());
        lines.push("/// (Automatically generated by Diesel.)".to_owned());
    }
    if let Some(length) = max_length {
        lines.push(format!("#[max_length = {length}]"));
    }
    lines.push(format!("{column} -> {diesel_type},"));
    let block: String = lines.iter().map(|l| format!("{indent}{l}\n")).collect();
    // In the table's order a new column comes last; sorted by name, before the first column
    // whose name is greater.
    let before = file
        .columns_by_name
        .then(|| parsed.columns.iter().find(|c| c.name.as_str() > column))
        .flatten();
    match before {
        Some(next) => {
            let at = block_start(&text, next.line);
            text.insert_str(at, &block);
        }
        None => {
            let at = (last_range.end + 1).min(text.len());
            if at == text.len() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.insert_str(at.min(text.len()), &block);
        }
    }
    checked(Edit { path, text }, table, column).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = "// @generated automatically by Diesel CLI.\n\ndiesel::table! {\n    items (id) {\n        id -> Int8,\n        shelf -> Nullable<Array<Nullable<Int4>>>,\n    }\n}\n";

    fn settings(text: &str) -> (tempfile::TempDir, Settings) {
        settings_with(text, "")
    }

    fn settings_with(text: &str, print_schema: &str) -> (tempfile::TempDir, Settings) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("schema.rs"), text).unwrap();
        std::fs::write(
            dir.path().join("diesel.toml"),
            format!("[print_schema]\nfile = \"schema.rs\"\n{print_schema}"),
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("migrations")).unwrap();
        let settings = Settings::load(dir.path()).unwrap();
        (dir, settings)
    }

    #[test]
    fn not_null_takes_the_outer_nullable_only() {
        let (_dir, settings) = settings(SCHEMA);
        let edit = set_not_null(&settings, "items", "shelf").unwrap().unwrap();
        assert!(
            edit.text
                .contains("        shelf -> Array<Nullable<Int4>>,\n"),
            "{}",
            edit.text
        );
        assert_eq!(
            schema_rs::parse(&edit.text).unwrap().tables[0]
                .columns
                .len(),
            2
        );
    }

    #[test]
    fn a_new_column_goes_last_with_its_max_length() {
        let (_dir, settings) = settings(SCHEMA);
        let edit = add_column(&settings, "items", "label", "Nullable<Varchar>", Some(40))
            .unwrap()
            .unwrap();
        let table = &schema_rs::parse(&edit.text).unwrap().tables[0];
        let last = table.columns.last().unwrap();
        assert_eq!(
            (last.name.as_str(), last.sql_type.as_str(), last.max_length),
            ("label", "Nullable<Varchar>", Some(40))
        );
        assert!(edit.text.ends_with("    }\n}\n"), "{}", edit.text);
    }

    #[test]
    fn a_table_no_file_declares_is_left_alone() {
        let (_dir, settings) = settings(SCHEMA);
        assert!(set_not_null(&settings, "other", "x").unwrap().is_none());
        assert!(
            add_column(&settings, "other", "x", "Nullable<Text>", None)
                .unwrap()
                .is_none()
        );
    }

    const DOCUMENTED: &str = "diesel::table! {\n    /// Representation of the `items` table.\n    items (id) {\n        /// The `id` column of the `items` table.\n        ///\n        /// Its SQL type is `Int8`.\n        ///\n        /// (Automatically generated by Diesel.)\n        id -> Int8,\n        /// Where it is kept.\n        shelf -> Nullable<Int4>,\n        /// The `zone` column of the `items` table.\n        ///\n        /// Its SQL type is `Nullable<Text>`.\n        ///\n        /// (Automatically generated by Diesel.)\n        zone -> Nullable<Text>,\n    }\n}\n";

    #[test]
    fn sorted_by_name_with_generated_docs_a_column_goes_where_print_schema_puts_it() {
        let (_dir, settings) =
            settings_with(DOCUMENTED, "column_sorting = \"name\"\nwith_docs = true\n");
        let edit = add_column(&settings, "items", "label", "Nullable<Text>", None)
            .unwrap()
            .unwrap();
        assert!(
            edit.text.contains("        id -> Int8,\n        /// The `label` column of the `items` table.\n        ///\n        /// Its SQL type is `Nullable<Text>`.\n        ///\n        /// (Automatically generated by Diesel.)\n        label -> Nullable<Text>,\n        /// Where it is kept.\n"),
            "{}",
            edit.text
        );
        let names: Vec<String> = schema_rs::parse(&edit.text).unwrap().tables[0]
            .columns
            .iter()
            .map(|c| c.name.clone())
            .collect();
        assert_eq!(names, ["id", "label", "shelf", "zone"]);
    }

    #[test]
    fn not_null_changes_the_generated_doc_of_the_type_too() {
        let (_dir, settings) = settings_with(DOCUMENTED, "with_docs = true\n");
        let edit = set_not_null(&settings, "items", "zone").unwrap().unwrap();
        assert!(
            edit.text.contains("        /// Its SQL type is `Text`.\n        ///\n        /// (Automatically generated by Diesel.)\n        zone -> Text,\n"),
            "{}",
            edit.text
        );
        // The other columns' docs are left alone.
        assert!(edit.text.contains("/// Its SQL type is `Int8`."));
    }
}
