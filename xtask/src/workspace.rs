//! Which workspace the tasks work on by default.

use std::path::{Path, PathBuf};

pub fn this_workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}
