//! A registry entry for a column the migrations do not create, or naming an API field no
//! response schema has: the registry no longer describes the service.

use std::path::Path;

use crate::finding::{Finding, Rule, Severity};
use crate::input::registry::Entry;
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "C002",
    name: "registry-stale",
    severity: Severity::Error,
    summary: "registry entry for a column, or an API field, that does not exist",
};

/// The entry's column does not exist.
pub(super) fn column(toml_file: &Path, entry: &Entry, out: &mut Vec<Finding>) {
    out.push(Finding::new(
        RULE,
        Span::line(toml_file, entry.line),
        format!(
            "the registry lists `{}.{}`, which the migrations do not create",
            entry.table, entry.column
        ),
        "remove the entry (or fix its name)",
    ));
}

/// The entry exposes the column through a field no response schema has.
pub(super) fn field(
    toml_file: &Path,
    entry: &Entry,
    type_name: &str,
    field: &str,
    out: &mut Vec<Finding>,
) {
    out.push(Finding::new(
        RULE,
        Span::line(toml_file, entry.line),
        format!(
            "`{}.{}` is registered as exposed through {type_name}.{field}, which no response schema has",
            entry.table, entry.column
        ),
        "name the API type and field that carry it, or register it as internal",
    ));
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::c::testing::{
        ACCOUNT, ACCOUNT_KEY, REGISTRY, UP, at, check, codes, edit, shown,
    };

    #[test]
    fn an_entry_for_a_column_no_migration_creates_fires_at_the_entry() {
        let registry = format!("{REGISTRY}ghost = \"internal\"\n");
        let found = check(&[UP], &registry, &[(ACCOUNT_KEY, ACCOUNT)]);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "plumb.toml:6");
        insta::assert_snapshot!(shown(&found[0]));
    }

    #[test]
    fn an_entry_exposing_through_a_field_no_response_has_fires_at_the_entry() {
        let registry = edit(REGISTRY, "\"Account.email\"", "\"Account.mail\"");
        let found = check(&[UP], &registry, &[(ACCOUNT_KEY, ACCOUNT)]);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "plumb.toml:3");
        insta::assert_snapshot!(shown(&found[0]));
    }

    /// Only responses carry columns out: a request field of the name is not one.
    #[test]
    fn a_field_only_a_request_has_does_not_carry_the_column() {
        let found = check(&[UP], REGISTRY, &[("v1/Account.request.json", ACCOUNT)]);
        assert_eq!(codes(&found), [RULE.code, RULE.code]);
    }

    #[test]
    fn a_column_dropped_with_its_entry_is_silent() {
        let drop = "ALTER TABLE accounts DROP COLUMN note;\n";
        let registry = edit(REGISTRY, "note = \"internal\"\n", "");
        assert_eq!(check(&[UP, drop], &registry, &[(ACCOUNT_KEY, ACCOUNT)]), []);
    }
}
