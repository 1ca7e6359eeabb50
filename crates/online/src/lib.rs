//! The operations plumb runs against a production PostgreSQL.
//!
//! - [`fleet`]: the runner over many databases, a canary then waves, halting at a failure.
//! - [`runner`]: migrations applied in deploy phases, each attempt under `lock_timeout` with
//!   bounded, jittered retries ([`LockPolicy`]), one runner at a time.
//! - [`backfill`]: a column filled in resumable keyset batches sized to a target time, each
//!   waiting while a standby is behind or the primary is in trouble ([`replicas`]).
//! - [`not_null`]: how a column stands before `plumb not-null` writes and applies its NOT NULL
//!   migrations.
//!
//! The server, its URL and the migration folders come from `plumb-pg`.

pub mod backfill;
pub mod fleet;
mod lock_retry;
pub mod not_null;
pub mod replicas;
pub mod runner;

pub use lock_retry::{Attempts, LockPolicy, Retry};
pub use plumb_pg::{DatabaseUrl, OnlineError, Result};
