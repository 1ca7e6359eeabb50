//! Everything in plumb that talks to a live PostgreSQL.
//!
//! - [`PgServer`]: the server to use — `DATABASE_URL` when it is set, otherwise a
//!   [`ThrowawayCluster`] started from the installed binaries and removed afterwards.
//! - [`TestDatabase`]: a database of its own for each test, cloned from a template that has the
//!   migrations applied, so tests run in parallel.
//! - [`verify`]: migrations applied, reverted and applied again on a fresh database.

pub mod backfill;
mod binaries;
pub mod catalog;
mod cluster;
mod conninfo;
mod error;
mod lock_retry;
mod migrations;
pub mod not_null;
pub mod observe;
mod process;
mod replay_compare;
pub mod runner;
mod schema_drift;
mod seed;
mod server;
mod sql;
mod testdb;
pub mod verify;

pub use binaries::PgBinaries;
pub use cluster::{ThrowawayCluster, sweep_leftover_clusters};
pub use conninfo::DatabaseUrl;
pub use error::OnlineError;
pub use lock_retry::{Attempts, LockPolicy, Retry};
pub use migrations::{MigrationFolder, MigrationFolders};
pub use server::PgServer;
pub use testdb::{TestDatabase, sweep_leftover_databases};

pub type Result<T, E = OnlineError> = std::result::Result<T, E>;
