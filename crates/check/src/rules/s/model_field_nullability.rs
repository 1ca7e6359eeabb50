//! `Option` or not against the column's nullability, the way that fails at run time: a
//! non-optional field read from a nullable column, or a `None` inserted into a column that is
//! NOT NULL without a default.

use super::{place, required};
use crate::finding::{Finding, Rule, Severity};
use crate::input::models::{Model, ModelField, Role};
use crate::input::schema_rs::{ColumnRs, TableRs};
use crate::sql::schema::Column;
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
    column: &Column,
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
    if model.roles.contains(&Role::Inserts) && field.optional && required(column) {
        out.push(Finding::new(
            RULE,
            at,
            format!(
                "{} inserts into `{}.{}`, which is NOT NULL without a default: inserting None fails at run time",
                place(model, field),
                rs.name,
                c.name
            ),
            "make the field non-optional, or give the column a default",
        ));
    }
}
