use std::path::{Path, PathBuf};

/// Input the checker could not read: exit code 2, with the reason and the place.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
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

impl InputError {
    /// The file or folder that could not be read.
    pub fn path(&self) -> &Path {
        match self {
            InputError::Io { path, .. }
            | InputError::Invalid { path, .. }
            | InputError::At { path, .. } => path,
        }
    }

    /// Why, without the path.
    pub fn reason(&self) -> String {
        match self {
            InputError::Io { source, .. } => source.to_string(),
            InputError::Invalid { reason, .. } => reason.clone(),
            InputError::At {
                line,
                column,
                reason,
                ..
            } => format!("line {line}, column {column}: {reason}"),
        }
    }

    /// The 1-based line and column in the file, when the error has one.
    pub fn place(&self) -> Option<(usize, usize)> {
        match self {
            InputError::At { line, column, .. } => Some((*line, *column)),
            _ => None,
        }
    }

    pub fn io(path: &Path, source: std::io::Error) -> Self {
        InputError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

impl From<plumb_migrations::ReadError> for InputError {
    fn from(error: plumb_migrations::ReadError) -> Self {
        match error {
            plumb_migrations::ReadError::Io { path, source } => InputError::Io { path, source },
            plumb_migrations::ReadError::Invalid { path, reason } => {
                InputError::Invalid { path, reason }
            }
            plumb_migrations::ReadError::At {
                path,
                line,
                column,
                reason,
            } => InputError::At {
                path,
                line,
                column,
                reason,
            },
        }
    }
}
