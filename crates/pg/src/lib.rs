//! A PostgreSQL to work against, and the ways plumb talks to it.
//!
//! - [`PgServer`]: the server to use — `DATABASE_URL` when it is set, otherwise a
//!   [`ThrowawayCluster`] started from the installed binaries and removed afterwards.
//! - [`TestDatabase`]: a database of its own for each test, cloned from a template that has the
//!   migrations applied, so tests run in parallel.
//! - [`MigrationFolders`]: a migrations directory run through diesel's own harness.
//! - [`error_texts`]: how the server words the errors plumb acts on, learnt from it.
//! - [`observe`]: what a statement does to the locks of other sessions, seen from `pg_locks`.
//!
//! This crate knows nothing of the checker, so the model's and the service's tests get a
//! database without compiling it.

mod binaries;
mod cluster;
mod conninfo;
mod error;
pub mod error_texts;
mod interrupt;
mod migrations;
pub mod observe;
mod process;
pub mod secret_urls;
mod server;
pub mod sql;
mod testdb;

pub use binaries::{PgBinaries, major_of};
pub use cluster::{Standby, ThrowawayCluster, sweep_leftover_clusters};
pub use conninfo::{DatabaseUrl, one_line};
pub use error::OnlineError;
pub use interrupt::{clean_up_on_interrupt, unless_interrupted};
pub use migrations::{MigrationFolder, MigrationFolders, Script, ScriptError, ScriptFailure};
pub use server::PgServer;
pub use testdb::{TestDatabase, sweep_leftover_databases};

pub type Result<T, E = OnlineError> = std::result::Result<T, E>;
