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
}

pub fn run(new: New) -> ExitCode {
    let outcome = match new {
        New::Index {
            target,
            unique,
            name,
            path,
        } => index(&path, &target, unique, name.as_deref()),
    };
    match outcome {
        Ok(folder) => {
            println!("wrote {}", folder.display());
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
    let stamp = chrono::Utc::now().format("%Y-%m-%d-%H%M%S-0000");
    let folder = settings
        .migrations_dir
        .join(format!("{stamp}_index_{table}_{}", columns.join("_")));
    if folder.exists() {
        return Err(format!("{} exists already", folder.display()));
    }
    let unique = if unique { "UNIQUE " } else { "" };
    let up = format!(
        "-- Built CONCURRENTLY, so writes go on; alone in its file, outside a transaction\n\
         -- (metadata.toml). Should it stop half-way, it leaves an INVALID index that\n\
         -- `plumb migrate` drops and builds again.\n\
         CREATE {unique}INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} ({});\n",
        columns.join(", ")
    );
    let down = format!("DROP INDEX CONCURRENTLY IF EXISTS {name};\n");
    std::fs::create_dir_all(&folder).map_err(|e| format!("creating {}: {e}", folder.display()))?;
    for (file, text) in [
        ("up.sql", up.as_str()),
        ("down.sql", down.as_str()),
        ("metadata.toml", "run_in_transaction = false\n"),
    ] {
        let path = folder.join(file);
        std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    Ok(folder)
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
