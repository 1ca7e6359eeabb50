//! The commands of `plumb`, also reachable through `cargo xtask`.

pub mod check;
pub mod online;
mod progress;
pub mod stages;
