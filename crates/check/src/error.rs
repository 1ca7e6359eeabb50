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
}

impl InputError {
    /// The file or folder that could not be read.
    pub fn path(&self) -> &Path {
        match self {
            InputError::Io { path, .. } | InputError::Invalid { path, .. } => path,
        }
    }

    /// Why, without the path.
    pub fn reason(&self) -> String {
        match self {
            InputError::Io { source, .. } => source.to_string(),
            InputError::Invalid { reason, .. } => reason.clone(),
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
        }
    }
}
