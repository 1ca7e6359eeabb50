//! The live stage: on a fresh database, the migrations production has (history) applied as
//! they are; each new one applied while it is observed, compared with the static replay,
//! reverted and compared with the catalog before it, and applied again; at the end `schema.rs`
//! against the migrated database. Findings are family L.
//!
//! [`stage::run`] is the whole stage for a workspace, with its report and exit code, as
//! `plumb live` and `check-contract` print it; [`verify::verify_migrations`] is the engine.

pub mod catalog;
pub mod history;
mod replay_compare;
mod schema_drift;
mod seed;
pub mod stage;
pub mod verify;

pub use history::History;
pub use stage::{LiveStage, StageError};
pub use verify::{LiveOptions, MigrationFailure, Step, Treatment, Verification};
