//! What the checker reads of a workspace, one reader per input: the settings, `schema.rs`, the
//! model structs, the API schemas, the column registry, and the base tree from git.

pub mod api;
pub mod git;
pub mod models;
pub mod registry;
pub mod schema_rs;
pub mod settings;
pub mod snapshot;

use std::path::{Path, PathBuf};

/// `path` as findings show it: relative to the workspace root.
pub(crate) fn relative(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}
