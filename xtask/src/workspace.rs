//! Where a workspace keeps what the checks read.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

pub fn this_workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

#[derive(Debug, Default, Deserialize)]
struct DieselToml {
    migrations_directory: Option<MigrationsDirectory>,
}

#[derive(Debug, Deserialize)]
struct MigrationsDirectory {
    dir: PathBuf,
}

/// The migrations directory as diesel finds it: `diesel.toml`'s `[migrations_directory] dir`,
/// else `migrations/`.
pub fn migrations_dir(root: &Path) -> anyhow::Result<PathBuf> {
    let config = root.join("diesel.toml");
    let settings = match std::fs::read_to_string(&config) {
        Ok(text) => toml::from_str::<DieselToml>(&text)
            .with_context(|| format!("{} is not valid", config.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => DieselToml::default(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", config.display())),
    };
    let dir = settings
        .migrations_directory
        .map(|m| m.dir)
        .unwrap_or_else(|| "migrations".into());
    Ok(root.join(dir))
}
