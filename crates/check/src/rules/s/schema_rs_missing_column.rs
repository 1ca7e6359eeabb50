//! A column the migrations create that `schema.rs` does not declare: code cannot use it, and
//! the next `diesel print-schema` adds it in an unrelated change.

use std::path::Path;

use super::diesel_type;
use crate::finding::{Finding, Rule, Severity};
use crate::input::schema_rs::TableRs;
use crate::sql::schema::Column;
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "S002",
    name: "schema-rs-missing-column",
    severity: Severity::Error,
    summary: "column the migrations create that schema.rs does not declare",
};

/// Points at the table's `table!` in `schema.rs`.
pub(super) fn check(
    file: &Path,
    table: &str,
    rs: &TableRs,
    column: &Column,
    out: &mut Vec<Finding>,
) {
    let (expected, _) = diesel_type(column);
    out.push(Finding::new(
        RULE,
        Span::line(file, rs.line),
        format!(
            "the migrations give `{table}` a column `{}` ({expected}) that schema.rs does not declare",
            column.name
        ),
        "regenerate schema.rs with `diesel print-schema` in the same change as the migration",
    ));
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::s::testing::{MODELS, SCHEMA_RS, UP, at, check, codes, edit, shown};

    const ADD_TIER: &str = "ALTER TABLE accounts ADD COLUMN tier text;\n";

    #[test]
    fn an_added_column_schema_rs_lacks_fires_at_its_table() {
        let found = check(&format!("{UP}{ADD_TIER}"), SCHEMA_RS, MODELS);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "src/schema.rs:1");
        insta::assert_snapshot!(shown(&found[0]));
    }

    #[test]
    fn an_added_column_schema_rs_declares_is_silent() {
        let schema_rs = edit(
            SCHEMA_RS,
            "        note -> Nullable<Text>,\n",
            "        note -> Nullable<Text>,\n        tier -> Nullable<Text>,\n",
        );
        assert_eq!(check(&format!("{UP}{ADD_TIER}"), &schema_rs, MODELS), []);
    }
}
