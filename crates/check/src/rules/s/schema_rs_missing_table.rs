//! A table the migrations create that `schema.rs` does not declare: code cannot query it, and
//! the next `diesel print-schema` adds it in an unrelated change.

use std::path::Path;

use crate::finding::{Finding, Rule, Severity};
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "S001",
    name: "schema-rs-missing-table",
    severity: Severity::Error,
    summary: "table the migrations create that schema.rs does not declare",
};

/// The file has no line of the table's: the finding points at its start.
pub(super) fn check(file: &Path, table: &str, out: &mut Vec<Finding>) {
    out.push(Finding::new(
        RULE,
        Span::line(file, 1),
        format!(
            "the migrations create table `{table}`, which schema.rs does not declare: code cannot query it, and print-schema would add it"
        ),
        "run `diesel print-schema` (or `diesel migration run`) and commit schema.rs",
    ));
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::s::testing::{MODELS, SCHEMA_RS, UP, at, check, codes, shown};

    const NOTES: &str = "CREATE TABLE notes (id bigserial PRIMARY KEY);\n";

    #[test]
    fn a_created_table_schema_rs_lacks_fires_at_the_top_of_schema_rs() {
        let found = check(&format!("{UP}{NOTES}"), SCHEMA_RS, MODELS);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "src/schema.rs:1");
        insta::assert_snapshot!(shown(&found[0]));
    }

    #[test]
    fn a_created_table_schema_rs_declares_is_silent() {
        let schema_rs = format!(
            "{SCHEMA_RS}\ndiesel::table! {{\n    notes (id) {{\n        id -> Int8,\n    }}\n}}\n"
        );
        assert_eq!(check(&format!("{UP}{NOTES}"), &schema_rs, MODELS), []);
    }
}
