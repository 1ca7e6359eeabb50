//! The commands of `plumb`, also reachable through `cargo xtask`.

pub mod allocator;
pub mod check;
pub mod contract;
pub mod online;
mod progress;
pub mod scaffold;
pub mod schemas;
pub mod stages;
