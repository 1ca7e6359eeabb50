//! The columns a query yields, for `CREATE TABLE ... AS`, `SELECT ... INTO` and views: read
//! from the SELECT's syntax here, typed against the replayed schema by `columns`. What cannot
//! be typed statically (a function the table below does not know) is `SqlType::unknown()`,
//! which no type rule judges.

use squawk_syntax::{SyntaxKind as K, SyntaxNode};

use crate::sql::parse::{ident, relation_name};
use crate::sql::schema::{Column, Schema, SqlType};

/// A query: its branches (more than one under UNION, INTERSECT, EXCEPT). The first names the
/// columns; each column's type is the first branch's that can be told.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    pub branches: Vec<Branch>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Branch {
    pub targets: Vec<Target>,
    pub from: Vec<FromItem>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `AS name`, else what PostgreSQL names the column after the expression.
    pub name: Option<String>,
    pub expr: Expr,
}

/// As much of an expression as its type needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Column {
        qualifier: Option<String>,
        name: String,
    },
    /// Every column of the FROM items (`*`), or of one (`t.*`).
    Star {
        qualifier: Option<String>,
    },
    Typed(SqlType),
    /// Of the type of its argument: `max(x)`, `coalesce(x, ...)`, `(x)`.
    Like(Box<Expr>),
    /// An array of its argument's type: `array_agg(x)`.
    ArrayOf(Box<Expr>),
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FromItem {
    pub alias: Option<String>,
    pub source: FromSource,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FromSource {
    Relation(String),
    Query(Query),
}

/// The query under a CREATE TABLE AS, a view or a SELECT INTO.
pub fn query(node: &SyntaxNode) -> Query {
    match node.kind() {
        K::SELECT | K::SELECT_INTO => Query {
            branches: vec![branch(node)],
        },
        K::COMPOUND_SELECT => Query {
            branches: node.children().flat_map(|c| query(&c).branches).collect(),
        },
        K::PAREN_SELECT => node
            .children()
            .map(|c| query(&c))
            .next()
            .unwrap_or_default(),
        _ => node
            .children()
            .find(|c| {
                matches!(
                    c.kind(),
                    K::SELECT | K::COMPOUND_SELECT | K::PAREN_SELECT | K::SELECT_INTO
                )
            })
            .map(|c| query(&c))
            .unwrap_or_default(),
    }
}

fn branch(select: &SyntaxNode) -> Branch {
    let targets = select
        .descendants()
        .find(|n| n.kind() == K::TARGET_LIST)
        .map(|list| {
            list.children()
                .filter(|t| t.kind() == K::TARGET)
                .map(|t| target(&t))
                .collect()
        })
        .unwrap_or_default();
    let mut from = Vec::new();
    if let Some(clause) = select.children().find(|c| c.kind() == K::FROM_CLAUSE) {
        from_items(&clause, &mut from);
    }
    Branch { targets, from }
}

fn from_items(node: &SyntaxNode, out: &mut Vec<FromItem>) {
    for item in node.children() {
        match item.kind() {
            K::RELATION_FROM_ITEM => {
                let name = item
                    .children()
                    .find(|c| c.kind() == K::RELATION_NAME_REF)
                    .map(|n| relation_name(&n))
                    .unwrap_or_default();
                out.push(FromItem {
                    alias: alias(&item),
                    source: FromSource::Relation(name),
                });
            }
            K::PAREN_FROM_ITEM => {
                let inner = item
                    .children()
                    .find(|c| c.kind() == K::PAREN_SELECT)
                    .map(|c| query(&c));
                match inner {
                    Some(inner) => out.push(FromItem {
                        alias: alias(&item),
                        source: FromSource::Query(inner),
                    }),
                    None => from_items(&item, out),
                }
            }
            K::JOIN_EXPR | K::JOIN => from_items(&item, out),
            _ => {}
        }
    }
}

fn alias(item: &SyntaxNode) -> Option<String> {
    item.children()
        .find(|c| c.kind() == K::FROM_ALIAS)
        .and_then(|a| a.children().find(|c| c.kind() == K::TABLE_ALIAS))
        .map(|a| ident(&a.text().to_string()))
}

fn target(node: &SyntaxNode) -> Target {
    let name = node
        .children()
        .find(|c| c.kind() == K::AS_NAME)
        .and_then(|a| a.children().find(|c| c.kind() == K::COLUMN_NAME))
        .map(|n| ident(&n.text().to_string()));
    let expression = node.children().find(|c| c.kind() != K::AS_NAME);
    if expression.is_none() && node.children_with_tokens().any(|e| e.kind() == K::STAR) {
        return Target {
            name: None,
            expr: Expr::Star { qualifier: None },
        };
    }
    let expr = expression.as_ref().map_or(Expr::Unknown, expr);
    let name = name.or_else(|| expression.as_ref().and_then(implicit_name));
    Target { name, expr }
}

/// The name PostgreSQL gives an unnamed output column: a column's, a function's, or the
/// operand's under a cast.
fn implicit_name(node: &SyntaxNode) -> Option<String> {
    match node.kind() {
        K::NAME_REF => Some(ident(&node.text().to_string())),
        K::FIELD_EXPR => node
            .children()
            .filter(|c| c.kind() == K::NAME_REF)
            .last()
            .map(|n| ident(&n.text().to_string())),
        K::CALL_EXPR => node
            .children()
            .find(|c| matches!(c.kind(), K::NAME_REF | K::FIELD_EXPR))
            .and_then(|n| implicit_name(&n)),
        K::CAST_EXPR | K::PAREN_EXPR => node.children().next().and_then(|n| implicit_name(&n)),
        _ => None,
    }
}

fn literal_type(node: &SyntaxNode) -> Expr {
    let token = node
        .children_with_tokens()
        .filter_map(|e| e.into_token())
        .find(|t| t.kind() != K::WHITESPACE);
    match token.map(|t| t.kind()) {
        Some(K::INT_NUMBER) => Expr::Typed(SqlType::parse("int4")),
        Some(K::NUMERIC_NUMBER) => Expr::Typed(SqlType::parse("numeric")),
        // An unknown-typed literal is made text when it becomes a column (PostgreSQL 10+).
        Some(K::STRING) => Expr::Typed(SqlType::parse("text")),
        Some(K::TRUE_KW | K::FALSE_KW) => Expr::Typed(SqlType::parse("bool")),
        _ => Expr::Unknown,
    }
}

/// Functions whose result type does not depend on their arguments.
const FUNCTION_TYPES: &[(&str, &str)] = &[
    ("count", "int8"),
    ("row_number", "int8"),
    ("rank", "int8"),
    ("dense_rank", "int8"),
    ("now", "timestamptz"),
    ("current_timestamp", "timestamptz"),
    ("clock_timestamp", "timestamptz"),
    ("current_date", "date"),
    ("lower", "text"),
    ("upper", "text"),
    ("concat", "text"),
    ("trim", "text"),
    ("replace", "text"),
    ("substring", "text"),
    ("length", "int4"),
    ("gen_random_uuid", "uuid"),
    ("bool_and", "bool"),
    ("bool_or", "bool"),
    ("every", "bool"),
    ("to_tsvector", "tsvector"),
];

/// Functions whose result has the type of their first argument.
const SAME_AS_ARGUMENT: &[&str] = &["max", "min", "coalesce", "greatest", "least", "nullif"];

fn expr(node: &SyntaxNode) -> Expr {
    match node.kind() {
        K::NAME_REF => Expr::Column {
            qualifier: None,
            name: ident(&node.text().to_string()),
        },
        K::FIELD_EXPR => {
            let parts: Vec<SyntaxNode> = node.children().collect();
            let star = node.children_with_tokens().any(|e| e.kind() == K::STAR);
            let qualifier = parts.first().map(|n| ident(&n.text().to_string()));
            if star {
                return Expr::Star { qualifier };
            }
            match parts.as_slice() {
                [_, last] => Expr::Column {
                    qualifier,
                    name: ident(&last.text().to_string()),
                },
                _ => Expr::Unknown,
            }
        }
        K::CAST_EXPR => node
            .children()
            .find(|c| format!("{:?}", c.kind()).ends_with("_TYPE"))
            .map_or(Expr::Unknown, |t| {
                Expr::Typed(SqlType::parse(&t.text().to_string()))
            }),
        K::LITERAL => literal_type(node),
        K::PAREN_EXPR => node.children().next().map_or(Expr::Unknown, |n| expr(&n)),
        K::CASE_EXPR => node
            .descendants()
            .find(|n| n.kind() == K::WHEN_CLAUSE)
            .and_then(|w| w.children().nth(1))
            .map_or(Expr::Unknown, |n| expr(&n)),
        K::BIN_EXPR => {
            let operator = node
                .children_with_tokens()
                .filter_map(|e| e.into_token())
                .find(|t| !matches!(t.kind(), K::WHITESPACE | K::COMMENT))
                .map(|t| t.kind());
            let text = node.text().to_string();
            match operator {
                Some(
                    K::EQ
                    | K::NEQ
                    | K::L_ANGLE
                    | K::R_ANGLE
                    | K::LTEQ
                    | K::GTEQ
                    | K::IS_KW
                    | K::AND_KW
                    | K::OR_KW
                    | K::LIKE_KW
                    | K::ILIKE_KW
                    | K::IN_KW,
                ) => Expr::Typed(SqlType::parse("bool")),
                _ if text.contains("||") => Expr::Typed(SqlType::parse("text")),
                _ => Expr::Unknown,
            }
        }
        K::PREFIX_EXPR if node.children_with_tokens().any(|e| e.kind() == K::NOT_KW) => {
            Expr::Typed(SqlType::parse("bool"))
        }
        K::CALL_EXPR => {
            let function = node
                .children()
                .find(|c| matches!(c.kind(), K::NAME_REF | K::FIELD_EXPR))
                .map(|n| ident(n.text().to_string().rsplit('.').next().unwrap_or_default()))
                .unwrap_or_default();
            let first = node
                .children()
                .find(|c| c.kind() == K::ARG_LIST)
                .and_then(|list| list.children().find(|c| c.kind() == K::ARG))
                .and_then(|arg| arg.children().next())
                .map(|n| expr(&n));
            if let Some((_, ty)) = FUNCTION_TYPES.iter().find(|(f, _)| *f == function) {
                Expr::Typed(SqlType::parse(ty))
            } else if SAME_AS_ARGUMENT.contains(&function.as_str()) {
                first.map_or(Expr::Unknown, |e| Expr::Like(Box::new(e)))
            } else if function == "array_agg" {
                first.map_or(Expr::Unknown, |e| Expr::ArrayOf(Box::new(e)))
            } else {
                Expr::Unknown
            }
        }
        _ => Expr::Unknown,
    }
}

/// The columns the query yields, typed against `schema`: every one nullable, as a table made
/// from a query has no constraints.
pub fn columns(query: &Query, schema: &Schema) -> Vec<Column> {
    let mut typed: Vec<Vec<(Option<String>, SqlType)>> = query
        .branches
        .iter()
        .map(|b| branch_columns(b, schema))
        .collect();
    let Some(first) = typed.first().cloned() else {
        return Vec::new();
    };
    first
        .into_iter()
        .enumerate()
        .map(|(i, (name, ty))| {
            let ty = if ty.is_unknown() {
                typed
                    .iter_mut()
                    .filter_map(|b| b.get(i).map(|(_, t)| t.clone()))
                    .find(|t| !t.is_unknown())
                    .unwrap_or(ty)
            } else {
                ty
            };
            Column {
                name: name.unwrap_or_else(|| "?column?".to_owned()),
                sql_type: ty,
                nullable: true,
                default: None,
            }
        })
        .collect()
}

fn branch_columns(branch: &Branch, schema: &Schema) -> Vec<(Option<String>, SqlType)> {
    let sources: Vec<(Option<String>, Vec<Column>)> = branch
        .from
        .iter()
        .map(|item| match &item.source {
            FromSource::Relation(name) => (
                Some(
                    item.alias
                        .clone()
                        .unwrap_or_else(|| name.rsplit('.').next().unwrap_or(name).to_owned()),
                ),
                schema
                    .tables
                    .get(name)
                    .map(|t| t.columns.clone())
                    .unwrap_or_default(),
            ),
            FromSource::Query(inner) => (item.alias.clone(), columns(inner, schema)),
        })
        .collect();
    let mut out = Vec::new();
    for target in &branch.targets {
        if let Expr::Star { qualifier } = &target.expr {
            for (alias, columns) in &sources {
                if qualifier.is_none() || qualifier == alias {
                    out.extend(
                        columns
                            .iter()
                            .map(|c| (Some(c.name.clone()), c.sql_type.clone())),
                    );
                }
            }
            continue;
        }
        out.push((target.name.clone(), type_of(&target.expr, &sources)));
    }
    out
}

fn type_of(expr: &Expr, sources: &[(Option<String>, Vec<Column>)]) -> SqlType {
    match expr {
        Expr::Column { qualifier, name } => sources
            .iter()
            .filter(|(alias, _)| qualifier.is_none() || qualifier == alias)
            .find_map(|(_, columns)| columns.iter().find(|c| &c.name == name))
            .map_or_else(SqlType::unknown, |c| c.sql_type.clone()),
        Expr::Typed(ty) => ty.clone(),
        Expr::Like(inner) => type_of(inner, sources),
        Expr::ArrayOf(inner) => {
            let mut ty = type_of(inner, sources);
            if !ty.is_unknown() {
                ty.array = true;
            }
            ty
        }
        Expr::Star { .. } | Expr::Unknown => SqlType::unknown(),
    }
}

#[cfg(test)]
mod tests {
    use crate::sql::parse::{StatementKind, parse};
    use crate::sql::replay;
    use crate::sql::schema::Schema;

    fn replayed(sql: &str) -> Schema {
        let mut schema = Schema::default();
        for statement in parse(sql).statements {
            replay::apply(&mut schema, &statement.kind);
        }
        schema
    }

    fn shown(schema: &Schema, table: &str) -> Vec<String> {
        schema.tables[table]
            .columns
            .iter()
            .map(|c| format!("{} {}", c.name, c.sql_type))
            .collect()
    }

    #[test]
    fn a_table_made_from_a_union_takes_names_from_the_first_branch_and_types_from_the_first_that_tells()
     {
        let schema = replayed(
            "CREATE TABLE likes (person_id int NOT NULL, post_id bigint, score smallint, published timestamptz);
             CREATE TABLE saves (person_id int NOT NULL, post_id bigint, published timestamptz);
             CREATE TABLE actions AS
             SELECT max(liked) AS liked, max(saved) AS saved, person_id, post_id, max(score) = 1 AS up, count(*)
             FROM (SELECT person_id, post_id, score, published AS liked, NULL::timestamptz AS saved FROM likes
                   UNION ALL
                   SELECT person_id, post_id, NULL::int2, NULL, published FROM saves) AS both_kinds
             GROUP BY person_id, post_id;",
        );
        assert_eq!(
            shown(&schema, "actions"),
            [
                "liked timestamptz",
                "saved timestamptz",
                "person_id int4",
                "post_id int8",
                "up bool",
                "count int8"
            ]
        );
        assert!(schema.tables["actions"].columns.iter().all(|c| c.nullable));
    }

    #[test]
    fn select_into_and_a_star_copy_the_columns() {
        let schema = replayed(
            "CREATE TABLE t (a int NOT NULL, b text);
             SELECT * INTO t_copy FROM t;
             SELECT t.a, lower(b) AS low, 'x' AS tag, something_unknown(b) AS odd INTO t2 FROM t;",
        );
        assert_eq!(shown(&schema, "t_copy"), ["a int4", "b text"]);
        let t2 = &schema.tables["t2"];
        assert_eq!(
            shown(&schema, "t2")[..3],
            ["a int4", "low text", "tag text"]
        );
        assert!(t2.column("odd").unwrap().sql_type.is_unknown());
    }

    #[test]
    fn the_statement_kind_names_the_relation_and_its_query() {
        let parsed =
            parse("CREATE MATERIALIZED VIEW stats.recent AS SELECT a FROM t WITH NO DATA;");
        let StatementKind::CreateRelation { name, .. } = &parsed.statements[0].kind else {
            panic!("not a relation: {:?}", parsed.statements[0].kind);
        };
        assert_eq!(name, "stats.recent");
    }
}
