//! `plumb new ...`: migrations written in the form the rules ask for, which `plumb check`
//! passes as written, with the `schema.rs` and registry lines that go with them.

mod api;
mod registry;
mod schema_rs;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use plumb_check::{Migration, Schema, Settings, Severity};

pub use registry::Registration;

/// What to write.
#[derive(Debug, clap::Subcommand)]
pub enum New {
    /// The expand step of a new column: a migration that adds it nullable (or with a constant
    /// default), `lock_timeout` set unless `plumb migrate` applies it, its `down.sql`; the
    /// column's line in `schema.rs`, as print-schema writes it; and its entry in the column
    /// registry of `plumb.toml`. Exit 0 written, 2 bad input (nothing written).
    Column {
        /// `table.column`.
        target: String,
        /// Its SQL type: `text`, `varchar(100)`, `bigint`, `timestamptz`, ...
        #[arg(value_name = "TYPE")]
        sql_type: String,
        /// A constant default (`0`, `'none'`, `now()`); a volatile one would rewrite the table.
        #[arg(long, value_name = "SQL")]
        default: Option<String>,
        /// NOT NULL from the start: only with --default, which fills existing rows.
        #[arg(long, requires = "default")]
        not_null: bool,
        /// Registered as exposed, as this field of the API (`Type.field`): the field must
        /// exist in the API schemas.
        #[arg(long, value_name = "TYPE.FIELD", group = "registration")]
        expose: Option<String>,
        /// Registered as internal: never in the API.
        #[arg(long, group = "registration")]
        internal: bool,
        /// Registered as sensitive: never in any response.
        #[arg(long, group = "registration")]
        sensitive: bool,
        /// The workspace (default: the current directory).
        #[arg(long, default_value = ".")]
        path: PathBuf,
    },
    /// A migration that builds an index without blocking writes: `CREATE INDEX CONCURRENTLY`
    /// alone in its file, `run_in_transaction = false` in its metadata.toml, and the
    /// `down.sql` that drops it the same way. Exit 0 written, 2 bad input.
    Index {
        /// `table.column`, or `table.column,column` for an index on several columns (in
        /// index order).
        target: String,
        /// A unique index.
        #[arg(long)]
        unique: bool,
        /// The index's name (default: `<table>_<columns>_idx`, or `_key` when unique).
        #[arg(long)]
        name: Option<String>,
        /// The workspace (default: the current directory).
        #[arg(long, default_value = ".")]
        path: PathBuf,
    },
    /// The three post-deploy migrations that make a filled column NOT NULL without a scan
    /// under ACCESS EXCLUSIVE: a `CHECK (column IS NOT NULL) NOT VALID`; its `VALIDATE`, in a
    /// migration of its own; then `SET NOT NULL` (which the validated check lets skip its
    /// scan) and the drop of the check, as two statements. Each with its `down.sql`;
    /// `lock_timeout` set in each file unless `plumb migrate` applies them; the column made
    /// NOT NULL in `schema.rs`. Exit 0 written, 2 bad input (nothing written).
    NotNull {
        /// `table.column`.
        target: String,
        /// The workspace (default: the current directory).
        #[arg(long, default_value = ".")]
        path: PathBuf,
    },
}

pub fn run(new: New) -> ExitCode {
    let outcome = match new {
        New::Column {
            target,
            sql_type,
            default,
            not_null,
            expose,
            internal,
            sensitive,
            path,
        } => {
            let registration = match (expose, internal, sensitive) {
                (Some(field), ..) => Some(Registration::Exposed(field)),
                (None, true, _) => Some(Registration::Internal),
                (None, false, true) => Some(Registration::Sensitive),
                (None, false, false) => None,
            };
            let column = NewColumn {
                sql_type: &sql_type,
                default: default.as_deref(),
                not_null,
                registration,
            };
            load(&path).and_then(|settings| add_column(&settings, &target, &column))
        }
        New::Index {
            target,
            unique,
            name,
            path,
        } => load(&path).and_then(|settings| index(&settings, &target, unique, name.as_deref())),
        New::NotNull { target, path } => {
            load(&path).and_then(|settings| not_null(&settings, &target))
        }
    }
    .and_then(Plan::write);
    match outcome {
        Ok(written) => {
            for (path, note) in written {
                match note {
                    Some(note) => println!("wrote {} ({note})", path.display()),
                    None => println!("wrote {}", path.display()),
                }
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}

fn load(root: &Path) -> Result<Settings, String> {
    Settings::load(root).map_err(|e| e.to_string())
}

/// What a scaffold writes: migration folders with their files, and other files' new texts.
/// Made whole and checked before anything is written, so that bad input writes nothing.
#[derive(Debug, Default)]
pub struct Plan {
    migrations: Vec<(PathBuf, Vec<(&'static str, String)>)>,
    files: Vec<(PathBuf, String, &'static str)>,
}

impl Plan {
    fn migration(&mut self, folder: PathBuf, files: &[(&'static str, &str)]) {
        let files = files.iter().map(|(n, t)| (*n, (*t).to_owned())).collect();
        self.migrations.push((folder, files));
    }

    /// The new migration folders, in the order they run.
    pub fn folders(&self) -> Vec<&Path> {
        self.migrations.iter().map(|(f, _)| f.as_path()).collect()
    }

    /// The workspace's migrations and the plan's, in the order diesel applies them.
    fn with_workspace_migrations(&self, settings: &Settings) -> Result<Vec<Migration>, String> {
        let existing =
            plumb_check::read_migrations(&settings.migrations_dir).map_err(|e| e.to_string())?;
        let texts = self.migrations.iter().flat_map(|(folder, files)| {
            let name = folder_name(folder);
            files.iter().map(move |(file, text)| {
                (format!("{name}/{file}"), Arc::<str>::from(text.as_str()))
            })
        });
        let new = plumb_check::migrations::migrations_from_files(&settings.migrations_dir, texts)
            .map_err(|e| e.to_string())?;
        let mut all: Vec<Migration> = existing.into_iter().chain(new).collect();
        all.sort_by(|a, b| a.version.cmp(&b.version).then_with(|| a.name.cmp(&b.name)));
        Ok(all)
    }

    /// Refuses the plan when `plumb check` would report an error in its migrations, read among
    /// the workspace's own: a scaffold writes only what passes.
    fn verify(&self, settings: &Settings) -> Result<(), String> {
        let all = self.with_workspace_migrations(settings)?;
        let report = plumb_check::check_migrations(&all, settings);
        let problems: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .filter(|f| {
                self.folders().iter().any(|folder| {
                    f.span
                        .file
                        .iter()
                        .any(|c| c.to_string_lossy() == folder_name(folder))
                })
            })
            .map(|f| {
                format!(
                    "  {}:{}: {} {}: {}",
                    f.span.file.display(),
                    f.span.line,
                    f.code,
                    f.name,
                    f.message
                )
            })
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "`plumb check` would refuse what this would write, so nothing was written:\n{}",
                problems.join("\n")
            ))
        }
    }

    /// Writes every file; gives each path written, with a note for files changed in place.
    pub fn write(self) -> Result<Vec<(PathBuf, Option<&'static str>)>, String> {
        let mut written = Vec::new();
        for (folder, files) in self.migrations {
            std::fs::create_dir_all(&folder)
                .map_err(|e| format!("creating {}: {e}", folder.display()))?;
            for (file, text) in files {
                let path = folder.join(file);
                std::fs::write(&path, text)
                    .map_err(|e| format!("writing {}: {e}", path.display()))?;
            }
            written.push((folder, None));
        }
        for (path, text, note) in self.files {
            std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
            written.push((path, Some(note)));
        }
        Ok(written)
    }
}

fn folder_name(folder: &Path) -> String {
    folder
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `table.column` with plain names.
pub fn column_target(target: &str) -> Result<(&str, &str), String> {
    target
        .split_once('.')
        .filter(|(t, c)| is_plain_name(t) && is_plain_name(c))
        .ok_or_else(|| {
            format!(
                "{target:?} is not `table.column` with plain SQL names (lower-case letters, digits and _)"
            )
        })
}

/// How a schema has a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnState {
    NoTable,
    NoColumn,
    Nullable,
    NotNull,
}

fn column_state(schema: &Schema, table: &str, column: &str) -> ColumnState {
    match schema.tables.get(&schema.resolve(table)) {
        None => ColumnState::NoTable,
        Some(found) => match found.column(column) {
            None => ColumnState::NoColumn,
            Some(c) if c.nullable => ColumnState::Nullable,
            Some(_) => ColumnState::NotNull,
        },
    }
}

/// The schema the workspace's migrations build.
fn head_schema(settings: &Settings) -> Result<Schema, String> {
    let migrations =
        plumb_check::read_migrations(&settings.migrations_dir).map_err(|e| e.to_string())?;
    Ok(plumb_check::sql::replay_onto(
        Schema::default(),
        &migrations,
    ))
}

/// How the workspace's migrations leave `table.column`.
pub fn column_in_migrations(
    settings: &Settings,
    table: &str,
    column: &str,
) -> Result<ColumnState, String> {
    Ok(column_state(&head_schema(settings)?, table, column))
}

/// The lock_timeout line of a file diesel applies; nothing when `plumb migrate` applies the
/// migrations and sets it on its session.
fn timeout_line(settings: &Settings) -> String {
    if settings.lock.applied_by.is_plumb() {
        String::new()
    } else {
        format!("SET lock_timeout = '{}ms';\n", settings.lock.timeout_ms)
    }
}

/// A new column's type, default and registry entry.
#[derive(Debug)]
pub struct NewColumn<'a> {
    pub sql_type: &'a str,
    pub default: Option<&'a str>,
    pub not_null: bool,
    pub registration: Option<Registration>,
}

/// The expand step of a new column: its migration, its `schema.rs` line, its registry entry.
pub fn add_column(settings: &Settings, target: &str, new: &NewColumn<'_>) -> Result<Plan, String> {
    let (table, column) = column_target(target)?;
    for (what, text) in [("the type", Some(new.sql_type)), ("--default", new.default)] {
        if let Some(text) = text
            && (text.trim().is_empty()
                || text.contains(';')
                || text.contains("--")
                || text.contains("/*"))
        {
            return Err(format!(
                "{what} {text:?} is not one SQL expression (no `;` or comment)"
            ));
        }
    }
    // The schema the migrations build, replayed once: what the column must not be yet, and
    // what the new migration may change.
    let before = head_schema(settings)?;
    match column_state(&before, table, column) {
        ColumnState::NoTable => {
            return Err(format!(
                "no table {table} in the schema the migrations build"
            ));
        }
        ColumnState::Nullable | ColumnState::NotNull => {
            return Err(format!(
                "{table}.{column} already exists in the schema the migrations build"
            ));
        }
        ColumnState::NoColumn => {}
    }
    let registration = match (&new.registration, registry::present(&settings.root)?) {
        (_, false) => {
            if new.registration.is_some() {
                eprintln!(
                    "note: plumb.toml has no [columns] registry (family C is off): the column's registration is not recorded"
                );
            }
            None
        }
        (Some(registration), true) => {
            if let Registration::Exposed(field) = registration {
                api::check_field_exists(settings, field)?;
            }
            Some(registration.clone())
        }
        (None, true) => {
            return Err(format!(
                "plumb.toml has a column registry: say whether {table}.{column} reaches the API with --expose Type.field, --internal or --sensitive"
            ));
        }
    };
    let timeout = timeout_line(settings);
    let default = new
        .default
        .map_or(String::new(), |d| format!(" DEFAULT {d}"));
    let not_null = if new.not_null { " NOT NULL" } else { "" };
    let add = format!(
        "ALTER TABLE {table} ADD COLUMN {column} {}{default}{not_null};\n",
        new.sql_type.trim()
    );
    let why = if new.not_null {
        "NOT NULL with a constant default: existing rows read the default from the catalog, and the\n\
         -- release that is live, which omits the column, inserts the default."
    } else {
        "nullable, so the release that is live, which omits the column, keeps inserting."
    };
    let up = format!(
        "-- Expand: {}.{} added {why}\n{timeout}{add}",
        table, column
    );
    let down = format!("{timeout}ALTER TABLE {table} DROP COLUMN {column};\n");
    let [folder] = folders(settings, &[format!("add_{table}_{column}")])?;
    let mut plan = Plan::default();
    plan.migration(folder, &[("up.sql", &up), ("down.sql", &down)]);
    plan.verify(settings)?;

    // The schema before and after: the migration must add this one column and change nothing
    // else (a type or a default can hold a comma and a second clause), and the column's type
    // as the replay reads it is what print-schema names.
    let after = plumb_check::sql::replay_onto(
        Schema::default(),
        &plan.with_workspace_migrations(settings)?,
    );
    let key = after.resolve(table);
    let mut expected = before.clone();
    let added = after
        .tables
        .get(&key)
        .and_then(|t| t.column(column))
        .ok_or_else(|| format!("the migration written for {table}.{column} does not add it"))?;
    if let Some(t) = expected.table_mut(&key) {
        t.columns.push(added.clone());
    }
    if expected != after {
        return Err(format!(
            "`{}` would change more than the column {table}.{column}: give one type (and one default expression)",
            add.trim_end()
        ));
    }
    if !plumb_check::rules::s::is_builtin_type(&added.sql_type) {
        return Err(format!(
            "{} is a type of the database's own (an enum, a domain): print-schema declares it in schema.rs's sql_types module, which this scaffold does not write; add the column with a migration and `diesel print-schema`",
            new.sql_type.trim()
        ));
    }
    let (diesel_type, max_length) = plumb_check::rules::s::diesel_type(added);
    if let Some(edit) = schema_rs::add_column(settings, table, column, &diesel_type, max_length)? {
        plan.files.push((
            edit.path,
            edit.text,
            "the column added, as print-schema writes it",
        ));
    }
    if let Some(registration) = registration
        && let Some((path, text)) =
            registry::add_entry(&settings.root, table, column, &registration)?
    {
        plan.files.push((path, text, "its registry entry"));
    }
    Ok(plan)
}

fn index(
    settings: &Settings,
    target: &str,
    unique: bool,
    name: Option<&str>,
) -> Result<Plan, String> {
    let (table, columns) = target.split_once('.').ok_or_else(|| {
        format!("{target:?} is not `table.column` (or `table.column,column` for several)")
    })?;
    let columns: Vec<&str> = columns.split(',').map(str::trim).collect();
    for part in std::iter::once(table).chain(columns.iter().copied()) {
        if !is_plain_name(part) {
            return Err(format!(
                "{part:?} in {target:?} is not a plain SQL name (lower-case letters, digits and _, not first a digit)"
            ));
        }
    }
    let suffix = if unique { "key" } else { "idx" };
    let default_name = format!("{table}_{}_{suffix}", columns.join("_"));
    let name = name.unwrap_or(&default_name);
    if !is_plain_name(name) {
        return Err(format!("--name {name:?} is not a plain SQL name"));
    }
    let unique = if unique { "UNIQUE " } else { "" };
    let schema = head_schema(settings)?;
    if schema
        .tables
        .get(&schema.resolve(table))
        .is_some_and(|t| t.partitioned)
    {
        return partitioned_index(settings, &schema, table, &columns, unique, name);
    }
    let [folder] = folders(settings, &[format!("index_{table}_{}", columns.join("_"))])?;
    let up = format!(
        "-- Built CONCURRENTLY, so writes go on; alone in its file, outside a transaction\n\
         -- (metadata.toml). Should it stop half-way, it leaves an INVALID index that\n\
         -- `plumb migrate` drops and builds again.\n\
         CREATE {unique}INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} ({});\n",
        columns.join(", ")
    );
    let down = format!("DROP INDEX CONCURRENTLY IF EXISTS {name};\n");
    let mut plan = Plan::default();
    plan.migration(
        folder,
        &[
            ("up.sql", &up),
            ("down.sql", &down),
            ("metadata.toml", "run_in_transaction = false\n"),
        ],
    );
    plan.verify(settings)?;
    Ok(plan)
}

/// An index on a partitioned table, which PostgreSQL will not build CONCURRENTLY: on the
/// table alone (`ON ONLY`, a catalog change), then CONCURRENTLY on each partition in a
/// migration of its own, then each partition's index attached, which makes it valid.
fn partitioned_index(
    settings: &Settings,
    schema: &Schema,
    table: &str,
    columns: &[&str],
    unique: &str,
    name: &str,
) -> Result<Plan, String> {
    let partitions = schema.partitions_of(&schema.resolve(table));
    if let Some(odd) = partitions.iter().find(|p| !is_plain_name(p)) {
        return Err(format!(
            "partition {odd:?} of {table} is not a plain SQL name (another schema, or quoted): write its index migrations by hand"
        ));
    }
    let columns_sql = columns.join(", ");
    let on_partition = |partition: &str| format!("{partition}_{}", columns.join("_"));
    let timeout = timeout_line(settings);
    let mut names = vec![format!("index_{table}_{}", columns.join("_"))];
    names.extend(
        partitions
            .iter()
            .map(|p| format!("index_{}", on_partition(p))),
    );
    if !partitions.is_empty() {
        names.push(format!("attach_{name}"));
    }
    let folders = folders_for(settings, &names)?;
    let mut folders = folders.into_iter();
    let mut plan = Plan::default();
    let first = folders.next().ok_or("no migration folder named")?;
    let parent_index =
        format!("CREATE {unique}INDEX IF NOT EXISTS {name} ON ONLY {table} ({columns_sql});\n");
    plan.migration(
        first,
        &[
            (
                "up.sql",
                &format!(
                    "-- {table} is partitioned: PostgreSQL builds no index CONCURRENTLY on it. Step 1:\n\
                     -- the index on {table} alone, a catalog change; invalid until each partition's\n\
                     -- index is attached.\n{timeout}{parent_index}"
                ),
            ),
            ("down.sql", &format!("{timeout}DROP INDEX IF EXISTS {name};\n")),
        ],
    );
    let mut partition_indexes = Vec::new();
    for partition in &partitions {
        let index = format!(
            "{}_{}",
            on_partition(partition),
            if unique.is_empty() { "idx" } else { "key" }
        );
        let build =
            format!("CREATE {unique}INDEX IF NOT EXISTS {index} ON {partition} ({columns_sql});\n");
        let up = format!(
            "-- {table}'s partition {partition}: built CONCURRENTLY, so writes go on; alone in its\n\
             -- file, outside a transaction (metadata.toml).\n\
             CREATE {unique}INDEX CONCURRENTLY IF NOT EXISTS {index} ON {partition} ({columns_sql});\n"
        );
        let folder = folders.next().ok_or("no migration folder named")?;
        plan.migration(
            folder,
            &[
                ("up.sql", &up),
                (
                    "down.sql",
                    &format!("DROP INDEX CONCURRENTLY IF EXISTS {index};\n"),
                ),
                ("metadata.toml", "run_in_transaction = false\n"),
            ],
        );
        partition_indexes.push((index, build));
    }
    if let Some(folder) = folders.next() {
        let attach: String = partition_indexes
            .iter()
            .map(|(index, _)| format!("ALTER INDEX {name} ATTACH PARTITION {index};\n"))
            .collect();
        // An attached index cannot be detached: the way back drops the index and makes the
        // unattached ones again, plainly (SHARE on each partition while it builds): a revert
        // is for a release that never shipped, or an emergency.
        let rebuild: String = partition_indexes
            .iter()
            .map(|(_, build)| build.clone())
            .collect();
        plan.migration(
            folder,
            &[
                (
                    "up.sql",
                    &format!(
                        "-- Each partition's index attached: with the last one, {name} is valid. A partition\n\
                         -- made later (by hand, by pg_partman) needs its own index attached too.\n{timeout}{attach}"
                    ),
                ),
                (
                    "down.sql",
                    &format!("{timeout}DROP INDEX IF EXISTS {name};\n{parent_index}{rebuild}"),
                ),
            ],
        );
    }
    plan.verify(settings)?;
    Ok(plan)
}

/// The names (after the version) of the three NOT NULL migrations of `table.column`.
pub fn not_null_steps(table: &str, column: &str) -> [String; 3] {
    [
        format!("check_{table}_{column}_not_null"),
        format!("validate_{table}_{column}_not_null"),
        format!("set_{table}_{column}_not_null"),
    ]
}

/// The three NOT NULL migrations of a nullable column of the migrations' schema, post-deploy
/// (once only code that writes the column serves), and the column made NOT NULL in
/// `schema.rs`.
pub fn not_null(settings: &Settings, target: &str) -> Result<Plan, String> {
    let (table, column) = column_target(target)?;
    match column_in_migrations(settings, table, column)? {
        ColumnState::NoTable => {
            return Err(format!(
                "no table {table} in the schema the migrations build"
            ));
        }
        ColumnState::NoColumn => {
            return Err(format!(
                "no column {table}.{column} in the schema the migrations build"
            ));
        }
        ColumnState::NotNull => {
            return Err(format!(
                "{table}.{column} is already NOT NULL in the schema the migrations build"
            ));
        }
        ColumnState::Nullable => {}
    }
    let timeout = timeout_line(settings);
    let check = format!("{table}_{column}_not_null");
    let add = format!(
        "ALTER TABLE {table}\n    ADD CONSTRAINT {check} CHECK ({column} IS NOT NULL) NOT VALID;\n"
    );
    let drop = format!("ALTER TABLE {table} DROP CONSTRAINT {check};\n");
    let post = plumb_check::POST_DEPLOY_MARK;
    let steps = not_null_steps(table, column);
    let [first, second, third] = folders(settings, &steps)?;
    let first_up = format!(
        "{post}\n-- NOT NULL, step 1 of 3, once every row has a value (the backfill is done) and only\n\
         -- code that writes the column serves: NOT VALID checks new writes only, so this is a\n\
         -- catalog change.\n{timeout}{add}"
    );
    let second_up = format!(
        "{post}\n-- NOT NULL, step 2 of 3: VALIDATE scans under SHARE UPDATE EXCLUSIVE, so reads and\n\
         -- writes go on; in a migration of its own, apart from the NOT VALID.\n\
         {timeout}ALTER TABLE {table} VALIDATE CONSTRAINT {check};\n"
    );
    let second_down = format!(
        "-- A validated check cannot be marked NOT VALID again: made again, unvalidated.\n\
         {timeout}{drop}{add}"
    );
    let third_up = format!(
        "{post}\n-- NOT NULL, step 3 of 3: the validated check proves there is no NULL, so SET NOT NULL\n\
         -- skips its scan (PostgreSQL 12+). The check is dropped in a statement of its own:\n\
         -- dropped in the same ALTER, it would go first and bring the scan back.\n\
         {timeout}ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL;\n{drop}"
    );
    let third_down = format!(
        "{timeout}ALTER TABLE {table}\n    ADD CONSTRAINT {check} CHECK ({column} IS NOT NULL);\n\
         ALTER TABLE {table} ALTER COLUMN {column} DROP NOT NULL;\n"
    );
    let mut plan = Plan::default();
    plan.migration(
        first,
        &[
            ("up.sql", &first_up),
            ("down.sql", &format!("{timeout}{drop}")),
        ],
    );
    plan.migration(
        second,
        &[("up.sql", &second_up), ("down.sql", &second_down)],
    );
    plan.migration(third, &[("up.sql", &third_up), ("down.sql", &third_down)]);
    plan.verify(settings)?;
    if let Some(edit) = schema_rs::set_not_null(settings, table, column)? {
        plan.files.push((
            edit.path,
            edit.text,
            "the column made NOT NULL, as print-schema will write it",
        ));
    }
    Ok(plan)
}

/// [`folders_for`], as many as given.
fn folders<const N: usize>(
    settings: &Settings,
    names: &[String; N],
) -> Result<[PathBuf; N], String> {
    folders_for(settings, names)?
        .try_into()
        .map_err(|_| "the migration folders could not be named".to_owned())
}

/// New migration folders named `<time>_<name>`, in the order given, each time a second later
/// than the one before and used by no migration yet: diesel's version is the time, and two
/// migrations of one version cannot both be applied.
fn folders_for(settings: &Settings, names: &[String]) -> Result<Vec<PathBuf>, String> {
    let taken: std::collections::BTreeSet<String> = std::fs::read_dir(&settings.migrations_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_str()?.to_owned();
            Some(name.split('_').next()?.to_owned())
        })
        .collect();
    // Now, or a second after the latest migration when one is dated later (a clock behind, a
    // migration dated ahead): diesel applies by version, and the new ones must come last.
    let latest = taken
        .iter()
        .filter_map(|v| {
            let digits: String = v.chars().filter(char::is_ascii_digit).take(14).collect();
            chrono::NaiveDateTime::parse_from_str(&digits, "%Y%m%d%H%M%S").ok()
        })
        .max()
        .map(|t| t.and_utc() + chrono::Duration::seconds(1));
    let mut at = chrono::Utc::now().max(latest.unwrap_or_default());
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let version = loop {
            let version = at.format("%Y-%m-%d-%H%M%S-0000").to_string();
            at += chrono::Duration::seconds(1);
            if !taken.contains(&version) {
                break version;
            }
        };
        out.push(settings.migrations_dir.join(format!("{version}_{name}")));
    }
    Ok(out)
}

/// A name that needs no quoting, in SQL or as a Rust identifier in `schema.rs`, and that
/// PostgreSQL keeps whole (63 bytes): what a scaffold writes is what a person would.
fn is_plain_name(name: &str) -> bool {
    name.len() <= 63
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !RUST_KEYWORDS.contains(&name)
}

/// Names print-schema would have to rename (`#[sql_name = "type"] type_`).
const RUST_KEYWORDS: &[&str] = &[
    "as", "async", "await", "box", "break", "const", "continue", "crate", "do", "dyn", "else",
    "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop",
    "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return", "self",
    "static", "struct", "super", "trait", "true", "try", "type", "typeof", "unsafe", "unsized",
    "use", "virtual", "where", "while", "yield",
];
