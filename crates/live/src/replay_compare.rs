//! The schema the database reports against the one plumb's static replay built.

use plumb_check::Schema;

use crate::catalog::{Catalog, ConstraintKind};

/// Where the database and the replay disagree, one sentence each.
pub(crate) fn replay_differences(catalog: &Catalog, replay: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    for name in catalog
        .tables
        .keys()
        .filter(|t| !replay.tables.contains_key(*t))
    {
        out.push(format!(
            "the database has table `{name}`, the replay does not"
        ));
    }
    for name in replay
        .tables
        .keys()
        .filter(|t| !catalog.tables.contains_key(*t))
    {
        out.push(format!(
            "the replay has table `{name}`, the database does not"
        ));
    }
    for (name, table) in &catalog.tables {
        let Some(modelled) = replay.tables.get(name) else {
            continue;
        };
        for column in &table.columns {
            let Some(other) = modelled.column(&column.name) else {
                out.push(format!(
                    "the database has column `{name}.{}`, the replay does not",
                    column.name
                ));
                continue;
            };
            let live_type = plumb_check::sql::schema::SqlType::parse(&column.sql_type);
            if live_type != other.sql_type {
                out.push(format!(
                    "`{name}.{}` is {} in the database, {} in the replay",
                    column.name, column.sql_type, other.sql_type.name
                ));
            }
            if column.not_null == other.nullable {
                let says = |not_null: bool| if not_null { "NOT NULL" } else { "nullable" };
                out.push(format!(
                    "`{name}.{}` is {} in the database, {} in the replay",
                    column.name,
                    says(column.not_null),
                    says(!other.nullable)
                ));
            }
        }
        for column in modelled
            .columns
            .iter()
            .filter(|c| !table.columns.iter().any(|l| l.name == c.name))
        {
            out.push(format!(
                "the replay has column `{name}.{}`, the database does not",
                column.name
            ));
        }
        // A partition's constraints and indexes are cloned from its parent's by PostgreSQL,
        // under names of its choosing: the replay models the partition's columns only.
        let partition = modelled.partition_of.is_some();
        for (constraint, live) in table
            .constraints
            .iter()
            .filter(|(_, c)| c.kind != ConstraintKind::NotNull && !partition)
        {
            match modelled.constraint(constraint) {
                None => out.push(format!(
                    "the database has constraint `{constraint}` on `{name}`, the replay does not"
                )),
                Some(other) if other.validated != live.validated => out.push(format!(
                    "constraint `{constraint}` on `{name}` is {} in the database, {} in the replay",
                    if live.validated {
                        "validated"
                    } else {
                        "not validated"
                    },
                    if other.validated {
                        "validated"
                    } else {
                        "not validated"
                    }
                )),
                Some(_) => {}
            }
        }
        for constraint in modelled
            .constraints
            .iter()
            .filter(|c| !table.constraints.contains_key(&c.name))
        {
            out.push(format!(
                "the replay has constraint `{}` on `{name}`, the database does not",
                constraint.name
            ));
        }
    }
    let of_a_partition = |table: &str| {
        replay
            .tables
            .get(table)
            .is_some_and(|t| t.partition_of.is_some())
    };
    for (name, index) in &catalog.indexes {
        if of_a_partition(&index.table) && !replay.indexes.contains_key(name) {
            continue;
        }
        if !replay.indexes.contains_key(name) {
            out.push(format!(
                "the database has index `{name}`, the replay does not"
            ));
        } else if !index.valid && !replay.indexes[name].awaiting_partitions {
            out.push(format!("index `{name}` is INVALID in the database"));
        }
    }
    for name in replay
        .indexes
        .keys()
        .filter(|i| !catalog.indexes.contains_key(*i))
    {
        out.push(format!(
            "the replay has index `{name}`, the database does not"
        ));
    }
    if !catalog.enums.iter().eq(replay.enums.iter()) {
        out.push("the enum types differ between the database and the replay".to_owned());
    }
    out
}
