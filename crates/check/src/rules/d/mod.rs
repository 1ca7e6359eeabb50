//! Family D, deploy compatibility: the release that is live (the base) keeps running while the
//! head's pre-deploy migrations apply, and released migrations stay as they were. The walk over
//! the head's new pre-deploy migrations and the columns the live code uses is here; each rule
//! judges one.

pub mod deploy_drop_used_column;
pub mod deploy_new_required_column;
pub mod deploy_rename_used_column;
pub mod deploy_type_change_used_column;
pub mod migration_edited;
pub mod migration_out_of_order;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::finding::Finding;
use crate::input::models::Role;
use crate::input::snapshot::Snapshot;
use crate::migrations::Migration;
use crate::sql::schema::Schema;

/// Every D finding: the released history first, then each new pre-deploy migration.
pub fn check(base: &Snapshot, head: &Snapshot) -> Vec<Finding> {
    let mut out = Vec::new();
    migration_edited::check(base, head, &mut out);
    migration_out_of_order::check(base, head, &mut out);
    deploy(base, head, &mut out);
    out
}

/// One new pre-deploy migration of the head, as the D rules look at it.
#[derive(Debug)]
struct Step<'s> {
    migration: &'s Migration,
    /// Its up.sql, as findings show it.
    file: PathBuf,
    before: Schema,
    after: &'s Schema,
}

impl Step<'_> {
    /// The line of up.sql that first names `word` (1 if none).
    fn line_naming(&self, word: &str) -> usize {
        self.migration
            .up
            .lines()
            .position(|l| l.contains(word))
            .map_or(1, |i| i + 1)
    }
}

fn deploy(base: &Snapshot, head: &Snapshot, out: &mut Vec<Finding>) {
    let Some(base_rs) = &base.schema_rs else {
        return;
    };
    // What the live code knows: every column of its schema.rs, by SQL name.
    let used: BTreeSet<(String, String)> = base_rs
        .tables
        .iter()
        .flat_map(|t| t.columns.iter().map(|c| (t.name.clone(), c.name.clone())))
        .collect();
    let base_schema = base.schema();
    let released: BTreeSet<&str> = base.migrations.iter().map(|m| m.name.as_str()).collect();
    // The columns each live insertable provides, per table.
    let mut inserted: BTreeMap<String, Vec<BTreeSet<String>>> = BTreeMap::new();
    for model in base
        .models
        .iter()
        .filter(|m| m.roles.contains(&Role::Inserts))
    {
        if let Some(table) = base_rs.tables.iter().find(|t| t.rust_name == model.table) {
            let columns = model
                .fields
                .iter()
                .filter_map(|f| table.columns.iter().find(|c| c.rust_name == f.column))
                .map(|c| c.name.clone())
                .collect();
            inserted
                .entry(table.name.clone())
                .or_default()
                .push(columns);
        }
    }
    for (index, migration) in head.migrations.iter().enumerate() {
        if released.contains(migration.name.as_str()) || migration.post_deploy {
            continue;
        }
        let step = Step {
            migration,
            file: head.migrations_dir.join(&migration.name).join("up.sql"),
            before: if index == 0 {
                Schema::default()
            } else {
                head.replayed[index - 1].clone()
            },
            after: &head.replayed[index],
        };
        for (table, column) in &used {
            let Some(old) = step.before.tables.get(table).and_then(|t| t.column(column)) else {
                continue;
            };
            if base_schema
                .tables
                .get(table)
                .and_then(|t| t.column(column))
                .is_none()
            {
                continue;
            }
            match step.after.tables.get(table).and_then(|t| t.column(column)) {
                // A column gone under a new name is renamed, else dropped.
                None => {
                    if !deploy_rename_used_column::check(&step, table, column, old, out) {
                        deploy_drop_used_column::check(&step, table, column, out);
                    }
                }
                Some(new) => {
                    deploy_type_change_used_column::check(&step, table, column, old, new, out)
                }
            }
        }
        deploy_new_required_column::check(&step, &inserted, out);
    }
}
