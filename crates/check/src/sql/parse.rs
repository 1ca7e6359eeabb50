//! From squawk-syntax's tree to the facts the replay and the rules use. This module and
//! `query.rs` (what a SELECT yields) are the only ones that know the parser's node kinds.

use squawk_syntax::{SourceFile, SyntaxKind as K, SyntaxNode};

use crate::migrations::Migration;
use crate::sql::query::{self, Query};
pub use crate::sql::schema::DefaultKind;
use crate::sql::schema::{ConstraintKind, RelationKind, SqlType};
pub use crate::suppress::Allow;
use crate::suppress::SqlMarker;

/// A byte range in the file.
pub type Range = (usize, usize);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub range: Range,
    pub kind: StatementKind,
    /// The `-- plumb: allow ...` comments right before it.
    pub allows: Vec<Allow>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementKind {
    CreateTable {
        table: String,
        columns: Vec<ColumnDef>,
        constraints: Vec<ConstraintDef>,
        if_not_exists: bool,
        /// `PARTITION BY ...`: a partitioned table, which holds no rows of its own.
        partitioned: bool,
        /// The columns it is partitioned by; empty when one of its keys is an expression.
        partition_key: Vec<String>,
        /// `PARTITION OF parent`: a partition, with its parent's columns.
        partition_of: Option<String>,
        /// `PARTITION OF parent DEFAULT`: the partition of rows no other takes.
        default_partition: bool,
    },
    /// `CREATE TABLE ... AS`, `SELECT ... INTO`, `CREATE [MATERIALIZED] VIEW`: a relation with
    /// the columns a query yields (renamed by an explicit column list).
    CreateRelation {
        name: String,
        kind: RelationKind,
        query: Query,
        column_names: Vec<String>,
        if_not_exists: bool,
    },
    AlterTable {
        table: String,
        actions: Vec<(Range, Action)>,
        if_exists: bool,
    },
    CreateIndex {
        name: Option<String>,
        table: String,
        unique: bool,
        concurrently: bool,
        if_not_exists: bool,
        /// `ON ONLY t`: on the partitioned table alone, not its partitions (a catalog change).
        only: bool,
        /// Its columns, when each is a plain column and the index is not partial.
        columns: Option<Vec<String>>,
    },
    DropIndex {
        names: Vec<String>,
        concurrently: bool,
        if_exists: bool,
    },
    DropTable {
        tables: Vec<String>,
        if_exists: bool,
    },
    /// `DROP VIEW` and `DROP MATERIALIZED VIEW`.
    DropView {
        names: Vec<String>,
        materialized: bool,
        if_exists: bool,
    },
    /// `REFRESH MATERIALIZED VIEW`: without CONCURRENTLY it blocks reads of the view.
    RefreshView {
        name: String,
        concurrently: bool,
    },
    /// A function, with the `NEW` columns its body assigns (what it does as a row trigger).
    CreateFunction {
        name: String,
        sets_new: Vec<String>,
    },
    CreateTrigger {
        table: String,
        function: String,
        before_insert: bool,
    },
    DropTrigger {
        table: String,
    },
    SetSearchPath {
        schemas: Vec<String>,
    },
    /// `SET timezone`/`SET TIME ZONE`: whether the zone is UTC, which makes `timestamp` to
    /// `timestamptz` a catalog-only change (PostgreSQL 12+).
    SetTimezone {
        utc: bool,
    },
    CreateEnum {
        name: String,
        values: Vec<String>,
    },
    AddEnumValue {
        name: String,
        value: String,
    },
    /// `ALTER TYPE t RENAME VALUE 'a' TO 'b'`.
    RenameEnumValue {
        name: String,
        from: String,
        to: String,
    },
    /// `ALTER TYPE t RENAME TO u`.
    RenameType {
        name: String,
        to: String,
    },
    DropType {
        names: Vec<String>,
    },
    Update {
        table: String,
        /// `WHERE col IS NULL` and nothing else: the column, which a NOT NULL makes a no-op.
        only_where_null: Option<String>,
    },
    Delete {
        table: String,
    },
    Insert,
    SetLockTimeout {
        value: TimeoutValue,
        local: bool,
    },
    ResetLockTimeout,
    Begin,
    Commit,
    Rollback,
    /// `ALTER INDEX parent ATTACH PARTITION child`.
    AttachIndexPartition {
        index: String,
    },
    /// Reads or changes nothing the rules track (SELECT, COMMENT ON, GRANT, SET of other
    /// settings, ...).
    Harmless,
    /// Might change the schema in ways the replay does not model.
    Unmodelled {
        what: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutValue {
    /// A timeout in milliseconds; `None` when the value is not one PostgreSQL reads as a time
    /// (it would then refuse the statement).
    Positive { ms: Option<u64> },
    /// `0`: no timeout at all.
    Zero,
    /// `DEFAULT`: back to the server's setting, usually none.
    Default,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    AddColumn(ColumnDef),
    DropColumn {
        column: String,
        if_exists: bool,
    },
    SetNotNull {
        column: String,
    },
    DropNotNull {
        column: String,
    },
    /// `using`: a USING expression other than the column itself (or a plain cast of it),
    /// which PostgreSQL evaluates for every row.
    SetType {
        column: String,
        sql_type: SqlType,
        using: bool,
    },
    SetDefault {
        column: String,
        default: DefaultKind,
    },
    DropDefault {
        column: String,
    },
    AddConstraint(ConstraintDef),
    ValidateConstraint {
        name: String,
    },
    DropConstraint {
        name: String,
    },
    RenameColumn {
        from: String,
        to: String,
    },
    RenameTable {
        to: String,
    },
    RenameConstraint {
        from: String,
        to: String,
    },
    /// `ATTACH PARTITION t FOR VALUES ...` or `... DEFAULT`.
    AttachPartition {
        partition: String,
        default: bool,
    },
    /// `DETACH PARTITION t [CONCURRENTLY]`.
    DetachPartition {
        partition: String,
        concurrently: bool,
    },
    Unmodelled {
        what: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDef {
    pub name: String,
    pub sql_type: SqlType,
    pub not_null: bool,
    pub default: Option<DefaultKind>,
    /// `serial`, `GENERATED ... AS IDENTITY` or `GENERATED ALWAYS AS (...) STORED`: values for
    /// every row, so adding it rewrites the table.
    pub fills_rows: Option<&'static str>,
    pub constraints: Vec<ConstraintDef>,
    /// `ADD COLUMN IF NOT EXISTS`.
    pub if_not_exists: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConstraintDef {
    pub name: Option<String>,
    pub kind: ConstraintKind,
    pub not_valid: bool,
    /// `UNIQUE USING INDEX i` / `PRIMARY KEY USING INDEX i`: the index, built beforehand.
    pub using_index: Option<String>,
    pub proves_not_null: Option<String>,
    /// For a CHECK of the form `col IN ('a', 'b')` (or `col = ANY (ARRAY['a', 'b'])`, as
    /// pg_dump writes it): that column and the values it allows.
    pub allows: Option<(String, Vec<String>)>,
    /// The constrained columns (for CHECK: the columns its expression reads), in order.
    pub columns: Vec<String>,
    /// For a foreign key: the referenced table.
    pub references: Option<String>,
}

/// Functions whose value differs per row; a default calling one rewrites the table.
const VOLATILE: &[&str] = &[
    "clock_timestamp",
    "random",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "uuidv4",
    "uuidv7",
    "timeofday",
    "nextval",
    "setseed",
    "txid_current",
];

/// Functions known not to be volatile.
const NOT_VOLATILE: &[&str] = &[
    "now",
    "transaction_timestamp",
    "statement_timestamp",
    "current_timestamp",
    "current_date",
    "localtimestamp",
    "lower",
    "upper",
    "coalesce",
    "concat",
    "length",
    "abs",
    "to_jsonb",
    "jsonb_build_object",
    "json_build_object",
    "array",
    "make_interval",
    "interval",
    "date_trunc",
    "to_char",
];

#[derive(Debug)]
pub struct Parsed {
    pub statements: Vec<Statement>,
    /// Syntax errors: where, and what the parser expected.
    pub errors: Vec<(Range, String)>,
    /// Suppressions of the whole file (`-- squawk-ignore-file`).
    pub file_allows: Vec<Allow>,
    /// Why the file was not analysed, and where: beyond the limits of
    /// [`limits`](crate::sql::limits), or a file the parser gave up on.
    pub not_analysed: Option<(Range, String)>,
}

/// How much of the parser's checking a parse runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checking {
    /// The grammar, then squawk's validation of the tree (literals, parameter lists, function
    /// bodies...): what PostgreSQL would refuse although it has the shape of SQL.
    Full,
    /// The grammar alone. Validation walks every node of the tree again and is up to a fifth
    /// of checking a repository; a migration production has run cannot hold what it finds.
    Grammar,
}

pub fn parse(text: &str) -> Parsed {
    parse_checking(text, Checking::Full)
}

pub fn parse_checking(text: &str, checking: Checking) -> Parsed {
    if let Some(beyond) = crate::sql::limits::beyond_limits(text) {
        return Parsed {
            statements: Vec::new(),
            errors: Vec::new(),
            file_allows: Vec::new(),
            not_analysed: Some(beyond),
        };
    }
    let (root, mut errors) = match checking {
        Checking::Full => {
            let parse = SourceFile::parse(text);
            let errors = parse
                .errors()
                .into_iter()
                .map(|e| {
                    let range = e.range();
                    (
                        (usize::from(range.start()), usize::from(range.end())),
                        e.message().to_owned(),
                    )
                })
                .collect();
            (parse.syntax_node(), errors)
        }
        Checking::Grammar => grammar_only(text),
    };
    errors.extend(rejected_characters(&root, text));
    errors.sort_by_key(|((start, _), _)| *start);
    let mut statements = Vec::new();
    let mut pending_allows = Vec::new();
    let mut markers = Markers::default();
    for element in root.children_with_tokens() {
        match element {
            rowan::NodeOrToken::Token(token) if token.kind() == K::COMMENT => {
                markers.read(&token, &mut pending_allows);
            }
            rowan::NodeOrToken::Token(_) => {}
            rowan::NodeOrToken::Node(node) => {
                if matches!(node.kind(), K::ERROR | K::EMPTY_STMT) {
                    continue;
                }
                // Comments inside the node, before its first keyword, also precede it.
                for token in node.children_with_tokens().filter_map(|e| e.into_token()) {
                    if token.kind() == K::COMMENT {
                        markers.read(&token, &mut pending_allows);
                    } else if token.kind() != K::WHITESPACE {
                        break;
                    }
                }
                let range = range_of(&node);
                let mut allows = std::mem::take(&mut pending_allows);
                if markers.assured {
                    allows.push(Allow::assured(range));
                }
                statements.push(Statement {
                    range,
                    kind: statement_kind(&node),
                    allows,
                });
            }
        }
    }
    Parsed {
        statements,
        errors,
        file_allows: markers.file_allows,
        not_analysed: None,
    }
}

/// The tree and the errors of squawk's lexer and grammar, as `SourceFile::parse` builds them,
/// without the validation its `errors()` adds.
fn grammar_only(text: &str) -> (SyntaxNode, Vec<(Range, String)>) {
    use squawk_parser::StrStep;
    let lexed = squawk_parser::LexedStr::new(text);
    let output = squawk_parser::EntryPoint::SourceFile.parse(&lexed.to_input());
    let mut builder = rowan::GreenNodeBuilder::new();
    let mut errors: Vec<(Range, String)> = Vec::new();
    let raw = |kind: K| rowan::SyntaxKind(kind.into());
    lexed.intersperse_trivia(&output, &mut |step| match step {
        StrStep::Token { kind, text } => builder.token(raw(kind), text),
        StrStep::Enter { kind } => builder.start_node(raw(kind)),
        StrStep::Exit => builder.finish_node(),
        StrStep::Error { msg, pos } => errors.push(((pos, pos), msg.to_owned())),
    });
    errors.extend(
        lexed
            .errors()
            .map(|(range, msg)| ((range.start as usize, range.end as usize), msg.to_owned())),
    );
    errors.sort_by_key(|((start, _), _)| *start);
    (SyntaxNode::new_root(builder.finish()), errors)
}

/// Characters PostgreSQL's lexer refuses outside strings, comments and quoted names, which the
/// parser takes for white space: a byte-order mark (an editor's, at the start of the file) and
/// a vertical tab. PostgreSQL reports a syntax error there.
fn rejected_characters(root: &SyntaxNode, text: &str) -> Vec<(Range, String)> {
    const QUOTED: [K; 9] = [
        K::STRING,
        K::BYTE_STRING,
        K::BIT_STRING,
        K::ESC_STRING,
        K::NATIONAL_STRING,
        K::UNICODE_ESC_STRING,
        K::DOLLAR_QUOTED_STRING,
        K::COMMENT,
        K::ERROR,
    ];
    let mut found = Vec::new();
    // Almost no file holds either: the tree is walked only for one that does.
    if !text.contains(['\u{feff}', '\u{b}']) {
        return found;
    }
    for token in root
        .descendants_with_tokens()
        .filter_map(|element| element.into_token())
        .filter(|token| !QUOTED.contains(&token.kind()) && !token.text().starts_with('"'))
    {
        let start = usize::from(token.text_range().start());
        for (at, c) in token.text().char_indices() {
            let what = match c {
                '\u{feff}' => "a byte-order mark",
                '\u{b}' => "a vertical tab",
                _ => continue,
            };
            found.push((
                (start + at, start + at + c.len_utf8()),
                format!("{what}, which PostgreSQL does not take for white space"),
            ));
        }
    }
    found
}

/// The suppression markers read so far: the file's, and whether a diesel-guard block is open.
#[derive(Default)]
struct Markers {
    file_allows: Vec<Allow>,
    assured: bool,
}

impl Markers {
    fn read(&mut self, token: &squawk_syntax::SyntaxToken, pending: &mut Vec<Allow>) {
        match SqlMarker::read(token.text(), range_of_token(token)) {
            Some(SqlMarker::Next(allows)) => pending.extend(allows),
            Some(SqlMarker::File(allows)) => self.file_allows.extend(allows),
            Some(SqlMarker::BlockStart) => self.assured = true,
            Some(SqlMarker::BlockEnd) => self.assured = false,
            None => {}
        }
    }
}

/// Parses every `up.sql` on all cores: files are independent; only the replay is sequential.
/// Only the tree is wanted: the grammar alone.
pub fn parse_all(migrations: &[Migration]) -> Vec<Parsed> {
    let mut parsed = Vec::with_capacity(migrations.len());
    parse_in_order(migrations, migrations.len(), |one| parsed.push(one));
    parsed
}

/// The stack of a thread that parses. The parser and the syntax tree's teardown recurse once
/// per level of nesting (a chain of 10,000 `||` is 10,000 levels): the stack is reserved, not
/// used, until a file needs it.
pub const PARSE_STACK: usize = 1 << 30;

/// Parses every `up.sql` on all cores and hands each file's result to `visit` in the
/// migrations' order, as soon as it and those before it are parsed: the sequential replay of
/// the first files runs while the later ones are parsed. Each thread takes the next file not
/// yet taken, so that a few large files do not leave a core idle; the thread that visits parses
/// too whenever the next file in order is not ready. Every one of them has the parser's stack.
/// The files from index `full_from` on get [`Checking::Full`], those before it the grammar.
pub fn parse_in_order(
    migrations: &[Migration],
    full_from: usize,
    visit: impl FnMut(Parsed) + Send,
) {
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(migrations.len().max(1));
    let next = AtomicUsize::new(0);
    let take = || {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let checking = if i >= full_from {
            Checking::Full
        } else {
            Checking::Grammar
        };
        migrations
            .get(i)
            .map(|m| (i, parse_caught(&m.up, checking)))
    };
    let (sender, receiver) = std::sync::mpsc::channel();
    let mut visit = visit;
    let visitor = move || {
        let mut ready: BTreeMap<usize, Parsed> = BTreeMap::new();
        for wanted in 0..migrations.len() {
            let one = loop {
                if let Some(one) = ready.remove(&wanted) {
                    break one;
                }
                if let Some((i, one)) = receiver.try_recv().ok().or_else(take) {
                    ready.insert(i, one);
                    continue;
                }
                match receiver.recv() {
                    Ok((i, one)) => {
                        ready.insert(i, one);
                    }
                    // Every file is taken and no thread will send it: the thread that took it
                    // died, and the file is reported, never silently skipped.
                    Err(_) => break gave_up(),
                }
            };
            visit(one);
        }
    };
    // Shared with the thread that runs it, and run here if none can start.
    let visitor = std::sync::Mutex::new(visitor);
    std::thread::scope(|scope| {
        for _ in 1..threads {
            let sender = sender.clone();
            let helper = move || {
                while let Some(done) = take() {
                    if sender.send(done).is_err() {
                        break;
                    }
                }
            };
            if parser_thread().spawn_scoped(scope, helper).is_err() {
                break;
            }
        }
        drop(sender);
        let run = || (visitor.lock().unwrap_or_else(|e| e.into_inner()))();
        if parser_thread().spawn_scoped(scope, run).is_err() {
            // No thread with the parser's stack: this one does the work.
            run();
        }
    });
}

fn parser_thread() -> std::thread::Builder {
    std::thread::Builder::new()
        .name("plumb-parse".to_owned())
        .stack_size(PARSE_STACK)
}

/// One file parsed on a thread with the parser's stack. The parser asserts on inputs it cannot
/// handle (a multi-megabyte statement can exhaust its step budget): such a file becomes one
/// syntax error, never a panic or a lost migration.
pub fn parse_guarded(text: &str) -> Parsed {
    std::thread::scope(|scope| {
        match parser_thread().spawn_scoped(scope, || parse_caught(text, Checking::Full)) {
            Ok(thread) => thread.join().unwrap_or_else(|_| gave_up()),
            Err(_) => gave_up(),
        }
    })
}

fn parse_caught(text: &str, checking: Checking) -> Parsed {
    std::panic::catch_unwind(|| parse_checking(text, checking)).unwrap_or_else(|_| gave_up())
}

fn gave_up() -> Parsed {
    Parsed {
        statements: Vec::new(),
        errors: Vec::new(),
        file_allows: Vec::new(),
        not_analysed: Some(((0, 0), "the SQL parser gave up on it".to_owned())),
    }
}

/// The extensions a script creates (`CREATE EXTENSION [IF NOT EXISTS] name`), in order: what
/// the server it runs on must have installed. A file the parser cannot read names none.
pub fn extensions_created(text: &str) -> Vec<String> {
    if crate::sql::limits::beyond_limits(text).is_some() {
        return Vec::new();
    }
    let found = std::panic::catch_unwind(|| {
        SourceFile::parse(text)
            .syntax_node()
            .children()
            .filter(|node| node.kind() == K::CREATE_EXTENSION)
            .filter_map(|node| child(&node, &[K::EXTENSION]))
            .map(|name| ident(&name.text().to_string()))
            .filter(|name| !name.is_empty())
            .collect()
    });
    found.unwrap_or_default()
}

/// Whether `text` is one SQL expression and nothing else: what may be spliced into a statement
/// as a value (`lower(email)`) or a condition (`display_name IS NULL`). Refused, with why: a
/// syntax error, more than one expression, a clause after it (`x FROM t`), a statement after it
/// (`1; DROP TABLE t`), text that closes the parenthesis it is put in (`x) OR (true`), and a
/// comment (which would swallow what follows it).
pub fn single_expression(text: &str) -> Result<(), String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("it is empty".to_owned());
    }
    const PREFIX: &str = "SELECT ";
    let sql = format!("{PREFIX}{trimmed}");
    if crate::sql::limits::beyond_limits(&sql).is_some() {
        return Err("it is beyond the limits of the SQL parser".to_owned());
    }
    let checked = std::panic::catch_unwind(|| {
        let parse = SourceFile::parse(&sql);
        if let Some(error) = parse.errors().first() {
            return Err(format!("it is not valid SQL: {}", error.message()));
        }
        let root = parse.syntax_node();
        if root
            .descendants_with_tokens()
            .any(|e| e.kind() == K::COMMENT)
        {
            return Err("it holds a comment".to_owned());
        }
        let statements: Vec<SyntaxNode> = root.children().collect();
        let [statement] = statements.as_slice() else {
            return Err("it is more than one statement".to_owned());
        };
        let targets: Vec<SyntaxNode> = statement
            .descendants()
            .find(|n| n.kind() == K::TARGET_LIST)
            .map(|list| list.children().filter(|t| t.kind() == K::TARGET).collect())
            .unwrap_or_default();
        let [target] = targets.as_slice() else {
            return Err("it is not exactly one expression".to_owned());
        };
        if range_of(target) != (PREFIX.len(), sql.len()) {
            return Err("it is more than an expression (a clause follows it)".to_owned());
        }
        Ok(())
    });
    checked.unwrap_or_else(|_| Err("the SQL parser gave up on it".to_owned()))
}

fn range_of(node: &SyntaxNode) -> Range {
    let range = node.text_range();
    (usize::from(range.start()), usize::from(range.end()))
}

fn range_of_token(token: &squawk_syntax::SyntaxToken) -> Range {
    let range = token.text_range();
    (usize::from(range.start()), usize::from(range.end()))
}

/// An identifier as PostgreSQL folds it: unquoted lower-cased, quoted kept as written.
pub fn ident(text: &str) -> String {
    let text = text.trim();
    match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(quoted) => quoted.replace("\"\"", "\""),
        None => text.to_lowercase(),
    }
}

/// A relation's name as the schema model keys it: the last segment, qualified by its schema
/// when that is not `public` (`utils.saved_ddl`).
pub fn relation_name(node: &SyntaxNode) -> String {
    let segments: Vec<String> = node
        .descendants()
        .filter(|n| matches!(n.kind(), K::PATH_SEGMENT | K::PATH_SEGMENT_REF))
        .map(|n| ident(&n.text().to_string()))
        .collect();
    match segments.as_slice() {
        [] => ident(&node.text().to_string()),
        [.., schema, name] if schema != "public" => format!("{schema}.{name}"),
        [.., name] => name.clone(),
    }
}

/// The last segment of a (possibly schema-qualified) name.
fn name_in(node: &SyntaxNode) -> Option<String> {
    let segment = node
        .descendants()
        .filter(|n| matches!(n.kind(), K::PATH_SEGMENT | K::PATH_SEGMENT_REF))
        .last();
    let text = match segment {
        Some(segment) => segment.text().to_string(),
        None => node.text().to_string(),
    };
    let name = ident(&text);
    (!name.is_empty()).then_some(name)
}

fn child(node: &SyntaxNode, kinds: &[K]) -> Option<SyntaxNode> {
    node.children().find(|c| kinds.contains(&c.kind()))
}

fn has_token(node: &SyntaxNode, kind: K) -> bool {
    node.children_with_tokens().any(|e| e.kind() == kind)
}

fn has_descendant(node: &SyntaxNode, kind: K) -> bool {
    node.descendants_with_tokens().any(|e| e.kind() == kind)
}

fn statement_kind(node: &SyntaxNode) -> StatementKind {
    let table_of = |kinds: &[K]| {
        child(node, kinds)
            .map(|n| relation_name(&n))
            .unwrap_or_default()
    };
    let if_exists = child(node, &[K::IF_EXISTS]).is_some();
    let if_not_exists = child(node, &[K::IF_NOT_EXISTS]).is_some();
    match node.kind() {
        K::CREATE_TABLE => create_table(node),
        K::CREATE_TABLE_AS | K::CREATE_VIEW | K::CREATE_MATERIALIZED_VIEW => {
            let (name, kind) = match node.kind() {
                K::CREATE_TABLE_AS => (table_of(&[K::TABLE_NAME]), RelationKind::Table),
                K::CREATE_VIEW => (table_of(&[K::VIEW]), RelationKind::View),
                _ => (table_of(&[K::VIEW]), RelationKind::MaterializedView),
            };
            let column_names = node
                .children()
                .filter(|c| matches!(c.kind(), K::TABLE_ARG_LIST | K::COLUMN_LIST))
                .flat_map(|list| {
                    list.descendants()
                        .filter(|n| n.kind() == K::COLUMN_NAME)
                        .map(|n| ident(&n.text().to_string()))
                        .collect::<Vec<_>>()
                })
                .collect();
            StatementKind::CreateRelation {
                name,
                kind,
                query: query::query(node),
                column_names,
                if_not_exists,
            }
        }
        K::SELECT_INTO => StatementKind::CreateRelation {
            name: child(node, &[K::INTO_CLAUSE])
                .and_then(|into| child(&into, &[K::TABLE_NAME]))
                .map(|n| relation_name(&n))
                .unwrap_or_default(),
            kind: RelationKind::Table,
            query: query::query(node),
            column_names: Vec::new(),
            if_not_exists: false,
        },
        K::DROP_VIEW | K::DROP_MATERIALIZED_VIEW => StatementKind::DropView {
            names: node
                .children()
                .filter(|c| c.kind() == K::VIEW_REF)
                .map(|c| relation_name(&c))
                .collect(),
            materialized: node.kind() == K::DROP_MATERIALIZED_VIEW,
            if_exists,
        },
        K::REFRESH => StatementKind::RefreshView {
            name: table_of(&[K::VIEW_REF]),
            concurrently: has_token(node, K::CONCURRENTLY_KW),
        },
        K::CREATE_FUNCTION => StatementKind::CreateFunction {
            name: table_of(&[K::FUNCTION_NAME]),
            sets_new: new_assignments(node),
        },
        K::CREATE_TRIGGER => StatementKind::CreateTrigger {
            table: child(node, &[K::ON_RELATION])
                .and_then(|on| child(&on, &[K::RELATION_NAME_REF]))
                .map(|n| relation_name(&n))
                .unwrap_or_default(),
            function: node
                .children()
                .find(|c| c.kind() == K::CALL_EXPR)
                .and_then(|call| {
                    call.children()
                        .find(|c| matches!(c.kind(), K::NAME_REF | K::FIELD_EXPR))
                })
                .map(|n| relation_name(&n))
                .unwrap_or_default(),
            before_insert: child(node, &[K::TIMING_BEFORE]).is_some()
                && has_descendant(node, K::TRIGGER_EVENT_INSERT)
                && child(node, &[K::FOR_EACH_ROW]).is_some(),
        },
        K::DROP_TRIGGER => StatementKind::DropTrigger {
            table: child(node, &[K::ON_RELATION])
                .and_then(|on| child(&on, &[K::RELATION_NAME_REF]))
                .map(|n| relation_name(&n))
                .unwrap_or_default(),
        },
        K::ALTER_TABLE => StatementKind::AlterTable {
            table: table_of(&[K::TABLE_RELATION_NAME]),
            actions: node
                .children()
                .filter_map(|a| action(&a).map(|act| (range_of(&a), act)))
                .collect(),
            if_exists,
        },
        K::CREATE_INDEX => StatementKind::CreateIndex {
            name: child(node, &[K::INDEX]).and_then(|n| name_in(&n)),
            table: table_of(&[K::TABLE_RELATION_NAME]),
            unique: has_token(node, K::UNIQUE_KW),
            concurrently: has_token(node, K::CONCURRENTLY_KW),
            if_not_exists,
            only: child(node, &[K::TABLE_RELATION_NAME])
                .is_some_and(|relation| has_token(&relation, K::ONLY_KW)),
            columns: index_columns(node),
        },
        K::DROP_INDEX => StatementKind::DropIndex {
            names: node
                .children()
                .filter(|c| c.kind() == K::INDEX_REF)
                .filter_map(|c| name_in(&c))
                .collect(),
            concurrently: has_token(node, K::CONCURRENTLY_KW),
            if_exists,
        },
        K::DROP_TABLE => StatementKind::DropTable {
            tables: node
                .children()
                .filter(|c| c.kind() == K::TABLE_NAME_REF)
                .map(|c| relation_name(&c))
                .collect(),
            if_exists,
        },
        K::CREATE_TYPE => match child(node, &[K::ENUM_TYPE]) {
            Some(values) => StatementKind::CreateEnum {
                name: table_of(&[K::TYPE_NAME]),
                values: string_literals(&values),
            },
            None => StatementKind::Unmodelled {
                what: "CREATE TYPE (not an enum)".into(),
            },
        },
        K::ALTER_TYPE => {
            let name = table_of(&[K::TYPE_NAME_REF]);
            if let Some(add) = child(node, &[K::ADD_VALUE]) {
                StatementKind::AddEnumValue {
                    name,
                    value: string_literals(&add).into_iter().next().unwrap_or_default(),
                }
            } else if let Some(rename) = child(node, &[K::RENAME_VALUE])
                && let [from, to] = string_literals(&rename).as_slice()
            {
                StatementKind::RenameEnumValue {
                    name,
                    from: from.clone(),
                    to: to.clone(),
                }
            } else if let Some(to) = child(node, &[K::TYPE_RENAME_TO])
                .and_then(|r| child(&r, &[K::TYPE_NAME]))
                .and_then(|n| name_in(&n))
            {
                // The type stays in its schema.
                let to = match name.rsplit_once('.') {
                    Some((schema, _)) => format!("{schema}.{to}"),
                    None => to,
                };
                StatementKind::RenameType { name, to }
            } else {
                StatementKind::Unmodelled {
                    what: "ALTER TYPE".into(),
                }
            }
        }
        K::DROP_TYPE => StatementKind::DropType {
            names: node
                .children()
                .filter(|c| c.kind() == K::TYPE_NAME_REF)
                .map(|c| relation_name(&c))
                .collect(),
        },
        K::UPDATE => StatementKind::Update {
            table: table_of(&[K::RELATION_NAME]),
            only_where_null: child(node, &[K::WHERE_CLAUSE]).and_then(|w| is_null_test(&w)),
        },
        K::DELETE => StatementKind::Delete {
            table: table_of(&[K::RELATION_NAME]),
        },
        K::INSERT => StatementKind::Insert,
        K::SET => set_statement(node),
        K::RESET => {
            let target = node.text().to_string().to_lowercase();
            if target.contains("lock_timeout")
                || target
                    .split_whitespace()
                    .any(|w| w.trim_end_matches(';') == "all")
            {
                StatementKind::ResetLockTimeout
            } else {
                StatementKind::Harmless
            }
        }
        K::BEGIN => StatementKind::Begin,
        K::COMMIT_TRANSACTION => StatementKind::Commit,
        K::ROLLBACK_TRANSACTION => StatementKind::Rollback,
        K::SELECT => select_statement(node),
        K::COMPOUND_SELECT | K::COMMENT_ON | K::GRANT | K::REVOKE | K::ANALYZE | K::SHOW => {
            StatementKind::Harmless
        }
        // An index partition attached to its partitioned index: the parent index becomes
        // valid once each partition has one.
        K::ALTER_INDEX if child(node, &[K::ATTACH_INDEX_PARTITION]).is_some() => {
            StatementKind::AttachIndexPartition {
                index: child(node, &[K::INDEX_REF])
                    .and_then(|n| name_in(&n))
                    .unwrap_or_default(),
            }
        }
        other => StatementKind::Unmodelled {
            what: describe_kind(other),
        },
    }
}

/// The columns a function body assigns on `NEW` (`NEW.col := ...`, `NEW.col = ...`): a
/// textual scan of the body, which PL/pgSQL keeps as a string.
fn new_assignments(node: &SyntaxNode) -> Vec<String> {
    let Some(body) = node
        .descendants_with_tokens()
        .filter_map(|e| e.into_token())
        .find(|t| matches!(t.kind(), K::DOLLAR_QUOTED_STRING | K::STRING))
    else {
        return Vec::new();
    };
    let text = body.text().to_lowercase();
    let mut out: Vec<String> = Vec::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("new.") {
        let before = rest[..at].chars().last();
        rest = &rest[at + 4..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
            continue;
        }
        let column: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let after = rest[column.len()..].trim_start();
        let assigns =
            after.starts_with(":=") || (after.starts_with('=') && !after.starts_with("=="));
        if assigns && !column.is_empty() && !out.contains(&column) {
            out.push(column);
        }
    }
    out
}

/// A WHERE of exactly `col IS NULL`: the column.
fn is_null_test(clause: &SyntaxNode) -> Option<String> {
    let expression = clause.children().next()?;
    let text: Vec<String> = expression
        .text()
        .to_string()
        .split_whitespace()
        .map(str::to_lowercase)
        .collect();
    match text.as_slice() {
        [column, is, null] if is == "is" && null == "null" => Some(ident(column)),
        _ => None,
    }
}

fn describe_kind(kind: K) -> String {
    format!("{kind:?}").replace('_', " ")
}

fn string_literals(node: &SyntaxNode) -> Vec<String> {
    node.descendants_with_tokens()
        .filter_map(|e| e.into_token())
        .filter(|t| t.kind() == K::STRING)
        .map(|t| t.text().trim_matches('\'').replace("''", "'"))
        .collect()
}

/// Whether a SET of the time zone names UTC (or an alias PostgreSQL treats as it).
fn is_utc(text: &str) -> bool {
    let value = text
        .rsplit(['=', ' '])
        .find(|w| !w.trim().is_empty())
        .unwrap_or_default()
        .trim()
        .trim_end_matches(';')
        .trim_matches('\'')
        .to_lowercase();
    matches!(
        value.as_str(),
        "utc" | "etc/utc" | "gmt" | "etc/gmt" | "zulu" | "universal" | "uct" | "0" | "+00" | "z"
    )
}

fn set_statement(node: &SyntaxNode) -> StatementKind {
    let text = node.text().to_string().to_lowercase();
    if child(node, &[K::SET_TIME_ZONE]).is_some() {
        return StatementKind::SetTimezone { utc: is_utc(&text) };
    }
    let Some(config) = node
        .descendants()
        .find(|n| n.kind() == K::CONFIG_PARAMETER_REF)
    else {
        return StatementKind::Harmless;
    };
    match ident(&config.text().to_string()).as_str() {
        "lock_timeout" => {}
        "search_path" => {
            return StatementKind::SetSearchPath {
                schemas: node
                    .descendants()
                    .filter(|n| matches!(n.kind(), K::CONFIG_VALUE_NAME | K::LITERAL))
                    .map(|n| ident(n.text().to_string().trim_matches('\'')))
                    .filter(|s| s != "\"$user\"" && s != "$user")
                    .collect(),
            };
        }
        "timezone" => return StatementKind::SetTimezone { utc: is_utc(&text) },
        _ => return StatementKind::Harmless,
    }
    let local = has_descendant(node, K::LOCAL_KW);
    let value = node
        .descendants()
        .find(|n| n.kind() == K::TO_CONFIG_VALUE)
        .map(|n| n.text().to_string().to_lowercase())
        .unwrap_or(text);
    let value = value
        .trim_start_matches(['=', ' '])
        .trim_start_matches("to")
        .trim()
        .trim_matches('\'');
    let value = if value.starts_with("default") {
        TimeoutValue::Default
    } else {
        match timeout_ms(value) {
            Some(0) => TimeoutValue::Zero,
            ms => TimeoutValue::Positive { ms },
        }
    };
    StatementKind::SetLockTimeout { value, local }
}

/// A SELECT is harmless unless it calls `set_config('lock_timeout', value, is_local)`, which
/// sets the timeout as SET does; a NULL value resets it. Of several calls, the one that waits
/// longest counts.
fn select_statement(node: &SyntaxNode) -> StatementKind {
    let mut worst: Option<StatementKind> = None;
    for call in node.descendants().filter(|n| n.kind() == K::CALL_EXPR) {
        let Some(args) = call.children().find(|n| n.kind() == K::ARG_LIST) else {
            continue;
        };
        let callee = call.text().to_string();
        let callee = callee[..usize::from(args.text_range().start() - call.text_range().start())]
            .trim()
            .to_lowercase();
        let name = callee
            .rsplit('.')
            .next()
            .map(|n| n.trim().trim_matches('"'));
        if name != Some("set_config") {
            continue;
        }
        let literal = |arg: Option<SyntaxNode>| {
            arg.and_then(|a| {
                if a.kind() == K::ARG {
                    a.first_child()
                } else {
                    Some(a)
                }
            })
            .filter(|a| a.kind() == K::LITERAL)
            .map(|a| {
                a.text()
                    .to_string()
                    .trim()
                    .trim_matches('\'')
                    .to_lowercase()
            })
        };
        let mut args = args.children();
        if literal(args.next()).as_deref() != Some("lock_timeout") {
            continue;
        }
        let value = match literal(args.next()) {
            Some(value) if value.starts_with("default") || value == "null" => TimeoutValue::Default,
            Some(value) => match timeout_ms(&value) {
                Some(0) => TimeoutValue::Zero,
                ms => TimeoutValue::Positive { ms },
            },
            None => TimeoutValue::Positive { ms: None },
        };
        let local = literal(args.next())
            .is_some_and(|l| matches!(l.as_str(), "true" | "t" | "on" | "yes" | "1"));
        let rank = |value: &TimeoutValue| match value {
            TimeoutValue::Zero | TimeoutValue::Default => u64::MAX,
            TimeoutValue::Positive { ms } => ms.unwrap_or(0),
        };
        let longer = match &worst {
            Some(StatementKind::SetLockTimeout { value: seen, .. }) => rank(&value) > rank(seen),
            _ => true,
        };
        if longer {
            worst = Some(StatementKind::SetLockTimeout { value, local });
        }
    }
    worst.unwrap_or(StatementKind::Harmless)
}

/// A `lock_timeout` value in milliseconds, as PostgreSQL reads it: a bare number is in
/// milliseconds; a unit (`us`, `ms`, `s`, `min`, `h`, `d`) may follow, with or without a space.
/// A fraction is rounded to the nearest millisecond.
pub fn timeout_ms(value: &str) -> Option<u64> {
    let value = value.trim();
    let split = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse().ok()?;
    let scale = match unit.trim() {
        "" | "ms" => 1.0,
        "us" => 0.001,
        "s" => 1_000.0,
        "min" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        _ => return None,
    };
    let ms = (number * scale).round();
    (ms.is_finite() && ms >= 0.0 && ms <= u64::MAX as f64).then_some(ms as u64)
}

fn create_table(node: &SyntaxNode) -> StatementKind {
    let table = child(node, &[K::TABLE_NAME])
        .map(|n| relation_name(&n))
        .unwrap_or_default();
    let mut columns = Vec::new();
    let mut constraints = Vec::new();
    if let Some(args) = child(node, &[K::TABLE_ARG_LIST]) {
        for arg in args.children() {
            if arg.kind() == K::COLUMN {
                if let Some(column) = column_def(&arg) {
                    columns.push(column);
                }
            } else if let Some(constraint) = constraint_def(&arg) {
                constraints.push(constraint);
            }
        }
    }
    StatementKind::CreateTable {
        table,
        columns,
        constraints,
        if_not_exists: child(node, &[K::IF_NOT_EXISTS]).is_some(),
        partitioned: child(node, &[K::PARTITION_BY]).is_some(),
        partition_key: partition_key(node),
        partition_of: child(node, &[K::PARTITION_OF])
            .and_then(|of| child(&of, &[K::TABLE_NAME_REF]))
            .map(|n| relation_name(&n)),
        default_partition: child(node, &[K::PARTITION_DEFAULT]).is_some(),
    }
}

/// The columns of `PARTITION BY RANGE (a, b)`; none when a key is an expression.
fn partition_key(node: &SyntaxNode) -> Vec<String> {
    let Some(items) =
        child(node, &[K::PARTITION_BY]).and_then(|by| child(&by, &[K::PARTITION_ITEM_LIST]))
    else {
        return Vec::new();
    };
    let mut columns = Vec::new();
    for item in items.children().filter(|n| n.kind() == K::PARTITION_ITEM) {
        let parts: Vec<SyntaxNode> = item.children().collect();
        match parts.as_slice() {
            [name] if name.kind() == K::NAME_REF => columns.push(ident(&name.text().to_string())),
            _ => return Vec::new(),
        }
    }
    columns
}

fn type_node(node: &SyntaxNode) -> Option<SyntaxNode> {
    node.children()
        .find(|c| format!("{:?}", c.kind()).ends_with("_TYPE"))
}

fn column_def(node: &SyntaxNode) -> Option<ColumnDef> {
    let name = child(node, &[K::COLUMN_NAME]).map(|n| ident(&n.text().to_string()))?;
    let type_text = type_node(node)
        .map(|n| n.text().to_string())
        .unwrap_or_default();
    let sql_type = SqlType::parse(&type_text);
    let serial = matches!(
        type_text.trim().to_lowercase().as_str(),
        "serial" | "bigserial" | "smallserial" | "serial4" | "serial8" | "serial2"
    );
    let mut def = ColumnDef {
        name,
        sql_type,
        not_null: false,
        default: None,
        fills_rows: None,
        constraints: Vec::new(),
        if_not_exists: child(node, &[K::IF_NOT_EXISTS]).is_some(),
    };
    if serial {
        def.fills_rows = Some("a serial column");
        def.not_null = true;
    }
    for clause in node.children() {
        match clause.kind() {
            K::NOT_NULL_CONSTRAINT => def.not_null = true,
            K::PRIMARY_KEY_CONSTRAINT => {
                def.not_null = true;
                def.constraints.extend(constraint_def(&clause));
            }
            K::DEFAULT_CONSTRAINT => def.default = Some(default_kind(&clause)),
            K::GENERATED_CONSTRAINT => {
                if has_descendant(&clause, K::IDENTITY_KW) {
                    def.fills_rows = Some("an identity column");
                    def.not_null = true;
                } else if has_descendant(&clause, K::STORED_KW) {
                    def.fills_rows = Some("a stored generated column");
                }
            }
            _ => def.constraints.extend(constraint_def(&clause)),
        }
    }
    for constraint in &mut def.constraints {
        if constraint.columns.is_empty() {
            constraint.columns.push(def.name.clone());
        }
    }
    Some(def)
}

fn default_kind(node: &SyntaxNode) -> DefaultKind {
    for call in node.descendants().filter(|n| n.kind() == K::CALL_EXPR) {
        let function = call
            .children()
            .find(|c| matches!(c.kind(), K::NAME_REF | K::FIELD_EXPR))
            .map(|n| ident(n.text().to_string().rsplit('.').next().unwrap_or_default()))
            .unwrap_or_default();
        if VOLATILE.contains(&function.as_str()) || !NOT_VOLATILE.contains(&function.as_str()) {
            return DefaultKind::Volatile { function };
        }
    }
    DefaultKind::Constant
}

fn constraint_def(node: &SyntaxNode) -> Option<ConstraintDef> {
    let kind = match node.kind() {
        K::CHECK_CONSTRAINT => ConstraintKind::Check,
        K::FOREIGN_KEY_CONSTRAINT | K::REFERENCES_CONSTRAINT => ConstraintKind::ForeignKey,
        K::UNIQUE_CONSTRAINT => ConstraintKind::Unique,
        K::PRIMARY_KEY_CONSTRAINT => ConstraintKind::PrimaryKey,
        K::NOT_NULL_CONSTRAINT => ConstraintKind::NotNull,
        K::EXCLUDE_CONSTRAINT => ConstraintKind::Exclude,
        _ => return None,
    };
    let name = child(node, &[K::CONSTRAINT_NAME_CLAUSE])
        .and_then(|c| child(&c, &[K::CONSTRAINT_NAME]))
        .map(|n| ident(&n.text().to_string()));
    let expression = check_expression(node);
    let proves_not_null = match kind {
        ConstraintKind::Check => expression.as_ref().and_then(is_not_null_check),
        ConstraintKind::NotNull => node
            .children()
            .find(|c| matches!(c.kind(), K::NAME_REF | K::COLUMN_NAME_REF))
            .map(|n| ident(&n.text().to_string())),
        _ => None,
    };
    let mut columns: Vec<String> = Vec::new();
    let referenced = |list_kind: K| -> Vec<String> {
        node.children()
            .find(|c| c.kind() == list_kind)
            .map(|list| {
                list.descendants()
                    .filter(|n| n.kind() == K::COLUMN_NAME_REF)
                    .map(|n| ident(&n.text().to_string()))
                    .collect()
            })
            .unwrap_or_default()
    };
    match kind {
        ConstraintKind::Check => {
            for name in expression
                .iter()
                .flat_map(|e| e.descendants())
                .filter(|n| n.kind() == K::NAME_REF)
            {
                let name = ident(&name.text().to_string());
                if !columns.contains(&name) {
                    columns.push(name);
                }
            }
        }
        ConstraintKind::ForeignKey => columns = referenced(K::FOREIGN_KEY_COLUMN_LIST),
        _ => {
            columns = node
                .descendants()
                .filter(|n| n.kind() == K::CONSTRAINT_COLUMN_REF_LIST)
                .flat_map(|list| {
                    list.children()
                        .filter(|c| c.kind() == K::COLUMN_NAME_REF)
                        .collect::<Vec<_>>()
                })
                .map(|n| ident(&n.text().to_string()))
                .collect()
        }
    }
    let references = (kind == ConstraintKind::ForeignKey)
        .then(|| {
            node.children()
                .find(|c| matches!(c.kind(), K::TABLE_NAME_REF | K::PATH | K::PATH_REF))
                .and_then(|n| name_in(&n))
        })
        .flatten();
    Some(ConstraintDef {
        name,
        kind,
        not_valid: has_descendant(node, K::NOT_VALID),
        using_index: node
            .descendants()
            .find(|n| n.kind() == K::USING_INDEX_NAME)
            .and_then(|n| {
                n.children()
                    .find(|c| !matches!(c.kind(), K::WHITESPACE))
                    .and_then(|c| name_in(&c))
                    .or_else(|| {
                        let text = n.text().to_string();
                        let name = text
                            .trim()
                            .trim_start_matches("USING")
                            .trim_start_matches("using")
                            .trim()
                            .trim_start_matches("INDEX")
                            .trim_start_matches("index");
                        Some(ident(name.trim()))
                    })
            }),
        proves_not_null,
        allows: expression.as_ref().and_then(allowed_values),
        columns,
        references,
    })
}

/// The columns of `CREATE INDEX ... (a, b)`, when each is a plain column and there is no
/// `WHERE`: what an `ON CONFLICT (a, b)` can use.
fn index_columns(node: &SyntaxNode) -> Option<Vec<String>> {
    if child(node, &[K::WHERE_CLAUSE]).is_some() {
        return None;
    }
    child(node, &[K::PARTITION_ITEM_LIST])?
        .children()
        .filter(|c| c.kind() == K::PARTITION_ITEM)
        .map(|item| {
            let parts: Vec<SyntaxNode> = item.children().collect();
            match parts.as_slice() {
                [column] if column.kind() == K::NAME_REF => Some(ident(&column.text().to_string())),
                _ => None,
            }
        })
        .collect()
}

/// `col IN ('a', 'b')` or `col = ANY (ARRAY['a', 'b'])`, in any parentheses and with any casts
/// (pg_dump writes `((col)::text = ANY ((ARRAY['a'::character varying])::text[]))`): the
/// column and the values; none when a value is not a string literal.
fn allowed_values(expression: &SyntaxNode) -> Option<(String, Vec<String>)> {
    // Under parentheses and casts, the expression they wrap: their first child.
    let unwrapped = |node: &SyntaxNode| {
        let mut node = node.clone();
        while matches!(node.kind(), K::PAREN_EXPR | K::CAST_EXPR) {
            node = node.children().next()?;
        }
        Some(node)
    };
    let expression = unwrapped(expression)?;
    if expression.kind() != K::BIN_EXPR {
        return None;
    }
    let operator: Vec<K> = expression
        .children_with_tokens()
        .filter_map(|e| e.into_token())
        .map(|t| t.kind())
        .filter(|k| !matches!(k, K::WHITESPACE | K::COMMENT))
        .collect();
    let parts: Vec<SyntaxNode> = expression.children().collect();
    let [column, list] = parts.as_slice() else {
        return None;
    };
    let column = unwrapped(column)?;
    // The list's elements: a tuple's, or the array's under `ANY (...)`.
    let elements: Vec<SyntaxNode> = match operator.as_slice() {
        [K::IN_KW] if matches!(list.kind(), K::TUPLE_EXPR | K::PAREN_EXPR) => {
            list.children().collect()
        }
        [K::EQ] if has_descendant(list, K::ANY_FN) => list
            .descendants()
            .find(|n| n.kind() == K::ARRAY_EXPR)?
            .children()
            .collect(),
        _ => return None,
    };
    if column.kind() != K::NAME_REF || elements.is_empty() {
        return None;
    }
    let strings: Vec<String> = elements
        .iter()
        .map(|element| {
            let literal = unwrapped(element)?;
            (literal.kind() == K::LITERAL)
                .then(|| string_literals(&literal).into_iter().next())
                .flatten()
        })
        .collect::<Option<_>>()?;
    Some((ident(&column.text().to_string()), strings))
}

/// The expression of a CHECK constraint.
fn check_expression(node: &SyntaxNode) -> Option<SyntaxNode> {
    (node.kind() == K::CHECK_CONSTRAINT).then(|| {
        node.children().find(|c| {
            !matches!(
                c.kind(),
                K::CONSTRAINT_NAME_CLAUSE | K::NOT_VALID | K::NO_INHERIT
            )
        })
    })?
}

/// `CHECK (col IS NOT NULL)` (in any parentheses): the column it proves never NULL.
fn is_not_null_check(expression: &SyntaxNode) -> Option<String> {
    let mut expression = expression.clone();
    while expression.kind() == K::PAREN_EXPR {
        expression = expression.children().next()?;
    }
    if expression.kind() != K::BIN_EXPR {
        return None;
    }
    let parts: Vec<SyntaxNode> = expression.children().collect();
    match parts.as_slice() {
        [column, operator, value]
            if column.kind() == K::NAME_REF
                && operator.kind() == K::IS_NOT
                && has_descendant(value, K::NULL_KW)
                && value.text().to_string().trim().eq_ignore_ascii_case("null") =>
        {
            Some(ident(&column.text().to_string()))
        }
        _ => None,
    }
}

fn action(node: &SyntaxNode) -> Option<Action> {
    let column_ref = || {
        child(node, &[K::COLUMN_NAME_REF])
            .map(|n| ident(&n.text().to_string()))
            .unwrap_or_default()
    };
    let constraint_ref = || {
        child(node, &[K::CONSTRAINT_NAME_REF])
            .and_then(|n| name_in(&n))
            .unwrap_or_default()
    };
    let partition = || {
        child(node, &[K::TABLE_NAME_REF])
            .map(|n| relation_name(&n))
            .unwrap_or_default()
    };
    Some(match node.kind() {
        K::ATTACH_PARTITION => Action::AttachPartition {
            partition: partition(),
            default: child(node, &[K::PARTITION_DEFAULT]).is_some(),
        },
        K::DETACH_PARTITION => Action::DetachPartition {
            partition: partition(),
            concurrently: child(node, &[K::DETACH_CONCURRENTLY]).is_some(),
        },
        K::ADD_COLUMN => Action::AddColumn(column_def(node)?),
        K::DROP_COLUMN => Action::DropColumn {
            column: column_ref(),
            if_exists: child(node, &[K::IF_EXISTS]).is_some(),
        },
        K::ADD_CONSTRAINT => {
            Action::AddConstraint(node.children().find_map(|c| constraint_def(&c))?)
        }
        K::VALIDATE_CONSTRAINT => Action::ValidateConstraint {
            name: constraint_ref(),
        },
        K::DROP_CONSTRAINT => Action::DropConstraint {
            name: constraint_ref(),
        },
        K::RENAME_COLUMN => Action::RenameColumn {
            from: column_ref(),
            to: child(node, &[K::COLUMN_NAME])
                .map(|n| ident(&n.text().to_string()))
                .unwrap_or_default(),
        },
        K::TABLE_RENAME_TO => Action::RenameTable {
            to: child(node, &[K::TABLE_NAME])
                .and_then(|n| name_in(&n))
                .unwrap_or_default(),
        },
        K::RENAME_CONSTRAINT => {
            let names: Vec<String> = node
                .children()
                .filter(|c| {
                    matches!(
                        c.kind(),
                        K::CONSTRAINT_NAME_REF | K::CONSTRAINT_NAME | K::NAME_REF
                    )
                })
                .filter_map(|c| name_in(&c))
                .collect();
            Action::RenameConstraint {
                from: names.first().cloned().unwrap_or_default(),
                to: names.get(1).cloned().unwrap_or_default(),
            }
        }
        K::ALTER_COLUMN => {
            let column = column_ref();
            let option = node.children().find(|c| c.kind() != K::COLUMN_NAME_REF)?;
            match option.kind() {
                K::SET_NOT_NULL => Action::SetNotNull { column },
                K::DROP_NOT_NULL => Action::DropNotNull { column },
                K::SET_TYPE => {
                    let using = child(&option, &[K::USING_EXPR]).is_some_and(|u| {
                        let expression: String = u
                            .text()
                            .to_string()
                            .to_lowercase()
                            .split_whitespace()
                            .collect();
                        let expression = expression.trim_start_matches("using");
                        expression != column && !expression.starts_with(&format!("{column}::"))
                    });
                    let text = type_node(&option)
                        .map(|n| n.text().to_string())
                        .unwrap_or_default();
                    Action::SetType {
                        sql_type: SqlType::parse(&text),
                        column,
                        using,
                    }
                }
                K::SET_DEFAULT => Action::SetDefault {
                    column,
                    default: default_kind(&option),
                },
                K::DROP_DEFAULT => Action::DropDefault { column },
                other => Action::Unmodelled {
                    what: format!("ALTER COLUMN {}", describe_kind(other)),
                },
            }
        }
        K::COMMA | K::WHITESPACE | K::COMMENT => return None,
        K::TABLE_RELATION_NAME | K::IF_EXISTS => return None,
        other => Action::Unmodelled {
            what: describe_kind(other),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every SQL file of this repository and a few made to fail: the grammar alone builds the
    /// tree `SourceFile::parse` builds, with its errors less the validation's.
    #[test]
    fn the_grammar_alone_builds_the_same_tree() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut texts: Vec<String> = [
            "CREATE TABLE shapes (a);",
            "ALTER TABLE t ADD COLUM b text; SELECT 'unterminated",
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELEC 1';",
            "SELECT DISTINCT ON () a FROM t;",
        ]
        .map(str::to_owned)
        .to_vec();
        let mut folders = vec![root.join("migrations"), root.join("crates")];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() && !path.ends_with("target") {
                    folders.push(path);
                } else if path.extension().is_some_and(|e| e == "sql") {
                    texts.push(std::fs::read_to_string(&path).unwrap());
                }
            }
        }
        assert!(
            texts.len() > 10,
            "the repository's SQL files were not found"
        );
        let mut validated_more = 0;
        for text in &texts {
            let full = SourceFile::parse(text);
            let (tree, errors) = grammar_only(text);
            assert_eq!(tree.green(), full.syntax_node().green(), "{text}");
            let full_errors: Vec<(Range, String)> = full
                .errors()
                .into_iter()
                .map(|e| {
                    let r = e.range();
                    ((r.start().into(), r.end().into()), e.message().to_owned())
                })
                .collect();
            assert!(
                errors.iter().all(|e| full_errors.contains(e)),
                "{text}: {errors:?} not in {full_errors:?}"
            );
            validated_more += usize::from(full_errors.len() > errors.len());
        }
        assert!(validated_more >= 2, "validation found nothing more");
    }

    #[test]
    fn a_single_expression_and_nothing_else() {
        for ok in [
            "lower(email)",
            "'unknown'",
            "display_name IS NULL",
            "coalesce(a, b) || 'x'",
            "status = 'open' AND id > 3",
            " (SELECT max(id) FROM t) ",
        ] {
            assert_eq!(single_expression(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "x) OR (true",
            "lower(",
            "1; DROP TABLE accounts",
            "x FROM accounts",
            "a, b",
            "true -- the rest",
            "true /* the rest */",
        ] {
            assert!(single_expression(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn extensions_a_script_creates() {
        let sql = "CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\";\nCREATE TABLE t (id int);\ncreate extension PostGIS with schema public cascade;\n";
        assert_eq!(extensions_created(sql), ["uuid-ossp", "postgis"]);
        assert!(extensions_created("SELEC 1;").is_empty());
    }

    /// The values each CHECK of these statements allows, in order.
    fn allowed(sql: &str) -> Vec<Option<(String, Vec<String>)>> {
        parse(sql)
            .statements
            .into_iter()
            .flat_map(|s| match s.kind {
                StatementKind::AlterTable { actions, .. } => actions,
                _ => Vec::new(),
            })
            .filter_map(|(_, action)| match action {
                Action::AddConstraint(def) => Some(def.allows),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_check_listing_values_is_read_as_written_and_as_pg_dump_writes_it() {
        let listed = Some(("status".to_owned(), vec!["a".to_owned(), "b".to_owned()]));
        for sql in [
            "ALTER TABLE t ADD CONSTRAINT c CHECK (status IN ('a', 'b'));",
            "ALTER TABLE t ADD CONSTRAINT c CHECK ((status = ANY (ARRAY['a'::text, 'b'::text]))) NOT VALID;",
            "ALTER TABLE t ADD CONSTRAINT c CHECK (((status)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[])));",
        ] {
            assert_eq!(allowed(sql), std::slice::from_ref(&listed), "{sql}");
        }
        for sql in [
            "ALTER TABLE t ADD CONSTRAINT c CHECK (status NOT IN ('a'));",
            "ALTER TABLE t ADD CONSTRAINT c CHECK (status IN ('a', lower('B')));",
            "ALTER TABLE t ADD CONSTRAINT c CHECK (length(status) < 3);",
        ] {
            assert_eq!(allowed(sql), [None], "{sql}");
        }
    }
}
