//! Fresh-database verification: every migration applies, reverts and applies again.

use std::fmt;
use std::path::PathBuf;

use diesel::migration::MigrationConnection;
use diesel::result::{DatabaseErrorInformation, Error as DieselError};
use diesel_migrations::MigrationHarness;

use crate::conninfo::one_line;
use crate::migrations::{MigrationFolder, MigrationFolders, Script, ScriptError, ScriptFailure};
use crate::server::PgServer;
use crate::testdb::TestDatabase;
use crate::{OnlineError, Result};

/// Which pass over the migrations failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    Up,
    Down,
    UpAgain,
}

impl Pass {
    fn script(self) -> Script {
        match self {
            Pass::Up | Pass::UpAgain => Script::Up,
            Pass::Down => Script::Down,
        }
    }
}

impl fmt::Display for Pass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Pass::Up => "applying",
            Pass::Down => "reverting",
            Pass::UpAgain => "applying again after reverting",
        })
    }
}

/// A migration PostgreSQL refused, with the place in the file when PostgreSQL gave one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationFailure {
    pub folder: String,
    pub pass: Pass,
    pub file: PathBuf,
    /// 1-based line and column of the statement position PostgreSQL reported.
    pub position: Option<(usize, usize)>,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

impl fmt::Display for MigrationFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((line, column)) = self.position {
            write!(f, ":{line}:{column}")?;
        }
        write!(
            f,
            ": {} {} failed: {}",
            self.pass, self.folder, self.message
        )?;
        if let Some(detail) = &self.detail {
            write!(f, "\n  detail: {detail}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// What the verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub migrations: usize,
    /// The first failure; later migrations depend on it, so nothing after it ran.
    pub failure: Option<MigrationFailure>,
}

/// Creates an empty database on `server`, applies every migration of `dir` in diesel's order,
/// reverts them all, applies them again, and drops the database.
pub fn verify_migrations(server: &PgServer, folders: &MigrationFolders) -> Result<Verification> {
    let database = TestDatabase::empty(server)?;
    let mut conn = database.connect()?;
    // What `run_pending_migrations` does first: create `__diesel_schema_migrations`.
    conn.setup().map_err(|source| OnlineError::Query {
        context: "creating diesel's migrations table".to_owned(),
        target: database.url().describe(),
        source,
    })?;
    let count = folders.folders.len();

    let passes: [(Pass, Box<dyn Iterator<Item = &MigrationFolder>>); 3] = [
        (Pass::Up, Box::new(folders.folders.iter())),
        (Pass::Down, Box::new(folders.folders.iter().rev())),
        (Pass::UpAgain, Box::new(folders.folders.iter())),
    ];
    for (pass, order) in passes {
        for folder in order {
            tracing::debug!(%pass, migration = %folder.name, "migration");
            let outcome = match pass {
                Pass::Up | Pass::UpAgain => conn.run_migration(folder).map(drop),
                Pass::Down => conn.revert_migration(folder).map(drop),
            };
            if let Err(error) = outcome {
                let failure = describe_failure(folder, pass, error.as_ref());
                return Ok(Verification {
                    migrations: count,
                    failure: Some(failure),
                });
            }
        }
    }
    Ok(Verification {
        migrations: count,
        failure: None,
    })
}

fn describe_failure(
    folder: &MigrationFolder,
    pass: Pass,
    error: &(dyn std::error::Error + Send + Sync + 'static),
) -> MigrationFailure {
    let mut failure = MigrationFailure {
        folder: folder.name.clone(),
        pass,
        file: folder.script(pass.script()),
        position: None,
        message: one_line(&error.to_string()),
        detail: None,
        hint: None,
    };
    if let Some(ScriptError { source, .. }) = error.downcast_ref::<ScriptError>() {
        match source {
            ScriptFailure::Sql(DieselError::DatabaseError(_, info)) => {
                failure.message = one_line(info.message());
                failure.detail = info.details().map(one_line);
                failure.hint = info.hint().map(one_line);
                failure.position = position_in_file(&failure.file, info.as_ref());
            }
            other => failure.message = one_line(&other.to_string()),
        }
    }
    failure
}

/// PostgreSQL reports a 1-based character offset into the query string, and diesel sends the
/// whole file as that string.
fn position_in_file(
    file: &std::path::Path,
    info: &dyn DatabaseErrorInformation,
) -> Option<(usize, usize)> {
    let offset = usize::try_from(info.statement_position()?)
        .ok()?
        .checked_sub(1)?;
    let text = std::fs::read_to_string(file).ok()?;
    line_and_column(&text, offset)
}

fn line_and_column(text: &str, char_offset: usize) -> Option<(usize, usize)> {
    let mut line = 1;
    let mut column = 1;
    for (index, ch) in text.chars().enumerate() {
        if index == char_offset {
            return Some((line, column));
        }
        if ch == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::line_and_column;

    #[test]
    fn offsets_count_characters_not_bytes() {
        let text = "-- café\nSELEC 1;\n";
        assert_eq!(line_and_column(text, 0), Some((1, 1)));
        assert_eq!(line_and_column(text, 8), Some((2, 1)));
        assert_eq!(line_and_column(text, 100), None);
    }
}
