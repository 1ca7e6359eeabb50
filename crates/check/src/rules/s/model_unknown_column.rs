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

/// The model's table is not in `schema.rs`.
pub(super) fn table(model: &Model, out: &mut Vec<Finding>) {
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
