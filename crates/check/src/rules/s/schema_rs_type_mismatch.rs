//! A `schema.rs` column whose SQL type (or `max_length`) differs from what the migrations make
//! it: a hand edit that disagrees with the database fails at run time.

use std::path::Path;

use super::{canonical_diesel_type, diesel_type};
use crate::finding::{Finding, Rule, Severity};
use crate::input::schema_rs::ColumnRs;
use crate::sql::schema::Column;
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "S004",
    name: "schema-rs-type-mismatch",
    severity: Severity::Error,
    summary: "schema.rs type that differs from the migrations' column type",
};

/// Whether it reported: nullability is judged only where the type agrees.
pub(super) fn check(
    file: &Path,
    table: &str,
    column: &Column,
    c: &ColumnRs,
    out: &mut Vec<Finding>,
) -> bool {
    let (expected, max_length) = diesel_type(column);
    let strip = |t: &str| {
        let t = canonical_diesel_type(t);
        t.strip_prefix("Nullable<")
            .and_then(|t| t.strip_suffix('>'))
            .map(str::to_owned)
            .unwrap_or(t)
    };
    // `max_length` is what print-schema writes for varchar(n); diesel does not check it, so
    // only one that schema.rs states and the migrations contradict is reported.
    let type_differs = strip(&c.sql_type) != strip(&expected);
    let length_differs = c.max_length.is_some() && c.max_length != max_length;
    if type_differs {
        out.push(Finding::new(
            RULE,
            Span::line(file, c.line),
            format!(
                "`{table}.{}` is `{}` in schema.rs; the migrations make it `{expected}`{}",
                column.name,
                c.sql_type,
                max_length
                    .map(|l| format!(" with max_length {l}"))
                    .unwrap_or_default()
            ),
            "regenerate schema.rs with `diesel print-schema`; a hand edit that disagrees with the database fails at run time",
        ));
    } else if length_differs {
        out.push(Finding::new(
            RULE,
            Span::line(file, c.line),
            format!(
                "`{table}.{}` has max_length {} in schema.rs; the migrations make it {}",
                column.name,
                c.max_length.map_or("none".to_owned(), |l| l.to_string()),
                max_length.map_or("none".to_owned(), |l| l.to_string())
            ),
            "regenerate schema.rs with `diesel print-schema`; diesel does not check max_length, but code and reviewers read it",
        ));
    }
    type_differs || length_differs
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::s::testing::{MODELS, SCHEMA_RS, UP, at, check, codes, edit, shown};

    #[test]
    fn another_type_in_schema_rs_fires_at_the_column() {
        let schema_rs = edit(
            SCHEMA_RS,
            "        #[max_length = 100]\n        email -> Varchar,",
            "        email -> Int4,",
        );
        let found = check(UP, &schema_rs, MODELS);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "src/schema.rs:4");
        insta::assert_snapshot!(shown(&found[0]));
    }

    #[test]
    fn another_max_length_in_schema_rs_fires() {
        let schema_rs = edit(SCHEMA_RS, "#[max_length = 100]", "#[max_length = 50]");
        let found = check(UP, &schema_rs, MODELS);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "src/schema.rs:5");
    }

    #[test]
    fn aliases_of_one_diesel_type_and_a_missing_max_length_are_silent() {
        let schema_rs = edit(
            SCHEMA_RS,
            "        #[max_length = 100]\n        email -> Varchar,",
            "        email -> VarChar,",
        );
        let found = check(UP, &schema_rs, MODELS);
        assert!(codes(&found).is_empty(), "{found:?}");
        let schema_rs = edit(SCHEMA_RS, "id -> Int8", "id -> BigInt");
        let found = check(UP, &schema_rs, MODELS);
        assert!(codes(&found).is_empty(), "{found:?}");
    }

    /// A wrong type makes the nullability moot: one finding, not two.
    #[test]
    fn a_wrong_type_is_not_also_reported_as_wrong_nullability() {
        let schema_rs = edit(SCHEMA_RS, "id -> Int8,", "id -> Nullable<Int4>,");
        let found = check(UP, &schema_rs, MODELS);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "src/schema.rs:3");
    }

    #[test]
    fn a_type_changed_in_both_the_migrations_and_schema_rs_is_silent() {
        let up = format!("{UP}ALTER TABLE accounts ALTER COLUMN email TYPE varchar(200);\n");
        let schema_rs = edit(SCHEMA_RS, "#[max_length = 100]", "#[max_length = 200]");
        assert_eq!(check(&up, &schema_rs, MODELS), []);
    }
}
