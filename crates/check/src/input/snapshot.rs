//! A snapshot: what the checker reads of one tree (the head, or the base from git).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use super::api::{self, ApiSchema};
use super::models::{self, Model};
use super::relative;
use super::schema_rs::{self, SchemaRs, TableRs};
use super::settings::{SchemaFile, Settings, TableFilter};
use crate::error::InputError;
use crate::migrations::{Migration, read_migrations};
use crate::sql::replay_each;
use crate::sql::schema::Schema;

/// What the checker reads of one tree.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub migrations: Vec<Migration>,
    /// The schema after each migration.
    pub replayed: Vec<Schema>,
    /// Every schema file's tables together: what the code compiles against.
    pub schema_rs: Option<SchemaRs>,
    /// Each schema file, with what print-schema writes into it.
    pub declared: Vec<Declared>,
    pub models: Vec<Model>,
    pub api: BTreeMap<String, ApiSchema>,
    /// Paths as findings show them: relative to the workspace root.
    pub migrations_dir: PathBuf,
}

/// One schema file as committed, and as `diesel print-schema` generates it (the committed text
/// with its `patch_file` taken back out): the migrations are compared with the generated form,
/// so what the patch changes on purpose is not a finding.
#[derive(Debug, Clone)]
pub struct Declared {
    /// As findings show it: relative to the workspace root.
    pub file: PathBuf,
    pub text: String,
    pub committed: SchemaRs,
    pub generated: SchemaRs,
    pub filter: TableFilter,
    /// The database schema it prints.
    pub schema: String,
}

impl Declared {
    /// The generated form's tables, each at its line in the committed file (where the patch
    /// moved it) so that findings point at what people open.
    pub fn tables(&self) -> impl Iterator<Item = TableRs> + '_ {
        // Looked up by name (the first of a name, as a search would find it): a file of many
        // tables or wide ones is read in linear time.
        let mut committed: HashMap<&str, &TableRs> = HashMap::new();
        for t in &self.committed.tables {
            committed.entry(t.name.as_str()).or_insert(t);
        }
        self.generated.tables.iter().map(move |t| {
            let mut t = t.clone();
            if let Some(committed) = committed.get(t.name.as_str()) {
                t.line = committed.line;
                let mut lines = HashMap::new();
                for c in committed.columns.iter().rev() {
                    lines.insert(c.name.as_str(), c.line);
                }
                for column in &mut t.columns {
                    if let Some(line) = lines.get(column.name.as_str()) {
                        column.line = *line;
                    }
                }
            }
            t
        })
    }

    /// The key the replay gives a table of this file named `name`: the inverse of
    /// [`Declared::table_name`].
    pub fn replay_key(&self, name: &str) -> String {
        match self.schema.as_str() {
            "public" => name.to_owned(),
            other => format!("{other}.{name}"),
        }
    }

    /// The key the replay gives a table of this file's database schema, if it is in it.
    pub fn table_name<'n>(&self, replayed: &'n str) -> Option<&'n str> {
        match replayed.split_once('.') {
            Some((schema, name)) if schema == self.schema => Some(name),
            None if self.schema == "public" => Some(replayed),
            _ => None,
        }
    }
}

impl Snapshot {
    /// The schema files, models and API schemas, without the migrations and their replay.
    pub(crate) fn clone_inputs(&self) -> Snapshot {
        Snapshot {
            migrations: Vec::new(),
            replayed: Vec::new(),
            schema_rs: self.schema_rs.clone(),
            declared: self.declared.clone(),
            models: self.models.clone(),
            api: self.api.clone(),
            migrations_dir: self.migrations_dir.clone(),
        }
    }

    pub fn schema(&self) -> Schema {
        self.replayed.last().cloned().unwrap_or_default()
    }
}

/// What the checker reads of one tree, replayed.
pub fn read_snapshot(settings: &Settings) -> Result<Snapshot, InputError> {
    let mut snapshot = read_files(settings)?;
    snapshot.replayed = replay_each(&snapshot.migrations);
    Ok(snapshot)
}

fn parse_schema_rs(
    path: &std::path::Path,
    text: &str,
    known: &mut schema_rs::KnownTables,
) -> Result<SchemaRs, InputError> {
    schema_rs::parse_reusing(text, known).map_err(|e| InputError::At {
        path: path.to_path_buf(),
        line: e.line,
        column: e.column,
        reason: e.message,
    })
}

/// A schema file and the form print-schema generates.
pub fn read_declared(
    settings: &Settings,
    file: &SchemaFile,
) -> Result<(SchemaRs, Declared), InputError> {
    let text =
        crate::migrations::read_file_within(&file.path, &settings.root)?.ok_or_else(|| {
            InputError::Invalid {
                path: file.path.clone(),
                reason: "no such file".to_owned(),
            }
        })?;
    // The generated form differs from the committed one only where the patch changes it.
    let mut known = schema_rs::KnownTables::default();
    let committed = parse_schema_rs(&file.path, &text, &mut known)?;
    let generated = match &file.patch_file {
        None => committed.clone(),
        Some(patch_path) => {
            let patch_text = crate::migrations::read_file_within(patch_path, &settings.root)?
                .ok_or_else(|| InputError::Invalid {
                    path: patch_path.clone(),
                    reason: "no such file".to_owned(),
                })?;
            let unpatched = unpatch(&text, &patch_text).map_err(|reason| InputError::Invalid {
                path: patch_path.clone(),
                reason: format!(
                    "{reason}: it does not come back out of {}; regenerate the schema file and the patch together",
                    relative(&settings.root, &file.path).display()
                ),
            })?;
            parse_schema_rs(patch_path, &unpatched, &mut known)?
        }
    };
    Ok((
        committed.clone(),
        Declared {
            file: relative(&settings.root, &file.path),
            text,
            committed,
            generated,
            filter: file.filter.clone(),
            schema: file.schema.clone(),
        },
    ))
}

/// The committed text with a unified diff reversed out of it. A `git diff` preamble before the
/// first `--- ` line is skipped.
fn unpatch(text: &str, patch: &str) -> Result<String, String> {
    let start = if patch.starts_with("--- ") {
        0
    } else {
        patch
            .find("\n--- ")
            .map(|i| i + 1)
            .ok_or("no `--- ` line: not a unified diff")?
    };
    let parsed = diffy::Patch::from_str(&patch[start..]).map_err(|e| e.to_string())?;
    diffy::apply(text, &parsed.reverse()).map_err(|e| e.to_string())
}

/// A tree's files, read and parsed but not replayed.
pub(crate) fn read_files(settings: &Settings) -> Result<Snapshot, InputError> {
    // The migrations are read while the Rust files are parsed.
    std::thread::scope(|scope| {
        let migrations = scope.spawn(|| read_migrations(&settings.migrations_dir));
        let rust = read_rust(settings);
        let migrations = migrations.join().unwrap_or_else(|_| {
            Err(InputError::Invalid {
                path: settings.migrations_dir.clone(),
                reason: "reading the migrations failed".to_owned(),
            })
        })?;
        Ok(snapshot(settings, migrations, rust?))
    })
}

/// [`read_files`] with the migrations already read (a revision's, from git).
pub(crate) fn read_files_with(
    settings: &Settings,
    migrations: Vec<Migration>,
) -> Result<Snapshot, InputError> {
    Ok(snapshot(settings, migrations, read_rust(settings)?))
}

/// Every schema file: their tables together, and each as declared.
fn read_all_declared(settings: &Settings) -> Result<(Option<SchemaRs>, Vec<Declared>), InputError> {
    let mut schema_rs: Option<SchemaRs> = None;
    let mut declared = Vec::new();
    for file in &settings.schema_files {
        let (committed, one) = read_declared(settings, file)?;
        match &mut schema_rs {
            Some(all) => {
                all.tables.extend(committed.tables);
                all.joinables.extend(committed.joinables);
            }
            None => schema_rs = Some(committed),
        }
        declared.push(one);
    }
    Ok((schema_rs, declared))
}

/// What the workspace's Rust files and API schemas say.
pub(crate) struct Rust {
    schema_rs: Option<SchemaRs>,
    declared: Vec<Declared>,
    models: Vec<Model>,
    api: BTreeMap<String, ApiSchema>,
}

pub(crate) fn read_rust(settings: &Settings) -> Result<Rust, InputError> {
    // The schema files and the models are parsed side by side: each can be most of the work.
    let (declared, (models, errors)) = rayon::join(
        || read_all_declared(settings),
        || models::read_models(&settings.root, &settings.code_folders()),
    );
    let (schema_rs, declared) = declared?;
    if let Some(error) = errors.first() {
        return Err(InputError::Invalid {
            path: settings.root.join(&error.file),
            reason: format!("line {}: {}", error.line, error.message),
        });
    }
    let api = api::read_api(&settings.root, &settings.api_dir)?;
    Ok(Rust {
        schema_rs,
        declared,
        models,
        api,
    })
}

pub(crate) fn snapshot(settings: &Settings, migrations: Vec<Migration>, rust: Rust) -> Snapshot {
    Snapshot {
        migrations,
        replayed: Vec::new(),
        schema_rs: rust.schema_rs,
        declared: rust.declared,
        models: rust.models,
        api: rust.api,
        migrations_dir: relative(&settings.root, &settings.migrations_dir),
    }
}
