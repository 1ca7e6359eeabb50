//! The migrations directory, read by `plumb-migrations` (the one reader every crate shares).

pub use plumb_migrations::{Migration, POST_DEPLOY_MARK};

use std::path::Path;

use crate::error::InputError;

/// Reads every migration of `dir`, in the order diesel applies them.
pub fn read_migrations(dir: &Path) -> Result<Vec<Migration>, InputError> {
    plumb_migrations::read_migrations(dir).map_err(InputError::from)
}
