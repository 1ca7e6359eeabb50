//! Positions in a file: byte offsets become 1-based lines and columns (columns count
//! characters, as editors do).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

/// The 1-based line of `text` that names `column` as a whole name (`id` is not in `paid` or
/// `accounts_id_idx`), looking first from the first line that names `table`: where a
/// migration creates or alters that table. A comment line names nothing (a finding never
/// points at one). 1 when no line names it.
pub fn line_naming(text: &str, table: &str, column: &str) -> usize {
    let lines: Vec<&str> = text
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("--") {
                ""
            } else {
                l
            }
        })
        .collect();
    let from = lines.iter().position(|l| names(l, table)).unwrap_or(0);
    lines[from..]
        .iter()
        .position(|l| names(l, column))
        .map(|i| i + from)
        .or_else(|| lines.iter().position(|l| names(l, column)))
        .map_or(1, |i| i + 1)
}

/// Whether `line` holds `word` with no letter, digit or underscore on either side.
fn names(line: &str, word: &str) -> bool {
    let part_of_a_name = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    !word.is_empty()
        && line.match_indices(word).any(|(at, _)| {
            !part_of_a_name(line[..at].chars().next_back())
                && !part_of_a_name(line[at + word.len()..].chars().next())
        })
}

/// Where a finding points: 1-based, end inclusive of the last character's column + 1.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Span {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

impl Span {
    /// The start of a 1-based line of `file`.
    pub fn line(file: impl Into<PathBuf>, line: usize) -> Span {
        Span {
            file: file.into(),
            line: line.max(1),
            column: 1,
            end_line: line.max(1),
            end_column: 1,
        }
    }
}

/// A file's text with the offsets of its line starts.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: PathBuf,
    pub text: Arc<str>,
    line_starts: Vec<usize>,
}

impl Source {
    pub fn new(path: impl Into<PathBuf>, text: impl Into<Arc<str>>) -> Self {
        let text: Arc<str> = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            path: path.into(),
            text,
            line_starts,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// 1-based line and column of a byte offset (clamped to the text).
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self
            .line_starts
            .partition_point(|&start| start <= offset)
            .max(1);
        let start = self.line_starts[line - 1];
        let column = self
            .text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(0)
            + 1;
        (line, column)
    }

    pub fn span(&self, start: usize, end: usize) -> Span {
        let (line, column) = self.position(start);
        let (end_line, end_column) = self.position(end.max(start));
        Span {
            file: self.path.clone(),
            line,
            column,
            end_line,
            end_column,
        }
    }

    /// The text of a 1-based line, without its newline.
    pub fn line(&self, line: usize) -> &str {
        let Some(&start) = self.line_starts.get(line.wrapping_sub(1)) else {
            return "";
        };
        let end = self
            .line_starts
            .get(line)
            .map(|&e| e - 1)
            .unwrap_or(self.text.len());
        self.text
            .get(start..end)
            .unwrap_or("")
            .trim_end_matches('\r')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_are_one_based_and_count_characters() {
        let source = Source::new("f.sql", "-- é\nALTER TABLE t;\n".to_owned());
        assert_eq!(source.position(0), (1, 1));
        assert_eq!(source.position(6), (2, 1));
        assert_eq!(source.position(12), (2, 7));
        assert_eq!(source.line(2), "ALTER TABLE t;");
        assert_eq!(source.line(9), "");
    }

    #[test]
    fn a_column_is_found_as_a_whole_name_in_its_own_table() {
        let sql = "CREATE TABLE paid_notes (\n    id bigint,\n    note_id bigint\n);\nCREATE INDEX tags_id_idx ON paid_notes (note_id);\nCREATE TABLE tags (\n    id bigint\n);\n";
        assert_eq!(line_naming(sql, "tags", "id"), 7);
        assert_eq!(line_naming(sql, "paid_notes", "id"), 2);
        assert_eq!(line_naming(sql, "paid_notes", "note_id"), 3);
        // Named nowhere after its table: the first line naming it; nowhere at all: line 1.
        assert_eq!(line_naming(sql, "tags", "note_id"), 3);
        assert_eq!(line_naming(sql, "tags", "email"), 1);
        assert_eq!(
            line_naming("ALTER TABLE \"Tags\" DROP \"Id\";", "Tags", "Id"),
            1
        );
    }
}
