//! `Nullable<...>` in `schema.rs` where the migrations make the column NOT NULL, or the reverse:
//! the first NULL read into a non-nullable type fails to load.

use std::path::Path;

use crate::finding::{Finding, Rule, Severity};
use crate::input::schema_rs::ColumnRs;
use crate::sql::schema::Column;
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "S005",
    name: "schema-rs-nullability-mismatch",
    severity: Severity::Error,
    summary: "schema.rs nullability that differs from the migrations'",
};

pub(super) fn check(
    file: &Path,
    table: &str,
    column: &Column,
    c: &ColumnRs,
    out: &mut Vec<Finding>,
) {
    let declared_nullable = c.sql_type.starts_with("Nullable<");
    if declared_nullable == column.nullable {
        return;
    }
    out.push(Finding::new(
        RULE,
        Span::line(file, c.line),
        if column.nullable {
            format!(
                "`{table}.{}` is nullable in the migrations but `{}` in schema.rs: the first NULL read fails to load",
                column.name, c.sql_type
            )
        } else {
            format!(
                "`{table}.{}` is NOT NULL in the migrations but `{}` in schema.rs",
                column.name, c.sql_type
            )
        },
        "regenerate schema.rs with `diesel print-schema`",
    ));
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::s::testing::{MODELS, SCHEMA_RS, UP, at, check, codes, edit, shown};

    #[test]
    fn a_nullable_column_declared_not_null_fires_at_the_column() {
        let schema_rs = edit(SCHEMA_RS, "note -> Nullable<Text>,", "note -> Text,");
        let found = check(UP, &schema_rs, MODELS);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "src/schema.rs:6");
        insta::assert_snapshot!(shown(&found[0]));
    }

    #[test]
    fn a_not_null_column_declared_nullable_fires_at_the_column() {
        let schema_rs = edit(
            SCHEMA_RS,
            "email -> Varchar,",
            "email -> Nullable<Varchar>,",
        );
        let found = check(UP, &schema_rs, MODELS);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "src/schema.rs:5");
        insta::assert_snapshot!(shown(&found[0]));
    }

    #[test]
    fn nullability_changed_in_the_migrations_schema_rs_and_models_is_silent() {
        let up = format!("{UP}ALTER TABLE accounts ALTER COLUMN email DROP NOT NULL;\n");
        let schema_rs = edit(
            SCHEMA_RS,
            "email -> Varchar,",
            "email -> Nullable<Varchar>,",
        );
        let models = edit(MODELS, "pub email: String,", "pub email: Option<String>,");
        assert_eq!(check(&up, &schema_rs, &models), []);
    }
}
