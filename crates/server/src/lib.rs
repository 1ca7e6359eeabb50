//! The accounts service: `/v1` and `/v2` shaped by `plumb-contract`, on `plumb-model`'s pool.
//!
//! - [`config`]: the environment, validated at start.
//! - [`app`]: routes, JSON errors for malformed input, [`app::launch`].
//! - [`flags`]: schema-aware feature flags; [`admin`]: their endpoints.
//! - [`health`]: `/healthz` and `/readyz`.
//! - [`state`]: the one way handlers reach the database; [`stopping`]: what a stop answers.

pub mod accounts;
pub mod admin;
pub mod app;
pub mod body;
pub mod config;
pub mod error;
pub mod flags;
pub mod health;
pub mod state;
pub mod stopping;
mod validate;

pub use config::Config;
