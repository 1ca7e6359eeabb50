//! Family C, column coverage: every column is in the registry (`[columns.<table>]` of
//! `plumb.toml`) as exposed, internal or sensitive; exposed ones fit the API fields that carry
//! them, and sensitive ones appear in no response. The walk over registry entries and the API
//! fields they name is here; each rule judges one item.

pub mod column_unregistered;
pub mod exposed_type_mismatch;
pub mod registry_stale;
pub mod sensitive_exposed;

use std::collections::BTreeMap;
use std::path::Path;

use crate::finding::Finding;
use crate::input::api::{ApiSchema, Direction};
use crate::input::registry::{Registration, Registry};
use crate::migrations::Migration;
use crate::sql::schema::Schema;

/// Every C finding. `migrations` and `replayed` place unregistered columns at the migration
/// that adds them.
pub fn check(
    registry: &Registry,
    toml_file: &Path,
    schema: &Schema,
    migrations: &[Migration],
    replayed: &[Schema],
    migrations_dir: &Path,
    api: &BTreeMap<String, ApiSchema>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    if !registry.present {
        return out;
    }
    column_unregistered::check(
        registry,
        toml_file,
        schema,
        migrations,
        replayed,
        migrations_dir,
        &mut out,
    );
    let responses: Vec<&ApiSchema> = api
        .values()
        .filter(|s| s.direction == Direction::Response)
        .collect();
    for entry in &registry.entries {
        let Some(column) = schema
            .tables
            .get(&entry.table)
            .and_then(|t| t.column(&entry.column))
        else {
            registry_stale::column(toml_file, entry, &mut out);
            continue;
        };
        let Registration::Exposed(fields) = &entry.registration else {
            continue;
        };
        for (type_name, field) in fields {
            let carrying: Vec<&ApiSchema> = responses
                .iter()
                .copied()
                .filter(|s| s.name == *type_name && s.properties.contains_key(field))
                .collect();
            if carrying.is_empty() {
                registry_stale::field(toml_file, entry, type_name, field, &mut out);
                continue;
            }
            for schema_file in carrying {
                exposed_type_mismatch::check(
                    entry,
                    column,
                    schema,
                    (type_name, field),
                    schema_file,
                    &mut out,
                );
            }
        }
    }
    sensitive_exposed::check(registry, &responses, &mut out);
    out
}
