//! The diesel model structs of a crate, read with syn: which table each reads or writes, and
//! each field's column, Rust type and line.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use quote::ToTokens;
use syn::spanned::Spanned;

/// What a struct does with its table, from its derives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// `Queryable` or `Selectable`: rows are read into it.
    Reads,
    /// `Insertable`: it is inserted.
    Inserts,
    /// `AsChangeset`: it updates.
    Updates,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reads => "reads",
            Role::Inserts => "inserts",
            Role::Updates => "updates",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelField {
    /// The column's Rust name: `column_name = ...`, else the field's name.
    pub column: String,
    /// The field's type as written, without spaces: `Option<&'astr>`, `i64`.
    pub rust_type: String,
    pub line: usize,
    /// `#[diesel(serialize_as = ...)]` or `deserialize_as`: the type diesel sees is another.
    pub converted: bool,
    /// `Option<...>`.
    pub optional: bool,
    /// The type's last path segment, under `Option` and references: `str`, `i64`, `DateTime`.
    pub base: String,
    /// For a call's column, the string it writes when the code shows one: `status.eq("open")`,
    /// or the value of a `DbEnum` variant, `status.eq(Status::Open)`.
    pub value: Option<String>,
    /// The enum variant a call writes (`("Status", "Open")`), whose value is known once every
    /// file's `DbEnum` enums are.
    pub variant: Option<(String, String)>,
}

/// A Rust enum deriving diesel-derive-enum's `DbEnum`: each variant and the database value it
/// maps to (`#[db_rename = "..."]`, else the variant's name in `#[DbValueStyle]`, snake_case by
/// default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbEnum {
    pub name: String,
    pub values: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    pub name: String,
    /// The file, relative to the workspace root.
    pub file: PathBuf,
    pub line: usize,
    /// The table's Rust name (`table_name = ...`, else the struct's name in snake case plus `s`,
    /// as diesel infers it for the derives that name a table; a struct that only derives
    /// `Queryable` and names none is not a model of any table).
    pub table: String,
    pub roles: Vec<Role>,
    pub fields: Vec<ModelField>,
    /// `treat_none_as_null = true`: a `None` is written as NULL, not as DEFAULT.
    pub none_as_null: bool,
    /// Not a struct: an `insert_into(table).values((a.eq(..), ..))` or `.default_values()`
    /// call, whose fields are the columns it sets (their types are not known).
    pub call: bool,
    /// An upsert's `on_conflict(...)` target: its columns (Rust names) and its line.
    pub conflict: Option<(Vec<String>, usize)>,
}

/// A Rust file that does not parse: the checker reports it and goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelsError {
    pub file: PathBuf,
    pub message: String,
    pub line: usize,
}

/// Every model struct and write call in the `.rs` files under `dirs` (recursively), in file
/// order.
pub fn read_models(root: &Path, dirs: &[&Path]) -> (Vec<Model>, Vec<ModelsError>) {
    use rayon::prelude::*;
    let mut files = Vec::new();
    for dir in dirs {
        // `./src` and `src` are one folder.
        let dir: PathBuf = dir.components().collect();
        collect_rs(&dir, &mut files);
    }
    // Folders may hold one another.
    files.sort();
    files.dedup();
    type Read = Result<(Vec<Model>, Vec<DbEnum>), ModelsError>;
    let read: Vec<Read> = files
        .par_iter()
        .filter_map(|path| {
            let relative = path.strip_prefix(root).unwrap_or(path).to_path_buf();
            let text = match crate::migrations::read_file_within(path, root) {
                Ok(text) => text?,
                Err(error) => {
                    return Some(Err(ModelsError {
                        file: relative,
                        message: error.to_string(),
                        line: 1,
                    }));
                }
            };
            // A model derives one of these; a file that names none holds no model, and
            // parsing it is most of the time a large crate costs.
            if !STRUCT_DERIVES.iter().any(|derive| text.contains(derive))
                && !may_call(&text)
                && !text.contains(DB_ENUM)
            {
                return None;
            }
            Some(parse_code(&text, &relative))
        })
        .collect();
    let mut models = Vec::new();
    let mut enums = Vec::new();
    let mut errors = Vec::new();
    for one in read {
        match one {
            Ok((found, defined)) => {
                models.extend(found);
                enums.extend(defined);
            }
            Err(error) => errors.push(error),
        }
    }
    resolve_variants(&mut models, &enums);
    (models, errors)
}

const DB_ENUM: &str = "DbEnum";

/// A call's `Status::Open` becomes the value the `DbEnum` `Status` maps it to, wherever in the
/// code the enum is defined; a variant of no known enum writes nothing the checker can see.
fn resolve_variants(models: &mut [Model], enums: &[DbEnum]) {
    for field in models
        .iter_mut()
        .filter(|m| m.call)
        .flat_map(|m| m.fields.iter_mut())
    {
        let Some((ty, variant)) = &field.variant else {
            continue;
        };
        field.value = enums
            .iter()
            .find(|e| &e.name == ty)
            .and_then(|e| e.values.iter().find(|(v, _)| v == variant))
            .map(|(_, value)| value.clone());
    }
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        // A folder is entered only when it is one, never through a symbolic link: a link can
        // lead out of the workspace or round in a loop.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The model structs of a Rust file. Only structs and modules can hold models, so the file is
/// split into items at the token level and only those are parsed: function bodies, most of a
/// large file, are never parsed.
/// The values its calls write through a `DbEnum` are known where the file defines the enum.
pub fn parse_models(text: &str, file: &Path) -> Result<Vec<Model>, ModelsError> {
    let (mut models, enums) = parse_code(text, file)?;
    resolve_variants(&mut models, &enums);
    Ok(models)
}

/// [`parse_models`], and the `DbEnum` enums of the file.
fn parse_code(text: &str, file: &Path) -> Result<(Vec<Model>, Vec<DbEnum>), ModelsError> {
    let tokens: proc_macro2::TokenStream = plumb_schema_rs::blank_doc_comments(text)
        .parse()
        .map_err(|e: proc_macro2::LexError| ModelsError {
            file: file.to_path_buf(),
            message: e.to_string(),
            line: e.span().start().line,
        })?;
    let mut out = Vec::new();
    if may_call(text) {
        // Only the groups that span a line naming a call are walked.
        let lines: Vec<usize> = text
            .lines()
            .enumerate()
            .filter(|(_, line)| may_call(line))
            .map(|(i, _)| i + 1)
            .collect();
        write_calls(&tokens, file, &lines, &mut out);
    }
    // Only a file that names the derive can hold a `DbEnum`.
    let mut enums = text.contains(DB_ENUM).then(Vec::new);
    visit_items(tokens, file, &mut out, &mut enums)?;
    Ok((out, enums.unwrap_or_default()))
}

const INSERT_CALL: &str = "insert_into";
const UPDATE_CALL: &str = "update";

/// Whether a text may hold a write call: the name and its parenthesis.
fn may_call(text: &str) -> bool {
    text.contains("insert_into(") || text.contains("update(")
}

/// The writes a file makes as calls, each as a model of the columns it sets:
/// `insert_into(t).values((a.eq(x), b.eq(y)))` (a tuple, a reference to one, or a `vec!` of
/// them), `insert_into(t).default_values()`, and `update(t.filter(..)).set((a.eq(x), ..))`.
/// `.values(&new_row)` inserts a struct, which is a model already; what the tokens do not
/// show (a variable, a function's result) is left out. Read from the tokens, walked with a
/// stack of their own: function bodies are never parsed.
fn write_calls(
    tokens: &proc_macro2::TokenStream,
    file: &Path,
    lines: &[usize],
    out: &mut Vec<Model>,
) {
    use proc_macro2::{Delimiter, TokenTree};
    let spans_a_call = |group: &proc_macro2::Group| {
        let (start, end) = (group.span().start().line, group.span().end().line);
        let first = lines.partition_point(|l| *l < start);
        lines.get(first).is_some_and(|l| *l <= end)
    };
    // Test code writes the rows its tests need, not what the release writes.
    let marks_test = |group: &proc_macro2::Group| {
        if group.delimiter() != Delimiter::Bracket {
            return false;
        }
        let text: String = group
            .stream()
            .to_string()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        text == "test" || text.ends_with("::test") || text == "cfg(test)"
    };
    let mut open = vec![tokens.clone().into_iter().collect::<Vec<TokenTree>>()];
    while let Some(level) = open.pop() {
        let mut test_item = false;
        for (i, token) in level.iter().enumerate() {
            if let TokenTree::Group(group) = token {
                if marks_test(group) {
                    test_item = true;
                } else if test_item && group.delimiter() == Delimiter::Brace {
                    test_item = false;
                } else if spans_a_call(group) {
                    open.push(group.stream().into_iter().collect());
                }
                continue;
            }
            let TokenTree::Ident(ident) = token else {
                continue;
            };
            let Some(TokenTree::Group(target)) = level.get(i + 1) else {
                continue;
            };
            let role = if ident == INSERT_CALL {
                Role::Inserts
            } else if ident == UPDATE_CALL {
                Role::Updates
            } else {
                continue;
            };
            // A method call (`x.update(..)`) is something else.
            if target.delimiter() != Delimiter::Parenthesis
                || matches!(i.checked_sub(1).map(|j| &level[j]), Some(TokenTree::Punct(p)) if p.as_char() == '.')
            {
                continue;
            }
            // `t`, `t::table`, `schema::t::table`, `t.filter(..)`: the table's name.
            let names: Vec<String> = target
                .stream()
                .into_iter()
                .take_while(|t| !matches!(t, TokenTree::Punct(p) if p.as_char() == '.'))
                .filter_map(|t| match t {
                    TokenTree::Ident(i) => Some(i.to_string()),
                    _ => None,
                })
                .collect();
            let table = match names.as_slice() {
                [.., table, last] if last == "table" => table.clone(),
                [.., table] => table.clone(),
                [] => continue,
            };
            // The chain of method calls after it: `.name(args)` each.
            let mut chain = Vec::new();
            let mut at = i + 2;
            while let (
                Some(TokenTree::Punct(dot)),
                Some(TokenTree::Ident(name)),
                Some(TokenTree::Group(args)),
            ) = (level.get(at), level.get(at + 1), level.get(at + 2))
            {
                if dot.as_char() != '.' || args.delimiter() != Delimiter::Parenthesis {
                    break;
                }
                chain.push((name.to_string(), args.stream()));
                at += 3;
            }
            let columns = match role {
                Role::Inserts => match chain.first() {
                    Some((name, _)) if name == "default_values" => Some(Vec::new()),
                    Some((name, args)) if name == "values" => columns_set(args.clone()),
                    _ => None,
                },
                _ => chain
                    .iter()
                    .find(|(name, _)| name == "set")
                    .and_then(|(_, args)| columns_set(args.clone())),
            };
            // An upsert's `on_conflict(target)`: the columns, and where.
            let conflict = match role {
                Role::Inserts => chain
                    .iter()
                    .zip(at_lines(&level, i + 2))
                    .find(|((name, _), _)| name == "on_conflict")
                    .and_then(|((_, args), line)| {
                        conflict_target(args.clone()).map(|columns| (columns, line))
                    }),
                _ => None,
            };
            // What the tokens do not show is no write of known columns: such a call stays only
            // for its upsert's target.
            let (roles, columns) = match columns {
                Some(columns) => (vec![role], columns),
                None if conflict.is_some() => (Vec::new(), Vec::new()),
                None => continue,
            };
            // The table the columns name (`t::a.eq(..)`) over the target's first name, which
            // may be a query held in a variable.
            let named: BTreeSet<&str> = columns.iter().filter_map(|c| c.table.as_deref()).collect();
            let table = match named.into_iter().collect::<Vec<_>>().as_slice() {
                [one] => (*one).to_owned(),
                _ => table,
            };
            out.push(Model {
                name: format!("{ident}({table})"),
                file: file.to_path_buf(),
                line: ident.span().start().line,
                table,
                roles,
                conflict,
                fields: columns
                    .into_iter()
                    .map(|set| ModelField {
                        column: set.column,
                        rust_type: String::new(),
                        line: set.line,
                        converted: true,
                        optional: false,
                        base: String::new(),
                        value: set.value,
                        variant: set.variant,
                    })
                    .collect(),
                none_as_null: false,
                call: true,
            });
        }
    }
}

/// The columns `values(...)` or `set(...)` sets when its argument shows them: each
/// `column.eq(...)` of a tuple (or of the first tuple of a `vec![...]`), with its line and the
/// string it writes when that is a literal; none when it sets a struct or something the
/// tokens do not show.
fn columns_set(args: proc_macro2::TokenStream) -> Option<Vec<SetColumn>> {
    use proc_macro2::{Delimiter, TokenTree};
    let tokens: Vec<TokenTree> = args
        .into_iter()
        // `&(...)` and `vec![...]` hold the same tuples.
        .filter(|t| !matches!(t, TokenTree::Punct(p) if matches!(p.as_char(), '&' | '!')))
        .filter(|t| !matches!(t, TokenTree::Ident(i) if i == "vec"))
        .collect();
    let tokens: Vec<TokenTree> = match tokens.as_slice() {
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::Bracket => {
            match g.stream().into_iter().next() {
                Some(TokenTree::Group(first)) if first.delimiter() == Delimiter::Parenthesis => {
                    first.stream().into_iter().collect()
                }
                _ => g.stream().into_iter().collect(),
            }
        }
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::Parenthesis => {
            g.stream().into_iter().collect()
        }
        _ => tokens,
    };
    // Each element of the tuple must be `[path::]column.eq(value)`: a struct or anything else
    // beside them sets columns the tokens do not show, and the call is then not judged.
    let mut columns = Vec::new();
    for element in tokens.split(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ',')) {
        if element.is_empty() {
            continue;
        }
        let [
            path @ ..,
            TokenTree::Ident(column),
            TokenTree::Punct(dot),
            TokenTree::Ident(eq),
            TokenTree::Group(args),
        ] = element
        else {
            return None;
        };
        let segments = path_names(path)?;
        if dot.as_char() != '.' || eq != "eq" {
            return None;
        }
        // `t::column`, `t::dsl::column`, `schema::t::column`: its table.
        let table = match segments.as_slice() {
            [.., table, dsl] if dsl == "dsl" => Some(table.clone()),
            [.., table] if table != "dsl" => Some(table.clone()),
            _ => None,
        };
        columns.push(SetColumn {
            column: column.to_string(),
            line: column.span().start().line,
            value: string_literal(args.stream()),
            variant: variant(args.stream()),
            table,
        });
    }
    (!columns.is_empty()).then_some(columns)
}

/// The line of each `.name(args)` of a chain starting at `at` in `level`.
fn at_lines(level: &[proc_macro2::TokenTree], at: usize) -> impl Iterator<Item = usize> + '_ {
    level[at.min(level.len())..]
        .chunks(3)
        .map(|call| call.get(1).map_or(0, |name| name.span().start().line))
}

/// The columns of `on_conflict(t::a)` or `on_conflict((t::a, t::b))`; none for a constraint
/// named with `on_constraint(..)` or anything else the tokens do not show as columns.
fn conflict_target(args: proc_macro2::TokenStream) -> Option<Vec<String>> {
    use proc_macro2::{Delimiter, TokenTree};
    let tokens: Vec<TokenTree> = args.into_iter().collect();
    let tokens: Vec<TokenTree> = match tokens.as_slice() {
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::Parenthesis => {
            g.stream().into_iter().collect()
        }
        _ => tokens,
    };
    tokens
        .split(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ','))
        .filter(|element| !element.is_empty())
        .map(|element| path_names(element)?.pop())
        .collect::<Option<Vec<_>>>()
        .filter(|columns| !columns.is_empty())
}

/// A column a call sets.
#[derive(Debug)]
struct SetColumn {
    column: String,
    line: usize,
    /// The string it writes, when the code shows a literal.
    value: Option<String>,
    /// The enum variant it writes, when the code shows one.
    variant: Option<(String, String)>,
    /// The table it names, as `t::column`.
    table: Option<String>,
}

/// `Enum::Variant` (or a longer path ending so): the enum and the variant.
fn variant(tokens: proc_macro2::TokenStream) -> Option<(String, String)> {
    let tokens: Vec<proc_macro2::TokenTree> = tokens.into_iter().collect();
    match path_names(&tokens)?.as_slice() {
        [.., ty, variant] => Some((ty.clone(), variant.clone())),
        _ => None,
    }
}

/// The names of a path, `a::b::c`: none when the tokens are something else.
fn path_names(tokens: &[proc_macro2::TokenTree]) -> Option<Vec<String>> {
    use proc_macro2::TokenTree;
    tokens
        .iter()
        .filter_map(|t| match t {
            TokenTree::Ident(i) => Some(Some(i.to_string())),
            TokenTree::Punct(p) if p.as_char() == ':' => None,
            _ => Some(None),
        })
        .collect()
}

/// The string of a token stream that is one string literal: `"open"`.
fn string_literal(tokens: proc_macro2::TokenStream) -> Option<String> {
    let mut tokens = tokens.into_iter();
    let (Some(proc_macro2::TokenTree::Literal(literal)), None) = (tokens.next(), tokens.next())
    else {
        return None;
    };
    match syn::Lit::new(literal) {
        syn::Lit::Str(text) => Some(text.value()),
        _ => None,
    }
}

/// The items of a token stream: each ends at a top-level `;` or `{...}`.
fn items(tokens: proc_macro2::TokenStream) -> Vec<Vec<proc_macro2::TokenTree>> {
    use proc_macro2::{Delimiter, TokenTree};
    let mut items = Vec::new();
    let mut item = Vec::new();
    let mut tokens = tokens.into_iter().peekable();
    while let Some(token) = tokens.next() {
        // An inner attribute (`#![...]`) belongs to no item.
        if item.is_empty()
            && matches!(&token, TokenTree::Punct(p) if p.as_char() == '#')
            && matches!(tokens.peek(), Some(TokenTree::Punct(p)) if p.as_char() == '!')
        {
            tokens.next();
            tokens.next();
            continue;
        }
        let ends = match &token {
            TokenTree::Punct(p) => p.as_char() == ';',
            TokenTree::Group(g) => g.delimiter() == Delimiter::Brace,
            _ => false,
        };
        item.push(token);
        if ends {
            items.push(std::mem::take(&mut item));
        }
    }
    items
}

/// The derives that make a struct a model (see [`model`]).
const STRUCT_DERIVES: [&str; 5] = [
    "Queryable",
    "QueryableByName",
    "Selectable",
    "Insertable",
    "AsChangeset",
];

/// Whether an item's outer attributes name one of [`STRUCT_DERIVES`], at any depth
/// (`derive(...)`, `cfg_attr(..., derive(...))`).
fn names_model_derive(item: &[proc_macro2::TokenTree]) -> bool {
    use proc_macro2::{Delimiter, TokenTree};
    let mut streams: Vec<proc_macro2::TokenStream> = item
        .iter()
        .take_while(|t| !matches!(t, TokenTree::Ident(i) if i == "struct"))
        .filter_map(|t| match t {
            TokenTree::Group(g) if g.delimiter() == Delimiter::Bracket => Some(g.stream()),
            _ => None,
        })
        .collect();
    // A stack, not recursion: an attribute may nest deeper than a thread's stack.
    while let Some(stream) = streams.pop() {
        for token in stream {
            match token {
                TokenTree::Ident(i) if STRUCT_DERIVES.iter().any(|d| i == d) => return true,
                TokenTree::Group(g) => streams.push(g.stream()),
                _ => {}
            }
        }
    }
    false
}

fn visit_items(
    tokens: proc_macro2::TokenStream,
    file: &Path,
    out: &mut Vec<Model>,
    enums: &mut Option<Vec<DbEnum>>,
) -> Result<(), ModelsError> {
    use proc_macro2::{Delimiter, TokenTree};
    for item in items(tokens) {
        // The item's kind: the first keyword that names one.
        let keyword = item.iter().find_map(|t| match t {
            TokenTree::Ident(i) if i == "struct" => Some("struct"),
            TokenTree::Ident(i) if i == "enum" => Some("enum"),
            TokenTree::Ident(i) if i == "mod" => Some("mod"),
            TokenTree::Ident(i) if i == "fn" || i == "impl" || i == "trait" => Some("other"),
            _ => None,
        });
        match keyword {
            // Only a struct that names a model's derive is parsed: in a crate's code, most
            // structs are something else, and parsing them was much of reading the models.
            Some("struct") if names_model_derive(&item) => {
                let stream: proc_macro2::TokenStream = item.into_iter().collect();
                if let Some((span, message)) = plumb_schema_rs::too_deep(&stream) {
                    return Err(ModelsError {
                        file: file.to_path_buf(),
                        message,
                        line: span.start().line,
                    });
                }
                let parsed: syn::ItemStruct = syn::parse2(stream).map_err(|e| ModelsError {
                    file: file.to_path_buf(),
                    message: e.to_string(),
                    line: e.span().start().line,
                })?;
                if let Some(model) = model(&parsed, file) {
                    out.push(model);
                }
            }
            Some("enum") => {
                let Some(enums) = enums.as_mut() else {
                    continue;
                };
                // Its attributes name the derive.
                let derived = item.iter().any(|t| {
                    matches!(t, TokenTree::Group(g) if g.delimiter() == Delimiter::Bracket
                        && g.to_string().contains(DB_ENUM))
                });
                let stream: proc_macro2::TokenStream = item.into_iter().collect();
                if !derived || plumb_schema_rs::too_deep(&stream).is_some() {
                    continue;
                }
                // An enum that does not parse is the compiler's to report: no values known.
                if let Ok(parsed) = syn::parse2::<syn::ItemEnum>(stream) {
                    enums.extend(db_enum(&parsed));
                }
            }
            Some("mod") => {
                if let Some(TokenTree::Group(body)) = item.last()
                    && body.delimiter() == Delimiter::Brace
                {
                    visit_items(body.stream(), file, out, enums)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The values of an enum deriving `DbEnum`, as diesel-derive-enum maps its variants.
fn db_enum(item: &syn::ItemEnum) -> Option<DbEnum> {
    use heck::{ToKebabCase, ToLowerCamelCase, ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};
    let attrs = metas(&item.attrs);
    if !derives(&attrs).iter().any(|d| d == DB_ENUM) {
        return None;
    }
    let style = attrs
        .iter()
        .find_map(|m| string_value(m, "DbValueStyle"))
        .unwrap_or_else(|| "snake_case".to_owned());
    let values = item
        .variants
        .iter()
        .map(|variant| {
            let name = variant.ident.to_string();
            let renamed = metas(&variant.attrs)
                .iter()
                .find_map(|m| string_value(m, "db_rename"));
            let value = renamed.unwrap_or_else(|| match style.as_str() {
                "camelCase" => name.to_lower_camel_case(),
                "kebab-case" => name.to_kebab_case(),
                "PascalCase" => name.to_upper_camel_case(),
                "SCREAMING_SNAKE_CASE" => name.to_shouty_snake_case(),
                "UPPERCASE" => name.to_uppercase(),
                "verbatim" => name.clone(),
                _ => name.to_snake_case(),
            });
            (name, value)
        })
        .collect();
    Some(DbEnum {
        name: item.ident.to_string(),
        values,
    })
}

/// `key = "text"`: the text.
fn string_value(meta: &syn::Meta, key: &str) -> Option<String> {
    match value_of(meta, key)? {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(text),
            ..
        }) => Some(text.value()),
        _ => None,
    }
}

/// The value of `key = value`, when the meta is that.
fn value_of<'m>(meta: &'m syn::Meta, key: &str) -> Option<&'m syn::Expr> {
    meta.require_name_value()
        .ok()
        .filter(|_| meta.path().is_ident(key))
        .map(|nv| &nv.value)
}

/// The last segment of every path the `derive(...)` attributes name.
fn derives(attrs: &[syn::Meta]) -> Vec<String> {
    type Paths = syn::punctuated::Punctuated<syn::Path, syn::Token![,]>;
    attrs
        .iter()
        .filter(|m| m.path().is_ident("derive"))
        .filter_map(|m| {
            m.require_list()
                .ok()?
                .parse_args_with(Paths::parse_terminated)
                .ok()
        })
        .flatten()
        .filter_map(|p| p.segments.last().map(|s| s.ident.to_string()))
        .collect()
}

/// The attributes in force whatever features are on: each attribute, and those a
/// `cfg_attr(predicate, ...)` applies, as metas (`derive(...)`, `diesel(...)`, diesel 1.x's
/// `table_name = "x"`).
fn metas(attrs: &[syn::Attribute]) -> Vec<syn::Meta> {
    type Metas = syn::punctuated::Punctuated<syn::Meta, syn::Token![,]>;
    let mut out = Vec::new();
    for attr in attrs {
        if attr.path().is_ident("cfg_attr") {
            if let Ok(list) = attr.parse_args_with(Metas::parse_terminated) {
                out.extend(list.into_iter().skip(1));
            }
        } else {
            out.push(attr.meta.clone());
        }
    }
    out
}

/// The metas inside `name(...)` of these metas: `diesel(a = b, c)` gives `a = b` and `c`.
fn inner(metas: &[syn::Meta], name: &str) -> Vec<syn::Meta> {
    type Metas = syn::punctuated::Punctuated<syn::Meta, syn::Token![,]>;
    metas
        .iter()
        .filter(|m| m.path().is_ident(name))
        .filter_map(|m| m.require_list().ok())
        .filter_map(|list| list.parse_args_with(Metas::parse_terminated).ok())
        .flatten()
        .collect()
}

/// A name given as `x`, `crate::schema::x` or `"x"` (diesel 1.x): its last segment.
fn name_value(meta: &syn::Meta, key: &str) -> Option<String> {
    match value_of(meta, key)? {
        syn::Expr::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(text),
            ..
        }) => text.value().rsplit("::").next().map(str::to_owned),
        _ => None,
    }
}

fn bool_value(meta: &syn::Meta, key: &str) -> Option<bool> {
    match &meta
        .require_name_value()
        .ok()
        .filter(|_| meta.path().is_ident(key))?
        .value
    {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Bool(value),
            ..
        }) => Some(value.value),
        _ => None,
    }
}

fn model(item: &syn::ItemStruct, file: &Path) -> Option<Model> {
    let attrs = metas(&item.attrs);
    let mut roles = Vec::new();
    let mut by_name = false;
    // diesel infers a table (the struct's name in snake case plus `s`) for these derives only;
    // a bare `Queryable` reads columns by position, from no table in particular.
    let mut infers_table = false;
    for name in derives(&attrs) {
        by_name |= name == "QueryableByName";
        infers_table |= matches!(
            name.as_str(),
            "Selectable" | "Insertable" | "AsChangeset" | "Identifiable"
        );
        let role = match name.as_str() {
            "Queryable" | "Selectable" => Some(Role::Reads),
            // Rows of raw SQL: a model only when it names its table.
            "QueryableByName" => None,
            "Insertable" => Some(Role::Inserts),
            "AsChangeset" => Some(Role::Updates),
            _ => None,
        };
        if let Some(role) = role.filter(|r| !roles.contains(r)) {
            roles.push(role);
        }
    }
    let diesel = inner(&attrs, "diesel");
    let table = diesel
        .iter()
        .chain(&attrs)
        .find_map(|m| name_value(m, "table_name"));
    let none_as_null = diesel
        .iter()
        .find_map(|m| bool_value(m, "treat_none_as_null"))
        .unwrap_or(false);
    if by_name && table.is_some() && !roles.contains(&Role::Reads) {
        roles.push(Role::Reads);
    }
    if roles.is_empty() {
        return None;
    }
    roles.sort();
    let name = item.ident.to_string();
    let syn::Fields::Named(fields) = &item.fields else {
        return None;
    };
    // A field that is another struct's columns (`embed`) or an expression
    // (`select_expression`) reads no column of the table by its name.
    let not_a_column = |field: &syn::Field| {
        let attrs = metas(&field.attrs);
        inner(&attrs, "diesel").iter().any(|m| {
            m.path().is_ident("embed")
                || m.path().is_ident("select_expression")
                || m.path().is_ident("select_expression_type")
        }) || attrs.iter().any(|m| m.path().is_ident("diesel_embed"))
    };
    let table = match table {
        Some(table) => table,
        // Made only of other structs and expressions: a composite of no table of its own.
        None if fields.named.iter().all(not_a_column) => return None,
        None if infers_table => format!("{}s", snake_case(&name)),
        None => return None,
    };
    let fields = fields
        .named
        .iter()
        .filter_map(|field| {
            let attrs = metas(&field.attrs);
            let diesel = inner(&attrs, "diesel");
            let column = diesel
                .iter()
                .chain(&attrs)
                .find_map(|m| name_value(m, "column_name"))
                .or_else(|| field.ident.as_ref().map(ToString::to_string))?;
            let converted = diesel
                .iter()
                .any(|m| m.path().is_ident("serialize_as") || m.path().is_ident("deserialize_as"));
            let skipped =
                not_a_column(field) || diesel.iter().any(|m| m.path().is_ident("skip_insertion"));
            let (optional, base) = base_type(&field.ty);
            (!skipped).then(|| ModelField {
                value: None,
                variant: None,
                optional,
                base,
                column,
                rust_type: compact(&field.ty.to_token_stream().to_string()),
                line: field.span().start().line,
                converted,
            })
        })
        .collect();
    Some(Model {
        table,
        name,
        file: file.to_path_buf(),
        line: item.ident.span().start().line,
        roles,
        fields,
        none_as_null,
        call: false,
        conflict: None,
    })
}

/// Whether `ty` is an `Option`, and the name of the type under it and under references.
fn base_type(ty: &syn::Type) -> (bool, String) {
    fn last(ty: &syn::Type) -> Option<&syn::PathSegment> {
        match ty {
            syn::Type::Path(path) => path.path.segments.last(),
            _ => None,
        }
    }
    fn strip(ty: &syn::Type) -> &syn::Type {
        match ty {
            syn::Type::Reference(r) => strip(&r.elem),
            syn::Type::Paren(p) => strip(&p.elem),
            other => other,
        }
    }
    let ty = strip(ty);
    let inner = last(ty)
        .filter(|s| s.ident == "Option")
        .and_then(|s| match &s.arguments {
            syn::PathArguments::AngleBracketed(args) => args.args.iter().find_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(strip(t)),
                _ => None,
            }),
            _ => None,
        });
    let (optional, ty) = match inner {
        Some(inner) => (true, inner),
        None => (false, ty),
    };
    let base = match ty {
        syn::Type::Slice(slice) => format!("[{}]", base_type(&slice.elem).1),
        other => last(other).map(|s| s.ident.to_string()).unwrap_or_default(),
    };
    (optional, base)
}

fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The type inside `Option<...>`, if the field is one.
/// A type as people write it: the token stream's spaces dropped except between two words
/// (`Option < & 'a str >` is `Option<&'a str>`).
fn compact(tokens: &str) -> String {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::new();
    let mut space = false;
    for c in tokens.chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && word(c) && out.chars().last().is_some_and(word) {
            out.push(' ');
        }
        space = false;
        out.push(c);
    }
    out
}

pub fn option_inner(rust_type: &str) -> Option<&str> {
    rust_type
        .strip_prefix("Option<")
        .or_else(|| rust_type.strip_prefix("std::option::Option<"))
        .and_then(|t| t.strip_suffix('>'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_that_name_a_model_derive_are_parsed_and_their_syntax_errors_are_reported() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let write = |name: &str, text: &str| {
            std::fs::write(dir.path().join(name), text).unwrap_or_else(|e| panic!("{e}"));
        };
        write(
            "model.rs",
            "#[derive(Insertable)]\n#[diesel(table_name = notes)]\nstruct NewNote { body: String }\n",
        );
        write(
            "macros.rs",
            "macro_rules! m { ($x:expr) => { $x + } }\nfn f( {\n",
        );
        let (models, errors) = read_models(dir.path(), &[dir.path()]);
        assert_eq!(models.len(), 1);
        assert!(errors.is_empty(), "{errors:?}");
        write("broken.rs", "#[derive(Queryable)]\nstruct Note { id: i64\n");
        let (_, errors) = read_models(dir.path(), &[dir.path()]);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].file, Path::new("broken.rs"));
    }

    #[test]
    fn write_calls_are_models_of_the_columns_they_set_and_a_struct_or_a_variable_is_not_one() {
        let text = "fn add(conn: &mut PgConnection) {
    diesel::insert_into(accounts::table)
        .values((accounts::email.eq(\"a@b\"), accounts::note.eq(None::<String>)))
        .execute(conn);
    insert_into(notes).values(&vec![(body.eq(\"x\"), id.eq(1)), (body.eq(\"y\"), id.eq(2))]);
    insert_into(schema::tags::table).default_values().execute(conn);
    insert_into(accounts::table).values(&new_account).execute(conn);
    insert_into(accounts::table).values(rows).execute(conn);
    insert_into(keys::table).values(key.eq(make(id.eq(3)))).execute(conn);
    diesel::update(query).filter(id.eq(1)).set((accounts::status.eq(\"closed\"), accounts::note.eq(n))).execute(conn);
    self.update(x).set(y.eq(1));
    let changed = diesel::update(accounts::table.find(1));
    insert_into(users::table).values((&new_user, users::created_by.eq(1))).execute(conn);
    insert_into(users).values(users::dsl::name.eq(\"x\")).execute(conn);
}

#[cfg(test)]
mod tests {
    fn rows(conn: &mut PgConnection) {
        insert_into(accounts::table).values(accounts::email.eq(\"test@x\")).execute(conn);
    }
}
";
        let models = parse_models(text, Path::new("src/db.rs")).unwrap();
        let calls: Vec<(&str, usize, Vec<&str>)> = models
            .iter()
            .map(|m| {
                assert!(m.call, "{m:?}");
                (
                    m.table.as_str(),
                    m.line,
                    m.fields.iter().map(|f| f.column.as_str()).collect(),
                )
            })
            .collect();
        let mut calls = calls;
        calls.sort();
        assert_eq!(
            calls,
            [
                ("accounts", 2, vec!["email", "note"]),
                ("accounts", 10, vec!["status", "note"]),
                ("keys", 9, vec!["key"]),
                ("notes", 5, vec!["body", "id"]),
                ("tags", 6, vec![]),
                ("users", 14, vec!["name"]),
            ]
        );
        // An update: its table from the columns it names, and the literal it writes.
        let update = models.iter().find(|m| m.roles == [Role::Updates]).unwrap();
        let values: Vec<Option<&str>> = update.fields.iter().map(|f| f.value.as_deref()).collect();
        assert_eq!(
            (update.table.as_str(), values),
            ("accounts", vec![Some("closed"), None])
        );
    }

    #[test]
    fn a_db_enum_maps_its_variants_as_diesel_derive_enum_does_and_calls_write_those_values() {
        let text = "#[derive(Debug, DbEnum)]
pub enum State { Open, OnHold, #[db_rename = \"gone\"] Archived }

#[cfg_attr(feature = \"db\", derive(diesel_derive_enum::DbEnum))]
#[DbValueStyle = \"SCREAMING_SNAKE_CASE\"]
enum Kind { HttpLink, Plain }

enum NotMapped { A }

fn f(conn: &mut PgConnection) {
    update(notes::table).set((notes::state.eq(State::OnHold), notes::kind.eq(Kind::HttpLink), notes::other.eq(NotMapped::A))).execute(conn);
}
";
        let (mut models, enums) = parse_code(text, Path::new("src/notes.rs")).unwrap();
        let values: Vec<(&str, Vec<&str>)> = enums
            .iter()
            .map(|e| {
                (
                    e.name.as_str(),
                    e.values.iter().map(|(_, v)| v.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            values,
            [
                ("State", vec!["open", "on_hold", "gone"]),
                ("Kind", vec!["HTTP_LINK", "PLAIN"])
            ]
        );
        resolve_variants(&mut models, &enums);
        let written: Vec<Option<&str>> = models[0]
            .fields
            .iter()
            .map(|f| f.value.as_deref())
            .collect();
        assert_eq!(written, [Some("on_hold"), Some("HTTP_LINK"), None]);
    }

    /// Only structs that derive a model are parsed: others are the compiler's to judge, and a
    /// documented model reads as an undocumented one.
    #[test]
    fn structs_that_derive_no_model_are_not_read_and_doc_comments_change_nothing() {
        let text = "//! Notes.
/// A note, as written.
#[derive(Insertable)]
#[diesel(table_name = notes)]
pub struct NewNote<'a> {
    /// What the note says, \"quoted\".
    pub body: &'a str,
}

/// A response no check reads, in a form only a later compiler accepts.
#[derive(serde::Serialize)]
pub struct Page { pub items: Vec<u8> = vec![], }
";
        let models = parse_models(text, Path::new("src/notes.rs")).unwrap();
        let read: Vec<(&str, &str, usize, Vec<&str>)> = models
            .iter()
            .map(|m| {
                (
                    m.name.as_str(),
                    m.table.as_str(),
                    m.line,
                    m.fields.iter().map(|f| f.column.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(read, [("NewNote", "notes", 5, vec!["body"])]);
        // A documented field is reported at itself (or its first attribute), not at its doc.
        assert_eq!(models[0].fields[0].line, 7);
        // Deriving a model, the same struct is read, and what cannot be read is said.
        let derived = text.replace("serde::Serialize", "Queryable");
        assert!(parse_models(&derived, Path::new("src/notes.rs")).is_err());
    }

    /// A struct made of other structs and expressions reads no table of its own, and an
    /// expression field no column.
    #[test]
    fn a_composite_of_embeds_and_expressions_is_no_model_of_a_table() {
        let text = "#[derive(Queryable, Selectable)]
pub struct CommentView {
    #[cfg_attr(feature = \"full\", diesel(select_expression = comment_select()))]
    pub comment: Comment,
    #[cfg_attr(feature = \"full\", diesel(embed))]
    pub creator: Person,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = comment)]
pub struct Counted {
    pub id: i32,
    #[diesel(select_expression = comment::score + 1)]
    pub next_score: i32,
}
";
        let models = parse_models(text, Path::new("src/views.rs")).unwrap();
        let read: Vec<(&str, Vec<&str>)> = models
            .iter()
            .map(|m| {
                (
                    m.name.as_str(),
                    m.fields.iter().map(|f| f.column.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(read, [("Counted", vec!["id"])]);
    }

    #[test]
    fn reads_roles_tables_columns_and_lines() {
        let text = r#"
use diesel::prelude::*;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = crate::schema::accounts, check_for_backend(Pg))]
pub struct Account {
    pub id: i64,
    #[diesel(column_name = mail)]
    pub email: String,
    pub note: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = accounts, treat_none_as_null = true)]
struct NewAccount<'a> {
    email: &'a str,
    #[diesel(serialize_as = String)]
    note: Option<&'a str>,
}

#[derive(Debug)]
struct NotAModel { x: i32 }

#[derive(Queryable)]
struct Count { total: i64 }
"#;
        let models = parse_models(text, Path::new("src/account.rs")).unwrap();
        assert_eq!(models.len(), 2);
        let account = &models[0];
        assert_eq!(
            (account.name.as_str(), account.table.as_str(), account.line),
            ("Account", "accounts", 6)
        );
        assert_eq!(account.roles, [Role::Reads]);
        let fields: Vec<(&str, &str, usize)> = account
            .fields
            .iter()
            .map(|f| (f.column.as_str(), f.rust_type.as_str(), f.line))
            .collect();
        assert_eq!(
            fields,
            [
                ("id", "i64", 7),
                ("mail", "String", 8),
                ("note", "Option<String>", 10)
            ]
        );
        let new = &models[1];
        assert_eq!(new.roles, [Role::Inserts]);
        assert!(new.none_as_null);
        assert!(new.fields[1].converted);
        assert_eq!(new.fields[0].rust_type, "&'a str");
        assert_eq!(
            (new.fields[0].optional, new.fields[0].base.as_str()),
            (false, "str")
        );
        assert_eq!(
            (new.fields[1].optional, new.fields[1].base.as_str()),
            (true, "str")
        );
    }
}

#[cfg(test)]
mod older_forms {
    use super::*;

    #[test]
    fn diesel_1_attributes_and_derives_under_cfg_attr_are_read() {
        let text = r#"
#[derive(Insertable)]
#[table_name = "comment_seers"]
pub struct NewCommentSeers {
    #[column_name = "user_id"]
    pub user: i32,
}

#[cfg_attr(feature = "full", derive(Queryable, Selectable))]
#[cfg_attr(feature = "full", diesel(table_name = post))]
pub struct PostView {
    #[diesel(column_name = "totp_secret")]
    secret: Option<String>,
    #[cfg_attr(feature = "full", diesel(embed))]
    creator: Person,
}
"#;
        let models = parse_models(text, Path::new("src/m.rs")).unwrap();
        let shown: Vec<(&str, &str, Vec<&str>)> = models
            .iter()
            .map(|m| {
                (
                    m.name.as_str(),
                    m.table.as_str(),
                    m.fields.iter().map(|f| f.column.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                ("NewCommentSeers", "comment_seers", vec!["user_id"]),
                ("PostView", "post", vec!["totp_secret"]),
            ]
        );
    }
}
