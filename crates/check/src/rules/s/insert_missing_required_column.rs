//! An insertable struct without a column that is NOT NULL without a default: every insert of it
//! fails.

use super::required;
use crate::finding::{Finding, Rule, Severity};
use crate::input::models::{Model, Role};
use crate::input::schema_rs::TableRs;
use crate::sql::schema::Table;
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "S009",
    name: "insert-missing-required-column",
    severity: Severity::Error,
    summary: "insertable struct without a column that is NOT NULL without a default",
};

pub(super) fn check(model: &Model, rs: &TableRs, table: &Table, out: &mut Vec<Finding>) {
    if !model.roles.contains(&Role::Inserts) {
        return;
    }
    for column in table.columns.iter().filter(|c| required(c)) {
        let provided = model.fields.iter().any(|field| {
            rs.columns
                .iter()
                .any(|c| c.rust_name == field.column && c.name == column.name)
        });
        if !provided {
            out.push(Finding::new(
                RULE,
                Span::line(&model.file, model.line),
                format!(
                    "`{}` inserts into `{}` without `{}`, which is NOT NULL without a default: every insert fails",
                    model.name, rs.name, column.name
                ),
                "add the field, or give the column a default",
            ));
        }
    }
}
