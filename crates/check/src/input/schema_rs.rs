//! `schema.rs`, read by `plumb-schema-rs` (the one reader every crate shares).

pub use plumb_schema_rs::*;
