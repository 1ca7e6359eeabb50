//! A model struct whose table, or one of whose fields, `schema.rs` does not declare: the derive
//! does not compile, or maps the field to nothing.

use crate::finding::{Finding, Rule, Severity};
use crate::input::models::{Model, ModelField};
use crate::input::schema_rs::TableRs;
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "S006",
    name: "model-unknown-column",
    severity: Severity::Error,
    summary: "model struct field or table that schema.rs does not declare",
};

/// The model's table is not in `schema.rs`. A call's target may be a query held in a variable
/// rather than a table: only a struct's `table_name` is judged.
pub(super) fn table(model: &Model, out: &mut Vec<Finding>) {
    if model.call {
        return;
    }
    out.push(Finding::new(
        RULE,
        Span::line(&model.file, model.line),
        format!(
            "`{}` {} table `{}`, which schema.rs does not declare",
            model.name,
            model
                .roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join("/"),
            model.table
        ),
        "point `table_name` at a table of schema.rs",
    ));
}

/// A field maps to a column its table in `schema.rs` does not have.
pub(super) fn field(model: &Model, field: &ModelField, rs: &TableRs, out: &mut Vec<Finding>) {
    out.push(Finding::new(
        RULE,
        Span::line(&model.file, field.line),
        format!(
            "`{}.{}` maps to `{}.{}`, which schema.rs does not declare",
            model.name, field.column, rs.name, field.column
        ),
        "rename the field or set `#[diesel(column_name = ...)]` to a column of the table",
    ));
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::s::testing::{MODELS, SCHEMA_RS, UP, at, check, codes, edit, shown};

    #[test]
    fn a_field_with_no_column_fires_at_the_field() {
        let models = edit(
            MODELS,
            "    pub note: Option<String>,\n}",
            "    pub note: Option<String>,\n    pub nickname: String,\n}",
        );
        let found = check(UP, SCHEMA_RS, &models);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "src/models.rs:7");
        insta::assert_snapshot!(shown(&found[0]));
    }

    #[test]
    fn a_model_of_an_undeclared_table_fires_at_the_struct() {
        let models = edit(MODELS, "table_name = accounts", "table_name = acounts");
        let found = check(UP, SCHEMA_RS, &models);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "src/models.rs:3");
        insta::assert_snapshot!(shown(&found[0]));
    }

    #[test]
    fn a_renamed_field_pointed_at_its_column_is_silent() {
        let models = edit(
            MODELS,
            "    pub note: Option<String>,\n}",
            "    #[diesel(column_name = note)]\n    pub remark: Option<String>,\n}",
        );
        assert_eq!(check(UP, SCHEMA_RS, &models), []);
    }
}
