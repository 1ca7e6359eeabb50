//! `plumb new ...`: migrations written in the form the rules ask for, which `plumb check`
//! passes as written.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What to write.
#[derive(Debug, clap::Subcommand)]
pub enum New {
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
    /// The three migrations that make a filled column NOT NULL without a scan under ACCESS
    /// EXCLUSIVE: a `CHECK (column IS NOT NULL) NOT VALID`; its `VALIDATE`, in a migration of
    /// its own; then `SET NOT NULL` (which the validated check lets skip its scan) and the
    /// drop of the check, as two statements. Each with its `down.sql`; `lock_timeout` set in
    /// each file unless `plumb migrate` applies them. Exit 0 written, 2 bad input.
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
        New::Index {
            target,
            unique,
            name,
            path,
        } => index(&path, &target, unique, name.as_deref()).map(|folder| vec![folder]),
        New::NotNull { target, path } => not_null(&path, &target),
    };
    match outcome {
        Ok(folders) => {
            for folder in folders {
                println!("wrote {}", folder.display());
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}

fn index(root: &Path, target: &str, unique: bool, name: Option<&str>) -> Result<PathBuf, String> {
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
    let settings = plumb_check::Settings::load(root).map_err(|e| e.to_string())?;
    let [folder] = folders(&settings, &[format!("index_{table}_{}", columns.join("_"))])?;
    let unique = if unique { "UNIQUE " } else { "" };
    let up = format!(
        "-- Built CONCURRENTLY, so writes go on; alone in its file, outside a transaction\n\
         -- (metadata.toml). Should it stop half-way, it leaves an INVALID index that\n\
         -- `plumb migrate` drops and builds again.\n\
         CREATE {unique}INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} ({});\n",
        columns.join(", ")
    );
    let down = format!("DROP INDEX CONCURRENTLY IF EXISTS {name};\n");
    write(
        &folder,
        &[
            ("up.sql", &up),
            ("down.sql", &down),
            ("metadata.toml", "run_in_transaction = false\n"),
        ],
    )?;
    Ok(folder)
}

fn not_null(root: &Path, target: &str) -> Result<Vec<PathBuf>, String> {
    let (table, column) = target
        .split_once('.')
        .filter(|(t, c)| is_plain_name(t) && is_plain_name(c))
        .ok_or_else(|| {
            format!(
                "{target:?} is not `table.column` with plain SQL names (lower-case letters, digits and _)"
            )
        })?;
    let settings = plumb_check::Settings::load(root).map_err(|e| e.to_string())?;
    // A file diesel applies sets its own lock_timeout; `plumb migrate` sets it on its session.
    let timeout = if settings.lock.applied_by.is_plumb() {
        String::new()
    } else {
        format!("SET lock_timeout = '{}ms';\n", settings.lock.timeout_ms)
    };
    let check = format!("{table}_{column}_not_null");
    let add = format!(
        "ALTER TABLE {table}\n    ADD CONSTRAINT {check} CHECK ({column} IS NOT NULL) NOT VALID;\n"
    );
    let drop = format!("ALTER TABLE {table} DROP CONSTRAINT {check};\n");
    let steps = [
        format!("check_{table}_{column}_not_null"),
        format!("validate_{table}_{column}_not_null"),
        format!("set_{table}_{column}_not_null"),
    ];
    let [first, second, third] = folders(&settings, &steps)?;
    let first_up = format!(
        "-- NOT NULL, step 1 of 3, once every row has a value (the backfill is done):\n\
         -- NOT VALID checks new writes only, so this is a catalog change.\n{timeout}{add}"
    );
    write(
        &first,
        &[
            ("up.sql", &first_up),
            ("down.sql", &format!("{timeout}{drop}")),
        ],
    )?;
    let second_up = format!(
        "-- NOT NULL, step 2 of 3: VALIDATE scans under SHARE UPDATE EXCLUSIVE, so reads and\n\
         -- writes go on; in a migration of its own, apart from the NOT VALID.\n\
         {timeout}ALTER TABLE {table} VALIDATE CONSTRAINT {check};\n"
    );
    let second_down = format!(
        "-- A validated check cannot be marked NOT VALID again: made again, unvalidated.\n\
         {timeout}{drop}{add}"
    );
    write(
        &second,
        &[("up.sql", &second_up), ("down.sql", &second_down)],
    )?;
    let third_up = format!(
        "-- NOT NULL, step 3 of 3: the validated check proves there is no NULL, so SET NOT NULL\n\
         -- skips its scan (PostgreSQL 12+). The check is dropped in a statement of its own:\n\
         -- dropped in the same ALTER, it would go first and bring the scan back.\n\
         {timeout}ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL;\n{drop}"
    );
    let third_down = format!(
        "{timeout}ALTER TABLE {table}\n    ADD CONSTRAINT {check} CHECK ({column} IS NOT NULL);\n\
         ALTER TABLE {table} ALTER COLUMN {column} DROP NOT NULL;\n"
    );
    write(&third, &[("up.sql", &third_up), ("down.sql", &third_down)])?;
    Ok(vec![first, second, third])
}

/// New migration folders named `<time>_<name>`, in the order given, each time a second later
/// than the one before and used by no migration yet: diesel's version is the time, and two
/// migrations of one version cannot both be applied.
fn folders<const N: usize>(
    settings: &plumb_check::Settings,
    names: &[String; N],
) -> Result<[PathBuf; N], String> {
    let taken: std::collections::BTreeSet<String> = std::fs::read_dir(&settings.migrations_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_str()?.to_owned();
            Some(name.split('_').next()?.to_owned())
        })
        .collect();
    let mut at = chrono::Utc::now();
    let mut out = Vec::with_capacity(N);
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
    out.try_into()
        .map_err(|_| "the migration folders could not be named".to_owned())
}

/// Writes a migration folder's files.
fn write(folder: &Path, files: &[(&str, &str)]) -> Result<(), String> {
    std::fs::create_dir_all(folder).map_err(|e| format!("creating {}: {e}", folder.display()))?;
    for (file, text) in files {
        let path = folder.join(file);
        std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    Ok(())
}

/// A name that needs no quoting: what a scaffold writes is what a person would.
fn is_plain_name(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
