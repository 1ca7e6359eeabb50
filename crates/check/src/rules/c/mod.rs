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

/// Cases of one table, its registry and the response schema that carries it, checked by
/// [`check`].
#[cfg(test)]
pub(crate) mod testing {
    use std::path::Path;

    use crate::finding::Finding;
    use crate::input::api::read_api;
    use crate::input::registry::read_registry;
    use crate::migrations::Migration;
    use crate::sql::replay_each;

    /// The first migration: a table with a column of each kind of registration.
    pub(crate) const UP: &str = "CREATE TABLE accounts (
    id bigserial PRIMARY KEY,
    email text NOT NULL,
    note text,
    token text NOT NULL
);
";

    /// `plumb.toml`, registering every column of [`UP`].
    pub(crate) const REGISTRY: &str = "[columns.accounts]
id = \"Account.id\"
email = \"Account.email\"
note = \"internal\"
token = \"sensitive\"
";

    /// The response that carries the exposed columns, at `schemas/` [`ACCOUNT_KEY`].
    pub(crate) const ACCOUNT: &str = r#"{
  "type": "object",
  "properties": {
    "id": { "type": "integer" },
    "email": { "type": "string" }
  },
  "required": ["id", "email"]
}
"#;
    pub(crate) const ACCOUNT_KEY: &str = "v1/Account.response.json";

    /// `text` with its first `from` replaced, which must be there.
    pub(crate) fn edit(text: &str, from: &str, to: &str) -> String {
        assert!(text.contains(from), "no {from:?} in {text}");
        text.replacen(from, to, 1)
    }

    /// The name of the `n`th (1-based) migration of a case.
    pub(crate) fn migration_name(n: usize) -> String {
        format!("2026-01-{n:02}-000000-0000_step{n}")
    }

    /// Family C on migrations of these up.sql texts, this `plumb.toml` and these API schemas
    /// (`("v1/Account.response.json", json)`, under `schemas/`).
    pub(crate) fn check(ups: &[&str], plumb_toml: &str, api: &[(&str, &str)]) -> Vec<Finding> {
        let dir = tempfile::tempdir().unwrap();
        let toml_path = dir.path().join("plumb.toml");
        std::fs::write(&toml_path, plumb_toml).unwrap();
        for (key, json) in api {
            let path = dir.path().join("schemas").join(key);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, json).unwrap();
        }
        let registry = read_registry(&toml_path).unwrap();
        let api = read_api(dir.path(), &dir.path().join("schemas")).unwrap();
        let migrations: Vec<Migration> = ups
            .iter()
            .enumerate()
            .map(|(i, up)| {
                let name = migration_name(i + 1);
                Migration {
                    version: name.split('_').next().unwrap_or_default().replace('-', ""),
                    dir: Path::new("migrations").join(&name),
                    name,
                    up: (*up).into(),
                    down: Some("SELECT 1;\n".into()),
                    run_in_transaction: true,
                    post_deploy: false,
                }
            })
            .collect();
        let replayed = replay_each(&migrations);
        let schema = replayed.last().cloned().unwrap_or_default();
        super::check(
            &registry,
            Path::new("plumb.toml"),
            &schema,
            &migrations,
            &replayed,
            Path::new("migrations"),
            &api,
        )
    }

    pub(crate) use crate::rules::testing::{at, codes, shown};
}

#[cfg(test)]
mod tests {
    use super::testing::{ACCOUNT, ACCOUNT_KEY, REGISTRY, UP, check};

    /// The base every case edits raises nothing, so a finding in a case is the edit's.
    #[test]
    fn a_fully_registered_table_is_clean() {
        assert_eq!(check(&[UP], REGISTRY, &[(ACCOUNT_KEY, ACCOUNT)]), []);
    }

    /// Without `[columns]` in `plumb.toml` the family is off: nothing is unregistered.
    #[test]
    fn no_registry_no_findings() {
        assert_eq!(check(&[UP], "[check]\n", &[(ACCOUNT_KEY, ACCOUNT)]), []);
    }
}
