//! Family L, live: what a fresh database shows when the migrations run on it. The live stage (a
//! crate of its own, which starts PostgreSQL) produces these findings; they are defined here so
//! that [`super::RULES`] lists every rule.

use crate::finding::{Rule, Severity};

pub const LIVE_MIGRATION_FAILED: Rule = Rule {
    code: "L001",
    name: "live-migration-failed",
    severity: Severity::Error,
    summary: "migration PostgreSQL refuses on a fresh database",
};

pub const LIVE_DOWN_NOT_REVERSING: Rule = Rule {
    code: "L002",
    name: "live-down-not-reversing",
    severity: Severity::Error,
    summary: "down.sql that does not restore the schema up.sql changed",
};

pub const LIVE_REPLAY_MISMATCH: Rule = Rule {
    code: "L003",
    name: "live-replay-mismatch",
    severity: Severity::Warning,
    summary: "schema the database reports differs from the static replay",
};

pub const LIVE_SCHEMA_RS_DRIFT: Rule = Rule {
    code: "L004",
    name: "live-schema-rs-drift",
    severity: Severity::Error,
    summary: "schema.rs that does not match the migrated database",
};

pub const LIVE_TABLE_REWRITE: Rule = Rule {
    code: "L005",
    name: "live-table-rewrite",
    severity: Severity::Error,
    summary: "migration rewrote a table or index that existed before it",
};

pub const LIVE_LONG_EXCLUSIVE_LOCK: Rule = Rule {
    code: "L006",
    name: "live-long-exclusive-lock",
    severity: Severity::Error,
    summary: "migration held ACCESS EXCLUSIVE on an existing table longer than the threshold",
};
