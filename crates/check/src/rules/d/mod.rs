//! Family D, deploy compatibility: the release that is live (the base) keeps running while the
//! head's pre-deploy migrations apply, and released migrations stay as they were. The walk over
//! the head's new pre-deploy migrations and the columns the live code uses is here; each rule
//! judges one.

pub mod deploy_code_before_schema;
pub mod deploy_column_made_nullable;
pub mod deploy_drop_used_column;
pub mod deploy_insert_before_relaxed;
pub mod deploy_new_required_column;
pub mod deploy_rename_used_column;
pub mod deploy_type_change_used_column;
pub mod deploy_upsert_target_missing;
pub mod deploy_value_not_allowed;
pub mod migration_edited;
pub mod migration_out_of_order;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::finding::Finding;
use crate::input::models::{Model, Role};
use crate::input::snapshot::Snapshot;
use crate::migrations::Migration;
use crate::sql::schema::Schema;

/// Every D finding: the released history first, then each new pre-deploy migration (the live
/// code against the schema they leave), then the new code against the schema it starts on.
pub fn check(base: &Snapshot, head: &Snapshot) -> Vec<Finding> {
    let mut out = Vec::new();
    migration_edited::check(base, head, &mut out);
    migration_out_of_order::check(base, head, &mut out);
    deploy(base, head, &mut out);
    new_code(base, head, &mut out);
    out
}

/// The schema the new release starts on, where it differs from the final one: the head's
/// migrations less its new post-deploy ones, which run once it alone serves.
#[derive(Debug)]
struct Starting<'s> {
    schema: Schema,
    /// The new post-deploy migrations, each with the schema after it.
    later: Vec<(&'s Migration, &'s Schema)>,
}

impl<'s> Starting<'s> {
    fn of(base: &Snapshot, head: &'s Snapshot) -> Option<Starting<'s>> {
        let released: BTreeSet<&str> = base.migrations.iter().map(|m| m.name.as_str()).collect();
        let later_now = |m: &Migration| m.post_deploy && !released.contains(m.name.as_str());
        let first = head.migrations.iter().position(later_now)?;
        let before = match first {
            0 => Schema::default(),
            _ => head.replayed.get(first - 1)?.clone(),
        };
        let rest: Vec<Migration> = head.migrations[first..]
            .iter()
            .filter(|m| !later_now(m))
            .cloned()
            .collect();
        Some(Starting {
            schema: crate::sql::replay_onto(before, &rest),
            later: head
                .migrations
                .iter()
                .zip(&head.replayed)
                .filter(|(m, _)| later_now(m))
                .collect(),
        })
    }

    /// The first new post-deploy migration after which `holds` is true of the schema.
    fn by(&self, holds: impl Fn(&Schema) -> bool) -> Option<&'s Migration> {
        self.later.iter().find(|(_, s)| holds(s)).map(|(m, _)| *m)
    }
}

/// The new code against the schema it starts on: only where the head has new post-deploy
/// migrations is that schema not the final one, which family S checks.
fn new_code(base: &Snapshot, head: &Snapshot, out: &mut Vec<Finding>) {
    let Some(starting) = Starting::of(base, head) else {
        return;
    };
    deploy_code_before_schema::check(head, &starting, out);
    deploy_insert_before_relaxed::check(&starting, &inserts(head), out);
    deploy_value_not_allowed::new_code(head, &starting, out);
    deploy_upsert_target_missing::new_code(head, &starting, out);
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
    /// The line of up.sql that names `column` of `table` (see [`line_naming`]).
    fn line_naming(&self, table: &str, column: &str) -> usize {
        crate::sql::source::line_naming(&self.migration.up, table, column)
    }

    /// The new name of `table.column` when up.sql renames it (`ALTER TABLE ... RENAME COLUMN`),
    /// and the line of that action.
    fn renamed(&self, table: &str, column: &str) -> Option<(String, usize)> {
        use crate::sql::parse::{Action, StatementKind, parse_guarded};
        let bare = |name: &str| name.strip_prefix("public.").unwrap_or(name).to_owned();
        let parsed = parse_guarded(&self.migration.up);
        parsed.statements.iter().find_map(|statement| {
            let StatementKind::AlterTable {
                table: altered,
                actions,
                ..
            } = &statement.kind
            else {
                return None;
            };
            if bare(altered) != bare(table) {
                return None;
            }
            actions.iter().find_map(|(range, action)| match action {
                Action::RenameColumn { from, to } if from == column => Some((
                    to.clone(),
                    self.migration.up[..range.0].matches('\n').count() + 1,
                )),
                _ => None,
            })
        })
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
    let inserted = inserts(base);
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
                    deploy_type_change_used_column::check(&step, table, column, old, new, out);
                    let declared = base_rs
                        .tables
                        .iter()
                        .find(|t| &t.name == table)
                        .and_then(|t| t.columns.iter().find(|c| &c.name == column))
                        .filter(|c| !c.sql_type.starts_with("Nullable<"));
                    // The new code can write NULL only through a `Nullable` column.
                    let head_nullable = head.schema_rs.as_ref().is_some_and(|rs| {
                        rs.tables
                            .iter()
                            .filter(|t| &t.name == table)
                            .flat_map(|t| &t.columns)
                            .any(|c| &c.name == column && c.sql_type.starts_with("Nullable<"))
                    });
                    if let Some(declared) = declared
                        && !old.nullable
                        && new.nullable
                        && head_nullable
                    {
                        let readers: Vec<&Model> = base
                            .models
                            .iter()
                            .filter(|m| {
                                base_rs
                                    .tables
                                    .iter()
                                    .any(|t| &t.name == table && t.rust_name == m.table)
                            })
                            .collect();
                        deploy_column_made_nullable::check(
                            &step,
                            table,
                            (column, &declared.rust_name),
                            &readers,
                            out,
                        );
                    }
                }
            }
        }
        deploy_new_required_column::check(&step, &inserted, out);
        deploy_value_not_allowed::live(&step, base, out);
        deploy_upsert_target_missing::live(&step, base, out);
    }
}

/// The columns each insertable struct of a tree provides, per table (by SQL name).
pub(super) type Inserts<'s> = BTreeMap<String, Vec<(&'s Model, BTreeSet<String>)>>;

fn inserts(tree: &Snapshot) -> Inserts<'_> {
    let mut inserted: Inserts<'_> = BTreeMap::new();
    let Some(rs) = &tree.schema_rs else {
        return inserted;
    };
    for model in tree
        .models
        .iter()
        .filter(|m| m.roles.contains(&Role::Inserts))
    {
        if let Some(table) = rs.tables.iter().find(|t| t.rust_name == model.table) {
            let columns = model
                .fields
                .iter()
                .filter_map(|f| table.columns.iter().find(|c| c.rust_name == f.column))
                .map(|c| c.name.clone())
                .collect();
            inserted
                .entry(table.name.clone())
                .or_default()
                .push((model, columns));
        }
    }
    inserted
}

/// Where a struct is, as a message names it: `` `NewAccount` at src/models.rs:11 ``.
pub(super) fn named(model: &Model) -> String {
    format!(
        "`{}` at {}:{}",
        model.name,
        model.file.display(),
        model.line
    )
}

/// Cases of a live release (the backend of family S's tests: one table, its `schema.rs`, a
/// struct that reads it and one that inserts into it) and a head that adds migrations, checked
/// by [`check`].
#[cfg(test)]
pub(crate) mod testing {
    use std::path::Path;

    use crate::finding::Finding;
    use crate::input::models::parse_models;
    use crate::input::schema_rs;
    use crate::input::snapshot::Snapshot;
    use crate::migrations::read_migrations;
    use crate::rules::s::testing::{MODELS, SCHEMA_RS, UP};
    use crate::sql::replay_each;

    /// The live release's one migration, whose up.sql is family S's `UP`.
    pub(crate) const RELEASED: &str = "2026-01-01-000000-0000_accounts";
    /// The name of the migration a head adds.
    pub(crate) const NEXT: &str = "2026-02-01-000000-0000_change";

    /// A tree of these migrations (`(folder, up.sql)`, each with a down.sql), with family S's
    /// `schema.rs` and models as its code.
    pub(crate) fn tree(migrations: &[(&str, &str)]) -> Snapshot {
        tree_with(migrations, SCHEMA_RS, MODELS)
    }

    /// [`tree`], with this code.
    pub(crate) fn tree_with(
        migrations: &[(&str, &str)],
        schema_rs: &str,
        models: &str,
    ) -> Snapshot {
        let dir = tempfile::tempdir().unwrap();
        for (name, up) in migrations {
            let folder = dir.path().join(name);
            std::fs::create_dir_all(&folder).unwrap();
            std::fs::write(folder.join("up.sql"), up).unwrap();
            std::fs::write(folder.join("down.sql"), "SELECT 1;\n").unwrap();
        }
        let migrations = read_migrations(dir.path()).unwrap();
        Snapshot {
            replayed: replay_each(&migrations),
            migrations,
            schema_rs: Some(schema_rs::parse(schema_rs).unwrap()),
            declared: Vec::new(),
            models: parse_models(models, Path::new("src/models.rs")).unwrap(),
            api: Default::default(),
            migrations_dir: "migrations".into(),
        }
    }

    /// The release that is live: [`RELEASED`] alone.
    pub(crate) fn live() -> Snapshot {
        tree(&[(RELEASED, UP)])
    }

    /// The live release plus [`NEXT`], of this up.sql.
    pub(crate) fn next(up: &str) -> Snapshot {
        tree(&[(RELEASED, UP), (NEXT, up)])
    }

    /// Family D on a base and a head.
    pub(crate) fn check(base: &Snapshot, head: &Snapshot) -> Vec<Finding> {
        super::check(base, head)
    }

    pub(crate) use crate::rules::testing::{at, codes, shown};
}

#[cfg(test)]
mod tests {
    use super::testing::{check, live, next};

    /// A new migration that touches nothing the live code uses raises nothing.
    #[test]
    fn a_new_table_is_clean() {
        let head = next("CREATE TABLE notes (id bigserial PRIMARY KEY, body text NOT NULL);\n");
        assert_eq!(check(&live(), &head), []);
    }

    /// Without the live release's schema.rs, nothing says what it uses: the deploy rules are off.
    #[test]
    fn without_the_live_schema_rs_the_deploy_rules_are_off() {
        let mut base = live();
        base.schema_rs = None;
        let head = next("ALTER TABLE accounts DROP COLUMN note;\n");
        assert_eq!(check(&base, &head), []);
    }
}
