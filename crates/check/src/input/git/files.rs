//! What a plain `.git` folder holds, read without starting git: the refs the default base is
//! taken from, and, when HEAD is the base and the index is HEAD's tree, the base's listing.
//!
//! Each git process costs a millisecond or more of a core, a good part of checking a
//! repository. Every reader here answers `None` wherever it is not certain to give what git
//! would (the environment points git elsewhere, a linked work tree, a reftable, SHA-256
//! objects, a split or sparse index, an object stored as a delta or in another repository),
//! and git is asked instead.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::{MAINS, Refs};

/// A repository whose `.git` is a folder in its work tree's top level.
pub(super) struct Repository {
    git_dir: PathBuf,
    /// The work tree's top level.
    top: PathBuf,
}

/// The repository `root` is in, when git would find the same one and its files are plain.
pub(super) fn repository(root: &Path) -> Option<Repository> {
    const REDIRECTS: [&str; 11] = [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_COMMON_DIR",
        "GIT_CEILING_DIRECTORIES",
        "GIT_DISCOVERY_ACROSS_FILESYSTEM",
        "GIT_NAMESPACE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_CONFIG_PARAMETERS",
        "GIT_CONFIG_COUNT",
    ];
    if REDIRECTS
        .iter()
        .any(|name| std::env::var_os(name).is_some())
    {
        return None;
    }
    let root = std::fs::canonicalize(root).ok()?;
    let top = root
        .ancestors()
        .find(|dir| std::fs::symlink_metadata(dir.join(".git")).is_ok())?;
    let git_dir = top.join(".git");
    if !std::fs::symlink_metadata(&git_dir).ok()?.is_dir() {
        return None;
    }
    // Refs in a reftable, SHA-256 objects, a work tree elsewhere: git reads those.
    let config = std::fs::read_to_string(git_dir.join("config"))
        .ok()?
        .to_ascii_lowercase();
    if ["refstorage", "objectformat", "worktree"]
        .iter()
        .any(|key| config.contains(key))
    {
        return None;
    }
    Some(Repository {
        top: top.to_path_buf(),
        git_dir,
    })
}

/// Whether `id` is a full SHA-1 object id in hex.
fn is_id(id: &str) -> bool {
    id.len() == 40 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Repository {
    /// The main branches and where HEAD is.
    pub(super) fn refs(&self) -> Option<Refs> {
        let (branch, detached) = self.head_file()?;
        let packed = self.packed_refs()?;
        let mut mains = Vec::new();
        for name in MAINS {
            if let Some(id) = self.resolve(name, &packed)? {
                mains.push((id, name.to_owned()));
            }
        }
        Some(Refs {
            mains,
            branch,
            detached,
        })
    }

    fn packed_refs(&self) -> Option<String> {
        match std::fs::read_to_string(self.git_dir.join("packed-refs")) {
            Ok(packed) => Some(packed),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(String::new()),
            Err(_) => None,
        }
    }

    /// The commit a branch names: `Some(None)` when there is no such branch, `None` when it
    /// cannot be told without git (a symbolic ref, a file that holds no id).
    fn resolve(&self, name: &str, packed: &str) -> Option<Option<String>> {
        // A loose ref stands over its packed line.
        let id = match std::fs::read_to_string(self.git_dir.join(name)) {
            Ok(loose) => Some(loose.trim_end().to_owned()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => packed
                .lines()
                .filter(|line| !line.starts_with(['#', '^']))
                .find_map(|line| {
                    let (id, packed_name) = line.split_once(' ')?;
                    (packed_name == name).then(|| id.to_owned())
                }),
            Err(_) => return None,
        };
        match id {
            Some(id) if is_id(&id) => Some(Some(id)),
            Some(_) => None,
            None => Some(None),
        }
    }

    /// What `.git/HEAD` says: the branch checked out, or the commit HEAD is detached at.
    fn head_file(&self) -> Option<(Option<String>, Option<String>)> {
        let head = std::fs::read_to_string(self.git_dir.join("HEAD")).ok()?;
        let head = head.trim_end();
        match head.strip_prefix("ref: ") {
            Some(name) => Some((Some(name.to_owned()), None)),
            None if is_id(head) => Some((None, Some(head.to_owned()))),
            None => None,
        }
    }

    /// The commit HEAD is at.
    fn head(&self) -> Option<String> {
        match self.head_file()? {
            (_, Some(id)) => Some(id),
            (Some(branch), None) => self.resolve(&branch, &self.packed_refs()?)?,
            (None, None) => None,
        }
    }

    /// HEAD's commit and its files under `pathspecs` (relative to `root`, as `git ls-tree -r`
    /// takes them), as `(blob id, path relative to root)`: only when the index records, as the
    /// tree it was last written as, HEAD's own tree (nothing staged since, no `reset --soft`):
    /// the index's entries are then HEAD's files.
    pub(super) fn head_listing(
        &self,
        root: &Path,
        pathspecs: &[String],
    ) -> Option<(String, Vec<(String, String)>)> {
        // Paths as `under` compares them: git would clean up `a/../b`, `a//b` or `a/.` first.
        let plain = pathspecs.iter().all(|spec| {
            spec == "." || spec.split('/').all(|part| !matches!(part, "" | "." | ".."))
        });
        if !plain {
            return None;
        }
        let head = self.head()?;
        let index = Index::read(&self.git_dir.join("index"))?;
        if index.tree? != self.commit_tree(&head)? {
            return None;
        }
        let root = std::fs::canonicalize(root).ok()?;
        let inside = root
            .strip_prefix(&self.top)
            .ok()?
            .to_str()?
            .replace('\\', "/");
        let prefix = if inside.is_empty() {
            String::new()
        } else {
            format!("{inside}/")
        };
        let files = index
            .entries
            .into_iter()
            .filter_map(|(id, path)| {
                let path = path.strip_prefix(&prefix)?;
                under(pathspecs, path).then(|| (id, path.to_owned()))
            })
            .collect();
        Some((head, files))
    }

    /// Whether `ancestor` is HEAD or one of its ancestors, looking at most `limit` commits back
    /// (then the merge-base of HEAD and `ancestor` is `ancestor`): `None` when that cannot be
    /// told without git (a commit stored as a delta, the limit reached).
    pub(super) fn head_descends_from(&self, ancestor: &str, limit: usize) -> Option<bool> {
        // A shallow clone, grafts and replaced objects give commits other parents than they
        // record: git reads those.
        let rewritten = ["shallow", "info/grafts", "refs/replace"]
            .iter()
            .any(|path| self.git_dir.join(path).exists())
            || self.packed_refs()?.contains(" refs/replace/");
        if rewritten {
            return None;
        }
        let mut queue = std::collections::VecDeque::from([self.head()?]);
        let mut seen = std::collections::HashSet::new();
        while let Some(id) = queue.pop_front() {
            if id == ancestor {
                return Some(true);
            }
            if !seen.insert(id.clone()) {
                continue;
            }
            if seen.len() > limit {
                return None;
            }
            queue.extend(self.parents(&id)?);
        }
        Some(false)
    }

    /// The first bytes of a commit's text (`tree …`, `parent …`, `author …`), loose or in a
    /// pack.
    fn commit_start(&self, id: &str, want: usize) -> Option<Vec<u8>> {
        let objects = self.git_dir.join("objects");
        let loose = objects.join(id.get(..2)?).join(id.get(2..)?);
        match std::fs::File::open(&loose) {
            // `commit <size>\0` before the text, all compressed.
            Ok(file) => {
                let text = inflate_start(file, want + 32)?;
                let nul = text.iter().position(|&b| b == 0)?;
                text.starts_with(b"commit ")
                    .then(|| text[nul + 1..].to_vec())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => self.packed_commit(id, want),
            Err(_) => None,
        }
    }

    /// The tree a commit records.
    fn commit_tree(&self, id: &str) -> Option<String> {
        let start = self.commit_start(id, 64)?;
        let tree = start.strip_prefix(b"tree ")?.get(..40)?;
        let tree = std::str::from_utf8(tree).ok()?;
        is_id(tree).then(|| tree.to_owned())
    }

    /// A commit's parents, from the header lines before its author.
    fn parents(&self, id: &str) -> Option<Vec<String>> {
        let start = self.commit_start(id, 1024)?;
        let mut parents = Vec::new();
        for line in start.split(|&b| b == b'\n') {
            if let Some(parent) = line.strip_prefix(b"parent ") {
                let parent = std::str::from_utf8(parent).ok()?;
                if !is_id(parent) {
                    return None;
                }
                parents.push(parent.to_owned());
            } else if line.starts_with(b"author ") {
                return Some(parents);
            }
        }
        // So many parents that the author line was not reached.
        None
    }

    /// The first bytes of a commit stored whole in one of the repository's packs.
    fn packed_commit(&self, id: &str, want: usize) -> Option<Vec<u8>> {
        let mut raw = [0u8; 20];
        hex::decode_to_slice(id, &mut raw).ok()?;
        let packs = std::fs::read_dir(self.git_dir.join("objects").join("pack")).ok()?;
        for entry in packs.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "idx") {
                continue;
            }
            let Some(offset) = pack_offset(&path, &raw)? else {
                continue;
            };
            let mut pack = std::fs::File::open(path.with_extension("pack")).ok()?;
            pack.seek(SeekFrom::Start(offset)).ok()?;
            // A header byte (type in bits 4-6), then size bytes while the top bit is set.
            let mut header = [0u8; 1];
            pack.read_exact(&mut header).ok()?;
            const COMMIT: u8 = 1;
            if (header[0] >> 4) & 7 != COMMIT {
                return None;
            }
            let mut byte = header[0];
            while byte & 0x80 != 0 {
                pack.read_exact(&mut header).ok()?;
                byte = header[0];
            }
            return inflate_start(pack, want);
        }
        None
    }
}

/// Whether `path` is one of `pathspecs` or inside one, as `git ls-tree` matches them.
pub(super) fn under(pathspecs: &[String], path: &str) -> bool {
    pathspecs.iter().any(|spec| {
        spec == "."
            || path == spec
            || path
                .strip_prefix(spec.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// The first `want` bytes (fewer if the stream ends) of the zlib stream `from` starts with.
fn inflate_start(from: impl Read, want: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(want);
    flate2::read::ZlibDecoder::new(from)
        .take(want as u64)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

/// Where a pack holds an object, from the pack's index (version 2): `Some(None)` when that
/// pack does not hold it, `None` when the index cannot be read.
fn pack_offset(idx: &Path, id: &[u8; 20]) -> Option<Option<u64>> {
    let mut file = std::fs::File::open(idx).ok()?;
    let mut head = vec![0u8; 8 + 256 * 4];
    file.read_exact(&mut head).ok()?;
    if head[..8] != [0xff, b't', b'O', b'c', 0, 0, 0, 2] {
        return None;
    }
    let fanout = |i: usize| -> u64 {
        let at = 8 + i * 4;
        u64::from(u32::from_be_bytes([
            head[at],
            head[at + 1],
            head[at + 2],
            head[at + 3],
        ]))
    };
    let count = fanout(255);
    // A 20-byte id, a CRC and an offset per object: a count the file cannot hold is no index.
    if file.metadata().ok()?.len() < 8 + 256 * 4 + count * 28 {
        return None;
    }
    let first = usize::from(id[0]);
    let low = if first == 0 { 0 } else { fanout(first - 1) };
    let high = fanout(first);
    if high > count || low > high {
        return None;
    }
    if high == low {
        return Some(None);
    }
    // The ids that share the first byte, in order.
    let ids_at = 8 + 256 * 4;
    let mut ids = vec![0u8; usize::try_from((high - low) * 20).ok()?];
    file.seek(SeekFrom::Start(ids_at + low * 20)).ok()?;
    file.read_exact(&mut ids).ok()?;
    let Ok(found) = ids
        .chunks_exact(20)
        .collect::<Vec<_>>()
        .binary_search(&&id[..])
    else {
        return Some(None);
    };
    let position = low + found as u64;
    // After the ids: a CRC per object, then a 4-byte offset per object; a set top bit points
    // into a table of 8-byte offsets that follows.
    let offsets_at = ids_at + count * 20 + count * 4;
    let mut word = [0u8; 4];
    file.seek(SeekFrom::Start(offsets_at + position * 4)).ok()?;
    file.read_exact(&mut word).ok()?;
    let offset = u32::from_be_bytes(word);
    if offset & 0x8000_0000 == 0 {
        return Some(Some(u64::from(offset)));
    }
    let large = u64::from(offset & 0x7fff_ffff);
    let mut wide = [0u8; 8];
    file.seek(SeekFrom::Start(offsets_at + count * 4 + large * 8))
        .ok()?;
    file.read_exact(&mut wide).ok()?;
    Some(Some(u64::from_be_bytes(wide)))
}

/// The parts of `.git/index` the listing needs.
struct Index {
    /// `(blob id, path from the top level)` of each file, in the index's order; submodules
    /// (which `git ls-tree` gives as commits, not blobs) left out.
    entries: Vec<(String, String)>,
    /// The tree the whole index was last written as, when the index still records it valid.
    tree: Option<String>,
}

impl Index {
    /// An index of version 2 or 3, unmerged, neither split nor sparse, up to 32 MB.
    fn read(path: &Path) -> Option<Index> {
        const LIMIT: u64 = 32 << 20;
        if std::fs::metadata(path).ok()?.len() > LIMIT {
            return None;
        }
        let data = std::fs::read(path).ok()?;
        let word = |at: usize| -> Option<u32> {
            Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
        };
        if data.get(..4)? != b"DIRC" || !matches!(word(4)?, 2 | 3) {
            return None;
        }
        let count = usize::try_from(word(8)?).ok()?;
        // An entry takes at least 64 bytes: a count the file cannot hold is no index.
        if count > data.len() / 64 {
            return None;
        }
        let mut entries = Vec::with_capacity(count);
        let mut at = 12;
        for _ in 0..count {
            // ctime, mtime, dev, ino (24 bytes), mode, uid, gid, size, id, flags.
            let mode = word(at + 24)?;
            let id = data.get(at + 40..at + 60)?;
            let flags = u16::from_be_bytes(data.get(at + 60..at + 62)?.try_into().ok()?);
            let stage = (flags >> 12) & 3;
            if stage != 0 {
                return None;
            }
            // An extended entry (version 3) has two more bytes of flags.
            let name_at = at + 62 + if flags & 0x4000 != 0 { 2 } else { 0 };
            let name_length = data.get(name_at..)?.iter().position(|&b| b == 0)?;
            let name = String::from_utf8_lossy(&data[name_at..name_at + name_length]);
            const GITLINK: u32 = 0o160_000;
            if mode & 0o170_000 != GITLINK {
                entries.push((hex::encode(id), name.into_owned()));
            }
            // Padded with one to eight NULs to a multiple of eight bytes.
            let length = name_at - at + name_length;
            at += (length + 8) & !7;
        }
        let mut tree = None;
        // Extensions, then the index's 20-byte checksum.
        while at + 8 <= data.len().checked_sub(20)? {
            let signature = data.get(at..at + 4)?;
            let size = usize::try_from(word(at + 4)?).ok()?;
            let body = data.get(at + 8..at + 8 + size)?;
            match signature {
                b"TREE" => tree = root_tree(body),
                // Split (entries elsewhere) or sparse (folders as entries): git reads those.
                b"link" | b"sdir" => return None,
                // Any other extension a reader must understand starts with a lowercase letter.
                [first, ..] if first.is_ascii_lowercase() => return None,
                _ => {}
            }
            at += 8 + size;
        }
        Some(Index { entries, tree })
    }
}

/// The id of the whole index's tree from the cache-tree extension: its first entry is the top
/// level, `\0<entries> <subtrees>\n<id>`, with -1 entries (and no id) once invalidated.
fn root_tree(body: &[u8]) -> Option<String> {
    let (path, rest) = body.split_at(body.iter().position(|&b| b == 0)?);
    if !path.is_empty() {
        return None;
    }
    let rest = &rest[1..];
    let line_end = rest.iter().position(|&b| b == b'\n')?;
    let counts = std::str::from_utf8(&rest[..line_end]).ok()?;
    let entries: i64 = counts.split(' ').next()?.parse().ok()?;
    if entries < 0 {
        return None;
    }
    Some(hex::encode(rest.get(line_end + 1..line_end + 21)?))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// The project's git runner, as a committer who signs nothing.
    fn git(dir: &Path, args: &[&str]) -> String {
        let mut all = vec![
            "-c",
            "user.name=plumb",
            "-c",
            "user.email=plumb@example.com",
        ];
        all.extend(["-c", "commit.gpgsign=false"]);
        all.extend(args);
        super::super::git(dir, &all).unwrap_or_else(|e| panic!("git {args:?}: {e}"))
    }

    /// What `git ls-tree -r` lists of the blobs under `pathspecs`, run in `root`.
    fn ls_tree(root: &Path, rev: &str, pathspecs: &[String]) -> Vec<(String, String)> {
        let mut args = vec!["ls-tree", "-r", "-z", rev, "--"];
        args.extend(pathspecs.iter().map(String::as_str));
        git(root, &args)
            .split('\0')
            .filter_map(|entry| {
                let (meta, path) = entry.split_once('\t')?;
                let mut parts = meta.split(' ');
                let (_, kind, id) = (parts.next()?, parts.next()?, parts.next()?);
                (kind == "blob").then(|| (id.to_owned(), path.to_owned()))
            })
            .collect()
    }

    /// The listing from the index, when `rev` is HEAD.
    fn listing(root: &Path, rev: &str, pathspecs: &[String]) -> Option<Vec<(String, String)>> {
        let (head, files) = repository(root)?.head_listing(root, pathspecs)?;
        (head == rev).then_some(files)
    }

    #[test]
    fn the_index_lists_heads_files_as_git_ls_tree_does_loose_or_packed_wherever_the_workspace_is() {
        let repo = tempfile::tempdir().unwrap();
        let top = repo.path();
        for (path, text) in [
            (
                "services/api/migrations/2020-01-01_créer/up.sql",
                "CREATE TABLE a ();\n",
            ),
            (
                "services/api/migrations/2020-01-01_créer/down.sql",
                "DROP TABLE a;\n",
            ),
            (
                "services/api/migrations/2020-02-02 with space/up.sql",
                "SELECT 1;\n",
            ),
            ("services/api/migrations-old/up.sql", "SELECT 2;\n"),
            ("services/api/src/schema.rs", "// schema\n"),
            ("services/api/src/models/a.rs", "// a\n"),
            ("README.md", "top\n"),
        ] {
            let path = top.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
        }
        git(top, &["init", "-q", "-b", "main"]);
        git(top, &["add", "-A"]);
        // A submodule's entry: git lists it as a commit, never a blob.
        git(
            top,
            &[
                "update-index",
                "--add",
                "--cacheinfo",
                &format!("160000,{},services/api/src/vendored", "1".repeat(40)),
            ],
        );
        git(top, &["commit", "-q", "-m", "first"]);
        let head = git(top, &["rev-parse", "HEAD"]).trim().to_owned();
        let specs = |specs: &[&str]| specs.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        for (root, pathspecs) in [
            (top.to_path_buf(), specs(&["."])),
            (
                top.join("services/api"),
                specs(&["migrations", "src/schema.rs", "src"]),
            ),
            (
                top.join("services/api"),
                specs(&["migrations", "plumb.toml"]),
            ),
            (top.join("services/api"), specs(&["."])),
        ] {
            let expected = ls_tree(&root, &head, &pathspecs);
            assert!(!expected.is_empty());
            assert_eq!(
                listing(&root, &head, &pathspecs).as_ref(),
                Some(&expected),
                "{pathspecs:?}"
            );
            // The same once the commit is in a pack and the refs are packed.
            git(top, &["gc", "-q"]);
            assert!(
                !top.join(".git/objects")
                    .join(&head[..2])
                    .join(&head[2..])
                    .exists()
            );
            assert_eq!(
                listing(&root, &head, &pathspecs),
                Some(expected),
                "{pathspecs:?}"
            );
        }
        // A path git would clean up first is left to git.
        for unclean in ["src/../migrations", "migrations//x", "migrations/.", "/abs"] {
            let specs = specs(&[unclean]);
            assert_eq!(
                listing(&top.join("services/api"), &head, &specs),
                None,
                "{unclean}"
            );
        }
    }

    #[test]
    fn the_index_is_not_taken_for_heads_tree_once_it_may_differ_from_it() {
        let repo = tempfile::tempdir().unwrap();
        let top = repo.path();
        std::fs::write(top.join("a.sql"), "SELECT 1;\n").unwrap();
        git(top, &["init", "-q", "-b", "main"]);
        git(top, &["add", "-A"]);
        git(top, &["commit", "-q", "-m", "first"]);
        let first = git(top, &["rev-parse", "HEAD"]).trim().to_owned();
        std::fs::write(top.join("a.sql"), "SELECT 2;\n").unwrap();
        git(top, &["commit", "-q", "-am", "second"]);
        let second = git(top, &["rev-parse", "HEAD"]).trim().to_owned();
        let all = [".".to_owned()];
        assert!(listing(top, &second, &all).is_some());
        // Another commit than HEAD.
        assert!(listing(top, &first, &all).is_none());
        // Something staged since HEAD.
        std::fs::write(top.join("b.sql"), "SELECT 3;\n").unwrap();
        git(top, &["add", "b.sql"]);
        assert!(listing(top, &second, &all).is_none());
        git(top, &["commit", "-q", "-m", "third"]);
        let third = git(top, &["rev-parse", "HEAD"]).trim().to_owned();
        assert_eq!(listing(top, &third, &all), Some(ls_tree(top, &third, &all)));
        // HEAD moved back with the index left as it was: the index is the third commit's.
        git(top, &["reset", "-q", "--soft", &first]);
        assert!(listing(top, &first, &all).is_none());
    }

    #[test]
    fn a_branch_holding_mains_tip_is_seen_to_descend_from_it_loose_or_packed() {
        let repo = tempfile::tempdir().unwrap();
        let top = repo.path();
        let commit = |name: &str| {
            std::fs::write(top.join(name), name).unwrap();
            git(top, &["add", "-A"]);
            git(top, &["commit", "-q", "-m", name]);
            git(top, &["rev-parse", "HEAD"]).trim().to_owned()
        };
        git(top, &["init", "-q", "-b", "main"]);
        let first = commit("first");
        let main_tip = commit("second");
        git(top, &["checkout", "-q", "-b", "feature"]);
        commit("feature-1");
        commit("feature-2");
        let descends = |ancestor: &str| repository(top).unwrap().head_descends_from(ancestor, 64);
        assert_eq!(descends(&main_tip), Some(true));
        assert_eq!(descends(&first), Some(true));
        git(top, &["gc", "-q"]);
        assert_eq!(descends(&main_tip), Some(true));
        // main moves on: its new tip is no ancestor, and the walk says so.
        git(top, &["checkout", "-q", "main"]);
        let moved = commit("third");
        git(top, &["checkout", "-q", "feature"]);
        assert_eq!(descends(&moved), Some(false));
        // Merged into the branch, it is one, through the merge's second parent.
        git(top, &["merge", "-q", "--no-edit", "main"]);
        assert_eq!(descends(&moved), Some(true));
        // Further back than the walk goes: git is asked.
        assert_eq!(repository(top).unwrap().head_descends_from(&first, 2), None);
        // A shallow clone's history ends where git says, not where the objects do.
        std::fs::write(top.join(".git/shallow"), format!("{first}\n")).unwrap();
        assert_eq!(descends(&moved), None);
    }

    #[test]
    fn an_index_or_pack_index_that_cannot_be_what_it_says_is_no_answer_not_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        // Four billion entries claimed in a few bytes.
        let index = dir.path().join("index");
        let mut claimed = b"DIRC\0\0\0\x02\xff\xff\xff\xff".to_vec();
        claimed.extend([0u8; 100]);
        std::fs::write(&index, &claimed).unwrap();
        assert!(Index::read(&index).is_none());
        // Cut short anywhere: never a tree to take HEAD's files from.
        let mut one = b"DIRC\0\0\0\x02\0\0\0\x01".to_vec();
        one.extend([0u8; 70]);
        one.extend(b"TREE\0\0\0\x19\x001 0\n");
        for end in 0..one.len() {
            std::fs::write(&index, &one[..end]).unwrap();
            assert!(Index::read(&index).and_then(|i| i.tree).is_none(), "{end}");
        }
        // A pack index whose fan-out claims more objects than the file holds.
        let idx = dir.path().join("pack-0.idx");
        let mut header = vec![0xff, b't', b'O', b'c', 0, 0, 0, 2];
        header.extend(std::iter::repeat_n([0xff; 4], 256).flatten());
        std::fs::write(&idx, &header).unwrap();
        assert_eq!(pack_offset(&idx, &[0x12; 20]), None);
        std::fs::write(&idx, &header[..100]).unwrap();
        assert_eq!(pack_offset(&idx, &[0x12; 20]), None);
    }
}
