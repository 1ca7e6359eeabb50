//! A snapshot: what the checker reads of one tree (the head, or the base from git).

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::api::{self, ApiSchema};
use super::models::{self, Model};
use super::relative;
use super::schema_rs::{self, SchemaRs};
use super::settings::Settings;
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
    pub schema_rs: Option<SchemaRs>,
    pub models: Vec<Model>,
    pub api: BTreeMap<String, ApiSchema>,
    /// Paths as findings show them: relative to the workspace root.
    pub migrations_dir: PathBuf,
}

impl Snapshot {
    pub fn schema(&self) -> Schema {
        self.replayed.last().cloned().unwrap_or_default()
    }
}

/// What the checker reads of one tree, replayed.
pub fn read_snapshot(settings: &Settings) -> Result<Snapshot, InputError> {
    let (mut snapshot, _) = read_files(settings)?;
    snapshot.replayed = replay_each(&snapshot.migrations);
    Ok(snapshot)
}

/// A tree's files, read and parsed but not replayed, and the text of its `schema.rs`.
pub(crate) fn read_files(settings: &Settings) -> Result<(Snapshot, Option<String>), InputError> {
    let migrations = read_migrations(&settings.migrations_dir)?;
    let (schema_rs, schema_rs_text) = match settings.schema_rs.as_deref().filter(|p| p.is_file()) {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| InputError::io(path, e))?;
            let declared = schema_rs::parse(&text).map_err(|e| InputError::Invalid {
                path: path.to_path_buf(),
                reason: format!("line {}, column {}: {}", e.line, e.column, e.message),
            })?;
            (Some(declared), Some(text))
        }
        None => (None, None),
    };
    let (models, errors) = match settings.models_dir.as_deref() {
        Some(dir) => models::read_models(&settings.root, dir),
        None => Default::default(),
    };
    if let Some(error) = errors.first() {
        return Err(InputError::Invalid {
            path: settings.root.join(&error.file),
            reason: format!("line {}: {}", error.line, error.message),
        });
    }
    let api = api::read_api(&settings.root, &settings.api_dir)?;
    let snapshot = Snapshot {
        migrations,
        replayed: Vec::new(),
        schema_rs,
        models,
        api,
        migrations_dir: relative(&settings.root, &settings.migrations_dir),
    };
    Ok((snapshot, schema_rs_text))
}
