//! The migrations directory, read by `plumb-migrations` (the one reader every crate shares).

pub use plumb_migrations::{Migration, POST_DEPLOY_MARK};

use std::path::Path;

use crate::error::InputError;

/// Reads every migration of `dir`, in the order diesel applies them.
pub fn read_migrations(dir: &Path) -> Result<Vec<Migration>, InputError> {
    plumb_migrations::read_migrations(dir).map_err(InputError::from)
}

/// [`read_migrations`], where a symbolic link may point anywhere inside the workspace `root`.
pub fn read_migrations_within(dir: &Path, root: &Path) -> Result<Vec<Migration>, InputError> {
    plumb_migrations::read_migrations_within(dir, root).map_err(InputError::from)
}

/// A workspace file, read only when it is a regular file or a symbolic link to one inside
/// `root`; `None` when it does not exist.
pub fn read_file_within(path: &Path, root: &Path) -> Result<Option<String>, InputError> {
    plumb_migrations::read_file_within(path, root).map_err(InputError::from)
}

/// Migrations from texts not on disk (a scaffold's, before it writes them): each path is
/// `<folder>/up.sql` and the like, relative to `dir`.
pub fn migrations_from_files(
    dir: &Path,
    files: impl IntoIterator<Item = (String, std::sync::Arc<str>)>,
) -> Result<Vec<Migration>, InputError> {
    plumb_migrations::migrations_from_files(dir, files).map_err(InputError::from)
}
