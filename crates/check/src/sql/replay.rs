//! Applies statements to the schema model, as PostgreSQL would.

use std::borrow::Cow;
use std::sync::Arc;

use crate::sql::parse::{Action, ColumnDef, ConstraintDef, StatementKind};
use crate::sql::query;
use crate::sql::schema::{
    Column, Constraint, ConstraintKind, DefaultKind, Index, RelationKind, Schema, Table,
};

/// The statement without what its `IF [NOT] EXISTS` makes a no-op against `schema`: a DROP of
/// what is absent, a CREATE or ADD of what is there. What is left is what PostgreSQL does;
/// `Harmless` when that is nothing.
pub fn without_no_ops<'s>(schema: &Schema, kind: &'s StatementKind) -> Cow<'s, StatementKind> {
    let table = |name: &str| schema.tables.get(&schema.resolve(name));
    match kind {
        StatementKind::DropTable {
            tables,
            if_exists: true,
        } => {
            let present: Vec<String> = tables
                .iter()
                .filter(|t| table(t).is_some())
                .cloned()
                .collect();
            if present.len() == tables.len() {
                Cow::Borrowed(kind)
            } else if present.is_empty() {
                Cow::Owned(StatementKind::Harmless)
            } else {
                Cow::Owned(StatementKind::DropTable {
                    tables: present,
                    if_exists: true,
                })
            }
        }
        StatementKind::DropView {
            names,
            if_exists: true,
            ..
        } if names.iter().all(|n| table(n).is_none()) => Cow::Owned(StatementKind::Harmless),
        StatementKind::DropIndex {
            names,
            concurrently,
            if_exists: true,
        } => {
            let present: Vec<String> = names
                .iter()
                .filter(|n| schema.indexes.contains_key(*n))
                .cloned()
                .collect();
            if present.len() == names.len() {
                Cow::Borrowed(kind)
            } else if present.is_empty() {
                Cow::Owned(StatementKind::Harmless)
            } else {
                Cow::Owned(StatementKind::DropIndex {
                    names: present,
                    concurrently: *concurrently,
                    if_exists: true,
                })
            }
        }
        StatementKind::CreateIndex {
            name: Some(name),
            if_not_exists: true,
            ..
        } if schema.indexes.contains_key(name) => Cow::Owned(StatementKind::Harmless),
        StatementKind::CreateTable {
            table: name,
            if_not_exists: true,
            ..
        }
        | StatementKind::CreateRelation {
            name,
            if_not_exists: true,
            ..
        } if table(name).is_some() => Cow::Owned(StatementKind::Harmless),
        StatementKind::AlterTable {
            table: name,
            if_exists: true,
            ..
        } if table(name).is_none() => Cow::Owned(StatementKind::Harmless),
        StatementKind::AlterTable {
            table: name,
            actions,
            if_exists,
        } => {
            let Some(t) = table(name) else {
                return Cow::Borrowed(kind);
            };
            let no_op = |action: &Action| match action {
                Action::AddColumn(def) => def.if_not_exists && t.column(&def.name).is_some(),
                Action::DropColumn {
                    column,
                    if_exists: true,
                } => t.column(column).is_none(),
                _ => false,
            };
            if !actions.iter().any(|(_, a)| no_op(a)) {
                return Cow::Borrowed(kind);
            }
            // The table's lock is taken before PostgreSQL finds the actions have nothing to
            // do: an ALTER TABLE left without actions still waits for it.
            let kept: Vec<_> = actions.iter().filter(|(_, a)| !no_op(a)).cloned().collect();
            Cow::Owned(StatementKind::AlterTable {
                table: name.clone(),
                actions: kept,
                if_exists: *if_exists,
            })
        }
        _ => Cow::Borrowed(kind),
    }
}

/// The name a constraint has: its own, or the one PostgreSQL gives an unnamed constraint.
pub fn constraint_name(table: &str, def: &ConstraintDef) -> String {
    if let Some(name) = &def.name {
        return name.clone();
    }
    let columns = def.columns.join("_");
    match def.kind {
        ConstraintKind::PrimaryKey => format!("{table}_pkey"),
        ConstraintKind::Unique => format!("{table}_{columns}_key"),
        ConstraintKind::ForeignKey => format!("{table}_{columns}_fkey"),
        ConstraintKind::Check if def.columns.len() == 1 => format!("{table}_{columns}_check"),
        ConstraintKind::Check => format!("{table}_check"),
        ConstraintKind::NotNull => format!("{table}_{columns}_not_null"),
        ConstraintKind::Exclude => format!("{table}_{columns}_excl"),
    }
}

fn add_constraint(schema: &mut Schema, table: &str, def: &ConstraintDef) {
    let name = constraint_name(table, def);
    if matches!(
        def.kind,
        ConstraintKind::PrimaryKey | ConstraintKind::Unique
    ) {
        // USING INDEX: the index becomes the constraint's, under the constraint's name.
        let used = def
            .using_index
            .as_ref()
            .and_then(|index| schema.indexes.remove(index));
        let columns = match used {
            Some(index) => index.columns,
            None => (!def.columns.is_empty()).then(|| def.columns.clone()),
        };
        schema.indexes.insert(
            name.clone(),
            Index {
                name: name.clone(),
                table: table.to_owned(),
                unique: true,
                columns,
                awaiting_partitions: false,
            },
        );
    }
    let Some(t) = schema.table_mut(table) else {
        return;
    };
    if def.kind == ConstraintKind::PrimaryKey {
        for column in &def.columns {
            t.column_mut(column)
                .into_iter()
                .for_each(|c| c.nullable = false);
        }
    }
    let proves_not_null = def.proves_not_null.clone();
    if def.kind == ConstraintKind::NotNull
        && !def.not_valid
        && let Some(c) = proves_not_null.as_deref().and_then(|c| t.column_mut(c))
    {
        c.nullable = false;
    }
    t.constraints.retain(|c| c.name != name);
    t.constraints.push(Constraint {
        name,
        kind: def.kind,
        validated: !def.not_valid,
        proves_not_null,
        allows: def.allows.clone(),
        columns: def.columns.clone(),
    });
}

fn add_column(schema: &mut Schema, table: &str, def: &ColumnDef) {
    add_columns(schema, table, std::slice::from_ref(def));
}

/// Adds `defs` at the end of the table's columns; a column of the same name is replaced (the
/// later definition wins). One pass, however many columns a CREATE TABLE lists.
fn add_columns(schema: &mut Schema, table: &str, defs: &[ColumnDef]) {
    if let Some(t) = schema.table_mut(table) {
        let mut named = std::collections::HashSet::new();
        let mut fresh: Vec<Column> = defs
            .iter()
            .rev()
            .filter(|def| named.insert(def.name.as_str()))
            .map(|def| Column {
                name: def.name.clone(),
                sql_type: def.sql_type.clone(),
                nullable: !def.not_null,
                default: match (def.fills_rows, &def.default) {
                    (Some(what), _) => Some(DefaultKind::Volatile {
                        function: what.to_owned(),
                    }),
                    (None, default) => default.clone(),
                },
            })
            .collect();
        fresh.reverse();
        t.columns.retain(|c| !named.contains(c.name.as_str()));
        t.columns.extend(fresh);
    }
    for def in defs {
        column_constraints(schema, table, def);
    }
}

fn column_constraints(schema: &mut Schema, table: &str, def: &ColumnDef) {
    for constraint in &def.constraints {
        if constraint.kind != ConstraintKind::NotNull {
            add_constraint(schema, table, constraint);
        }
    }
}

pub fn apply(schema: &mut Schema, statement: &StatementKind) {
    let statement = without_no_ops(schema, statement);
    apply_effective(schema, &statement);
}

/// [`apply`] of a statement already stripped of its no-ops (as the rules saw it).
pub fn apply_effective(schema: &mut Schema, statement: &StatementKind) {
    match statement {
        StatementKind::CreateTable {
            table,
            columns,
            constraints,
            partitioned,
            partition_key,
            partition_of,
            default_partition,
            ..
        } => {
            let table = &schema.resolve(table);
            let parent = partition_of.as_ref().map(|p| schema.resolve(p));
            // A partition has its parent's columns, and then its own.
            let inherited = parent
                .as_ref()
                .and_then(|p| schema.tables.get(p))
                .map(|p| p.columns.clone())
                .unwrap_or_default();
            schema.tables.insert(
                table.clone(),
                Arc::new(Table {
                    name: table.clone(),
                    columns: inherited,
                    partitioned: *partitioned,
                    partition_key: partition_key.clone(),
                    default_partition: *default_partition && parent.is_some(),
                    partition_of: parent,
                    ..Table::default()
                }),
            );
            add_columns(schema, table, columns);
            for constraint in constraints {
                add_constraint(schema, table, constraint);
            }
        }
        StatementKind::CreateRelation {
            name,
            kind,
            query,
            column_names,
            ..
        } => {
            let name = schema.resolve(name);
            let mut columns = query::columns(query, schema);
            for (column, rename) in columns.iter_mut().zip(column_names) {
                column.name = rename.clone();
            }
            schema.tables.insert(
                name.clone(),
                Arc::new(Table {
                    name,
                    kind: *kind,
                    columns,
                    ..Table::default()
                }),
            );
        }
        StatementKind::DropView { names, .. } => {
            for name in names {
                let name = schema.resolve(name);
                if schema
                    .tables
                    .get(&name)
                    .is_some_and(|t| t.kind != RelationKind::Table)
                {
                    schema.tables.remove(&name);
                    schema.drop_indexes_of(&name);
                }
            }
        }
        StatementKind::CreateFunction { name, sets_new } => {
            schema.functions.insert(name.clone(), sets_new.clone());
        }
        StatementKind::CreateTrigger {
            table,
            function,
            before_insert: true,
        } => {
            let columns = schema.functions.get(function).cloned().unwrap_or_default();
            let table = schema.resolve(table);
            if let Some(t) = schema.table_mut(&table) {
                for column in columns {
                    if !t.set_by_trigger.contains(&column) {
                        t.set_by_trigger.push(column);
                    }
                }
            }
        }
        StatementKind::SetSearchPath { schemas } => schema.search_path = schemas.clone(),
        StatementKind::AlterTable { table, actions, .. } => {
            let table = &schema.resolve(table);
            for (_, action) in actions {
                apply_action(schema, table, action);
                // A column added, dropped or renamed on a partitioned table is so on each of
                // its partitions.
                if matches!(
                    action,
                    Action::AddColumn(_) | Action::DropColumn { .. } | Action::RenameColumn { .. }
                ) {
                    let mut below = schema.partitions_of(table);
                    while let Some(partition) = below.pop() {
                        apply_action(schema, &partition, action);
                        below.extend(schema.partitions_of(&partition));
                    }
                }
            }
        }
        StatementKind::CreateIndex {
            name: Some(name),
            table,
            unique,
            columns,
            only,
            ..
        } => {
            let table = schema.resolve(table);
            let awaiting_partitions = *only && !schema.partitions_of(&table).is_empty();
            schema.indexes.insert(
                name.clone(),
                Index {
                    name: name.clone(),
                    table,
                    unique: *unique,
                    columns: columns.clone(),
                    awaiting_partitions,
                },
            );
        }
        StatementKind::AttachIndexPartition { index } => {
            // Taken as the last of its partitions' indexes: `plumb new index` attaches them
            // all in one migration.
            if let Some(found) = schema.indexes.get_mut(index) {
                found.awaiting_partitions = false;
            }
        }
        StatementKind::DropIndex { names, .. } => {
            for name in names {
                schema.indexes.remove(name);
            }
        }
        StatementKind::DropTable { tables, .. } => {
            // A partitioned table's partitions go with it, theirs too.
            let mut gone: Vec<String> = tables.iter().map(|t| schema.resolve(t)).collect();
            while let Some(table) = gone.pop() {
                gone.extend(schema.partitions_of(&table));
                schema.tables.remove(&table);
                schema.drop_indexes_of(&table);
            }
        }
        StatementKind::CreateEnum { name, values } => {
            schema.enums.insert(name.clone(), values.clone());
        }
        StatementKind::AddEnumValue { name, value } => {
            schema
                .enums
                .entry(name.clone())
                .or_default()
                .push(value.clone());
        }
        StatementKind::RenameEnumValue { name, from, to } => {
            if let Some(values) = schema.enums.get_mut(name) {
                values
                    .iter_mut()
                    .filter(|v| *v == from)
                    .for_each(|v| *v = to.clone());
            }
        }
        StatementKind::RenameType { name, to } => {
            if let Some(values) = schema.enums.remove(name) {
                schema.enums.insert(to.clone(), values);
            }
            // Its columns now show the new name.
            let (old, new) = (bare_type(name), bare_type(to));
            let typed: Vec<String> = schema
                .tables
                .iter()
                .filter(|(_, t)| t.columns.iter().any(|c| c.sql_type.name == old))
                .map(|(n, _)| n.clone())
                .collect();
            for table in typed {
                if let Some(t) = schema.table_mut(&table) {
                    for c in t.columns.iter_mut().filter(|c| c.sql_type.name == old) {
                        c.sql_type.name = new.to_owned();
                    }
                }
            }
        }
        StatementKind::DropType { names } => {
            for name in names {
                schema.enums.remove(name);
            }
        }
        _ => {}
    }
}

/// A type's name as a column shows it: without the `public.` a relation name carries.
fn bare_type(name: &str) -> &str {
    name.strip_prefix("public.").unwrap_or(name)
}

fn apply_action(schema: &mut Schema, table: &str, action: &Action) {
    match action {
        Action::AttachPartition { partition, default } => {
            let partition = schema.resolve(partition);
            if let Some(t) = schema.table_mut(&partition) {
                t.partition_of = Some(table.to_owned());
                t.default_partition = *default;
            }
        }
        Action::DetachPartition { partition, .. } => {
            let partition = schema.resolve(partition);
            if let Some(t) = schema.table_mut(&partition) {
                t.partition_of = None;
                t.default_partition = false;
            }
        }
        Action::AddColumn(def) => add_column(schema, table, def),
        Action::AddConstraint(def) => add_constraint(schema, table, def),
        Action::RenameConstraint { from, to } => {
            if let Some(mut index) = schema.indexes.remove(from) {
                index.name = to.clone();
                schema.indexes.insert(to.clone(), index);
            }
            if let Some(t) = schema.table_mut(table) {
                t.constraints
                    .iter_mut()
                    .filter(|c| &c.name == from)
                    .for_each(|c| c.name = to.clone());
            }
        }
        Action::RenameTable { to } => {
            if let Some(mut moved) = schema.tables.remove(table) {
                Arc::make_mut(&mut moved).name = to.clone();
                schema.tables.insert(to.clone(), moved);
            }
            for partition in schema.partitions_of(table) {
                if let Some(t) = schema.table_mut(&partition) {
                    t.partition_of = Some(to.clone());
                }
            }
            let moved: Vec<String> = schema
                .indexes
                .iter()
                .filter(|(_, i)| i.table == table)
                .map(|(n, _)| n.clone())
                .collect();
            for name in moved {
                if let Some(index) = schema.indexes.get_mut(&name) {
                    index.table = to.clone();
                }
            }
        }
        _ => {
            let Some(t) = schema.table_mut(table) else {
                return;
            };
            match action {
                Action::DropColumn { column, .. } => {
                    // Constraints on the column go with it.
                    t.columns.retain(|c| &c.name != column);
                    let gone: Vec<String> = t
                        .constraints
                        .iter()
                        .filter(|c| {
                            c.columns.contains(column) || c.proves_not_null.as_ref() == Some(column)
                        })
                        .map(|c| c.name.clone())
                        .collect();
                    t.constraints.retain(|c| !gone.contains(&c.name));
                    for name in gone {
                        schema.indexes.remove(&name);
                    }
                }
                Action::SetNotNull { column } => t
                    .column_mut(column)
                    .into_iter()
                    .for_each(|c| c.nullable = false),
                Action::DropNotNull { column } => t
                    .column_mut(column)
                    .into_iter()
                    .for_each(|c| c.nullable = true),
                Action::SetType {
                    column, sql_type, ..
                } => t
                    .column_mut(column)
                    .into_iter()
                    .for_each(|c| c.sql_type = sql_type.clone()),
                Action::SetDefault { column, default } => t
                    .column_mut(column)
                    .into_iter()
                    .for_each(|c| c.default = Some(default.clone())),
                Action::DropDefault { column } => t
                    .column_mut(column)
                    .into_iter()
                    .for_each(|c| c.default = None),
                Action::ValidateConstraint { name } => {
                    let mut proven = None;
                    for c in t.constraints.iter_mut().filter(|c| &c.name == name) {
                        c.validated = true;
                        if c.kind == ConstraintKind::NotNull {
                            proven = c.proves_not_null.clone();
                        }
                    }
                    if let Some(column) = proven.and_then(|p| t.column_mut(&p)) {
                        column.nullable = false;
                    }
                }
                Action::DropConstraint { name } => {
                    t.constraints.retain(|c| &c.name != name);
                    schema.indexes.remove(name);
                }
                Action::RenameColumn { from, to } => {
                    t.column_mut(from)
                        .into_iter()
                        .for_each(|c| c.name = to.clone());
                    for c in t
                        .constraints
                        .iter_mut()
                        .filter(|c| c.proves_not_null.as_ref() == Some(from))
                    {
                        c.proves_not_null = Some(to.clone());
                    }
                    for (column, _) in t.constraints.iter_mut().filter_map(|c| c.allows.as_mut()) {
                        if column == from {
                            *column = to.clone();
                        }
                    }
                }
                Action::RenameConstraint { from, to } => t
                    .constraints
                    .iter_mut()
                    .filter(|c| &c.name == from)
                    .for_each(|c| c.name = to.clone()),
                _ => {}
            }
        }
    }
    // A renamed column keeps its indexes.
    if let Action::RenameColumn { from, to } = action {
        let indexed: Vec<String> = schema
            .indexes
            .iter()
            .filter(|(_, i)| i.table == table)
            .map(|(n, _)| n.clone())
            .collect();
        for name in indexed {
            let columns = schema
                .indexes
                .get_mut(&name)
                .and_then(|i| i.columns.as_mut());
            for c in columns.into_iter().flatten().filter(|c| *c == from) {
                *c = to.clone();
            }
        }
    }
}
