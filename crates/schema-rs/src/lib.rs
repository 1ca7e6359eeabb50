//! `schema.rs` read the way diesel reads it: `table!` bodies parsed with
//! `diesel_table_macro_syntax` on top of syn, `joinable!` lines, each with its line.
//!
//! The one reader of `schema.rs`: the checker, the live stage and the model crate's readiness
//! report all read it here.

mod doc_comments;

use diesel_table_macro_syntax::TableDecl;
pub use doc_comments::blank_doc_comments;
use quote::ToTokens;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaRs {
    pub tables: Vec<TableRs>,
    pub joinables: Vec<JoinableRs>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRs {
    /// The SQL name (`#[sql_name]` or the Rust name).
    pub name: String,
    /// The name Rust code uses (`table_name = ...` in a model's derive).
    pub rust_name: String,
    pub primary_key: Vec<String>,
    pub columns: Vec<ColumnRs>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRs {
    /// The SQL name.
    pub name: String,
    /// The name Rust code uses (a model field, `column_name = ...`).
    pub rust_name: String,
    /// The SQL type with paths stripped: `Nullable<Text>`, `Array<Nullable<Int4>>`.
    pub sql_type: String,
    pub max_length: Option<u32>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinableRs {
    pub child: String,
    pub parent: String,
    pub column: String,
    pub line: usize,
}

/// Why `schema.rs` could not be read: the message and the 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaRsError {
    pub message: String,
    pub line: usize,
    pub column: usize,
}

/// How deep the Rust readers follow nesting: brackets of any kind, and `<...>` of generic
/// types, which syn parses by recursion. Deeper than this, a file is an input error instead of
/// a stack overflow; diesel's macros and real models nest a few levels.
pub const MAX_DEPTH: usize = 1_000;

/// Tokens in one parsed item (a `table!` body, a model struct): syn also recurses on `&`,
/// `*const` and `fn() ->` types, which no bracket shows, so their number bounds the depth.
/// A table of PostgreSQL's maximum of 1,600 columns is about 16,000.
pub const MAX_TOKENS: usize = 200_000;

/// Where `tokens` first nest deeper than [`MAX_DEPTH`], counting delimited groups and unclosed
/// `<` (the `>` of `->` and `=>` closes none), or pass [`MAX_TOKENS`]; and why. Walked with a
/// stack of its own, so the walk itself cannot overflow.
pub fn too_deep(tokens: &proc_macro2::TokenStream) -> Option<(proc_macro2::Span, String)> {
    use proc_macro2::{Spacing, TokenTree};
    // Per open group: its tokens still to walk, and its unclosed `<`.
    let mut open = vec![(tokens.clone().into_iter(), 0usize)];
    let (mut angles, mut count) = (0usize, 0usize);
    let mut arrow = false;
    let deep = || format!("nested more than {MAX_DEPTH} levels deep: not read");
    while let Some((tokens, level_angles)) = open.last_mut() {
        let Some(token) = tokens.next() else {
            angles -= *level_angles;
            open.pop();
            continue;
        };
        count += 1;
        if count > MAX_TOKENS {
            return Some((
                token.span(),
                format!("more than {MAX_TOKENS} tokens in one item: not read"),
            ));
        }
        let joins_next = matches!(&token, TokenTree::Punct(p) if p.spacing() == Spacing::Joint && matches!(p.as_char(), '-' | '='));
        match token {
            TokenTree::Group(group) => {
                // Its contents sit one level deeper than the tokens beside it.
                if open.len() + angles > MAX_DEPTH {
                    return Some((group.span_open(), deep()));
                }
                open.push((group.stream().into_iter(), 0));
            }
            TokenTree::Punct(p) if p.as_char() == '<' => {
                *level_angles += 1;
                angles += 1;
                if open.len() - 1 + angles > MAX_DEPTH {
                    return Some((p.span(), deep()));
                }
            }
            TokenTree::Punct(p) if p.as_char() == '>' && !arrow && *level_angles > 0 => {
                *level_angles -= 1;
                angles -= 1;
            }
            _ => {}
        }
        arrow = joins_next;
    }
    None
}

fn too_deep_error((span, message): (proc_macro2::Span, String)) -> SchemaRsError {
    let start = span.start();
    SchemaRsError {
        message,
        line: start.line,
        column: start.column + 1,
    }
}

fn error_at(error: &syn::Error) -> SchemaRsError {
    let start = error.span().start();
    SchemaRsError {
        message: error.to_string(),
        line: start.line,
        column: start.column + 1,
    }
}

/// `diesel::sql_types::Nullable<diesel::sql_types::Text>` as `Nullable<Text>`.
fn type_text(ty: &syn::TypePath) -> String {
    let text: String = ty
        .to_token_stream()
        .to_string()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let mut out = String::new();
    for part in text.split_inclusive(['<', '>', ',']) {
        let (path, delimiter) = match part.char_indices().last() {
            Some((i, '<' | '>' | ',')) => (&part[..i], &part[i..]),
            _ => (part, ""),
        };
        out.push_str(path.rsplit("::").next().unwrap_or(path));
        out.push_str(delimiter);
    }
    out
}

/// Reads the `table!` and `joinable!` calls at the top level of a schema file. The file is
/// only split into tokens; each macro's body is parsed on its own, as the macro would parse it.
pub fn parse(text: &str) -> Result<SchemaRs, SchemaRsError> {
    parse_reusing(text, &mut KnownTables::default())
}

/// Tables already parsed, by the text of their `table!` body, with the line it starts on.
/// A schema file under a patch is read in two forms, the committed one and the one
/// print-schema generates, which differ in a few tables: the second parses only those.
#[derive(Debug, Default)]
pub struct KnownTables(std::collections::HashMap<String, (usize, TableRs)>);

/// [`parse`], taking from `known` each table whose body it holds with the same text (moved to
/// its line here), and adding to it those it parses.
pub fn parse_reusing(text: &str, known: &mut KnownTables) -> Result<SchemaRs, SchemaRsError> {
    use proc_macro2::TokenTree;
    let text = &*blank_doc_comments(text);
    let tokens: proc_macro2::TokenStream = text.parse().map_err(|e: proc_macro2::LexError| {
        let start = e.span().start();
        SchemaRsError {
            message: e.to_string(),
            line: start.line,
            column: start.column + 1,
        }
    })?;
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut schema = SchemaRs {
        tables: Vec::new(),
        joinables: Vec::new(),
    };
    let is_punct =
        |i: usize, c: char| matches!(&tokens[i], TokenTree::Punct(p) if p.as_char() == c);
    for (i, token) in tokens.iter().enumerate() {
        // A macro call: `path::name! { body }`.
        let (TokenTree::Punct(bang), Some(TokenTree::Group(body))) = (token, tokens.get(i + 1))
        else {
            continue;
        };
        let Some(TokenTree::Ident(name)) = i.checked_sub(1).map(|j| &tokens[j]) else {
            continue;
        };
        if bang.as_char() != '!' {
            continue;
        }
        // The call's line is its path's: back over `segment ::` pairs.
        let mut first = i - 1;
        while first >= 3
            && is_punct(first - 1, ':')
            && is_punct(first - 2, ':')
            && matches!(tokens[first - 3], TokenTree::Ident(_))
        {
            first -= 3;
        }
        let line = tokens[first].span().start().line;
        if name == "joinable"
            && let Some(beyond) = too_deep(&body.stream())
        {
            return Err(too_deep_error(beyond));
        }
        if name == "table" {
            let span = body.span();
            let body_text = text.get(span.byte_range()).filter(|t| !t.is_empty());
            let body_line = span.start().line;
            if let Some((was_at, table)) = body_text.and_then(|t| known.0.get(t)) {
                let mut table = table.clone();
                table.line = line;
                for column in &mut table.columns {
                    column.line = body_line + (column.line - was_at);
                }
                schema.tables.push(table);
                continue;
            }
            if let Some(beyond) = too_deep(&body.stream()) {
                return Err(too_deep_error(beyond));
            }
            let table: TableDecl = syn::parse2(body.stream()).map_err(|e| error_at(&e))?;
            let primary_key = match &table.primary_keys {
                Some(keys) => keys.keys.iter().map(ToString::to_string).collect(),
                None => vec!["id".to_owned()],
            };
            let columns = table
                .column_defs
                .iter()
                .map(|c| ColumnRs {
                    name: c.sql_name.clone(),
                    rust_name: c.column_name.to_string(),
                    sql_type: type_text(&c.tpe),
                    max_length: c.max_length.as_ref().and_then(|l| l.base10_parse().ok()),
                    line: c.column_name.span().start().line,
                })
                .collect();
            let table = TableRs {
                name: table.sql_name.clone(),
                rust_name: table.table_name.to_string(),
                primary_key,
                columns,
                line,
            };
            if let Some(body_text) = body_text {
                known
                    .0
                    .insert(body_text.to_owned(), (body_line, table.clone()));
            }
            schema.tables.push(table);
        } else if name == "joinable" {
            // `child -> parent (column)`
            let tokens: Vec<String> = body.stream().into_iter().map(|t| t.to_string()).collect();
            if let [child, _, _, parent, group] = tokens.as_slice() {
                schema.joinables.push(JoinableRs {
                    child: child.clone(),
                    parent: parent.clone(),
                    column: group.trim_matches(['(', ')', ' ']).to_owned(),
                    line,
                });
            }
        }
    }
    Ok(schema)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_deeper_than_the_limit_is_an_error_at_its_place_not_a_stack_overflow() {
        let deep = |open: &str, close: &str, n: usize| {
            format!(
                "diesel::table! {{\n    t (id) {{\n        id -> {}Int4{},\n    }}\n}}\n",
                open.repeat(n),
                close.repeat(n)
            )
        };
        // The checker parses on a thread with a large stack; syn needs it within the limit.
        let on_a_large_stack = |text: String| {
            std::thread::Builder::new()
                .stack_size(256 << 20)
                .spawn(move || parse(&text))
                .unwrap()
                .join()
                .unwrap()
        };
        for (open, close) in [("Nullable<", ">"), ("(", ")"), ("[", "]")] {
            if open == "Nullable<" {
                let within = on_a_large_stack(deep(open, close, MAX_DEPTH - 10));
                assert!(within.is_ok(), "{open}");
            }
            let error = on_a_large_stack(deep(open, close, 1_000_000)).unwrap_err();
            assert_eq!(
                (error.line, error.message.as_str()),
                (3, "nested more than 1000 levels deep: not read"),
                "{open}"
            );
        }
        // The `>` of `->` closes no `<`, and a chain no bracket shows is bounded by its length.
        let tokens = |text: String| text.parse::<proc_macro2::TokenStream>().unwrap();
        let arrows = format!(
            "x: {}i64{}",
            "Box<dyn Fn() -> ".repeat(MAX_DEPTH + 1),
            ">".repeat(MAX_DEPTH + 1)
        );
        assert!(too_deep(&tokens(arrows)).unwrap().1.contains("levels deep"));
        let references = format!("x: {}i64", "&".repeat(MAX_TOKENS + 1));
        assert!(
            too_deep(&tokens(references))
                .unwrap()
                .1
                .contains("tokens in one item")
        );
        let at_the_limit = format!(
            "x: {}i64{}",
            "Option<".repeat(MAX_DEPTH),
            ">".repeat(MAX_DEPTH)
        );
        assert!(too_deep(&tokens(at_the_limit)).is_none());
        let past_it = format!(
            "x: {}i64{}",
            "Option<".repeat(MAX_DEPTH + 1),
            ">".repeat(MAX_DEPTH + 1)
        );
        assert!(too_deep(&tokens(past_it)).is_some());
        // `->` is no closing bracket, and nesting that closes does not add up.
        let flat = format!(
            "diesel::table! {{\n    t (id) {{\n{}    }}\n}}\n",
            (0..2_000)
                .map(|i| format!("        c{i} -> Nullable<Array<Int4>>,\n"))
                .collect::<String>()
        );
        assert_eq!(parse(&flat).unwrap().tables[0].columns.len(), 2_000);
    }

    #[test]
    fn reads_tables_columns_types_and_joinables_with_lines() {
        let text = "// @generated\n\ndiesel::table! {\n    accounts (id) {\n        id -> Int8,\n        #[max_length = 20]\n        code -> Varchar,\n        #[sql_name = \"type\"]\n        kind -> diesel::sql_types::Nullable<diesel::sql_types::Text>,\n        tags -> Array<Nullable<Text>>,\n    }\n}\n\ndiesel::joinable!(keys -> accounts (account_id));\n";
        let schema = parse(text).unwrap();
        let table = &schema.tables[0];
        assert_eq!(
            (
                table.name.as_str(),
                table.line,
                table.primary_key.as_slice()
            ),
            ("accounts", 3, &["id".to_owned()][..])
        );
        let columns: Vec<(&str, &str, Option<u32>, usize)> = table
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.sql_type.as_str(), c.max_length, c.line))
            .collect();
        assert_eq!(
            columns,
            [
                ("id", "Int8", None, 5),
                ("code", "Varchar", Some(20), 7),
                ("type", "Nullable<Text>", None, 9),
                ("tags", "Array<Nullable<Text>>", None, 10)
            ]
        );
        assert_eq!(
            schema.joinables,
            [JoinableRs {
                child: "keys".into(),
                parent: "accounts".into(),
                column: "account_id".into(),
                line: 14
            }]
        );
    }

    #[test]
    fn a_second_form_reusing_the_first_reads_as_if_parsed_alone() {
        let table = |name: &str, columns: &str| {
            format!(
                "diesel::table! {{\n    {name} (id) {{\n        id -> Int8,\n{columns}    }}\n}}\n\n"
            )
        };
        let committed = [
            table("accounts", "        code -> Text,\n"),
            table("keys", ""),
            table("notes", "        body -> Text,\n"),
        ]
        .concat();
        // Moved down by a new table, one column changed, one table as it was, two tables on
        // one line with bodies that are alike.
        let generated = [
            table("added", "        x -> Int4,\n"),
            table("accounts", "        code -> Nullable<Text>,\n"),
            table("keys", ""),
            "diesel::table! { a (id) { id -> Int8, } } diesel::table! { b (id) { id -> Int8, } }\n"
                .to_owned(),
            table("notes", "        body -> Text,\n"),
        ]
        .concat();
        let mut known = KnownTables::default();
        assert_eq!(
            parse_reusing(&committed, &mut known).unwrap(),
            parse(&committed).unwrap()
        );
        assert_eq!(
            parse_reusing(&generated, &mut known).unwrap(),
            parse(&generated).unwrap()
        );
        // And the lines are where the second form has them.
        let notes = parse_reusing(&generated, &mut known).unwrap().tables[5].clone();
        let at = generated[..generated.find("diesel::table! {\n    notes").unwrap()]
            .lines()
            .count()
            + 1;
        assert_eq!(
            (notes.name.as_str(), notes.line, notes.columns[1].line),
            ("notes", at, at + 3)
        );
    }

    /// diesel's `with_docs` prints a doc comment over every table and column; the schema it
    /// describes, lines included, is the one without them.
    #[test]
    fn a_schema_printed_with_docs_reads_as_the_same_schema_at_the_same_lines() {
        let documented = "//! The schema.\n\ndiesel::table! {\n    /// Representation of the `accounts` table.\n    ///\n    /// (Automatically generated by Diesel.)\n    accounts (id) {\n        /// The `id` column of the `accounts` table.\n        id -> Int8,\n        /// A \"quoted\" `code`, see /* not a comment */\n        #[max_length = 20]\n        code -> Varchar,\n    }\n}\n";
        let plain = documented.replace("///", "// ").replace("//!", "// ");
        let read = parse(documented).unwrap();
        assert_eq!(read, parse(&plain).unwrap());
        let columns: Vec<(&str, usize)> = read.tables[0]
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.line))
            .collect();
        assert_eq!(
            (read.tables[0].line, columns),
            (3, vec![("id", 9), ("code", 12)])
        );
    }

    #[test]
    fn a_broken_file_is_an_error_with_its_place() {
        let error = parse("diesel::table! {\n    accounts (id) {\n        id -> ,\n    }\n}\n")
            .unwrap_err();
        assert_eq!(error.line, 3);
    }
}
