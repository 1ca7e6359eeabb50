//! The two releases, each a separately built binary of the service.
//!
//! Release N is this workspace. Release N+1 is a copy of it taken one column further, as a
//! team would write it: `plumb new column accounts.nickname text --internal` (the expand
//! migration, the `schema.rs` line, the registry entry), `plumb new not-null accounts.nickname`
//! (the three post-deploy NOT NULL migrations), and the code's change, `release-n1.patch`:
//! the nickname read and written behind its gate, `display_name`'s gate gone now that every
//! release writes it, and API version 3, which exposes the nickname. The copy's binary is named `plumb-server-next`, so that building it in
//! this workspace's target directory (which shares every compiled dependency) never replaces
//! release N's.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Error, Result};

/// The column release N+1 adds.
pub const TABLE: &str = "accounts";
pub const COLUMN: &str = "nickname";

/// The model change of release N+1, applied to the copy after the scaffolds.
const PATCH: &str = include_str!("../release-n1.patch");

#[derive(Debug, Clone)]
pub struct Releases {
    /// Release N's binary.
    pub n: PathBuf,
    /// Release N+1's binary.
    pub n1: PathBuf,
    /// Release N+1's workspace: its migrations are the ones the walk applies.
    pub n1_workspace: PathBuf,
}

/// Builds both releases under `out` (`out/release-n1` is the copy, `out/bin` the binaries).
pub fn build(root: &Path, out: &Path, release: bool) -> Result<Releases> {
    let bin = out.join("bin");
    std::fs::create_dir_all(&bin).map_err(Error::io(format!("creating {}", bin.display())))?;
    let copy = out.join("release-n1");
    if copy.exists() {
        std::fs::remove_dir_all(&copy)
            .map_err(Error::io(format!("removing {}", copy.display())))?;
    }
    copy_tracked_files(root, &copy)?;
    take_the_column_one_release_further(&copy)?;
    let target_dir = target_dir(root)?;

    // N+1 first: its build relinks nothing of N's, and N's is then the last word.
    eprintln!("rehearsal: building release N+1 (in {})", copy.display());
    let built = cargo_build(&copy, &target_dir, "plumb-server-next", release)?;
    let n1 = bin.join("plumb-server-n1");
    copy_file(&built, &n1)?;
    eprintln!("rehearsal: building release N");
    let built = cargo_build(root, &target_dir, "plumb-server", release)?;
    let n = bin.join("plumb-server-n");
    copy_file(&built, &n)?;
    Ok(Releases {
        n,
        n1,
        n1_workspace: copy,
    })
}

fn copy_file(from: &Path, to: &Path) -> Result<()> {
    std::fs::copy(from, to).map(drop).map_err(Error::io(format!(
        "copying {} to {}",
        from.display(),
        to.display()
    )))
}

/// The files git tracks, as they are in the work tree: what a clone of this revision holds,
/// with any change not yet committed.
fn copy_tracked_files(root: &Path, to: &Path) -> Result<()> {
    let listed = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(root)
        .output()
        .map_err(Error::io("running git ls-files"))?;
    if !listed.status.success() {
        return Err(Error::Setup(format!(
            "git ls-files failed in {}: {}",
            root.display(),
            String::from_utf8_lossy(&listed.stderr).trim()
        )));
    }
    for name in listed.stdout.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name = String::from_utf8_lossy(name).into_owned();
        let from = root.join(&name);
        // A file deleted from the work tree but still in the index is not part of it.
        if !from.is_file() {
            continue;
        }
        let target = to.join(&name);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(Error::io(format!("creating {}", parent.display())))?;
        }
        copy_file(&from, &target)?;
    }
    Ok(())
}

/// The scaffolds, the model patch and the binary's new name, in the copy.
fn take_the_column_one_release_further(copy: &Path) -> Result<()> {
    let target = format!("{TABLE}.{COLUMN}");
    let settings = plumb_check::Settings::load(copy).map_err(|e| Error::Setup(e.to_string()))?;
    let column = plumb::scaffold::NewColumn {
        sql_type: "text",
        default: None,
        not_null: false,
        registration: Some(plumb::scaffold::Registration::Internal),
    };
    plumb::scaffold::add_column(&settings, &target, &column)
        .and_then(plumb::scaffold::Plan::write)
        .map_err(|e| Error::Setup(format!("plumb new column {target}: {e}")))?;
    plumb::scaffold::not_null(&settings, &target)
        .and_then(plumb::scaffold::Plan::write)
        .map_err(|e| Error::Setup(format!("plumb new not-null {target}: {e}")))?;

    // The backfill the release defines, run by name.
    let backfills = copy.join("backfills");
    std::fs::create_dir_all(&backfills).map_err(Error::io("creating backfills/"))?;
    std::fs::write(
        backfills.join(format!("{COLUMN}.toml")),
        format!(
            "table = \"{TABLE}\"\ncolumn = \"{COLUMN}\"\nset = \"split_part(email, '@', 1)\"\n"
        ),
    )
    .map_err(Error::io("writing the backfill's definition"))?;

    let patch = copy.join("release-n1.patch");
    std::fs::write(&patch, PATCH).map_err(Error::io("writing release-n1.patch"))?;
    // Outside any repository: inside one (the copy lives under target/), git apply would take
    // the paths as the repository's and skip them.
    let ceiling = copy.parent().unwrap_or(copy);
    let applied = Command::new("git")
        .args(["apply", "--whitespace=nowarn", "release-n1.patch"])
        .env("GIT_CEILING_DIRECTORIES", ceiling)
        .current_dir(copy)
        .output()
        .map_err(Error::io("running git apply"))?;
    let model = std::fs::read_to_string(copy.join("crates/model/src/gate.rs")).unwrap_or_default();
    if !applied.status.success() || !model.contains("crate::account::NICKNAME") {
        return Err(Error::Setup(format!(
            "crates/rehearsal/release-n1.patch no longer applies to this revision's model ({}): write release N+1's model change again, then `git diff > crates/rehearsal/release-n1.patch` in the copy",
            String::from_utf8_lossy(&applied.stderr).trim()
        )));
    }

    let manifest = copy.join("crates/server/Cargo.toml");
    let text =
        std::fs::read_to_string(&manifest).map_err(Error::io("reading the server's Cargo.toml"))?;
    let mut document: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e| Error::Setup(format!("{}: {e}", manifest.display())))?;
    document["package"]["autobins"] = toml_edit::value(false);
    let mut bin = toml_edit::Table::new();
    bin["name"] = toml_edit::value("plumb-server-next");
    bin["path"] = toml_edit::value("src/main.rs");
    let mut bins = toml_edit::ArrayOfTables::new();
    bins.push(bin);
    document["bin"] = toml_edit::Item::ArrayOfTables(bins);
    std::fs::write(&manifest, document.to_string())
        .map_err(Error::io("writing the server's Cargo.toml"))?;
    Ok(())
}

/// This workspace's target directory, as cargo has it.
fn target_dir(root: &Path) -> Result<PathBuf> {
    let output = Command::new(cargo())
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root)
        .output()
        .map_err(Error::io("running cargo metadata"))?;
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| Error::Setup(format!("cargo metadata: {e}")))?;
    metadata["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| Error::Setup("cargo metadata gave no target directory".into()))
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// `cargo build --locked --offline -p plumb-server --bin <bin>` in `workspace`, its output in
/// `target_dir`; gives the binary's path from cargo's own report.
fn cargo_build(workspace: &Path, target_dir: &Path, bin: &str, release: bool) -> Result<PathBuf> {
    let mut command = Command::new(cargo());
    command
        .args([
            "build",
            "--locked",
            "--offline",
            "-p",
            "plumb-server",
            "--bin",
            bin,
        ])
        .args(["--message-format", "json-render-diagnostics"])
        .env("CARGO_TARGET_DIR", target_dir)
        .current_dir(workspace)
        .stderr(std::process::Stdio::inherit());
    if release {
        command.arg("--release");
    }
    let output = command.output().map_err(Error::io("running cargo build"))?;
    if !output.status.success() {
        return Err(Error::Setup(format!(
            "cargo build of {bin} in {} failed",
            workspace.display()
        )));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| Error::Setup(format!("cargo build named no executable for {bin}")))
}
