//! The base tree, read straight from git: the workspace's files at a revision, written to a
//! temporary directory — no checkout, nothing in the work tree or the index touched.

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Why the base could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BaseError {
    /// Not in a git repository, or git is not installed: the base checks are skipped.
    #[error("{0}")]
    Unavailable(String),
    /// A revision was asked for and git cannot give it: an input error.
    #[error("{0}")]
    Invalid(String),
}

fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
    }
}

/// The default base: where the current branch left the main branch.
/// Two git commands: which main branches exist, then one merge-base (each git process costs
/// milliseconds, a good part of checking a repository).
pub fn default_base(root: &Path) -> Result<String, BaseError> {
    const MAINS: [&str; 4] = [
        "refs/heads/main",
        "refs/remotes/origin/main",
        "refs/heads/master",
        "refs/remotes/origin/master",
    ];
    let mut args = vec!["for-each-ref", "--format=%(refname)"];
    args.extend(MAINS);
    let refs = git(root, &args).map_err(|_| {
        BaseError::Unavailable(format!("{} is not in a git repository", root.display()))
    })?;
    let existing: Vec<&str> = refs.lines().collect();
    let main = MAINS.iter().find(|m| existing.contains(m)).ok_or_else(|| {
        BaseError::Unavailable(
            "no main branch (main, origin/main, master) to take the merge-base with".into(),
        )
    })?;
    git(root, &["merge-base", "HEAD", main])
        .map_err(|e| BaseError::Unavailable(format!("no merge-base of HEAD and {main}: {e}")))
}

/// A file of a revision: its path relative to the workspace root, and its bytes.
pub type Blob = (String, Vec<u8>);

/// The files under `paths` (relative to the workspace `root`, files or folders) as they are at
/// `rev`, read into memory in one `git cat-file --batch`. Only what the checks read is taken:
/// a repository's whole tree can be thousands of files, and writing each one out costs more
/// than checking it.
pub fn blobs(root: &Path, rev: &str, paths: &[PathBuf]) -> Result<Vec<Blob>, BaseError> {
    let mut out = Vec::new();
    each_blob(root, rev, paths, |blob| out.push(blob))?;
    Ok(out)
}

/// [`blobs`], each handed to `visit` as it is read: a caller that keeps only some holds only
/// those.
pub fn each_blob(
    root: &Path,
    rev: &str,
    paths: &[PathBuf],
    mut visit: impl FnMut(Blob),
) -> Result<(), BaseError> {
    // One git command for both; only when it fails, another says which of the two failed.
    let answer = git(
        root,
        &["rev-parse", "--show-toplevel", &format!("{rev}^{{commit}}")],
    );
    let Some((toplevel, commit)) = answer
        .as_deref()
        .ok()
        .and_then(|a| a.split_once('\n'))
        .map(|(t, c)| (t.trim().to_owned(), c.trim().to_owned()))
    else {
        return Err(match git(root, &["rev-parse", "--show-toplevel"]) {
            Err(_) => {
                BaseError::Unavailable(format!("{} is not in a git repository", root.display()))
            }
            Ok(_) => BaseError::Invalid(format!("--base {rev}: git knows no such revision")),
        });
    };
    let root = root
        .canonicalize()
        .map_err(|e| BaseError::Invalid(format!("{}: {e}", root.display())))?;
    let prefix = root
        .strip_prefix(&toplevel)
        .unwrap_or(Path::new(""))
        .to_string_lossy()
        .replace('\\', "/");
    let mut args: Vec<String> = ["ls-tree", "-r", "--full-tree", &commit, "--"]
        .map(str::to_owned)
        .to_vec();
    for path in paths {
        let path = path.to_string_lossy().replace('\\', "/");
        let path = path.trim_start_matches("./").trim_end_matches('/');
        args.push(match (prefix.is_empty(), path.is_empty()) {
            (true, true) => ".".to_owned(),
            (true, false) => path.to_owned(),
            (false, true) => prefix.clone(),
            (false, false) => format!("{prefix}/{path}"),
        });
    }
    if paths.is_empty() {
        return Ok(());
    }
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let listing = git(Path::new(&toplevel), &arg_refs)
        .map_err(|e| BaseError::Invalid(format!("--base {rev}: {e}")))?;
    let mut files = Vec::new();
    for line in listing.lines() {
        // `<mode> blob <id>\t<path>`
        let Some((meta, path)) = line.split_once('\t') else {
            continue;
        };
        let mut parts = meta.split_whitespace();
        let (_, kind, id) = (parts.next(), parts.next(), parts.next());
        if kind == Some("blob")
            && let Some(id) = id
        {
            let relative = path
                .strip_prefix(&prefix)
                .unwrap_or(path)
                .trim_start_matches('/');
            files.push((id.to_owned(), relative.to_owned()));
        }
    }
    // The ids go in through a file: no writer thread (each thread costs an allocator arena),
    // and no pipe that could fill both ways.
    let mut ids = tempfile::tempfile()
        .map_err(|e| BaseError::Unavailable(format!("a temporary file: {e}")))?;
    for (id, _) in &files {
        writeln!(ids, "{id}")
            .map_err(|e| BaseError::Unavailable(format!("a temporary file: {e}")))?;
    }
    ids.seek(SeekFrom::Start(0))
        .map_err(|e| BaseError::Unavailable(format!("a temporary file: {e}")))?;
    let mut child = Command::new("git")
        .arg("-C")
        .arg(&toplevel)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::from(ids))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| BaseError::Unavailable(format!("cannot run git: {e}")))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| BaseError::Unavailable("git cat-file has no stdout".into()))?;
    let mut reader = BufReader::new(stdout);
    let read_error =
        |e: std::io::Error| BaseError::Invalid(format!("--base {rev}: reading from git: {e}"));
    for (_, path) in files {
        let mut header = String::new();
        reader.read_line(&mut header).map_err(read_error)?;
        let size: usize = header
            .split_whitespace()
            .nth(2)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| {
                BaseError::Invalid(format!("--base {rev}: git cat-file answered {header:?}"))
            })?;
        let mut content = vec![0; size + 1];
        reader.read_exact(&mut content).map_err(read_error)?;
        content.truncate(size);
        visit((path, content));
    }
    let _ = child.wait();
    Ok(())
}

/// Writes files of a revision under `into`, the workspace's directory for them.
pub fn write_blobs<'b>(
    into: &Path,
    blobs: impl IntoIterator<Item = &'b Blob>,
) -> Result<(), BaseError> {
    std::fs::create_dir_all(into)
        .map_err(|e| BaseError::Invalid(format!("{}: {e}", into.display())))?;
    for (path, content) in blobs {
        let target = into.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| BaseError::Invalid(format!("{}: {e}", parent.display())))?;
        }
        std::fs::write(&target, content)
            .map_err(|e| BaseError::Invalid(format!("{}: {e}", target.display())))?;
    }
    Ok(())
}
