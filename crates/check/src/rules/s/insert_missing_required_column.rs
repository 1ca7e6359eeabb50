//! An insertable struct without a column that is NOT NULL without a default: every insert of it
//! fails.

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
    for (column, required) in table
        .columns
        .iter()
        .filter_map(|c| table.requires(&c.name).map(|r| (c, r)))
    {
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
                    "`{}` inserts into `{}` without `{}`, which is {} without a default: every insert fails",
                    model.name,
                    rs.name,
                    column.name,
                    required.said()
                ),
                "add the field, or give the column a default",
            )
            .about(&rs.name, &column.name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::s::testing::{MODELS, SCHEMA_RS, UP, at, check, codes, edit, shown};

    #[test]
    fn an_insertable_without_a_required_column_fires_at_the_struct() {
        let models = edit(MODELS, "    pub email: &'a str,\n", "");
        let found = check(UP, SCHEMA_RS, &models);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), "src/models.rs:11");
        insta::assert_snapshot!(shown(&found[0]));
    }

    #[test]
    fn an_insertable_without_a_column_that_has_a_default_is_silent() {
        let up = edit(UP, "NOT NULL,", "NOT NULL DEFAULT '',");
        let models = edit(MODELS, "    pub email: &'a str,\n", "");
        assert_eq!(check(&up, SCHEMA_RS, &models), []);
    }

    #[test]
    fn an_insertable_giving_the_column_under_another_field_name_is_silent() {
        let models = edit(
            MODELS,
            "    pub email: &'a str,\n",
            "    #[diesel(column_name = email)]\n    pub address: &'a str,\n",
        );
        assert_eq!(check(UP, SCHEMA_RS, &models), []);
    }
}
