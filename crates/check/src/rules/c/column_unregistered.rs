//! A column the registry does not list: nobody has said whether it reaches the API, stays
//! internal, or is sensitive.

use std::path::Path;

use crate::finding::{Finding, Rule, Severity};
use crate::input::registry::Registry;
use crate::migrations::Migration;
use crate::sql::schema::Schema;
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "C001",
    name: "column-unregistered",
    severity: Severity::Error,
    summary: "column the registry does not list as exposed, internal or sensitive",
};

/// Each unregistered column points at the line of the migration that adds it, where the
/// reviewer is looking; `plumb.toml` when the replay cannot tell which.
pub(super) fn check(
    registry: &Registry,
    toml_file: &Path,
    schema: &Schema,
    migrations: &[Migration],
    replayed: &[Schema],
    migrations_dir: &Path,
    out: &mut Vec<Finding>,
) {
    for (table_name, table) in &schema.tables {
        for column in &table.columns {
            if registry.get(table_name, &column.name).is_some() {
                continue;
            }
            let added = replayed.iter().position(|s| {
                s.tables
                    .get(table_name)
                    .and_then(|t| t.column(&column.name))
                    .is_some()
            });
            let span = match added.and_then(|i| migrations.get(i)) {
                Some(m) => Span::line(
                    migrations_dir.join(&m.name).join("up.sql"),
                    crate::sql::source::line_naming(&m.up, table_name, &column.name),
                ),
                None => Span::line(toml_file, 1),
            };
            out.push(Finding::new(
                RULE,
                span,
                format!(
                    "`{table_name}.{}` is not in the column registry: nobody has said whether it reaches the API, stays internal, or is sensitive",
                    column.name
                ),
                format!(
                    "add it under [columns.{table_name}] in plumb.toml: {} = \"internal\", \"sensitive\" or \"Type.field\"",
                    column.name
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::c::testing::{
        ACCOUNT, ACCOUNT_KEY, REGISTRY, UP, at, check, codes, migration_name, shown,
    };

    const ADD_TIER: &str =
        "SET lock_timeout = '20ms';\nALTER TABLE accounts ADD COLUMN tier text;\n";

    #[test]
    fn an_unregistered_column_fires_at_the_migration_that_adds_it() {
        let found = check(&[UP, ADD_TIER], REGISTRY, &[(ACCOUNT_KEY, ACCOUNT)]);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(
            at(&found[0]),
            format!("migrations/{}/up.sql:2", migration_name(2))
        );
        insta::assert_snapshot!(shown(&found[0]));
    }

    #[test]
    fn a_column_registered_in_the_same_change_is_silent() {
        let registry = format!("{REGISTRY}tier = \"internal\"\n");
        assert_eq!(
            check(&[UP, ADD_TIER], &registry, &[(ACCOUNT_KEY, ACCOUNT)]),
            []
        );
    }
}
