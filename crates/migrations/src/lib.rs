//! A diesel migrations directory read the way diesel reads it: folders in diesel's order, their
//! scripts, whether each runs in a transaction, and whether it is marked post-deploy.
//!
//! The one reader of migration folders: the checker, the live stage, the runner and the test
//! databases all take their migrations from here, so none of them needs the others.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

/// A migrations directory that could not be read: the place and the reason.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {reason}", path.display())]
    Invalid { path: PathBuf, reason: String },
    /// Invalid at a known place: 1-based line and column.
    #[error("{}: line {line}, column {column}: {reason}", path.display())]
    At {
        path: PathBuf,
        line: usize,
        column: usize,
        reason: String,
    },
}

impl ReadError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        ReadError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The mark that makes a migration post-deploy: a comment line in `up.sql` before its first
/// statement. diesel runs the file unchanged; plumb's runner selects it after the rollout.
pub const POST_DEPLOY_MARK: &str = "-- plumb: post-deploy";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// The folder's name, e.g. `2026-02-02-100000-0000_add_accounts_display_name`.
    pub name: String,
    /// The part before the first `_`, without dashes: what diesel orders and records.
    pub version: String,
    pub dir: PathBuf,
    /// Shared: a revision that holds the same file holds the same text.
    pub up: Arc<str>,
    pub down: Option<Arc<str>>,
    pub run_in_transaction: bool,
    pub post_deploy: bool,
}

impl Migration {
    pub fn up_path(&self) -> PathBuf {
        self.dir.join("up.sql")
    }

    pub fn down_path(&self) -> PathBuf {
        self.dir.join("down.sql")
    }
}

/// diesel's `metadata.toml`: a key diesel does not know (`run_in_transactoin`) is an error,
/// with the key it expected, rather than silently the default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Metadata {
    run_in_transaction: Option<bool>,
}

/// Reads every migration of `dir`, in the order diesel applies them; a symbolic link must stay
/// inside `dir`.
pub fn read_migrations(dir: &Path) -> Result<Vec<Migration>, ReadError> {
    read_migrations_within(dir, dir)
}

/// [`read_migrations`], where a symbolic link may point anywhere inside `within` (the
/// workspace). The files are read on every core: a repository with years of history has
/// thousands, and each costs a few system calls.
pub fn read_migrations_within(dir: &Path, within: &Path) -> Result<Vec<Migration>, ReadError> {
    use rayon::prelude::*;
    let entries = fs::read_dir(dir).map_err(|e| ReadError::io(dir, e))?;
    let mut folders = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| ReadError::io(dir, e))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        // The entry's own type where the file system gives it; a symbolic link is followed.
        let is_dir = match entry.file_type() {
            Ok(kind) if !kind.is_symlink() => kind.is_dir(),
            _ => path.is_dir(),
        };
        if name.starts_with('.') || !is_dir {
            continue;
        }
        if entry.file_type().is_ok_and(|kind| kind.is_symlink()) {
            let target = fs::canonicalize(&path).map_err(|e| ReadError::io(&path, e))?;
            let inside = fs::canonicalize(within).map_err(|e| ReadError::io(within, e))?;
            if !target.starts_with(&inside) {
                return Err(ReadError::Invalid {
                    path,
                    reason: format!(
                        "a symbolic link to a folder outside {}: not read",
                        inside.display()
                    ),
                });
            }
        }
        folders.push((path, name));
    }
    let read: Vec<Result<Migration, ReadError>> = folders
        .into_par_iter()
        .map(|(path, name)| read_one(&path, name, within))
        .collect();
    let mut migrations = read.into_iter().collect::<Result<Vec<_>, _>>()?;
    migrations.sort_by(|a, b| a.version.cmp(&b.version).then_with(|| a.name.cmp(&b.name)));
    Ok(migrations)
}

/// A file of a workspace, read only when it is what it claims to be: a regular file, and, when
/// it is a symbolic link, one to a file inside `within`. A pull request can commit
/// `up.sql -> /proc/self/environ`, or a FIFO that blocks a reader forever; neither is read.
/// `Ok(None)` when there is no such file.
pub fn read_file_within(path: &Path, within: &Path) -> Result<Option<String>, ReadError> {
    match read_bytes_within(path, within)? {
        Some(bytes) => utf8_text(path, bytes).map(Some),
        None => Ok(None),
    }
}

/// [`read_file_within`], as bytes. One `open` that follows no final symbolic link and does not
/// wait on a FIFO, then the handle's own type: a repository's history is thousands of files,
/// and each system call saved is saved thousands of times.
pub fn read_bytes_within(path: &Path, within: &Path) -> Result<Option<Vec<u8>>, ReadError> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let refused = |reason: &str| ReadError::Invalid {
        path: path.to_path_buf(),
        reason: reason.to_owned(),
    };
    let not_a_file = || refused("not a regular file (a folder, a FIFO or a device): not read");
    let opened = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path);
    let mut file = match opened {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        // The last part of the path is a symbolic link.
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return read_link_within(path, within),
        // A socket.
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => return Err(not_a_file()),
        Err(e) => return Err(ReadError::io(path, e)),
    };
    let meta = file.metadata().map_err(|e| ReadError::io(path, e))?;
    if !meta.is_file() {
        return Err(not_a_file());
    }
    // The size is known: one read asks for a byte more than it, and a regular file that gives
    // back exactly its size has ended there (a second read only to be told so is saved, once
    // per file). Less than its size (an interrupted read): read on; more: it grew, read it all.
    let size = usize::try_from(meta.len()).unwrap_or(0);
    let mut bytes = vec![0; size + 1];
    let mut filled = 0;
    loop {
        match file.read(&mut bytes[filled..]) {
            Ok(0) => break,
            Ok(n) => {
                filled += n;
                if filled == size || filled == bytes.len() {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ReadError::io(path, e)),
        }
    }
    bytes.truncate(filled);
    if filled > size {
        // Written to since its size was read.
        Read::by_ref(&mut file)
            .take(u64::MAX)
            .read_to_end(&mut bytes)
            .map_err(|e| ReadError::io(path, e))?;
    }
    Ok(Some(bytes))
}

/// A symbolic link is read only when it leads to a file inside `within`.
fn read_link_within(path: &Path, within: &Path) -> Result<Option<Vec<u8>>, ReadError> {
    let refused = |reason: &str| ReadError::Invalid {
        path: path.to_path_buf(),
        reason: reason.to_owned(),
    };
    let target = fs::canonicalize(path).map_err(|e| ReadError::io(path, e))?;
    let within = fs::canonicalize(within).map_err(|e| ReadError::io(within, e))?;
    if !target.starts_with(&within) {
        return Err(refused(&format!(
            "a symbolic link to a file outside {}: not read",
            within.display()
        )));
    }
    if !fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return Err(refused(
            "a symbolic link to something other than a file: not read",
        ));
    }
    fs::read(path).map(Some).map_err(|e| ReadError::io(path, e))
}

/// The text of a file read as bytes; when it is not UTF-8, an error that says where: the byte
/// offset, its line and column, and the byte, so that the one bad character can be found.
pub fn utf8_text(path: &Path, bytes: Vec<u8>) -> Result<String, ReadError> {
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let at = e.utf8_error().valid_up_to();
        let before = &bytes[..at];
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        let line_start = before.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
        ReadError::At {
            path: path.to_path_buf(),
            line,
            column,
            reason: format!(
                "byte {at} (0x{:02x}) is not UTF-8 (diesel, PostgreSQL and rustc read the file as UTF-8): save it as UTF-8",
                bytes[at]
            ),
        }
    })
}

fn read_one(dir: &Path, name: String, within: &Path) -> Result<Migration, ReadError> {
    let read = |file: &str| read_file_within(&dir.join(file), within);
    build(
        dir,
        name,
        read("up.sql")?.map(Into::into),
        read("down.sql")?.map(Into::into),
        read("metadata.toml")?.map(Into::into),
    )
}

/// The migrations of `dir` from files already read (a revision's, from git): each path is
/// relative to `dir`, `<folder>/up.sql` and the like; other files are ignored. A text may be
/// shared with another revision's migration.
pub fn migrations_from_files(
    dir: &Path,
    files: impl IntoIterator<Item = (String, Arc<str>)>,
) -> Result<Vec<Migration>, ReadError> {
    type Files = (Option<Arc<str>>, Option<Arc<str>>, Option<Arc<str>>);
    let mut folders: std::collections::BTreeMap<String, Files> = Default::default();
    for (path, text) in files {
        let Some((folder, file)) = path.split_once('/') else {
            continue;
        };
        if folder.starts_with('.') {
            continue;
        }
        let entry = folders.entry(folder.to_owned()).or_default();
        match file {
            "up.sql" => entry.0 = Some(text),
            "down.sql" => entry.1 = Some(text),
            "metadata.toml" => entry.2 = Some(text),
            _ => {}
        }
    }
    let mut migrations = folders
        .into_iter()
        .map(|(name, (up, down, metadata))| build(&dir.join(&name), name, up, down, metadata))
        .collect::<Result<Vec<_>, _>>()?;
    migrations.sort_by(|a, b| a.version.cmp(&b.version).then_with(|| a.name.cmp(&b.name)));
    Ok(migrations)
}

fn build(
    dir: &Path,
    name: String,
    up: Option<Arc<str>>,
    down: Option<Arc<str>>,
    metadata: Option<Arc<str>>,
) -> Result<Migration, ReadError> {
    let Some(up) = up else {
        return Err(ReadError::Invalid {
            path: dir.to_path_buf(),
            reason: "a migration folder with no up.sql".into(),
        });
    };
    let metadata = match metadata {
        Some(text) => toml::from_str::<Metadata>(&text).map_err(|e| ReadError::Invalid {
            path: dir.join("metadata.toml"),
            reason: e.to_string().trim().to_owned(),
        })?,
        None => Metadata::default(),
    };
    let version = name.split('_').next().unwrap_or_default().replace('-', "");
    let post_deploy = leading_comments(&up).any(|line| line == POST_DEPLOY_MARK);
    Ok(Migration {
        version,
        dir: dir.to_path_buf(),
        post_deploy,
        run_in_transaction: metadata.run_in_transaction.unwrap_or(true),
        up,
        down,
        name,
    })
}

/// The comment lines before the first statement.
fn leading_comments(sql: &str) -> impl Iterator<Item = &str> {
    sql.lines()
        .map(str::trim)
        .take_while(|line| line.is_empty() || line.starts_with("--"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_is_not_utf8_is_refused_saying_where() {
        let error = utf8_text(
            Path::new("up.sql"),
            b"SELECT 1;\n-- caf\xe9 \xc3\xa9\n".to_vec(),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            error,
            "up.sql: line 2, column 7: byte 16 (0xe9) is not UTF-8 (diesel, PostgreSQL and rustc read the file as UTF-8): save it as UTF-8"
        );
        let error = utf8_text(
            Path::new("up.sql"),
            "é\u{0}".bytes().chain([0xff]).collect(),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("line 1, column 3: byte 3 (0xff)"), "{error}");
        assert_eq!(utf8_text(Path::new("a"), b"ok".to_vec()).unwrap(), "ok");
    }

    #[test]
    fn a_file_is_read_whole_whatever_size_it_says_it_has() {
        let dir = std::env::temp_dir().join(format!("plumb-read-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        for text in [
            "",
            "x",
            "SELECT 1;\n",
            &"ALTER TABLE t ADD c int;\n".repeat(5000),
        ] {
            let path = dir.join("up.sql");
            fs::write(&path, text).unwrap();
            let read = read_bytes_within(&path, &dir).unwrap().unwrap();
            assert_eq!(read, text.as_bytes(), "{} bytes", text.len());
        }
        assert_eq!(
            read_bytes_within(&dir.join("none.sql"), &dir).unwrap(),
            None
        );
        fs::remove_dir_all(&dir).unwrap();
        // A file whose size says 0 but that holds text (the kernel's files do): read to its end.
        let status = Path::new("/proc/self/status");
        if status.exists() {
            let read = read_bytes_within(status, Path::new("/proc"))
                .unwrap()
                .unwrap();
            assert!(String::from_utf8_lossy(&read).contains("\nPid:"));
        }
    }
}
