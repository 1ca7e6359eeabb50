//! The accounts service's data layer.
//!
//! - [`schema`]: what `diesel print-schema` writes for the migrated database.
//! - [`account`] and [`api_key`]: model structs and the queries on them. Callers use these
//!   functions; SQL does not leave this crate.
//! - [`feature_flag`]: flags stored in the database, changed only through their guard.
//! - [`gate`]: columns that queries name only while their flag is on.
//! - [`schema_state`]: the columns `schema.rs` expects and how the database at hand has them.
//! - [`pool`]: an r2d2 pool whose every connection carries the service's timeouts.
//! - [`MIGRATIONS`]: the repository's `migrations/`, embedded at compile time, and
//!   [`run_pending_migrations`] to apply them.
// Services import this crate: every public item says what it is.
#![deny(missing_docs)]

pub mod account;
pub mod api_key;
pub mod feature_flag;
pub mod gate;
pub mod pool;
#[allow(missing_docs)] // what `diesel print-schema` writes, regenerated, never edited
pub mod schema;
pub mod schema_state;

pub use account::{Account, AccountBase, AccountChanges, AccountStatus, DISPLAY_NAME, NewAccount};
pub use api_key::{ApiKey, NewApiKey};
pub use feature_flag::{FeatureFlag, FlagError};
pub use gate::{GATED_COLUMNS, GatedColumn, Gates};
pub use pool::{PgPool, PoolError, PoolSettings, build_pool};

use diesel_migrations::{EmbeddedMigrations, embed_migrations};

/// Every migration of the repository, in diesel's order. `build.rs` re-embeds them when
/// `migrations/` changes.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// Applies the migrations of [`MIGRATIONS`] that the database of `conn` has not had, in
/// order, each in its own transaction as diesel runs them; gives the versions applied.
pub fn run_pending_migrations(
    conn: &mut diesel::PgConnection,
) -> Result<Vec<String>, Box<dyn std::error::Error + Send + Sync>> {
    use diesel_migrations::MigrationHarness;
    Ok(conn
        .run_pending_migrations(MIGRATIONS)?
        .into_iter()
        .map(|version| version.to_string())
        .collect())
}

/// Keyset pages never return more rows than this, whatever the caller asks.
pub const MAX_PAGE_SIZE: i64 = 500;

fn clamp_page_size(limit: i64) -> i64 {
    limit.clamp(1, MAX_PAGE_SIZE)
}
