//! The rules, one file each, in a folder per family: M migration safety, S schema and backend,
//! C column coverage, A API compatibility, D deploy compatibility, L live (defined here, run by
//! the live stage).
//!
//! A rule's file holds everything the rule knows: its `RULE` constant (code, name, severity,
//! summary), the function that checks it, its private helpers, and its tests — the safe forms and
//! the unsafe one, with an insta snapshot of the message.
//!
//! To add a rule:
//! 1. one new file in the family's folder, with the constant, the check function and the tests;
//! 2. one line in [`RULES`] below, in code order;
//! 3. one line in the family's driver (`check_statement` in `m/mod.rs`, `check` in the others'
//!    `mod.rs`);
//! 4. one docs page, `docs/rules/<name>.md`, and its line in `docs/rules/README.md`.

pub mod a;
pub mod c;
pub mod d;
pub mod l;
pub mod m;
pub mod s;

use std::path::Path;

use crate::finding::{Finding, Rule};
use crate::input::registry::Registry;
use crate::input::schema_rs::SchemaRs;
use crate::input::snapshot::Snapshot;
use crate::sql::schema::Schema;
use crate::suppress;

/// Every rule, in code order.
pub const RULES: &[Rule] = &[
    m::add_column_required::RULE,
    m::add_column_rewrite::RULE,
    m::set_not_null_scan::RULE,
    m::index_not_concurrent::RULE,
    m::drop_index_not_concurrent::RULE,
    m::concurrently_in_transaction::RULE,
    m::constraint_without_not_valid::RULE,
    m::validate_same_transaction::RULE,
    m::unique_without_index::RULE,
    m::column_type_rewrite::RULE,
    m::rename_column::RULE,
    m::rename_table::RULE,
    m::drop_column_pre_deploy::RULE,
    m::unbatched_update::RULE,
    m::lock_timeout_missing::RULE,
    m::drop_table_pre_deploy::RULE,
    m::down_missing::RULE,
    m::syntax_error::RULE,
    m::lock_timeout_above_policy::RULE,
    m::not_analysed::RULE,
    m::index_concurrently_partitioned::RULE,
    m::attach_partition_scan::RULE,
    m::detach_partition_blocking::RULE,
    m::create_partition_blocking::RULE,
    l::LIVE_MIGRATION_FAILED,
    l::LIVE_DOWN_NOT_REVERSING,
    l::LIVE_REPLAY_MISMATCH,
    l::LIVE_SCHEMA_RS_DRIFT,
    l::LIVE_TABLE_REWRITE,
    l::LIVE_LONG_EXCLUSIVE_LOCK,
    s::schema_rs_missing_table::RULE,
    s::schema_rs_missing_column::RULE,
    s::schema_rs_extra_column::RULE,
    s::schema_rs_type_mismatch::RULE,
    s::schema_rs_nullability_mismatch::RULE,
    s::model_unknown_column::RULE,
    s::model_field_nullability::RULE,
    s::model_field_type::RULE,
    s::insert_missing_required_column::RULE,
    c::column_unregistered::RULE,
    c::registry_stale::RULE,
    c::exposed_type_mismatch::RULE,
    c::sensitive_exposed::RULE,
    a::api_request_field_required::RULE,
    a::api_response_field_removed::RULE,
    a::api_response_field_optional::RULE,
    a::api_response_nullable::RULE,
    a::api_type_changed::RULE,
    a::api_enum_changed::RULE,
    a::api_published_schema_edited::RULE,
    a::api_version_removed::RULE,
    a::API_SCHEMA_STALE,
    d::deploy_drop_used_column::RULE,
    d::deploy_rename_used_column::RULE,
    d::deploy_type_change_used_column::RULE,
    d::deploy_new_required_column::RULE,
    d::deploy_column_made_nullable::RULE,
    d::deploy_code_before_schema::RULE,
    d::deploy_insert_before_relaxed::RULE,
    d::deploy_value_not_allowed::RULE,
    d::deploy_upsert_target_missing::RULE,
    d::migration_edited::RULE,
    d::migration_out_of_order::RULE,
    m::unmodelled_statement::RULE,
    suppress::UNUSED_SUPPRESSION,
    suppress::INVALID_SUPPRESSION,
];

/// Families S and C: the head's `schema.rs` (as findings show its path) and model structs
/// against the schema its migrations build; the registry, when `plumb.toml` has one.
pub(crate) fn backend(
    schema: &Schema,
    all: &SchemaRs,
    head: &Snapshot,
    registry: &Registry,
) -> Vec<Finding> {
    let mut found = s::check(schema, &head.declared, all, &head.models);
    if registry.present {
        found.extend(c::check(
            registry,
            Path::new("plumb.toml"),
            schema,
            &head.migrations,
            &head.replayed,
            &head.migrations_dir,
            &head.api,
        ));
    }
    found
}

/// Families A and D: the head against the base, the release that is live.
pub(crate) fn against_base(base: &Snapshot, head: &Snapshot) -> Vec<Finding> {
    let mut found = a::check(base, head);
    found.extend(d::check(base, head));
    found
}

/// What the families' tests share: how a finding is named, placed and shown in a snapshot.
#[cfg(test)]
pub(crate) mod testing {
    use crate::finding::Finding;

    pub(crate) fn codes(found: &[Finding]) -> Vec<&'static str> {
        found.iter().map(|f| f.code).collect()
    }

    /// Where a finding points: `file:line`.
    pub(crate) fn at(f: &Finding) -> String {
        format!("{}:{}", f.span.file.display(), f.span.line)
    }

    /// A finding as a snapshot shows it: where, what, and the help.
    pub(crate) fn shown(f: &Finding) -> String {
        format!(
            "{}:{}: {}\n= help: {}",
            f.span.file.display(),
            f.span.line,
            f.message,
            f.help
        )
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::RULES;

    fn sources(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((path, text));
            }
        }
    }

    #[test]
    fn no_two_rules_share_a_code_or_a_name() {
        for (i, rule) in RULES.iter().enumerate() {
            for other in &RULES[i + 1..] {
                assert_ne!(rule.code, other.code);
                assert_ne!(rule.name, other.name);
            }
        }
    }

    /// A rule's code is written once, in its own file: anything else refers to its constant.
    #[test]
    fn each_code_is_written_only_in_its_rules_file() {
        let mut files = Vec::new();
        sources(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        for rule in RULES {
            let quoted = format!("\"{}\"", rule.code);
            let holders: Vec<&Path> = files
                .iter()
                .filter(|(_, text)| text.contains(&quoted))
                .map(|(path, _)| path.as_path())
                .collect();
            assert_eq!(holders.len(), 1, "{} is written in {holders:?}", rule.code);
            let defines = files.iter().any(|(path, text)| {
                path == holders[0] && text.contains(&format!("code: {quoted}"))
            });
            assert!(defines, "{} is not defined where it is written", rule.code);
        }
    }
}
