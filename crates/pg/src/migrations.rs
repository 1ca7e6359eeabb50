//! A diesel migrations directory, read the way diesel reads it, and run through diesel's own
//! migration harness.
//!
//! Each folder is its own [`Migration`], rather than diesel's `FileBasedMigrations`, so that a
//! failure keeps PostgreSQL's error whole (message, detail, hint, position in the file).

use std::collections::hash_map::DefaultHasher;
use std::fmt;
use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use diesel::connection::BoxableConnection;
use diesel::migration::{
    self, Migration, MigrationMetadata, MigrationName, MigrationSource, MigrationVersion,
};
use diesel::pg::Pg;

use crate::{OnlineError, Result};

/// One `<version>_<name>` folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationFolder {
    /// The folder's name, e.g. `2026-02-02-100000-0000_add_accounts_display_name`.
    pub name: String,
    /// What diesel records in `__diesel_schema_migrations`: the part before the first `_`,
    /// without dashes.
    pub version: String,
    pub path: PathBuf,
    /// From `metadata.toml`; diesel's default is true.
    pub run_in_transaction: bool,
    /// Marked `-- plumb: post-deploy`: runs once only the new release serves.
    pub post_deploy: bool,
}

/// Which script of a migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    Up,
    Down,
}

impl Script {
    pub fn file_name(self) -> &'static str {
        match self {
            Script::Up => "up.sql",
            Script::Down => "down.sql",
        }
    }
}

/// A script PostgreSQL refused (or that could not be read). The harness hands this back to
/// the live stage as it is.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", file.display())]
pub struct ScriptError {
    pub file: PathBuf,
    pub source: ScriptFailure,
}

#[derive(Debug, thiserror::Error)]
pub enum ScriptFailure {
    #[error("{0}")]
    Read(std::io::Error),
    #[error("the file is empty")]
    Empty,
    #[error("{0}")]
    Sql(diesel::result::Error),
}

impl MigrationFolder {
    pub fn script(&self, script: Script) -> PathBuf {
        self.path.join(script.file_name())
    }

    fn execute(
        &self,
        script: Script,
        conn: &mut dyn BoxableConnection<Pg>,
    ) -> Result<(), ScriptError> {
        let file = self.script(script);
        let fail = |source| ScriptError {
            file: file.clone(),
            source,
        };
        let sql = fs::read_to_string(&file).map_err(|e| fail(ScriptFailure::Read(e)))?;
        if sql.is_empty() {
            return Err(fail(ScriptFailure::Empty));
        }
        conn.batch_execute(&sql)
            .map_err(|e| fail(ScriptFailure::Sql(e)))
    }
}

impl Migration<Pg> for MigrationFolder {
    fn run(&self, conn: &mut dyn BoxableConnection<Pg>) -> migration::Result<()> {
        Ok(self.execute(Script::Up, conn)?)
    }

    fn revert(&self, conn: &mut dyn BoxableConnection<Pg>) -> migration::Result<()> {
        Ok(self.execute(Script::Down, conn)?)
    }

    fn metadata(&self) -> &dyn MigrationMetadata {
        self
    }

    fn name(&self) -> &dyn MigrationName {
        self
    }
}

impl MigrationMetadata for MigrationFolder {
    fn run_in_transaction(&self) -> bool {
        self.run_in_transaction
    }
}

impl MigrationName for MigrationFolder {
    fn version(&self) -> MigrationVersion<'_> {
        MigrationVersion::from(self.version.as_str())
    }
}

impl fmt::Display for MigrationFolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// The migration folders of a directory in the order diesel applies them.
#[derive(Debug, Clone)]
pub struct MigrationFolders {
    pub dir: PathBuf,
    pub folders: Vec<MigrationFolder>,
    /// The same migrations as the checker reads them (their SQL, their post-deploy mark).
    pub migrations: Vec<plumb_migrations::Migration>,
}

impl MigrationFolders {
    /// Reads `dir` as diesel does (through `plumb-migrations`, the one way plumb reads a
    /// migrations directory): every folder not starting with `.` is a migration and must hold
    /// an `up.sql`; they run in the order of their versions.
    pub fn read(dir: &Path) -> Result<Self> {
        let migrations =
            plumb_migrations::read_migrations(dir).map_err(|error| OnlineError::Migrations {
                path: dir.to_path_buf(),
                reason: error.to_string(),
            })?;
        let folders = migrations
            .iter()
            .map(|m| MigrationFolder {
                name: m.name.clone(),
                version: m.version.clone(),
                path: m.dir.clone(),
                run_in_transaction: m.run_in_transaction,
                post_deploy: m.post_deploy,
            })
            .collect();
        Ok(Self {
            dir: dir.to_path_buf(),
            folders,
            migrations,
        })
    }

    /// Changes whenever a folder is added, removed, renamed or any of its files is edited.
    pub fn fingerprint(&self) -> Result<u64> {
        let mut hasher = DefaultHasher::new();
        for folder in &self.folders {
            folder.name.hash(&mut hasher);
            for file in ["up.sql", "down.sql", "metadata.toml"] {
                let path = folder.path.join(file);
                match fs::read(&path) {
                    Ok(bytes) => bytes.hash(&mut hasher),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0u8.hash(&mut hasher),
                    Err(e) => {
                        return Err(OnlineError::io(format!("reading {}", path.display()))(e));
                    }
                }
            }
        }
        Ok(hasher.finish())
    }
}

impl MigrationSource<Pg> for MigrationFolders {
    fn migrations(&self) -> migration::Result<Vec<Box<dyn Migration<Pg>>>> {
        Ok(self
            .folders
            .iter()
            .cloned()
            .map(|f| Box::new(f) as Box<dyn Migration<Pg>>)
            .collect())
    }
}
