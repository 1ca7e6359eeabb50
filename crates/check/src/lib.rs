//! plumb's static checker: reads a diesel workspace, knows no database.
//!
//! The pipeline, top to bottom: read the workspace ([`input`]); parse every migration and replay
//! it statement by statement ([`sql`]), family M checking each statement against the schema
//! before it; families S and C on the head, A and D against the base ([`rules`]); suppressions
//! ([`suppress`]); the severities `plumb.toml` sets; a [`Report`].

pub mod baseline;
mod changes;
pub mod coverage;
pub mod error;
pub mod finding;
pub mod input;
pub mod migrations;
pub mod report;
pub mod rules;
pub mod sql;
pub mod suppress;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use error::InputError;
pub use finding::{Finding, Rule, Severity};
pub use input::settings::Settings;
pub use input::snapshot::read_snapshot;
pub use migrations::{Migration, POST_DEPLOY_MARK, read_migrations};
pub use rules::RULES;
pub use sql::replay_each;
pub use sql::schema::Schema;

use input::relative;
use input::snapshot::Snapshot;
use sql::source::Source;

/// What a check found, and the schema the migrations build.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// The text of every file a finding may point into, by its path as findings show it
    /// (shared with the migrations read).
    pub sources: BTreeMap<PathBuf, std::sync::Arc<str>>,
    pub migrations: usize,
    pub statements: usize,
    pub schema: Schema,
    /// Against what base the head was compared, or why it was not: one line.
    pub base: Option<String>,
    /// What changed between base and head, layer by layer: the review artifact.
    pub changes: Vec<String>,
    /// What was read: the report's first line.
    pub coverage: coverage::Coverage,
    /// What suppressions silenced, and whose markers they were.
    pub suppressed: Vec<suppress::Suppressed>,
    /// What `plumb-baseline.json` hid, when there is one.
    pub baseline: Option<baseline::Outcome>,
}

impl Report {
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// Adds findings, with the text of the files they point into (`text` of a path as findings
    /// show it, when it can be had).
    fn extend(&mut self, found: Vec<Finding>, text: impl Fn(&Path) -> Option<String>) {
        for finding in found {
            if let Some(text) = text(&finding.span.file) {
                self.sources.insert(finding.span.file.clone(), text.into());
            }
            self.findings.push(finding);
        }
    }
}

/// Which tree the head is compared with (families A and D).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// The merge-base with the main branch; skipped, with one line saying so, outside git.
    Default,
    /// A git revision; an input error when git does not know it.
    Rev(String),
    /// No comparison.
    None,
}

/// Reads the settings and the migrations under `root` and checks them.
pub fn check_workspace(root: &Path, pg_version: Option<u32>) -> Result<Report, InputError> {
    check_everything(root, pg_version, &Base::None)
}

/// [`check_workspace`], then the head against `base`: API compatibility (family A) and the
/// live release against the new migrations (family D), and the changes between them; less what
/// the workspace's baseline records.
pub fn check_workspace_against(
    root: &Path,
    pg_version: Option<u32>,
    base: &Base,
) -> Result<Report, InputError> {
    let mut report = check_everything(root, pg_version, base)?;
    report.baseline = baseline::apply(root, &mut report)?;
    Ok(report)
}

/// Every finding of [`check_workspace_against`], the baseline's included: what
/// `plumb baseline` records.
pub fn check_everything(
    root: &Path,
    pg_version: Option<u32>,
    base: &Base,
) -> Result<Report, InputError> {
    let died = |what: &str| InputError::Invalid {
        path: root.to_path_buf(),
        reason: format!("{what} failed"),
    };
    // Everything that does not wait on something else runs at once: git finds the base while
    // the settings are read, and lists its files while the migrations are read; the Rust files
    // are parsed, and git reads the few base files the work tree does not hold unchanged,
    // while the migrations are checked.
    let (send_wanted, wanted) = std::sync::mpsc::channel::<Vec<PathBuf>>();
    let list = {
        let (root, base) = (root.to_path_buf(), base.clone());
        std::thread::spawn(move || {
            let rev = base_revision(&root, &base);
            // No settings, no listing: the settings' error is the one reported.
            let Ok(wanted) = wanted.recv() else {
                return Ok(Listed::None);
            };
            list_at(&root, &base, rev, &wanted)
        })
    };
    let settings = match head_settings(root, pg_version) {
        Ok(settings) => settings,
        Err(error) => {
            drop(send_wanted);
            let _ = list.join();
            return Err(error);
        }
    };
    let mut listed_paths = settings.read_paths();
    listed_paths.extend(["plumb.toml", "diesel.toml"].map(PathBuf::from));
    // The listing thread waits for this; it only fails if that thread has ended, and its
    // join reports why.
    let _ = send_wanted.send(listed_paths);
    deep_stacks();
    // The migrations first: checking them is the longest work, and the Rust files' parsing,
    // queued on the same threads, would hold their reading back.
    let migrations = match migrations::read_migrations_within(&settings.migrations_dir, root) {
        Ok(migrations) => migrations,
        Err(error) => {
            // Nothing started is left running.
            let _ = list.join();
            return Err(error);
        }
    };
    let rust = {
        let settings = settings.clone();
        let spawned = std::thread::Builder::new()
            .stack_size(sql::parse::PARSE_STACK)
            .spawn(move || input::snapshot::read_rust(&settings));
        match spawned {
            Ok(rust) => rust,
            Err(error) => {
                let _ = list.join();
                return Err(InputError::io(root, error));
            }
        }
    };
    let (fetched, rust, (mut report, replayed, deploy_allows)) = std::thread::scope(|scope| {
        let fetch = scope.spawn(|| {
            let listed = list
                .join()
                .unwrap_or_else(|_| Err(died("reading the base from git")))?;
            fetch_base(root, &settings, &migrations, listed, base)
        });
        let checked = check_and_replay(&migrations, &settings);
        (fetch.join(), rust.join(), checked)
    });
    let rust = rust.unwrap_or_else(|_| Err(died("reading the Rust files")))?;
    let mut head = input::snapshot::snapshot(&settings, migrations, rust);
    head.replayed = replayed;
    // The base's snapshot is built while families S and C check the head: both only read it.
    let (head_rust, built) = std::thread::scope(|scope| {
        let (head, settings) = (&head, &settings);
        let building = scope.spawn(move || {
            let fetched = fetched.unwrap_or_else(|_| Err(died("reading the base from git")))?;
            match fetched {
                Fetched::Files(files) => {
                    let rev = files.rev.clone();
                    build_base(root, settings, head, files).map(|snapshot| Ok((rev, snapshot)))
                }
                Fetched::None => Ok(Err(None)),
                Fetched::Skipped(reason) => Ok(Err(Some(reason))),
            }
        });
        let head_rust = finish_head(settings, head, &mut report);
        (head_rust, building.join())
    });
    let head_rust = head_rust?;
    let built = built.unwrap_or_else(|_| Err(died("reading the base from git")))?;
    let (rev, base_snapshot) = match built {
        Ok(built) => built,
        Err(None) => {
            discard(head);
            return Ok(report);
        }
        Err(Some(reason)) => {
            report.base = Some(format!(
                "base: none ({reason}); API and deploy checks skipped"
            ));
            discard(head);
            return Ok(report);
        }
    };
    let short: String = rev.chars().take(12).collect();
    report.base = Some(format!("base: {short}"));
    report.changes = changes::between(&base_snapshot, &head);
    let new = suppress::new_migrations(&head, &base_snapshot);
    let found = suppress::deploy(
        rules::against_base(&base_snapshot, &head),
        &deploy_allows,
        &new,
        &mut report.suppressed,
    );
    // The new release's code: its own suppressions of deploy rules.
    let found = suppress::rust_deploy(found, &head_rust, &mut report.suppressed);
    report
        .changes
        .extend(suppress::in_force(&report.suppressed, &new));
    let found = settings.apply_severities(found);
    report.extend(found, |file| std::fs::read_to_string(root.join(file)).ok());
    discard((head, base_snapshot));
    Ok(report)
}

/// The migrations the base already has: what production has applied. The live stage applies
/// them quickly, as history, and judges the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Released {
    /// No base was asked for.
    None,
    /// The default base cannot be had (outside git, no main branch): why.
    Skipped(String),
    /// The folder names of the base's migrations, and the revision they were read at.
    At {
        rev: String,
        folders: std::collections::BTreeSet<String>,
    },
}

/// Lists the migration folders of `base` (one `git ls-tree`, no file read).
pub fn released_migrations(
    root: &Path,
    settings: &Settings,
    base: &Base,
) -> Result<Released, InputError> {
    let dir = relative(root, &settings.migrations_dir);
    let tree = match list_base(root, base, std::slice::from_ref(&dir))? {
        Listed::None => return Ok(Released::None),
        Listed::Skipped(reason) => return Ok(Released::Skipped(reason)),
        Listed::Tree(tree) => tree,
    };
    let folders = tree
        .files
        .iter()
        .filter_map(|(_, path)| {
            let inside = Path::new(path).strip_prefix(&dir).ok()?;
            let mut parts = inside.components();
            let folder = parts.next()?.as_os_str().to_str()?.to_owned();
            // A folder holds a migration's scripts; a file directly inside is no migration.
            parts.next().map(|_| folder)
        })
        .collect();
    Ok(Released::At {
        rev: tree.rev,
        folders,
    })
}

/// The threads that parse files (rayon's, for Rust files and migrations read in parallel) get
/// the parser's stack: syn and the SQL parser recurse once per level of nesting, and a small
/// file can nest thousands of levels.
fn deep_stacks() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Already built by the program that calls the checker: its settings stand.
        let _ = rayon::ThreadPoolBuilder::new()
            .stack_size(sql::parse::PARSE_STACK)
            .build_global();
    });
}

/// Frees what is no longer needed on a thread of its own: a repository's snapshots are
/// hundreds of thousands of small allocations, and the report need not wait for them.
fn discard<T: Send + 'static>(value: T) {
    std::thread::spawn(move || drop(value));
}

/// What git gave of the base: nothing asked, a reason the default base cannot be had, or its
/// files (migrations sharing the head's texts where they are the same).
enum Fetched {
    None,
    Skipped(String),
    Files(BaseFiles),
}

/// The base's files: its migrations by path inside the migrations folder, and the other files
/// the checks read.
struct BaseFiles {
    rev: String,
    /// Where the base's files are written when they must be read as a workspace; its
    /// migrations are named as if they were there.
    scratch: tempfile::TempDir,
    /// The base's migrations, built while the head's are checked.
    migrations: Vec<Migration>,
    others: Vec<input::git::Blob>,
    /// Every one of `others` is the head's file, byte for byte (its hash said so).
    others_as_head: bool,
}

/// What git lists of the base: nothing asked, a reason the default base cannot be had, or the
/// files the checks read and the settings files.
enum Listed {
    None,
    Skipped(String),
    Tree(input::git::Tree),
}

/// Lists `wanted` (paths relative to the root) as the base has them.
fn list_base(root: &Path, base: &Base, wanted: &[PathBuf]) -> Result<Listed, InputError> {
    list_at(root, base, base_revision(root, base), wanted)
}

/// The revision `base` names (the default one found with git), or what to report instead.
fn base_revision(root: &Path, base: &Base) -> Result<String, Listed> {
    match base {
        Base::None => Err(Listed::None),
        Base::Rev(rev) => Ok(rev.clone()),
        Base::Default => {
            input::git::default_base(root).map_err(|reason| Listed::Skipped(reason.to_string()))
        }
    }
}

/// [`list_base`] with the revision already found.
fn list_at(
    root: &Path,
    base: &Base,
    rev: Result<String, Listed>,
    wanted: &[PathBuf],
) -> Result<Listed, InputError> {
    let rev = match rev {
        Ok(rev) => rev,
        Err(listed) => return Ok(listed),
    };
    match input::git::list(root, &rev, wanted) {
        Ok(tree) => Ok(Listed::Tree(tree)),
        Err(input::git::BaseError::Unavailable(reason)) if *base == Base::Default => {
            Ok(Listed::Skipped(reason))
        }
        // The main branch names a commit git does not have: no base, as without a main branch.
        Err(input::git::BaseError::Invalid(_)) if *base == Base::Default => {
            let short: String = rev.chars().take(12).collect();
            Ok(Listed::Skipped(format!(
                "the main branch points at {short}, a commit this repository does not hold"
            )))
        }
        Err(error) => Err(InputError::Invalid {
            path: root.to_path_buf(),
            reason: error.to_string(),
        }),
    }
}

/// The base's listed files. A file the head holds with the same bytes is taken from the head
/// (a migration shares the head's text): the base of a pull request is mostly the head's
/// history, and only the files that differ are read from git.
/// The work tree's copy of a base file, when its bytes are the base's blob `id`; read through
/// the guarded reader (a link out of the workspace or a FIFO is left to git).
fn base_copy(root: &Path, path: &str, id: &str) -> Option<Vec<u8>> {
    plumb_migrations::read_bytes_within(&root.join(path), root)
        .ok()
        .flatten()
        .filter(|bytes| input::git::holds(id, bytes))
}

fn fetch_base(
    root: &Path,
    settings: &Settings,
    head_migrations: &[Migration],
    listed: Listed,
    base: &Base,
) -> Result<Fetched, InputError> {
    let tree = match listed {
        Listed::None => return Ok(Fetched::None),
        Listed::Skipped(reason) => return Ok(Fetched::Skipped(reason)),
        Listed::Tree(tree) => tree,
    };
    let migrations_dir = relative(root, &settings.migrations_dir);
    let prefix = format!("{}/", migrations_dir.to_string_lossy().replace('\\', "/"));
    let head_texts: BTreeMap<String, std::sync::Arc<str>> = head_migrations
        .iter()
        .flat_map(|m| {
            let up = Some((format!("{}/up.sql", m.name), m.up.clone()));
            let down = m.down.clone().map(|d| (format!("{}/down.sql", m.name), d));
            up.into_iter().chain(down)
        })
        .collect();
    let mut migrations: Vec<(String, std::sync::Arc<str>)> = Vec::new();
    let mut others: Vec<input::git::Blob> = Vec::new();
    let mut differing = Vec::new();
    for file in &tree.files {
        let (id, path) = file;
        match path.strip_prefix(&prefix) {
            Some(inside) => {
                let same: Option<std::sync::Arc<str>> = match head_texts.get(inside) {
                    Some(text) => input::git::holds(id, text.as_bytes()).then(|| text.clone()),
                    // metadata.toml, a README: the work tree's copy when it is the base's.
                    None => base_copy(root, path, id)
                        .and_then(|bytes| String::from_utf8(bytes).ok())
                        .map(Into::into),
                };
                match same {
                    Some(text) => migrations.push((inside.to_owned(), text)),
                    None => differing.push(file),
                }
            }
            None => match base_copy(root, path, id) {
                Some(bytes) => others.push((path.clone(), bytes)),
                None => differing.push(file),
            },
        }
    }
    let contents = match input::git::read(&tree, &differing) {
        Ok(contents) => contents,
        Err(input::git::BaseError::Unavailable(reason)) if *base == Base::Default => {
            return Ok(Fetched::Skipped(reason));
        }
        Err(error) => {
            return Err(InputError::Invalid {
                path: root.to_path_buf(),
                reason: error.to_string(),
            });
        }
    };
    let others_as_head = differing.iter().all(|(_, p)| p.starts_with(&prefix));
    for ((_, path), bytes) in differing.into_iter().zip(contents) {
        match path.strip_prefix(&prefix) {
            Some(inside) => {
                migrations.push((inside.to_owned(), String::from_utf8_lossy(&bytes).into()));
            }
            None => others.push((path.clone(), bytes)),
        }
    }
    let scratch =
        tempfile::tempdir().map_err(|e| InputError::io(Path::new("a temporary directory"), e))?;
    let migrations = plumb_migrations::migrations_from_files(
        &settings.rerooted(scratch.path()).migrations_dir,
        migrations,
    )
    .map_err(|e| InputError::Invalid {
        path: root.to_path_buf(),
        reason: format!("the base {}: {e}", tree.rev),
    })?;
    Ok(Fetched::Files(BaseFiles {
        rev: tree.rev,
        scratch,
        migrations,
        others,
        others_as_head,
    }))
}

/// The base's snapshot from its files, replayed (reusing the head's replay for the released
/// migrations it holds unchanged).
fn build_base(
    root: &Path,
    settings: &Settings,
    head: &Snapshot,
    files: BaseFiles,
) -> Result<Snapshot, InputError> {
    let BaseFiles {
        rev,
        scratch,
        migrations,
        others,
        others_as_head,
    } = files;
    let rev = rev.as_str();
    let invalid = |reason: String| InputError::Invalid {
        path: root.to_path_buf(),
        reason,
    };
    let base_root = scratch.path().to_path_buf();
    let same_settings = ["plumb.toml", "diesel.toml"].iter().all(|name| {
        let at_base = others
            .iter()
            .find(|(p, _)| p == name)
            .map(|(_, c)| c.as_slice());
        let at_head = std::fs::read(root.join(name)).ok();
        at_base == at_head.as_deref()
    });
    let write = |blobs: &mut dyn Iterator<Item = &input::git::Blob>| {
        input::git::write_blobs(&base_root, blobs).map_err(|e| invalid(e.to_string()))
    };
    let mut snapshot = if same_settings {
        let base_settings = settings.rerooted(&base_root);
        if others_as_head && base_has_head_files(root, settings, head, &others) {
            // schema.rs, the models and the API as the head has them: read once.
            Snapshot {
                migrations,
                migrations_dir: head.migrations_dir.clone(),
                replayed: Vec::new(),
                ..head.clone_inputs()
            }
        } else {
            // Written first: which schema files the base has is known once they are there.
            write(&mut others.iter())?;
            input::snapshot::read_files_with(&lenient(base_settings), migrations)
                .map_err(|e| invalid(format!("the base {rev}: {e}")))?
        }
    } else {
        // Other settings: the base's tree is read as a workspace of its own.
        let all =
            input::git::blobs(root, rev, &[PathBuf::new()]).map_err(|e| invalid(e.to_string()))?;
        write(&mut all.iter())?;
        let base_settings = lenient(Settings::load(&base_root).unwrap_or_else(|_| Settings {
            root: base_root.clone(),
            migrations_dir: base_root.join(relative(root, &settings.migrations_dir)),
            ..settings.clone()
        }));
        if !base_settings.migrations_dir.is_dir() {
            return Ok(Snapshot::default());
        }
        input::snapshot::read_files(&base_settings)
            .map_err(|e| invalid(format!("the base {rev}: {e}")))?
    };
    // Released migrations are usually the head's first ones, unchanged: their schemas are the
    // head's, without parsing them again.
    let prefix = snapshot.migrations.len() <= head.migrations.len()
        && snapshot
            .migrations
            .iter()
            .zip(&head.migrations)
            .all(|(b, h)| b.name == h.name && b.up == h.up);
    snapshot.replayed = if prefix {
        head.replayed[..snapshot.migrations.len()].to_vec()
    } else {
        replay_each(&snapshot.migrations)
    };
    Ok(snapshot)
}

/// The base's settings, less the schema files the base does not have yet: the head's are
/// required, the base's may predate them.
fn lenient(mut settings: Settings) -> Settings {
    settings.schema_files.retain(|f| f.path.is_file());
    settings
}

/// Whether the head reads no file the base lacks: with the base's other files the head's byte
/// for byte, the head's reading of them is then the base's.
fn base_has_head_files(
    root: &Path,
    settings: &Settings,
    head: &Snapshot,
    others: &[input::git::Blob],
) -> bool {
    let at_base: std::collections::BTreeSet<&str> =
        others.iter().map(|(p, _)| p.as_str()).collect();
    let shown = |p: &Path| relative(root, p).to_string_lossy().replace('\\', "/");
    let mut head_files: Vec<String> = head.declared.iter().map(|d| shown(&d.file)).collect();
    head_files.extend(
        settings
            .schema_files
            .iter()
            .filter_map(|f| f.patch_file.as_deref())
            .map(&shown),
    );
    head_files.extend(head.models.iter().map(|m| shown(&m.file)));
    head_files.extend(head.api.values().map(|a| shown(&a.file)));
    head_files.iter().all(|f| at_base.contains(f.as_str()))
}

fn head_settings(root: &Path, pg_version: Option<u32>) -> Result<Settings, InputError> {
    let mut settings = Settings::load(root)?;
    if let Some(version) = pg_version {
        settings.pg_version = version;
    }
    Ok(settings)
}

/// What was read, on the report's first line; then families S and C. Gives the head's Rust
/// sources, where the deploy rules' Rust suppressions are read later.
fn finish_head(
    settings: &Settings,
    snapshot: &Snapshot,
    report: &mut Report,
) -> Result<BTreeMap<PathBuf, String>, InputError> {
    let coverage = &mut report.coverage;
    coverage.migrations_dir = snapshot.migrations_dir.clone();
    coverage.schema_files = snapshot.declared.iter().map(|d| d.file.clone()).collect();
    let structs = || snapshot.models.iter().filter(|m| !m.call);
    coverage.models = structs().count();
    coverage.model_files = structs()
        .map(|m| &m.file)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    coverage.api_schemas = snapshot.api.len();
    check_backend(settings, snapshot, report)
}

/// Families S and C: `schema.rs`, the model structs and the registry against the schema the
/// migrations build, less what Rust comments suppress.
fn check_backend(
    settings: &Settings,
    snapshot: &Snapshot,
    report: &mut Report,
) -> Result<BTreeMap<PathBuf, String>, InputError> {
    let Some(all) = &snapshot.schema_rs else {
        return Ok(BTreeMap::new());
    };
    let registry = input::registry::read_registry(&settings.root.join("plumb.toml"))?;
    report.coverage.registry = registry.present;
    let found = rules::backend(&report.schema, all, snapshot, &registry);
    let rust_sources = rust_sources(settings, snapshot);
    let found =
        settings.apply_severities(suppress::rust(found, &rust_sources, &mut report.suppressed));
    report.extend(found, |file| match rust_sources.get(file) {
        Some(text) => Some(text.clone()),
        None => std::fs::read_to_string(settings.root.join(file)).ok(),
    });
    Ok(rust_sources)
}

/// The text of the schema files and model files of a tree, by their path as findings show it:
/// where Rust suppressions are read.
fn rust_sources(settings: &Settings, snapshot: &Snapshot) -> BTreeMap<PathBuf, String> {
    let mut sources = BTreeMap::new();
    for declared in &snapshot.declared {
        sources.insert(declared.file.clone(), declared.text.clone());
    }
    for model in &snapshot.models {
        if !sources.contains_key(&model.file)
            && let Ok(source) = std::fs::read_to_string(settings.root.join(&model.file))
        {
            sources.insert(model.file.clone(), source);
        }
    }
    sources
}

/// Checks migrations, in the order given, against the schema each one finds.
pub fn check_migrations(migrations: &[Migration], settings: &Settings) -> Report {
    check_and_replay(migrations, settings).0
}

/// [`check_migrations`], the schema after each migration (what [`replay_each`] gives, without
/// parsing the migrations a second time), and the suppressions of deploy rules, for when the
/// head is compared with a base.
fn check_and_replay(
    migrations: &[Migration],
    settings: &Settings,
) -> (Report, Vec<Schema>, Vec<suppress::Deferred>) {
    let mut replayed = Vec::with_capacity(migrations.len());
    let mut schema = Schema::default();
    let mut findings = Vec::new();
    let mut statements = 0;
    // Gathered in migration order and made a map once: inserting hundreds of paths one by one
    // compared them component by component, a millisecond on crates.io.
    let mut sources = Vec::new();
    let mut suppressed = Vec::new();
    let mut deferred = Vec::new();
    let mut coverage = coverage::Coverage {
        migrations: migrations.len(),
        skip_before_set: settings.skip_before.is_some(),
        recent_from: migrations
            .len()
            .checked_sub(coverage::RECENT)
            .and_then(|i| migrations.get(i))
            .map(|m| m.version.clone()),
        ..Default::default()
    };
    let recent = migrations.len().saturating_sub(coverage::RECENT);
    let mut next = 0;
    // Validation finds what PostgreSQL would refuse; the migrations before the newest have run.
    sql::parse::parse_in_order(migrations, recent, |parsed| {
        let index = next;
        next += 1;
        let migration = &migrations[index];
        statements += parsed.statements.len();
        coverage.unmodelled += parsed
            .statements
            .iter()
            .map(|s| rules::m::unmodelled_statement::unmodelled(s).len())
            .sum::<usize>();
        let checked = rules::m::check_migration(
            migration,
            &parsed,
            &mut schema,
            settings.pg_version,
            &settings.lock,
        );
        replayed.push(schema.clone());
        let source = Source::new(
            relative(&settings.root, &migration.up_path()),
            migration.up.clone(),
        );
        let (mut found, silenced, deploy_allows) =
            suppress::sql(checked, &parsed.file_allows, &source);
        found.sort_by_key(|f| (f.span.line, f.span.column));
        let found = rules::m::lock_timeout_missing::once_per_file(found);
        if !settings.checks(migration) {
            return;
        }
        coverage.migrations_checked += 1;
        coverage.migration_findings += found.len();
        if index < recent {
            coverage.old_findings += found.len();
        }
        suppressed.extend(silenced);
        deferred.extend(deploy_allows);
        if !found.is_empty() {
            sources.push((source.path, migration.up.clone()));
            findings.extend(found);
        }
    });
    coverage.statements = statements;
    let report = Report {
        findings: settings.apply_severities(findings),
        sources: sources.into_iter().collect(),
        migrations: migrations.len(),
        statements,
        schema,
        base: None,
        changes: Vec::new(),
        coverage,
        suppressed,
        baseline: None,
    };
    (report, replayed, deferred)
}
