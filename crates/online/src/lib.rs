//! The operations plumb runs against a production PostgreSQL.
//!
//! - [`runner`]: migrations applied in deploy phases, each attempt under `lock_timeout` with
//!   bounded, jittered retries ([`LockPolicy`]), one runner at a time.
//! - [`backfill`]: a column filled in resumable keyset batches sized to a target time.
//! - [`not_null`]: a column made NOT NULL without a scan under ACCESS EXCLUSIVE.
//!
//! The server, its URL and the migration folders come from `plumb-pg`.

pub mod backfill;
mod lock_retry;
pub mod not_null;
pub mod runner;

pub use lock_retry::{Attempts, LockPolicy, Retry};
pub use plumb_pg::{DatabaseUrl, OnlineError, Result};
