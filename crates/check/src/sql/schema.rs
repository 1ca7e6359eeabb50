//! The schema the migrations build, as far as safety rules need it.

use std::sync::Arc;

/// A column type, normalised: `character varying(20)` and `varchar(20)` are the same
/// `SqlType { name: "varchar", modifiers: [20] }`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SqlType {
    pub name: String,
    pub modifiers: Vec<i64>,
    pub array: bool,
}

impl SqlType {
    /// A type the replay cannot tell (a query column computed by a function it does not know):
    /// no rule judges it.
    pub fn unknown() -> SqlType {
        SqlType {
            name: String::new(),
            modifiers: Vec::new(),
            array: false,
        }
    }

    pub fn is_unknown(&self) -> bool {
        self.name.is_empty()
    }

    /// Parses a type as written in SQL (`varchar(20)`, `timestamp with time zone`, `int[]`).
    pub fn parse(text: &str) -> SqlType {
        let lower = text.to_lowercase();
        let collapsed = lower.split_whitespace().collect::<Vec<_>>().join(" ");
        let array = collapsed.ends_with("[]") || collapsed.ends_with(" array");
        let base = collapsed
            .trim_end_matches("[]")
            .trim_end_matches(" array")
            .trim();
        let (head, modifiers) = match base.split_once('(') {
            Some((head, rest)) => {
                let inner = rest.split(')').next().unwrap_or_default();
                let modifiers = inner
                    .split(',')
                    .filter_map(|m| m.trim().parse::<i64>().ok())
                    .collect();
                let tail = rest
                    .split_once(')')
                    .map(|(_, t)| t.trim())
                    .unwrap_or_default();
                (
                    format!("{} {tail}", head.trim()).trim().to_owned(),
                    modifiers,
                )
            }
            None => (base.to_owned(), Vec::new()),
        };
        let name = canonical_name(
            head.rsplit('.')
                .next()
                .unwrap_or_default()
                .trim_matches('"'),
        );
        // `char` alone is char(1), as PostgreSQL stores it.
        let modifiers = if name == "bpchar" && modifiers.is_empty() {
            vec![1]
        } else {
            modifiers
        };
        SqlType {
            name: name.to_owned(),
            modifiers,
            array,
        }
    }

    /// Whether `ALTER COLUMN ... TYPE new` skips the table rewrite (and, for these, any scan):
    /// PostgreSQL's binary-coercible changes that keep every existing value valid.
    pub fn changes_without_rewrite(&self, new: &SqlType) -> bool {
        if self.array != new.array {
            return false;
        }
        let widened = |old: &[i64], new: &[i64]| match (old.first(), new.first()) {
            (_, None) => true,
            (Some(o), Some(n)) => n >= o,
            (None, Some(_)) => false,
        };
        match (self.name.as_str(), new.name.as_str()) {
            (a, b) if a == b && self.modifiers == new.modifiers => true,
            ("varchar", "varchar") | ("bit varying", "bit varying") => {
                widened(&self.modifiers, &new.modifiers)
            }
            // bpchar to text strips trailing spaces through a function: a rewrite.
            ("varchar", "text") | ("text", "varchar") if new.modifiers.is_empty() => true,
            ("numeric", "numeric") => match (self.modifiers.as_slice(), new.modifiers.as_slice()) {
                (_, []) => true,
                ([p, s], [p2, s2]) => p2 >= p && s2 == s,
                ([p], [p2]) => p2 >= p,
                ([p], [p2, 0]) => p2 >= p,
                _ => false,
            },
            ("cidr", "inet") => true,
            _ => false,
        }
    }
}

fn canonical_name(name: &str) -> &str {
    match name {
        "character varying" | "varchar" => "varchar",
        "character" | "char" | "bpchar" => "bpchar",
        "int" | "integer" | "int4" | "serial" | "serial4" => "int4",
        "bigint" | "int8" | "bigserial" | "serial8" => "int8",
        "smallint" | "int2" | "smallserial" | "serial2" => "int2",
        "boolean" | "bool" => "bool",
        "double precision" | "float8" | "float" => "float8",
        "real" | "float4" => "float4",
        "decimal" | "numeric" => "numeric",
        "timestamp with time zone" | "timestamptz" => "timestamptz",
        "timestamp" | "timestamp without time zone" => "timestamp",
        "time with time zone" | "timetz" => "timetz",
        "time" | "time without time zone" => "time",
        "varbit" | "bit varying" => "bit varying",
        other => other,
    }
}

/// How a column default is computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefaultKind {
    /// A constant or a stable expression (`now()`): stored once in the catalog (PostgreSQL 11+).
    Constant,
    /// Evaluated per row (`gen_random_uuid()`, a sequence, an identity or generated column):
    /// adding a column with it rewrites the table.
    Volatile { function: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub sql_type: SqlType,
    pub nullable: bool,
    pub default: Option<DefaultKind>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstraintKind {
    PrimaryKey,
    Unique,
    Check,
    ForeignKey,
    NotNull,
    Exclude,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    pub name: String,
    pub kind: ConstraintKind,
    pub validated: bool,
    /// For a CHECK of the form `col IS NOT NULL` (or a NOT NULL constraint): that column.
    pub proves_not_null: Option<String>,
    /// For a CHECK of the form `col IN ('a', 'b')`: that column and the values it allows.
    pub allows: Option<(String, Vec<String>)>,
    /// The columns it constrains (for a CHECK, those its expression reads).
    pub columns: Vec<String>,
}

/// What a relation is: diesel's `print-schema` writes tables only; a view's columns are still
/// checked where `schema.rs` declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RelationKind {
    #[default]
    Table,
    View,
    MaterializedView,
}

impl RelationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RelationKind::Table => "table",
            RelationKind::View => "view",
            RelationKind::MaterializedView => "materialized view",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table {
    pub name: String,
    pub kind: RelationKind,
    pub columns: Vec<Column>,
    pub constraints: Vec<Constraint>,
    /// Columns a BEFORE INSERT trigger sets: an insert need not give them.
    pub set_by_trigger: Vec<String>,
    /// `PARTITION BY`: it holds no rows; its partitions do.
    pub partitioned: bool,
    /// The columns it is partitioned by; empty when it is not, or when a key is an expression.
    pub partition_key: Vec<String>,
    /// The partitioned table it is a partition of.
    pub partition_of: Option<String>,
    /// It is its parent's DEFAULT partition: adding a partition scans it.
    pub default_partition: bool,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn column_mut(&mut self, name: &str) -> Option<&mut Column> {
        self.columns.iter_mut().find(|c| c.name == name)
    }

    pub fn constraint(&self, name: &str) -> Option<&Constraint> {
        self.constraints.iter().find(|c| c.name == name)
    }

    /// Whether `schema` has a unique index or constraint of this table on exactly `columns`
    /// (in any order): what `ON CONFLICT (columns)` needs.
    pub fn has_unique_on(&self, schema: &Schema, columns: &[String]) -> bool {
        let wanted: std::collections::BTreeSet<&String> = columns.iter().collect();
        schema.indexes.values().any(|i| {
            i.unique
                && i.table == self.name
                && i.columns
                    .as_ref()
                    .is_some_and(|c| c.iter().collect::<std::collections::BTreeSet<_>>() == wanted)
        })
    }

    /// Why an insert must give `column`, if it must: it has no default and no BEFORE INSERT
    /// trigger sets it, and it is NOT NULL or a CHECK says it IS NOT NULL (a NOT VALID one
    /// too: it holds for new rows all the same).
    pub fn requires(&self, column: &str) -> Option<Required> {
        let c = self.column(column)?;
        if c.default.is_some() || self.set_by_trigger.iter().any(|t| t == column) {
            return None;
        }
        if !c.nullable {
            return Some(Required::NotNull);
        }
        self.constraints
            .iter()
            .find(|k| {
                k.kind == ConstraintKind::Check && k.proves_not_null.as_deref() == Some(column)
            })
            .map(|k| Required::Check(k.name.clone()))
    }
}

/// What makes an insert give a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Required {
    NotNull,
    /// A CHECK of this name that it IS NOT NULL.
    Check(String),
}

impl Required {
    /// How a message says it: "NOT NULL" or "required by CHECK `name`".
    pub fn said(&self) -> String {
        match self {
            Required::NotNull => "NOT NULL".to_owned(),
            Required::Check(name) => format!("required by CHECK `{name}` (IS NOT NULL)"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    pub name: String,
    pub table: String,
    pub unique: bool,
    /// Its plain columns; none for an expression or a partial index, which an `ON CONFLICT`
    /// without a predicate cannot use.
    pub columns: Option<Vec<String>>,
    /// Made `ON ONLY` a partitioned table with partitions: invalid until their indexes are
    /// attached.
    pub awaiting_partitions: bool,
}

/// A map that clones in constant time and shares what a change leaves alone: the replay keeps
/// the schema after every migration, and Lemmy has 342 of them.
pub type Map<K, V> = imbl::OrdMap<K, V>;

/// Tables (and views), indexes and enum types by name: as PostgreSQL folds them, and qualified
/// (`utils.saved_ddl`) when in a schema other than `public`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Schema {
    /// Shared between the schemas after each migration: a clone copies the map, and a table
    /// only when a later statement changes it.
    pub tables: Map<String, Arc<Table>>,
    pub indexes: Map<String, Index>,
    pub enums: Map<String, Vec<String>>,
    /// Trigger functions by name, with the `NEW` columns each assigns.
    pub functions: Map<String, Vec<String>>,
    /// `SET search_path`: where an unqualified name is created and looked up.
    pub search_path: Vec<String>,
}

impl Schema {
    /// The DEFAULT partition of the partitioned table `parent`, by name.
    pub fn default_partition_of(&self, parent: &str) -> Option<&str> {
        self.tables
            .values()
            .find(|t| t.default_partition && t.partition_of.as_deref() == Some(parent))
            .map(|t| t.name.as_str())
    }

    /// The partitions of `table`, by name, in name order.
    pub fn partitions_of(&self, table: &str) -> Vec<String> {
        self.tables
            .iter()
            .filter(|(_, t)| t.partition_of.as_deref() == Some(table))
            .map(|(name, _)| name.clone())
            .collect()
    }

    pub fn table_mut(&mut self, name: &str) -> Option<&mut Table> {
        self.tables.get_mut(name).map(Arc::make_mut)
    }

    /// Drops the indexes of a table (it was dropped).
    pub fn drop_indexes_of(&mut self, table: &str) {
        let gone: Vec<String> = self
            .indexes
            .iter()
            .filter(|(_, i)| i.table == table)
            .map(|(n, _)| n.clone())
            .collect();
        for name in gone {
            self.indexes.remove(&name);
        }
    }

    /// The key a name written in a statement has: a qualified name as written (`public.`
    /// dropped); an unqualified one in the first schema of the search path that has it, else
    /// in the first of the path, where it would be created.
    pub fn resolve(&self, name: &str) -> String {
        if name.contains('.') || self.search_path.is_empty() {
            return name.to_owned();
        }
        let key = |schema: &str| {
            if schema == "public" {
                name.to_owned()
            } else {
                format!("{schema}.{name}")
            }
        };
        self.search_path
            .iter()
            .map(|s| key(s))
            .find(|k| self.tables.contains_key(k))
            .unwrap_or_else(|| key(&self.search_path[0]))
    }
}

impl std::fmt::Display for SqlType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)?;
        if !self.modifiers.is_empty() {
            let list: Vec<String> = self.modifiers.iter().map(ToString::to_string).collect();
            write!(f, "({})", list.join(", "))?;
        }
        if self.array {
            f.write_str("[]")?;
        }
        Ok(())
    }
}

/// One line per table, column, constraint and index, in name order: the form people review in
/// a snapshot when a migration changes the schema.
impl std::fmt::Display for Schema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (name, values) in &self.enums {
            writeln!(f, "enum {name} ({})", values.join(", "))?;
        }
        for (name, table) in &self.tables {
            match table.kind {
                RelationKind::Table => writeln!(f, "table {name}")?,
                other => writeln!(f, "{} {name}", other.as_str())?,
            }
            for column in &table.columns {
                let default = match &column.default {
                    None => String::new(),
                    Some(DefaultKind::Constant) => " DEFAULT (constant)".to_owned(),
                    Some(DefaultKind::Volatile { function }) => {
                        format!(" DEFAULT per row ({function})")
                    }
                };
                let null = if column.nullable { "" } else { " NOT NULL" };
                writeln!(f, "  {} {}{null}{default}", column.name, column.sql_type)?;
            }
            let mut constraints: Vec<&Constraint> = table.constraints.iter().collect();
            constraints.sort_by(|a, b| a.name.cmp(&b.name));
            for c in constraints {
                let valid = if c.validated { "" } else { " NOT VALID" };
                writeln!(
                    f,
                    "  constraint {} {:?} ({}){valid}",
                    c.name,
                    c.kind,
                    c.columns.join(", ")
                )?;
            }
            for index in self.indexes.values().filter(|i| i.table == *name) {
                let unique = if index.unique { "unique " } else { "" };
                writeln!(f, "  {unique}index {}", index.name)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::SqlType;

    #[test]
    fn synonyms_and_modifiers_are_normalised() {
        assert_eq!(
            SqlType::parse("character varying(20)"),
            SqlType::parse("VARCHAR (20)")
        );
        assert_eq!(
            SqlType::parse("timestamp with time zone").name,
            "timestamptz"
        );
        assert_eq!(SqlType::parse("numeric(10, 2)").modifiers, [10, 2]);
        assert!(SqlType::parse("int[]").array);
        assert_eq!(
            SqlType::parse("public.\"money_amount\"").name,
            "money_amount"
        );
    }

    #[test]
    fn binary_coercible_changes_are_known() {
        let t = SqlType::parse;
        assert!(t("varchar(20)").changes_without_rewrite(&t("varchar(40)")));
        assert!(!t("varchar(40)").changes_without_rewrite(&t("varchar(20)")));
        assert!(t("varchar(40)").changes_without_rewrite(&t("text")));
        assert!(t("numeric(10,2)").changes_without_rewrite(&t("numeric(12,2)")));
        assert!(!t("numeric(10,2)").changes_without_rewrite(&t("numeric(12,3)")));
        assert!(!t("int4").changes_without_rewrite(&t("int8")));
        assert!(!t("text").changes_without_rewrite(&t("varchar(10)")));
        assert!(
            !t("char(8)").changes_without_rewrite(&t("text")),
            "bpchar to text goes through a function"
        );
        assert_eq!(t("char"), t("character(1)"));
    }
}
