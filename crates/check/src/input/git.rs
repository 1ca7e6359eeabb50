//! The base tree, read straight from git: the workspace's files at a revision, listed, and
//! read only where the work tree does not hold them unchanged — no checkout, nothing in the
//! work tree or the index touched.

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod files;

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

/// The branches the default base is taken from, in order of preference.
const MAINS: [&str; 4] = [
    "refs/heads/main",
    "refs/remotes/origin/main",
    "refs/heads/master",
    "refs/remotes/origin/master",
];

/// The main branches a repository has, and where HEAD is.
struct Refs {
    /// Each main branch found: its commit and its full name.
    mains: Vec<(String, String)>,
    /// The branch checked out, by full name.
    branch: Option<String>,
    /// The commit HEAD is detached at, when it is.
    detached: Option<String>,
}

/// The default base: where the current branch left the main branch.
/// The refs are read from the repository's files where it keeps them plainly (a `.git`
/// folder, loose and packed refs), else by one git command; a second, the merge-base, runs
/// only when HEAD is not at the main branch itself (each git process costs a millisecond, a
/// good part of checking a repository).
pub fn default_base(root: &Path) -> Result<String, BaseError> {
    let repository = files::repository(root);
    let refs = match repository.as_ref().and_then(files::Repository::refs) {
        Some(refs) => refs,
        None => refs_from_git(root)?,
    };
    let (id, main) = MAINS
        .iter()
        .find_map(|main| refs.mains.iter().find(|(_, name)| name == main))
        .ok_or_else(|| {
            BaseError::Unavailable(
                "no main branch (main, origin/main, master) to take the merge-base with".into(),
            )
        })?;
    if refs.branch.as_deref() == Some(main) || refs.detached.as_deref() == Some(id) {
        return Ok(id.clone());
    }
    // A branch that holds the main branch's tip (a pull request ahead of main, main merged
    // in): that tip is the merge-base.
    if repository.is_some_and(|r| r.head_descends_from(id, 64) == Some(true)) {
        return Ok(id.clone());
    }
    git(root, &["merge-base", "HEAD", main])
        .map_err(|e| BaseError::Unavailable(format!("no merge-base of HEAD and {main}: {e}")))
}

/// The refs, as `git for-each-ref` lists them.
fn refs_from_git(root: &Path) -> Result<Refs, BaseError> {
    // `<id> <*: checked out> <name>`; a broken ref is left out with a warning, not an error.
    let mut args = vec!["for-each-ref", "--format=%(objectname) %(HEAD) %(refname)"];
    args.extend(MAINS);
    let listed = git(root, &args).map_err(|_| {
        BaseError::Unavailable(format!("{} is not in a git repository", root.display()))
    })?;
    let mut refs = Refs {
        mains: Vec::new(),
        branch: None,
        detached: None,
    };
    for line in listed.lines() {
        let Some((id, rest)) = line.split_once(' ') else {
            continue;
        };
        let Some((head, name)) = rest.split_at_checked(1) else {
            continue;
        };
        let name = name.trim_start().to_owned();
        if head == "*" {
            refs.branch = Some(name.clone());
        }
        refs.mains.push((id.to_owned(), name));
    }
    Ok(refs)
}

/// A file of a revision: its path relative to the workspace root, and its bytes.
pub type Blob = (String, Vec<u8>);

/// The files of a revision under some paths, listed but not yet read.
#[derive(Debug)]
pub struct Tree {
    /// The revision, as it was asked for.
    pub rev: String,
    root: PathBuf,
    /// Each file: git's object id and the path relative to the workspace root.
    pub files: Vec<(String, String)>,
}

/// Lists the files under `paths` (relative to the workspace `root`, files or folders) as they
/// are at `rev`: from the index when `rev` is HEAD and the index is HEAD's tree, else one git
/// command, run in the workspace so that paths come relative to it; nothing read yet.
pub fn list(root: &Path, rev: &str, paths: &[PathBuf]) -> Result<Tree, BaseError> {
    let mut tree = Tree {
        rev: rev.to_owned(),
        root: root.to_path_buf(),
        files: Vec::new(),
    };
    let commit = format!("{rev}^{{commit}}");
    let mut args: Vec<&str> = vec!["ls-tree", "-r", "-z", &commit, "--"];
    let pathspecs: Vec<String> = paths
        .iter()
        .map(|path| {
            let path = path.to_string_lossy().replace('\\', "/");
            let path = path.trim_start_matches("./").trim_end_matches('/');
            if path.is_empty() {
                ".".to_owned()
            } else {
                path.to_owned()
            }
        })
        .collect();
    if !paths.is_empty()
        && let Some((head, head_files)) =
            files::repository(root).and_then(|repository| repository.head_listing(root, &pathspecs))
        && head == rev
    {
        tree.files = head_files;
        return Ok(tree);
    }
    args.extend(pathspecs.iter().map(String::as_str));
    if paths.is_empty() {
        args.push(".");
    }
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(&args)
        .output()
        .map_err(|e| BaseError::Unavailable(format!("cannot run git: {e}")))?;
    if !output.status.success() {
        // Only when it fails, another command says whether this is a repository at all.
        return Err(match git(root, &["rev-parse", "--git-dir"]) {
            Err(_) => {
                BaseError::Unavailable(format!("{} is not in a git repository", root.display()))
            }
            Ok(_) => BaseError::Invalid(format!("--base {rev}: git knows no such revision")),
        });
    }
    if paths.is_empty() {
        return Ok(tree);
    }
    // `<mode> blob <id>\t<path>\0`: NUL-terminated, so a path is never quoted or escaped.
    for entry in output.stdout.split(|&b| b == 0) {
        let Some(tab) = entry.iter().position(|&b| b == b'\t') else {
            continue;
        };
        let meta = String::from_utf8_lossy(&entry[..tab]);
        let path = String::from_utf8_lossy(&entry[tab + 1..]);
        let mut parts = meta.split_whitespace();
        let (_, kind, id) = (parts.next(), parts.next(), parts.next());
        if kind == Some("blob")
            && let Some(id) = id
        {
            tree.files.push((id.to_owned(), path.into_owned()));
        }
    }
    Ok(tree)
}

/// Whether `bytes` are the content of git's object `id`: its hash, computed here, so that a
/// file the work tree holds unchanged need not be read from git. Compared as bytes: this runs
/// once per file of the base, hundreds of times on a repository with a long history.
pub fn holds(id: &str, bytes: &[u8]) -> bool {
    fn same<D: sha1::Digest>(id: &[u8], header: &[u8], bytes: &[u8]) -> bool {
        let mut hasher = D::new();
        hasher.update(header);
        hasher.update(bytes);
        hasher.finalize().as_slice() == id
    }
    let mut raw = [0u8; 32];
    let Some(raw) = raw.get_mut(..id.len() / 2) else {
        return false;
    };
    if hex::decode_to_slice(id, raw).is_err() {
        return false;
    }
    let header = format!("blob {}\0", bytes.len());
    match raw.len() {
        20 => same::<sha1::Sha1>(raw, header.as_bytes(), bytes),
        32 => same::<sha2::Sha256>(raw, header.as_bytes(), bytes),
        _ => false,
    }
}

/// The contents of `files` (entries of `tree`), in their order, in one `git cat-file --batch`.
pub fn read(tree: &Tree, files: &[&(String, String)]) -> Result<Vec<Vec<u8>>, BaseError> {
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let rev = &tree.rev;
    // The ids go in through a file: no writer thread (each thread costs an allocator arena),
    // and no pipe that could fill both ways.
    let mut ids = tempfile::tempfile()
        .map_err(|e| BaseError::Unavailable(format!("a temporary file: {e}")))?;
    for (id, _) in files {
        writeln!(ids, "{id}")
            .map_err(|e| BaseError::Unavailable(format!("a temporary file: {e}")))?;
    }
    ids.seek(SeekFrom::Start(0))
        .map_err(|e| BaseError::Unavailable(format!("a temporary file: {e}")))?;
    let mut child = Command::new("git")
        .arg("-C")
        .arg(&tree.root)
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
    let mut out = Vec::with_capacity(files.len());
    for _ in files {
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
        out.push(content);
    }
    let _ = child.wait();
    Ok(out)
}

/// Every file under `paths` as it is at `rev`, read into memory.
pub fn blobs(root: &Path, rev: &str, paths: &[PathBuf]) -> Result<Vec<Blob>, BaseError> {
    let tree = list(root, rev, paths)?;
    let all: Vec<&(String, String)> = tree.files.iter().collect();
    let contents = read(&tree, &all)?;
    Ok(tree
        .files
        .iter()
        .map(|(_, path)| path.clone())
        .zip(contents)
        .collect())
}

/// Writes files of a revision under `into`, the workspace's directory for them.
pub fn write_blobs<'b>(
    into: &Path,
    blobs: impl IntoIterator<Item = &'b Blob>,
) -> Result<(), BaseError> {
    std::fs::create_dir_all(into)
        .map_err(|e| BaseError::Invalid(format!("{}: {e}", into.display())))?;
    for (path, content) in blobs {
        // A tree is anyone's to craft: a path that is absolute or climbs out with `..` is
        // refused, never written beside the directory.
        let inside = Path::new(path)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !inside {
            return Err(BaseError::Invalid(format!(
                "the base holds a path outside its tree: {path:?}"
            )));
        }
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_file_is_known_unchanged_exactly_when_git_would_give_it_the_same_id() {
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in [
            ("empty", &b""[..]),
            ("sql", b"ALTER TABLE a ADD COLUMN b text;\n"),
            ("crlf", b"SELECT 1;\r\n"),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            let output = Command::new("git")
                .arg("hash-object")
                .arg(&path)
                .output()
                .unwrap();
            let id = String::from_utf8(output.stdout).unwrap();
            assert!(holds(id.trim(), bytes), "{name}");
            assert!(!holds(id.trim(), b"something else"), "{name}");
        }
        assert!(!holds("not an id", b""));
    }

    #[test]
    fn a_path_that_leaves_the_directory_is_refused_and_nothing_is_written_beside_it() {
        let outer = tempfile::tempdir().unwrap();
        let into = outer.path().join("base");
        for path in ["../pwned.txt", "a/../../pwned.txt", "/tmp/pwned.txt"] {
            let blobs = [(path.to_owned(), b"x".to_vec())];
            let error = write_blobs(&into, &blobs).unwrap_err().to_string();
            assert!(error.contains("outside"), "{path}: {error}");
        }
        assert!(!outer.path().join("pwned.txt").exists());
        write_blobs(&into, &[("a/b.sql".to_owned(), b"x".to_vec())]).unwrap();
        assert!(into.join("a/b.sql").is_file());
    }
}
