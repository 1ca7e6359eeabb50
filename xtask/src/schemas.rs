//! `cargo xtask schemas [--check]`: `schemas/` is exactly what the contract crate generates.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// How `schemas/` differs from what the code generates.
#[derive(Debug, Default)]
pub struct Drift {
    pub stale: Vec<String>,
    pub missing: Vec<String>,
    pub extra: Vec<String>,
    pub up_to_date: usize,
}

impl Drift {
    pub fn is_clean(&self) -> bool {
        self.stale.is_empty() && self.missing.is_empty() && self.extra.is_empty()
    }

    pub fn out_of_date(&self) -> usize {
        self.stale.len() + self.missing.len() + self.extra.len()
    }

    /// One line per file, then the command that fixes them all.
    pub fn report(&self) -> String {
        let mut lines = Vec::new();
        lines.extend(
            self.stale
                .iter()
                .map(|f| format!("schemas/{f} is stale: it differs from what the code generates")),
        );
        lines.extend(
            self.missing
                .iter()
                .map(|f| format!("schemas/{f} is missing")),
        );
        lines.extend(
            self.extra
                .iter()
                .map(|f| format!("schemas/{f} is no longer generated")),
        );
        lines
            .push("run `cargo xtask schemas` to update them, then `cargo insta review`".to_owned());
        lines.join("\n")
    }
}

fn wanted() -> anyhow::Result<BTreeMap<String, String>> {
    let files = plumb_contract::generated_files().context("generating the API schemas")?;
    Ok(files.into_iter().map(|f| (f.path, f.contents)).collect())
}

/// The `.json` files under `dir`, as paths relative to it with `/` separators.
fn existing(dir: &Path) -> anyhow::Result<Vec<String>> {
    fn walk(base: &Path, dir: &Path, found: &mut Vec<String>) -> anyhow::Result<()> {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
        };
        for entry in entries {
            let path = entry
                .with_context(|| format!("cannot read {}", dir.display()))?
                .path();
            if path.is_dir() {
                walk(base, &path, found)?;
            } else if path.extension().is_some_and(|e| e == "json") {
                let relative = path.strip_prefix(base).unwrap_or(&path);
                found.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
        Ok(())
    }
    let mut found = Vec::new();
    walk(dir, dir, &mut found)?;
    found.sort();
    Ok(found)
}

pub fn schemas_dir(root: &Path) -> PathBuf {
    root.join("schemas")
}

pub fn check(root: &Path) -> anyhow::Result<Drift> {
    let dir = schemas_dir(root);
    let wanted = wanted()?;
    let mut drift = Drift::default();
    for (path, contents) in &wanted {
        match fs::read_to_string(dir.join(path)) {
            Ok(current) if &current == contents => drift.up_to_date += 1,
            Ok(_) => drift.stale.push(path.clone()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => drift.missing.push(path.clone()),
            Err(e) => return Err(e).with_context(|| format!("cannot read schemas/{path}")),
        }
    }
    drift.extra = existing(&dir)?
        .into_iter()
        .filter(|path| !wanted.contains_key(path))
        .collect();
    Ok(drift)
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
