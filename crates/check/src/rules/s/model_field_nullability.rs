//! `Option` or not against the column's nullability, the way that fails at run time: a
//! non-optional field read from a nullable column, or a `None` inserted into a column that is
//! NOT NULL without a default.

use super::place;
use crate::finding::{Finding, Rule, Severity};
use crate::input::models::{Model, ModelField, Role};
use crate::input::schema_rs::{ColumnRs, TableRs};
use crate::sql::schema::{Column, Table};
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "S007",
    name: "model-field-nullability",
    severity: Severity::Error,
    summary: "Option or not, against the column's nullability, in a way that fails at run time",
};

pub(super) fn check(
    model: &Model,
    field: &ModelField,
    rs: &TableRs,
    c: &ColumnRs,
    (table, column): (&Table, &Column),
    out: &mut Vec<Finding>,
) {
    let at = Span::line(&model.file, field.line);
    if model.roles.contains(&Role::Reads) && column.nullable && !field.optional {
        out.push(Finding::new(
            RULE,
            at.clone(),
            format!(
                "{} reads `{}.{}`, which is nullable: loading a row where it is NULL fails at run time",
                place(model, field),
                rs.name,
                c.name
            ),
            "make the field an Option, or make the column NOT NULL first (backfill, then enforce)",
        ));
    }
    // A column a BEFORE INSERT trigger sets takes a None as well as a value.
    let required = table.requires(&column.name);
    if let Some(required) =
        required.filter(|_| model.roles.contains(&Role::Inserts) && field.optional)
    {
        out.push(Finding::new(
            RULE,
            at,
            format!(
                "{} inserts into `{}.{}`, which is {} without a default: inserting None fails at run time",
                place(model, field),
                rs.name,
                c.name,
                required.said()
            ),
            "make the field non-optional, or give the column a default",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::s::testing::{MODELS, SCHEMA_RS, UP, at, check, codes, edit, shown};

    #[test]
    fn a_nullable_column_read_into_a_plain_field_fires_at_the_field() {
        let models = edit(MODELS, "pub note: Option<String>,", "pub note: String,");
        let found = check(UP, SCHEMA_RS, &models);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "src/models.rs:6");
        insta::assert_snapshot!(shown(&found[0]));
    }

    #[test]
    fn an_optional_field_inserted_into_a_required_column_fires_at_the_field() {
        let models = edit(MODELS, "pub email: &'a str,", "pub email: Option<&'a str>,");
        let found = check(UP, SCHEMA_RS, &models);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "src/models.rs:12");
        insta::assert_snapshot!(shown(&found[0]));
    }

    #[test]
    fn an_optional_field_inserted_into_a_column_with_a_default_is_silent() {
        let up = edit(UP, "NOT NULL,", "NOT NULL DEFAULT '',");
        let models = edit(MODELS, "pub email: &'a str,", "pub email: Option<&'a str>,");
        assert_eq!(check(&up, SCHEMA_RS, &models), []);
    }

    /// A BEFORE INSERT trigger that sets the column fills a None as it fills an omission.
    #[test]
    fn an_optional_field_inserted_into_a_column_a_trigger_sets_is_silent() {
        let up = format!(
            "{UP}CREATE FUNCTION set_email() RETURNS trigger AS $$ BEGIN NEW.email := 'x'; RETURN NEW; END $$ LANGUAGE plpgsql;\nCREATE TRIGGER accounts_email BEFORE INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION set_email();\n"
        );
        let models = edit(MODELS, "pub email: &'a str,", "pub email: Option<&'a str>,");
        assert_eq!(check(&up, SCHEMA_RS, &models), []);
    }

    #[test]
    fn a_nullable_column_read_through_a_conversion_is_silent() {
        let models = edit(
            MODELS,
            "    pub note: Option<String>,",
            "    #[diesel(deserialize_as = NoteOrEmpty)]\n    pub note: String,",
        );
        assert_eq!(check(UP, SCHEMA_RS, &models), []);
    }
}
