//! The review artifact: what changed between base and head, layer by layer (the database, the
//! models, the API), one line each, for the reader of a pull request.

use std::collections::{BTreeMap, BTreeSet};

use crate::input::models::Model;
use crate::input::snapshot::Snapshot;
use crate::rules::s::diesel_type;

/// The review artifact: what changed between base and head, layer by layer.
pub fn between(base: &Snapshot, head: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    let (old, new) = (base.schema(), head.schema());
    for (name, table) in &new.tables {
        match old.tables.get(name) {
            None => out.push(format!(
                "db: table {name} added ({} columns)",
                table.columns.len()
            )),
            Some(before) => {
                for column in &table.columns {
                    let (ty, _) = diesel_type(column);
                    match before.column(&column.name) {
                        None => out.push(format!(
                            "db: {name}.{} added: {ty}{}",
                            column.name,
                            if column.default.is_some() {
                                " with a default"
                            } else {
                                ""
                            }
                        )),
                        Some(was) => {
                            let (was_ty, _) = diesel_type(was);
                            if was_ty != ty {
                                out.push(format!(
                                    "db: {name}.{} changed: {was_ty} to {ty}",
                                    column.name
                                ));
                            }
                        }
                    }
                }
                for column in before
                    .columns
                    .iter()
                    .filter(|c| table.column(&c.name).is_none())
                {
                    out.push(format!("db: {name}.{} removed", column.name));
                }
            }
        }
    }
    for name in old.tables.keys().filter(|t| !new.tables.contains_key(*t)) {
        out.push(format!("db: table {name} removed"));
    }
    // The structs: an insert call's columns are no field of anything.
    let fields = |models: &[Model]| -> BTreeMap<String, BTreeSet<String>> {
        models
            .iter()
            .filter(|m| !m.call)
            .map(|m| {
                (
                    m.name.clone(),
                    m.fields
                        .iter()
                        .map(|f| format!("{}: {}", f.column, f.rust_type))
                        .collect(),
                )
            })
            .collect()
    };
    let (old_models, new_models) = (fields(&base.models), fields(&head.models));
    for (name, now) in &new_models {
        let before = old_models.get(name).cloned().unwrap_or_default();
        for field in now.difference(&before) {
            out.push(format!("model: {name}.{field} added"));
        }
        for field in before.difference(now) {
            out.push(format!("model: {name}.{field} removed"));
        }
    }
    for (key, schema) in &head.api {
        let new_props = &schema.properties;
        let label = format!(
            "api {} {} {}",
            schema.version,
            schema.name,
            schema.direction.as_str()
        );
        match base.api.get(key) {
            None => {
                if !base.api.values().any(|s| s.version == schema.version)
                    && !out
                        .iter()
                        .any(|l| l.starts_with(&format!("api {}:", schema.version)))
                {
                    out.push(format!("api {}: new version", schema.version));
                }
            }
            Some(old) if old.value != schema.value => {
                let old_props = &old.properties;
                for (name, p) in new_props {
                    match old_props.get(name) {
                        None => out.push(format!(
                            "{label}: {name} added ({}{})",
                            p.describe(),
                            if p.required {
                                ", required"
                            } else {
                                ", optional"
                            }
                        )),
                        Some(o) if o != p => out.push(format!("{label}: {name} changed")),
                        Some(_) => {}
                    }
                }
                for name in old_props.keys().filter(|n| !new_props.contains_key(*n)) {
                    out.push(format!("{label}: {name} removed"));
                }
            }
            Some(_) => {}
        }
    }
    out
}
