//! `cargo xtask schemas [--check]`: `schemas/` is exactly what the contract crate generates
//! (the comparison is `plumb check-contract`'s schemas stage).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;
use plumb::schemas::{Drift, compare};

/// What the contract crate generates, by path under `schemas/`.
pub fn wanted() -> anyhow::Result<BTreeMap<String, String>> {
    let files = plumb_contract::generated_files().context("generating the API schemas")?;
    Ok(files.into_iter().map(|f| (f.path, f.contents)).collect())
}

pub fn schemas_dir(root: &Path) -> PathBuf {
    root.join("schemas")
}

pub fn check(root: &Path) -> anyhow::Result<Drift> {
    compare(&schemas_dir(root), &wanted()?)
}

/// Writes what changed and removes what is no longer generated; returns what it did.
pub fn write(root: &Path) -> anyhow::Result<Drift> {
    let dir = schemas_dir(root);
    let drift = check(root)?;
    let wanted = wanted()?;
    for path in drift.stale.iter().chain(&drift.missing) {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        fs::write(&target, &wanted[path])
            .with_context(|| format!("cannot write {}", target.display()))?;
    }
    for path in &drift.extra {
        let target = dir.join(path);
        fs::remove_file(&target).with_context(|| format!("cannot remove {}", target.display()))?;
        // A version folder left empty goes too.
        if let Some(parent) = target.parent().filter(|p| *p != dir) {
            let _ = fs::remove_dir(parent);
        }
    }
    Ok(drift)
}
